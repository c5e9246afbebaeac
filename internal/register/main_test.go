package register_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/petitions/petitions/internal/pgtest"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/sealing"
	"github.com/petitions/petitions/workflows"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// cst is Asia/Shanghai.
var cst = time.FixedZone("CST", 8*60*60)

// day returns 10:00 Shanghai time on a day of 2026.
func day(month time.Month, d int) time.Time { return time.Date(2026, month, d, 10, 0, 0, 0, cst) }

func newPool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// newStore returns a store on a fresh, migrated database.
func newStore(t testing.TB) *register.Store {
	t.Helper()
	pool := newPool(t, pgtest.NewDatabase(t))
	if _, err := register.Migrate(context.Background(), pool); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return register.New(pool).WithSealer(sealing.NewFields(sealing.TestKeyring()))
}

func mustRegister(t *testing.T, s *register.Store, nc register.NewCase) register.Case {
	t.Helper()
	if nc.Channel == "" {
		nc.Channel = "visit"
	}
	if nc.Category == "" {
		nc.Category = "appeal"
	}
	if nc.Topic == "" {
		nc.Topic = "unpaid wages"
	}
	if nc.RegisteredAt.IsZero() {
		nc.RegisteredAt = day(3, 2)
	}
	c, created, err := s.Register(context.Background(), nc)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if !created {
		t.Fatalf("Register: created = false for %+v", nc)
	}
	return c
}

// stateOf is the state a workflow would start c with.
func stateOf(c register.Case) workflows.CaseState {
	return workflows.CaseState{
		CaseNo: c.CaseNo, Stage: workflows.StageRegistered, Policy: c.Policy, Channel: c.Channel,
		Category: c.Category, Topic: c.Topic, SuggestedUnit: c.SuggestedUnit,
		ReceivedAt: c.ReceivedAt, RegisteredAt: c.RegisteredAt,
	}
}

// apply records a transition of type evType leading to st at seq.
// The event happens at the latest instant the state mentions.
func apply(t *testing.T, s *register.Store, seq int64, evType string, st workflows.CaseState) {
	t.Helper()
	at := st.RegisteredAt
	for _, p := range []*time.Time{st.AcceptedAt, st.RepliedAt, st.ClosedAt} {
		if p != nil && p.After(at) {
			at = *p
		}
	}
	applyAt(t, s, seq, evType, at, st)
}

func applyAt(t *testing.T, s *register.Store, seq int64, evType string, at time.Time, st workflows.CaseState) {
	t.Helper()
	st.Seq = seq
	tr := workflows.Transition{
		Event: workflows.Event{Seq: seq, Type: evType, At: at,
			Actor: workflows.Actor{ID: "clerk.li", Role: workflows.RoleClerk, Unit: "petition_office"}},
		State: st,
	}
	if err := s.ApplyTransition(context.Background(), tr); err != nil {
		t.Fatalf("ApplyTransition(%s #%d): %v", st.CaseNo, seq, err)
	}
}

func ptr[T any](v T) *T { return &v }
