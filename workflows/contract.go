// Package workflows holds the petition lifecycle workflow. This file is its contract: everything
// a client (the API, the tests, an operator with the Temporal CLI) needs to start a case, act on
// it and read it, without depending on how the workflow is written.
package workflows

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/petitions/petitions/internal/calendar"
)

// TaskQueue is the task queue every petition workflow and activity runs on.
const TaskQueue = "petitions"

// WorkflowName is the registered name of the petition workflow.
const WorkflowName = "Petition"

// WorkflowIDPrefix starts every petition workflow ID.
const WorkflowIDPrefix = "petition-"

// WorkflowID is the workflow ID of a case, e.g. "petition-2026-000123" for case 2026-000123,
// so supervisors can find a case in the Web UI by its number.
func WorkflowID(caseNo string) string { return WorkflowIDPrefix + caseNo }

// Stage is where a case stands in its life.
type Stage string

const (
	StageRegistered Stage = "registered" // 登记: waiting for the acceptance decision
	StageHandling   Stage = "handling"   // 办理: accepted, the unit investigates
	StageReplied    Stage = "replied"    // 已答复: the petitioner may evaluate or ask for review
	StageReview     Stage = "review"     // 复查: the next-higher unit reviews
	StageReviewed   Stage = "reviewed"   // 复查已答复: the petitioner may ask for re-review
	StageReReview   Stage = "re_review"  // 复核: the reviewer's next-higher unit decides, finally
	StageClosed     Stage = "closed"     // 办结
	StageTerminated Stage = "terminated" // 终结 (三级终结): never accepted again
	StageRejected   Stage = "rejected"   // 不予受理
	StageWithdrawn  Stage = "withdrawn"  // 撤回
)

// Final reports whether no action can change the case any more.
func (s Stage) Final() bool {
	switch s {
	case StageClosed, StageTerminated, StageRejected, StageWithdrawn:
		return true
	}
	return false
}

// Clock names a deadline a stage runs on.
type Clock string

const (
	ClockAcceptance     Clock = "acceptance"     // registered: decide whether to accept
	ClockHandling       Clock = "handling"       // handling: reply to the petitioner
	ClockReviewRequest  Clock = "review_request" // replied: the petitioner's window to ask for review
	ClockReview         Clock = "review"         // review: the review decision
	ClockReReviewWindow Clock = "re_review_request"
	ClockReReview       Clock = "re_review" // re_review: the final decision; hearings excluded
)

// Role is what an actor may do. The API takes the acting staff member from sign-in; the
// validators check the role and unit again on every action.
type Role string

const (
	RoleClerk      Role = "clerk"      // registry office: registers, accepts, rejects, forwards
	RoleHandler    Role = "handler"    // 承办人: replies, asks for extensions, pauses the clock
	RoleLeader     Role = "leader"     // unit head or leader in charge: decides extensions
	RoleSupervisor Role = "supervisor" // 督查: supervises, reassigns
	RoleReviewer   Role = "reviewer"   // staff of a review or re-review agency
	RolePetitioner Role = "petitioner" // the petitioner: evaluates, asks for review, withdraws
	RoleSystem     Role = "system"     // the workflow itself (timers)
	// RoleAdmin manages staff, tokens, units, routing rules, calendars and policies; it reads
	// no case content and takes no action on a case.
	RoleAdmin Role = "admin"
)

// Actor is who performed an action; recorded with every event.
type Actor struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Role Role   `json:"role"`
	// Unit is the actor's unit code; empty for petitioners and the system.
	Unit string `json:"unit,omitempty"`
	// Units are the units below Unit that a leader's authority also covers (from the
	// directory at sign-in); validators accept a leader acting on a case of any of them.
	Units []string `json:"units,omitempty"`
}

// Search attributes kept current on every transition, so supervisors can filter live cases in
// the Web UI, e.g. `PetitionOverdue = true AND PetitionUnit = "construction"`. They fit within the
// SQLite visibility limits of the dev server.
var (
	SearchCaseNo          = temporal.NewSearchAttributeKeyKeyword("PetitionCaseNo")
	SearchStage           = temporal.NewSearchAttributeKeyKeyword("PetitionStage")
	SearchUnit            = temporal.NewSearchAttributeKeyKeyword("PetitionUnit")
	SearchCategory        = temporal.NewSearchAttributeKeyKeyword("PetitionCategory")
	SearchChannel         = temporal.NewSearchAttributeKeyKeyword("PetitionChannel")
	SearchLeader          = temporal.NewSearchAttributeKeyKeyword("PetitionLeader")
	SearchPolicy          = temporal.NewSearchAttributeKeyKeyword("PetitionPolicy")
	SearchDueAt           = temporal.NewSearchAttributeKeyTime("PetitionDueAt")
	SearchOverdue         = temporal.NewSearchAttributeKeyBool("PetitionOverdue")
	SearchEscalationLevel = temporal.NewSearchAttributeKeyInt64("PetitionEscalationLevel")
	// SearchStuck is true while the register refuses the case's projection for good (a bug or
	// a value PostgreSQL cannot store): the case goes on, its register row lags behind, and
	// engineers must look (`PetitionStuck = true`). Unset on every other case.
	SearchStuck = temporal.NewSearchAttributeKeyBool("PetitionStuck")
)

// Period, Pause and Explanation are the legal calendar's types, used in the contract.
type (
	Period      = calendar.Period
	Pause       = calendar.Pause
	Explanation = calendar.Explanation
)

// Ladder is the escalation ladder of one clock. Offsets are plain durations: the ladder reacts
// to the deadline, it is not itself a statutory period. A zero offset disables that step.
type Ladder struct {
	// ReminderBefore: a reminder 催办 to the handler this long before the deadline.
	ReminderBefore Duration `json:"reminder_before"`
	// ReminderWorkingDays: instead, a reminder at the start of the deadline's Nth-last working
	// day (N working days left). Written "3wd" in reminder_before; see ladder.go.
	ReminderWorkingDays int `json:"-"`
	// At the deadline the case turns overdue and a supervision notice 督办 goes to the unit head.
	// LeaderAfter: this long after the deadline, escalate to the leader in charge (or unit leader).
	LeaderAfter Duration `json:"leader_after"`
	// SuperiorAfter: this long after the deadline, escalate to the superior unit's leader.
	SuperiorAfter Duration `json:"superior_after"`
}

// Policy is the set of time limits a case runs under. It is copied into the case when the case
// starts, so a running case never changes rules silently.
type Policy struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Acceptance: from receipt to the acceptance decision (15 days by statute).
	Acceptance Period `json:"acceptance"`
	// Handling: from acceptance to the reply (one calendar month by default; 60 days by statute).
	Handling Period `json:"handling"`
	// MaxExtension: the longest single extension of the handling limit (30 days by statute).
	MaxExtension Period `json:"max_extension"`
	// ReviewRequestWindow: from the reply, the petitioner's window to ask for review.
	ReviewRequestWindow Period `json:"review_request_window"`
	// Review: from the review request to the review decision.
	Review Period `json:"review"`
	// ReReviewRequestWindow: from the review decision, the window to ask for re-review.
	ReReviewRequestWindow Period `json:"re_review_request_window"`
	// ReReview: from the re-review request to the final decision; hearings excluded.
	ReReview Period `json:"re_review"`
	// Ladder applies to every staff clock (acceptance, handling, review, re-review).
	Ladder Ladder `json:"ladder"`
	// ForwardRestartsClock: a forwarded case gets a fresh acceptance period at the new unit.
	ForwardRestartsClock bool `json:"forward_restarts_clock"`
	// ServiceReminderAfter: this long after a written answer (reply, review decision) whose
	// service date (送达) is not recorded yet, staff are reminded to record it. Zero: 3 days.
	ServiceReminderAfter Duration `json:"service_reminder_after,omitempty"`
	// OfficeHours: reminders and notices falling outside them (at night, on a rest day) are
	// delivered at the start of the next working day. Absent: delivered at once, at any hour.
	OfficeHours *OfficeHours `json:"office_hours,omitempty"`
	// LongStandingAfter: a case open this long is proposed for joint investigation as
	// long-standing (上访老户). Zero: DefaultLongStandingAfter.
	LongStandingAfter Duration `json:"long_standing_after,omitempty"`
}

// OfficeHours are an office's working hours on working days, Asia/Shanghai, "HH:MM".
type OfficeHours struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// PetitionInput starts a case. It carries no personal data: names, ID numbers and contents
// stay in the register, so Temporal histories can be shown to supervisors as they are.
type PetitionInput struct {
	CaseNo   string `json:"case_no"`
	Channel  string `json:"channel"`
	Category string `json:"category"`
	Topic    string `json:"topic"`
	// SuggestedUnit is the unit the routing rules point at; the clerk may accept elsewhere.
	SuggestedUnit string `json:"suggested_unit,omitempty"`
	GroupSize     int    `json:"group_size,omitempty"`
	// Leader is the leader in charge 包案领导 from the start, e.g. the leader who received the
	// petitioner on a reception day (领导接访日); optional.
	Leader string `json:"leader,omitempty"`
	// ReceivedAt starts the acceptance clock; RegisteredAt is when the clerk entered it.
	ReceivedAt   time.Time `json:"received_at"`
	RegisteredAt time.Time `json:"registered_at"`
	RegisteredBy Actor     `json:"registered_by"`
	Policy       Policy    `json:"policy"`
	// Carry is the state a case takes across a continue-as-new, when its history grows long
	// (a case can live for months). Clients starting a case leave it empty.
	Carry json.RawMessage `json:"carry,omitempty"`
	// Import is set for a running case brought in from the office's earlier system (补录):
	// the case starts in the imported stage (see ImportedCase). Empty for a registration.
	Import *ImportedCase `json:"import,omitempty"`
}

// ---- Back-entry of running cases (补录) ----

// ImportedCase is a running case brought in from the office's earlier system, with its real
// dates. Its workflow starts in Stage instead of registering: each clock comes from the same
// deadline computation as always (acceptance from the input's ReceivedAt, handling from
// AcceptedAt, the review-request window from ServedAt), and its history is recorded as events
// marked imported (details "imported": true) at those instants — registered at ReceivedAt,
// accepted at AcceptedAt, replied at RepliedAt — with the importing clerk (the input's
// RegisteredBy) as their actor. A deadline already passed makes the case overdue at once, and
// its ladder fires each step once; a reminder already too late is recorded as
// reminder_skipped.
type ImportedCase struct {
	// ExternalRef is the case's number in the earlier system (the import's idempotency key).
	ExternalRef string `json:"external_ref"`
	// Stage is one of ImportStages.
	Stage Stage `json:"stage"`
	// AcceptedAt: handling and replied cases; RepliedAt: replied cases.
	AcceptedAt *time.Time `json:"accepted_at,omitempty"`
	RepliedAt  *time.Time `json:"replied_at,omitempty"`
	// Unit, Handler and Leader (optional) of an accepted case; a registered case's unit is
	// the input's SuggestedUnit.
	Unit    string `json:"unit,omitempty"`
	Handler string `json:"handler,omitempty"`
	Leader  string `json:"leader,omitempty"`
	// ServedAt and ServiceMethod (送达, optional, a replied case only, both or neither, checked
	// as the reply action checks them): the review request window runs from the service date;
	// without them the case waits for record_service, as a reply recorded without one does.
	ServedAt      *time.Time `json:"served_at,omitempty"`
	ServiceMethod string     `json:"service_method,omitempty"`
}

// ImportStages are the stages a running case may be imported in.
var ImportStages = []Stage{StageRegistered, StageHandling, StageReplied}

// DetailImported marks an event of the imported history (details {"imported": true}).
const DetailImported = "imported"

// Update names: every staff or petitioner action is a Workflow Update with a validator, so an
// action that is not allowed now is refused before it touches history. The HTTP idempotency key
// becomes the Update ID.
const (
	UpdateAwaitRegistration = "await_registration" // no-op: returns the state once deadlines are set
	UpdateAccept            = "accept"
	UpdateReject            = "reject"
	UpdateForward           = "forward"
	UpdateReply             = "reply"
	UpdateRequestExtension  = "request_extension"
	UpdateDecideExtension   = "decide_extension"
	UpdateReassign          = "reassign"
	UpdatePause             = "pause"
	UpdateResume            = "resume"
	UpdateSupervise         = "supervise"
	UpdateEvaluate          = "evaluate"
	UpdateRequestReview     = "request_review"
	UpdateReviewDecision    = "review_decision"
	UpdateRequestReReview   = "request_re_review"
	UpdateReReviewDecision  = "re_review_decision"
	UpdateWithdraw          = "withdraw"
	UpdateLinkRepeat        = "link_repeat"
)

// UpdateRecordService records the day a written answer (reply, review decision) reached the
// petitioner (送达) and how; the petitioner's window starts there.
const UpdateRecordService = "record_service"

// Service methods 送达方式.
const (
	ServiceInPerson = "in_person" // 当面送达
	ServicePost     = "post"      // 邮寄送达
	ServiceSMS      = "sms"       // 短信送达
	ServiceOnline   = "online"    // 网上送达
)

// SignalCalendarChanged tells a running case that the holiday calendar changed: it recomputes
// its future deadlines and re-arms its timers.
const SignalCalendarChanged = "calendar_changed"

// SignalRetryProjection asks a stuck case (SearchStuck) to hand its pending transitions to the
// register again now, after engineers fixed the cause, instead of at its next scheduled retry:
// `temporal workflow signal --workflow-id petition-<no> --name retry_projection`.
const SignalRetryProjection = "retry_projection"

// QueryState returns the CaseState.
const QueryState = "state"

// QueryAllowedActions takes an Actor and returns the update names ([]string) that actor may
// take on the case now, by the rules the updates' validators enforce (stage, role, unit, and
// the case's own state, e.g. decide_extension only while an extension is pending). An action
// that only needs fields the query cannot know (a reason, an opinion) counts as allowed;
// link_repeat and the petitioner's own actions are never listed. Final stages answer none.
// Workers older than the query answer "unknown queryType": clients take that as none.
const QueryAllowedActions = "allowed_actions"

// ActionInput is the argument of every action update. Fields not used by an action are ignored;
// fields an action needs are checked by its validator.
type ActionInput struct {
	Actor Actor `json:"actor"`
	// Unit: accept (handling unit), forward (receiving unit), reassign (new unit), assign (the
	// unit assigned), add_co_unit (the co-handling unit).
	Unit string `json:"unit,omitempty"`
	// Handler: accept, reassign (staff ID of the 承办人).
	Handler string `json:"handler,omitempty"`
	// Leader: accept, reassign (leader in charge 包案领导, optional).
	Leader string `json:"leader,omitempty"`
	// Reason: reject, forward, request_extension, pause, withdraw, decide_extension.
	Reason string `json:"reason,omitempty"`
	// Opinion: reply (处理意见), review_decision, re_review_decision, supervise (instruction).
	Opinion string `json:"opinion,omitempty"`
	// Days: request_extension (days asked for, in the handling period's unit).
	Days int `json:"days,omitempty"`
	// Approved: decide_extension.
	Approved *bool `json:"approved,omitempty"`
	// Outcome: review_decision and re_review_decision, "uphold" or "revise".
	Outcome string `json:"outcome,omitempty"`
	// Evaluation: evaluate, one of Evaluation*.
	Evaluation string `json:"evaluation,omitempty"`
	// NewDueAt: supervise may set a new deadline for the current clock.
	NewDueAt *time.Time `json:"new_due_at,omitempty"`
	// Channel and ReceivedAt: link_repeat (the repeat submission).
	Channel    string    `json:"channel,omitempty"`
	ReceivedAt time.Time `json:"received_at,omitzero"`
	// IfSeq makes the action conditional: it is refused with ErrorStale unless the case's
	// Seq is still this value (HTTP If-Match with the ETag of a case read).
	IfSeq *int64 `json:"if_seq,omitempty"`
	// ServedAt and ServiceMethod: reply, review_decision, re_review_decision (optional) and
	// record_service (required): when and how the written answer reached the petitioner.
	ServedAt      *time.Time `json:"served_at,omitempty"`
	ServiceMethod string     `json:"service_method,omitempty"`
	// ReportDue: assign, review_result (a send-back's new limit): the result report's due instant.
	ReportDue *time.Time `json:"report_due,omitempty"`
	// Reached: record_call_back (the petitioner was reached).
	Reached *bool `json:"reached,omitempty"`
	// Criterion: flag_joint_investigation (JointCriteria, a supervisor's one).
	Criterion string `json:"criterion,omitempty"`
	// Units: decide_joint_investigation (the team's units).
	Units []string `json:"units,omitempty"`
}

// Evaluations 满意度评价.
const (
	EvaluationSatisfied      = "satisfied"       // 满意
	EvaluationBasicSatisfied = "basic_satisfied" // 基本满意
	EvaluationDissatisfied   = "dissatisfied"    // 不满意
)

// Decision outcomes of review and re-review.
const (
	OutcomeUphold = "uphold" // 维持
	OutcomeRevise = "revise" // 撤销或变更
)

// Deadline is the clock a stage runs on, with its explanation.
type Deadline struct {
	Clock Clock     `json:"clock"`
	Start time.Time `json:"start,omitzero"` // zero (left out) while awaiting service
	Due   time.Time `json:"due,omitzero"`
	// AwaitingService: a petitioner's window that has not started, because the answer's
	// service date (送达) is not recorded yet; Start and Due are zero until it is.
	AwaitingService bool `json:"awaiting_service,omitempty"`
	// Paused is true while the clock stands still.
	Paused      bool        `json:"paused"`
	Pauses      []Pause     `json:"pauses,omitempty"`
	Extensions  []Period    `json:"extensions,omitempty"`
	Explanation Explanation `json:"explanation"`
}

// ExtensionRequest is a pending request to extend the handling limit.
type ExtensionRequest struct {
	Days        int       `json:"days"`
	Reason      string    `json:"reason"`
	RequestedBy Actor     `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
}

// CaseState is the live state of a case: the result of every action update and of QueryState.
type CaseState struct {
	CaseNo   string `json:"case_no"`
	Stage    Stage  `json:"stage"`
	Policy   string `json:"policy"`
	Channel  string `json:"channel"`
	Category string `json:"category"`
	Topic    string `json:"topic"`
	// Unit is the unit now responsible; SuggestedUnit what routing proposed.
	Unit          string `json:"unit,omitempty"`
	SuggestedUnit string `json:"suggested_unit,omitempty"`
	Handler       string `json:"handler,omitempty"`
	Leader        string `json:"leader,omitempty"`
	ReviewUnit    string `json:"review_unit,omitempty"`
	ReReviewUnit  string `json:"re_review_unit,omitempty"`
	// Deadline is the running clock; nil in final stages.
	Deadline *Deadline `json:"deadline,omitempty"`
	// Overdue: the running clock's deadline has passed without the action it waits for.
	Overdue bool `json:"overdue"`
	// EscalationLevel: 0 none, 1 overdue notice to the unit head, 2 leader, 3 superior unit.
	EscalationLevel int `json:"escalation_level"`
	// ExtensionUsed: the one extension allowed has been decided (approved or denied).
	ExtensionUsed    bool              `json:"extension_used"`
	PendingExtension *ExtensionRequest `json:"pending_extension,omitempty"`
	ReceivedAt       time.Time         `json:"received_at"`
	RegisteredAt     time.Time         `json:"registered_at"`
	AcceptedAt       *time.Time        `json:"accepted_at,omitempty"`
	RepliedAt        *time.Time        `json:"replied_at,omitempty"`
	ClosedAt         *time.Time        `json:"closed_at,omitempty"`
	// RepliedLate: the reply came after the handling deadline (for the statistics).
	RepliedLate bool   `json:"replied_late"`
	Evaluation  string `json:"evaluation,omitempty"`
	RepeatCount int    `json:"repeat_count"`
	// ServedAt and ServiceMethod: when and how the last written answer (reply, review
	// decision) reached the petitioner (送达); nil while not recorded.
	ServedAt      *time.Time `json:"served_at,omitempty"`
	ServiceMethod string     `json:"service_method,omitempty"`
	// Warnings are the early-warning rules (预警) that fired on the case, each once, in order.
	Warnings []string `json:"warnings,omitempty"`
	// EvaluationSource: who gave Evaluation (EvaluationBy*); empty without one.
	EvaluationSource string `json:"evaluation_source,omitempty"`
	// Assignment 交办, CallBacks 回访, CoUnits 成员单位 and Joint 联查: the bureau's routines on the
	// case (see "The bureau's routines" below); empty when none ran.
	Assignment *Assignment         `json:"assignment,omitempty"`
	CallBacks  []CallBack          `json:"call_backs,omitempty"`
	CoUnits    []CoUnit            `json:"co_units,omitempty"`
	Joint      *JointInvestigation `json:"joint_investigation,omitempty"`
	// Seq is the transition sequence: it rises by one with every recorded event.
	Seq int64 `json:"seq"`
}

// Event types recorded in the register's audit trail (痕迹).
const (
	EventRegistered         = "registered"
	EventAccepted           = "accepted"
	EventRejected           = "rejected"
	EventForwarded          = "forwarded"
	EventReminderSent       = "reminder_sent"
	EventOverdue            = "overdue"
	EventEscalated          = "escalated"
	EventReplied            = "replied"
	EventExtensionRequested = "extension_requested"
	EventExtensionDecided   = "extension_decided"
	EventReassigned         = "reassigned"
	EventPaused             = "paused"
	EventResumed            = "resumed"
	EventSupervised         = "supervised"
	EventEvaluated          = "evaluated"
	EventReviewRequested    = "review_requested"
	EventReviewDecided      = "review_decided"
	EventReReviewRequested  = "re_review_requested"
	EventReReviewDecided    = "re_review_decided"
	EventClosed             = "closed"
	EventTerminated         = "terminated"
	EventWithdrawn          = "withdrawn"
	EventRepeatLinked       = "repeat_linked"
	EventDeadlineChanged    = "deadline_changed"
	// EventReminderSkipped: the reminder's time and the deadline both passed while the case
	// could not run (an outage, or a clock born late); the overdue notice says more.
	EventReminderSkipped = "reminder_skipped"
	// EventCancellationRefused: someone asked Temporal to cancel the case's workflow (Web UI,
	// CLI, API). A petition ends only by the actions the regulation provides, so the case
	// records who asked and goes on.
	EventCancellationRefused = "cancellation_refused"
)

// Service events 送达.
const (
	// EventServiceRecorded: the service date of an answer was recorded; its window starts.
	EventServiceRecorded = "service_recorded"
	// EventServiceReminderSent: an answer's service date is still not recorded; staff are asked.
	EventServiceReminderSent = "service_reminder_sent"
)

// Event is one entry of a case's audit trail.
type Event struct {
	Seq     int64          `json:"seq"`
	Type    string         `json:"type"`
	At      time.Time      `json:"at"`
	Actor   Actor          `json:"actor"`
	Details map[string]any `json:"details,omitempty"`
}

// Transition is what the workflow hands the register after every change: the event and the
// state after it. The register applies it only if Seq is newer than what it holds.
type Transition struct {
	Event Event     `json:"event"`
	State CaseState `json:"state"`
}

// Notice is a message the notifier delivers (reminder, supervision notice, escalation).
// Key is unique per case and step, so a retried delivery is recognised by the receiver.
type Notice struct {
	Key       string `json:"key"`
	CaseNo    string `json:"case_no"`
	Kind      string `json:"kind"`
	Recipient string `json:"recipient"`
	Unit      string `json:"unit,omitempty"`
	Message   string `json:"message"`
	// DeliverAt: a notice held for office hours is delivered then (zero: at once).
	DeliverAt time.Time `json:"deliver_at,omitzero"`
}

// UnitInfo is what the workflow learns about a unit from the register.
type UnitInfo struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
	Head   string `json:"head,omitempty"`
	Leader string `json:"leader,omitempty"`
}

// Activity names, registered from the activities package's methods.
const (
	ActivityComputeDeadline = "ComputeDeadline"
	// ActivityRecordTransition projects one transition (cases started before the outbox).
	ActivityRecordTransition = "RecordTransition"
	// ActivityRecordTransitions projects a batch of transitions in order.
	ActivityRecordTransitions = "RecordTransitions"
	ActivityNotify            = "Notify"
	ActivityLookupUnit        = "LookupUnit"
	// ActivityDescribeCancellation reads who asked Temporal to cancel a case's workflow.
	ActivityDescribeCancellation = "DescribeCancellation"
)

// ActivityOfficeTime answers when a reminder or notice is delivered (OfficeTimeRequest): it
// reads the holiday calendar, so the workflow asks it rather than counting days itself.
const ActivityOfficeTime = "OfficeTime"

// OfficeTimeRequest: At is the instant a step falls due; with WorkingDaysBefore > 0, At is a
// deadline and the step comes at the start of its Nth-last working day. With Hours, an instant
// outside office hours moves to the start of the next working day's hours.
type OfficeTimeRequest struct {
	At                time.Time    `json:"at"`
	WorkingDaysBefore int          `json:"working_days_before,omitempty"`
	Hours             *OfficeHours `json:"hours,omitempty"`
}

// OfficeTime is the answer: the delivery instant, and why it moved (empty: it did not).
type OfficeTime struct {
	At   time.Time `json:"at"`
	Note string    `json:"note,omitempty"`
}

// The calendar broadcast: after a holiday calendar import, a durable job tells every open case
// to recompute its deadlines (SignalCalendarChanged). It pages through the register's open
// cases, resumes where it stopped after a crash, and shows its progress in the Web UI. The API's
// PUT /api/v1/calendars/{year} and `petitiond calendar import` both start it.
const (
	CalendarBroadcastWorkflow = "CalendarBroadcast"
	// CalendarBroadcastIDPrefix starts a broadcast's workflow ID; the rest names the import.
	CalendarBroadcastIDPrefix = "calendar-broadcast-"
	// QueryBroadcastProgress returns a BroadcastProgress.
	QueryBroadcastProgress = "progress"
	// ActivityOpenCasesPage lists open case numbers after a cursor; ActivitySignalCalendar
	// signals a page of cases.
	ActivityOpenCasesPage  = "OpenCasesPage"
	ActivitySignalCalendar = "SignalCalendarChanged"
)

// BroadcastInput starts a calendar broadcast. Progress is empty for a new broadcast and
// carries the counts when the broadcast continues as new.
type BroadcastInput struct {
	// Reason says what changed, for the Web UI ("holiday calendar 2027 imported").
	Reason   string            `json:"reason"`
	Progress BroadcastProgress `json:"progress"`
}

// BroadcastProgress is how far a calendar broadcast has come; the workflow's result when done.
type BroadcastProgress struct {
	// After is the last case number handled; the next page starts after it.
	After string `json:"after,omitempty"`
	// Signalled cases were told; Ended ones had finished meanwhile (nothing to tell).
	Signalled int  `json:"signalled"`
	Ended     int  `json:"ended"`
	Done      bool `json:"done"`
}

// SignalResult is what ActivitySignalCalendar did with one page.
type SignalResult struct {
	Signalled int `json:"signalled"`
	Ended     int `json:"ended"`
}

// CalendarBroadcastID is the workflow ID of the broadcast for one import, named by the year
// and the import's instant, e.g. "calendar-broadcast-2027-20261126T150405".
func CalendarBroadcastID(year int, at time.Time) string {
	return CalendarBroadcastIDPrefix + strconv.Itoa(year) + "-" + at.In(calendar.Location()).Format("20060102T150405.000")
}

// ErrorTransitionRefused is the error type of a projection the register refuses for good (a
// value PostgreSQL cannot store, a violated constraint): retrying the same transition cannot
// succeed, so the case marks itself stuck instead of spinning.
const ErrorTransitionRefused = "TransitionRefused"

// CancelRequest is who asked Temporal to cancel a case's workflow, from its history.
type CancelRequest struct {
	Identity string `json:"identity,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// ---- Early warning (预警) ----

// EventWarningRaised: a warning rule fired for the case (details: rule, reason; no personal
// data). Each rule raises its warning once per case.
const EventWarningRaised = "warning_raised"

// SearchWarnings lists the rules that raised a warning on the case, e.g.
// `PetitionWarnings = "group"`; unset on a case without warnings.
var SearchWarnings = temporal.NewSearchAttributeKeyKeywordList("PetitionWarnings")

// ActivityEvaluateWarnings evaluates the warning rules (internal/warning) for a case that was
// registered or changed (WarningRequest → WarningAnswer). It reads the register (the lodged
// level, the competent unit's level, the petitioner's open cases) and answers only rules.
const ActivityEvaluateWarnings = "EvaluateWarnings"

// NoticeWarning is the kind of the notice a warning sends the petition office's supervisors.
const NoticeWarning = "warning"

// WarningRequest: the case, the event that changed it, and what the workflow knows.
type WarningRequest struct {
	CaseNo string `json:"case_no"`
	Event  string `json:"event"`
	// Unit is the competent unit now (the handling unit, or the routed one before acceptance).
	Unit        string    `json:"unit,omitempty"`
	GroupSize   int       `json:"group_size,omitempty"`
	RepeatCount int       `json:"repeat_count,omitempty"`
	At          time.Time `json:"at"`
	// Office is the registering clerk's unit, whose supervisors hear of a warning.
	Office string `json:"office,omitempty"`
	// Raised are the rules that raised a warning on the case already.
	Raised []string `json:"raised,omitempty"`
}

// WarningAnswer: the warnings raised now and not before, and whom to tell.
type WarningAnswer struct {
	Warnings []RaisedWarning `json:"warnings,omitempty"`
	// Supervisors are the staff IDs of the office's supervisors.
	Supervisors []string `json:"supervisors,omitempty"`
	// LodgedLevel is the level the petition was lodged at ("" unknown): without it a change of
	// the competent unit cannot raise the skip-level warning, and the workflow does not ask.
	LodgedLevel string `json:"lodged_level,omitempty"`
}

// RaisedWarning is one rule that fired, with its reason (no personal data).
type RaisedWarning struct {
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// SearchAttributeKeys lists every search attribute above, for registering them on a server.
var SearchAttributeKeys = []temporal.SearchAttributeKey{
	SearchCaseNo, SearchStage, SearchUnit, SearchCategory, SearchChannel, SearchLeader,
	SearchPolicy, SearchDueAt, SearchOverdue, SearchEscalationLevel, SearchStuck,
	SearchWarnings,
}

// ---- Monthly dispute screening (矛盾纠纷排查, seed 002) ----
//
// Every unit that must file (ScreeningInput.Units: the units directly below the petition
// office's parent, e.g. the district's bureaus, other than the office itself) files a
// screening form each month by the due day, listing its disputes and petition signs, each
// with a leader in charge, a plan and a time limit, or a zero report (零报告). A Temporal
// Schedule (ScreeningScheduleID) starts ScreeningOpenWorkflow, which opens the month's round,
// workflow ID "screening-<YYYY-MM>" (one per month, whatever fires twice). Each unit's report
// runs on its own clock with the case ladder's steps: reminder (催办) before the due instant,
// overdue notice (督办) at it, then the unit's leader, then the superior unit. The round
// closes at ClosesAt: a unit that never filed is recorded as missed (未报).
const (
	ScreeningWorkflow = "ScreeningRound"
	// ScreeningOpenWorkflow is what the schedule starts: it opens the round of the month it
	// runs in (or finds it open) and ends.
	ScreeningOpenWorkflow = "ScreeningOpen"
	ScreeningIDPrefix     = "screening-"
	// ScreeningScheduleID is the Temporal Schedule that opens a round every month.
	ScreeningScheduleID = "screening-monthly"
	// UpdateFileScreening files a unit's report (ScreeningFiling); answers the ScreeningState.
	UpdateFileScreening = "file_screening"
	// QueryScreening returns the ScreeningState.
	QueryScreening = "screening"
	// ActivityScreeningUnits lists the units that must file (ScreeningUnitsRequest).
	ActivityScreeningUnits = "ScreeningUnits"
	// ActivityRecordScreening projects a batch of ScreeningTransitions into the register.
	ActivityRecordScreening = "RecordScreening"
)

// ScreeningRoundID is the workflow ID of a month's round, e.g. "screening-2026-05".
func ScreeningRoundID(month string) string { return ScreeningIDPrefix + month }

// ScreeningMonth is the month key ("2026-05") of an instant, in Asia/Shanghai.
func ScreeningMonth(t time.Time) string { return t.In(calendar.Location()).Format("2006-01") }

// ScreeningPolicy is the time limits of a round; copied into the round when it opens.
type ScreeningPolicy struct {
	Name string `json:"name"`
	// DueDay: the report is due by the end of this day of the month (Asia/Shanghai); 25.
	DueDay int `json:"due_day,omitempty"`
	// DueAfter: instead of DueDay, due this long after the round opens (demos and tests).
	DueAfter Duration `json:"due_after,omitempty"`
	// Ladder: reminder before the due instant, the unit's leader and the superior unit after.
	Ladder Ladder `json:"ladder"`
	// CloseAfter: the round closes this long after the due instant; units without a report
	// are recorded as missed.
	CloseAfter Duration `json:"close_after"`
}

// ScreeningOpenInput is the schedule's argument: the policy every round it opens runs under.
type ScreeningOpenInput struct {
	Policy ScreeningPolicy `json:"policy"`
	// Units that must file; empty: ScreeningUnits asks the register when the round opens.
	Units []string `json:"units,omitempty"`
}

// ScreeningInput starts a round.
type ScreeningInput struct {
	Month  string          `json:"month"` // "2026-05"
	Policy ScreeningPolicy `json:"policy"`
	// Units that must file; empty: the round asks the register (ActivityScreeningUnits).
	Units []string `json:"units,omitempty"`
}

// ScreeningUnitsRequest asks the register for the units that must file.
type ScreeningUnitsRequest struct {
	Month string `json:"month"`
}

// Dispute kinds of a screening form.
const (
	DisputeKindDispute      = "dispute"       // 矛盾纠纷
	DisputeKindPetitionSign = "petition_sign" // 信访苗头
)

// ScreeningDispute is one line of a screening form.
type ScreeningDispute struct {
	Kind    string `json:"kind"`    // DisputeKind*
	Summary string `json:"summary"` // 事由
	Leader  string `json:"leader"`  // 包案领导
	Plan    string `json:"plan"`    // 化解方案
	// TimeLimit: the date by which it should be resolved (化解时限), "2026-06-30".
	TimeLimit string `json:"time_limit"`
}

// ScreeningFiling is the argument of UpdateFileScreening: a unit's form, or a zero report.
type ScreeningFiling struct {
	Actor Actor `json:"actor"`
	// Unit filing; the actor's own unit (a leader may file for a unit below theirs).
	Unit     string             `json:"unit"`
	Zero     bool               `json:"zero"`
	Disputes []ScreeningDispute `json:"disputes,omitempty"`
	Note     string             `json:"note,omitempty"`
}

// Report statuses of a unit in a round.
const (
	ReportPending = "pending" // not filed yet (overdue after the due instant)
	ReportFiled   = "filed"   // a form with disputes
	ReportZero    = "zero"    // 零报告
	ReportMissed  = "missed"  // the round closed without a report (未报)
)

// ScreeningUnit is one unit's report in a round.
type ScreeningUnit struct {
	Unit            string     `json:"unit"`
	Status          string     `json:"status"`
	FiledAt         *time.Time `json:"filed_at,omitempty"`
	FiledBy         *Actor     `json:"filed_by,omitempty"`
	Late            bool       `json:"late"` // filed after the due instant
	Overdue         bool       `json:"overdue"`
	EscalationLevel int        `json:"escalation_level"`
	Disputes        int        `json:"disputes"`
	// Seq rises with every event of this unit's report.
	Seq int64 `json:"seq"`
}

// ScreeningState is a round's live state: QueryScreening and UpdateFileScreening answer it.
type ScreeningState struct {
	Month    string          `json:"month"`
	Policy   string          `json:"policy"`
	OpenedAt time.Time       `json:"opened_at"`
	DueAt    time.Time       `json:"due_at"`
	ClosesAt time.Time       `json:"closes_at"`
	Closed   bool            `json:"closed"`
	Units    []ScreeningUnit `json:"units"`
	// Seq rises with every round-level event (opened, closed).
	Seq int64 `json:"seq"`
}

// Screening events (besides EventReminderSent, EventOverdue and EventEscalated).
const (
	EventRoundOpened  = "screening_opened"    // the month's round opened
	EventReportFiled  = "screening_filed"     // a unit filed its form
	EventZeroReport   = "screening_zero"      // a unit filed a zero report (零报告)
	EventReportMissed = "screening_missed"    // the round closed without the unit's report
	EventRoundClosed  = "screening_closed"    // the round closed
	EventDisputeCase  = "screening_case_made" // a listed dispute became a case (register only)
)

// ScreeningTransition is what a round hands the register after each event: Unit "" for the
// round's own events; Report is the unit's state after it; Disputes the filed lines.
type ScreeningTransition struct {
	Month    string             `json:"month"`
	Unit     string             `json:"unit,omitempty"`
	Event    Event              `json:"event"`
	Round    ScreeningState     `json:"round"` // Units left out
	Report   *ScreeningUnit     `json:"report,omitempty"`
	Disputes []ScreeningDispute `json:"disputes,omitempty"`
	Note     string             `json:"note,omitempty"`
}

// ---- The bureau's routines on a case (seeds 001–003, DOMAIN.md) ----
//
// Assignment with a result report (交办), call-backs (回访), co-handling units (牵头 + 成员单位),
// joint investigation (联查) and the leader in charge from a reception day (包案). Each is a set of
// action updates on the case's own workflow; their state is part of CaseState.

// Routine updates.
const (
	// UpdateAssign 交办: the petition office assigns the case to a unit (Unit; default the
	// handling unit, another moves the case there without a handler) and requires its result
	// report by ReportDue (default: the handling deadline); Opinion carries the office's
	// instructions. Supervisors, while the case is handled.
	UpdateAssign = "assign"
	// UpdateReportResult 办理结果报告: the handling unit reports its result (Opinion) to the office.
	UpdateReportResult = "report_result"
	// UpdateReviewResult 审核: the office accepts the result report (Approved true) or sends it back
	// with reasons (Approved false, Reason; optionally a new ReportDue). The reply to the
	// petitioner waits until a report is accepted.
	UpdateReviewResult = "review_result"
	// UpdateRecordCallBack 回访: staff called the petitioner after the answer: Reached, and when
	// reached the petitioner's Evaluation and notes (Reason). A reached call-back's evaluation
	// counts as the evaluation when the petitioner has not evaluated themselves.
	UpdateRecordCallBack = "record_call_back"
	// UpdateAddCoUnit adds a co-handling unit 成员单位 (Unit) with its part (Opinion) to the case the
	// handling unit leads (牵头单位). Supervisors and the lead unit's leaders, while handled.
	UpdateAddCoUnit = "add_co_unit"
	// UpdateCoReply: a co-handling unit's reply to the lead unit on its part (Opinion). The lead's
	// reply to the petitioner waits for every co-handling unit's.
	UpdateCoReply = "co_reply"
	// UpdateFlagJoint sets a joint-investigation criterion (Criterion, one set by a supervisor,
	// see JointCriteria) with a reason.
	UpdateFlagJoint = "flag_joint_investigation"
	// UpdateDecideJoint: a leader of the petition office (or above it) approves a flagged case
	// into joint investigation with its team of units (Units; the handling unit leads), or
	// declines it (Approved false, Reason).
	UpdateDecideJoint = "decide_joint_investigation"
	// UpdateRecordJointFindings: the team's findings (Opinion), by a team unit's handlers or
	// leaders or a supervisor; the joint investigation is concluded.
	UpdateRecordJointFindings = "record_joint_findings"
	// UpdateAssignLeader 包案: a leader takes charge of the case (Leader), e.g. a leader who
	// received the petitioner on a reception day (领导接访日). Clerks, supervisors and leaders.
	UpdateAssignLeader = "assign_leader"
)

// Routine events.
const (
	EventAssigned            = "assigned"            // 交办
	EventResultReported      = "result_reported"     // the unit's result report
	EventResultReviewed      = "result_reviewed"     // accepted or sent back (details approved, reason)
	EventAssignmentOverdue   = "assignment_overdue"  // the result report is overdue
	EventCallBackRecorded    = "call_back_recorded"  // 回访
	EventCoUnitAdded         = "co_unit_added"       // a co-handling unit and its part
	EventCoReplied           = "co_replied"          // a co-handling unit's reply to the lead
	EventJointFlagged        = "joint_flagged"       // a supervisor set a criterion
	EventJointDecided        = "joint_decided"       // approved (team) or declined
	EventJointFindings       = "joint_findings"      // the team's findings; concluded
	EventLeaderAssigned      = "leader_assigned"     // 包案
	DetailJointProposed      = "joint_proposed"      // details of any event: criteria proposed with it
	NoticeAssignment         = "assignment"          // notices of the assignment routine
	NoticeJointInvestigation = "joint_investigation" // notices of the joint investigation routine
	NoticeCallBackDue        = "call_back"           // reserved: a call-back reminder
)

// Assignment statuses.
const (
	AssignmentAwaiting = "awaiting_report" // waiting for the unit's result report (also after a send-back)
	AssignmentReported = "reported"        // the report waits for the office's review
	AssignmentAccepted = "accepted"        // the office accepted it: the reply may go out
)

// Assignment is the petition office's assignment 交办 of a case, with its result reports.
type Assignment struct {
	By           Actor     `json:"by"`
	At           time.Time `json:"at"`
	Instructions string    `json:"instructions"`
	// ReportDue: the unit's result report is due by then; Overdue once it passed without one.
	ReportDue time.Time      `json:"report_due"`
	Status    string         `json:"status"`
	Overdue   bool           `json:"overdue"`
	Reports   []ResultReport `json:"reports,omitempty"`
}

// ResultReport is one result report of the unit and the office's review of it.
type ResultReport struct {
	Opinion    string     `json:"opinion"`
	By         Actor      `json:"by"`
	At         time.Time  `json:"at"`
	Accepted   *bool      `json:"accepted,omitempty"` // nil until reviewed
	Reason     string     `json:"reason,omitempty"`   // why it was sent back
	ReviewedBy *Actor     `json:"reviewed_by,omitempty"`
	ReviewedAt *time.Time `json:"reviewed_at,omitempty"`
}

// CallBack is one call-back 回访 to the petitioner after an answer.
type CallBack struct {
	At      time.Time `json:"at"`
	By      Actor     `json:"by"`
	Reached bool      `json:"reached"`
	// Evaluation: the petitioner's opinion when reached (Evaluation*).
	Evaluation string `json:"evaluation,omitempty"`
	Notes      string `json:"notes,omitempty"`
}

// Where a case's evaluation came from.
const (
	EvaluationByPetitioner = "petitioner" // the petitioner evaluated (online, by query code)
	EvaluationByCallBack   = "call_back"  // a reached call-back's evaluation counted
)

// CoUnit is a co-handling unit 成员单位 of a case led by the handling unit 牵头单位.
type CoUnit struct {
	Unit      string     `json:"unit"`
	Part      string     `json:"part"`
	AddedBy   Actor      `json:"added_by"`
	AddedAt   time.Time  `json:"added_at"`
	Reply     string     `json:"reply,omitempty"`
	RepliedBy *Actor     `json:"replied_by,omitempty"`
	RepliedAt *time.Time `json:"replied_at,omitempty"`
}

// Joint investigation criteria 联查范围 (seed 002's eight, in its order). Those marked Auto
// in JointCriteria are proposed by the workflow from what it sees; the others are set by a
// supervisor with a reason (UpdateFlagJoint).
const (
	JointUrgentRisk          = "urgent_risk"           // 1 情况紧急，易造成集体访或不良影响
	JointSkipGroupLong       = "skip_group_long"       // 2 越级访、集体访、上访老户 (auto)
	JointMisconduct          = "misconduct"            // 3 群体性事件及干部严重违纪违法
	JointRepeatAfterHandling = "repeat_after_handling" // 4 已作处理仍不服或重信重访 (auto)
	JointAssignmentOverdue   = "assignment_overdue"    // 5 交办件逾期未报结果 (auto)
	JointRecusal             = "recusal"               // 6 应回避或难以核实
	JointUnitRequest         = "unit_request"          // 7 基层要求并经领导认定
	JointLeaderQuick         = "leader_quick"          // 8 领导交办需快查快结
)

// JointCriterion describes one criterion: Auto ones the workflow proposes itself.
type JointCriterion struct {
	Code string `json:"code"`
	No   int    `json:"no"`
	Auto bool   `json:"auto"`
}

// JointCriteria are the eight criteria in seed 002's order.
var JointCriteria = []JointCriterion{
	{JointUrgentRisk, 1, false}, {JointSkipGroupLong, 2, true}, {JointMisconduct, 3, false},
	{JointRepeatAfterHandling, 4, true}, {JointAssignmentOverdue, 5, true}, {JointRecusal, 6, false},
	{JointUnitRequest, 7, false}, {JointLeaderQuick, 8, false},
}

// Joint investigation statuses.
const (
	JointProposed  = "proposed"  // flagged (by the system or a supervisor): a leader decides
	JointApproved  = "approved"  // in joint investigation: the team investigates
	JointDeclined  = "declined"  // a leader declined; a new criterion proposes it again
	JointConcluded = "concluded" // the team's findings are recorded
)

// DefaultLongStandingAfter: a petition open this long counts as long-standing (上访老户, criterion
// 2) unless the policy says otherwise (Policy.LongStandingAfter).
const DefaultLongStandingAfter = 180 * 24 * time.Hour

// JointFlag is one criterion set on a case.
type JointFlag struct {
	Criterion string    `json:"criterion"`
	Auto      bool      `json:"auto"`
	Reason    string    `json:"reason"`
	By        string    `json:"by"` // staff ID; "system" for proposals
	At        time.Time `json:"at"`
}

// JointInvestigation is a case's joint investigation 联查: its criteria, the leader's decision,
// the team and its findings.
type JointInvestigation struct {
	Flags      []JointFlag `json:"flags"`
	Status     string      `json:"status"`
	Team       []string    `json:"team,omitempty"`
	DecidedBy  *Actor      `json:"decided_by,omitempty"`
	DecidedAt  *time.Time  `json:"decided_at,omitempty"`
	Reason     string      `json:"reason,omitempty"`
	Findings   string      `json:"findings,omitempty"`
	FindingsBy *Actor      `json:"findings_by,omitempty"`
	FindingsAt *time.Time  `json:"findings_at,omitempty"`
}

// InvolvedUnits are the units besides the handling unit that work on a case: its co-handling
// units and its joint investigation team. Their staff see the case.
func (s CaseState) InvolvedUnits() []string {
	var out []string
	add := func(u string) {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	for _, c := range s.CoUnits {
		add(c.Unit)
	}
	if s.Joint != nil {
		for _, u := range s.Joint.Team {
			add(u)
		}
	}
	return out
}
