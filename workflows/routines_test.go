package workflows_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	sdkpb "go.temporal.io/api/sdk/v1"

	"github.com/petitions/petitions/internal/warning"
	"github.com/petitions/petitions/workflows"
)

// The bureau's routines on a case (routines.go): assignment with a result report 交办,
// co-handling units, call-backs 回访, joint investigation 联查 and the leader in charge 包案.

// officeLeader leads the petition office that registered the cases (clerk's unit).
var officeLeader = workflows.Actor{ID: "registry-leader", Role: workflows.RoleLeader, Unit: "registry"}

// The assignment's review loop: the unit reports, the office sends the report back with
// reasons, the unit reports again, the office accepts it; only then may the reply go out.
func TestAssignmentReviewLoop(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	assign := r.act(sec(10), workflows.UpdateAssign, workflows.ActionInput{Actor: supervisor, Opinion: "verify the wage records", ReportDue: at(sec(50))})
	early := r.act(sec(15), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "paid"})
	byClerk := r.act(sec(16), workflows.UpdateReviewResult, workflows.ActionInput{Actor: clerk, Approved: yes()})
	first := r.act(sec(20), workflows.UpdateReportResult, workflows.ActionInput{Actor: handler, Opinion: "the employer will pay"})
	noReason := r.act(sec(24), workflows.UpdateReviewResult, workflows.ActionInput{Actor: supervisor, Approved: no()})
	back := r.act(sec(25), workflows.UpdateReviewResult, workflows.ActionInput{Actor: supervisor, Approved: no(), Reason: "no evidence of payment"})
	second := r.act(sec(30), workflows.UpdateReportResult, workflows.ActionInput{Actor: handler, Opinion: "paid on 3 March, receipts attached"})
	waiting := r.act(sec(32), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "paid"})
	accepted := r.act(sec(35), workflows.UpdateReviewResult, workflows.ActionInput{Actor: supervisor, Approved: yes()})
	reply := r.act(sec(40), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "wages paid",
		ServedAt: servedAt(sec(40)), ServiceMethod: workflows.ServiceInPerson})
	final := r.execute()

	if st := r.ok(assign); st.Assignment == nil || st.Assignment.Status != workflows.AssignmentAwaiting ||
		!st.Assignment.ReportDue.Equal(t0.Add(sec(50))) || st.Assignment.Instructions != "verify the wage records" {
		t.Errorf("assign returned %+v", st.Assignment)
	}
	r.refused(early, workflows.ErrorInvalidAction, "must accept the unit's result report first")
	r.refused(byClerk, workflows.ErrorInvalidAction, "needs a supervisor")
	r.ok(first)
	r.refused(noReason, workflows.ErrorInvalidInput, "reasons for sending it back")
	if st := r.ok(back); st.Assignment.Status != workflows.AssignmentAwaiting || *st.Assignment.Reports[0].Accepted ||
		st.Assignment.Reports[0].Reason != "no evidence of payment" {
		t.Errorf("send-back returned %+v", st.Assignment)
	}
	r.ok(second)
	r.refused(waiting, workflows.ErrorInvalidAction, "must accept the unit's result report first")
	if st := r.ok(accepted); st.Assignment.Status != workflows.AssignmentAccepted || len(st.Assignment.Reports) != 2 {
		t.Errorf("acceptance returned %+v", st.Assignment)
	}
	r.ok(reply)
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventAssigned, sec(10),
		workflows.EventResultReported, sec(20),
		workflows.EventResultReviewed, sec(25),
		workflows.EventResultReported, sec(30),
		workflows.EventResultReviewed, sec(35),
		workflows.EventReplied, sec(40),
		workflows.EventClosed, sec(100),
	)
	if final.Assignment.Overdue || final.Joint != nil {
		t.Errorf("report in time: overdue %v, joint %+v", final.Assignment.Overdue, final.Joint)
	}
	want := []string{"assignment:construction-head", "assignment:sup1", "assignment:h1", "assignment:sup1", "assignment:h1"}
	if got := r.noticesTo(); !slices.Equal(got, want) {
		t.Errorf("notices %v, want %v", got, want)
	}
}

// A result report not in by its limit makes the assignment overdue, proposes the case for
// joint investigation (criterion 5), and the office's leader approves it with a team, whose
// unit records the findings.
func TestOverdueResultReportProposesJointInvestigation(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	r.act(sec(10), workflows.UpdateAssign, workflows.ActionInput{Actor: supervisor, Opinion: "report by 30s", ReportDue: at(sec(30))})
	unitLeader := r.act(sec(32), workflows.UpdateDecideJoint, workflows.ActionInput{Actor: leader, Approved: yes(), Units: []string{"construction"}})
	noTeam := r.act(sec(33), workflows.UpdateDecideJoint, workflows.ActionInput{Actor: officeLeader, Approved: yes()})
	approve := r.act(sec(34), workflows.UpdateDecideJoint, workflows.ActionInput{Actor: officeLeader, Approved: yes(), Units: []string{"construction", "health", "construction"}})
	outsider := r.act(sec(36), workflows.UpdateRecordJointFindings, workflows.ActionInput{Actor: workflows.Actor{ID: "d1", Role: workflows.RoleHandler, Unit: "district"}, Opinion: "x"})
	findings := r.act(sec(37), workflows.UpdateRecordJointFindings, workflows.ActionInput{Actor: healthStaff, Opinion: "wages withheld; refer to labour inspection"})
	r.act(sec(40), workflows.UpdateWithdraw, workflows.ActionInput{Actor: clerk, Reason: "settled"})
	r.execute()

	over := r.event(workflows.EventAssignmentOverdue, 0)
	if over.Event.At != t0.Add(sec(30)) || !over.State.Assignment.Overdue {
		t.Errorf("overdue at %s, state %+v", over.Event.At.Sub(t0), over.State.Assignment)
	}
	if got := over.Event.Details[workflows.DetailJointProposed]; !slices.Equal(got.([]any), []any{workflows.JointAssignmentOverdue}) {
		t.Errorf("overdue proposed %v", got)
	}
	if j := over.State.Joint; j == nil || j.Status != workflows.JointProposed || len(j.Flags) != 1 || !j.Flags[0].Auto {
		t.Errorf("joint after overdue %+v", j)
	}
	r.refused(unitLeader, workflows.ErrorInvalidAction, `cannot take decide joint investigation on a case of unit "registry"`)
	r.refused(noTeam, workflows.ErrorInvalidInput, "team's units")
	if st := r.ok(approve); st.Joint.Status != workflows.JointApproved || !slices.Equal(st.Joint.Team, []string{"construction", "health"}) ||
		!slices.Equal(st.InvolvedUnits(), []string{"construction", "health"}) {
		t.Errorf("approval returned %+v", st.Joint)
	}
	r.refused(outsider, workflows.ErrorInvalidAction, "not on the team")
	if st := r.ok(findings); st.Joint.Status != workflows.JointConcluded || st.Joint.FindingsBy.ID != healthStaff.ID {
		t.Errorf("findings returned %+v", st.Joint)
	}
	keys := map[string]bool{}
	for _, n := range r.f.notices {
		if keys[n.Key] {
			t.Errorf("two notices under key %s", n.Key)
		}
		keys[n.Key] = true
	}
	if got := r.noticesTo(); !slices.Contains(got, "assignment:construction-head") || !slices.Contains(got, "assignment:sup1") ||
		!slices.Contains(got, "joint_investigation:health-head") || !slices.Contains(got, "joint_investigation:construction-head") {
		t.Errorf("notices %v", got)
	}
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventAssigned, sec(10),
		workflows.EventAssignmentOverdue, sec(30),
		workflows.EventJointDecided, sec(34),
		workflows.EventJointFindings, sec(37),
		workflows.EventWithdrawn, sec(40),
	)
}

// A send-back with a new limit re-arms the wait: the old limit passes without an overdue.
func TestSendBackWithANewLimit(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	r.act(sec(10), workflows.UpdateAssign, workflows.ActionInput{Actor: supervisor, Opinion: "report", ReportDue: at(sec(30))})
	r.act(sec(15), workflows.UpdateReportResult, workflows.ActionInput{Actor: handler, Opinion: "done"})
	r.act(sec(20), workflows.UpdateReviewResult, workflows.ActionInput{Actor: supervisor, Approved: no(), Reason: "incomplete", ReportDue: at(sec(40))})
	r.act(sec(44), workflows.UpdateWithdraw, workflows.ActionInput{Actor: clerk, Reason: "settled"})
	r.execute()
	over := r.event(workflows.EventAssignmentOverdue, 0)
	if over.Event.At != t0.Add(sec(40)) {
		t.Errorf("overdue at %s, want 40s (the new limit)", over.Event.At.Sub(t0))
	}
}

// Co-handling units: the lead's reply waits for each co-handling unit's reply to it; only the
// co-handling unit's staff reply for it, once.
func TestCoHandlingUnitsReplyBeforeTheLead(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	add := r.act(sec(10), workflows.UpdateAddCoUnit, workflows.ActionInput{Actor: supervisor, Unit: "health", Opinion: "the medical bills"})
	again := r.act(sec(11), workflows.UpdateAddCoUnit, workflows.ActionInput{Actor: leader, Unit: "health", Opinion: "x"})
	lead := r.act(sec(12), workflows.UpdateAddCoUnit, workflows.ActionInput{Actor: leader, Unit: "construction", Opinion: "x"})
	early := r.act(sec(15), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "paid"})
	notCo := r.act(sec(18), workflows.UpdateCoReply, workflows.ActionInput{Actor: handler, Opinion: "x"})
	co := r.act(sec(20), workflows.UpdateCoReply, workflows.ActionInput{Actor: healthStaff, Opinion: "bills reimbursed"})
	twice := r.act(sec(22), workflows.UpdateCoReply, workflows.ActionInput{Actor: healthStaff, Opinion: "again"})
	reply := r.act(sec(25), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "wages paid, bills reimbursed",
		ServedAt: servedAt(sec(25)), ServiceMethod: workflows.ServicePost})
	final := r.execute()

	if st := r.ok(add); len(st.CoUnits) != 1 || st.CoUnits[0].Part != "the medical bills" || !slices.Equal(st.InvolvedUnits(), []string{"health"}) {
		t.Errorf("add returned %+v", st.CoUnits)
	}
	r.refused(again, workflows.ErrorInvalidInput, "co-handles the case already")
	r.refused(lead, workflows.ErrorInvalidInput, "leads the case already")
	r.refused(early, workflows.ErrorInvalidAction, "co-handling units health have not replied")
	r.refused(notCo, workflows.ErrorInvalidAction, "does not co-handle the case")
	if st := r.ok(co); st.CoUnits[0].RepliedAt == nil || st.CoUnits[0].Reply != "bills reimbursed" {
		t.Errorf("co reply returned %+v", st.CoUnits)
	}
	r.refused(twice, workflows.ErrorInvalidAction, "replied to the lead unit already")
	r.ok(reply)
	if final.Stage != workflows.StageClosed {
		t.Errorf("final stage %s", final.Stage)
	}
	if got := r.noticesTo(); !slices.Equal(got, []string{"assignment:health-head", "assignment:h1"}) {
		t.Errorf("notices %v", got)
	}
}

// A call-back that reaches a petitioner who has not evaluated counts as the evaluation, with
// its effect: satisfied closes the case. One that does not reach them changes nothing.
func TestCallBackCountsAsTheEvaluation(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	r.act(sec(10), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "paid", ServedAt: servedAt(sec(10)), ServiceMethod: workflows.ServiceSMS})
	bad := r.act(sec(15), workflows.UpdateRecordCallBack, workflows.ActionInput{Actor: clerk, Reached: no(), Evaluation: workflows.EvaluationSatisfied})
	missed := r.act(sec(20), workflows.UpdateRecordCallBack, workflows.ActionInput{Actor: clerk, Reached: no(), Reason: "no answer"})
	otherUnit := r.act(sec(25), workflows.UpdateRecordCallBack, workflows.ActionInput{Actor: healthStaff, Reached: yes()})
	reached := r.act(sec(30), workflows.UpdateRecordCallBack, workflows.ActionInput{Actor: clerk, Reached: yes(), Evaluation: workflows.EvaluationSatisfied, Reason: "thanks the unit"})
	final := r.execute()

	r.refused(bad, workflows.ErrorInvalidInput, "needs the petitioner reached")
	if st := r.ok(missed); st.Stage != workflows.StageReplied || len(st.CallBacks) != 1 || st.Evaluation != "" {
		t.Errorf("missed call-back returned %+v", st)
	}
	r.refused(otherUnit, workflows.ErrorInvalidAction, "cannot take record call back")
	r.ok(reached)
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(5),
		workflows.EventReplied, sec(10),
		workflows.EventCallBackRecorded, sec(20),
		workflows.EventCallBackRecorded, sec(30),
		workflows.EventEvaluated, sec(30),
		workflows.EventClosed, sec(30),
	)
	if final.Stage != workflows.StageClosed || final.Evaluation != workflows.EvaluationSatisfied ||
		final.EvaluationSource != workflows.EvaluationByCallBack || len(final.CallBacks) != 2 {
		t.Errorf("final %+v", final)
	}
	if ev := r.event(workflows.EventEvaluated, 0); ev.Event.Details["source"] != workflows.EvaluationByCallBack || ev.Event.Actor.ID != clerk.ID {
		t.Errorf("evaluated %+v by %v", ev.Event.Details, ev.Event.Actor)
	}
}

// The petitioner's own evaluation stands: a later call-back records their opinion but does
// not count, and the review window runs on.
func TestCallBackAfterThePetitionersEvaluation(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	r.act(sec(10), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "paid", ServedAt: servedAt(sec(10)), ServiceMethod: workflows.ServiceSMS})
	r.act(sec(15), workflows.UpdateEvaluate, workflows.ActionInput{Actor: petitioner, Evaluation: workflows.EvaluationDissatisfied})
	cb := r.act(sec(20), workflows.UpdateRecordCallBack, workflows.ActionInput{Actor: handler, Reached: yes(), Evaluation: workflows.EvaluationSatisfied})
	final := r.execute()
	r.ok(cb)
	if ev := r.event(workflows.EventCallBackRecorded, 0); ev.Event.Details["counts_as_evaluation"] != false {
		t.Errorf("call-back details %v", ev.Event.Details)
	}
	if final.Evaluation != workflows.EvaluationDissatisfied || final.EvaluationSource != workflows.EvaluationByPetitioner ||
		!final.ClosedAt.Equal(t0.Add(sec(70))) {
		t.Errorf("final %+v", final)
	}
}

// A skip-level petition is proposed for joint investigation (criterion 2) with its warning; a
// repeat petition after the answer adds criterion 4; a supervisor sets a criterion the system
// cannot see, with a reason, but not one the system proposes.
func TestSkipLevelRepeatPetitionProposedForJointInvestigation(t *testing.T) {
	w := warnRegister{rules: withoutDates(), lodged: warning.LevelCity, levels: map[string]string{"construction": warning.LevelDistrict}}
	r := newRun(t)
	r.f.warn = w.evaluate
	auto := r.act(sec(2), workflows.UpdateFlagJoint, workflows.ActionInput{Actor: supervisor, Criterion: workflows.JointSkipGroupLong, Reason: "x"})
	noReason := r.act(sec(3), workflows.UpdateFlagJoint, workflows.ActionInput{Actor: supervisor, Criterion: workflows.JointUrgentRisk})
	flag := r.act(sec(4), workflows.UpdateFlagJoint, workflows.ActionInput{Actor: supervisor, Criterion: workflows.JointUrgentRisk, Reason: "forty workers plan to go to the city"})
	accept(sec(5), r)
	r.act(sec(10), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "paid", ServedAt: servedAt(sec(10)), ServiceMethod: workflows.ServiceSMS})
	r.act(sec(20), workflows.UpdateLinkRepeat, workflows.ActionInput{Actor: clerk, Channel: "visit", ReceivedAt: t0.Add(sec(20))})
	r.act(sec(30), workflows.UpdateWithdraw, workflows.ActionInput{Actor: clerk, Reason: "settled"})
	// The withdrawal closes it before the window: the repeat petitioner went to the review instead.
	final := r.execute()

	warned := r.event(workflows.EventWarningRaised, 0)
	if warned.Event.Details["rule"] != warning.RuleSkipLevel ||
		!slices.Equal(warned.Event.Details[workflows.DetailJointProposed].([]any), []any{workflows.JointSkipGroupLong}) {
		t.Fatalf("warning %v", warned.Event.Details)
	}
	if j := warned.State.Joint; j == nil || j.Status != workflows.JointProposed || j.Flags[0].By != "system" ||
		!strings.Contains(j.Flags[0].Reason, "越级访") {
		t.Errorf("joint after the warning %+v", j)
	}
	r.refused(auto, workflows.ErrorInvalidInput, "proposed by the system")
	r.refused(noReason, workflows.ErrorInvalidInput, "needs a reason")
	if st := r.ok(flag); len(st.Joint.Flags) != 2 || st.Joint.Flags[1].Auto || st.Joint.Flags[1].By != supervisor.ID {
		t.Errorf("flag returned %+v", st.Joint)
	}
	repeat := r.event(workflows.EventRepeatLinked, 0)
	if got := repeat.Event.Details[workflows.DetailJointProposed]; got == nil || !slices.Equal(got.([]any), []any{workflows.JointRepeatAfterHandling}) {
		t.Errorf("repeat proposed %v", got)
	}
	var criteria []string
	for _, f := range final.Joint.Flags {
		criteria = append(criteria, f.Criterion)
	}
	if !slices.Equal(criteria, []string{workflows.JointSkipGroupLong, workflows.JointUrgentRisk, workflows.JointRepeatAfterHandling}) {
		t.Errorf("criteria %v", criteria)
	}
}

// A case open longer than the policy's long-standing limit is proposed with its next event.
func TestLongStandingPetitionProposed(t *testing.T) {
	r := newRun(t)
	r.input.Policy.LongStandingAfter = workflows.Duration(20 * time.Second)
	accept(sec(5), r)
	r.act(sec(30), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "paid", ServedAt: servedAt(sec(30)), ServiceMethod: workflows.ServiceSMS})
	final := r.execute()
	if got := r.event(workflows.EventAccepted, 0).Event.Details[workflows.DetailJointProposed]; got != nil {
		t.Errorf("proposed at acceptance (5s): %v", got)
	}
	replied := r.event(workflows.EventReplied, 0)
	if got := replied.Event.Details[workflows.DetailJointProposed]; got == nil || !slices.Equal(got.([]any), []any{workflows.JointSkipGroupLong}) {
		t.Errorf("reply proposed %v", got)
	}
	if len(final.Joint.Flags) != 1 {
		t.Error("proposed twice")
	}
}

// The leader who received the petitioner (领导接访日) is in charge from registration; acceptance
// without a leader keeps them; assign_leader hands the case to another.
func TestLeaderInChargeFromRegistration(t *testing.T) {
	r := newRun(t)
	r.input.Leader = "district-leader"
	acc := accept(sec(5), r)
	same := r.act(sec(8), workflows.UpdateAssignLeader, workflows.ActionInput{Actor: clerk, Leader: "district-leader"})
	byHandler := r.act(sec(9), workflows.UpdateAssignLeader, workflows.ActionInput{Actor: handler, Leader: "city-leader"})
	moved := r.act(sec(10), workflows.UpdateAssignLeader, workflows.ActionInput{Actor: clerk, Leader: "city-leader", Reason: "received on the city's reception day"})
	r.act(sec(15), workflows.UpdateWithdraw, workflows.ActionInput{Actor: clerk, Reason: "settled"})
	r.execute()
	if reg := r.event(workflows.EventRegistered, 0); reg.State.Leader != "district-leader" || reg.Event.Details["leader"] != "district-leader" {
		t.Errorf("registered with leader %q", reg.State.Leader)
	}
	if st := r.ok(acc); st.Leader != "district-leader" {
		t.Errorf("accepted with leader %q", st.Leader)
	}
	r.refused(same, workflows.ErrorInvalidInput, "in charge already")
	r.refused(byHandler, workflows.ErrorInvalidAction, "not allowed for a handler")
	if st := r.ok(moved); st.Leader != "city-leader" {
		t.Errorf("leader %q", st.Leader)
	}
	if ev := r.event(workflows.EventLeaderAssigned, 0); ev.Event.Details["from_leader"] != "district-leader" {
		t.Errorf("details %v", ev.Event.Details)
	}
}

// An assignment awaiting its result report goes along a continue-as-new: the next run watches
// the limit again and records the overdue report once.
func TestAssignmentWatchedAcrossContinueAsNew(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	r.act(sec(10), workflows.UpdateAssign, workflows.ActionInput{Actor: supervisor, Opinion: "report by 40s", ReportDue: at(sec(40))})
	next := r.continuedAt(sec(20))
	r2 := newRun(t)
	r2.input = next
	r2.env.SetStartTime(t0.Add(sec(20)))
	r2.act(sec(10), workflows.UpdateWithdraw, workflows.ActionInput{Actor: clerk, Reason: "settled"}) // at 30s: before the limit
	r3 := newRun(t)
	r3.input = next
	r3.env.SetStartTime(t0.Add(sec(20)))
	r3.act(sec(30), workflows.UpdateWithdraw, workflows.ActionInput{Actor: clerk, Reason: "settled"}) // at 50s: after it
	for _, run := range []*run{r2, r3} {
		run.env.ExecuteWorkflow(workflows.WorkflowName, run.input)
		if err := run.env.GetWorkflowError(); err != nil {
			t.Fatalf("continued run failed: %v", err)
		}
	}
	if got := types(r2.f.transitions); slices.Contains(got, workflows.EventAssignmentOverdue) {
		t.Errorf("withdrawn before the limit: %v", got)
	}
	over := 0
	for _, tr := range r3.f.transitions {
		if tr.Event.Type == workflows.EventAssignmentOverdue {
			over++
			if !tr.Event.At.Equal(t0.Add(sec(40))) {
				t.Errorf("overdue at %s, want 40s", tr.Event.At.Sub(t0))
			}
		}
	}
	if over != 1 {
		t.Errorf("%d overdue events in the continued run: %v", over, types(r3.f.transitions))
	}
}

// The Web UI's current details show what the case waits for besides its clock.
func TestRoutinesInTheCurrentDetails(t *testing.T) {
	r := newRun(t)
	r.input.Leader = "district-leader"
	accept(sec(5), r)
	r.act(sec(10), workflows.UpdateAssign, workflows.ActionInput{Actor: supervisor, Opinion: "report", ReportDue: at(sec(30))})
	r.act(sec(12), workflows.UpdateAddCoUnit, workflows.ActionInput{Actor: supervisor, Unit: "health", Opinion: "bills"})
	var details string
	r.at(sec(35), func() {
		v, err := r.env.QueryWorkflow("__temporal_workflow_metadata")
		if err != nil {
			t.Error(err)
			return
		}
		var md sdkpb.WorkflowMetadata
		if err := v.Get(&md); err != nil {
			t.Error(err)
			return
		}
		details = md.GetCurrentDetails()
	})
	r.act(sec(40), workflows.UpdateWithdraw, workflows.ActionInput{Actor: clerk, Reason: "settled"})
	r.execute()
	for _, want := range []string{
		"**Leader in charge (包案):** district-leader",
		"**Assigned (交办):** awaiting_report, result report due", "· overdue",
		"**Co-handling units (协办):** health (awaiting its reply)",
		"**Joint investigation (联查):** proposed · criteria assignment_overdue",
	} {
		if !strings.Contains(details, want) {
			t.Errorf("current details lack %q:\n%s", want, details)
		}
	}
}

// Assigned to another unit, the case moves there without a handler; the unit's head is told
// and its staff report the result.
func TestAssignToAnotherUnit(t *testing.T) {
	r := newRun(t)
	accept(sec(5), r)
	assign := r.act(sec(10), workflows.UpdateAssign, workflows.ActionInput{Actor: supervisor, Unit: "health", Opinion: "the hospital's matter"})
	old := r.act(sec(12), workflows.UpdateReportResult, workflows.ActionInput{Actor: handler, Opinion: "x"})
	report := r.act(sec(15), workflows.UpdateReportResult, workflows.ActionInput{Actor: healthStaff, Opinion: "settled"})
	r.act(sec(20), workflows.UpdateWithdraw, workflows.ActionInput{Actor: clerk, Reason: "settled"})
	r.execute()
	if st := r.ok(assign); st.Unit != "health" || st.Handler != "" || !st.Assignment.ReportDue.Equal(t0.Add(sec(65))) {
		t.Errorf("assigned: unit %q handler %q due %s", st.Unit, st.Handler, st.Assignment.ReportDue.Sub(t0))
	}
	if ev := r.event(workflows.EventAssigned, 0); ev.Event.Details["from_unit"] != "construction" || ev.Event.Details["unit"] != "health" {
		t.Errorf("assigned details %v", ev.Event.Details)
	}
	r.refused(old, workflows.ErrorInvalidAction, `of unit "construction" cannot take report result on a case of unit "health"`)
	r.ok(report)
	if got := r.noticesTo(); len(got) == 0 || got[0] != "assignment:health-head" {
		t.Errorf("notices %v", got)
	}
}
