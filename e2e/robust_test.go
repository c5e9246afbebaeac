package e2e

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/petitions/petitions/internal/app"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/sealing"
	"github.com/petitions/petitions/worker"
	"github.com/petitions/petitions/workflows"
)

// A register row left without its workflow (the API crashed, or Temporal was down, between the
// commit and the start) gets its workflow from the worker's reconciler: the case has its clock,
// its registered event once, and a second sweep starts nothing.
func TestReconcilerStartsCasesLeftWithoutAWorkflow(t *testing.T) {
	ctx := context.Background()
	keys, err := app.Keys(stack.Config)
	if err != nil {
		t.Fatal(err)
	}
	store := register.New(stack.Service.Pool()).WithSealer(sealing.NewFields(keys))
	now := time.Now()
	row, created, err := store.Register(ctx, register.NewCase{
		Channel: "letter", Category: "appeal", Topic: "a row whose workflow never started",
		Content: "registered while Temporal was down", GroupSize: 1, Policy: "default",
		Petitioners: []register.Petitioner{{Name: "赵某", Phone: "13900000077"}},
		ReceivedAt:  now, RegisteredAt: now, RegisteredBy: clerk, SuggestedUnit: "construction",
	})
	if err != nil || !created {
		t.Fatalf("register row: %v (created %v)", err, created)
	}
	policies, err := app.Policies(stack.Config)
	if err != nil {
		t.Fatal(err)
	}
	rec := &worker.Reconciler{Store: store, Temporal: stack.Service.Temporal(), Policies: policies,
		Log: slog.New(slog.DiscardHandler), MinAge: -1}
	n, err := rec.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n < 1 {
		t.Fatalf("sweep started %d workflows, want the orphan's", n)
	}
	eventually(t, 20*time.Second, "the orphan's clock, live and in the register", func() bool {
		v := getCase(t, row.CaseNo)
		return v.State != nil && v.State.Deadline != nil && slices.Contains(eventTypes(t, row.CaseNo), "registered")
	})
	again, err := rec.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := store.CasesWithoutWorkflow(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.CaseNo == row.CaseNo {
			t.Errorf("%s still listed without a workflow (second sweep started %d)", row.CaseNo, again)
		}
	}
	if got := eventTypes(t, row.CaseNo); !slices.Equal(got, []string{"registered"}) {
		t.Errorf("events %v, want one registered", got)
	}
}

// "Request Cancellation" (here from a Temporal client, as the Web UI or the CLI would) neither
// ends nor wedges a case on the real server: the refusal is in the trail with who asked, the
// workflow keeps running without failing tasks, and the next action works.
func TestCancellationRequestIsRecordedAndTheCaseGoesOn(t *testing.T) {
	r := registerCase(t, "default", petitioner(), "someone cancels this case in the Web UI")
	c := stack.Service.Temporal()
	ctx := context.Background()
	if err := c.CancelWorkflow(ctx, workflows.WorkflowID(r.CaseNo), ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "cancellation_refused in the trail", func() bool {
		return slices.Contains(eventTypes(t, r.CaseNo), "cancellation_refused")
	})
	var events []workflows.Event
	if code := call(t, "GET", "/api/v1/petitions/"+r.CaseNo+"/events", nil, &struct {
		Events *[]workflows.Event `json:"events"`
	}{&events}); code != http.StatusOK {
		t.Fatalf("events: %d", code)
	}
	for _, ev := range events {
		if ev.Type == "cancellation_refused" && ev.Details["requested_by"] == "" {
			t.Errorf("who asked is not recorded: %+v", ev)
		}
	}
	st := act(t, r.CaseNo, "accept", map[string]any{"actor": clerk, "unit": "construction", "handler": handler}, http.StatusOK)
	if st.Stage != workflows.StageHandling {
		t.Fatalf("accept after the cancellation request: %+v", st)
	}
	desc, err := c.DescribeWorkflowExecution(ctx, workflows.WorkflowID(r.CaseNo), "")
	if err != nil {
		t.Fatal(err)
	}
	if desc.GetWorkflowExecutionInfo().GetStatus().String() != "Running" {
		t.Errorf("workflow status %s", desc.GetWorkflowExecutionInfo().GetStatus())
	}
	if pt := desc.GetPendingWorkflowTask(); pt != nil && pt.GetAttempt() > 1 {
		t.Errorf("workflow task failing: attempt %d", pt.GetAttempt())
	}
	recordHistory(t, r.CaseNo)
}

// The workflow is a gate of its own: a client that bypasses the API (Temporal CLI, another
// service) cannot put a NUL into the case, and the case is not frozen by the attempt.
func TestWorkflowRefusesTextTheRegisterCannotStore(t *testing.T) {
	r := registerCase(t, "default", petitioner(), "a NUL sent past the API")
	act(t, r.CaseNo, "accept", map[string]any{"actor": clerk, "unit": "construction", "handler": handler}, http.StatusOK)
	c := stack.Service.Temporal()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.WorkflowID(r.CaseNo), UpdateName: workflows.UpdateSupervise,
		Args: []any{workflows.ActionInput{Actor: workflows.Actor{ID: supervisor, Role: workflows.RoleSupervisor, Unit: "supervision"},
			Opinion: "a\x00b"}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != workflows.ErrorInvalidInput {
		t.Fatalf("supervise with a NUL: %v, want %s", err, workflows.ErrorInvalidInput)
	}
	st := act(t, r.CaseNo, "supervise", map[string]any{"actor": supervisor, "opinion": "please hurry"}, http.StatusOK)
	if st.Seq != 3 {
		t.Errorf("seq after the refused and the good supervision: %d, want 3", st.Seq)
	}
	waitRegister(t, r.CaseNo, "handling")
	if got := eventTypes(t, r.CaseNo); !slices.Equal(got, []string{"registered", "accepted", "supervised"}) {
		t.Errorf("events %v", got)
	}
}

// historyEvents counts the events of a case's current run.
func historyEvents(t *testing.T, caseNo string) (int, map[string]int) {
	t.Helper()
	it := stack.Service.Temporal().GetWorkflowHistory(context.Background(), workflows.WorkflowID(caseNo), "", false, 0)
	n, kinds := 0, map[string]int{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		n++
		kinds[ev.GetEventType().String()]++
	}
	return n, kinds
}

// The engine's work per case is what the process needs (issue 10's budget): register + accept
// within 30 history events, the standard lifecycle (register → accept → reply → evaluate →
// closed) within 60. Measured on the real server.
func TestHistoryBudgetPerCase(t *testing.T) {
	r := registerCase(t, "default", petitioner(), "history budget")
	act(t, r.CaseNo, "accept", map[string]any{"actor": clerk, "unit": "construction", "handler": handler}, http.StatusOK)
	n, kinds := historyEvents(t, r.CaseNo)
	t.Logf("register + accept: %d events %v", n, kinds)
	if n > 30 {
		t.Errorf("register + accept took %d history events, budget 30: %v", n, kinds)
	}
	act(t, r.CaseNo, "reply", map[string]any{"actor": handler, "opinion": "wages paid"}, http.StatusOK)
	act(t, r.CaseNo, "evaluate", map[string]any{"actor": "petitioner", "query_code": r.QueryCode, "evaluation": "satisfied"}, http.StatusOK)
	waitRegister(t, r.CaseNo, "closed")
	eventually(t, 20*time.Second, "the workflow to complete", func() bool {
		desc, err := stack.Service.Temporal().DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(r.CaseNo), "")
		return err == nil && desc.GetWorkflowExecutionInfo().GetStatus().String() == "Completed"
	})
	n, kinds = historyEvents(t, r.CaseNo)
	t.Logf("lifecycle to closed: %d events %v", n, kinds)
	if n > 60 {
		t.Errorf("the standard lifecycle took %d history events, budget 60: %v", n, kinds)
	}
}
