package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/petitions/petitions/internal/calendar"
)

// Activities are called by name (the Activity* constants), so this package never imports the
// activities package and the workflow stays free of I/O code.

// Start-to-close timeouts: how long one attempt may take before Temporal gives it to another
// worker. Each is a few times the work's normal duration, and short enough that an attempt lost
// with a crashed worker is retried well within the API's wait for an action (20 s).
const (
	activityTimeout = 30 * time.Second // notices: an office's webhook may be slow
	registerTimeout = 10 * time.Second // one PostgreSQL transaction per transition
	lookupTimeout   = 5 * time.Second  // a read or a calendar computation

	// registerRetryMax is the longest back-off of register work during an outage: one attempt
	// per waiting case every 10 s is little load, and the register catches up quickly.
	registerRetryMax = 10 * time.Second
)

// errorUnknownUnit is the error type LookupUnit returns for a unit the register does not have.
const errorUnknownUnit = "UnknownUnit"

// durableOptions: the register and the notifier must never lose an event, so these retry until
// the outage ends. Register work backs off to every 10 s (registerRetryMax), so the register
// catches up within seconds of coming back, and an action answered after an outage is not
// held behind a long back-off; notices to an office's webhook back off to once a minute.
func durableOptions(summary string, timeout, maxInterval time.Duration) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: timeout,
		Summary:             summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    maxInterval,
			MaximumAttempts:    0, // unlimited
		},
	}
}

// boundedOptions: computations and lookups that a clerk is waiting for. When they keep failing
// the action fails with the cause instead of hanging the clerk's request.
func boundedOptions(summary string, attempts int32) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: lookupTimeout,
		Summary:             summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    10 * time.Second,
			MaximumAttempts:    attempts,
		},
	}
}

// localOptions: a short read or computation run as a local activity, in the workflow task that
// needs it: one marker event in the history instead of three activity events and another
// workflow task. Retries are few and quick; the caller falls back to a regular activity (or
// answers the clerk) when they run out.
func localOptions(summary string, attempts int32) workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout: lookupTimeout,
		Summary:             summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    200 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    2 * time.Second,
			MaximumAttempts:    attempts,
		},
	}
}

// computeDeadline computes a clock for an action the clerk waits for. local: as a local
// activity (runs from the outbox version on), else as the regular activity older runs used.
func computeDeadline(ctx workflow.Context, req calendar.Request, local bool) (Explanation, error) {
	summary := "compute " + req.Clock + " deadline"
	var f workflow.Future
	if local {
		f = workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, localOptions(summary, 5)), ActivityComputeDeadline, req)
	} else {
		f = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, boundedOptions(summary, 10)), ActivityComputeDeadline, req)
	}
	var exp Explanation
	err := f.Get(ctx, &exp)
	if err != nil {
		return Explanation{}, fmt.Errorf("compute %s deadline: %w", req.Clock, err)
	}
	return exp, nil
}

// computeDeadlineDurable is computeDeadline for a case's first clock: nobody waits for it, and
// the case must not end up without a clock, so it retries through an outage of any length.
// Activity retries add nothing to the history; only a refusal (a malformed request) returns.
func computeDeadlineDurable(ctx workflow.Context, req calendar.Request) (Explanation, error) {
	exp, err := computeDeadline(ctx, req, true)
	if err == nil || permanent(err) {
		return exp, err
	}
	ctx = workflow.WithActivityOptions(ctx, durableOptions("compute "+req.Clock+" deadline", lookupTimeout, registerRetryMax))
	err = workflow.ExecuteActivity(ctx, ActivityComputeDeadline, req).Get(ctx, &exp)
	if err != nil {
		return Explanation{}, fmt.Errorf("compute %s deadline: %w", req.Clock, err)
	}
	return exp, nil
}

// recordTransition hands one transition to the register. Retries cover outages; if the register
// refuses the transition outright (a non-retryable error, e.g. a bug or a schema mismatch being
// fixed), the case waits and tries again rather than going on with an event the register lacks.
// The caller holds the case mutex, so later events queue behind this one and stay in order.
func recordTransition(ctx workflow.Context, t Transition) error {
	summary := fmt.Sprintf("record #%d %s", t.Event.Seq, t.Event.Type)
	actx := workflow.WithActivityOptions(ctx, durableOptions(summary, activityTimeout, time.Minute))
	for {
		err := workflow.ExecuteActivity(actx, ActivityRecordTransition, t).Get(actx, nil)
		if err == nil || temporal.IsCanceledError(err) || ctx.Err() != nil {
			return err
		}
		workflow.GetLogger(ctx).Error("register refused a transition; retrying in a minute",
			"seq", t.Event.Seq, "type", t.Event.Type, "error", err)
		retry := workflow.NewTimerWithOptions(ctx, recordRetryDelay, workflow.TimerOptions{Summary: "retry " + summary})
		if err := retry.Get(ctx, nil); err != nil {
			return err
		}
	}
}

const recordRetryDelay = time.Minute

// permanent reports an activity failure that retrying cannot cure (a non-retryable
// application error, e.g. a malformed deadline request).
func permanent(err error) bool {
	var ae *temporal.ApplicationError
	return errors.As(err, &ae) && ae.NonRetryable()
}

// local: the first tries run as a local activity in the workflow task that decided the notice
// (one marker; a deadline storm's steps need no extra activity round trip each), and only a
// notifier that keeps failing is retried by a regular activity, as long as it takes. A try that
// timed out may have been delivered: the notice's key lets the receiver drop the repeat.
func notify(ctx workflow.Context, n Notice, local bool) error {
	summary := fmt.Sprintf("notify %s: %s", n.Kind, n.Recipient)
	if local {
		o := localOptions(summary, 2)
		o.StartToCloseTimeout = registerTimeout
		err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, o), ActivityNotify, n).Get(ctx, nil)
		if err == nil || permanent(err) || ctx.Err() != nil {
			return err
		}
	}
	ctx = workflow.WithActivityOptions(ctx, durableOptions(summary, activityTimeout, time.Minute))
	return workflow.ExecuteActivity(ctx, ActivityNotify, n).Get(ctx, nil)
}

// recordTransitions hands a batch of transitions to the register, oldest first. Outages are
// retried inside the activity for as long as they last (no history grows meanwhile); only a
// refusal for good (ErrorTransitionRefused) comes back, and the caller marks the case stuck.
//
// The first try is a local activity in the workflow task that recorded the transitions (one
// marker event; an action's answer needs no further workflow task); when the register does not
// take them within a few quick retries, a regular activity retries for as long as it takes.
func recordTransitions(ctx workflow.Context, ts []Transition) error {
	first, last := ts[0].Event, ts[len(ts)-1].Event
	summary := fmt.Sprintf("record #%d %s", first.Seq, first.Type)
	if len(ts) > 1 {
		summary = fmt.Sprintf("record #%d–#%d (%s … %s)", first.Seq, last.Seq, first.Type, last.Type)
	}
	lctx := workflow.WithLocalActivityOptions(ctx, localOptions(summary, 3))
	err := workflow.ExecuteLocalActivity(lctx, ActivityRecordTransitions, ts).Get(ctx, nil)
	if err == nil || permanent(err) || ctx.Err() != nil {
		return err
	}
	ctx = workflow.WithActivityOptions(ctx, durableOptions(summary, registerTimeout, registerRetryMax))
	return workflow.ExecuteActivity(ctx, ActivityRecordTransitions, ts).Get(ctx, nil)
}

// describeCancellation reads who asked to cancel the case's workflow; "" when it cannot tell.
func describeCancellation(ctx workflow.Context) CancelRequest {
	ctx = workflow.WithActivityOptions(ctx, boundedOptions("read the cancellation request", 3))
	info := workflow.GetInfo(ctx).WorkflowExecution
	var req CancelRequest
	if err := workflow.ExecuteActivity(ctx, ActivityDescribeCancellation, info.ID, info.RunID).Get(ctx, &req); err != nil {
		workflow.GetLogger(ctx).Warn("cancellation request not readable", "error", err)
	}
	return req
}

func lookupUnit(ctx workflow.Context, code string, local bool) (UnitInfo, error) {
	summary := "look up unit " + code
	var f workflow.Future
	if local {
		f = workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, localOptions(summary, 5)), ActivityLookupUnit, code)
	} else {
		f = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, boundedOptions(summary, 5)), ActivityLookupUnit, code)
	}
	var u UnitInfo
	if err := f.Get(ctx, &u); err != nil {
		// An unknown unit is the clerk's typo, not an outage: say so in the action's answer.
		var ae *temporal.ApplicationError
		if errors.As(err, &ae) && ae.Type() == errorUnknownUnit {
			return UnitInfo{}, invalidInput("unit %q is not in the register", code)
		}
		return UnitInfo{}, fmt.Errorf("look up unit %q: %w", code, err)
	}
	return u, nil
}

// officeTime asks the calendar when a reminder or notice is delivered (ActivityOfficeTime), as
// a local activity: one marker in the history, in the task that arms the step.
func officeTime(ctx workflow.Context, req OfficeTimeRequest) (OfficeTime, error) {
	lctx := workflow.WithLocalActivityOptions(ctx, localOptions("office hours", 5))
	var ans OfficeTime
	if err := workflow.ExecuteLocalActivity(lctx, ActivityOfficeTime, req).Get(ctx, &ans); err != nil {
		return OfficeTime{}, fmt.Errorf("office hours: %w", err)
	}
	return ans, nil
}
