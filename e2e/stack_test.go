package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/proxy"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/petitions/petitions/internal/app"
	"github.com/petitions/petitions/internal/devstack"
	"github.com/petitions/petitions/internal/sealing"
	"github.com/petitions/petitions/workflows"
)

func TestHealthAndReadiness(t *testing.T) {
	var out map[string]any
	if code := call(t, "GET", "/healthz", nil, &out); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}
	if code := call(t, "GET", "/readyz", nil, &out); code != http.StatusOK {
		t.Fatalf("readyz: %d %v", code, out)
	}
}

// The namespace carries the project's search attributes and keeps closed cases long enough.
func TestNamespaceIsSetUp(t *testing.T) {
	c := stack.Service.Temporal()
	ctx := context.Background()
	sa, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range workflows.SearchAttributeKeys {
		if _, ok := sa.GetCustomAttributes()[k.GetName()]; !ok {
			t.Errorf("search attribute %s not registered", k.GetName())
		}
	}
	ns, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if r := ns.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(); r < 30*24*time.Hour {
		t.Errorf("retention %s, want at least 30 days", r)
	}
}

// Nobody touches the case: the ladder runs by itself — reminder, overdue with a supervision
// notice, leader, superior — visible in the register and the event list.
func TestOverdueEscalatesUnattended(t *testing.T) {
	r := registerCase(t, "e2e_fast", petitioner(), "unpaid wages at a building site")
	no := r.CaseNo
	var v caseView
	eventually(t, 60*time.Second, "escalation level 3 in the register", func() bool {
		v = getCase(t, no)
		return v.Case.EscalationLevel == 3
	})
	if !v.Case.Overdue {
		t.Errorf("register row not overdue: %+v", v.Case)
	}
	wantEvents(t, no, "registered", "reminder_sent", "overdue", "escalated")
	types := eventTypes(t, no)
	count := map[string]int{}
	for _, ty := range types {
		count[ty]++
	}
	if count["reminder_sent"] != 1 || count["overdue"] != 1 || count["escalated"] != 2 {
		t.Errorf("each ladder step must fire once: %v", types)
	}
	// Overdue cases of one unit are listed by the register.
	var page struct {
		Cases []struct {
			CaseNo string `json:"case_no"`
		} `json:"cases"`
	}
	if code := call(t, "GET", "/api/v1/petitions?overdue=true&stage=registered", nil, &page); code != http.StatusOK {
		t.Fatalf("list: %d", code)
	}
	found := false
	for _, c := range page.Cases {
		found = found || c.CaseNo == no
	}
	if !found {
		t.Errorf("%s not among overdue registered cases", no)
	}
	// The README's ready-made Web UI query finds it: the search attributes follow the case.
	query := `PetitionOverdue = true AND PetitionUnit = "construction" AND PetitionEscalationLevel = 3 AND PetitionCaseNo = "` + no + `" AND ExecutionStatus = "Running"`
	eventually(t, 20*time.Second, "the Web UI query to find the case", func() bool {
		resp, err := stack.Service.Temporal().ListWorkflow(context.Background(),
			&workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return len(resp.GetExecutions()) == 1
	})
	recordHistory(t, no)
}

// The dev stack keeps its data: stop it and start it again on the same folder and the case is
// still there, its workflow still running; a second stack on the same folder is refused.
func TestDevStackRestartKeepsCases(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second stack")
	}
	dir := filepath.Join(t.TempDir(), "dev")
	ctx := context.Background()
	opts := devstack.Options{Dir: dir, HTTPAddr: "127.0.0.1:0", Seed: true, Config: testConfig(), Logger: testLogger()}
	s, err := devstack.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := devstack.Start(ctx, opts); err == nil {
		t.Fatal("a second dev stack on the same folder started")
	}
	saved := baseURL
	t.Cleanup(func() { baseURL = saved })
	baseURL = "http://" + s.Service.Addr()
	r := registerCase(t, "default", petitioner(), "restart keeps this case")
	// A case whose ladder is due while the stack is down: the steps fire after the restart,
	// each once.
	fast := registerCase(t, "e2e_fast", petitioner(), "timers survive a restart")
	s.Stop()
	time.Sleep(7 * time.Second) // past the 6-second acceptance deadline

	s, err = devstack.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	baseURL = "http://" + s.Service.Addr()
	v := getCase(t, r.CaseNo)
	if v.Case.Stage != "registered" || v.State == nil || v.State.Stage != workflows.StageRegistered {
		t.Fatalf("after restart: %+v state %+v", v.Case, v.State)
	}
	act(t, r.CaseNo, "accept", map[string]any{"actor": clerk, "unit": "construction", "handler": handler}, http.StatusOK)

	eventually(t, 60*time.Second, "the ladder to finish after the restart", func() bool {
		return getCase(t, fast.CaseNo).Case.EscalationLevel == 3
	})
	count := map[string]int{}
	for _, ty := range eventTypes(t, fast.CaseNo) {
		count[ty]++
	}
	if count["overdue"] != 1 || count["escalated"] != 2 || count["reminder_sent"] > 1 {
		t.Errorf("ladder steps after the restart: %v", count)
	}
}

// recordHistory writes the histories of every run of the case's workflow under
// workflows/testdata/histories when PETITIONS_RECORD_HISTORIES is set (make record-histories),
// for the replay test: <test>.json for a single run, <test>.run1.json, .run2.json … when the
// case continued as new.
func recordHistory(t *testing.T, caseNo string) {
	if os.Getenv("PETITIONS_RECORD_HISTORIES") == "" {
		return
	}
	ctx := context.Background()
	c := stack.Service.Temporal()
	var runs []*workflowpb.WorkflowExecutionInfo
	eventually(t, 20*time.Second, "every run of "+caseNo+" to be visible", func() bool {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowId = '%s'", workflows.WorkflowID(caseNo)),
		})
		if err != nil {
			t.Fatal(err)
		}
		runs = resp.GetExecutions()
		// Visibility catches up asynchronously: wait until it lists the current run.
		desc, err := c.DescribeWorkflowExecution(ctx, workflows.WorkflowID(caseNo), "")
		if err != nil {
			t.Fatal(err)
		}
		current := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		return slices.ContainsFunc(runs, func(r *workflowpb.WorkflowExecutionInfo) bool {
			return r.GetExecution().GetRunId() == current
		})
	})
	sort.Slice(runs, func(i, j int) bool { return runs[i].GetStartTime().AsTime().Before(runs[j].GetStartTime().AsTime()) })
	dir := filepath.Join("..", "workflows", "testdata", "histories")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	keys, err := app.Keys(stack.Config)
	if err != nil {
		t.Fatal(err)
	}
	codec := sealing.NewCodec(keys)
	for i, run := range runs {
		iter := c.GetWorkflowHistory(ctx, workflows.WorkflowID(caseNo), run.GetExecution().GetRunId(), false, 0)
		var events []json.RawMessage
		for iter.HasNext() {
			e, err := iter.Next()
			if err != nil {
				t.Fatal(err)
			}
			// Recorded histories are kept decoded: the replay test runs without the keys of
			// the run that recorded them.
			if err := proxy.VisitPayloads(ctx, e, proxy.VisitPayloadsOptions{
				Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
					return codec.Decode(ps)
				},
			}); err != nil {
				t.Fatal(err)
			}
			b, err := protojson.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, b)
		}
		b, err := json.MarshalIndent(map[string]any{"events": events}, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		name := t.Name() + ".json"
		if len(runs) > 1 {
			name = fmt.Sprintf("%s.run%d.json", t.Name(), i+1)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %s (%d events)", name, len(events))
	}
}
