package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/petitions/petitions/workflows"
)

// Staff of the demo district (internal/register/SEED.md).
const (
	clerk        = "clerk.li"
	handler      = "handler.construction"
	leader       = "leader.construction"
	supervisor   = "supervisor.zhao"
	reviewerDist = "reviewer.district"
	reviewerCity = "reviewer.city"
)

var idSeq atomic.Int64

// petitioner returns a petitioner with a unique phone, so repeat detection stays per test.
func petitioner() map[string]any {
	n := idSeq.Add(1)
	return map[string]any{"name": "王某", "phone": fmt.Sprintf("139%08d", time.Now().UnixNano()%1e6*100+n), "address": "XX路1号"}
}

type registered struct {
	CaseNo        string              `json:"case_no"`
	QueryCode     string              `json:"query_code"`
	SuggestedUnit string              `json:"suggested_unit"`
	Stage         string              `json:"stage"`
	State         workflows.CaseState `json:"state"`
	LinkedTo      string              `json:"linked_to"`
}

type caseView struct {
	Case struct {
		CaseNo          string `json:"case_no"`
		Stage           string `json:"stage"`
		Overdue         bool   `json:"overdue"`
		EscalationLevel int    `json:"escalation_level"`
		Unit            string `json:"unit"`
		RepeatCount     int    `json:"repeat_count"`
		Evaluation      string `json:"evaluation"`
	} `json:"case"`
	State *workflows.CaseState `json:"state"`
}

func registerCase(t *testing.T, policy string, pet map[string]any, topic string) registered {
	t.Helper()
	var r registered
	code := call(t, "POST", "/api/v1/petitions", map[string]any{
		"channel": "letter", "category": "appeal", "topic": topic,
		"content": "拖欠农民工工资三个月 unpaid wages for three months", "petitioners": []any{pet},
		"policy": policy, "actor": clerk,
	}, &r)
	if code != http.StatusCreated {
		t.Fatalf("register: status %d", code)
	}
	if r.CaseNo == "" || r.QueryCode == "" || r.Stage != "registered" {
		t.Fatalf("register: %+v", r)
	}
	return r
}

func act(t *testing.T, caseNo, action string, body map[string]any, want int) workflows.CaseState {
	t.Helper()
	var st workflows.CaseState
	code := call(t, "POST", "/api/v1/petitions/"+caseNo+"/"+action, body, &st)
	if code != want {
		t.Fatalf("%s on %s: status %d, want %d", action, caseNo, code, want)
	}
	return st
}

func getCase(t *testing.T, caseNo string) caseView {
	t.Helper()
	var v caseView
	if code := call(t, "GET", "/api/v1/petitions/"+caseNo, nil, &v); code != http.StatusOK {
		t.Fatalf("get %s: status %d", caseNo, code)
	}
	return v
}

func eventTypes(t *testing.T, caseNo string) []string {
	t.Helper()
	var out struct {
		Events []workflows.Event `json:"events"`
	}
	if code := call(t, "GET", "/api/v1/petitions/"+caseNo+"/events", nil, &out); code != http.StatusOK {
		t.Fatalf("events %s: status %d", caseNo, code)
	}
	types := make([]string, len(out.Events))
	for i, e := range out.Events {
		types[i] = e.Type
	}
	return types
}

// waitRegister waits until the register shows the stage (projection is asynchronous to the
// update's answer only by the time the activity takes).
func waitRegister(t *testing.T, caseNo, stage string) caseView {
	t.Helper()
	var v caseView
	eventually(t, 20*time.Second, caseNo+" in stage "+stage, func() bool {
		v = getCase(t, caseNo)
		return v.Case.Stage == stage
	})
	return v
}

func wantEvents(t *testing.T, caseNo string, want ...string) {
	t.Helper()
	var got []string
	eventually(t, 20*time.Second, fmt.Sprintf("events %v", want), func() bool {
		got = eventTypes(t, caseNo)
		for _, w := range want {
			if !slices.Contains(got, w) {
				return false
			}
		}
		return true
	})
}

// A case taken through every stage as staff and petitioner would: register, accept, reply,
// dissatisfied, review, re-review, terminated (三级终结); then the same matter is refused.
func TestLifecycleToTermination(t *testing.T) {
	pet := petitioner()
	r := registerCase(t, "default", pet, "unpaid construction wages")
	no := r.CaseNo
	if r.SuggestedUnit != "construction" {
		t.Errorf("suggested unit %q, want construction (routing rule for wages)", r.SuggestedUnit)
	}
	if r.State.Deadline == nil || r.State.Deadline.Due.IsZero() {
		t.Fatalf("no acceptance deadline in %+v", r.State)
	}
	waitRegister(t, no, "registered")
	wantEvents(t, no, "registered")

	// Wrong stage: a reply before acceptance is refused with a reason, not a 500.
	act(t, no, "reply", map[string]any{"actor": handler, "opinion": "too early"}, http.StatusUnprocessableEntity)

	st := act(t, no, "accept", map[string]any{"actor": clerk, "unit": "construction", "handler": handler, "leader": leader}, http.StatusOK)
	if st.Stage != workflows.StageHandling || st.Unit != "construction" {
		t.Fatalf("after accept: %+v", st)
	}
	waitRegister(t, no, "handling")
	wantEvents(t, no, "accepted")

	st = act(t, no, "reply", map[string]any{"actor": handler, "opinion": "已责令施工单位限期支付 wages ordered paid"}, http.StatusOK)
	if st.Stage != workflows.StageReplied {
		t.Fatalf("after reply: %+v", st)
	}
	waitRegister(t, no, "replied")

	// The petitioner acts with the query code; without it, or with a wrong one, not at all.
	act(t, no, "evaluate", map[string]any{"actor": "petitioner", "evaluation": "satisfied"}, http.StatusBadRequest)
	act(t, no, "evaluate", map[string]any{"actor": "petitioner", "query_code": "00000000", "evaluation": "satisfied"}, http.StatusNotFound)
	act(t, no, "evaluate", map[string]any{"actor": "petitioner", "query_code": r.QueryCode, "evaluation": "dissatisfied"}, http.StatusOK)
	st = act(t, no, "request-review", map[string]any{"actor": "petitioner", "query_code": r.QueryCode, "reason": "wages still unpaid"}, http.StatusOK)
	if st.Stage != workflows.StageReview {
		t.Fatalf("after request-review: %+v", st)
	}
	waitRegister(t, no, "review")

	st = act(t, no, "review-decision", map[string]any{"actor": reviewerDist, "outcome": "uphold", "opinion": "维持原处理意见"}, http.StatusOK)
	if st.Stage != workflows.StageReviewed {
		t.Fatalf("after review-decision: %+v", st)
	}
	st = act(t, no, "request-re-review", map[string]any{"actor": "petitioner", "query_code": r.QueryCode, "reason": "still dissatisfied"}, http.StatusOK)
	if st.Stage != workflows.StageReReview {
		t.Fatalf("after request-re-review: %+v", st)
	}
	st = act(t, no, "re-review-decision", map[string]any{"actor": reviewerCity, "outcome": "uphold", "opinion": "复核维持"}, http.StatusOK)
	if st.Stage != workflows.StageTerminated {
		t.Fatalf("after re-review-decision: %+v", st)
	}
	v := waitRegister(t, no, "terminated")
	if v.Case.Evaluation != "dissatisfied" {
		t.Errorf("register evaluation %q", v.Case.Evaluation)
	}
	wantEvents(t, no, "registered", "accepted", "replied", "evaluated", "review_requested",
		"review_decided", "re_review_requested", "re_review_decided", "terminated")

	// A terminated case takes no more actions.
	act(t, no, "request-review", map[string]any{"actor": "petitioner", "query_code": r.QueryCode, "reason": "again"}, http.StatusUnprocessableEntity)

	// The same petitioner on the same matter is refused with a reference (不再受理).
	var refusal map[string]any
	code := call(t, "POST", "/api/v1/petitions", map[string]any{
		"channel": "visit", "category": "appeal", "topic": "unpaid construction wages",
		"content": "again", "petitioners": []any{pet}, "policy": "default", "actor": clerk,
	}, &refusal)
	if code != http.StatusConflict || refusal["case_no"] != no {
		t.Fatalf("repeat after termination: status %d body %v", code, refusal)
	}
	// The walkthrough is longer than the test server lets one run grow: the case continued as
	// new on the way and lost nothing.
	desc, err := stack.Service.Temporal().DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(no), "")
	if err != nil {
		t.Fatal(err)
	}
	if info := desc.GetWorkflowExecutionInfo(); info.GetFirstRunId() == info.GetExecution().GetRunId() {
		t.Errorf("expected the case to continue as new at least once (history limit %d)", continueAsNewAfter)
	}
	recordHistory(t, no)
}

// The same registration sent twice with one Idempotency-Key yields one case.
func TestIdempotentRegistration(t *testing.T) {
	body := map[string]any{
		"channel": "online", "category": "suggestion", "topic": "bus stop shelter",
		"content": "建议增设公交站棚", "petitioners": []any{petitioner()}, "actor": clerk,
	}
	key := fmt.Sprintf("reg-%d", time.Now().UnixNano())
	var a, b registered
	if code := call(t, "POST", "/api/v1/petitions", body, &a, "Idempotency-Key", key); code != http.StatusCreated {
		t.Fatalf("first: %d", code)
	}
	if code := call(t, "POST", "/api/v1/petitions", body, &b, "Idempotency-Key", key); code != http.StatusOK && code != http.StatusCreated {
		t.Fatalf("retry: %d", code)
	}
	if a.CaseNo != b.CaseNo || a.QueryCode != b.QueryCode {
		t.Fatalf("retry made a second case: %s vs %s", a.CaseNo, b.CaseNo)
	}
}

// A second petition by the same person on an open matter is linked, not started anew.
func TestRepeatPetitionIsLinked(t *testing.T) {
	pet := petitioner()
	r := registerCase(t, "default", pet, "noise from night construction")
	var again registered
	code := call(t, "POST", "/api/v1/petitions", map[string]any{
		"channel": "phone", "category": "appeal", "topic": "Noise from night construction ",
		"content": "又来反映", "petitioners": []any{pet}, "actor": clerk,
	}, &again)
	if code != http.StatusOK || again.LinkedTo != r.CaseNo {
		t.Fatalf("repeat: status %d, linked_to %q, want %q", code, again.LinkedTo, r.CaseNo)
	}
	eventually(t, 20*time.Second, "repeat count 1 in the register", func() bool {
		return getCase(t, r.CaseNo).Case.RepeatCount == 1
	})
	wantEvents(t, r.CaseNo, "repeat_linked")
	var v struct {
		Repeats []struct {
			Channel, Content string
		} `json:"repeat_submissions"`
	}
	if code := call(t, "GET", "/api/v1/petitions/"+r.CaseNo, nil, &v); code != http.StatusOK ||
		len(v.Repeats) != 1 || v.Repeats[0].Channel != "phone" || v.Repeats[0].Content != "又来反映" {
		t.Errorf("repeat submission not kept on the case: %d %+v", code, v.Repeats)
	}
}

// Bad input gets a 4xx that names the problem; unknown cases are 404.
func TestBadInput(t *testing.T) {
	var out map[string]any
	if code := call(t, "POST", "/api/v1/petitions", map[string]any{"channel": "pigeon"}, &out); code != http.StatusBadRequest {
		t.Fatalf("invalid registration: %d %v", code, out)
	}
	if fields, _ := out["fields"].(map[string]any); fields["channel"] == nil || fields["petitioners"] == nil {
		t.Errorf("field errors missing: %v", out)
	}
	if code := call(t, "GET", "/api/v1/petitions/1999-000001", nil, nil); code != http.StatusNotFound {
		t.Errorf("unknown case: %d", code)
	}
	if code := call(t, "POST", "/api/v1/petitions/1999-000001/accept", map[string]any{"actor": clerk, "unit": "construction", "handler": handler}, nil); code != http.StatusNotFound {
		t.Errorf("action on unknown case: %d", code)
	}
	r := registerCase(t, "default", petitioner(), "street lights broken")
	if code := call(t, "POST", "/api/v1/petitions/"+r.CaseNo+"/accept", map[string]any{"actor": clerk}, nil); code != http.StatusBadRequest && code != http.StatusUnprocessableEntity {
		t.Errorf("accept without unit: %d", code)
	}
	// The acting person is the signed-in one: a body naming someone else is refused.
	if code := call(t, "POST", "/api/v1/petitions/"+r.CaseNo+"/accept", map[string]any{"actor": "nobody.here", "unit": "construction", "handler": handler}, nil, bearer(t, clerk)...); code != http.StatusForbidden {
		t.Errorf("actor naming someone else: %d", code)
	}
	var refs struct {
		Fields map[string]string `json:"fields"`
	}
	if code := call(t, "POST", "/api/v1/petitions/"+r.CaseNo+"/accept", map[string]any{"actor": clerk, "unit": "constrution", "handler": "handler.nobody"}, &refs); code != http.StatusUnprocessableEntity || refs.Fields["unit"] == "" || refs.Fields["handler"] == "" {
		t.Errorf("unknown unit and handler: %d %v", code, refs.Fields)
	}
	if code := call(t, "GET", "/api/v1/petitions?overdue=maybe", nil, nil); code != http.StatusBadRequest {
		t.Errorf("bad filter: %d", code)
	}
}

// Handling with every clock action: extension asked and approved, a hearing pause, a
// supervisor's instruction; the deadline moves accordingly; then a satisfied evaluation closes.
func TestHandlingClockActions(t *testing.T) {
	r := registerCase(t, "demo", petitioner(), "wage arrears at a road project")
	no := r.CaseNo
	st := act(t, no, "accept", map[string]any{"actor": clerk, "unit": "construction", "handler": handler, "leader": leader}, http.StatusOK)
	due := st.Deadline.Due

	// Only a leader decides extensions; a handler may not.
	st = act(t, no, "request-extension", map[string]any{"actor": handler, "days": 30, "reason": "site inspection needed"}, http.StatusOK)
	if st.PendingExtension == nil {
		t.Fatalf("no pending extension: %+v", st)
	}
	act(t, no, "decide-extension", map[string]any{"actor": handler, "approved": true}, http.StatusUnprocessableEntity)
	st = act(t, no, "decide-extension", map[string]any{"actor": "head.construction", "approved": true, "reason": "同意"}, http.StatusOK)
	if !st.Deadline.Due.After(due) || !st.ExtensionUsed {
		t.Fatalf("extension did not move the deadline: %s -> %s", due, st.Deadline.Due)
	}
	act(t, no, "request-extension", map[string]any{"actor": handler, "days": 10, "reason": "again"}, http.StatusUnprocessableEntity)

	due = st.Deadline.Due
	st = act(t, no, "pause", map[string]any{"actor": handler, "reason": "听证 hearing"}, http.StatusOK)
	if !st.Deadline.Paused {
		t.Fatalf("not paused: %+v", st.Deadline)
	}
	time.Sleep(1100 * time.Millisecond)
	st = act(t, no, "resume", map[string]any{"actor": handler}, http.StatusOK)
	if st.Deadline.Paused || !st.Deadline.Due.After(due) {
		t.Fatalf("resume did not move the deadline by the pause: %s -> %s", due, st.Deadline.Due)
	}
	act(t, no, "supervise", map[string]any{"actor": handler, "opinion": "self-supervision"}, http.StatusUnprocessableEntity)
	act(t, no, "supervise", map[string]any{"actor": supervisor, "opinion": "请加快办理 speed up"}, http.StatusOK)
	act(t, no, "reply", map[string]any{"actor": handler, "opinion": "已支付 paid"}, http.StatusOK)
	st = act(t, no, "evaluate", map[string]any{"actor": "petitioner", "query_code": r.QueryCode, "evaluation": "satisfied"}, http.StatusOK)
	if st.Stage != workflows.StageClosed {
		t.Fatalf("a satisfied evaluation closes the case: %+v", st)
	}
	waitRegister(t, no, "closed")
	wantEvents(t, no, "extension_requested", "extension_decided", "paused", "resumed", "supervised", "replied", "evaluated", "closed")
	recordHistory(t, no)
}
