package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/petitions/petitions/internal/app"
	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/internal/config"
	"github.com/petitions/petitions/internal/register"
)

func serve(ctx context.Context, cmd string, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, _, err := config.Parse(cmd, args, getenv, stdout)
	if err != nil {
		return err
	}
	logger := cfg.Logger(stdout)
	roles := app.Roles{API: cmd != "worker", Worker: cmd != "api"}
	stack, err := app.Start(ctx, cfg, roles, logger)
	if err != nil {
		return err
	}
	err = stack.Wait(ctx)
	logger.Info("shutting down")
	stack.Stop()
	return err
}

// withPool parses a database command's flags and runs fn with a connection to the register.
func withPool(ctx context.Context, name string, args []string, getenv func(string) string, stdout io.Writer,
	fn func(*pgxpool.Pool) error) error {
	cfg, _, err := config.Parse(name, args, getenv, stdout)
	if err != nil {
		return err
	}
	pool, err := app.OpenPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	return fn(pool)
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return withPool(ctx, "migrate", args, getenv, stdout, func(pool *pgxpool.Pool) error {
		return app.Migrate(ctx, pool, stdout)
	})
}

func seed(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return withPool(ctx, "seed", args, getenv, stdout, func(pool *pgxpool.Pool) error {
		if err := register.New(pool).SeedDemo(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "demo district loaded (units, staff, routing rules)")
		return nil
	})
}

func calendarCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, rest, err := config.Parse("calendar", args, getenv, stdout)
	if err != nil {
		return err
	}
	if len(rest) != 2 || (rest[0] != "import" && rest[0] != "show") {
		return fmt.Errorf("usage: petitiond calendar import FILE | petitiond calendar show YEAR")
	}
	pool, err := app.OpenPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := register.New(pool)
	if rest[0] == "show" {
		year, err := strconv.Atoi(rest[1])
		if err != nil {
			return fmt.Errorf("not a year: %q", rest[1])
		}
		y, err := store.CalendarYear(ctx, year)
		if err != nil {
			return fmt.Errorf("calendar %d: %w", year, err)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(y)
	}
	b, err := os.ReadFile(rest[1])
	if err != nil {
		return err
	}
	var y calendar.Year
	if err := json.Unmarshal(b, &y); err != nil {
		return fmt.Errorf("%s: not a calendar year: %w", rest[1], err)
	}
	c, err := app.DialTemporal(cfg, cfg.Logger(io.Discard))
	if err != nil {
		return err
	}
	defer c.Close()
	p, err := app.ImportCalendar(ctx, store, c, y, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "calendar %d imported: %d holidays, %d make-up workdays; %d open cases told to recompute their deadlines (%d had just ended)\n",
		y.Year, len(y.Holidays), len(y.Workdays), p.Signalled, p.Ended)
	return nil
}

func policies(args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, _, err := config.Parse("policies", args, getenv, stdout)
	if err != nil {
		return err
	}
	ps, err := app.Policies(cfg)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(ps))
	for n := range ps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := ps[n]
		fmt.Fprintf(stdout, "%-18s acceptance %d %s, handling %d %s, review %d %s, re-review %d %s\n", n,
			p.Acceptance.Amount, p.Acceptance.Unit, p.Handling.Amount, p.Handling.Unit,
			p.Review.Amount, p.Review.Unit, p.ReReview.Amount, p.ReReview.Unit)
	}
	return nil
}
