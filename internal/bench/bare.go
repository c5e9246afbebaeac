package bench

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The bare workflows are the yardstick: the least a Temporal workflow of the same shape as a
// case costs on the same server, through the same client and payload codec. They live on the
// bench's own task queue, served by a worker the bench runs itself, so nothing in the service
// changes for a benchmark.

// DefaultTaskQueue is the bench worker's task queue.
const DefaultTaskQueue = "petitions-bench"

// Registered names of the bare workflows, their updates and activity.
const (
	BareCaseWorkflow  = "BenchBareCase"
	BareTimerWorkflow = "BenchBareTimer"
	BareUpdateStart   = "start" // returns at once, like await_registration
	BareUpdateAct     = "act"   // runs one activity, like an action
	BareActivity      = "BenchBareRecord"
)

// BareInput starts a bare case; it is about as large as a case's start input is small.
type BareInput struct {
	ID        string    `json:"id"`
	Channel   string    `json:"channel"`
	Category  string    `json:"category"`
	Received  time.Time `json:"received"`
	Registrar string    `json:"registrar"`
	// LocalActivity: the action's activity runs as a local activity (in the workflow task),
	// as the service's look-ups and first projection tries do.
	LocalActivity bool `json:"local_activity,omitempty"`
}

// BareAction is the argument of the bare action update.
type BareAction struct {
	Unit    string `json:"unit"`
	Handler string `json:"handler"`
}

// BareState is what the bare updates answer.
type BareState struct {
	ID      string `json:"id"`
	Stage   string `json:"stage"`
	Unit    string `json:"unit,omitempty"`
	Handler string `json:"handler,omitempty"`
	Seq     int64  `json:"seq"`
}

// BareCase is a workflow of a case's shape: started with update-with-start (BareUpdateStart
// answers at once), then one update (BareUpdateAct, with a validator) whose handler runs one
// activity; the workflow ends when that update has finished.
func BareCase(ctx workflow.Context, in BareInput) (BareState, error) {
	st := BareState{ID: in.ID, Stage: "registered", Seq: 1}
	acted := false
	if err := workflow.SetUpdateHandler(ctx, BareUpdateStart, func(ctx workflow.Context) (BareState, error) {
		return st, nil
	}); err != nil {
		return st, err
	}
	act := func(ctx workflow.Context, a BareAction) (BareState, error) {
		var f workflow.Future
		if in.LocalActivity {
			lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
			f = workflow.ExecuteLocalActivity(lctx, BareRecord, a)
		} else {
			actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
			f = workflow.ExecuteActivity(actx, BareActivity, a)
		}
		if err := f.Get(ctx, nil); err != nil {
			return st, err
		}
		st.Stage, st.Unit, st.Handler = "handling", a.Unit, a.Handler
		st.Seq++
		acted = true
		return st, nil
	}
	validate := func(ctx workflow.Context, a BareAction) error {
		if acted || a.Unit == "" || a.Handler == "" {
			return errors.New("not allowed now")
		}
		return nil
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, BareUpdateAct, act,
		workflow.UpdateHandlerOptions{Validator: validate}); err != nil {
		return st, err
	}
	if err := workflow.Await(ctx, func() bool { return acted && workflow.AllHandlersFinished(ctx) }); err != nil {
		return st, err
	}
	return st, nil
}

// BareRecord is the bare action's activity: it does nothing but answer.
func BareRecord(ctx context.Context, a BareAction) (time.Time, error) {
	return time.Now(), nil
}

// BareTimer sleeps until at (one timer) and returns the workflow time at which the timer was
// seen to fire: the yardstick of a deadline storm.
func BareTimer(ctx workflow.Context, at time.Time) (time.Time, error) {
	if d := at.Sub(workflow.Now(ctx)); d > 0 {
		if err := workflow.Sleep(ctx, d); err != nil {
			return time.Time{}, err
		}
	}
	return workflow.Now(ctx), nil
}

// RegisterBare puts the bare workflows and their activity on a registry.
func RegisterBare(r sdkworker.Registry) {
	r.RegisterWorkflowWithOptions(BareCase, workflow.RegisterOptions{Name: BareCaseWorkflow})
	r.RegisterWorkflowWithOptions(BareTimer, workflow.RegisterOptions{Name: BareTimerWorkflow})
	r.RegisterActivityWithOptions(BareRecord, activity.RegisterOptions{Name: BareActivity})
}

// startWorker runs the bench's worker on its task queue until the returned stop is called.
func startWorker(c client.Client, taskQueue string, opts sdkworker.Options) (stop func(), err error) {
	w := sdkworker.New(c, taskQueue, opts)
	RegisterBare(w)
	if err := w.Start(); err != nil {
		return nil, err
	}
	return w.Stop, nil
}
