package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/petitions/petitions/api"
	"github.com/petitions/petitions/internal/auth"
	"github.com/petitions/petitions/internal/console"
	"github.com/petitions/petitions/internal/pgtest"
	"github.com/petitions/petitions/internal/policy"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/sealing"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The console's queues over a register of BENCH_CASES cases (default 1,000,000, as a bureau
// has after some years): the server time of each role's home page (every queue's count and
// first rows) and of list pages, through the real API handler and PostgreSQL (no Temporal:
// lists and counts read the register). `make bench-console` runs it; the README reports the
// figures. The register is shaped like a real one: 95 % of cases closed, open cases spread
// over 15 units with 20 handlers each, one in ten open cases overdue, a few handled ones with
// co-handling units, assignments and joint investigation proposals.

var (
	benchOnce sync.Once
	benchH    http.Handler
	benchAuth *auth.Service
	benchErr  error
)

func benchConsole(b *testing.B) (http.Handler, *auth.Service) {
	b.Helper()
	benchOnce.Do(func() {
		n := 1_000_000
		if v, err := strconv.Atoi(os.Getenv("BENCH_CASES")); err == nil && v > 0 {
			n = v
		}
		ctx := context.Background()
		pool, err := pgxpool.New(ctx, pgtest.NewDatabase(b))
		if err != nil {
			benchErr = err
			return
		}
		if _, benchErr = register.Migrate(ctx, pool); benchErr != nil {
			return
		}
		store := register.New(pool).WithSealer(sealing.NewFields(sealing.TestKeyring()))
		if benchErr = store.SeedDemo(ctx); benchErr != nil {
			return
		}
		start := time.Now()
		if benchErr = loadCases(ctx, pool, n); benchErr != nil {
			return
		}
		b.Logf("loaded %d cases in %s", n, time.Since(start).Round(time.Millisecond))
		policies := policy.Builtin()
		benchAuth = auth.New(pool, auth.Config{})
		quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
		srv := api.New(api.Config{Register: store, Auth: benchAuth, Accounts: benchAuth, Policies: policies, Logger: quiet})
		con, err := console.New(console.Config{API: srv.Handler(), Logger: quiet})
		if err != nil {
			benchErr = err
			return
		}
		benchH = console.Mount(srv.Handler(), con)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchH, benchAuth
}

// loadCases fills the register in one statement per table.
func loadCases(ctx context.Context, pool *pgxpool.Pool, n int) error {
	_, err := pool.Exec(ctx, `
		INSERT INTO cases (case_no, channel, category, topic, content, policy, suggested_unit, unit, handler, review_unit,
			stage, overdue, escalation_level, registered_by, received_at, registered_at, accepted_at,
			due_at, closed_at, seq)
		SELECT 'B' || lpad(i::text, 8, '0'),
			(ARRAY['letter','visit','phone','online','hotline','email'])[1 + i % 6],
			(ARRAY['accusation','appeal','suggestion','inquiry'])[1 + i % 4],
			'事由 ' || (i % 997), '内容 ' || i, 'default', u, CASE WHEN st = 'registered' THEN '' ELSE u END,
			CASE WHEN st = 'registered' THEN '' ELSE 'handler.' || u || CASE WHEN i % 20 = 0 THEN '' ELSE '.' || (i % 20) END END,
			CASE WHEN st = 'review' THEN 'district' ELSE '' END,
			st, open AND i % 10 = 0, CASE WHEN open AND i % 10 = 0 THEN 1 + i % 3 ELSE 0 END,
			(ARRAY['clerk.li','clerk.wang'])[1 + i % 2], t, t, t + interval '2 days',
			CASE WHEN open THEN now() + ((i % 60) - 6) * interval '1 day' END,
			CASE WHEN open THEN NULL ELSE t + interval '40 days' END, 3
		FROM generate_series(1, $1::int) AS i,
			LATERAL (SELECT (ARRAY['construction','health','land','education','hrss','environment','civil_affairs',
				'agriculture','safety','court','urban_management','public_security','discipline','family_planning',
				'ethnic_religious'])[1 + (i / 7) % 15] AS u,
				now() - (i % 1800) * interval '1 day' AS t,
				CASE WHEN i % 20 <> 7 THEN 'closed' ELSE (ARRAY['registered','handling','handling','replied','review'])[1 + (i / 20) % 5] END AS st) x,
			LATERAL (SELECT st <> 'closed' AS open) y`, n)
	if err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO petitioners (case_no, position, name)
		SELECT 'B' || lpad(i::text, 8, '0'), 0,
			(ARRAY['王','李','张','刘','陈','杨','赵','黄','周','吴'])[1 + i % 10] || (ARRAY['伟','芳','娜','敏','静','强','磊','军','洋','勇'])[1 + (i / 10) % 10] || (i % 1000)
		FROM generate_series(1, $1::int) AS i`, n); err != nil {
		return err
	}
	// The bureau's routines on some open cases: one handled case in 25 co-handled by another
	// bureau (involved_units), one in 40 assigned (交办) awaiting its result report, one in 60
	// proposed for joint investigation (联查).
	if _, err := pool.Exec(ctx, `
		UPDATE cases SET
			involved_units = CASE WHEN n % 25 = 0 THEN ARRAY[CASE WHEN unit = 'health' THEN 'construction' ELSE 'health' END] ELSE involved_units END,
			assignment_status = CASE WHEN n % 40 = 0 THEN 'awaiting_report' ELSE assignment_status END,
			joint_status = CASE WHEN n % 60 = 0 THEN 'proposed' ELSE joint_status END
		FROM (SELECT case_no AS no, row_number() OVER (ORDER BY case_no) AS n FROM cases WHERE stage = 'handling') h
		WHERE case_no = h.no AND (n % 25 = 0 OR n % 40 = 0 OR n % 60 = 0)`); err != nil {
		return err
	}
	// A register in use is vacuumed by autovacuum, which keeps the visibility map current, so
	// counts are index-only scans; a freshly loaded table is not yet.
	_, err = pool.Exec(ctx, "VACUUM ANALYZE cases")
	if err == nil {
		_, err = pool.Exec(ctx, "VACUUM ANALYZE petitioners")
	}
	return err
}

// BenchmarkQueueFirstPage: server time of a home page (all of a role's queues with counts)
// and of the first page of list queues.
func BenchmarkQueueFirstPage(b *testing.B) {
	h, svc := benchConsole(b)
	pages := []struct{ name, staff, path string }{
		{"home/clerk", "clerk.li", "/"},
		{"home/handler", "handler.construction", "/"},
		{"home/leader", "head.construction", "/"},
		{"home/supervisor", "supervisor.zhao", "/"},
		{"home/reviewer", "reviewer.district", "/"},
		{"list/awaiting-acceptance", "clerk.li", "/cases?stage=registered"},
		{"list/overdue", "supervisor.zhao", "/cases?overdue=true"},
		{"list/my-cases", "handler.construction", "/cases?handler=handler.construction"},
		{"list/search-name", "clerk.li", "/cases?q=" + "王芳10"},
	}
	for _, p := range pages {
		tok, err := svc.IssueFor(context.Background(), p.staff, auth.ViaPassword)
		if err != nil {
			b.Fatal(err)
		}
		cookie := "petitions_session=" + tok.AccessToken
		b.Run(p.name, func(b *testing.B) {
			// Once outside the timing: the page must show its queues, not a refusal.
			req := httptest.NewRequest(http.MethodGet, p.path, nil)
			req.Header.Set("Cookie", cookie)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `class="flash error"`) {
				b.Fatalf("%s as %s: %d %s", p.path, p.staff, rec.Code, rec.Body.String())
			}
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, p.path, nil)
				req.Header.Set("Cookie", cookie)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s as %s: %d %s", p.path, p.staff, rec.Code, rec.Body.String())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/page")
		})
	}
}
