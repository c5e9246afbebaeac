// Package worker assembles the Temporal worker that runs petition workflows and activities.
package worker

import (
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/petitions/petitions/activities"
	"github.com/petitions/petitions/workflows"
)

// Options tunes the worker; zero values keep the SDK defaults.
type Options struct {
	MaxConcurrentActivities int
	// Pollers per task kind, workflow task slots and the sticky schedule-to-start timeout
	// (zero: the SDK's defaults).
	WorkflowPollers       int
	ActivityPollers       int
	WorkflowTaskSlots     int
	StickyScheduleToStart time.Duration
	// OnFatalError is called when the worker stops for good (e.g. its namespace is gone).
	OnFatalError func(error)
}

// New returns a worker on the petitions task queue with the workflow and activities registered.
func New(c client.Client, acts *activities.Activities, opts Options) sdkworker.Worker {
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize:     opts.MaxConcurrentActivities,
		MaxConcurrentWorkflowTaskPollers:       opts.WorkflowPollers,
		MaxConcurrentActivityTaskPollers:       opts.ActivityPollers,
		MaxConcurrentWorkflowTaskExecutionSize: opts.WorkflowTaskSlots,
		StickyScheduleToStartTimeout:           opts.StickyScheduleToStart,
		OnFatalError:                           opts.OnFatalError,
	})
	Register(w, acts)
	return w
}

// Register puts the petition workflow and its activities on any registry (a worker, a
// replayer or a test environment).
func Register(r sdkworker.Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.Petition, workflow.RegisterOptions{Name: workflows.WorkflowName})
	r.RegisterWorkflowWithOptions(workflows.CalendarBroadcast, workflow.RegisterOptions{Name: workflows.CalendarBroadcastWorkflow})
	r.RegisterWorkflowWithOptions(workflows.ScreeningRound, workflow.RegisterOptions{Name: workflows.ScreeningWorkflow})
	r.RegisterWorkflowWithOptions(workflows.ScreeningOpen, workflow.RegisterOptions{Name: workflows.ScreeningOpenWorkflow})
	if acts == nil {
		return
	}
	// Registered one by one under the contract's names, so a helper method on Activities
	// never becomes an activity by accident.
	for name, fn := range map[string]any{
		workflows.ActivityComputeDeadline:      acts.ComputeDeadline,
		workflows.ActivityRecordTransition:     acts.RecordTransition,
		workflows.ActivityRecordTransitions:    acts.RecordTransitions,
		workflows.ActivityNotify:               acts.Notify,
		workflows.ActivityLookupUnit:           acts.LookupUnit,
		workflows.ActivityDescribeCancellation: acts.DescribeCancellation,
		workflows.ActivityOfficeTime:           acts.OfficeTime,
		workflows.ActivityEvaluateWarnings:     acts.EvaluateWarnings,
		workflows.ActivityOpenCasesPage:        acts.OpenCasesPage,
		workflows.ActivitySignalCalendar:       acts.SignalCalendarChanged,
		workflows.ActivityScreeningUnits:       acts.ScreeningUnits,
		workflows.ActivityRecordScreening:      acts.RecordScreening,
	} {
		r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}
