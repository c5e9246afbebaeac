package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/petitions/petitions/api"
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

// ImportCalendar stores one year of holidays and starts the durable job that tells every open
// case to recompute its deadlines (workflows.CalendarBroadcast; it needs a worker). It waits
// for the job, writing its progress to out every few seconds, until it ends or ctx does; the
// job goes on without the caller, and repeating the import is harmless.
func ImportCalendar(ctx context.Context, store *register.Store, c client.Client, y calendar.Year, out io.Writer) (workflows.BroadcastProgress, error) {
	if err := y.Validate(); err != nil {
		return workflows.BroadcastProgress{}, err
	}
	if err := store.PutCalendarYear(ctx, y); err != nil {
		return workflows.BroadcastProgress{}, err
	}
	id, err := api.StartCalendarBroadcast(ctx, c, y.Year, time.Now())
	if err != nil {
		return workflows.BroadcastProgress{}, fmt.Errorf("calendar stored, but the broadcast to open cases did not start (import again): %w", err)
	}
	fmt.Fprintf(out, "calendar %d stored; telling open cases (workflow %s)\n", y.Year, id)
	for {
		wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		p, done := api.WaitCalendarBroadcast(wctx, c, id)
		cancel()
		if done {
			return p, nil
		}
		if ctx.Err() != nil {
			return p, fmt.Errorf("stopped waiting; the broadcast %s goes on: %w", id, ctx.Err())
		}
		fmt.Fprintf(out, "  … %d cases told so far (last %s)\n", p.Signalled, p.After)
	}
}
