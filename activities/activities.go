// Package activities holds the side effects of the petition workflow: projecting transitions
// into the register, computing deadlines on the legal calendar, looking up units and sending
// notices. Every write is idempotent, keyed by case number and transition sequence, because
// Temporal retries activities.
package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/internal/notify"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/warning"
	"github.com/petitions/petitions/workflows"
)

// Activities are registered on the worker by method name; the names are the contract's
// Activity* constants.
type Activities struct {
	Store    *register.Store
	Notifier notify.Notifier
	// Temporal is the worker's client: the calendar broadcast signals cases with it, and
	// DescribeCancellation reads a case's history. Nil in tests that need neither.
	Temporal client.Client
	// Metrics observes the register's projection lag (nil: not observed).
	Metrics LagObserver
	// WarningRules is the office's early-warning rule table (nil: the built-in one, see
	// internal/warning).
	WarningRules *warning.Rules

	// The calendar is read from the register and cached until the register's calendar
	// version changes: an import (from any process) takes effect on the next computation.
	mu         sync.Mutex
	cal        *calendar.Calendar
	calVersion string
}

// New returns the activities over a register and a notifier.
func New(store *register.Store, n notify.Notifier) *Activities {
	return &Activities{Store: store, Notifier: n}
}

// ComputeDeadline computes a clock's due instant and its explanation on the legal calendar.
func (a *Activities) ComputeDeadline(ctx context.Context, req calendar.Request) (calendar.Explanation, error) {
	cal, err := a.calendar(ctx)
	if err != nil {
		return calendar.Explanation{}, err
	}
	exp, err := cal.Compute(req)
	if err != nil {
		// A malformed request will not get better by retrying.
		return calendar.Explanation{}, temporal.NewNonRetryableApplicationError(err.Error(), "InvalidDeadline", err)
	}
	return exp, nil
}

func (a *Activities) calendar(ctx context.Context) (*calendar.Calendar, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	version, err := a.Store.CalendarVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("holiday calendar version: %w", err)
	}
	if a.cal != nil && version == a.calVersion {
		return a.cal, nil
	}
	years, err := a.Store.CalendarYears(ctx)
	if err != nil {
		return nil, fmt.Errorf("load holiday calendar: %w", err)
	}
	// Years shipped with the code fill in what the register does not have yet.
	have := map[int]bool{}
	for _, y := range years {
		have[y.Year] = true
	}
	for _, y := range calendar.Builtin() {
		if !have[y.Year] {
			years = append(years, y)
		}
	}
	cal, err := calendar.New(years...)
	if err != nil {
		return nil, fmt.Errorf("holiday calendar: %w", err)
	}
	a.cal, a.calVersion = cal, version
	return cal, nil
}

// LagObserver takes how long after its event a transition reached the register
// (internal/metrics: petitions_projection_lag_seconds).
type LagObserver interface {
	ProjectionLag(d time.Duration)
}

// RecordTransition projects one transition into the register. The register ignores a
// transition older than what it holds, so retries and late deliveries are harmless.
func (a *Activities) RecordTransition(ctx context.Context, tr workflows.Transition) error {
	if err := a.Store.ApplyTransition(ctx, tr); err != nil {
		return refusedForGood(err)
	}
	a.observeLag(tr)
	return nil
}

// RecordTransitions projects a batch of transitions in order, each in its own transaction (a
// retry after a partial batch skips what the register has). A transition PostgreSQL refuses
// for good fails the batch as ErrorTransitionRefused, not retried: the case marks itself stuck.
func (a *Activities) RecordTransitions(ctx context.Context, ts []workflows.Transition) error {
	for _, tr := range ts {
		if err := a.Store.ApplyTransition(ctx, tr); err != nil {
			return refusedForGood(fmt.Errorf("transition %s#%d %s: %w", tr.State.CaseNo, tr.Event.Seq, tr.Event.Type, err))
		}
		a.observeLag(tr)
	}
	return nil
}

// observeLag reports now minus the event's time for a transition the register has just
// taken. (A batch retried after a partial failure reports its first transitions again.)
func (a *Activities) observeLag(tr workflows.Transition) {
	if a.Metrics != nil && !tr.Event.At.IsZero() {
		a.Metrics.ProjectionLag(time.Since(tr.Event.At))
	}
}

// refusedForGood turns a PostgreSQL refusal that no retry can cure into a non-retryable error:
// data exceptions (class 22: NUL in text, invalid encoding, a value out of range) and
// integrity violations (class 23). Everything else (outages, a schema being migrated) is
// retried by Temporal.
func refusedForGood(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23")) {
		return temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrorTransitionRefused, err)
	}
	if errors.Is(err, register.ErrInvalidInput) {
		return temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrorTransitionRefused, err)
	}
	return err
}

// DescribeCancellation reads who asked to cancel a case's workflow run, and why, from the
// run's history (the request's identity and reason are not given to the workflow itself).
func (a *Activities) DescribeCancellation(ctx context.Context, workflowID, runID string) (workflows.CancelRequest, error) {
	if a.Temporal == nil {
		return workflows.CancelRequest{}, temporal.NewNonRetryableApplicationError("no Temporal client", "NotConfigured", nil)
	}
	it := a.Temporal.GetWorkflowHistory(ctx, workflowID, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var req workflows.CancelRequest
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return workflows.CancelRequest{}, err
		}
		if attrs := ev.GetWorkflowExecutionCancelRequestedEventAttributes(); attrs != nil {
			req = workflows.CancelRequest{Identity: attrs.GetIdentity(), Reason: attrs.GetCause()}
		}
	}
	return req, nil
}

// Notify delivers a reminder, supervision notice or escalation.
func (a *Activities) Notify(ctx context.Context, n workflows.Notice) error {
	err := a.Notifier.Notify(ctx, n)
	var perm *notify.PermanentError
	if errors.As(err, &perm) {
		return temporal.NewNonRetryableApplicationError(err.Error(), "NoticeRefused", err)
	}
	return err
}

// LookupUnit returns a unit with its parent and responsible people, from the register.
func (a *Activities) LookupUnit(ctx context.Context, code string) (workflows.UnitInfo, error) {
	u, err := a.Store.Unit(ctx, code)
	if errors.Is(err, register.ErrNotFound) {
		return workflows.UnitInfo{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("unit %q is not in the register", code), "UnknownUnit", err)
	}
	if err != nil {
		return workflows.UnitInfo{}, err
	}
	return workflows.UnitInfo{Code: u.Code, Name: u.Name, Parent: u.Parent, Head: u.Head, Leader: u.Leader}, nil
}

// OpenCasesPage lists up to limit open case numbers after the given one (the calendar
// broadcast's cursor).
func (a *Activities) OpenCasesPage(ctx context.Context, after string, limit int) ([]string, error) {
	return a.Store.OpenCaseNumbersAfter(ctx, after, limit)
}

// signalConcurrency bounds the signals of one page in flight: quick for thousands of cases,
// without flooding the frontend service.
const signalConcurrency = 8

// SignalCalendarChanged tells a page of cases that the holiday calendar changed. A case whose
// workflow has ended meanwhile is counted as ended. Any other failure fails the page, which
// Temporal retries whole: a case told twice only recomputes the same deadline again. The
// activity heartbeats its progress, so a crashed worker's page moves to another worker soon.
func (a *Activities) SignalCalendarChanged(ctx context.Context, numbers []string) (workflows.SignalResult, error) {
	if a.Temporal == nil {
		return workflows.SignalResult{}, temporal.NewNonRetryableApplicationError("no Temporal client", "NotConfigured", nil)
	}
	var (
		mu       sync.Mutex
		res      workflows.SignalResult
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan string)
	for range min(signalConcurrency, len(numbers)) {
		wg.Go(func() {
			for no := range work {
				sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err := a.Temporal.SignalWorkflow(sctx, workflows.WorkflowID(no), "", workflows.SignalCalendarChanged, nil)
				cancel()
				var nf *serviceerror.NotFound
				mu.Lock()
				switch {
				case err == nil:
					res.Signalled++
				case errors.As(err, &nf):
					res.Ended++
				case firstErr == nil:
					firstErr = fmt.Errorf("signal case %s: %w", no, err)
				}
				mu.Unlock()
			}
		})
	}
	for i, no := range numbers {
		if i%50 == 0 {
			activity.RecordHeartbeat(ctx, i)
		}
		select {
		case work <- no:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return workflows.SignalResult{}, firstErr
	}
	return res, ctx.Err()
}
