package api

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/petitions/petitions/workflows"
)

// When a case's workflow does not answer, the reason matters to whoever reads the answer: a
// workflow task that keeps failing (a bug, a non-determinism after a bad deploy, a wedged
// case) needs an engineer at the worker's logs; a case no worker picks up needs the workers
// started; only a workflow service that does not answer is "unavailable". workflowTrouble
// tells them apart; the state-error reason of reads and the answer of a timed-out action
// both use it.

// stuckAfter: a workflow task scheduled this long ago and not picked up means no worker is
// taking the case's work.
const stuckAfter = 5 * time.Second

// timedOut reports a call that ran out of time.
func timedOut(err error) bool {
	var (
		deadline *serviceerror.DeadlineExceeded
		updTO    *client.WorkflowUpdateServiceTimeoutOrCanceledError
	)
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &deadline) || errors.As(err, &updTO)
}

// workflowTrouble looks at the case's workflow after a call to it failed with cause and returns
// a *workflowStuckError when its workflow task is failing on the worker or no worker picks the
// case up; nil when nothing of the sort is seen (a plain timeout or outage).
func (s *Server) workflowTrouble(ctx context.Context, no string, cause error) error {
	var notReady *serviceerror.WorkflowNotReady
	if errors.As(cause, &notReady) && strings.Contains(notReady.Error(), "failed state") {
		// The server refuses queries at once while the workflow task keeps failing.
		return failingOnWorker(no, 0, time.Time{}, cause)
	}
	if s.temporal == nil || !(timedOut(cause) || errors.As(cause, &notReady)) {
		return nil
	}
	dctx, cancel := context.WithTimeout(ctx, describeTimeout)
	defer cancel()
	d, err := s.temporal.DescribeWorkflowExecution(dctx, workflows.WorkflowID(no), "")
	if err != nil || d == nil {
		return nil
	}
	if pt := d.GetPendingWorkflowTask(); pt != nil {
		since := pt.GetOriginalScheduledTime().AsTime()
		switch {
		case pt.GetAttempt() > 1:
			return failingOnWorker(no, pt.GetAttempt(), since, cause)
		case pt.GetState() == enums.PENDING_WORKFLOW_TASK_STATE_SCHEDULED && pt.GetScheduledTime() != nil &&
			s.now().Sub(pt.GetScheduledTime().AsTime()) > stuckAfter:
			return noWorker(no, "the case's workflow task has waited "+s.now().Sub(pt.GetScheduledTime().AsTime()).Round(time.Second).String()+" for a worker", cause)
		}
	}
	q, err := s.temporal.DescribeTaskQueue(dctx, workflows.TaskQueue, enums.TASK_QUEUE_TYPE_WORKFLOW)
	if err == nil && q != nil && len(q.GetPollers()) == 0 {
		return noWorker(no, "no worker is polling the task queue "+strconv.Quote(workflows.TaskQueue), cause)
	}
	return nil
}

func failingOnWorker(no string, attempt int32, since time.Time, cause error) error {
	what := "the case's workflow is failing on the worker"
	if attempt > 1 {
		what += " (workflow task attempt " + strconv.Itoa(int(attempt))
		if !since.IsZero() && since.Unix() > 0 {
			what += " since " + since.In(shanghai).Format(time.RFC3339)
		}
		what += ")"
	}
	return &workflowStuckError{caseNo: no, err: cause,
		reason: what + ": engineers must look at the worker's logs for workflow " + workflows.WorkflowID(no) +
			"; the workflow service itself answers"}
}

func noWorker(no, seen string, cause error) error {
	return &workflowStuckError{caseNo: no, err: cause,
		reason: seen + ": are the workers running? (petitiond worker, task queue " + workflows.TaskQueue + ")"}
}

// While the API waits for an update, the workflow service may stop answering altogether (a
// restart, a network split): the SDK then retries its connection until the wait runs out. A
// watch checks the service's health meanwhile and gives up early, with a 503, once it has
// failed healthChecks times in a row, so a clerk is told within seconds, not after updateWait.
const (
	healthEvery   = 3 * time.Second
	healthTimeout = 1500 * time.Millisecond
	healthChecks  = 2
)

// temporalDownError: the workflow service stopped answering while a request waited for it.
type temporalDownError struct{ err error }

func (e *temporalDownError) Error() string {
	msg := "the workflow service stopped answering its health check"
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}
func (e *temporalDownError) Unwrap() error { return e.err }

var errTemporalDown = errors.New("the workflow service stopped answering")

// watchTemporal returns a context that is cancelled when the workflow service fails its health
// check healthChecks times in a row, and a function that ends the watch and wraps the call's
// error in a *temporalDownError if that is why it ended.
func (s *Server) watchTemporal(ctx context.Context) (context.Context, func(error) error) {
	wctx, cancel := context.WithCancelCause(ctx)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.healthEvery)
		defer t.Stop()
		failed := 0
		for {
			select {
			case <-stop:
				return
			case <-wctx.Done():
				return
			case <-t.C:
			}
			hctx, hcancel := context.WithTimeout(wctx, healthTimeout)
			_, err := s.temporal.CheckHealth(hctx, &client.CheckHealthRequest{})
			hcancel()
			switch {
			case wctx.Err() != nil:
				return
			case err == nil:
				failed = 0
			default:
				if failed++; failed >= healthChecks {
					cancel(errTemporalDown)
					return
				}
			}
		}
	}()
	return wctx, func(err error) error {
		close(stop)
		<-done
		down := errors.Is(context.Cause(wctx), errTemporalDown)
		cancel(nil)
		if err != nil && down && ctx.Err() == nil {
			return &temporalDownError{err: err}
		}
		return err
	}
}
