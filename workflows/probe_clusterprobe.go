//go:build clusterprobe

package workflows

import "go.temporal.io/sdk/workflow"

// The cluster test's upgrade build (internal/cluster.ProbeTag): a workflow change behind
// GetVersion, as a release would make one, that a rolling upgrade rolls out while cases run.
// Every ladder step recorded under the new version carries the detail "upgrade_probe": 1. The
// version is decided at a case's first ladder step and kept: a case whose first step an older
// build recorded keeps the old rule for good (replay finds no marker); one that reaches its
// first step on this build records the marker and takes the new rule. Release builds never
// set recordHook, so their histories and the replay test are untouched.
//
// Keep the names in step with internal/cluster (ProbeChangeID, ProbeDetail).
func init() {
	recordHook = func(ctx workflow.Context, typ string, details map[string]any) {
		switch typ {
		case EventReminderSent, EventReminderSkipped, EventOverdue, EventEscalated:
		default:
			return
		}
		if details != nil && workflow.GetVersion(ctx, "cluster-test-probe", workflow.DefaultVersion, 1) == 1 {
			details["upgrade_probe"] = 1
		}
	}
}
