package workflows_test

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/petitions/petitions/workflows"
)

// TestReplayRecordedHistories replays every recorded history against the current code, so a
// change that would break running cases (non-determinism) fails here rather than in production.
// The histories are recorded from real runs of the e2e tests with `make record-histories`;
// keep the old ones when re-recording after a change: they stand for cases still running.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no recorded histories in testdata/histories")
	}
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(workflows.Petition, workflow.RegisterOptions{Name: workflows.WorkflowName})
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if err := replayer.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
