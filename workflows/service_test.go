package workflows_test

import (
	"testing"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/petitions/petitions/workflows"
)

// Service dates (送达) under the demo policy: review request window 60s, service reminder 30s
// after an answer whose service date is not recorded.

func servedAt(d time.Duration) *time.Time { v := t0.Add(d); return &v }

// A reply without a service date opens no window; record_service starts it at the service
// instant (here later than the reply), and the window runs its 60s from there.
func TestServiceDateStartsTheWindow(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	reply := r.act(sec(10), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "wages paid"})
	rec := r.act(sec(25), workflows.UpdateRecordService, workflows.ActionInput{Actor: handler,
		ServedAt: servedAt(sec(20)), ServiceMethod: workflows.ServicePost})
	final := r.execute()

	st := r.ok(reply)
	if d := st.Deadline; st.Stage != workflows.StageReplied || d == nil || !d.AwaitingService ||
		d.Clock != workflows.ClockReviewRequest || !d.Due.IsZero() || st.ServedAt != nil {
		t.Errorf("reply returned %+v (deadline %+v)", st, st.Deadline)
	}
	st = r.ok(rec)
	if d := st.Deadline; d == nil || d.AwaitingService || !d.Start.Equal(t0.Add(sec(20))) || !d.Due.Equal(t0.Add(sec(80))) ||
		st.ServedAt == nil || !st.ServedAt.Equal(t0.Add(sec(20))) || st.ServiceMethod != workflows.ServicePost {
		t.Errorf("record_service returned %+v (deadline %+v)", st, st.Deadline)
	}
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventReplied, sec(10),
		workflows.EventServiceRecorded, sec(25),
		workflows.EventClosed, sec(80),
	)
	if d := r.event(workflows.EventReplied, 0).Event.Details; d["awaiting_service"] != true || d["due"] != nil {
		t.Errorf("replied details %v", d)
	}
	if d := r.event(workflows.EventServiceRecorded, 0).Event.Details; d["service_method"] != workflows.ServicePost || d["served_at"] == nil || d["due"] == nil {
		t.Errorf("service_recorded details %v", d)
	}
	if final.Stage != workflows.StageClosed {
		t.Errorf("final %+v", final)
	}
}

// A reply with its service date starts the window at once; a review decision likewise.
func TestServiceDateGivenWithTheAnswer(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	reply := r.act(sec(10), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "no basis",
		ServedAt: servedAt(sec(10)), ServiceMethod: workflows.ServiceSMS})
	r.act(sec(15), workflows.UpdateRequestReview, workflows.ActionInput{Actor: petitioner})
	dec := r.act(sec(20), workflows.UpdateReviewDecision, workflows.ActionInput{Actor: distReviewer, Outcome: workflows.OutcomeUphold,
		Opinion: "upheld", ServedAt: servedAt(sec(20)), ServiceMethod: workflows.ServiceOnline})
	r.execute()
	if st := r.ok(reply); st.Deadline.AwaitingService || !st.Deadline.Due.Equal(t0.Add(sec(70))) || st.ServiceMethod != workflows.ServiceSMS {
		t.Errorf("reply returned %+v", st.Deadline)
	}
	if st := r.ok(dec); st.Deadline.AwaitingService || st.Deadline.Clock != workflows.ClockReReviewWindow ||
		!st.Deadline.Due.Equal(t0.Add(sec(80))) || st.ServiceMethod != workflows.ServiceOnline {
		t.Errorf("review decision returned %+v", st.Deadline)
	}
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventReplied, sec(10),
		workflows.EventReviewRequested, sec(15),
		workflows.EventReviewDecided, sec(20),
		workflows.EventClosed, sec(80),
	)
}

// Until the service date is recorded no window runs; after service_reminder_after (30s) staff
// are reminded, once; the window then runs from the service date.
func TestNoWindowBeforeServiceAndTheReminder(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	r.act(sec(10), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "wages paid"})
	var mid workflows.CaseState
	r.at(sec(300), func() {
		v, err := r.env.QueryWorkflow(workflows.QueryState)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Get(&mid); err != nil {
			t.Fatal(err)
		}
	})
	r.act(sec(400), workflows.UpdateRecordService, workflows.ActionInput{Actor: leader,
		ServedAt: servedAt(sec(390)), ServiceMethod: workflows.ServiceInPerson})
	r.execute()
	if mid.Stage != workflows.StageReplied || mid.Deadline == nil || !mid.Deadline.AwaitingService {
		t.Errorf("at 300s, long after a 60s window would have run out: %+v", mid)
	}
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventReplied, sec(10),
		workflows.EventServiceReminderSent, sec(40),
		workflows.EventServiceRecorded, sec(400),
		workflows.EventClosed, sec(450),
	)
	if got := r.noticesTo(); len(got) != 1 || got[0] != "service_reminder:h1" {
		t.Errorf("notices %v", got)
	}
}

// In the reviewed stage the reviewing unit's staff record the service of its decision.
func TestRecordServiceOfTheReviewDecision(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	r.act(sec(10), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "no basis"})
	r.act(sec(15), workflows.UpdateRequestReview, workflows.ActionInput{Actor: petitioner})
	r.act(sec(20), workflows.UpdateReviewDecision, workflows.ActionInput{Actor: distReviewer, Outcome: workflows.OutcomeUphold, Opinion: "upheld"})
	h := r.act(sec(30), workflows.UpdateRecordService, workflows.ActionInput{Actor: handler, ServedAt: servedAt(sec(25)), ServiceMethod: workflows.ServicePost})
	r.act(sec(31), workflows.UpdateRecordService, workflows.ActionInput{Actor: distReviewer, ServedAt: servedAt(sec(25)), ServiceMethod: workflows.ServicePost})
	r.execute()
	r.refused(h, invalidAction, "needs a reviewer or leader")
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventReplied, sec(10),
		workflows.EventReviewRequested, sec(15),
		workflows.EventReviewDecided, sec(20),
		workflows.EventServiceRecorded, sec(31),
		workflows.EventClosed, sec(85),
	)
}

// record_service is refused in the wrong stage, to the wrong role or unit, with a service date
// in the future or before the answer, without a method, and once recorded.
func TestRecordServiceRefused(t *testing.T) {
	r := newRun(t)
	ok := workflows.ActionInput{ServedAt: servedAt(sec(12)), ServiceMethod: workflows.ServiceInPerson}
	as := func(a workflows.Actor, mod func(*workflows.ActionInput)) workflows.ActionInput {
		in := ok
		in.Actor = a
		if mod != nil {
			mod(&in)
		}
		return in
	}
	accept(sec(5), r)
	early := r.act(sec(6), workflows.UpdateRecordService, as(handler, nil))
	r.act(sec(10), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "wages paid"})
	cases := []struct {
		o       *outcome
		errType string
		msg     string
	}{
		{r.act(sec(13), workflows.UpdateRecordService, as(petitioner, nil)), invalidAction, "needs a handler or leader"},
		{r.act(sec(13), workflows.UpdateRecordService, as(clerk, nil)), invalidAction, "needs a handler or leader"},
		{r.act(sec(13), workflows.UpdateRecordService, as(distReviewer, nil)), invalidAction, "needs a handler or leader"},
		{r.act(sec(13), workflows.UpdateRecordService, as(healthStaff, nil)), invalidAction, `case of unit "construction"`},
		{r.act(sec(13), workflows.UpdateRecordService, as(handler, func(in *workflows.ActionInput) { in.ServedAt = servedAt(sec(60)) })), invalidInput, "in the future"},
		{r.act(sec(13), workflows.UpdateRecordService, as(handler, func(in *workflows.ActionInput) { in.ServedAt = servedAt(-24 * time.Hour) })), invalidInput, "before the answer"},
		{r.act(sec(13), workflows.UpdateRecordService, as(handler, func(in *workflows.ActionInput) { in.ServiceMethod = "" })), invalidInput, "needs service_method"},
		{r.act(sec(13), workflows.UpdateRecordService, as(handler, func(in *workflows.ActionInput) { in.ServiceMethod = "pigeon" })), invalidInput, "must be one of"},
		{r.act(sec(13), workflows.UpdateRecordService, as(handler, func(in *workflows.ActionInput) { in.ServedAt = nil })), invalidInput, "needs served_at"},
	}
	r.act(sec(14), workflows.UpdateRecordService, as(handler, nil))
	again := r.act(sec(15), workflows.UpdateRecordService, as(leader, nil))
	badReply := r.act(sec(16), workflows.UpdateEvaluate, workflows.ActionInput{Actor: petitioner, Evaluation: workflows.EvaluationSatisfied})
	r.execute()
	r.refused(early, invalidAction, "while the case is being handled")
	for _, c := range cases {
		r.refused(c.o, c.errType, c.msg)
	}
	r.refused(again, invalidAction, "was served on")
	r.ok(badReply)
}

// A reply's service fields are checked with the reply.
func TestReplyServiceFieldsChecked(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	noDate := r.act(sec(10), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "x", ServiceMethod: workflows.ServicePost})
	future := r.act(sec(10), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "x", ServedAt: servedAt(sec(20)), ServiceMethod: workflows.ServicePost})
	r.act(sec(11), workflows.UpdateWithdraw, workflows.ActionInput{Actor: petitioner, Reason: "settled"})
	r.execute()
	r.refused(noDate, invalidInput, "service_method needs served_at")
	r.refused(future, invalidInput, "in the future")
}

// Histories from before version service-date: the reply starts the window at once, as then.
func TestServiceDateOldBehaviourBeforeTheVersion(t *testing.T) {
	r := newRun(t)
	r.env.OnGetVersion("service-date", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	accept(sec(5), r)
	reply := r.act(sec(10), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "wages paid"})
	r.execute()
	if st := r.ok(reply); st.Deadline.AwaitingService || !st.Deadline.Due.Equal(t0.Add(sec(70))) {
		t.Errorf("reply returned %+v", st.Deadline)
	}
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventReplied, sec(10),
		workflows.EventClosed, sec(70),
	)
}
