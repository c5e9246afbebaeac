// Package activities holds the side effects of the petition workflow: projecting transitions
// into the register, computing deadlines on the legal calendar, looking up units and sending
// notices. Every write is idempotent, keyed by case number and transition sequence, because
// Temporal retries activities.
package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.temporal.io/sdk/temporal"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/internal/notify"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// Activities are registered on the worker by method name; the names are the contract's
// Activity* constants.
type Activities struct {
	Store    *register.Store
	Notifier notify.Notifier

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

// RecordTransition projects one transition into the register. The register ignores a
// transition older than what it holds, so retries and late deliveries are harmless.
func (a *Activities) RecordTransition(ctx context.Context, tr workflows.Transition) error {
	return a.Store.ApplyTransition(ctx, tr)
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
