package e2e

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/workflows"
)

// routineRow is what the register's row shows of a case's routines.
type routineRow struct {
	Case struct {
		Stage            string   `json:"stage"`
		Leader           string   `json:"leader"`
		JointStatus      string   `json:"joint_status"`
		JointCriteria    []string `json:"joint_criteria"`
		AssignmentStatus string   `json:"assignment_status"`
		InvolvedUnits    []string `json:"involved_units"`
		CallBacks        int      `json:"call_backs"`
		Evaluation       string   `json:"evaluation"`
		EvaluationSource string   `json:"evaluation_source"`
	} `json:"case"`
	State *workflows.CaseState `json:"state"`
}

func routineCase(t *testing.T, caseNo string, as string) (routineRow, int) {
	t.Helper()
	var v routineRow
	code := call(t, "GET", "/api/v1/petitions/"+caseNo, nil, &v, bearer(t, as)...)
	return v, code
}

// The bureau's routines on one case through HTTP: a skip-level petition is proposed for joint
// investigation at registration; the office's leader approves it with a team; the office
// assigns it (交办) with a co-handling unit, which sees the case and replies to the lead; the
// office sends the unit's result report back once and accepts the second; the reply goes out
// and a call-back (回访) that reaches the satisfied petitioner closes the case.
func TestRoutinesThroughHTTP(t *testing.T) {
	r := registerWarned(t, 1, "city") // lodged with the city about a district bureau's matter
	var v routineRow
	eventually(t, 20*time.Second, "the joint investigation proposal in the register", func() bool {
		v, _ = routineCase(t, r.CaseNo, supervisor)
		return v.Case.JointStatus == workflows.JointProposed
	})
	if !slices.Equal(v.Case.JointCriteria, []string{workflows.JointSkipGroupLong}) || v.State == nil ||
		v.State.Joint == nil || !v.State.Joint.Flags[0].Auto {
		t.Fatalf("proposal: criteria %v, state %+v", v.Case.JointCriteria, v.State)
	}
	if !listed(t, "warning=skip_level", r.CaseNo) {
		t.Error("the skip-level warning does not list the case")
	}
	// A supervisor adds a criterion the system cannot see; one it proposes is refused.
	act(t, r.CaseNo, "flag-joint-investigation", map[string]any{"actor": supervisor, "criterion": "skip_group_long", "reason": "x"}, http.StatusBadRequest)
	act(t, r.CaseNo, "flag-joint-investigation", map[string]any{"actor": supervisor, "criterion": "nonsense", "reason": "x"}, http.StatusBadRequest)
	act(t, r.CaseNo, "flag-joint-investigation", map[string]any{"actor": supervisor, "criterion": "urgent_risk", "reason": "workers plan to go to the city together"}, http.StatusOK)

	act(t, r.CaseNo, "accept", map[string]any{"actor": clerk, "unit": "construction", "handler": handler}, http.StatusOK)

	// The unit's leader may not decide; the petition office's leader approves, with a team.
	act(t, r.CaseNo, "decide-joint-investigation", map[string]any{"actor": leader, "approved": true, "units": []string{"construction"}}, http.StatusUnprocessableEntity)
	act(t, r.CaseNo, "decide-joint-investigation", map[string]any{"actor": "leader.petition_office", "approved": true, "units": []string{"construction", "nowhere"}}, http.StatusUnprocessableEntity)
	st := act(t, r.CaseNo, "decide-joint-investigation", map[string]any{"actor": "leader.petition_office", "approved": true, "units": []string{"construction", "discipline"}}, http.StatusOK)
	if st.Joint.Status != workflows.JointApproved || !slices.Equal(st.Joint.Team, []string{"construction", "discipline"}) {
		t.Fatalf("approved %+v", st.Joint)
	}

	// Before it co-handles the case, the health bureau does not see it.
	if _, code := routineCase(t, r.CaseNo, "handler.health"); code != http.StatusNotFound {
		t.Fatalf("handler.health reads the case before it co-handles it: %d", code)
	}
	due := time.Now().In(calendar.Location()).AddDate(0, 0, 7).Format(time.DateOnly)
	st = act(t, r.CaseNo, "assign", map[string]any{"actor": supervisor, "opinion": "核实工资发放记录 verify the wage records", "report_due": due}, http.StatusOK)
	if st.Assignment == nil || st.Assignment.Status != workflows.AssignmentAwaiting || st.Assignment.ReportDue.IsZero() {
		t.Fatalf("assigned %+v", st.Assignment)
	}
	act(t, r.CaseNo, "add-co-unit", map[string]any{"actor": supervisor, "unit": "health", "opinion": "the medical bills of the injured worker"}, http.StatusOK)
	eventually(t, 20*time.Second, "the co-handling unit's staff see the case", func() bool {
		_, code := routineCase(t, r.CaseNo, "handler.health")
		return code == http.StatusOK
	})
	if !listed(t, "", r.CaseNo) {
		t.Error("the case is not listed for the clerk")
	}
	var page struct {
		Cases []struct {
			CaseNo string `json:"case_no"`
		} `json:"cases"`
	}
	if code := call(t, "GET", "/api/v1/petitions?limit=500", nil, &page, bearer(t, "handler.health")...); code != http.StatusOK ||
		!slices.ContainsFunc(page.Cases, func(c struct {
			CaseNo string `json:"case_no"`
		}) bool {
			return c.CaseNo == r.CaseNo
		}) {
		t.Errorf("handler.health's list lacks the co-handled case (status %d)", code)
	}

	// The reply waits for the accepted result report and the co-handling unit's reply.
	reply := map[string]any{"actor": handler, "opinion": "工资已发放 wages paid", "served_at": time.Now().In(calendar.Location()).Format(time.DateOnly), "service_method": "in_person"}
	act(t, r.CaseNo, "reply", reply, http.StatusUnprocessableEntity)
	act(t, r.CaseNo, "report-result", map[string]any{"actor": handler, "opinion": "the employer promised to pay"}, http.StatusOK)
	act(t, r.CaseNo, "review-result", map[string]any{"actor": supervisor, "approved": false}, http.StatusBadRequest)
	st = act(t, r.CaseNo, "review-result", map[string]any{"actor": supervisor, "approved": false, "reason": "no evidence of payment"}, http.StatusOK)
	if st.Assignment.Status != workflows.AssignmentAwaiting {
		t.Errorf("sent back: %+v", st.Assignment)
	}
	act(t, r.CaseNo, "report-result", map[string]any{"actor": handler, "opinion": "paid, receipts attached"}, http.StatusOK)
	act(t, r.CaseNo, "review-result", map[string]any{"actor": supervisor, "approved": true}, http.StatusOK)
	act(t, r.CaseNo, "reply", reply, http.StatusUnprocessableEntity) // the health bureau has not replied
	act(t, r.CaseNo, "co-reply", map[string]any{"actor": handler, "opinion": "x"}, http.StatusUnprocessableEntity)
	act(t, r.CaseNo, "co-reply", map[string]any{"actor": "handler.health", "opinion": "医药费已报销 the bills are reimbursed"}, http.StatusOK)
	act(t, r.CaseNo, "record-joint-findings", map[string]any{"actor": "leader.discipline", "opinion": "wages were withheld; the employer is fined"}, http.StatusOK)
	act(t, r.CaseNo, "reply", reply, http.StatusOK)

	// A call-back that does not reach the petitioner changes nothing; one that does closes it.
	act(t, r.CaseNo, "record-call-back", map[string]any{"actor": clerk, "reached": false, "reason": "no answer"}, http.StatusOK)
	st = act(t, r.CaseNo, "record-call-back", map[string]any{"actor": clerk, "reached": true, "evaluation": "satisfied", "reason": "thanks the bureaus"}, http.StatusOK)
	if st.Stage != workflows.StageClosed || st.EvaluationSource != workflows.EvaluationByCallBack {
		t.Fatalf("after the call-back: %s, evaluation %s by %s", st.Stage, st.Evaluation, st.EvaluationSource)
	}
	waitRegister(t, r.CaseNo, "closed")
	v, _ = routineCase(t, r.CaseNo, supervisor)
	if v.Case.EvaluationSource != workflows.EvaluationByCallBack || v.Case.CallBacks != 2 || v.Case.JointStatus != workflows.JointConcluded ||
		v.Case.AssignmentStatus != workflows.AssignmentAccepted || !slices.Equal(v.Case.InvolvedUnits, []string{"health", "construction", "discipline"}) {
		t.Errorf("register row %+v", v.Case)
	}
	types := eventTypes(t, r.CaseNo)
	for _, want := range []string{"joint_flagged", "joint_decided", "assigned", "co_unit_added", "result_reported", "result_reviewed", "co_replied", "joint_findings", "replied", "call_back_recorded", "evaluated", "closed"} {
		if !slices.Contains(types, want) {
			t.Errorf("events %v lack %s", types, want)
		}
	}
	recordHistory(t, r.CaseNo)
}
