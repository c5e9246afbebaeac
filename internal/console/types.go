package console

import (
	"encoding/json"
	"time"

	"github.com/petitions/petitions/workflows"
)

// The API's answers as the console reads them (api/openapi.yaml is their contract; the
// workflow types come from workflows/contract.go, which is all a client needs).

// caseRow is a case as GET /api/v1/petitions lists it and GET /api/v1/petitions/{no} answers it.
type caseRow struct {
	CaseNo          string          `json:"case_no"`
	Channel         string          `json:"channel"`
	Category        string          `json:"category"`
	Topic           string          `json:"topic"`
	Content         string          `json:"content"`
	Location        string          `json:"location"`
	GroupSize       int             `json:"group_size"`
	Policy          string          `json:"policy"`
	SuggestedUnit   string          `json:"suggested_unit"`
	Unit            string          `json:"unit"`
	Handler         string          `json:"handler"`
	Leader          string          `json:"leader"`
	ReviewUnit      string          `json:"review_unit"`
	ReReviewUnit    string          `json:"re_review_unit"`
	Stage           string          `json:"stage"`
	Overdue         bool            `json:"overdue"`
	EscalationLevel int             `json:"escalation_level"`
	RegisteredBy    string          `json:"registered_by"`
	ReceivedAt      time.Time       `json:"received_at"`
	RegisteredAt    time.Time       `json:"registered_at"`
	AcceptedAt      *time.Time      `json:"accepted_at"`
	DueAt           *time.Time      `json:"due_at"`
	RepliedAt       *time.Time      `json:"replied_at"`
	ClosedAt        *time.Time      `json:"closed_at"`
	OnTime          *bool           `json:"on_time"`
	Evaluation      string          `json:"evaluation"`
	RepeatCount     int             `json:"repeat_count"`
	Seq             int64           `json:"seq"`
	Petitioners     []petitioner    `json:"petitioners"`
	Attachments     []attachment    `json:"attachments"`
	Deadline        json.RawMessage `json:"deadline"`
	// The bureau's routines as the register last projected them: Routines holds the
	// assignment, call_backs, co_units and joint_investigation of a case whose workflow ended
	// (read when state is null); the others are the list's columns.
	Routines         json.RawMessage `json:"routines"`
	InvolvedUnits    []string        `json:"involved_units"`
	JointStatus      string          `json:"joint_status"`
	JointCriteria    []string        `json:"joint_criteria"`
	AssignmentStatus string          `json:"assignment_status"`
	CallBacks        int             `json:"call_backs"`
	EvaluationSource string          `json:"evaluation_source"`
}

// LedgerUnit is the unit a case counts for: the handling unit, or the routed one before.
func (c caseRow) LedgerUnit() string {
	if c.Unit != "" {
		return c.Unit
	}
	return c.SuggestedUnit
}

type petitioner struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone"`
	Address  string `json:"address"`
}

type attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Ref         string `json:"ref"`
}

// casePage is one page of GET /api/v1/petitions.
type casePage struct {
	Cases       []caseRow `json:"cases"`
	NextCursor  string    `json:"next_cursor"`
	Count       *int      `json:"count"`
	CountCapped bool      `json:"count_capped"`
}

// caseFile is GET /api/v1/petitions/{no}.
type caseFile struct {
	Case             caseRow              `json:"case"`
	State            *workflows.CaseState `json:"state"`
	Deadlines        *workflows.Deadline  `json:"deadlines"`
	Source           string               `json:"source"`
	StateError       string               `json:"state_error"`
	IdentityWithheld string               `json:"identity_withheld"`
	AllowedActions   []string             `json:"allowed_actions"`
	RepeatSubmission []json.RawMessage    `json:"repeat_submissions"`
}

// unit is a unit of the directory (GET /api/v1/units).
type unit struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Parent string `json:"parent"`
}
