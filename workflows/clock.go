package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/petitions/petitions/internal/calendar"
)

// A stage's clock is a Deadline in CaseState. Every due instant comes from the ComputeDeadline
// activity, which knows calendar days, working days, months, holidays, pauses and extensions;
// the workflow itself only compares instants and adds the ladder's plain durations.

// isWindow reports whether a clock is the petitioner's window (no ladder; expiry closes the case)
// rather than a staff clock (escalation ladder; expiry makes the case overdue).
func isWindow(c Clock) bool { return c == ClockReviewRequest || c == ClockReReviewWindow }

// periodFor is the policy's period of a clock.
func (p *petition) periodFor(c Clock) Period {
	pol := p.Input.Policy
	switch c {
	case ClockAcceptance:
		return pol.Acceptance
	case ClockHandling:
		return pol.Handling
	case ClockReviewRequest:
		return pol.ReviewRequestWindow
	case ClockReview:
		return pol.Review
	case ClockReReviewWindow:
		return pol.ReReviewRequestWindow
	case ClockReReview:
		return pol.ReReview
	}
	panic("unknown clock " + string(c))
}

// extensionPeriod is the period an extension of days adds to the handling clock: days in the
// handling unit, except that a handling limit in months is extended in calendar days ("one
// month, extended by 30 days").
func (p *petition) extensionPeriod(days int) Period {
	unit := p.Input.Policy.Handling.Unit
	if unit == calendar.Months {
		unit = calendar.CalendarDays
	}
	return Period{Amount: days, Unit: unit}
}

func (d Deadline) clone() Deadline {
	d.Pauses = slices.Clone(d.Pauses)
	d.Extensions = slices.Clone(d.Extensions)
	d.Explanation.Steps = slices.Clone(d.Explanation.Steps)
	return d
}

// dueOverride is a due instant set by a supervisor. It replaces the statutory computation of the
// running clock: later recomputations (resume, extension, calendar change) count a period of
// plain seconds that ends exactly at the override, plus only the pauses and extensions that came
// after it. Pauses after an override therefore move the due by exactly the paused time.
type dueOverride struct {
	At time.Time `json:"at"`
	// Start and Seconds are the equivalent period: Start + Seconds = At, with Start no later than
	// the supervision, so that every later pause falls inside it (ComputeDeadline refuses pauses
	// before a clock's start, and periods that are not positive).
	Start      time.Time `json:"start"`
	Seconds    int       `json:"seconds"`
	Pauses     int       `json:"pauses"`     // pauses of the clock already behind the override
	Extensions int       `json:"extensions"` // extensions already contained in it
}

// newOverride expresses a supervisor's due instant (after now) as a whole number of seconds.
func newOverride(now, at time.Time, d Deadline) *dueOverride {
	secs := int((at.Sub(now) + time.Second - 1) / time.Second)
	return &dueOverride{
		At: at, Start: at.Add(-time.Duration(secs) * time.Second), Seconds: secs,
		Pauses: len(d.Pauses), Extensions: len(d.Extensions),
	}
}

// newClock computes a fresh clock running from start.
func (p *petition) newClock(ctx workflow.Context, c Clock, start time.Time) (Deadline, error) {
	return p.compute(ctx, Deadline{Clock: c, Start: start}, nil)
}

// recompute asks ComputeDeadline for the running clock's due instant after a change (d is the
// changed copy of the running clock) and returns d with it.
func (p *petition) recompute(ctx workflow.Context, d Deadline) (Deadline, error) {
	return p.compute(ctx, d, p.Override)
}

func (p *petition) compute(ctx workflow.Context, d Deadline, o *dueOverride) (Deadline, error) {
	exp, err := computeDeadline(ctx, p.request(d, o), p.outbox)
	if err != nil {
		return Deadline{}, err
	}
	d.Due = exp.Due
	d.Explanation = exp
	return d, nil
}

// request is the ComputeDeadline request for a clock. Only finished pauses are passed: a running
// pause has no end yet, and resume recomputes.
func (p *petition) request(d Deadline, o *dueOverride) calendar.Request {
	req := calendar.Request{
		Clock:      string(d.Clock),
		Policy:     p.Input.Policy.Name,
		Start:      d.Start,
		Period:     p.periodFor(d.Clock),
		Extensions: d.Extensions,
		Pauses:     d.Pauses,
	}
	if o != nil {
		req.Start = o.Start
		req.Period = Period{Amount: o.Seconds, Unit: calendar.Seconds}
		req.Extensions = d.Extensions[o.Extensions:]
		req.Pauses = d.Pauses[o.Pauses:]
	}
	req.Pauses = finishedPauses(req.Pauses)
	if len(req.Extensions) == 0 {
		req.Extensions = nil
	}
	return req
}

func finishedPauses(ps []Pause) []Pause {
	var out []Pause
	for _, p := range ps {
		if !p.To.IsZero() {
			out = append(out, p)
		}
	}
	return out
}

// install starts a new clock: a new stage's deadline, with a fresh ladder.
func (p *petition) install(d Deadline) {
	p.State.Deadline = &d
	p.State.Overdue = false
	p.State.EscalationLevel = 0
	p.Fired = ladderFired{}
	p.Override = nil
}

// move gives the running clock a new due instant (extension, resume, supervision, calendar
// change). Steps already fired stay fired, and the escalation level keeps its maximum; but a
// deadline moved past now is no longer missed, so the case is not overdue and the overdue step
// is armed again against the new due (otherwise missing the new due would go unnoticed).
func (p *petition) move(ctx workflow.Context, d Deadline) {
	p.State.Deadline = &d
	if p.State.Overdue && d.Due.After(workflow.Now(ctx)) {
		p.State.Overdue = false
		p.Fired.Overdue = false
	}
}

// ladderFired records which steps of the running clock's ladder have fired, so each fires once.
type ladderFired struct {
	Reminder bool `json:"reminder,omitempty"`
	// ServiceReminder: staff were reminded to record an answer's service date (送达).
	ServiceReminder bool `json:"service_reminder,omitempty"`
	Overdue         bool `json:"overdue,omitempty"`
	Leader          bool `json:"leader,omitempty"`
	Superior        bool `json:"superior,omitempty"`
}

type stepKind string

const (
	stepReminder stepKind = "reminder"
	stepOverdue  stepKind = "overdue"
	stepLeader   stepKind = "leader"
	stepSuperior stepKind = "superior"
	stepExpiry   stepKind = "expiry" // a petitioner's window ran out
	// stepServiceReminder: an answer's service date is still not recorded.
	stepServiceReminder stepKind = "service_reminder"
)

// step is the next thing the running clock will do, and when.
type step struct {
	Kind  stepKind
	Clock Clock
	At    time.Time
	// Raw is the instant the ladder gives (the step's identity); At is later when office
	// hours hold the step (see officeStep). For a working-day reminder Raw is the deadline and
	// WorkingDays the offset.
	Raw         time.Time
	WorkingDays int
}

func (s step) same(o step) bool {
	return s.Kind == o.Kind && s.Clock == o.Clock && s.Raw.Equal(o.Raw) && s.WorkingDays == o.WorkingDays
}

// nextStep is the first ladder step of the running clock that has not fired. Steps fire in
// ladder order; a step whose instant has passed fires at once. Nothing runs while paused.
func (p *petition) nextStep() (step, bool) {
	d := p.State.Deadline
	if d == nil || d.Paused || p.State.Stage.Final() {
		return step{}, false
	}
	at := func(k stepKind, t time.Time) (step, bool) { return step{Kind: k, Clock: d.Clock, At: t, Raw: t}, true }
	if d.AwaitingService {
		// No window runs before the answer reached the petitioner; staff are reminded once.
		if p.Fired.ServiceReminder {
			return step{}, false
		}
		return at(stepServiceReminder, p.AnsweredAt.Add(p.serviceReminderAfter()))
	}
	if isWindow(d.Clock) {
		return at(stepExpiry, d.Due)
	}
	l := p.Input.Policy.Ladder
	switch {
	case l.ReminderWorkingDays > 0 && !p.Fired.Reminder:
		// The instant comes from the calendar (officeStep); until then it is the deadline.
		return step{Kind: stepReminder, Clock: d.Clock, At: d.Due, Raw: d.Due, WorkingDays: l.ReminderWorkingDays}, true
	case l.ReminderBefore > 0 && !p.Fired.Reminder:
		return at(stepReminder, d.Due.Add(-l.ReminderBefore.Std()))
	case !p.Fired.Overdue:
		return at(stepOverdue, d.Due)
	case l.LeaderAfter > 0 && !p.Fired.Leader:
		return at(stepLeader, d.Due.Add(l.LeaderAfter.Std()))
	case l.SuperiorAfter > 0 && !p.Fired.Superior:
		return at(stepSuperior, d.Due.Add(l.SuperiorAfter.Std()))
	}
	return step{}, false
}

// armedStep is the timer of the next step.
type armedStep struct {
	step   step
	timer  workflow.Future // nil: the step was already due when armed
	cancel workflow.CancelFunc
}

func (a *armedStep) ready() bool { return a.timer == nil || a.timer.IsReady() }

// arm starts a cancellable timer for st; the timer's summary names the step in the Web UI.
func (p *petition) arm(ctx workflow.Context, st step) *armedStep {
	wait := st.At.Sub(workflow.Now(ctx))
	if wait <= 0 {
		return &armedStep{step: st, cancel: func() {}}
	}
	tctx, cancel := workflow.WithCancel(ctx)
	timer := workflow.NewTimerWithOptions(tctx, wait, workflow.TimerOptions{Summary: st.summary()})
	return &armedStep{step: st, timer: timer, cancel: cancel}
}

func (s step) summary() string {
	name := clockName(s.Clock)
	switch s.Kind {
	case stepReminder:
		return "reminder before " + name + " deadline"
	case stepOverdue:
		return name + " deadline"
	case stepLeader:
		return "escalate to leader (" + name + ")"
	case stepSuperior:
		return "escalate to superior unit (" + name + ")"
	case stepServiceReminder:
		return "remind staff to record the service date (" + name + ")"
	default:
		return name
	}
}

func clockName(c Clock) string {
	switch c {
	case ClockReviewRequest:
		return "review request window"
	case ClockReReviewWindow:
		return "re-review request window"
	case ClockReReview:
		return "re-review"
	}
	return string(c)
}

// fire performs a step whose timer went off, if it is still the next step: an action may have
// changed the clock while the timer's wake-up waited for the mutex.
func (p *petition) fire(ctx workflow.Context, st step) error {
	if cur, ok := p.nextStep(); !ok || !cur.same(st) || workflow.Now(ctx).Before(st.At) {
		return nil
	}
	switch st.Kind {
	case stepReminder:
		return p.remind(ctx)
	case stepOverdue:
		return p.escalate(ctx, 1)
	case stepLeader:
		return p.escalate(ctx, 2)
	case stepSuperior:
		return p.escalate(ctx, 3)
	case stepExpiry:
		return p.expire(ctx)
	case stepServiceReminder:
		return p.remindService(ctx)
	}
	return nil
}

// remind sends the reminder 催办 before the deadline. A reminder whose deadline has already
// passed (the clock was born late, e.g. a letter registered long after receipt) is skipped: the
// overdue notice follows at once and says more.
func (p *petition) remind(ctx workflow.Context) error {
	p.Fired.Reminder = true
	d := p.State.Deadline
	if !workflow.Now(ctx).Before(d.Due) {
		if !p.outbox {
			return nil // cases from before the outbox skipped it without a trace
		}
		// The audit trail says why no reminder went out.
		return p.record(ctx, EventReminderSkipped, systemActor, map[string]any{
			"clock": string(d.Clock), "due": d.Due,
			"reason": "the deadline had passed when the reminder came due (an outage, or a case registered late)",
		})
	}
	unit := p.clockUnit()
	to := p.reminderRecipient()
	details := map[string]any{"clock": string(d.Clock), "due": d.Due, "recipient": to, "unit": unit}
	if note := p.deferralNote(stepReminder, d.Clock); note != "" {
		details["timing"] = note // placed by working days or held for office hours
	}
	if err := p.record(ctx, EventReminderSent, systemActor, details); err != nil {
		return err
	}
	p.notify(ctx, p.State.Seq, "reminder", to, unit, fmt.Sprintf(
		"催办 Reminder: case %s — the %s deadline is %s.", p.State.CaseNo, clockName(d.Clock), shanghai(d.Due)))
	return nil
}

// escalate fires ladder level 1 (overdue: supervision notice 督办 to the unit head), 2 (the leader
// in charge or the unit's leader) or 3 (the superior unit's leader).
func (p *petition) escalate(ctx workflow.Context, level int) error {
	d := p.State.Deadline
	p.State.Overdue = true
	p.State.EscalationLevel = max(p.State.EscalationLevel, level)
	event, kind := EventEscalated, "escalation"
	switch level {
	case 1:
		p.Fired.Overdue = true
		event, kind = EventOverdue, "supervision"
	case 2:
		p.Fired.Leader = true
	case 3:
		p.Fired.Superior = true
	}
	to, unit := p.escalationRecipient(level)
	details := map[string]any{"clock": string(d.Clock), "due": d.Due, "level": level, "recipient": to, "unit": unit}
	// The case turns overdue now; the notice waits for office hours.
	deliverAt, note := p.officeDelivery(ctx)
	if !deliverAt.IsZero() {
		details["notice_at"], details["timing"] = deliverAt, note
	}
	if err := p.record(ctx, event, systemActor, details); err != nil {
		return err
	}
	msg := fmt.Sprintf("督办 Supervision: case %s missed its %s deadline (%s).", p.State.CaseNo, clockName(d.Clock), shanghai(d.Due))
	if level > 1 {
		msg = fmt.Sprintf("督办升级 Escalation level %d: case %s is still overdue on its %s deadline (%s).",
			level, p.State.CaseNo, clockName(d.Clock), shanghai(d.Due))
	}
	p.notifyAt(ctx, p.State.Seq, kind, to, unit, msg, deliverAt)
	return nil
}

// expire closes the case when the petitioner's window runs out without a request.
func (p *petition) expire(ctx workflow.Context) error {
	clock := p.State.Deadline.Clock
	p.close(ctx, StageClosed)
	return p.record(ctx, EventClosed, systemActor, map[string]any{
		"reason": clockName(clock) + " expired", "clock": string(clock),
	})
}

// clockUnit is the unit whose staff the running clock waits for.
func (p *petition) clockUnit() string {
	switch p.State.Stage {
	case StageReview:
		return p.State.ReviewUnit
	case StageReReview:
		return p.State.ReReviewUnit
	}
	return p.State.Unit
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// reminderRecipient: the case's handler while handling; otherwise (or without a handler) the
// head of the clock's unit. The registering clerk is the last resort (首问负责制).
func (p *petition) reminderRecipient() string {
	u := p.Units[p.clockUnit()]
	handler := ""
	if p.State.Stage == StageHandling {
		handler = p.State.Handler
	}
	return firstNonEmpty(handler, u.Head, u.Leader, p.Input.RegisteredBy.ID)
}

// escalationRecipient returns whom a ladder level notifies, and about which unit.
func (p *petition) escalationRecipient(level int) (recipient, unit string) {
	code := p.clockUnit()
	u := p.Units[code]
	clerk := p.Input.RegisteredBy.ID
	switch level {
	case 1:
		return firstNonEmpty(u.Head, u.Leader, clerk), code
	case 2:
		return firstNonEmpty(p.State.Leader, u.Leader, u.Head, clerk), code
	}
	// Level 3: the superior unit; a top-level unit has none, so its own leader hears again.
	if parent, ok := p.Units[u.Parent]; ok && u.Parent != "" {
		return firstNonEmpty(parent.Leader, parent.Head, clerk), parent.Code
	}
	return firstNonEmpty(u.Leader, u.Head, clerk), code
}

// onCalendarChanged recomputes the running clock against the new holiday calendar. A paused
// clock is left alone (resume recomputes); a failed computation keeps the old due instant.
func (p *petition) onCalendarChanged(ctx workflow.Context) error {
	p.calendarSeen = p.calendarSignals
	d := p.State.Deadline
	if d == nil || d.Paused || d.AwaitingService {
		return nil
	}
	next, err := p.recompute(ctx, d.clone())
	if err != nil {
		p.logger.Warn("deadline not recomputed after calendar change; keeping the old one", "error", err)
		return nil
	}
	if next.Due.Equal(d.Due) {
		return nil
	}
	previous := d.Due
	p.move(ctx, next)
	return p.record(ctx, EventDeadlineChanged, systemActor, map[string]any{
		"clock": string(next.Clock), "previous_due": previous, "due": next.Due, "reason": "holiday calendar changed",
	})
}

// ---- service dates (送达) ----

// Change IDs of this file's versioned behaviour.
const (
	// versionService: the petitioner's windows start at the answer's service date (送达), and
	// wait for it; before it, they started when staff recorded the answer.
	versionService = "service-date"
	// versionOffice: reminders and notices are held for office hours, and reminder offsets may
	// be working days (both only under policies that ask for them).
	versionOffice = "office-hours"
)

// defaultServiceReminderAfter is the policy's service_reminder_after when it is not set.
const defaultServiceReminderAfter = 3 * 24 * time.Hour

func (p *petition) serviceReminderAfter() time.Duration {
	if d := p.Input.Policy.ServiceReminderAfter.Std(); d > 0 {
		return d
	}
	return defaultServiceReminderAfter
}

// awaitingService is a petitioner's window that waits for the answer's service date.
func (p *petition) awaitingService(c Clock) Deadline {
	return Deadline{Clock: c, AwaitingService: true, Explanation: Explanation{
		Clock: string(c), Policy: p.Input.Policy.Name, Period: p.periodFor(c),
		Rule:    describeWindow(p.periodFor(c)) + " from the day the written answer reached the petitioner (送达)",
		Summary: "waiting for the service date (送达): the " + clockName(c) + " starts when it is recorded",
	}}
}

func describeWindow(per Period) string {
	return fmt.Sprintf("%d %s", per.Amount, unitText(per.Unit))
}

// serviceUnit is the unit whose staff record the service of the answer now awaiting it: the
// handling unit's reply, the reviewing unit's decision.
func (p *petition) serviceUnit() string {
	if p.State.Stage == StageReviewed {
		return p.State.ReviewUnit
	}
	return p.State.Unit
}

// openWindow starts the petitioner's window after an answer recorded now: from its service
// date when the action gives one (the answer's day at the earliest), else it waits for
// record_service. It returns the window and the event details about the service.
func (p *petition) openWindow(ctx workflow.Context, c Clock, in ActionInput) (Deadline, map[string]any, error) {
	now := workflow.Now(ctx)
	details := map[string]any{}
	if in.ServedAt == nil {
		w := p.awaitingService(c)
		details["awaiting_service"] = true
		return w, details, nil
	}
	w, err := p.newClock(ctx, c, laterOf(*in.ServedAt, now))
	if err != nil {
		return Deadline{}, nil, err
	}
	details["served_at"], details["service_method"], details["due"] = *in.ServedAt, in.ServiceMethod, w.Due
	return w, details, nil
}

// served records an answer's service in the state (nil: not recorded yet).
func (p *petition) served(now time.Time, in ActionInput) {
	p.AnsweredAt = now
	p.State.ServedAt, p.State.ServiceMethod = nil, ""
	if in.ServedAt != nil {
		t := *in.ServedAt
		p.State.ServedAt, p.State.ServiceMethod = &t, in.ServiceMethod
	}
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// remindService asks the answering unit's staff to record the service date of an answer
// that is still waiting for it.
func (p *petition) remindService(ctx workflow.Context) error {
	p.Fired.ServiceReminder = true
	d := p.State.Deadline
	unit := p.serviceUnit()
	u := p.Units[unit]
	handler := ""
	if p.State.Stage == StageReplied {
		handler = p.State.Handler
	}
	to := firstNonEmpty(handler, u.Head, u.Leader, p.Input.RegisteredBy.ID)
	details := map[string]any{"clock": string(d.Clock), "answered_at": p.AnsweredAt, "recipient": to, "unit": unit}
	if note := p.deferralNote(stepServiceReminder, d.Clock); note != "" {
		details["timing"] = note
	}
	if err := p.record(ctx, EventServiceReminderSent, systemActor, details); err != nil {
		return err
	}
	p.notify(ctx, p.State.Seq, "service_reminder", to, unit, fmt.Sprintf(
		"送达提醒 Service date: case %s — the answer of %s has no service date yet; record when it reached the petitioner (record_service), the %s starts there.",
		p.State.CaseNo, shanghai(p.AnsweredAt), clockName(d.Clock)))
	return nil
}

// ---- office hours ----

// deferral is the calendar's answer for the step armed last (carried across continue-as-new,
// so a re-armed step does not ask again).
type deferral struct {
	Kind        stepKind  `json:"kind"`
	Clock       Clock     `json:"clock"`
	Raw         time.Time `json:"raw"`
	WorkingDays int       `json:"working_days,omitempty"`
	At          time.Time `json:"at"`
	Note        string    `json:"note,omitempty"`
}

func (d *deferral) of(st step) bool {
	return d != nil && d.Kind == st.Kind && d.Clock == st.Clock && d.Raw.Equal(st.Raw) && d.WorkingDays == st.WorkingDays
}

// deferralNote is why the running clock's step of kind came when it did ("" if on time).
func (p *petition) deferralNote(k stepKind, c Clock) string {
	if d := p.Deferral; d != nil && d.Kind == k && d.Clock == c {
		return d.Note
	}
	return ""
}

// officeStep places a reminder in time by the calendar, when the policy asks: a working-day
// offset, and office hours (a reminder due at night or on a rest day waits for the next
// working day's start). The calendar is read by a local activity when the step is armed, and
// the answer kept in the state; other steps (deadlines and escalations) never move.
func (p *petition) officeStep(ctx workflow.Context, st step) step {
	pol := p.Input.Policy
	if st.Kind != stepReminder && st.Kind != stepServiceReminder || pol.OfficeHours == nil && st.WorkingDays == 0 {
		return st
	}
	fallback := st.Raw
	if st.WorkingDays > 0 {
		fallback = st.Raw.Add(-time.Duration(st.WorkingDays) * 24 * time.Hour)
	}
	if workflow.GetVersion(ctx, versionOffice, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		st.At = fallback
		return st
	}
	if !p.Deferral.of(st) {
		d := &deferral{Kind: st.Kind, Clock: st.Clock, Raw: st.Raw, WorkingDays: st.WorkingDays, At: fallback}
		ans, err := officeTime(ctx, OfficeTimeRequest{At: st.Raw, WorkingDaysBefore: st.WorkingDays, Hours: pol.OfficeHours})
		if err != nil {
			p.logger.Warn("office hours not known; the reminder goes out at its plain instant", "error", err)
		} else {
			d.At, d.Note = ans.At, ans.Note
		}
		// A reminder held past its own deadline would say nothing: it keeps its instant.
		if st.Kind == stepReminder && st.WorkingDays == 0 && p.State.Deadline != nil && !d.At.Before(p.State.Deadline.Due) {
			d.At, d.Note = st.Raw, ""
		}
		p.Deferral = d
	}
	st.At = p.Deferral.At
	return st
}

// officeDelivery is when a notice decided now is delivered under the policy's office hours:
// zero (at once) without office hours or within them.
func (p *petition) officeDelivery(ctx workflow.Context) (time.Time, string) {
	hours := p.Input.Policy.OfficeHours
	if hours == nil || workflow.GetVersion(ctx, versionOffice, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return time.Time{}, ""
	}
	now := workflow.Now(ctx)
	ans, err := officeTime(ctx, OfficeTimeRequest{At: now, Hours: hours})
	if err != nil {
		p.logger.Warn("office hours not known; the notice goes out at once", "error", err)
		return time.Time{}, ""
	}
	if !ans.At.After(now) {
		return time.Time{}, ""
	}
	return ans.At, ans.Note
}
