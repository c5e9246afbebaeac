package register_test

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/petitions/petitions/internal/pgtest"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/sealing"
)

// Benchmarks of the register's list and statistics over a large synthetic register
// (BENCH_CASES cases, default 200,000; set 1000000 for the million). Run them side by
// side with `make bench`; compare ratios within one run, not absolute times across machines.
// The first-page / deep-page ratio shows keyset pagination: a page deep in the list costs what
// the first page costs.

var (
	benchOnce  sync.Once
	benchStore *register.Store
	benchErr   error
)

func largeStore(b *testing.B) *register.Store {
	b.Helper()
	benchOnce.Do(func() {
		n := 200_000
		if v, err := strconv.Atoi(os.Getenv("BENCH_CASES")); err == nil && v > 0 {
			n = v
		}
		// Shared by every benchmark of the binary: no per-benchmark cleanup closes this pool.
		ctx := context.Background()
		pool, err := pgxpool.New(ctx, pgtest.NewDatabase(b))
		if err != nil {
			benchErr = err
			return
		}
		if _, benchErr = register.Migrate(ctx, pool); benchErr != nil {
			return
		}
		benchStore = register.New(pool).WithSealer(sealing.NewFields(sealing.TestKeyring()))
		start := time.Now()
		_, benchErr = benchStore.Pool().Exec(ctx, `
			INSERT INTO cases (case_no, channel, category, topic, content, policy, suggested_unit, unit,
				stage, overdue, escalation_level, received_at, registered_at, accepted_at, due_at, seq)
			SELECT '2026-' || lpad(i::text, 7, '0'),
				(ARRAY['letter','visit','phone','online','hotline','email'])[1 + i % 6],
				(ARRAY['accusation','appeal','suggestion','inquiry'])[1 + i % 4],
				'topic ' || (i % 997), 'content of case ' || i || CASE WHEN i % 1000 = 0 THEN ' 拆迁补偿' ELSE '' END,
				'default', u, u,
				(ARRAY['registered','handling','replied','closed','terminated'])[1 + i % 5],
				i % 7 = 0, CASE WHEN i % 7 = 0 THEN 1 + i % 3 ELSE 0 END,
				t, t, t + interval '1 day', t + interval '30 days', 1
			FROM generate_series(1, $1::int) AS i,
				LATERAL (SELECT (ARRAY['construction','health','land','education','hrss','environment'])[1 + i % 6] AS u,
					timestamptz '2026-01-01 00:00+08' + (i % 300) * interval '1 day' + (i % 86400) * interval '1 second' AS t) x`, n)
		if benchErr == nil {
			_, benchErr = benchStore.Pool().Exec(ctx, "ANALYZE cases")
		}
		b.Logf("loaded %d cases in %s", n, time.Since(start).Round(time.Millisecond))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchStore
}

func BenchmarkList(b *testing.B) {
	store := largeStore(b)
	ctx := context.Background()
	overdue := true
	// A cursor half-way down the whole register.
	deep := register.ListFilter{Limit: 500}
	for range 100 {
		p, err := store.List(ctx, deep)
		if err != nil {
			b.Fatal(err)
		}
		deep.Cursor = p.NextCursor
	}
	deep.Limit = 50
	for _, bc := range []struct {
		name string
		f    register.ListFilter
	}{
		{"first-page", register.ListFilter{Limit: 50}},
		{"deep-page", deep},
		{"overdue-of-unit", register.ListFilter{Unit: "construction", Overdue: &overdue, Limit: 50}},
		{"stage-of-unit", register.ListFilter{Unit: "health", Stage: "handling", Limit: 50}},
		{"text-search", register.ListFilter{Text: "拆迁补偿", Limit: 50}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := store.List(ctx, bc.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkStats(b *testing.B) {
	store := largeStore(b)
	ctx := context.Background()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, cst)
	to := from.AddDate(0, 1, 0)
	b.Run("month-all-units", func(b *testing.B) {
		for b.Loop() {
			if _, err := store.Stats(ctx, from, to, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("month-one-unit", func(b *testing.B) {
		for b.Loop() {
			if _, err := store.Stats(ctx, from, to, "construction"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("monthly-ledger", func(b *testing.B) {
		for b.Loop() {
			if _, err := store.MonthlyReport(ctx, from); err != nil {
				b.Fatal(err)
			}
		}
	})
}
