package calendar

import (
	"testing"
	"time"
)

// Issue 12's hand-worked cases that are about the petitioner's service date and about the
// delivery of reminders; the workflow applies them (workflows: service-date, office-hours).

// A window started by a service date (送达): the answer was recorded on Friday 2026-08-28 but
// reached the petitioner by post on Wednesday 2026-09-02. The 30-day review-request window runs
// from the service day, which is not counted: 09-03 is day 1, day 30 is Friday 10-02 — a
// National Day holiday (10-01..10-07 in the 2026 notice) — so the period ends on the next
// working day, Thursday 10-08, at 24:00. Counted from the recording it would have ended
// Sunday 09-27 and rolled to Monday 09-28: the petitioner would have lost ten days.
func TestWindowStartsAtTheServiceDate(t *testing.T) {
	cal := Default()
	served := sh(2026, 9, 2, 15, 0)
	ex, err := cal.Compute(Request{Start: served, Period: cd(30)})
	if err != nil {
		t.Fatal(err)
	}
	if want := sh(2026, 10, 9, 0, 0); !ex.Due.Equal(want) {
		t.Fatalf("window from the service date due %s, want %s\n%s", ex.Due, want, dump(ex))
	}
	recorded, err := cal.Compute(Request{Start: sh(2026, 8, 28, 10, 0), Period: cd(30)})
	if err != nil {
		t.Fatal(err)
	}
	if want := sh(2026, 9, 29, 0, 0); !recorded.Due.Equal(want) {
		t.Fatalf("window from the recording due %s, want %s", recorded.Due, want)
	}
}

// A reminder falling on a Sunday: reminders wait for the next working day's office hours
// (internal/policy OfficeTime asks this calendar). Sunday 2026-09-27 is a rest day, so a
// reminder due then goes out on Monday 09-28; Sunday 2026-09-20 is a make-up workday (调休) in
// the 2026 notice, so a reminder due then goes out that very day.
func TestReminderOnASunday(t *testing.T) {
	cal := Default()
	for _, tc := range []struct {
		day     time.Time
		working bool
	}{
		{sh(2026, 9, 27, 10, 0), false}, // Sunday
		{sh(2026, 9, 28, 10, 0), true},  // Monday
		{sh(2026, 9, 20, 10, 0), true},  // Sunday, make-up workday
	} {
		if got, why := cal.IsWorkingDay(tc.day); got != tc.working {
			t.Errorf("%s: working %v (%s), want %v", tc.day.Format("2006-01-02 Mon"), got, why, tc.working)
		}
	}
}
