package app

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// Migrate applies the register's migrations and loads the holiday calendars shipped with the
// code for years the register does not have yet (an imported year is never overwritten).
func Migrate(ctx context.Context, pool *pgxpool.Pool, out io.Writer) error {
	applied, err := register.Migrate(ctx, pool)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range applied {
		fmt.Fprintf(out, "applied migration %s\n", m)
	}
	store := register.New(pool)
	for _, y := range calendar.Builtin() {
		_, err := store.CalendarYear(ctx, y.Year)
		if err == nil {
			continue
		}
		if !errors.Is(err, register.ErrNotFound) {
			return err
		}
		if err := store.PutCalendarYear(ctx, y); err != nil {
			return fmt.Errorf("load holiday calendar %d: %w", y.Year, err)
		}
		fmt.Fprintf(out, "loaded holiday calendar %d (%s)\n", y.Year, y.Source)
	}
	fmt.Fprintln(out, "register is up to date")
	return nil
}

// ImportCalendar stores one year of holidays and tells every open case, so running cases
// recompute their deadlines. It returns how many cases were told.
func ImportCalendar(ctx context.Context, store *register.Store, c client.Client, y calendar.Year) (int, error) {
	if err := y.Validate(); err != nil {
		return 0, err
	}
	if err := store.PutCalendarYear(ctx, y); err != nil {
		return 0, err
	}
	nos, err := store.OpenCaseNumbers(ctx)
	if err != nil {
		return 0, err
	}
	told := 0
	for _, no := range nos {
		err := c.SignalWorkflow(ctx, workflows.WorkflowID(no), "", workflows.SignalCalendarChanged, nil)
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf):
			continue // the case finished meanwhile
		case err != nil:
			return told, fmt.Errorf("tell case %s: %w", no, err)
		}
		told++
	}
	return told, nil
}
