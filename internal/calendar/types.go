package calendar

import "time"

// Unit is how a Period is counted.
type Unit string

const (
	// Seconds counts plain elapsed time; for demos and tests only.
	Seconds Unit = "seconds"
	// CalendarDays counts every day (自然日); as the statute reads "日" in most offices.
	CalendarDays Unit = "calendar_days"
	// WorkingDays counts Monday–Friday, minus public holidays, plus make-up workdays (调休).
	WorkingDays Unit = "working_days"
	// Months counts calendar months (e.g. the one-month handling limit for assigned cases).
	Months Unit = "months"
)

// Period is a statutory time limit: an amount of a unit, e.g. 15 working days.
type Period struct {
	Amount int  `json:"amount"`
	Unit   Unit `json:"unit"`
}

// Pause is a span during which a clock stood still (hearing 听证, awaiting materials).
// To is zero while the pause is still running.
type Pause struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to,omitzero"`
	Reason string    `json:"reason,omitempty"`
}

// Request asks for the due instant of one clock.
type Request struct {
	// Clock names the deadline, e.g. "acceptance" or "handling"; echoed in the explanation.
	Clock string `json:"clock"`
	// Policy names the policy the period comes from; echoed in the explanation.
	Policy string `json:"policy"`
	// Start is the instant the period starts running (receipt, acceptance, request...).
	Start time.Time `json:"start"`
	// Period is the limit as the policy states it.
	Period Period `json:"period"`
	// Extensions approved on this clock, each added to the period in its own unit.
	Extensions []Period `json:"extensions,omitempty"`
	// Pauses of this clock; finished pauses move the due instant by the paused time.
	Pauses []Pause `json:"pauses,omitempty"`
}

// StepKind says why a day appears in an explanation.
type StepKind string

const (
	StepStart         StepKind = "start"          // the day the period starts (not counted)
	StepCounted       StepKind = "counted"        // a day counted towards the period
	StepWeekend       StepKind = "weekend"        // skipped: Saturday or Sunday
	StepHoliday       StepKind = "holiday"        // skipped: public holiday
	StepMakeUpWorkday StepKind = "makeup_workday" // counted: a weekend day worked (调休)
	StepRolledForward StepKind = "rolled_forward" // last day fell on a rest day; moved to next working day
	StepPause         StepKind = "pause"          // clock stood still
	StepExtension     StepKind = "extension"      // an approved extension added time
	StepDue           StepKind = "due"            // the resulting due instant
)

// Step is one line of an explanation.
type Step struct {
	Kind StepKind `json:"kind"`
	// Date is the civil date in Asia/Shanghai (YYYY-MM-DD), when the step is about a day.
	Date string `json:"date,omitempty"`
	// Note is a human reading, e.g. "春节 Spring Festival" or "paused 3 days for a hearing".
	Note string `json:"note,omitempty"`
}

// Explanation is how a due instant was computed, for clerks who ask.
type Explanation struct {
	Clock  string    `json:"clock"`
	Policy string    `json:"policy"`
	Start  time.Time `json:"start"`
	Period Period    `json:"period"`
	// Rule is a one-line reading of the rule, e.g. "15 working days from receipt (信访工作条例)".
	Rule  string    `json:"rule"`
	Steps []Step    `json:"steps"`
	Due   time.Time `json:"due"`
	// Summary is a one-line reading for the Temporal UI's current details.
	Summary string `json:"summary"`
}

// StepNote is information a clerk should see that is about no particular counted or skipped day,
// e.g. "no holiday calendar for 2027: only weekends skipped".
const StepNote StepKind = "note"
