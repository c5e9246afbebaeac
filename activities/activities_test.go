package activities_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"

	"github.com/petitions/petitions/activities"
	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/internal/notify"
	"github.com/petitions/petitions/internal/pgtest"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/sealing"
	"github.com/petitions/petitions/workflows"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newActivities(t *testing.T) (*activities.Activities, *register.Store) {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := register.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store := register.New(pool).WithSealer(sealing.NewFields(sealing.TestKeyring()))
	if err := store.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	return activities.New(store, notify.Log{Logger: slog.New(slog.DiscardHandler)}), store
}

// The deadline follows the calendar in the register: an imported year replaces the shipped one.
func TestComputeDeadlineReadsTheRegistersCalendar(t *testing.T) {
	a, store := newActivities(t)
	ctx := context.Background()
	shanghai := calendar.Location()
	req := calendar.Request{Clock: "acceptance", Policy: "statute_workdays",
		Start:  time.Date(2026, 2, 13, 10, 0, 0, 0, shanghai),
		Period: calendar.Period{Amount: 15, Unit: calendar.WorkingDays}}
	exp, err := a.ComputeDeadline(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 13, 0, 0, 0, 0, shanghai); !exp.Due.Equal(want) {
		t.Fatalf("shipped calendar: due %s, want %s", exp.Due, want)
	}
	// A (fictional) revised 2026 notice adds a holiday on 2026-03-02.
	y, err := store.CalendarYear(ctx, 2026)
	if err != nil {
		// Not migrated through app.Migrate: the shipped year is not in the register yet.
		for _, b := range calendar.Builtin() {
			if b.Year == 2026 {
				y = b
			}
		}
	}
	y.Holidays = append(y.Holidays, calendar.Day{Date: "2026-03-02", Name: "test holiday"})
	if err := store.PutCalendarYear(ctx, y); err != nil {
		t.Fatal(err)
	}
	exp, err = a.ComputeDeadline(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 14, 0, 0, 0, 0, shanghai); !exp.Due.Equal(want) {
		t.Fatalf("imported calendar: due %s, want %s", exp.Due, want)
	}
	// A malformed request is not retried.
	_, err = a.ComputeDeadline(ctx, calendar.Request{Clock: "x"})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() {
		t.Fatalf("bad request: want non-retryable error, got %v", err)
	}
}

func TestLookupUnit(t *testing.T) {
	a, _ := newActivities(t)
	u, err := a.LookupUnit(context.Background(), "construction")
	if err != nil {
		t.Fatal(err)
	}
	if u.Parent != "district" || u.Head == "" {
		t.Fatalf("construction: %+v", u)
	}
	_, err = a.LookupUnit(context.Background(), "no-such-unit")
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != "UnknownUnit" || !appErr.NonRetryable() {
		t.Fatalf("unknown unit: %v", err)
	}
}

// A retried transition is recorded once.
func TestRecordTransitionIsIdempotent(t *testing.T) {
	a, store := newActivities(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	tr := workflows.Transition{
		Event: workflows.Event{Seq: 1, Type: workflows.EventRegistered, At: now, Actor: workflows.Actor{ID: "clerk.li", Role: workflows.RoleClerk}},
		State: workflows.CaseState{CaseNo: "2026-900001", Stage: workflows.StageRegistered, Policy: "default",
			Channel: "letter", Category: "appeal", Topic: "t", ReceivedAt: now, RegisteredAt: now, Seq: 1},
	}
	for range 2 {
		if err := a.RecordTransition(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	events, err := store.Events(ctx, "2026-900001")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 {
		t.Fatalf("%d events, want 1", len(events))
	}
}

// A batch goes over in order and again harmlessly; a transition PostgreSQL can never store (a
// NUL in an opinion) is refused for good, not retried: the case marks itself stuck.
func TestRecordTransitionsRefusesPoisonForGood(t *testing.T) {
	a, store := newActivities(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	state := workflows.CaseState{CaseNo: "2026-900002", Stage: workflows.StageRegistered, Policy: "default",
		Channel: "letter", Category: "appeal", Topic: "t", ReceivedAt: now, RegisteredAt: now}
	tr := func(seq int64, typ string, details map[string]any) workflows.Transition {
		st := state
		st.Seq = seq
		return workflows.Transition{Event: workflows.Event{Seq: seq, Type: typ, At: now,
			Actor: workflows.Actor{ID: "sup", Role: workflows.RoleSupervisor}, Details: details}, State: st}
	}
	batch := []workflows.Transition{tr(1, workflows.EventRegistered, nil), tr(2, workflows.EventSupervised, map[string]any{"opinion": "hurry"})}
	for range 2 {
		if err := a.RecordTransitions(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	err := a.RecordTransitions(ctx, []workflows.Transition{tr(3, workflows.EventSupervised, map[string]any{"opinion": "a\x00b"})})
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || !ae.NonRetryable() || ae.Type() != workflows.ErrorTransitionRefused {
		t.Fatalf("poison transition: %v, want a non-retryable %s", err, workflows.ErrorTransitionRefused)
	}
	events, err := store.Events(ctx, "2026-900002")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("%d events, want 2", len(events))
	}
}

// lags records the projection lags the activities report.
type lags []time.Duration

func (l *lags) ProjectionLag(d time.Duration) { *l = append(*l, d) }

// Every transition the register takes reports its lag behind the event (the metrics'
// petitions_projection_lag_seconds); a refused one reports none.
func TestRecordTransitionsReportProjectionLag(t *testing.T) {
	a, _ := newActivities(t)
	var got lags
	a.Metrics = &got
	ctx := context.Background()
	at := time.Now().Add(-3 * time.Second)
	state := workflows.CaseState{CaseNo: "2026-900003", Stage: workflows.StageRegistered, Policy: "default",
		Channel: "letter", Category: "appeal", Topic: "t", ReceivedAt: at, RegisteredAt: at}
	tr := func(seq int64, opinion string) workflows.Transition {
		st := state
		st.Seq = seq
		return workflows.Transition{Event: workflows.Event{Seq: seq, Type: workflows.EventSupervised, At: at,
			Actor: workflows.Actor{ID: "sup", Role: workflows.RoleSupervisor}, Details: map[string]any{"opinion": opinion}}, State: st}
	}
	if err := a.RecordTransitions(ctx, []workflows.Transition{tr(1, "a"), tr(2, "b")}); err != nil {
		t.Fatal(err)
	}
	if err := a.RecordTransition(ctx, tr(3, "c")); err != nil {
		t.Fatal(err)
	}
	if err := a.RecordTransitions(ctx, []workflows.Transition{tr(4, "a\x00b")}); err == nil {
		t.Fatal("poison transition accepted")
	}
	if len(got) != 3 {
		t.Fatalf("%d lags reported (%v), want 3", len(got), got)
	}
	for _, d := range got {
		if d < 3*time.Second || d > time.Minute {
			t.Errorf("lag %s, want about 3 s", d)
		}
	}
}
