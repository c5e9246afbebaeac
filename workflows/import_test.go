package workflows_test

import (
	"slices"
	"testing"
	"time"

	"github.com/petitions/petitions/workflows"
)

// Imported cases (补录) under the demo policy: acceptance 30s, handling 60s, review request
// window 60s; reminder 20s before a due, leader 20s and superior unit 40s after it.

func importRun(t *testing.T, im workflows.ImportedCase, received time.Duration) *run {
	r := newRun(t)
	r.input.ReceivedAt = t0.Add(received)
	im.ExternalRef = "OLD-2026-0042"
	r.input.Import = &im
	return r
}

func at(d time.Duration) *time.Time { v := t0.Add(d); return &v }

// wantImported checks that the first n events are the imported history: marked imported, by
// the importing clerk.
func (r *run) wantImported(n int) {
	r.t.Helper()
	for i, tr := range r.f.transitions {
		imported, _ := tr.Event.Details[workflows.DetailImported].(bool)
		if imported != (i < n) {
			r.t.Errorf("%s #%d: imported = %v, want %v", tr.Event.Type, tr.Event.Seq, imported, i < n)
		}
		if i < n && tr.Event.Actor.ID != clerk.ID {
			r.t.Errorf("%s #%d by %s, want the importing clerk %s", tr.Event.Type, tr.Event.Seq, tr.Event.Actor.ID, clerk.ID)
		}
	}
}

// A case imported in handling whose handling deadline passed before the import: its history is
// recorded at the real instants, and it goes overdue at once and climbs the ladder — the
// reminder recorded as skipped, the overdue notice and the leader's step (both past) at once,
// the superior unit's when it comes — each step once.
func TestImportedOverdueHandlingCaseClimbsTheLadderOnce(t *testing.T) {
	// Accepted 85 s before the import: handling due at -25 s, the leader's step at -5 s, the
	// superior unit's at +15 s.
	r := importRun(t, workflows.ImportedCase{
		Stage: workflows.StageHandling, AcceptedAt: at(-sec(85)),
		Unit: "construction", Handler: "h1", Leader: "construction-leader",
	}, -sec(100))
	var awaited *outcome
	r.at(0, func() {
		awaited = &outcome{name: "await"}
		r.env.UpdateWorkflow(workflows.UpdateAwaitRegistration, "await", &testUpdate{o: awaited, t: t})
	})
	reply := r.act(sec(20), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "已处理", ServedAt: at(sec(20)), ServiceMethod: workflows.ServiceInPerson})
	final := r.execute()

	got := r.ok(awaited)
	if got.Stage != workflows.StageHandling || got.Deadline == nil || got.Deadline.Clock != workflows.ClockHandling ||
		!got.Deadline.Due.Equal(t0.Add(-sec(25))) || got.AcceptedAt == nil || !got.AcceptedAt.Equal(t0.Add(-sec(85))) ||
		got.Unit != "construction" || got.Handler != "h1" || got.Leader != "construction-leader" {
		t.Errorf("state after the import: %+v", got)
	}
	r.ok(reply)
	r.wantEvents(
		workflows.EventRegistered, -sec(100),
		workflows.EventAccepted, -sec(85),
		workflows.EventReminderSkipped, sec(0),
		workflows.EventOverdue, sec(0),
		workflows.EventEscalated, sec(0),
		workflows.EventEscalated, sec(15),
		workflows.EventReplied, sec(20),
		workflows.EventClosed, sec(80),
	)
	r.wantImported(2)
	levels := []int{0, 0, 0, 1, 2, 3}
	for i, want := range levels {
		if st := r.f.transitions[i].State; st.EscalationLevel != want || st.Overdue != (want > 0) {
			t.Errorf("after %s: level %d overdue %v, want %d", r.f.transitions[i].Event.Type, st.EscalationLevel, st.Overdue, want)
		}
	}
	// Notices go out in the background: steps fired in one task may arrive in any order.
	wantNotices := []string{"escalation:construction-leader", "escalation:district-leader", "supervision:construction-head"}
	if got := slices.Sorted(slices.Values(r.noticesTo())); !slices.Equal(got, wantNotices) {
		t.Errorf("notices %v, want %v (each step once)", got, wantNotices)
	}
	if !final.RepliedLate {
		t.Errorf("a reply after the imported handling deadline is late: %+v", final)
	}
	// The handling clock ran from the real acceptance, through ComputeDeadline.
	if req := r.f.requests[0]; req.Clock != string(workflows.ClockHandling) || !req.Start.Equal(t0.Add(-sec(85))) {
		t.Errorf("first deadline request %+v, want the handling clock from the acceptance date", req)
	}
}

// A case imported as replied with its service date (送达): its review request window runs from
// the service date, as a reply given with one, and expires on time; the replied event carries
// the service as the reply action's does; a reply after the handling deadline is marked late.
func TestImportedRepliedCaseWindowRunsFromTheService(t *testing.T) {
	r := importRun(t, workflows.ImportedCase{
		Stage: workflows.StageReplied, AcceptedAt: at(-sec(110)), RepliedAt: at(-sec(30)),
		ServedAt: at(-sec(20)), ServiceMethod: workflows.ServicePost,
		Unit: "construction", Handler: "h1",
	}, -sec(120))
	final := r.execute()
	r.wantEvents(
		workflows.EventRegistered, -sec(120),
		workflows.EventAccepted, -sec(110),
		workflows.EventReplied, -sec(30),
		workflows.EventClosed, sec(40),
	)
	r.wantImported(3)
	replied := r.event(workflows.EventReplied, 0)
	st := replied.State
	if st.Stage != workflows.StageReplied || st.Deadline == nil || st.Deadline.Clock != workflows.ClockReviewRequest ||
		st.Deadline.AwaitingService || !st.Deadline.Start.Equal(t0.Add(-sec(20))) || !st.Deadline.Due.Equal(t0.Add(sec(40))) ||
		st.RepliedAt == nil || !st.RepliedAt.Equal(t0.Add(-sec(30))) || !st.RepliedLate ||
		st.ServedAt == nil || !st.ServedAt.Equal(t0.Add(-sec(20))) || st.ServiceMethod != workflows.ServicePost {
		t.Errorf("state after the imported reply: %+v (deadline %+v)", st, st.Deadline)
	}
	d := replied.Event.Details
	if late, _ := d["late"].(bool); !late {
		t.Errorf("replied details %v: the reply came 50 s after the handling due (-80 s)", d)
	}
	if d["service_method"] != workflows.ServicePost || d["served_at"] == nil || d["due"] == nil || d["awaiting_service"] != nil {
		t.Errorf("replied details %v: the service as the reply action records it", d)
	}
	if final.Stage != workflows.StageClosed {
		t.Errorf("final stage %s, want closed when the window expired", final.Stage)
	}
}

// A case imported as replied without a service date waits for it like a reply recorded
// without one: no window runs; the service reminder counts from the real reply (30 s after
// -50 s: due before the import, so it goes out at once, not 30 s after the import); the
// window then runs from the recorded service date.
func TestImportedRepliedCaseWithoutServiceWaitsForIt(t *testing.T) {
	r := importRun(t, workflows.ImportedCase{
		Stage: workflows.StageReplied, AcceptedAt: at(-sec(110)), RepliedAt: at(-sec(50)),
		Unit: "construction", Handler: "h1",
	}, -sec(120))
	rec := r.act(sec(10), workflows.UpdateRecordService, workflows.ActionInput{Actor: handler,
		ServedAt: at(sec(5)), ServiceMethod: workflows.ServiceInPerson})
	final := r.execute()
	r.wantEvents(
		workflows.EventRegistered, -sec(120),
		workflows.EventAccepted, -sec(110),
		workflows.EventReplied, -sec(50),
		workflows.EventServiceReminderSent, sec(0),
		workflows.EventServiceRecorded, sec(10),
		workflows.EventClosed, sec(65),
	)
	r.wantImported(3)
	replied := r.event(workflows.EventReplied, 0)
	if st := replied.State; st.Deadline == nil || !st.Deadline.AwaitingService || st.Deadline.Clock != workflows.ClockReviewRequest ||
		!st.Deadline.Due.IsZero() || st.ServedAt != nil {
		t.Errorf("state after the imported reply: %+v (deadline %+v)", st, st.Deadline)
	}
	if d := replied.Event.Details; d["awaiting_service"] != true || d["due"] != nil {
		t.Errorf("replied details %v", d)
	}
	if got := r.noticesTo(); len(got) != 1 || got[0] != "service_reminder:h1" {
		t.Errorf("notices %v", got)
	}
	if d := r.event(workflows.EventServiceRecorded, 0).Event.Details; d["answered_at"] == nil {
		t.Errorf("service_recorded details %v", d)
	}
	if st := r.ok(rec); st.Deadline == nil || !st.Deadline.Start.Equal(t0.Add(sec(5))) || !st.Deadline.Due.Equal(t0.Add(sec(65))) {
		t.Errorf("record_service returned %+v", st.Deadline)
	}
	if final.Stage != workflows.StageClosed {
		t.Errorf("final stage %s", final.Stage)
	}
}

// A case imported while waiting for acceptance: the acceptance clock runs from the real
// receipt (the reminder, due now, goes out), and the case goes on like any other.
func TestImportedRegisteredCaseKeepsItsAcceptanceClock(t *testing.T) {
	r := importRun(t, workflows.ImportedCase{Stage: workflows.StageRegistered}, -sec(10))
	acc := r.act(sec(5), workflows.UpdateAccept, workflows.ActionInput{Actor: clerk, Unit: "construction", Handler: "h1"})
	r.act(sec(6), workflows.UpdateWithdraw, workflows.ActionInput{Actor: clerk, Reason: "petitioner withdrew"})
	r.execute()
	r.ok(acc)
	r.wantEvents(
		workflows.EventRegistered, -sec(10),
		workflows.EventReminderSent, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventWithdrawn, sec(6),
	)
	r.wantImported(1)
	reg := r.event(workflows.EventRegistered, 0)
	if due, _ := reg.Event.Details["due"].(string); due == "" || reg.Event.Details["external_ref"] != "OLD-2026-0042" {
		t.Errorf("registered details %v", reg.Event.Details)
	}
	if d := reg.State.Deadline; d == nil || d.Clock != workflows.ClockAcceptance || !d.Due.Equal(t0.Add(sec(20))) {
		t.Errorf("acceptance clock %+v, want due 30 s after the receipt", d)
	}
}

// An import the workflow cannot start from fails the start, never a half-made case.
func TestImportedCaseWithoutItsDatesIsRefused(t *testing.T) {
	for name, im := range map[string]workflows.ImportedCase{
		"a handling case without its acceptance date": {Stage: workflows.StageHandling, Unit: "construction", Handler: "h1"},
		"a replied case served the day before its reply": {Stage: workflows.StageReplied, AcceptedAt: at(-sec(110)),
			RepliedAt: at(-sec(30)), ServedAt: at(-25 * time.Hour), ServiceMethod: workflows.ServicePost, Unit: "construction", Handler: "h1"},
		"a service method without the service date": {Stage: workflows.StageReplied, AcceptedAt: at(-sec(110)),
			RepliedAt: at(-sec(30)), ServiceMethod: workflows.ServicePost, Unit: "construction", Handler: "h1"},
	} {
		r := importRun(t, im, -sec(120))
		r.env.ExecuteWorkflow(workflows.WorkflowName, r.input)
		if err := r.env.GetWorkflowError(); err == nil {
			t.Errorf("%s started", name)
		}
		if len(r.f.transitions) != 0 {
			t.Errorf("%s: recorded %v", name, types(r.f.transitions))
		}
	}
}
