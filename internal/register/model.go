// Package register is the case register (台账) in PostgreSQL: the queryable copy of every case
// and its audit trail. Temporal runs the process; the register answers lists, searches and
// statistics. Workflows write to it only through activities, in transition order.
package register

import (
	"encoding/json"
	"errors"
	"time"
)

// Errors the API maps to status codes.
var (
	// ErrNotFound: no such case, unit, staff member or calendar year.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the write collides with existing data (e.g. an idempotency key reused for
	// a different request).
	ErrConflict = errors.New("conflict")
	// ErrInvalidInput: a malformed argument, e.g. a list cursor that was not issued by List.
	ErrInvalidInput = errors.New("invalid input")
)

// Petitioner is a person raising a petition. Personal data: kept in the register only.
type Petitioner struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Address  string `json:"address,omitempty"`
}

// Attachment is metadata of a file handed in with a petition; the file itself lives elsewhere.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size,omitempty"`
	Ref         string `json:"ref,omitempty"`
}

// NewCase is a registration as the clerk entered it.
type NewCase struct {
	// IdempotencyKey: the same key returns the same case (optional).
	IdempotencyKey string
	Channel        string
	Category       string
	Topic          string
	Content        string
	Location       string
	GroupSize      int
	Petitioners    []Petitioner
	Attachments    []Attachment
	Policy         string
	ReceivedAt     time.Time
	RegisteredAt   time.Time
	// RegisteredBy is the clerk's staff ID (首问负责制: stays the petitioner's contact).
	RegisteredBy  string
	SuggestedUnit string
	// NotRepeatOf names a case the caller knows has ended although the register still shows
	// it open; Register does not report the petition as its repeat.
	NotRepeatOf string
	// LodgedLevel is the administrative level the petition was lodged at (warning.Levels;
	// empty: unknown), for the skip-level warning (越级访).
	LodgedLevel string
	// Leader is the leader in charge (包案领导) from the start, a staff ID: the leader who
	// received the petitioner on a reception day (领导接访日); empty for most registrations.
	Leader string
}

// Case is one row of the register.
type Case struct {
	CaseNo string `json:"case_no"`
	// QueryCode is the petitioner's secret (查询码): never serialised with a case; the
	// registration receipt and a reissue show it once.
	QueryCode       string          `json:"-"`
	Channel         string          `json:"channel"`
	Category        string          `json:"category"`
	Topic           string          `json:"topic"`
	Content         string          `json:"content,omitempty"`
	Location        string          `json:"location,omitempty"`
	GroupSize       int             `json:"group_size"`
	Policy          string          `json:"policy"`
	SuggestedUnit   string          `json:"suggested_unit,omitempty"`
	Unit            string          `json:"unit,omitempty"`
	Handler         string          `json:"handler,omitempty"`
	Leader          string          `json:"leader,omitempty"`
	ReviewUnit      string          `json:"review_unit,omitempty"`
	ReReviewUnit    string          `json:"re_review_unit,omitempty"`
	Stage           string          `json:"stage"`
	Overdue         bool            `json:"overdue"`
	EscalationLevel int             `json:"escalation_level"`
	RegisteredBy    string          `json:"registered_by,omitempty"`
	ReceivedAt      time.Time       `json:"received_at"`
	RegisteredAt    time.Time       `json:"registered_at"`
	AcceptedAt      *time.Time      `json:"accepted_at,omitempty"`
	DueAt           *time.Time      `json:"due_at,omitempty"`
	RepliedAt       *time.Time      `json:"replied_at,omitempty"`
	ClosedAt        *time.Time      `json:"closed_at,omitempty"`
	OnTime          *bool           `json:"on_time,omitempty"`
	Evaluation      string          `json:"evaluation,omitempty"`
	RepeatCount     int             `json:"repeat_count"`
	Seq             int64           `json:"seq"`
	Petitioners     []Petitioner    `json:"petitioners,omitempty"`
	Attachments     []Attachment    `json:"attachments,omitempty"`
	Deadline        json.RawMessage `json:"deadline,omitempty"` // workflows.Deadline as last projected
	UpdatedAt       time.Time       `json:"updated_at"`
	// RepliedLate: the reply came after the handling deadline (CaseState.RepliedLate).
	RepliedLate bool `json:"replied_late"`
	// ReviewRequested / ReReviewRequested: the petitioner asked for review 复查 / re-review 复核
	// at some point; they never revert, for the review-rate statistics.
	ReviewRequested   bool `json:"review_requested"`
	ReReviewRequested bool `json:"re_review_requested"`
	// The bureau's routines as last projected (routines.go): Routines holds the workflow's
	// assignment, call_backs, co_units and joint_investigation; the rest are their columns.
	Routines         json.RawMessage `json:"routines,omitempty"`
	InvolvedUnits    []string        `json:"involved_units,omitempty"`
	EvaluationSource string          `json:"evaluation_source,omitempty"`
	CallBacks        int             `json:"call_backs"`
	AssignmentStatus string          `json:"assignment_status,omitempty"`
	JointStatus      string          `json:"joint_status,omitempty"`
	JointCriteria    []string        `json:"joint_criteria,omitempty"`
}

// Unit is a department or agency; Parent is the next-higher agency used for review and
// re-review.
type Unit struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
	Head   string `json:"head,omitempty"`   // staff ID of the unit head
	Leader string `json:"leader,omitempty"` // staff ID of the unit's leader
	Email  string `json:"email,omitempty"`
}

// Staff is a member of staff who acts on cases.
type Staff struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Role  string `json:"role"` // a workflows.Role
	Unit  string `json:"unit"`
	Phone string `json:"phone,omitempty"`
}

// RoutingRule sends a category/topic to the responsible unit (谁主管谁负责).
type RoutingRule struct {
	ID int64 `json:"id"`
	// Keyword matched in the topic (case-insensitive); Category empty matches any category.
	Keyword  string `json:"keyword"`
	Category string `json:"category,omitempty"`
	Unit     string `json:"unit"`
	Priority int    `json:"priority"`
	Disabled bool   `json:"disabled"`
}

// ListFilter selects cases; zero fields do not filter. Results are sorted by due date, then
// case number, and paged by an opaque cursor.
type ListFilter struct {
	Stage           string
	Unit            string
	Category        string
	Channel         string
	Overdue         *bool
	DueBefore       *time.Time
	DueAfter        *time.Time
	EscalationLevel *int
	// ExtensionPending selects cases with (true) or without (false) an extension request
	// waiting for the leader's decision.
	ExtensionPending *bool
	// Handler, Leader and RegisteredBy select one staff member's cases by exact staff ID: a
	// handler's queue, a leader in charge's (包案领导) cases, a first-contact clerk's.
	Handler      string
	Leader       string
	RegisteredBy string
	// RegisteredAfter (inclusive) and RegisteredBefore (exclusive) bound the registration instant.
	RegisteredAfter  *time.Time
	RegisteredBefore *time.Time
	// Text matches the topic or the content (case-insensitive substring) or, when it has the
	// shape of a case number (ValidCaseNo), the case number exactly.
	Text string
	// TextMatchesIdentity lets Text also match the cases' petitioners: a name exactly, an ID
	// number or a phone normalised and compared by keyed hash. IdentityExcludesAccusations
	// keeps accusations (检举控告) out of that match, for readers who may not see who accused:
	// a search by a person must not reveal an accusation to them. The caller decides both from
	// who reads; the register knows no roles.
	TextMatchesIdentity         bool
	IdentityExcludesAccusations bool
	// Warning selects cases with a warning of this rule (warning.Codes) raised on them.
	Warning string
	// JointStatus selects cases whose joint investigation (联查) has this status
	// (workflows.Joint*: proposed, approved, declined, concluded); AssignmentStatus those whose
	// assignment (交办) has this one (workflows.Assignment*). Other values are ErrInvalidInput.
	JointStatus      string
	AssignmentStatus string
	// InvolvedUnit selects the cases this unit co-handles (成员单位) or investigates jointly
	// (联查 team): a unit code among the case's involved units.
	InvolvedUnit string
	Limit        int
	Cursor       string
	// Scope limits the cases to those a reader may see; nil lists every case (for the
	// petition office and internal callers).
	Scope *Scope
}

// Scope is the set of cases a reader may see: those whose ledger unit (the handling unit, or
// the routed unit before acceptance) or one of whose involved units (co-handling units, joint
// investigation team) is in LedgerUnits, or whose review or re-review unit is in ReviewUnits.
// An empty Scope sees nothing.
type Scope struct {
	LedgerUnits []string
	ReviewUnits []string
}

// Page is one page of a list.
type Page struct {
	Cases      []Case `json:"cases"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// Stats are the figures petition offices report for a period (and optionally one unit).
type Stats struct {
	From              time.Time      `json:"from"`
	To                time.Time      `json:"to"`
	Unit              string         `json:"unit,omitempty"`
	Received          int            `json:"received"`
	ByChannel         map[string]int `json:"by_channel"`
	ByCategory        map[string]int `json:"by_category"`
	Accepted          int            `json:"accepted"`
	Closed            int            `json:"closed"`
	ClosedOnTime      int            `json:"closed_on_time"`
	OnTimeRate        float64        `json:"on_time_rate"` // 按期办结率
	OverdueNow        int            `json:"overdue_now"`
	Evaluated         int            `json:"evaluated"`
	Satisfied         int            `json:"satisfied"`          // satisfied + basically satisfied
	SatisfactionRate  float64        `json:"satisfaction_rate"`  // 满意率
	ParticipationRate float64        `json:"participation_rate"` // 参评率
	ReviewRequested   int            `json:"review_requested"`
	ReviewRate        float64        `json:"review_rate"`
	ReReviewRequested int            `json:"re_review_requested"`
	ReReviewRate      float64        `json:"re_review_rate"`
	RepeatPetitions   int            `json:"repeat_petitions"`
	GroupPetitions    int            `json:"group_petitions"`
	// Warnings raised in the period (预警), and by rule (skip_level: skip-level
	// petitions); by rule is left out when none was raised.
	Warnings       int            `json:"warnings"`
	WarningsByRule map[string]int `json:"warnings_by_rule,omitempty"`
	// Answered is the denominator of the rates over answered cases (stats.go).
	Answered int `json:"answered"`
	// Skip-level and repeat petitions, the bureau's routines and the screening reports of the
	// period's months (stats.go); ScreeningByUnit: the screening figures of each unit asked to
	// file, by code.
	RoutineFigures
	ScreeningByUnit []UnitScreening `json:"screening_by_unit"`
	// ByTopic: the period's figures by topic and category, at most TopTopics (stats.go).
	ByTopic []TopicFigures `json:"by_topic"`
}

// MonthlyRow is one unit's line in the monthly ledger.
type MonthlyRow struct {
	Month        string  `json:"month"` // YYYY-MM
	Unit         string  `json:"unit"`
	UnitName     string  `json:"unit_name"`
	Received     int     `json:"received"`
	Accepted     int     `json:"accepted"`
	Closed       int     `json:"closed"`
	ClosedOnTime int     `json:"closed_on_time"`
	OnTimeRate   float64 `json:"on_time_rate"`
	OverdueNow   int     `json:"overdue_now"`
	Satisfied    int     `json:"satisfied"`
	Evaluated    int     `json:"evaluated"`
	Reviews      int     `json:"reviews"`
	ReReviews    int     `json:"re_reviews"`
	// Answered is the rates' denominator (see stats.go): participation 参评率 = evaluated /
	// answered, satisfaction 满意率 = satisfied / evaluated.
	Answered          int     `json:"answered"`
	ParticipationRate float64 `json:"participation_rate"`
	SatisfactionRate  float64 `json:"satisfaction_rate"`
	// Warnings raised in the month on the unit's cases (预警).
	Warnings int `json:"warnings"`
	// Repeat petitions linked in the month; skip-level and repeat petitions, the bureau's
	// routines and the unit's screening report of the month, as in Stats.
	RepeatPetitions int `json:"repeat_petitions"`
	RoutineFigures
	// Topics: the unit's first TopicsPerUnit topics of the month, as Stats.ByTopic (not in the
	// CSV: the Excel file lists them on a sheet of their own).
	Topics []TopicFigures `json:"topics"`
}
