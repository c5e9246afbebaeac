// Package worker assembles the Temporal worker that runs petition workflows and activities.
package worker

import (
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/petitions/petitions/activities"
	"github.com/petitions/petitions/workflows"
)

// Options tunes the worker; zero values keep the SDK defaults.
type Options struct {
	MaxConcurrentActivities int
}

// New returns a worker on the petitions task queue with the workflow and activities registered.
func New(c client.Client, acts *activities.Activities, opts Options) sdkworker.Worker {
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize: opts.MaxConcurrentActivities,
	})
	Register(w, acts)
	return w
}

// Register puts the petition workflow and its activities on any registry (a worker, a
// replayer or a test environment).
func Register(r sdkworker.Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.Petition, workflow.RegisterOptions{Name: workflows.WorkflowName})
	if acts != nil {
		r.RegisterActivity(acts)
	}
}
