package workflows_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/petitions/petitions/workflows"
)

// The demo policy: acceptance 30s, handling 60s, windows and reviews 60s, max extension 60s;
// ladder: reminder 20s before the due, leader 20s after it, superior unit 40s after it.

const (
	invalidAction = workflows.ErrorInvalidAction
	invalidInput  = workflows.ErrorInvalidInput
)

func TestAwaitRegistrationThenReject(t *testing.T) {
	r := newRun(t)
	var awaited *outcome
	r.at(0, func() {
		awaited = &outcome{name: "await"}
		r.env.UpdateWorkflow(workflows.UpdateAwaitRegistration, "await", &testUpdate{o: awaited, t: t})
	})
	reject := r.act(sec(2), workflows.UpdateReject, workflows.ActionInput{Actor: clerk, Reason: "not a petition matter"})
	final := r.execute()

	got := r.ok(awaited)
	if got.Seq != 1 || got.Stage != workflows.StageRegistered || got.Deadline == nil ||
		got.Deadline.Clock != workflows.ClockAcceptance || !got.Deadline.Due.Equal(t0.Add(sec(30))) {
		t.Errorf("await_registration returned %+v", got)
	}
	st := r.ok(reject)
	if st.Stage != workflows.StageRejected || st.Seq != 2 {
		t.Errorf("reject returned %s seq %d", st.Stage, st.Seq)
	}
	r.wantEvents(workflows.EventRegistered, sec(0), workflows.EventRejected, sec(2))
	if final.Stage != workflows.StageRejected || final.Deadline != nil || final.ClosedAt == nil || !final.ClosedAt.Equal(t0.Add(sec(2))) {
		t.Errorf("final %+v", final)
	}
	reg := r.event(workflows.EventRegistered, 0)
	if reg.Event.Actor.ID != clerk.ID || reg.State.Unit != "construction" {
		t.Errorf("registered event %+v", reg)
	}
}

func TestAcceptanceLadderFiresEachStepOnce(t *testing.T) {
	r := newRun(t)
	reject := r.act(sec(80), workflows.UpdateReject, workflows.ActionInput{Actor: clerk, Reason: "duplicate"})
	final := r.execute()
	r.ok(reject)
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventReminderSent, sec(10),
		workflows.EventOverdue, sec(30),
		workflows.EventEscalated, sec(50),
		workflows.EventEscalated, sec(70),
		workflows.EventRejected, sec(80),
	)
	levels := []int{0, 0, 1, 2, 3}
	for i, want := range levels {
		st := r.f.transitions[i].State
		if st.EscalationLevel != want || st.Overdue != (want > 0) {
			t.Errorf("after %s: level %d overdue %v, want %d", r.f.transitions[i].Event.Type, st.EscalationLevel, st.Overdue, want)
		}
	}
	wantNotices := []string{
		"reminder:construction-head", "supervision:construction-head",
		"escalation:construction-leader", "escalation:district-leader",
	}
	if got := r.noticesTo(); !slices.Equal(got, wantNotices) {
		t.Errorf("notices %v, want %v", got, wantNotices)
	}
	keys := map[string]bool{}
	for _, n := range r.f.notices {
		if keys[n.Key] || !strings.HasPrefix(n.Key, caseNo+"/") {
			t.Errorf("notice key %q repeated or malformed", n.Key)
		}
		keys[n.Key] = true
	}
	if r.f.notices[3].Unit != "district" {
		t.Errorf("superior notice unit %q", r.f.notices[3].Unit)
	}
	if final.Overdue || final.EscalationLevel != 0 {
		t.Errorf("a closed case is not overdue: %+v", final)
	}
}

func accept(at time.Duration, r *run) *outcome {
	return r.act(at, workflows.UpdateAccept, workflows.ActionInput{Actor: clerk, Unit: "construction", Handler: "h1"})
}

func TestReplyInTimeStopsTheLadderAndTheWindowCloses(t *testing.T) {
	r := newRun(t)
	acc := accept(sec(5), r)
	reply := r.act(sec(40), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "wages paid",
		ServedAt: servedAt(sec(40)), ServiceMethod: workflows.ServiceInPerson})
	final := r.execute()

	st := r.ok(acc)
	if st.Stage != workflows.StageHandling || st.Unit != "construction" || st.Handler != "h1" ||
		st.AcceptedAt == nil || !st.Deadline.Due.Equal(t0.Add(sec(65))) {
		t.Errorf("accept returned %+v", st)
	}
	st = r.ok(reply)
	if st.Stage != workflows.StageReplied || st.RepliedLate || st.Deadline.Clock != workflows.ClockReviewRequest ||
		!st.Deadline.Due.Equal(t0.Add(sec(100))) {
		t.Errorf("reply returned %+v", st)
	}
	// The handling reminder (45s) and everything after it were cancelled by the reply.
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventReplied, sec(40),
		workflows.EventClosed, sec(100),
	)
	if final.Stage != workflows.StageClosed || !final.ClosedAt.Equal(t0.Add(sec(100))) || final.Deadline != nil {
		t.Errorf("final %+v", final)
	}
	if len(r.f.notices) != 0 {
		t.Errorf("notices %v", r.noticesTo())
	}
}

func TestHandlingLadderAndLateReply(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	reply := r.act(sec(90), workflows.UpdateReply, workflows.ActionInput{Actor: leader, Opinion: "late but done"})
	eval := r.act(sec(95), workflows.UpdateEvaluate, workflows.ActionInput{Actor: petitioner, Evaluation: workflows.EvaluationSatisfied})
	final := r.execute()

	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventReminderSent, sec(45),
		workflows.EventOverdue, sec(65),
		workflows.EventEscalated, sec(85),
		workflows.EventReplied, sec(90),
		workflows.EventEvaluated, sec(95),
		workflows.EventClosed, sec(95),
	)
	if st := r.ok(reply); !st.RepliedLate || st.Overdue || st.EscalationLevel != 0 {
		t.Errorf("late reply returned %+v", st)
	}
	if st := r.ok(eval); st.Stage != workflows.StageClosed || st.Evaluation != workflows.EvaluationSatisfied {
		t.Errorf("evaluate returned %+v", st)
	}
	// The reminder goes to the handler now that there is one.
	want := []string{"reminder:h1", "supervision:construction-head", "escalation:construction-leader"}
	if got := r.noticesTo(); !slices.Equal(got, want) {
		t.Errorf("notices %v, want %v", got, want)
	}
	if !final.RepliedLate || final.Stage != workflows.StageClosed {
		t.Errorf("final %+v", final)
	}
}

func TestFullPathToTermination(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	r.act(sec(10), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "no basis"})
	rr := r.act(sec(15), workflows.UpdateRequestReview, workflows.ActionInput{Actor: petitioner, Reason: "facts wrong"})
	rd := r.act(sec(20), workflows.UpdateReviewDecision, workflows.ActionInput{Actor: distReviewer, Outcome: workflows.OutcomeUphold, Opinion: "upheld"})
	ev := r.act(sec(25), workflows.UpdateEvaluate, workflows.ActionInput{Actor: petitioner, Evaluation: workflows.EvaluationDissatisfied})
	rrr := r.act(sec(30), workflows.UpdateRequestReReview, workflows.ActionInput{Actor: petitioner})
	rrd := r.act(sec(35), workflows.UpdateReReviewDecision, workflows.ActionInput{Actor: cityReviewer, Outcome: workflows.OutcomeRevise, Opinion: "revised"})
	after := r.act(sec(36), workflows.UpdateLinkRepeat, workflows.ActionInput{Actor: clerk, Channel: "letter"})
	final := r.execute()

	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventReplied, sec(10),
		workflows.EventReviewRequested, sec(15),
		workflows.EventReviewDecided, sec(20),
		workflows.EventEvaluated, sec(25),
		workflows.EventReReviewRequested, sec(30),
		workflows.EventReReviewDecided, sec(35),
		workflows.EventTerminated, sec(35),
	)
	if st := r.ok(rr); st.Stage != workflows.StageReview || st.ReviewUnit != "district" || st.Deadline.Clock != workflows.ClockReview || !st.Deadline.Due.Equal(t0.Add(sec(75))) {
		t.Errorf("request_review returned %+v", st)
	}
	if st := r.ok(rd); st.Stage != workflows.StageReviewed || st.Deadline.Clock != workflows.ClockReReviewWindow {
		t.Errorf("review_decision returned %+v", st)
	}
	if st := r.ok(ev); st.Stage != workflows.StageReviewed || st.Evaluation != workflows.EvaluationDissatisfied {
		t.Errorf("dissatisfied evaluation returned %+v", st)
	}
	if st := r.ok(rrr); st.Stage != workflows.StageReReview || st.ReReviewUnit != "city" {
		t.Errorf("request_re_review returned %+v", st)
	}
	if st := r.ok(rrd); st.Stage != workflows.StageTerminated || st.ClosedAt == nil {
		t.Errorf("re_review_decision returned %+v", st)
	}
	if final.Stage != workflows.StageTerminated || final.Deadline != nil {
		t.Errorf("final %+v", final)
	}
	// The workflow ended at 35s; the update scheduled for 36s never reached it. Either way it
	// must not have changed anything.
	if after.completed && after.err == nil {
		t.Errorf("link_repeat after termination completed")
	}
	if d := r.event(workflows.EventReviewDecided, 0).Event.Details; d["outcome"] != workflows.OutcomeUphold || d["opinion"] != "upheld" {
		t.Errorf("review_decided details %v", d)
	}
}

func TestReReviewWindowExpiresToClosed(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	r.act(sec(10), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "no basis"})
	r.act(sec(15), workflows.UpdateRequestReview, workflows.ActionInput{Actor: petitioner})
	r.act(sec(20), workflows.UpdateReviewDecision, workflows.ActionInput{Actor: distReviewer, Outcome: workflows.OutcomeRevise, Opinion: "changed",
		ServedAt: servedAt(sec(20)), ServiceMethod: workflows.ServicePost})
	final := r.execute()
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventReplied, sec(10),
		workflows.EventReviewRequested, sec(15),
		workflows.EventReviewDecided, sec(20),
		workflows.EventClosed, sec(80),
	)
	if final.Stage != workflows.StageClosed || !final.ClosedAt.Equal(t0.Add(sec(80))) {
		t.Errorf("final %+v", final)
	}
	if d := r.event(workflows.EventClosed, 0).Event; d.Actor.Role != workflows.RoleSystem || d.Details["clock"] != string(workflows.ClockReReviewWindow) {
		t.Errorf("closed event %+v", d)
	}
}

func TestReviewLadderAndPauseForHearing(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	r.act(sec(10), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "no basis"})
	r.act(sec(15), workflows.UpdateRequestReview, workflows.ActionInput{Actor: petitioner}) // due 75s
	// A handler of the original unit cannot pause the review clock; the reviewer can.
	wrong := r.act(sec(20), workflows.UpdatePause, workflows.ActionInput{Actor: handler, Reason: "hearing"})
	pause := r.act(sec(20), workflows.UpdatePause, workflows.ActionInput{Actor: distReviewer, Reason: "hearing 听证"})
	resume := r.act(sec(40), workflows.UpdateResume, workflows.ActionInput{Actor: distReviewer}) // due 95s
	decide := r.act(sec(100), workflows.UpdateReviewDecision, workflows.ActionInput{Actor: distReviewer, Outcome: workflows.OutcomeUphold, Opinion: "upheld"})
	r.act(sec(101), workflows.UpdateEvaluate, workflows.ActionInput{Actor: petitioner, Evaluation: workflows.EvaluationBasicSatisfied})
	r.execute()

	r.refused(wrong, invalidAction, "it needs a reviewer or leader")
	if st := r.ok(pause); !st.Deadline.Paused {
		t.Errorf("pause returned %+v", st.Deadline)
	}
	if st := r.ok(resume); st.Deadline.Paused || !st.Deadline.Due.Equal(t0.Add(sec(95))) || len(st.Deadline.Pauses) != 1 {
		t.Errorf("resume returned %+v", st.Deadline)
	}
	r.ok(decide)
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventReplied, sec(10),
		workflows.EventReviewRequested, sec(15),
		workflows.EventPaused, sec(20),
		workflows.EventResumed, sec(40),
		workflows.EventReminderSent, sec(75),
		workflows.EventOverdue, sec(95),
		workflows.EventReviewDecided, sec(100),
		workflows.EventEvaluated, sec(101),
		workflows.EventClosed, sec(101),
	)
	want := []string{"reminder:district-head", "supervision:district-head"}
	if got := r.noticesTo(); !slices.Equal(got, want) {
		t.Errorf("notices %v, want %v", got, want)
	}
}

func TestExtensionApproved(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r) // due 65s
	tooLong := r.act(sec(10), workflows.UpdateRequestExtension, workflows.ActionInput{Actor: handler, Days: 61, Reason: "site survey"})
	byLeader := r.act(sec(10), workflows.UpdateRequestExtension, workflows.ActionInput{Actor: leader, Days: 30, Reason: "site survey"})
	noPending := r.act(sec(10), workflows.UpdateDecideExtension, workflows.ActionInput{Actor: leader, Approved: yes()})
	req := r.act(sec(11), workflows.UpdateRequestExtension, workflows.ActionInput{Actor: handler, Days: 30, Reason: "site survey"})
	again := r.act(sec(12), workflows.UpdateRequestExtension, workflows.ActionInput{Actor: handler, Days: 10, Reason: "more"})
	byHandler := r.act(sec(13), workflows.UpdateDecideExtension, workflows.ActionInput{Actor: handler, Approved: yes()})
	noAnswer := r.act(sec(13), workflows.UpdateDecideExtension, workflows.ActionInput{Actor: leader})
	decide := r.act(sec(15), workflows.UpdateDecideExtension, workflows.ActionInput{Actor: leader, Approved: yes(), Reason: "agreed"})
	after := r.act(sec(16), workflows.UpdateRequestExtension, workflows.ActionInput{Actor: handler, Days: 10, Reason: "more"})
	r.act(sec(100), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "done"})
	r.act(sec(101), workflows.UpdateEvaluate, workflows.ActionInput{Actor: petitioner, Evaluation: workflows.EvaluationSatisfied})
	final := r.execute()

	r.refused(tooLong, invalidInput, "at most 60 seconds")
	r.refused(byLeader, invalidAction, "not allowed for a leader")
	r.refused(noPending, invalidAction, "no extension request is pending")
	if st := r.ok(req); st.PendingExtension == nil || st.PendingExtension.Days != 30 {
		t.Errorf("request returned %+v", st.PendingExtension)
	}
	r.refused(again, invalidAction, "already waiting")
	r.refused(byHandler, invalidAction, "it needs a leader")
	r.refused(noAnswer, invalidInput, "needs approved")
	st := r.ok(decide)
	if !st.ExtensionUsed || st.PendingExtension != nil || !st.Deadline.Due.Equal(t0.Add(sec(95))) ||
		!slices.Equal(st.Deadline.Extensions, []workflows.Period{{Amount: 30, Unit: "seconds"}}) {
		t.Errorf("decide returned %+v", st)
	}
	r.refused(after, invalidAction, "already been decided")
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventExtensionRequested, sec(11),
		workflows.EventExtensionDecided, sec(15),
		workflows.EventReminderSent, sec(75), // re-armed against the new due
		workflows.EventOverdue, sec(95),
		workflows.EventReplied, sec(100),
		workflows.EventEvaluated, sec(101),
		workflows.EventClosed, sec(101),
	)
	if !final.RepliedLate || !final.ExtensionUsed {
		t.Errorf("final %+v", final)
	}
}

func TestExtensionAfterOverdueKeepsLevelAndDoesNotRefire(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r) // due 65s: reminder 45, overdue 65, leader 85, superior 105
	r.act(sec(70), workflows.UpdateRequestExtension, workflows.ActionInput{Actor: handler, Days: 30, Reason: "need records"})
	decide := r.act(sec(72), workflows.UpdateDecideExtension, workflows.ActionInput{Actor: leader, Approved: yes()})
	r.act(sec(120), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "done"})
	r.act(sec(121), workflows.UpdateEvaluate, workflows.ActionInput{Actor: petitioner, Evaluation: workflows.EvaluationSatisfied})
	r.execute()

	st := r.ok(decide)
	if st.Overdue || st.EscalationLevel != 1 || !st.Deadline.Due.Equal(t0.Add(sec(95))) {
		t.Errorf("after the extension: overdue %v level %d due %s", st.Overdue, st.EscalationLevel, st.Deadline.Due)
	}
	// No second reminder; overdue again at the new due; the leader step (not fired before the
	// extension) against the new due: 95+20.
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventReminderSent, sec(45),
		workflows.EventOverdue, sec(65),
		workflows.EventExtensionRequested, sec(70),
		workflows.EventExtensionDecided, sec(72),
		workflows.EventOverdue, sec(95),
		workflows.EventEscalated, sec(115),
		workflows.EventReplied, sec(120),
		workflows.EventEvaluated, sec(121),
		workflows.EventClosed, sec(121),
	)
	if lvl := r.event(workflows.EventEscalated, 0).State.EscalationLevel; lvl != 2 {
		t.Errorf("escalated level %d", lvl)
	}
}

func TestExtensionDeniedUsesTheOneExtension(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	r.act(sec(10), workflows.UpdateRequestExtension, workflows.ActionInput{Actor: handler, Days: 10, Reason: "r"})
	decide := r.act(sec(12), workflows.UpdateDecideExtension, workflows.ActionInput{Actor: leader, Approved: no()})
	again := r.act(sec(13), workflows.UpdateRequestExtension, workflows.ActionInput{Actor: handler, Days: 10, Reason: "r"})
	r.act(sec(14), workflows.UpdateWithdraw, workflows.ActionInput{Actor: petitioner, Reason: "settled"})
	final := r.execute()
	if st := r.ok(decide); !st.ExtensionUsed || !st.Deadline.Due.Equal(t0.Add(sec(65))) {
		t.Errorf("denied extension returned %+v", st)
	}
	r.refused(again, invalidAction, "already been decided")
	if final.Stage != workflows.StageWithdrawn || final.ClosedAt == nil {
		t.Errorf("final %+v", final)
	}
	if d := r.event(workflows.EventExtensionDecided, 0).Event.Details; d["approved"] != false {
		t.Errorf("details %v", d)
	}
}

func TestPauseStopsTheLadderAndResumeMovesTheDue(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r) // due 65s
	pause := r.act(sec(20), workflows.UpdatePause, workflows.ActionInput{Actor: handler, Reason: "awaiting materials"})
	twice := r.act(sec(30), workflows.UpdatePause, workflows.ActionInput{Actor: handler, Reason: "again"})
	noReason := r.act(sec(30), workflows.UpdateResume, workflows.ActionInput{Actor: healthStaff})
	resume := r.act(sec(50), workflows.UpdateResume, workflows.ActionInput{Actor: leader}) // +30s: due 95s
	notPaused := r.act(sec(51), workflows.UpdateResume, workflows.ActionInput{Actor: leader})
	r.act(sec(100), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "done"})
	r.act(sec(101), workflows.UpdateEvaluate, workflows.ActionInput{Actor: petitioner, Evaluation: workflows.EvaluationSatisfied})
	r.execute()

	if st := r.ok(pause); !st.Deadline.Paused || len(st.Deadline.Pauses) != 1 || !st.Deadline.Pauses[0].To.IsZero() {
		t.Errorf("pause returned %+v", st.Deadline)
	}
	r.refused(twice, invalidAction, "already paused")
	r.refused(noReason, invalidAction, `unit "health"`)
	st := r.ok(resume)
	if st.Deadline.Paused || !st.Deadline.Due.Equal(t0.Add(sec(95))) || !st.Deadline.Pauses[0].To.Equal(t0.Add(sec(50))) {
		t.Errorf("resume returned %+v", st.Deadline)
	}
	r.refused(notPaused, invalidAction, "not paused")
	// Nothing fired while paused (the 45s reminder); the ladder runs against 95s.
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventPaused, sec(20),
		workflows.EventResumed, sec(50),
		workflows.EventReminderSent, sec(75),
		workflows.EventOverdue, sec(95),
		workflows.EventReplied, sec(100),
		workflows.EventEvaluated, sec(101),
		workflows.EventClosed, sec(101),
	)
	// The calendar was asked with the finished pause.
	resumed := r.f.requests[2] // acceptance, handling, then the resume's recomputation
	if resumed.Clock != string(workflows.ClockHandling) || len(resumed.Pauses) != 1 ||
		!resumed.Pauses[0].To.Equal(t0.Add(sec(50))) || !resumed.Start.Equal(t0.Add(sec(5))) {
		t.Errorf("resume request %+v", resumed)
	}
}

func TestSuperviseSetsANewDue(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r) // due 65s
	past := t0.Add(sec(5))
	newDue := t0.Add(sec(40))
	inPast := r.act(sec(10), workflows.UpdateSupervise, workflows.ActionInput{Actor: supervisor, Opinion: "hurry", NewDueAt: &past})
	byClerk := r.act(sec(10), workflows.UpdateSupervise, workflows.ActionInput{Actor: clerk, Opinion: "hurry"})
	sup := r.act(sec(10), workflows.UpdateSupervise, workflows.ActionInput{Actor: supervisor, Opinion: "report by 40s", NewDueAt: &newDue})
	r.act(sec(45), workflows.UpdatePause, workflows.ActionInput{Actor: handler, Reason: "hearing"})
	resume := r.act(sec(55), workflows.UpdateResume, workflows.ActionInput{Actor: handler})
	r.act(sec(56), workflows.UpdateWithdraw, workflows.ActionInput{Actor: clerk, Reason: "petitioner withdrew by phone"})
	r.execute()

	r.refused(inPast, invalidInput, "must be in the future")
	r.refused(byClerk, invalidAction, "it needs a supervisor")
	if st := r.ok(sup); !st.Deadline.Due.Equal(newDue) {
		t.Errorf("supervise returned due %s", st.Deadline.Due)
	}
	// The override plus the 10s pause after it; now (55s) is past it, so still overdue.
	if st := r.ok(resume); !st.Deadline.Due.Equal(t0.Add(sec(50))) || !st.Overdue {
		t.Errorf("resume after override returned due %s overdue %v", st.Deadline.Due, st.Overdue)
	}
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventSupervised, sec(10),
		workflows.EventReminderSent, sec(20),
		workflows.EventOverdue, sec(40),
		workflows.EventPaused, sec(45),
		workflows.EventResumed, sec(55),
		workflows.EventWithdrawn, sec(56),
	)
	want := []string{"supervision:construction-head", "reminder:h1", "supervision:construction-head"}
	if got := r.noticesTo(); !slices.Equal(got, want) {
		t.Errorf("notices %v, want %v", got, want)
	}
}

func TestForwardRestartsTheAcceptanceClock(t *testing.T) {
	r := newRun(t)
	fwd := r.act(sec(20), workflows.UpdateForward, workflows.ActionInput{Actor: clerk, Unit: "health", Reason: "medical dispute"})
	same := r.act(sec(21), workflows.UpdateForward, workflows.ActionInput{Actor: clerk, Unit: "health", Reason: "again"})
	byLeader := r.act(sec(21), workflows.UpdateForward, workflows.ActionInput{Actor: leader, Unit: "city", Reason: "x"})
	wrongLeader := r.act(sec(55), workflows.UpdateAccept, workflows.ActionInput{Actor: leader, Unit: "health", Handler: "h2"})
	acc := r.act(sec(56), workflows.UpdateAccept, workflows.ActionInput{Actor: workflows.Actor{ID: "health-leader", Role: workflows.RoleLeader, Unit: "health"}, Unit: "health", Handler: "h2", Leader: "deputy-mayor"})
	r.act(sec(60), workflows.UpdateWithdraw, workflows.ActionInput{Actor: petitioner, Reason: "settled"})
	final := r.execute()

	st := r.ok(fwd)
	if st.Unit != "health" || st.SuggestedUnit != "health" || !st.Deadline.Due.Equal(t0.Add(sec(50))) || st.Stage != workflows.StageRegistered {
		t.Errorf("forward returned %+v", st)
	}
	r.refused(same, invalidInput, "different unit")
	r.refused(byLeader, invalidAction, "it needs a clerk")
	r.refused(wrongLeader, invalidAction, `of unit "construction"`)
	if st := r.ok(acc); st.Leader != "deputy-mayor" || !st.Deadline.Due.Equal(t0.Add(sec(116))) {
		t.Errorf("accept returned %+v", st)
	}
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventReminderSent, sec(10),
		workflows.EventForwarded, sec(20),
		workflows.EventReminderSent, sec(30), // the new clock's own ladder
		workflows.EventOverdue, sec(50),
		workflows.EventAccepted, sec(56),
		workflows.EventWithdrawn, sec(60),
	)
	if d := r.event(workflows.EventAccepted, 0).Event.Details; d["late"] != true {
		t.Errorf("a late acceptance is marked: %v", d)
	}
	want := []string{"reminder:construction-head", "reminder:health-head", "supervision:health-head"}
	if got := r.noticesTo(); !slices.Equal(got, want) {
		t.Errorf("notices %v, want %v", got, want)
	}
	if final.Stage != workflows.StageWithdrawn {
		t.Errorf("final %+v", final)
	}
}

func TestReassignRoutesTheLadder(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	byHandler := r.act(sec(10), workflows.UpdateReassign, workflows.ActionInput{Actor: handler, Handler: "h9"})
	nothing := r.act(sec(10), workflows.UpdateReassign, workflows.ActionInput{Actor: supervisor, Unit: "construction", Handler: "h1"})
	re := r.act(sec(10), workflows.UpdateReassign, workflows.ActionInput{Actor: supervisor, Unit: "health", Handler: "h2", Leader: "deputy-mayor", Reason: "medical"})
	oldUnit := r.act(sec(20), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "x"})
	reply := r.act(sec(110), workflows.UpdateReply, workflows.ActionInput{Actor: healthStaff, Opinion: "done"})
	r.act(sec(111), workflows.UpdateEvaluate, workflows.ActionInput{Actor: petitioner, Evaluation: workflows.EvaluationSatisfied})
	r.execute()

	r.refused(byHandler, invalidAction, "not allowed for a handler")
	r.refused(nothing, invalidInput, "changes nothing")
	if st := r.ok(re); st.Unit != "health" || st.Handler != "h2" || st.Leader != "deputy-mayor" || !st.Deadline.Due.Equal(t0.Add(sec(65))) {
		t.Errorf("reassign returned %+v", st)
	}
	r.refused(oldUnit, invalidAction, `case of unit "health"`)
	r.ok(reply)
	want := []string{"reminder:h2", "supervision:health-head", "escalation:deputy-mayor", "escalation:district-leader"}
	if got := r.noticesTo(); !slices.Equal(got, want) {
		t.Errorf("notices %v, want %v", got, want)
	}
}

func TestLinkRepeat(t *testing.T) {
	r := newRun(t)
	bySystem := r.act(sec(1), workflows.UpdateLinkRepeat, workflows.ActionInput{Actor: system, Channel: "12345"})
	byClerk := r.act(sec(2), workflows.UpdateLinkRepeat, workflows.ActionInput{Actor: clerk, Channel: "letter", ReceivedAt: t0.Add(-time.Hour)})
	byPetitioner := r.act(sec(3), workflows.UpdateLinkRepeat, workflows.ActionInput{Actor: petitioner, Channel: "letter"})
	noChannel := r.act(sec(3), workflows.UpdateLinkRepeat, workflows.ActionInput{Actor: clerk})
	r.act(sec(4), workflows.UpdateReject, workflows.ActionInput{Actor: clerk, Reason: "outside scope"})
	r.execute()

	if st := r.ok(bySystem); st.RepeatCount != 1 {
		t.Errorf("repeat count %d", st.RepeatCount)
	}
	if st := r.ok(byClerk); st.RepeatCount != 2 {
		t.Errorf("repeat count %d", st.RepeatCount)
	}
	r.refused(byPetitioner, invalidAction, "link repeat is not allowed for a petitioner")
	r.refused(noChannel, invalidInput, "needs a channel")
	if d := r.event(workflows.EventRepeatLinked, 1).Event.Details; d["channel"] != "letter" || d["received_at"] != t0.Add(-time.Hour).Format(time.RFC3339) {
		t.Errorf("repeat_linked details %v", d)
	}
}

func TestCalendarChangedRecomputesTheDue(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r) // due 65s
	r.at(sec(20), func() {
		r.f.mu.Lock()
		r.f.shift = sec(10)
		r.f.mu.Unlock()
		r.env.SignalWorkflow(workflows.SignalCalendarChanged, nil)
	})
	r.at(sec(25), func() { r.env.SignalWorkflow(workflows.SignalCalendarChanged, nil) }) // no change: no event
	r.act(sec(80), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "done"})
	r.act(sec(81), workflows.UpdateEvaluate, workflows.ActionInput{Actor: petitioner, Evaluation: workflows.EvaluationSatisfied})
	r.execute()
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventDeadlineChanged, sec(20),
		workflows.EventReminderSent, sec(55),
		workflows.EventOverdue, sec(75),
		workflows.EventReplied, sec(80),
		workflows.EventEvaluated, sec(81),
		workflows.EventClosed, sec(81),
	)
	if st := r.event(workflows.EventDeadlineChanged, 0).State; !st.Deadline.Due.Equal(t0.Add(sec(75))) {
		t.Errorf("due after calendar change %s", st.Deadline.Due)
	}
}

func TestReviewNeedsAHigherUnit(t *testing.T) {
	r := newRun(t)
	r.act(sec(1), workflows.UpdateAccept, workflows.ActionInput{Actor: clerk, Unit: "city", Handler: "c1"})
	r.act(sec(2), workflows.UpdateReply, workflows.ActionInput{Actor: workflows.Actor{ID: "c1", Role: workflows.RoleHandler, Unit: "city"}, Opinion: "no"})
	review := r.act(sec(3), workflows.UpdateRequestReview, workflows.ActionInput{Actor: petitioner})
	r.act(sec(4), workflows.UpdateEvaluate, workflows.ActionInput{Actor: petitioner, Evaluation: workflows.EvaluationBasicSatisfied})
	r.execute()
	r.refused(review, invalidAction, `unit "city" has no higher unit`)
}

func TestReReviewNeedsAHigherUnit(t *testing.T) {
	r := newRun(t)
	r.act(sec(1), workflows.UpdateAccept, workflows.ActionInput{Actor: clerk, Unit: "district", Handler: "d1"})
	r.act(sec(2), workflows.UpdateReply, workflows.ActionInput{Actor: workflows.Actor{ID: "d1", Role: workflows.RoleHandler, Unit: "district"}, Opinion: "no"})
	r.act(sec(3), workflows.UpdateRequestReview, workflows.ActionInput{Actor: petitioner})
	r.act(sec(4), workflows.UpdateReviewDecision, workflows.ActionInput{Actor: workflows.Actor{ID: "city-leader", Role: workflows.RoleLeader, Unit: "city"}, Outcome: workflows.OutcomeUphold, Opinion: "ok"})
	reReview := r.act(sec(5), workflows.UpdateRequestReReview, workflows.ActionInput{Actor: petitioner})
	r.act(sec(6), workflows.UpdateEvaluate, workflows.ActionInput{Actor: petitioner, Evaluation: workflows.EvaluationSatisfied})
	r.execute()
	r.refused(reReview, invalidAction, `review unit "city" has no higher unit`)
}

func TestUnknownUnitFailsTheAcceptOnly(t *testing.T) {
	r := newRun(t)
	bad := r.act(sec(1), workflows.UpdateAccept, workflows.ActionInput{Actor: clerk, Unit: "nowhere", Handler: "x"})
	good := accept(sec(2), r)
	r.act(sec(3), workflows.UpdateWithdraw, workflows.ActionInput{Actor: petitioner, Reason: "r"})
	r.execute()
	var ae *temporal.ApplicationError
	if !bad.completed || !errors.As(bad.err, &ae) || ae.Type() != invalidInput || !strings.Contains(ae.Error(), `unit "nowhere" is not in the register`) {
		t.Errorf("accept into an unknown unit: completed %v err %v", bad.completed, bad.err)
	}
	if st := r.ok(good); st.Seq != 2 {
		t.Errorf("the failed accept recorded something: seq %d", st.Seq)
	}
}

// TestValidators walks the stages and checks that wrong stage, role, unit and missing fields
// are refused with the right error type and a readable message.
func TestValidators(t *testing.T) {
	r := newRun(t)
	type c struct {
		o       *outcome
		errType string
		msg     string
	}
	var cases []c
	refuse := func(at time.Duration, update string, in workflows.ActionInput, errType, msg string) {
		cases = append(cases, c{r.act(at, update, in), errType, msg})
	}
	A := workflows.ActionInput{}
	with := func(actor workflows.Actor, f func(*workflows.ActionInput)) workflows.ActionInput {
		in := A
		in.Actor = actor
		if f != nil {
			f(&in)
		}
		return in
	}
	// registered
	refuse(sec(1), workflows.UpdateReply, with(handler, func(in *workflows.ActionInput) { in.Opinion = "x" }),
		invalidAction, "reply is not allowed while the case is registered; accept it first")
	refuse(sec(1), workflows.UpdateAccept, with(clerk, func(in *workflows.ActionInput) { in.Unit = "construction" }), invalidInput, "accept needs a handler")
	refuse(sec(1), workflows.UpdateAccept, with(petitioner, func(in *workflows.ActionInput) { in.Unit, in.Handler = "construction", "h1" }),
		invalidAction, "accept is not allowed for a petitioner; it needs a clerk, leader or supervisor")
	refuse(sec(1), workflows.UpdateAccept, with(system, func(in *workflows.ActionInput) { in.Unit, in.Handler = "construction", "h1" }),
		invalidAction, "system role cannot")
	refuse(sec(1), workflows.UpdateAccept, with(workflows.Actor{Role: workflows.RoleClerk}, nil), invalidInput, "actor.id")
	refuse(sec(1), workflows.UpdateReject, with(clerk, nil), invalidInput, "reject needs a reason")
	refuse(sec(1), workflows.UpdateReject, with(healthStaff, func(in *workflows.ActionInput) { in.Reason = "x" }), invalidAction, "not allowed for a handler")
	refuse(sec(1), workflows.UpdateForward, with(clerk, func(in *workflows.ActionInput) { in.Reason = "x" }), invalidInput, "forward needs a unit")
	refuse(sec(1), workflows.UpdateWithdraw, with(petitioner, nil), invalidInput, "withdraw needs a reason")
	refuse(sec(1), workflows.UpdateRequestReview, with(petitioner, nil), invalidAction, "while the case is registered")
	refuse(sec(1), workflows.UpdatePause, with(handler, func(in *workflows.ActionInput) { in.Reason = "x" }), invalidAction, "pause is not allowed while the case is registered")
	refuse(sec(1), workflows.UpdateSupervise, with(supervisor, func(in *workflows.ActionInput) { in.Opinion = "x" }), invalidAction, "while the case is registered")
	accept(sec(2), r)
	// handling
	refuse(sec(3), workflows.UpdateAccept, with(clerk, func(in *workflows.ActionInput) { in.Unit, in.Handler = "construction", "h1" }),
		invalidAction, "accept is not allowed while the case is being handled")
	refuse(sec(3), workflows.UpdateReply, with(healthStaff, func(in *workflows.ActionInput) { in.Opinion = "x" }),
		invalidAction, `handler h2 of unit "health" cannot take reply on a case of unit "construction"`)
	refuse(sec(3), workflows.UpdateReply, with(handler, nil), invalidInput, "reply needs an opinion")
	refuse(sec(3), workflows.UpdateRequestExtension, with(handler, func(in *workflows.ActionInput) { in.Reason = "x" }), invalidInput, "positive number of days")
	refuse(sec(3), workflows.UpdateRequestExtension, with(handler, func(in *workflows.ActionInput) { in.Days = 3 }), invalidInput, "needs a reason")
	refuse(sec(3), workflows.UpdateEvaluate, with(petitioner, func(in *workflows.ActionInput) { in.Evaluation = workflows.EvaluationSatisfied }),
		invalidAction, "evaluate is not allowed while the case is being handled; it awaits the handling unit's reply")
	refuse(sec(3), workflows.UpdateSupervise, with(handler, func(in *workflows.ActionInput) { in.Opinion = "x" }), invalidAction, "it needs a supervisor")
	refuse(sec(3), workflows.UpdateSupervise, with(supervisor, nil), invalidInput, "supervise needs an opinion")
	refuse(sec(3), workflows.UpdateReassign, with(supervisor, nil), invalidInput, "new unit or a new handler")
	refuse(sec(3), workflows.UpdateWithdraw, with(handler, func(in *workflows.ActionInput) { in.Reason = "x" }), invalidAction, "needs a petitioner or clerk")
	r.act(sec(4), workflows.UpdateReply, with(handler, func(in *workflows.ActionInput) { in.Opinion = "done" }))
	// replied
	refuse(sec(5), workflows.UpdateEvaluate, with(petitioner, func(in *workflows.ActionInput) { in.Evaluation = "great" }), invalidInput, "satisfied, basic_satisfied or dissatisfied")
	refuse(sec(5), workflows.UpdateRequestReview, with(clerk, nil), invalidAction, "it needs a petitioner")
	refuse(sec(5), workflows.UpdateReply, with(handler, func(in *workflows.ActionInput) { in.Opinion = "x" }), invalidAction, "while the case is replied")
	refuse(sec(5), workflows.UpdateWithdraw, with(petitioner, func(in *workflows.ActionInput) { in.Reason = "x" }), invalidAction, "while the case is replied")
	refuse(sec(5), workflows.UpdatePause, with(handler, func(in *workflows.ActionInput) { in.Reason = "x" }), invalidAction, "while the case is replied")
	r.act(sec(6), workflows.UpdateRequestReview, with(petitioner, nil))
	// review
	refuse(sec(7), workflows.UpdateReviewDecision, with(distReviewer, func(in *workflows.ActionInput) { in.Opinion = "x" }), invalidInput, "uphold or revise")
	refuse(sec(7), workflows.UpdateReviewDecision, with(distReviewer, func(in *workflows.ActionInput) { in.Outcome = "uphold" }), invalidInput, "needs an opinion")
	refuse(sec(7), workflows.UpdateReviewDecision, with(cityReviewer, func(in *workflows.ActionInput) { in.Outcome, in.Opinion = "uphold", "x" }), invalidAction, `case of unit "district"`)
	refuse(sec(7), workflows.UpdateReReviewDecision, with(cityReviewer, func(in *workflows.ActionInput) { in.Outcome, in.Opinion = "uphold", "x" }), invalidAction, "while the case is under review")
	r.act(sec(8), workflows.UpdateReviewDecision, with(distReviewer, func(in *workflows.ActionInput) { in.Outcome, in.Opinion = "uphold", "x" }))
	// reviewed
	refuse(sec(9), workflows.UpdateRequestReview, with(petitioner, nil), invalidAction, "while the case is reviewed; it awaits the petitioner's evaluation or re-review request")
	r.act(sec(10), workflows.UpdateEvaluate, with(petitioner, func(in *workflows.ActionInput) { in.Evaluation = workflows.EvaluationSatisfied }))
	r.execute()
	for _, c := range cases {
		r.refused(c.o, c.errType, c.msg)
	}
}

// TestFinalStageRefusesAdmittedUpdates: an update admitted just before the case closed is
// re-validated under the mutex and refused.
func TestFinalStageRefusesAdmittedUpdates(t *testing.T) {
	r := newRun(t)
	r.act(sec(1), workflows.UpdateReject, workflows.ActionInput{Actor: clerk, Reason: "no"})
	same := r.act(sec(1), workflows.UpdateAccept, workflows.ActionInput{Actor: clerk, Unit: "construction", Handler: "h1"})
	final := r.execute()
	if final.Stage != workflows.StageRejected {
		t.Fatalf("final %s", final.Stage)
	}
	t.Logf("accept after reject: rejected %v; completed %v with %v", same.rejected, same.completed, same.err)
	if same.rejected == nil && (same.err == nil || !strings.Contains(same.err.Error(), "the case is rejected")) {
		t.Errorf("accept after reject: rejected %v completed %v err %v", same.rejected, same.completed, same.err)
	}
}

func TestQueryState(t *testing.T) {
	r := newRun(t)
	accept(sec(1), r)
	var got workflows.CaseState
	r.at(sec(2), func() {
		v, err := r.env.QueryWorkflow(workflows.QueryState)
		if err != nil {
			t.Error(err)
			return
		}
		if err := v.Get(&got); err != nil {
			t.Error(err)
		}
	})
	r.act(sec(3), workflows.UpdateWithdraw, workflows.ActionInput{Actor: clerk, Reason: "x"})
	r.execute()
	if got.Stage != workflows.StageHandling || got.Seq != 2 || got.Handler != "h1" {
		t.Errorf("query returned %+v", got)
	}
}

// A letter registered long after it was received starts overdue: no reminder (the trail says
// why), the overdue notice at once, and the ladder against the past due instant.
func TestClockBornOverdue(t *testing.T) {
	r := newRun(t)
	r.input.ReceivedAt = t0.Add(-sec(40)) // acceptance due at -10s
	r.act(sec(35), workflows.UpdateReject, workflows.ActionInput{Actor: clerk, Reason: "late and out of scope"})
	r.execute()
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventReminderSkipped, sec(0),
		workflows.EventOverdue, sec(0),
		workflows.EventEscalated, sec(10),
		workflows.EventEscalated, sec(30),
		workflows.EventRejected, sec(35),
	)
}

// A register that refuses a transition for good does not hold the case: the case is marked
// stuck, actions and the ladder go on, and the retry (here asked for by signal) hands the
// register every transition, in order, once.
func TestRegisterRefusalMarksTheCaseStuckAndGoesOn(t *testing.T) {
	r := newRun(t)
	r.f.refuse = 2                                                           // the accepted event
	r.input.Policy.Handling = workflows.Period{Amount: 600, Unit: "seconds"} // keep the ladder out of the way
	acc := accept(sec(5), r)
	reply := r.act(sec(6), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "done"})
	var during []string
	r.at(sec(20), func() {
		r.f.mu.Lock()
		during = types(r.f.transitions)
		r.f.mu.Unlock()
		r.env.SignalWorkflow(workflows.SignalRetryProjection, nil)
	})
	r.act(sec(30), workflows.UpdateEvaluate, workflows.ActionInput{Actor: petitioner, Evaluation: workflows.EvaluationSatisfied})
	r.execute()
	r.ok(acc)
	if st := r.ok(reply); st.Seq != 3 {
		t.Errorf("reply seq %d", st.Seq)
	}
	if !slices.Equal(during, []string{workflows.EventRegistered}) {
		t.Errorf("while stuck the register had %v, want only the registered event", during)
	}
	got := types(r.f.transitions)
	want := []string{workflows.EventRegistered, workflows.EventAccepted, workflows.EventReplied, workflows.EventEvaluated, workflows.EventClosed}
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	// The reply did not wait for the register: it happened when it was sent.
	if at := r.event(workflows.EventReplied, 0).Event.At; !at.Equal(t0.Add(sec(6))) {
		t.Errorf("reply recorded at %s", at.Sub(t0))
	}
}

// An action delivered with the very first workflow task (the worker was down at registration)
// waits for setup: the registered event comes first and the action runs on the set-up case.
func TestActionBeforeSetupWaitsForRegistration(t *testing.T) {
	r := newRun(t)
	acc := accept(0, r)
	r.act(sec(10), workflows.UpdateWithdraw, workflows.ActionInput{Actor: petitioner, Reason: "resolved"})
	r.execute()
	st := r.ok(acc)
	if st.Stage != workflows.StageHandling || st.Deadline == nil || st.Deadline.Clock != workflows.ClockHandling {
		t.Fatalf("after an early accept: %+v", st)
	}
	if got := types(r.f.transitions); len(got) < 2 || got[0] != workflows.EventRegistered || got[1] != workflows.EventAccepted {
		t.Fatalf("events %v: registered must come first", got)
	}
}
