package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Paging of the calendar broadcast: a page of cases is signalled by one activity; a run
// continues as new after broadcastPagesPerRun pages, so even a province's open cases keep each
// history short.
const (
	broadcastPageSize    = 500
	broadcastPagesPerRun = 40
)

// CalendarBroadcast tells every open case that the holiday calendar changed, page by page. It
// resumes after a worker crash where its history says it stopped; a signal repeated after a
// retried page only makes a case recompute the same deadline again.
func CalendarBroadcast(ctx workflow.Context, in BroadcastInput) (BroadcastProgress, error) {
	p := in.Progress
	if err := workflow.SetQueryHandler(ctx, QueryBroadcastProgress, func() (BroadcastProgress, error) { return p, nil }); err != nil {
		return p, err
	}
	show := func() {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s**\n\nCases told: %d · already ended: %d · last case: %s",
			in.Reason, p.Signalled, p.Ended, firstNonEmpty(p.After, "—")))
	}
	show()
	// Outages are retried for as long as they last, backing off to once a minute.
	retry := &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute}
	for page := 0; ; page++ {
		if page == broadcastPagesPerRun {
			in.Progress = p
			return p, workflow.NewContinueAsNewError(ctx, CalendarBroadcastWorkflow, in)
		}
		var numbers []string
		lctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 30 * time.Second,
			Summary:             "list open cases after " + firstNonEmpty(p.After, "the first"),
			RetryPolicy:         retry,
		})
		if err := workflow.ExecuteActivity(lctx, ActivityOpenCasesPage, p.After, broadcastPageSize).Get(ctx, &numbers); err != nil {
			return p, err
		}
		if len(numbers) == 0 {
			p.Done = true
			show()
			return p, nil
		}
		sctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 5 * time.Minute,
			HeartbeatTimeout:    30 * time.Second,
			Summary:             fmt.Sprintf("tell cases %s … %s", numbers[0], numbers[len(numbers)-1]),
			RetryPolicy:         retry,
		})
		var res SignalResult
		if err := workflow.ExecuteActivity(sctx, ActivitySignalCalendar, numbers).Get(ctx, &res); err != nil {
			return p, err
		}
		p.Signalled += res.Signalled
		p.Ended += res.Ended
		p.After = numbers[len(numbers)-1]
		show()
	}
}
