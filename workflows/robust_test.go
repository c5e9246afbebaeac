package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/workflows"
)

// The full path from registration to termination, with the offsets at which each stage holds.
func fullPath(r *run) {
	accept(sec(5), r)
	r.act(sec(10), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "no basis"})
	r.act(sec(15), workflows.UpdateRequestReview, workflows.ActionInput{Actor: petitioner, Reason: "facts wrong"})
	r.act(sec(20), workflows.UpdateReviewDecision, workflows.ActionInput{Actor: distReviewer, Outcome: workflows.OutcomeUphold, Opinion: "upheld"})
	r.act(sec(30), workflows.UpdateRequestReReview, workflows.ActionInput{Actor: petitioner})
	r.act(sec(35), workflows.UpdateReReviewDecision, workflows.ActionInput{Actor: cityReviewer, Outcome: workflows.OutcomeRevise, Opinion: "revised"})
}

// A request to cancel the workflow (the Web UI's "Request Cancellation", `temporal workflow
// cancel`, any client) in any stage neither ends nor wedges the case: the refusal is recorded
// with who asked, and the case goes on to its lawful end.
func TestCancellationIsRefusedInEveryStage(t *testing.T) {
	for _, tc := range []struct {
		stage workflows.Stage
		at    time.Duration
	}{
		{workflows.StageRegistered, sec(2)},
		{workflows.StageHandling, sec(7)},
		{workflows.StageReplied, sec(12)},
		{workflows.StageReview, sec(17)},
		{workflows.StageReviewed, sec(22)},
		{workflows.StageReReview, sec(32)},
	} {
		t.Run(string(tc.stage), func(t *testing.T) {
			r := newRun(t)
			fullPath(r)
			var stage workflows.Stage
			r.at(tc.at, func() {
				v, err := r.env.QueryWorkflow(workflows.QueryState)
				if err != nil {
					t.Errorf("query before cancelling: %v", err)
					return
				}
				var st workflows.CaseState
				if err := v.Get(&st); err != nil {
					t.Error(err)
				}
				stage = st.Stage
				r.env.CancelWorkflow()
			})
			final := r.execute()
			if stage != tc.stage {
				t.Fatalf("cancelled in stage %s, want %s", stage, tc.stage)
			}
			if final.Stage != workflows.StageTerminated {
				t.Errorf("final stage %s, want terminated (the lawful end of the path)", final.Stage)
			}
			refused := r.event(workflows.EventCancellationRefused, 0)
			if !refused.Event.At.Equal(t0.Add(tc.at)) || refused.Event.Details["requested_by"] != "ops@temporal-ui" ||
				refused.Event.Details["reason"] != "clean-up" || refused.State.Stage != tc.stage {
				t.Errorf("cancellation_refused: %+v", refused)
			}
			n := 0
			for _, tr := range r.f.transitions {
				if tr.Event.Type == workflows.EventCancellationRefused {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d cancellation_refused events, want 1: %v", n, types(r.f.transitions))
			}
		})
	}
}

// The workflow is a gate too: text PostgreSQL cannot store (NUL, control characters) is refused
// by the validators, whichever client sent it. (Invalid UTF-8 cannot arrive: JSON payloads
// carry U+FFFD instead.)
func TestValidatorsRefuseWhatTheRegisterCannotStore(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	nul := r.act(sec(10), workflows.UpdateSupervise, workflows.ActionInput{Actor: supervisor, Opinion: "a\x00b"})
	actor := r.act(sec(12), workflows.UpdateReply, workflows.ActionInput{Actor: workflows.Actor{ID: "h1\x00", Role: workflows.RoleHandler, Unit: "construction"}, Opinion: "x"})
	r.act(sec(20), workflows.UpdateWithdraw, workflows.ActionInput{Actor: petitioner, Reason: "resolved"})
	r.execute()
	r.refused(nul, workflows.ErrorInvalidInput, "opinion must be valid UTF-8")
	r.refused(actor, workflows.ErrorInvalidInput, "actor.id must be valid UTF-8")
}

// A conditional action (If-Match) is refused when the case has moved on since it was read.
func TestConditionalActionRefusedWhenTheCaseChanged(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	one, two := int64(1), int64(2)
	stale := r.act(sec(10), workflows.UpdateSupervise, workflows.ActionInput{Actor: supervisor, Opinion: "hurry", IfSeq: &one})
	fresh := r.act(sec(11), workflows.UpdateSupervise, workflows.ActionInput{Actor: supervisor, Opinion: "hurry", IfSeq: &two})
	r.act(sec(20), workflows.UpdateWithdraw, workflows.ActionInput{Actor: petitioner, Reason: "resolved"})
	r.execute()
	r.refused(stale, workflows.ErrorStale, "the case has changed since it was read (now at #2, the request expected #1)")
	if st := r.ok(fresh); st.Seq != 3 {
		t.Errorf("conditional supervise on the current seq: seq %d", st.Seq)
	}
}

// A register outage at registration retries inside an activity: the workflow's history does
// not grow with the outage (a short and a long outage start the same timers), and the case gets
// its clock afterwards.
func TestSetupRetriesThroughAnOutageWithoutGrowingHistory(t *testing.T) {
	timersFor := func(failures int32) []string {
		r := newRun(t)
		// The test environment bounds activities by the run's timeout; Temporal does not.
		r.env.SetWorkflowRunTimeout(24 * time.Hour)
		var attempts atomic.Int32
		r.env.RegisterActivityWithOptions(func(ctx context.Context, req calendar.Request) (calendar.Explanation, error) {
			if attempts.Add(1) <= failures {
				return calendar.Explanation{}, errors.New("register unreachable")
			}
			return r.f.ComputeDeadline(ctx, req)
		}, activity.RegisterOptions{Name: workflows.ActivityComputeDeadline})
		var timers []string
		r.env.SetOnTimerScheduledListener(func(timerID string, d time.Duration) {
			timers = append(timers, d.String())
		})
		r.act(sec(3000), workflows.UpdateWithdraw, workflows.ActionInput{Actor: petitioner, Reason: "resolved"})
		r.execute()
		reg := r.event(workflows.EventRegistered, 0)
		if reg.State.Deadline == nil || reg.State.Deadline.Due.IsZero() {
			t.Fatalf("registered without a clock: %+v", reg.State)
		}
		if attempts.Load() != failures+1 {
			t.Errorf("%d compute attempts, want %d", attempts.Load(), failures+1)
		}
		return timers
	}
	// Cases from before the outbox retried in the workflow, on a one-minute timer each time.
	for _, timers := range [][]string{timersFor(8), timersFor(13)} {
		if slices.Contains(timers, time.Minute.String()) {
			t.Errorf("the workflow retried on its own timers: %v", timers)
		}
	}
}

// carried decodes the state a continue-as-new hands to the next run.
func carried(t *testing.T, r *run) (workflows.PetitionInput, map[string]json.RawMessage) {
	t.Helper()
	var can *workflow.ContinueAsNewError
	if err := r.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want a continue-as-new, got %v", err)
	}
	var next workflows.PetitionInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(next.Carry, &m); err != nil {
		t.Fatal(err)
	}
	return next, m
}

// A calendar change is never lost across a continue-as-new: one the run has not handled when it
// hands over goes along (calendar_pending), and the next run handles it first.
func TestCalendarChangeSurvivesContinueAsNew(t *testing.T) {
	r := newRun(t)
	acc := accept(sec(5), r)
	r.at(sec(10), func() {
		r.f.mu.Lock()
		r.f.shift = 24 * time.Hour
		r.f.mu.Unlock()
		r.env.SignalWorkflow(workflows.SignalCalendarChanged, nil)
	})
	r.at(sec(12), func() { r.env.SetContinueAsNewSuggested(true) })
	r.env.ExecuteWorkflow(workflows.WorkflowName, r.input)
	next, m := carried(t, r)
	changed := r.event(workflows.EventDeadlineChanged, 0)
	if !changed.State.Deadline.Due.After(r.ok(acc).Deadline.Due) {
		t.Fatalf("calendar change in the first run: %+v", changed)
	}
	due := changed.State.Deadline.Due
	// The test environment cannot deliver a signal inside the task that continues as new (the
	// server refuses such a completion and hands the workflow the signal; the run then carries
	// it as calendar_pending). The next run is given such a state.
	m["calendar_pending"] = json.RawMessage("true")
	var err error
	if next.Carry, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}

	r2 := newRun(t)
	r2.f.shift = 48 * time.Hour
	r2.input = next
	r2.env.SetStartTime(t0.Add(sec(10)))
	r2.act(sec(20), workflows.UpdateWithdraw, workflows.ActionInput{Actor: petitioner, Reason: "resolved"})
	r2.env.ExecuteWorkflow(workflows.WorkflowName, r2.input)
	if err := r2.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	first := r2.f.transitions[0]
	if first.Event.Type != workflows.EventDeadlineChanged || first.Event.Details["reason"] != "holiday calendar changed" ||
		!first.State.Deadline.Due.After(due) {
		t.Errorf("first event of the next run: %+v (due before %s)", first.Event, due)
	}
}

// While the notifier is down a run hands over at once, carrying the undelivered notice and the
// register's backlog, instead of waiting with its ladder stopped; the next run delivers the
// notice under the same key.
func TestHandOverDoesNotWaitForTheNotifierOrTheRegister(t *testing.T) {
	r := newRun(t)
	var down atomic.Bool
	down.Store(true)
	r.env.RegisterActivityWithOptions(func(ctx context.Context, n workflows.Notice) error {
		if down.Load() {
			return errors.New("notifier unreachable")
		}
		return r.f.Notify(ctx, n)
	}, activity.RegisterOptions{Name: workflows.ActivityNotify})
	// Acceptance due at 15 s (demo policy): the overdue notice cannot go out.
	r.at(sec(20), func() { r.env.SetContinueAsNewSuggested(true) })
	r.env.ExecuteWorkflow(workflows.WorkflowName, r.input)
	next, m := carried(t, r)
	var notices []workflows.Notice
	if err := json.Unmarshal(m["notices"], &notices); err != nil || len(notices) == 0 {
		t.Fatalf("undelivered notices not carried: %s (%v)", m["notices"], err)
	}
	keys := []string{}
	for _, n := range notices {
		keys = append(keys, n.Key)
	}

	r2 := newRun(t)
	r2.input = next
	r2.env.SetStartTime(t0.Add(sec(20)))
	r2.act(sec(60), workflows.UpdateWithdraw, workflows.ActionInput{Actor: petitioner, Reason: "resolved"})
	r2.env.ExecuteWorkflow(workflows.WorkflowName, r2.input)
	if err := r2.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	delivered := []string{}
	for _, n := range r2.f.notices {
		delivered = append(delivered, n.Key)
	}
	for _, k := range keys {
		if !slices.Contains(delivered, k) {
			t.Errorf("carried notice %s not delivered by the next run (delivered %v)", k, delivered)
		}
	}
	// The ladder went on in the next run: escalations after the hand-over were recorded.
	if !slices.Contains(types(r2.f.transitions), workflows.EventEscalated) {
		t.Errorf("no escalation after the hand-over: %v", types(r2.f.transitions))
	}
}
