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
	Overdue  bool `json:"overdue,omitempty"`
	Leader   bool `json:"leader,omitempty"`
	Superior bool `json:"superior,omitempty"`
}

type stepKind string

const (
	stepReminder stepKind = "reminder"
	stepOverdue  stepKind = "overdue"
	stepLeader   stepKind = "leader"
	stepSuperior stepKind = "superior"
	stepExpiry   stepKind = "expiry" // a petitioner's window ran out
)

// step is the next thing the running clock will do, and when.
type step struct {
	Kind  stepKind
	Clock Clock
	At    time.Time
}

func (s step) same(o step) bool { return s.Kind == o.Kind && s.Clock == o.Clock && s.At.Equal(o.At) }

// nextStep is the first ladder step of the running clock that has not fired. Steps fire in
// ladder order; a step whose instant has passed fires at once. Nothing runs while paused.
func (p *petition) nextStep() (step, bool) {
	d := p.State.Deadline
	if d == nil || d.Paused || p.State.Stage.Final() {
		return step{}, false
	}
	at := func(k stepKind, t time.Time) (step, bool) { return step{Kind: k, Clock: d.Clock, At: t}, true }
	if isWindow(d.Clock) {
		return at(stepExpiry, d.Due)
	}
	l := p.Input.Policy.Ladder
	switch {
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
	if err := p.record(ctx, EventReminderSent, systemActor, map[string]any{
		"clock": string(d.Clock), "due": d.Due, "recipient": to, "unit": unit,
	}); err != nil {
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
	if err := p.record(ctx, event, systemActor, map[string]any{
		"clock": string(d.Clock), "due": d.Due, "level": level, "recipient": to, "unit": unit,
	}); err != nil {
		return err
	}
	msg := fmt.Sprintf("督办 Supervision: case %s missed its %s deadline (%s).", p.State.CaseNo, clockName(d.Clock), shanghai(d.Due))
	if level > 1 {
		msg = fmt.Sprintf("督办升级 Escalation level %d: case %s is still overdue on its %s deadline (%s).",
			level, p.State.CaseNo, clockName(d.Clock), shanghai(d.Due))
	}
	p.notify(ctx, p.State.Seq, kind, to, unit, msg)
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
	if d == nil || d.Paused {
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
