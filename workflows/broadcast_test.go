package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/petitions/petitions/workflows"
)

// openCases fakes the register's open cases and the signals they receive.
type openCases struct {
	mu       sync.Mutex
	numbers  []string
	told     map[string]int
	failOnce map[string]bool // a page starting here fails once (an outage mid-broadcast)
}

func (o *openCases) page(_ context.Context, after string, limit int) ([]string, error) {
	i, _ := slices.BinarySearch(o.numbers, after)
	for i < len(o.numbers) && o.numbers[i] <= after {
		i++
	}
	return slices.Clone(o.numbers[i:min(i+limit, len(o.numbers))]), nil
}

func (o *openCases) signal(_ context.Context, numbers []string) (workflows.SignalResult, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, no := range numbers[:len(numbers)/2] {
		o.told[no]++ // half the page went out before the outage
	}
	if o.failOnce[numbers[0]] {
		delete(o.failOnce, numbers[0])
		return workflows.SignalResult{}, errors.New("frontend unavailable")
	}
	for _, no := range numbers[len(numbers)/2:] {
		o.told[no]++
	}
	return workflows.SignalResult{Signalled: len(numbers)}, nil
}

func broadcastEnv(o *openCases) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.CalendarBroadcast, workflow.RegisterOptions{Name: workflows.CalendarBroadcastWorkflow})
	env.RegisterActivityWithOptions(o.page, activity.RegisterOptions{Name: workflows.ActivityOpenCasesPage})
	env.RegisterActivityWithOptions(o.signal, activity.RegisterOptions{Name: workflows.ActivitySignalCalendar})
	return env
}

// The broadcast pages through every open case, survives a failed page (retried whole: a case
// told twice only recomputes again), and continues as new on a long list, resuming after the
// last case it handled.
func TestCalendarBroadcastReachesEveryOpenCase(t *testing.T) {
	o := &openCases{told: map[string]int{}, failOnce: map[string]bool{}}
	for i := range 21000 {
		o.numbers = append(o.numbers, fmt.Sprintf("2026-%06d", i+1))
	}
	o.failOnce["2026-000501"] = true // the second page

	env := broadcastEnv(o)
	env.ExecuteWorkflow(workflows.CalendarBroadcastWorkflow, workflows.BroadcastInput{Reason: "test"})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want a continue-as-new after 40 pages, got %v", err)
	}
	var next workflows.BroadcastInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.Progress.After != "2026-020000" || next.Progress.Signalled != 20000 {
		t.Fatalf("carried progress %+v", next.Progress)
	}

	env = broadcastEnv(o)
	env.ExecuteWorkflow(workflows.CalendarBroadcastWorkflow, next)
	var done workflows.BroadcastProgress
	if err := env.GetWorkflowResult(&done); err != nil {
		t.Fatal(err)
	}
	if !done.Done || done.Signalled != 21000 {
		t.Fatalf("result %+v", done)
	}
	for _, no := range o.numbers {
		if n := o.told[no]; n < 1 || n > 2 {
			t.Fatalf("case %s told %d times", no, n)
		}
	}
}
