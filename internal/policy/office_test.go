package policy

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/workflows"
)

func shanghaiAt(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, calendar.Location())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Hand-worked on the shipped 2026 calendar (National Day: 1–7 October off, Saturday 10 October
// a make-up workday).
func TestOfficeTime(t *testing.T) {
	hours := &workflows.OfficeHours{Start: "09:00", End: "17:30"}
	tests := []struct {
		name string
		req  workflows.OfficeTimeRequest
		want string
		note string
	}{
		{"Sunday morning → Monday 09:00", workflows.OfficeTimeRequest{At: shanghaiAt(t, "2026-03-08 10:00"), Hours: hours}, "2026-03-09 09:00", "weekend (Sunday)"},
		{"Friday evening → Monday 09:00", workflows.OfficeTimeRequest{At: shanghaiAt(t, "2026-03-06 18:00"), Hours: hours}, "2026-03-09 09:00", "after office hours"},
		{"at 17:30 the office is closed", workflows.OfficeTimeRequest{At: shanghaiAt(t, "2026-03-10 17:30"), Hours: hours}, "2026-03-11 09:00", "after office hours"},
		{"Monday 07:00 → 09:00 the same day", workflows.OfficeTimeRequest{At: shanghaiAt(t, "2026-03-09 07:00"), Hours: hours}, "2026-03-09 09:00", "before office hours"},
		{"in office hours: unchanged", workflows.OfficeTimeRequest{At: shanghaiAt(t, "2026-03-09 10:15"), Hours: hours}, "2026-03-09 10:15", ""},
		{"eve of National Day → 8 October", workflows.OfficeTimeRequest{At: shanghaiAt(t, "2026-09-30 20:00"), Hours: hours}, "2026-10-08 09:00", "after office hours"},
		{"holiday → next working day", workflows.OfficeTimeRequest{At: shanghaiAt(t, "2026-10-03 11:00"), Hours: hours}, "2026-10-08 09:00", "国庆节"},
		{"Friday night → make-up Saturday", workflows.OfficeTimeRequest{At: shanghaiAt(t, "2026-10-09 19:00"), Hours: hours}, "2026-10-10 09:00", "after office hours"},
		{"default hours", workflows.OfficeTimeRequest{At: shanghaiAt(t, "2026-03-08 10:00"), Hours: &workflows.OfficeHours{}}, "2026-03-09 09:00", ""},
		// Deadline 24:00 of Friday 13 March (= Saturday 00:00): Fri 13, Thu 12, Wed 11.
		{"3wd before a day-end deadline", workflows.OfficeTimeRequest{At: shanghaiAt(t, "2026-03-14 00:00"), WorkingDaysBefore: 3}, "2026-03-11 00:00", "3 working days"},
		// Deadline 24:00 of Friday 9 October: Fri 9, Thu 8, then back over the holiday to Wed 30 September.
		{"3wd over National Day", workflows.OfficeTimeRequest{At: shanghaiAt(t, "2026-10-10 00:00"), WorkingDaysBefore: 3, Hours: hours}, "2026-09-30 09:00", "2026-09-30"},
		// Deadline Monday 9 March 15:00: Mon 9, Fri 6 → Friday 00:00, delivered 09:00.
		{"2wd before a mid-day deadline", workflows.OfficeTimeRequest{At: shanghaiAt(t, "2026-03-09 15:00"), WorkingDaysBefore: 2, Hours: hours}, "2026-03-06 09:00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OfficeTime(calendar.Default(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if s := got.At.In(calendar.Location()).Format("2006-01-02 15:04"); s != tt.want {
				t.Errorf("at %s, want %s (%s)", s, tt.want, got.Note)
			}
			if !strings.Contains(got.Note, tt.note) {
				t.Errorf("note %q, want it to mention %q", got.Note, tt.note)
			}
		})
	}
}

func TestOfficeHoursValidated(t *testing.T) {
	for _, h := range []workflows.OfficeHours{{Start: "9am"}, {Start: "18:00", End: "09:00"}, {End: "25:00"}} {
		if err := ValidateOfficeHours(h); err == nil {
			t.Errorf("%+v accepted", h)
		}
	}
	_, err := Parse([]byte(`[{"name": "x",` + validPeriods + `, "office_hours": {"start": "18:00", "end": "09:00"}}]`))
	if err == nil || !strings.Contains(err.Error(), "office_hours") {
		t.Errorf("err = %v", err)
	}
}

// reminder_before takes working days ("3wd") besides durations, and writes them back so.
func TestReminderInWorkingDays(t *testing.T) {
	set, err := Parse([]byte(`[{"name": "x",` + validPeriods + `, "ladder": {"reminder_before": "3wd", "leader_after": "1d"}, "service_reminder_after": "2d"}]`))
	if err != nil {
		t.Fatal(err)
	}
	p := set["x"]
	if p.Ladder.ReminderWorkingDays != 3 || p.Ladder.ReminderBefore != 0 || p.Ladder.LeaderAfter.Std() != 24*time.Hour ||
		p.ServiceReminderAfter.Std() != 48*time.Hour {
		t.Fatalf("parsed %+v", p)
	}
	b, err := json.Marshal(p.Ladder)
	if err != nil || !strings.Contains(string(b), `"reminder_before":"3wd"`) {
		t.Fatalf("marshalled %s %v", b, err)
	}
	for _, bad := range []string{`"xwd"`, `"-1wd"`} {
		if _, err := Parse([]byte(`[{"name": "x",` + validPeriods + `, "ladder": {"reminder_before": ` + bad + `}}]`)); err == nil {
			t.Errorf("reminder_before %s accepted", bad)
		}
	}
}

// The built-in office policies hold reminders for office hours; demo (seconds) does not.
func TestBuiltinOfficeHours(t *testing.T) {
	for name, p := range Builtin() {
		if (p.OfficeHours != nil) == (name == Demo) {
			t.Errorf("%s: office hours %+v", name, p.OfficeHours)
		}
		if p.ServiceReminderAfter <= 0 {
			t.Errorf("%s: no service_reminder_after", name)
		}
	}
}

// long_standing_after (联查 criterion 2, 上访老户) is a duration; negative is refused.
func TestLongStandingAfter(t *testing.T) {
	set, err := Parse([]byte(`[{"name": "x",` + validPeriods + `, "long_standing_after": "90d"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if got := set["x"].LongStandingAfter.Std(); got != 90*24*time.Hour {
		t.Errorf("long_standing_after %s", got)
	}
	if _, err := Parse([]byte(`[{"name": "x",` + validPeriods + `, "long_standing_after": "-1d"}]`)); err == nil ||
		!strings.Contains(err.Error(), "long_standing_after") {
		t.Errorf("negative long_standing_after: %v", err)
	}
}
