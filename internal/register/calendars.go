package register

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/petitions/petitions/internal/calendar"
)

// PutCalendarYear stores a year's holiday arrangement, replacing whatever that year held, in
// one transaction: readers see the old year or the new one, never a mix. An invalid year
// (calendar.Year.Validate) is refused with ErrInvalidInput.
func (s *Store) PutCalendarYear(ctx context.Context, y calendar.Year) error {
	if err := y.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidInput, err)
	}
	rows := make([][]any, 0, len(y.Holidays)+len(y.Workdays))
	add := func(kind string, days []calendar.Day) error {
		for _, d := range days {
			t, err := time.Parse(time.DateOnly, d.Date)
			if err != nil {
				return fmt.Errorf("%w: calendar %d: %q: %v", ErrInvalidInput, y.Year, d.Date, err)
			}
			rows = append(rows, []any{t, y.Year, kind, d.Name})
		}
		return nil
	}
	if err := add("holiday", y.Holidays); err != nil {
		return err
	}
	if err := add("workday", y.Workdays); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO calendar_years (year, source, updated_at)
			VALUES ($1, $2, now())
			ON CONFLICT (year) DO UPDATE SET source = EXCLUDED.source, updated_at = now()`,
			y.Year, y.Source); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM calendar_days WHERE year = $1", y.Year); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"calendar_days"},
			[]string{"date", "year", "kind", "name"}, pgx.CopyFromRows(rows))
		return err
	})
}

// CalendarYear returns one stored year, or ErrNotFound.
func (s *Store) CalendarYear(ctx context.Context, year int) (calendar.Year, error) {
	years, err := s.calendarYears(ctx, "WHERE y.year = $1", year)
	if err != nil {
		return calendar.Year{}, err
	}
	if len(years) == 0 {
		return calendar.Year{}, ErrNotFound
	}
	return years[0], nil
}

// CalendarYears returns every stored year, in order.
func (s *Store) CalendarYears(ctx context.Context) ([]calendar.Year, error) {
	return s.calendarYears(ctx, "")
}

func (s *Store) calendarYears(ctx context.Context, where string, args ...any) ([]calendar.Year, error) {
	// A LEFT JOIN keeps a stored year without any day (valid, if unusual).
	rows, _ := s.pool.Query(ctx, `SELECT y.year, y.source, d.date, d.kind, d.name
		FROM calendar_years y LEFT JOIN calendar_days d ON d.year = y.year `+where+`
		ORDER BY y.year, d.date`, args...)
	var out []calendar.Year
	var (
		year       int
		source     string
		date       *time.Time
		kind, name *string
	)
	_, err := pgx.ForEachRow(rows, []any{&year, &source, &date, &kind, &name}, func() error {
		if len(out) == 0 || out[len(out)-1].Year != year {
			out = append(out, calendar.Year{Year: year, Source: source,
				Holidays: []calendar.Day{}, Workdays: []calendar.Day{}})
		}
		y := &out[len(out)-1]
		if date == nil {
			return nil
		}
		d := calendar.Day{Date: date.Format(time.DateOnly), Name: *name}
		if *kind == "holiday" {
			y.Holidays = append(y.Holidays, d)
		} else {
			y.Workdays = append(y.Workdays, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CalendarVersion changes whenever a calendar year is stored, so a process holding a cached
// calendar can tell cheaply that it must reload.
func (s *Store) CalendarVersion(ctx context.Context) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx,
		`SELECT count(*)::text || '/' || coalesce(max(updated_at)::text, '') FROM calendar_years`).Scan(&v)
	return v, err
}
