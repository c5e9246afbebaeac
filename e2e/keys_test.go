package e2e

import (
	"context"
	"encoding/base64"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/petitions/petitions/internal/app"
	"github.com/petitions/petitions/internal/sealing"
	"github.com/petitions/petitions/workflows"
)

// Key rotation: a case started while key A encrypts continues after key B becomes the
// encrypting key (A still decrypts); its history then holds payloads under both keys, the
// codec server decodes both, and a replay with the rotated keyring passes.
func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	r := registerCase(t, "default", petitioner(), "key rotation keeps the case readable")
	act(t, r.CaseNo, "accept", map[string]any{"actor": clerk, "unit": "construction", "handler": handler}, http.StatusOK)

	keys, err := sealing.LoadKeyring(stack.Config.KeyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	oldID := keys.ActiveID()
	if err := keys.Rotate("rotated-b"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(devDir, "keys-rotated.json")
	if err := keys.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	// Restart API and worker on the rotated keys, at the same address; later tests use them.
	addr := stack.Service.Addr()
	stack.Service.Stop()
	cfg := stack.Config
	cfg.KeyFile, cfg.HTTPAddr = path, addr
	svc, err := app.Start(ctx, cfg, app.Roles{API: true, Worker: true}, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	stack.Service, stack.Config = svc, cfg

	act(t, r.CaseNo, "reply", map[string]any{"actor": handler, "opinion": "轮换密钥后继续办理 handled after rotation"}, http.StatusOK)
	act(t, r.CaseNo, "evaluate", map[string]any{"actor": "petitioner", "query_code": r.QueryCode, "evaluation": "satisfied"}, http.StatusOK)
	waitRegister(t, r.CaseNo, "closed")

	seen := map[string]int{}
	iter := svc.Temporal().GetWorkflowHistory(ctx, workflows.WorkflowID(r.CaseNo), "", false, 0)
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := protojson.Marshal(e)
		for _, id := range []string{oldID, "rotated-b"} {
			if strings.Contains(string(b), `"encryption-key-id":"`+base64.StdEncoding.EncodeToString([]byte(id))+`"`) {
				seen[id]++
			}
		}
	}
	if seen[oldID] == 0 || seen["rotated-b"] == 0 {
		t.Fatalf("events with payloads under each key: %v; want both", seen)
	}
	t.Logf("events with payloads under key %s: %d, under rotated-b: %d", oldID, seen[oldID], seen["rotated-b"])

	replayer, err := sdkworker.NewWorkflowReplayerWithOptions(sdkworker.WorkflowReplayerOptions{
		DataConverter: sealing.DataConverter(keys), FailureConverter: sealing.FailureConverter(keys),
	})
	if err != nil {
		t.Fatal(err)
	}
	replayer.RegisterWorkflowWithOptions(workflows.Petition, workflow.RegisterOptions{Name: workflows.WorkflowName})
	desc, err := svc.Temporal().DescribeWorkflowExecution(ctx, workflows.WorkflowID(r.CaseNo), "")
	if err != nil {
		t.Fatal(err)
	}
	// Replayed as a history (the replayer's own namespace), as the replay test does: local
	// activities are called by name, and a replayer has no activities registered.
	exec := desc.GetWorkflowExecutionInfo().GetExecution()
	hist := &historypb.History{}
	it := svc.Temporal().GetWorkflowHistory(ctx, exec.GetWorkflowId(), exec.GetRunId(), false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, e)
	}
	if err := replayer.ReplayWorkflowHistory(nil, hist); err != nil {
		t.Fatalf("replay with the rotated keys: %v", err)
	}
}
