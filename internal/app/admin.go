package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/petitions/petitions/api"
	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/internal/register"
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
// recompute their deadlines. It returns how many cases were told and how many could not be
// (repeating the import is harmless).
func ImportCalendar(ctx context.Context, store *register.Store, c client.Client, y calendar.Year, log *slog.Logger) (told, failed int, err error) {
	if err := y.Validate(); err != nil {
		return 0, 0, err
	}
	if err := store.PutCalendarYear(ctx, y); err != nil {
		return 0, 0, err
	}
	nos, err := store.OpenCaseNumbers(ctx)
	if err != nil {
		return 0, 0, err
	}
	told, failed = api.SignalCalendarChanged(ctx, c, nos, log)
	return told, failed, nil
}
