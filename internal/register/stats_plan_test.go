package register

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/petitions/petitions/internal/pgtest"
)

// The routines' figures read the period's events through indexes: the (type, at) index for
// their types, migration 0014's partial index for the proposals any event may carry, and the
// repeat submissions' received_at — never every event of the register.
func TestEventFiguresUseTheirIndexes(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	// 20,000 cases over 300 days, eight events each, one in fifty a routine's; one in a
	// thousand carrying a proposal; a repeat submission for one case in twenty.
	if _, err := pool.Exec(ctx, `
		INSERT INTO cases (case_no, topic, suggested_unit, received_at, registered_at, seq)
		SELECT 'c' || i, 'topic ' || (i % 97), 'unit' || (i % 10), t, t, 1
		FROM generate_series(1, 20000) AS i,
			LATERAL (SELECT timestamptz '2026-01-01 00:00+08' + (i % 300) * interval '1 day' AS t) x;
		INSERT INTO case_events (case_no, seq, type, at, details)
		SELECT 'c' || (1 + i % 20000), i / 20000 + 1,
			CASE WHEN i % 50 = 7 THEN 'assigned' ELSE 'reminder_sent' END,
			timestamptz '2026-01-01 00:00+08' + (i % 300) * interval '1 day' + (i % 1000) * interval '1 minute',
			CASE WHEN i % 1000 = 3 THEN '{"joint_proposed": ["skip_group_long"]}'::jsonb ELSE '{"n": 1}'::jsonb END
		FROM generate_series(0, 159999) AS i;
		INSERT INTO repeat_submissions (case_no, channel, received_at, registered_at)
		SELECT 'c' || i, 'visit', timestamptz '2026-01-01 00:00+08' + (i % 300) * interval '1 day',
			timestamptz '2026-01-01 00:00+08' + (i % 300) * interval '1 day'
		FROM generate_series(1, 20000, 20) AS i;
		ANALYZE`); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, shanghai)
	for _, unit := range []string{"", "unit3"} {
		var plan []byte
		if err := pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+eventFiguresSQL,
			pgx.NamedArgs{"from": from, "to": from.AddDate(0, 1, 0), "unit": unit}).Scan(&plan); err != nil {
			t.Fatal(err)
		}
		for _, index := range []string{"case_events_type_at_idx", "case_events_joint_proposed_at_idx", "repeat_submissions_received_at_idx"} {
			if !strings.Contains(string(plan), `"Index Name": "`+index+`"`) {
				t.Errorf("unit %q: the plan does not use %s:\n%s", unit, index, plan)
			}
		}
		var doc []struct{ Plan planNode }
		if err := json.Unmarshal(plan, &doc); err != nil || len(doc) != 1 {
			t.Fatalf("plan %s: %v", plan, err)
		}
		if doc[0].Plan.scans("case_events") {
			t.Errorf("unit %q: the plan reads every event:\n%s", unit, plan)
		}
	}
}

// planNode is a node of EXPLAIN (FORMAT JSON).
type planNode struct {
	NodeType string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Plans    []planNode `json:"Plans"`
}

// scans reports whether the plan reads the whole of relation (a sequential scan).
func (n planNode) scans(relation string) bool {
	if strings.HasSuffix(n.NodeType, "Seq Scan") && n.Relation == relation {
		return true
	}
	for _, c := range n.Plans {
		if c.scans(relation) {
			return true
		}
	}
	return false
}
