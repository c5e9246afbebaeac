package workflows_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/petitions/petitions/workflows"
)

// screeningFakes are the register and notifier of a round under test.
type screeningFakes struct {
	mu      sync.Mutex
	events  map[string][]string // unit ("" the round) → event types, in order
	seen    map[string]bool     // (unit, seq) projected, to count repeats
	reports map[string]workflows.ScreeningUnit
	notices []workflows.Notice
	keys    map[string]int
}

func newScreeningFakes() *screeningFakes {
	return &screeningFakes{events: map[string][]string{}, seen: map[string]bool{},
		reports: map[string]workflows.ScreeningUnit{}, keys: map[string]int{}}
}

func (f *screeningFakes) record(_ context.Context, ts []workflows.ScreeningTransition) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range ts {
		k := t.Unit + "#" + time.Duration(t.Event.Seq).String()
		if f.seen[k] {
			continue // idempotent by (round, unit, seq), as the register
		}
		f.seen[k] = true
		f.events[t.Unit] = append(f.events[t.Unit], t.Event.Type)
		if t.Report != nil {
			f.reports[t.Unit] = *t.Report
		}
	}
	return nil
}

func (f *screeningFakes) notify(_ context.Context, n workflows.Notice) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notices = append(f.notices, n)
	f.keys[n.Key]++
	return nil
}

func (f *screeningFakes) lookup(_ context.Context, code string) (workflows.UnitInfo, error) {
	if code == "district" {
		return workflows.UnitInfo{Code: code, Name: "区人民政府", Leader: "leader.district"}, nil
	}
	return workflows.UnitInfo{Code: code, Parent: "district", Head: "head." + code, Leader: "leader." + code}, nil
}

func (f *screeningFakes) units(context.Context, workflows.ScreeningUnitsRequest) ([]string, error) {
	return []string{"construction", "health", "land"}, nil
}

func screeningEnv(f *screeningFakes) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.ScreeningRound, workflow.RegisterOptions{Name: workflows.ScreeningWorkflow})
	env.RegisterWorkflowWithOptions(workflows.ScreeningOpen, workflow.RegisterOptions{Name: workflows.ScreeningOpenWorkflow})
	env.RegisterActivityWithOptions(f.record, activity.RegisterOptions{Name: workflows.ActivityRecordScreening})
	env.RegisterActivityWithOptions(f.notify, activity.RegisterOptions{Name: workflows.ActivityNotify})
	env.RegisterActivityWithOptions(f.lookup, activity.RegisterOptions{Name: workflows.ActivityLookupUnit})
	env.RegisterActivityWithOptions(f.units, activity.RegisterOptions{Name: workflows.ActivityScreeningUnits})
	return env
}

// testScreeningPolicy: due an hour after opening; reminder 30 min before; the unit's leader an
// hour after, the superior unit two hours after; the round closes three hours after.
var testScreeningPolicy = workflows.ScreeningPolicy{
	Name: "test", DueAfter: workflows.Duration(time.Hour),
	Ladder: workflows.Ladder{ReminderBefore: workflows.Duration(30 * time.Minute),
		LeaderAfter: workflows.Duration(time.Hour), SuperiorAfter: workflows.Duration(2 * time.Hour)},
	CloseAfter: workflows.Duration(3 * time.Hour),
}

type updateOutcome struct {
	err   error
	state workflows.ScreeningState
	done  bool
}

func fileScreening(env *testsuite.TestWorkflowEnvironment, id string, in workflows.ScreeningFiling) *updateOutcome {
	out := &updateOutcome{}
	env.UpdateWorkflow(workflows.UpdateFileScreening, id, &testsuite.TestUpdateCallback{
		OnReject: func(err error) { out.err, out.done = err, true },
		OnAccept: func() {},
		OnComplete: func(v any, err error) {
			out.done, out.err = true, err
			if s, ok := v.(workflows.ScreeningState); ok {
				out.state = s
			}
		},
	}, in)
	return out
}

func refusedAs(t *testing.T, what string, o *updateOutcome, typ string) {
	t.Helper()
	var ae *temporal.ApplicationError
	if !o.done || !errors.As(o.err, &ae) || ae.Type() != typ {
		t.Errorf("%s: want refusal %s, got done=%v err=%v", what, typ, o.done, o.err)
	}
}

// A month's round with three units: construction files a form with a dispute, health files a
// zero report, land never files and climbs the ladder (reminder, overdue notice, its leader,
// the superior unit), each step once, then is recorded as missed when the round closes.
func TestScreeningRoundFiledZeroAndLate(t *testing.T) {
	f := newScreeningFakes()
	env := screeningEnv(f)
	handler := workflows.Actor{ID: "handler.construction", Role: workflows.RoleHandler, Unit: "construction"}
	leader := workflows.Actor{ID: "leader.health", Role: workflows.RoleLeader, Unit: "health"}
	form := []workflows.ScreeningDispute{{Kind: workflows.DisputeKindDispute, Summary: "拆迁安置补偿争议",
		Leader: "陈志强", Plan: "约谈双方，十日内提出补偿方案", TimeLimit: "2026-06-30"}}

	var filed, zero, clerkTry, twice, otherUnit, empty, late *updateOutcome
	env.RegisterDelayedCallback(func() {
		clerkTry = fileScreening(env, "clerk", workflows.ScreeningFiling{Actor: workflows.Actor{ID: "clerk.li", Role: workflows.RoleClerk, Unit: "petition_office"}, Unit: "construction", Zero: true})
		otherUnit = fileScreening(env, "other", workflows.ScreeningFiling{Actor: handler, Unit: "land", Zero: true})
		empty = fileScreening(env, "empty", workflows.ScreeningFiling{Actor: handler})
		filed = fileScreening(env, "filed", workflows.ScreeningFiling{Actor: handler, Disputes: form})
	}, 10*time.Minute)
	env.RegisterDelayedCallback(func() {
		zero = fileScreening(env, "zero", workflows.ScreeningFiling{Actor: leader, Zero: true})
		twice = fileScreening(env, "twice", workflows.ScreeningFiling{Actor: handler, Zero: true})
	}, 20*time.Minute)
	env.RegisterDelayedCallback(func() {
		// Land's leader files after the round has closed: refused.
		late = fileScreening(env, "late", workflows.ScreeningFiling{Actor: workflows.Actor{ID: "leader.land", Role: workflows.RoleLeader, Unit: "land"}, Zero: true})
	}, 5*time.Hour)

	env.ExecuteWorkflow(workflows.ScreeningWorkflow, workflows.ScreeningInput{Month: "2026-05", Policy: testScreeningPolicy, Units: []string{"construction", "health", "land"}})
	var final workflows.ScreeningState
	if err := env.GetWorkflowResult(&final); err != nil {
		t.Fatal(err)
	}

	if filed.err != nil || zero.err != nil {
		t.Fatalf("filing refused: form %v, zero %v", filed.err, zero.err)
	}
	refusedAs(t, "a clerk filing", clerkTry, workflows.ErrorInvalidAction)
	refusedAs(t, "another unit's report", otherUnit, workflows.ErrorInvalidAction)
	refusedAs(t, "an empty form", empty, workflows.ErrorInvalidInput)
	refusedAs(t, "a second report", twice, workflows.ErrorInvalidAction)
	if late != nil {
		// The round has ended by then: the update cannot reach it at all, or is refused.
		if late.err == nil && late.done {
			t.Error("a filing after the round closed was taken")
		}
	}

	byUnit := map[string]workflows.ScreeningUnit{}
	for _, u := range final.Units {
		byUnit[u.Unit] = u
	}
	if u := byUnit["construction"]; u.Status != workflows.ReportFiled || u.Disputes != 1 || u.Late || u.FiledBy == nil || u.FiledBy.ID != handler.ID {
		t.Errorf("construction: %+v", u)
	}
	if u := byUnit["health"]; u.Status != workflows.ReportZero || u.EscalationLevel != 0 {
		t.Errorf("health: %+v", u)
	}
	if u := byUnit["land"]; u.Status != workflows.ReportMissed || u.EscalationLevel != 3 || !u.Overdue {
		t.Errorf("land: %+v", u)
	}
	if !final.Closed || final.Month != "2026-05" {
		t.Errorf("round: %+v", final)
	}

	want := map[string][]string{
		"":             {workflows.EventRoundOpened, workflows.EventRoundClosed},
		"construction": {workflows.EventReportFiled},
		"health":       {workflows.EventZeroReport},
		"land": {workflows.EventReminderSent, workflows.EventOverdue, workflows.EventEscalated,
			workflows.EventEscalated, workflows.EventReportMissed},
	}
	for unit, types := range want {
		if got := f.events[unit]; !equalStrings(got, types) {
			t.Errorf("events of %q: got %v, want %v", unit, got, types)
		}
	}
	if r := f.reports["land"]; r.Status != workflows.ReportMissed || r.EscalationLevel != 3 {
		t.Errorf("register's land report: %+v", r)
	}

	// Notices: land's reminder to its head, overdue notice to its head, then its leader,
	// then the superior unit's leader; each once; the others none.
	wantTo := []string{"head.land", "head.land", "leader.land", "leader.district"}
	if len(f.notices) != len(wantTo) {
		t.Fatalf("notices: %+v", f.notices)
	}
	for i, n := range f.notices {
		if n.Recipient != wantTo[i] || n.Unit != "land" {
			t.Errorf("notice %d: %+v, want to %s", i, n, wantTo[i])
		}
	}
	for k, n := range f.keys {
		if n != 1 {
			t.Errorf("notice %s sent %d times", k, n)
		}
	}
}

// A round closes as soon as every unit has filed, late filings included: the late unit's
// report is marked late and keeps the escalation level it reached.
func TestScreeningRoundClosesWhenAllFiled(t *testing.T) {
	f := newScreeningFakes()
	env := screeningEnv(f)
	env.RegisterDelayedCallback(func() {
		fileScreening(env, "a", workflows.ScreeningFiling{Actor: workflows.Actor{ID: "h.c", Role: workflows.RoleHandler, Unit: "construction"}, Zero: true})
	}, time.Minute)
	var late *updateOutcome
	env.RegisterDelayedCallback(func() {
		// Health's leader files for land, a unit below theirs in this test's directory.
		late = fileScreening(env, "b", workflows.ScreeningFiling{
			Actor: workflows.Actor{ID: "leader.health", Role: workflows.RoleLeader, Unit: "health", Units: []string{"land"}},
			Unit:  "land", Zero: true})
		fileScreening(env, "c", workflows.ScreeningFiling{Actor: workflows.Actor{ID: "leader.health", Role: workflows.RoleLeader, Unit: "health"}, Zero: true})
	}, 90*time.Minute)
	start := env.Now()
	// Units from the register (ScreeningUnits).
	env.ExecuteWorkflow(workflows.ScreeningWorkflow, workflows.ScreeningInput{Month: "2026-05", Policy: testScreeningPolicy})
	var final workflows.ScreeningState
	if err := env.GetWorkflowResult(&final); err != nil {
		t.Fatal(err)
	}
	if late == nil || late.err != nil {
		t.Fatalf("late filing: %+v", late)
	}
	if !final.Closed || env.Now().Sub(start) > 2*time.Hour {
		t.Fatalf("round did not close when all had filed: %+v after %s", final, env.Now().Sub(start))
	}
	for _, u := range final.Units {
		if u.Status != workflows.ReportZero {
			t.Errorf("%s: %+v", u.Unit, u)
		}
		if u.Unit != "construction" && (!u.Late || u.EscalationLevel != 1 || u.Overdue) {
			t.Errorf("late unit %s: %+v", u.Unit, u)
		}
	}
}

// The schedule's workflow opens the month's round under its one ID.
func TestScreeningOpenStartsTheMonthsRound(t *testing.T) {
	f := newScreeningFakes()
	env := screeningEnv(f)
	env.SetStartTime(time.Date(2026, 6, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	env.ExecuteWorkflow(workflows.ScreeningOpenWorkflow, workflows.ScreeningOpenInput{Policy: testScreeningPolicy, Units: []string{"health"}})
	var id string
	if err := env.GetWorkflowResult(&id); err != nil {
		t.Fatal(err)
	}
	if id != "screening-2026-06" {
		t.Fatalf("round ID %q", id)
	}
}

func TestScreeningInputRefused(t *testing.T) {
	env := screeningEnv(newScreeningFakes())
	env.ExecuteWorkflow(workflows.ScreeningWorkflow, workflows.ScreeningInput{Month: "May", Policy: testScreeningPolicy})
	var ae *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &ae) || ae.Type() != workflows.ErrorInvalidInput {
		t.Fatalf("got %v", err)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
