package workflows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/workflows"
)

// Office hours and working-day reminder offsets, on the shipped 2026 calendar (the fake
// OfficeTime is policy.OfficeTime on calendar.Default). t0 is Monday 2 March 2026, 09:00; the
// fake deadline computation adds calendar days to the instant.

const day = 24 * time.Hour

func officePolicy(r *run, acceptanceDays int, l workflows.Ladder) {
	r.input.Policy.Name = "office"
	r.input.Policy.Acceptance = calendar.Period{Amount: acceptanceDays, Unit: calendar.CalendarDays}
	r.input.Policy.Ladder = l
	r.input.Policy.OfficeHours = &workflows.OfficeHours{Start: "09:00", End: "17:30"}
}

// The acceptance deadline is Tuesday 10 March 09:00; the reminder two days before falls on
// Sunday 8 March 09:00 and is delivered on Monday 9 March at 09:00. The deadline does not move:
// overdue at Tuesday 09:00 (in office hours, its notice at once). The leader's step 12 h later
// falls at 21:00: the escalation is recorded then, its notice delivered Wednesday 09:00.
func TestReminderOnSundayDeliveredMondayAtNine(t *testing.T) {
	r := newRun(t)
	officePolicy(r, 8, workflows.Ladder{ReminderBefore: workflows.Duration(2 * day), LeaderAfter: workflows.Duration(12 * time.Hour)})
	var before []string
	r.at(8*day+14*time.Hour, func() { before = r.noticesTo() })
	r.act(8*day+13*time.Hour, workflows.UpdateReject, workflows.ActionInput{Actor: clerk, Reason: "not a petition matter"})
	r.execute()
	r.wantEvents(
		workflows.EventRegistered, time.Duration(0),
		workflows.EventReminderSent, 7*day,
		workflows.EventOverdue, 8*day,
		workflows.EventEscalated, 8*day+12*time.Hour,
		workflows.EventRejected, 8*day+13*time.Hour,
	)
	rem := r.event(workflows.EventReminderSent, 0).Event
	if got := rem.At.In(calendar.Location()).Format("Mon 2006-01-02 15:04"); got != "Mon 2026-03-09 09:00" {
		t.Errorf("reminder at %s", got)
	}
	if note, _ := rem.Details["timing"].(string); !strings.Contains(note, "weekend (Sunday)") {
		t.Errorf("reminder timing %q", note)
	}
	if strings.Join(before, " ") != "reminder:construction-head supervision:construction-head" {
		t.Errorf("notices before Wednesday 09:00: %v", before)
	}
	if len(r.f.notices) != 3 {
		t.Fatalf("notices %v", r.noticesTo())
	}
	esc := r.f.notices[2]
	if esc.Kind != "escalation" || !esc.DeliverAt.Equal(t0.Add(9*day)) {
		t.Errorf("escalation notice %+v, want delivered Wednesday 09:00", esc)
	}
	if at, _ := r.event(workflows.EventEscalated, 0).Event.Details["notice_at"].(string); at == "" {
		t.Errorf("escalated event without notice_at: %v", r.event(workflows.EventEscalated, 0).Event.Details)
	}
	if !r.f.notices[0].DeliverAt.IsZero() || !r.f.notices[1].DeliverAt.IsZero() {
		t.Errorf("notices in office hours held: %+v", r.f.notices[:2])
	}
}

// "3wd": the acceptance deadline is Tuesday 17 March (09:00); three working days before it is
// the start of Friday 13 March (Tue 17, Mon 16, Fri 13), delivered at 09:00.
func TestWorkingDayReminderOffset(t *testing.T) {
	r := newRun(t)
	officePolicy(r, 15, workflows.Ladder{ReminderWorkingDays: 3})
	r.act(12*day, workflows.UpdateReject, workflows.ActionInput{Actor: clerk, Reason: "not a petition matter"})
	r.execute()
	r.wantEvents(
		workflows.EventRegistered, time.Duration(0),
		workflows.EventReminderSent, 11*day,
		workflows.EventRejected, 12*day,
	)
	if len(r.f.office) != 1 || r.f.office[0].WorkingDaysBefore != 3 || !r.f.office[0].At.Equal(t0.Add(15*day)) {
		t.Errorf("office time requests %+v", r.f.office)
	}
}

// Policies without office hours (demo, seconds) ask no calendar and fire at once.
func TestNoOfficeHoursNoLookup(t *testing.T) {
	r := newRun(t)
	r.act(sec(80), workflows.UpdateReject, workflows.ActionInput{Actor: clerk, Reason: "x"})
	r.execute()
	if len(r.f.office) != 0 {
		t.Errorf("office time asked: %+v", r.f.office)
	}
	if r.event(workflows.EventReminderSent, 0).Event.At.Sub(t0) != sec(10) {
		t.Errorf("reminder moved")
	}
}
