package policy

import (
	"errors"
	"fmt"
	"time"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/workflows"
)

// DefaultOfficeHours are the office hours a policy's "office_hours": {} stands for.
var DefaultOfficeHours = workflows.OfficeHours{Start: "09:00", End: "17:30"}

// maxSearchDays bounds the search for a working day (the longest Chinese holiday is 8 days; a
// calendar claiming more is wrong, and the instant is then left as it is).
const maxSearchDays = 60

// clockOf reads "HH:MM" as the offset from midnight.
func clockOf(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// officeHours reads hours, filling the defaults in.
func officeHours(h workflows.OfficeHours) (start, end time.Duration, err error) {
	if h.Start == "" {
		h.Start = DefaultOfficeHours.Start
	}
	if h.End == "" {
		h.End = DefaultOfficeHours.End
	}
	if start, err = clockOf(h.Start); err != nil {
		return 0, 0, err
	}
	if end, err = clockOf(h.End); err != nil {
		return 0, 0, err
	}
	if end <= start {
		return 0, 0, errors.New("office hours must end after they start")
	}
	return start, end, nil
}

// ValidateOfficeHours checks a policy's office hours.
func ValidateOfficeHours(h workflows.OfficeHours) error {
	_, _, err := officeHours(h)
	return err
}

func midnight(t time.Time) time.Time {
	t = t.In(calendar.Location())
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, calendar.Location())
}

// OfficeTime answers the ActivityOfficeTime request on a calendar: first a working-day offset
// (the start of the deadline's Nth-last working day: with a deadline at 24:00 of Friday and no
// holiday, "3wd" is Wednesday 00:00), then office hours (an instant at night or on a rest day
// moves to the start of the next working day's hours, e.g. Sunday 10:00 → Monday 09:00).
func OfficeTime(cal *calendar.Calendar, req workflows.OfficeTimeRequest) (workflows.OfficeTime, error) {
	at := req.At.In(calendar.Location())
	var notes []string
	if n := req.WorkingDaysBefore; n > 0 {
		// The deadline's last day: a deadline at 00:00 is the end of the day before.
		day := midnight(at)
		if day.Equal(at) {
			day = day.AddDate(0, 0, -1)
		}
		found := 0
		for i := 0; i < maxSearchDays+n*7; i++ {
			if ok, _ := cal.IsWorkingDay(day); ok {
				found++
				if found == n {
					break
				}
			}
			day = day.AddDate(0, 0, -1)
		}
		if found < n {
			return workflows.OfficeTime{}, fmt.Errorf("no %d working days found before %s", n, at.Format(time.DateTime))
		}
		at = day
		notes = append(notes, fmt.Sprintf("%d working days before the deadline: %s", n, at.Format(time.DateOnly)))
	}
	if req.Hours != nil {
		start, end, err := officeHours(*req.Hours)
		if err != nil {
			return workflows.OfficeTime{}, err
		}
		day := midnight(at)
		since := at.Sub(day)
		working, reason := cal.IsWorkingDay(day)
		switch {
		case working && since >= start && since < end:
			// within office hours
		case working && since < start:
			at = day.Add(start)
			notes = append(notes, "before office hours: delivered at "+at.Format("2006-01-02 15:04"))
		default:
			why := "after office hours"
			if !working {
				why = reason
			}
			next := day.AddDate(0, 0, 1)
			for i := 0; i < maxSearchDays; i++ {
				if ok, _ := cal.IsWorkingDay(next); ok {
					break
				}
				next = next.AddDate(0, 0, 1)
			}
			at = next.Add(start)
			notes = append(notes, fmt.Sprintf("%s: delivered at the start of the next working day, %s", why, at.Format("2006-01-02 15:04")))
		}
	}
	out := workflows.OfficeTime{At: at}
	for i, n := range notes {
		if i > 0 {
			out.Note += "; "
		}
		out.Note += n
	}
	return out, nil
}
