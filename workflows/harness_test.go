package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/internal/policy"
	"github.com/petitions/petitions/workflows"
)

// fakes stand in for the activities. ComputeDeadline is deliberately simple (the real calendar
// is tested in internal/calendar): start + period, + extensions, + finished pauses, + shift.
type fakes struct {
	mu          sync.Mutex
	transitions []workflows.Transition
	notices     []workflows.Notice
	requests    []calendar.Request
	// shift simulates a holiday calendar change: it is added to every due instant.
	shift time.Duration
	// refuse makes RecordTransition refuse (non-retryably) the transition with this seq once.
	refuse int64
	// office are the OfficeTime requests.
	office []workflows.OfficeTimeRequest
	// warn answers EvaluateWarnings (warning_test.go); nil: no warning.
	warn         func(workflows.WarningRequest) workflows.WarningAnswer
	warnRequests []workflows.WarningRequest
}

var units = map[string]workflows.UnitInfo{
	"construction": {Code: "construction", Name: "Construction Bureau", Parent: "district", Head: "construction-head", Leader: "construction-leader"},
	"health":       {Code: "health", Name: "Health Bureau", Parent: "district", Head: "health-head", Leader: "health-leader"},
	"district":     {Code: "district", Name: "District Government", Parent: "city", Head: "district-head", Leader: "district-leader"},
	"city":         {Code: "city", Name: "City Government", Head: "city-head", Leader: "city-leader"},
}

func addPeriod(t time.Time, p calendar.Period) time.Time {
	switch p.Unit {
	case calendar.Seconds:
		return t.Add(time.Duration(p.Amount) * time.Second)
	case calendar.Months:
		return t.AddDate(0, p.Amount, 0)
	default: // calendar_days, and working_days approximated: the fake knows no holidays
		return t.AddDate(0, 0, p.Amount)
	}
}

func (f *fakes) ComputeDeadline(_ context.Context, r calendar.Request) (calendar.Explanation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
	// The real calculator's validation, so the workflow cannot rely on what it would refuse.
	if r.Period.Amount <= 0 {
		return calendar.Explanation{}, temporal.NewNonRetryableApplicationError("amount must be positive", "InvalidRequest", nil)
	}
	for _, p := range r.Pauses {
		if p.From.Before(r.Start) || p.To.IsZero() {
			return calendar.Explanation{}, temporal.NewNonRetryableApplicationError("bad pause", "InvalidRequest", nil)
		}
	}
	due := addPeriod(r.Start, r.Period)
	for _, e := range r.Extensions {
		due = addPeriod(due, e)
	}
	for _, p := range r.Pauses {
		if !p.To.IsZero() {
			due = due.Add(p.To.Sub(p.From))
		}
	}
	due = due.Add(f.shift)
	return calendar.Explanation{
		Clock: r.Clock, Policy: r.Policy, Start: r.Start, Period: r.Period,
		Rule: "fake", Due: due, Summary: fmt.Sprintf("%s due %s", r.Clock, due.Format(time.RFC3339)),
	}, nil
}

func (f *fakes) RecordTransition(_ context.Context, t workflows.Transition) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.Event.Seq == f.refuse {
		f.refuse = 0
		return temporal.NewNonRetryableApplicationError("register schema mismatch", "Refused", nil)
	}
	f.transitions = append(f.transitions, t)
	return nil
}

func (f *fakes) RecordTransitions(ctx context.Context, ts []workflows.Transition) error {
	// A local activity gets its arguments unserialized; the register stores JSON. Round-trip
	// them, so the tests see what the register would.
	b, err := json.Marshal(ts)
	if err != nil {
		return err
	}
	ts = nil
	if err := json.Unmarshal(b, &ts); err != nil {
		return err
	}
	for _, t := range ts {
		f.mu.Lock()
		seen := len(f.transitions) > 0 && f.transitions[len(f.transitions)-1].Event.Seq >= t.Event.Seq
		f.mu.Unlock()
		if seen { // the register ignores what it has (a batch handed over again)
			continue
		}
		if err := f.RecordTransition(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// DescribeCancellation answers as the real activity does from a history's cancel request.
func (f *fakes) DescribeCancellation(context.Context, string, string) (workflows.CancelRequest, error) {
	return workflows.CancelRequest{Identity: "ops@temporal-ui", Reason: "clean-up"}, nil
}

func (f *fakes) Notify(_ context.Context, n workflows.Notice) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notices = append(f.notices, n)
	return nil
}

// OfficeTime answers on the real shipped calendar (policy.OfficeTime is the activity's code).
func (f *fakes) OfficeTime(_ context.Context, req workflows.OfficeTimeRequest) (workflows.OfficeTime, error) {
	f.mu.Lock()
	f.office = append(f.office, req)
	f.mu.Unlock()
	return policy.OfficeTime(calendar.Default(), req)
}

func (f *fakes) LookupUnit(_ context.Context, code string) (workflows.UnitInfo, error) {
	u, ok := units[code]
	if !ok {
		return workflows.UnitInfo{}, temporal.NewNonRetryableApplicationError("unknown unit "+code, "UnknownUnit", nil)
	}
	return u, nil
}

// Actors.
var (
	clerk        = workflows.Actor{ID: "clerk1", Role: workflows.RoleClerk, Unit: "registry"}
	handler      = workflows.Actor{ID: "h1", Role: workflows.RoleHandler, Unit: "construction"}
	leader       = workflows.Actor{ID: "construction-leader", Role: workflows.RoleLeader, Unit: "construction"}
	healthStaff  = workflows.Actor{ID: "h2", Role: workflows.RoleHandler, Unit: "health"}
	supervisor   = workflows.Actor{ID: "sup1", Role: workflows.RoleSupervisor, Unit: "supervision"}
	petitioner   = workflows.Actor{ID: "pet1", Role: workflows.RolePetitioner}
	system       = workflows.Actor{ID: "system", Role: workflows.RoleSystem}
	distReviewer = workflows.Actor{ID: "r1", Role: workflows.RoleReviewer, Unit: "district"}
	cityReviewer = workflows.Actor{ID: "r2", Role: workflows.RoleReviewer, Unit: "city"}
)

const caseNo = "2026-000001"

// t0 is the workflow start and the receipt of the petition: 09:00 in Shanghai.
var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

func sec(n int) time.Duration { return time.Duration(n) * time.Second }

// outcome is what happened to one update.
type outcome struct {
	name      string
	rejected  error
	completed bool
	state     workflows.CaseState
	err       error
}

// run drives one case through the time-skipping test environment.
type run struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	f     *fakes
	input workflows.PetitionInput
	n     int
}

func newRun(t *testing.T) *run {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	// The SDK's debug logging of every timer and activity drowns test failures.
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(t0)
	env.SetTestTimeout(30 * time.Second)
	f := &fakes{}
	env.RegisterWorkflowWithOptions(workflows.Petition, workflow.RegisterOptions{Name: workflows.WorkflowName})
	env.RegisterActivityWithOptions(f.ComputeDeadline, activity.RegisterOptions{Name: workflows.ActivityComputeDeadline})
	env.RegisterActivityWithOptions(f.RecordTransition, activity.RegisterOptions{Name: workflows.ActivityRecordTransition})
	env.RegisterActivityWithOptions(f.RecordTransitions, activity.RegisterOptions{Name: workflows.ActivityRecordTransitions})
	env.RegisterActivityWithOptions(f.DescribeCancellation, activity.RegisterOptions{Name: workflows.ActivityDescribeCancellation})
	env.RegisterActivityWithOptions(f.Notify, activity.RegisterOptions{Name: workflows.ActivityNotify})
	env.RegisterActivityWithOptions(f.LookupUnit, activity.RegisterOptions{Name: workflows.ActivityLookupUnit})
	env.RegisterActivityWithOptions(f.OfficeTime, activity.RegisterOptions{Name: workflows.ActivityOfficeTime})
	env.RegisterActivityWithOptions(f.EvaluateWarnings, activity.RegisterOptions{Name: workflows.ActivityEvaluateWarnings})
	pol, err := policy.Get(policy.Demo)
	if err != nil {
		t.Fatal(err)
	}
	return &run{t: t, env: env, f: f, input: workflows.PetitionInput{
		CaseNo: caseNo, Channel: "visit", Category: "appeal", Topic: "unpaid wages",
		SuggestedUnit: "construction", ReceivedAt: t0, RegisteredAt: t0,
		RegisteredBy: clerk, Policy: pol,
	}}
}

// act sends an update at offset `at` from the start.
func (r *run) act(at time.Duration, update string, in workflows.ActionInput) *outcome {
	r.n++
	o := &outcome{name: fmt.Sprintf("%s@%s", update, at)}
	id := fmt.Sprintf("u%d-%s", r.n, update)
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(update, id, &testsuite.TestUpdateCallback{
			OnReject: func(err error) { o.rejected = err },
			OnComplete: func(v any, err error) {
				o.completed, o.err = true, err
				if err == nil {
					o.state = decodeState(r.t, v)
				}
			},
		}, in)
	}, at)
	return o
}

func decodeState(t *testing.T, v any) workflows.CaseState {
	switch s := v.(type) {
	case workflows.CaseState:
		return s
	case converter.EncodedValue:
		var cs workflows.CaseState
		if err := s.Get(&cs); err != nil {
			t.Fatalf("decode update result: %v", err)
		}
		return cs
	}
	t.Fatalf("unexpected update result %T", v)
	return workflows.CaseState{}
}

// at runs fn at offset `at` from the start.
func (r *run) at(at time.Duration, fn func()) { r.env.RegisterDelayedCallback(fn, at) }

// execute runs the case to its end and returns the final state. Every recorded transition is
// checked for gapless, rising sequence numbers.
func (r *run) execute() workflows.CaseState {
	r.t.Helper()
	r.env.ExecuteWorkflow(workflows.WorkflowName, r.input)
	if !r.env.IsWorkflowCompleted() {
		r.t.Fatal("workflow did not complete")
	}
	if err := r.env.GetWorkflowError(); err != nil {
		r.t.Fatalf("workflow failed: %v", err)
	}
	var final workflows.CaseState
	if err := r.env.GetWorkflowResult(&final); err != nil {
		r.t.Fatal(err)
	}
	checkSeq(r.t, r.f.transitions)
	if last := r.f.transitions[len(r.f.transitions)-1]; last.State.Seq != final.Seq {
		r.t.Errorf("final state seq %d, last recorded %d", final.Seq, last.State.Seq)
	}
	return final
}

func checkSeq(t *testing.T, ts []workflows.Transition) {
	t.Helper()
	for i, tr := range ts {
		want := int64(i + 1)
		if tr.Event.Seq != want || tr.State.Seq != want {
			t.Fatalf("transition %d: event seq %d, state seq %d, want %d (events %v)", i, tr.Event.Seq, tr.State.Seq, want, types(ts))
		}
	}
}

func types(ts []workflows.Transition) []string {
	out := make([]string, len(ts))
	for i, tr := range ts {
		out[i] = tr.Event.Type
	}
	return out
}

// wantEvents checks the sequence of event types and, for each, its offset from the start.
func (r *run) wantEvents(want ...any) {
	r.t.Helper()
	if len(want)%2 != 0 {
		panic("wantEvents takes (type, offset) pairs")
	}
	var got, exp []string
	for _, tr := range r.f.transitions {
		got = append(got, fmt.Sprintf("%s@%s", tr.Event.Type, tr.Event.At.Sub(t0)))
	}
	for i := 0; i < len(want); i += 2 {
		exp = append(exp, fmt.Sprintf("%s@%s", want[i], want[i+1].(time.Duration)))
	}
	if strings.Join(got, " ") != strings.Join(exp, " ") {
		r.t.Errorf("events:\n got  %s\n want %s", strings.Join(got, " "), strings.Join(exp, " "))
	}
}

// event returns the nth (0-based) recorded transition of a type.
func (r *run) event(typ string, nth int) workflows.Transition {
	r.t.Helper()
	for _, tr := range r.f.transitions {
		if tr.Event.Type == typ {
			if nth == 0 {
				return tr
			}
			nth--
		}
	}
	r.t.Fatalf("no %s event #%d in %v", typ, nth, types(r.f.transitions))
	return workflows.Transition{}
}

// ok asserts an update was accepted and completed; it returns the state it returned, which must
// be the state recorded with the update's (last) event.
func (r *run) ok(o *outcome) workflows.CaseState {
	r.t.Helper()
	if o.rejected != nil {
		r.t.Fatalf("%s rejected: %v", o.name, o.rejected)
	}
	if !o.completed {
		r.t.Fatalf("%s did not complete", o.name)
	}
	if o.err != nil {
		r.t.Fatalf("%s failed: %v", o.name, o.err)
	}
	for _, tr := range r.f.transitions {
		if tr.State.Seq == o.state.Seq {
			if tr.State.Stage != o.state.Stage || tr.State.EscalationLevel != o.state.EscalationLevel {
				r.t.Errorf("%s returned %s/%d, recorded %s/%d", o.name, o.state.Stage, o.state.EscalationLevel, tr.State.Stage, tr.State.EscalationLevel)
			}
		}
	}
	return o.state
}

// refused asserts an update was rejected by its validator with the given error type and message.
func (r *run) refused(o *outcome, errType, msg string) {
	r.t.Helper()
	if o.rejected == nil {
		r.t.Fatalf("%s was not rejected (completed=%v err=%v)", o.name, o.completed, o.err)
	}
	var ae *temporal.ApplicationError
	if !errors.As(o.rejected, &ae) {
		r.t.Fatalf("%s rejected with %T %v, want an application error", o.name, o.rejected, o.rejected)
	}
	if ae.Type() != errType || !strings.Contains(ae.Error(), msg) {
		r.t.Errorf("%s rejected with %s %q, want %s containing %q", o.name, ae.Type(), ae.Error(), errType, msg)
	}
}

func (r *run) noticesTo() []string {
	var out []string
	for _, n := range r.f.notices {
		out = append(out, n.Kind+":"+n.Recipient)
	}
	return out
}

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

// testUpdate records an update's outcome for updates sent without r.act (e.g. without input).
type testUpdate struct {
	o *outcome
	t *testing.T
}

func (u *testUpdate) Accept()          {}
func (u *testUpdate) Reject(err error) { u.o.rejected = err }
func (u *testUpdate) Complete(v any, err error) {
	u.o.completed, u.o.err = true, err
	if err == nil {
		u.o.state = decodeState(u.t, v)
	}
}
