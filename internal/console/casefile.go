package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/internal/labels"
	"github.com/petitions/petitions/workflows"
)

// The case file (案卷): everything the API lets this reader see of one case, the running clock
// with how it was computed, the audit trail, and a form for each action the API says the
// reader may take now. Which actions those are, and whether a filled-in form is acceptable, is
// the API's and the workflow's business: the console shows the forms it is told to and
// forwards what the reader typed.

// staffActions are the workflow updates staff take on a case, in the order the case file shows
// their forms. Petitioners' actions (evaluate, request_review, request_re_review) go through
// the query page; link_repeat happens at registration.
var staffActions = []string{
	workflows.UpdateAccept,
	workflows.UpdateReject,
	workflows.UpdateForward,
	// The handling unit's work: its result report to the office (交办), a co-handling unit's
	// reply to the lead (协办), the reply to the petitioner.
	workflows.UpdateReportResult,
	workflows.UpdateCoReply,
	workflows.UpdateReply,
	workflows.UpdateRequestExtension,
	workflows.UpdateDecideExtension,
	workflows.UpdateReassign,
	workflows.UpdatePause,
	workflows.UpdateResume,
	workflows.UpdateSupervise,
	// The bureau's routines: assignment and its review (交办), co-handling units (协办), joint
	// investigation (联查), the leader in charge (包案).
	workflows.UpdateAssign,
	workflows.UpdateReviewResult,
	workflows.UpdateAddCoUnit,
	workflows.UpdateFlagJoint,
	workflows.UpdateDecideJoint,
	workflows.UpdateRecordJointFindings,
	workflows.UpdateAssignLeader,
	workflows.UpdateReviewDecision,
	workflows.UpdateReReviewDecision,
	workflows.UpdateRecordService,
	// 回访 after the answer.
	workflows.UpdateRecordCallBack,
	workflows.UpdateWithdraw,
}

// isStaffAction reports whether name is one of staffActions.
func isStaffAction(name string) bool {
	for _, a := range staffActions {
		if a == name {
			return true
		}
	}
	return false
}

// allowedStaffActions reads the API's allowed_actions (URL names, "request-extension", or
// update names, "request_extension") as update names, leaving out any that staff do not take
// here.
func allowedStaffActions(names []string) []string {
	var out []string
	for _, a := range names {
		if u := strings.ReplaceAll(a, "-", "_"); isStaffAction(u) {
			out = append(out, u)
		}
	}
	return out
}

// actionPath is the API's URL segment of an update name (dashes for underscores).
func actionPath(update string) string { return strings.ReplaceAll(update, "_", "-") }

// actionFields are the form fields of each staff action, in the order the form shows them;
// they are the fields of the API's action request (api/actions.go actionRequest) that the
// action uses. Which of them are required, and what values are allowed, the workflow decides.
var actionFields = map[string][]string{
	workflows.UpdateAccept:           {"unit", "handler", "leader"},
	workflows.UpdateReject:           {"reason"},
	workflows.UpdateForward:          {"unit", "reason"},
	workflows.UpdateReply:            {"opinion", "served_at", "service_method"},
	workflows.UpdateRequestExtension: {"days", "reason"},
	workflows.UpdateDecideExtension:  {"approved", "reason"},
	workflows.UpdateReassign:         {"unit", "handler", "leader", "reason"},
	workflows.UpdatePause:            {"reason"},
	workflows.UpdateResume:           {},
	workflows.UpdateSupervise:        {"opinion", "new_due_at"},
	workflows.UpdateReviewDecision:   {"outcome", "opinion", "served_at", "service_method"},
	workflows.UpdateReReviewDecision: {"outcome", "opinion", "served_at", "service_method"},
	workflows.UpdateRecordService:    {"served_at", "service_method"},
	workflows.UpdateWithdraw:         {"reason"},
	// The bureau's routines (api/actions.go: opinion, report_due, approved, unit, reached,
	// evaluation, criterion, units, leader, reason).
	workflows.UpdateAssign:              {"unit", "opinion", "report_due"},
	workflows.UpdateReportResult:        {"opinion"},
	workflows.UpdateReviewResult:        {"approved", "reason", "report_due"},
	workflows.UpdateAddCoUnit:           {"unit", "opinion"},
	workflows.UpdateCoReply:             {"opinion"},
	workflows.UpdateRecordCallBack:      {"reached", "evaluation", "reason"},
	workflows.UpdateFlagJoint:           {"criterion", "reason"},
	workflows.UpdateDecideJoint:         {"approved", "units", "reason"},
	workflows.UpdateRecordJointFindings: {"opinion"},
	workflows.UpdateAssignLeader:        {"leader", "reason"},
}

// actionBody is the JSON body of POST /api/v1/petitions/{no}/{action}: only the fields the
// action uses and the reader filled in are sent.
type actionBody struct {
	Unit     string `json:"unit,omitempty"`
	Handler  string `json:"handler,omitempty"`
	Leader   string `json:"leader,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Opinion  string `json:"opinion,omitempty"`
	Days     *int   `json:"days,omitempty"`
	Approved *bool  `json:"approved,omitempty"`
	Outcome  string `json:"outcome,omitempty"`
	NewDueAt string `json:"new_due_at,omitempty"`
	// ServedAt (a date, the day of service) and ServiceMethod: 送达.
	ServedAt      string `json:"served_at,omitempty"`
	ServiceMethod string `json:"service_method,omitempty"`
	// ReportDue: the last day of the result report (交办), a date as typed.
	ReportDue string `json:"report_due,omitempty"`
	// Reached and Evaluation: a call-back (回访).
	Reached    *bool  `json:"reached,omitempty"`
	Evaluation string `json:"evaluation,omitempty"`
	// Criterion: a joint investigation criterion; Units: the joint investigation team (联查),
	// a JSON array.
	Criterion string   `json:"criterion,omitempty"`
	Units     []string `json:"units,omitempty"`
}

// yesNo reads a yes-or-no form value ("yes"/"no", "true"/"false"); "" is nil.
func yesNo(v string) (*bool, bool) {
	switch v {
	case "":
		return nil, true
	case "yes", "true":
		t := true
		return &t, true
	case "no", "false":
		f := false
		return &f, true
	}
	return nil, false
}

// formUnits reads a list of unit codes: several values of one name (checkboxes, a multiple
// select), each of which may itself list codes separated by commas, 、 or spaces (the text box
// shown when the directory is unavailable). Duplicates are dropped; the order is kept.
func formUnits(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, u := range strings.FieldsFunc(v, func(r rune) bool {
			return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' || unicode.IsSpace(r)
		}) {
			if !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
	}
	return out
}

// formFieldError is a form value the console cannot put into the API's shape (a number that
// is not one, a date that is not one); Field names it.
type formFieldError struct{ Field string }

func (e *formFieldError) Error() string { return "the form's " + e.Field + " cannot be read" }

// buildActionBody turns a submitted form into the action's API body. Only shapes are read here
// (a whole number, a yes or no, a date); the API and the workflow judge the values. A date for
// the new deadline names its last day: the deadline is the end of that day in the office zone.
func buildActionBody(action string, f url.Values, zone *time.Location) (actionBody, error) {
	var b actionBody
	fields, ok := actionFields[action]
	if !ok {
		return b, fmt.Errorf("unknown action %q", action)
	}
	for _, field := range fields {
		v := strings.TrimSpace(f.Get(field))
		switch field {
		case "unit":
			b.Unit = v
		case "handler":
			b.Handler = v
		case "leader":
			b.Leader = v
		case "reason":
			b.Reason = v
		case "opinion":
			b.Opinion = v
		case "outcome":
			b.Outcome = v
		case "days":
			if v == "" {
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				return b, &formFieldError{Field: field}
			}
			b.Days = &n
		case "approved", "reached":
			yn, ok := yesNo(v)
			if !ok {
				return b, &formFieldError{Field: field}
			}
			if field == "approved" {
				b.Approved = yn
			} else {
				b.Reached = yn
			}
		case "evaluation":
			b.Evaluation = v
		case "criterion":
			b.Criterion = v
		case "units":
			b.Units = formUnits(f[field])
		case "report_due":
			if v == "" {
				continue
			}
			if _, err := time.ParseInLocation(time.DateOnly, v, zone); err != nil {
				return b, &formFieldError{Field: field}
			}
			b.ReportDue = v
		case "new_due_at":
			if v == "" {
				continue
			}
			d, err := time.ParseInLocation(time.DateOnly, v, zone)
			if err != nil {
				return b, &formFieldError{Field: field}
			}
			b.NewDueAt = d.AddDate(0, 0, 1).Format(time.RFC3339)
		case "served_at":
			if v == "" {
				continue
			}
			if _, err := time.ParseInLocation(time.DateOnly, v, zone); err != nil {
				return b, &formFieldError{Field: field}
			}
			b.ServedAt = v
		case "service_method":
			b.ServiceMethod = v
		}
	}
	return b, nil
}

// ---- reading the case ----

// cfEvents is GET /api/v1/petitions/{no}/events.
type cfEvents struct {
	Events []workflows.Event `json:"events"`
}

// cfNow is the case as it stands: the workflow's live state when the API had it, else the
// register's row.
type cfNow struct {
	Stage            string
	Unit             string
	SuggestedUnit    string
	Handler          string
	Leader           string
	ReviewUnit       string
	ReReviewUnit     string
	Evaluation       string
	Overdue          bool
	EscalationLevel  int
	RepeatCount      int
	AcceptedAt       *time.Time
	RepliedAt        *time.Time
	ClosedAt         *time.Time
	Deadline         *workflows.Deadline
	PendingExtension *workflows.ExtensionRequest
	Seq              int64
	// Routines: the bureau's routines on the case (routines.go), from the live state or, once
	// the workflow ended, the register's copy.
	Routines cfRoutines
}

func cfCurrent(f caseFile) cfNow {
	cs := f.Case
	n := cfNow{
		Stage: cs.Stage, Unit: cs.Unit, SuggestedUnit: cs.SuggestedUnit, Handler: cs.Handler, Leader: cs.Leader,
		ReviewUnit: cs.ReviewUnit, ReReviewUnit: cs.ReReviewUnit, Evaluation: cs.Evaluation,
		Overdue: cs.Overdue, EscalationLevel: cs.EscalationLevel, RepeatCount: cs.RepeatCount,
		AcceptedAt: cs.AcceptedAt, RepliedAt: cs.RepliedAt, ClosedAt: cs.ClosedAt,
		Deadline: f.Deadlines, Seq: cs.Seq,
	}
	n.Routines = cfRoutinesOf(f)
	if st := f.State; st != nil {
		n.Stage, n.Unit, n.SuggestedUnit = string(st.Stage), st.Unit, st.SuggestedUnit
		n.Handler, n.Leader, n.ReviewUnit, n.ReReviewUnit = st.Handler, st.Leader, st.ReviewUnit, st.ReReviewUnit
		n.Evaluation, n.Overdue, n.EscalationLevel, n.RepeatCount = st.Evaluation, st.Overdue, st.EscalationLevel, st.RepeatCount
		n.AcceptedAt, n.RepliedAt, n.ClosedAt = st.AcceptedAt, st.RepliedAt, st.ClosedAt
		n.Deadline, n.PendingExtension, n.Seq = st.Deadline, st.PendingExtension, st.Seq
	}
	if workflows.Stage(n.Stage).Final() {
		n.Deadline = nil
	}
	return n
}

// cfSeq is the seq an answer was read at: its ETag ("7"), else fallback.
func cfSeq(res apiResult, fallback int64) int64 {
	tag := strings.Trim(strings.TrimPrefix(res.Header.Get("ETag"), "W/"), `"`)
	if n, err := strconv.ParseInt(tag, 10, 64); err == nil {
		return n
	}
	return fallback
}

// cfStep is one line of a clock's explanation; a long run of counted days is one row
// (Date to To, Count days). Skipped days are never merged, so each shows with its reason.
type cfStep struct {
	Kind    string
	Date    time.Time // zero when the step is about no day
	To      time.Time // last day of a merged run
	Count   int
	Note    string
	Skipped bool
}

// cfCollapseAt: runs of at least this many counted days become one row.
const cfCollapseAt = 4

func cfStepRows(steps []calendar.Step, zone *time.Location) []cfStep {
	day := func(s string) time.Time {
		t, err := time.ParseInLocation(time.DateOnly, s, zone)
		if err != nil {
			return time.Time{}
		}
		return t.Add(12 * time.Hour)
	}
	var out []cfStep
	for i := 0; i < len(steps); {
		s := steps[i]
		if s.Kind == calendar.StepCounted {
			j := i
			for j < len(steps) && steps[j].Kind == calendar.StepCounted {
				j++
			}
			if j-i >= cfCollapseAt {
				out = append(out, cfStep{Kind: string(s.Kind), Date: day(s.Date), To: day(steps[j-1].Date),
					Count: j - i, Note: steps[j-1].Note})
				i = j
				continue
			}
		}
		skipped := false
		switch s.Kind {
		case calendar.StepWeekend, calendar.StepHoliday, calendar.StepPause, calendar.StepRolledForward:
			skipped = true
		}
		out = append(out, cfStep{Kind: string(s.Kind), Date: day(s.Date), Count: 1, Note: s.Note, Skipped: skipped})
		i++
	}
	return out
}

// cfDetail is one shown detail of an event.
type cfDetail struct {
	Label string
	Value string
	Long  bool // free text (opinions, reasons): kept with its line breaks
}

// cfEvent is one entry of the timeline.
type cfEvent struct {
	Seq       int64
	Type      string
	At        time.Time
	ActorName string
	ActorRole string
	ActorUnit string
	System    bool
	Details   []cfDetail
}

// cfDetailOrder is the order details are shown in; others follow by name.
var cfDetailOrder = []string{
	"unit", "from_unit", "handler", "leader", "recipient", "level", "clock", "days", "approved",
	"outcome", "evaluation", "opinion", "reason", "previous_due", "due", "paused_for", "late",
	"channel", "category", "group_size", "received_at", "repeat_count", "requested_by", "note",
	"served_at", "service_method", "awaiting_service", "answered_at", "notice_at", "timing",
	// The bureau's routines.
	"lead_unit", "team", "from_leader", "criterion", "instructions", "part", "findings", "report",
	"report_due", "reached", "call_back", "counts_as_evaluation", "notes", "joint_proposed",
	// An early warning's rule (预警).
	"rule",
}

// cfDetailKnown: keys with a word of their own (case.d.<key>).
var cfDetailKnown = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range cfDetailOrder {
		m[k] = true
	}
	return m
}()

func (c *Console) cfEventViews(v *view, evs []workflows.Event) []cfEvent {
	out := make([]cfEvent, 0, len(evs))
	for _, e := range evs {
		ev := cfEvent{Seq: e.Seq, Type: e.Type, At: e.At, ActorName: e.Actor.Name, ActorRole: string(e.Actor.Role),
			System: e.Actor.Role == workflows.RoleSystem}
		if ev.ActorName == "" && !ev.System {
			ev.ActorName = v.StaffName(e.Actor.ID)
		}
		if e.Actor.Unit != "" {
			ev.ActorUnit = v.UnitName(e.Actor.Unit)
		}
		keys := make([]string, 0, len(e.Details))
		for k := range e.Details {
			if !cfDetailKnown[k] {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range append(append([]string{}, cfDetailOrder...), keys...) {
			raw, ok := e.Details[k]
			if !ok {
				continue
			}
			if d, show := cfDetailOf(v, e.Type, k, raw); show {
				ev.Details = append(ev.Details, d)
			}
		}
		out = append(out, ev)
	}
	return out
}

// cfDetailOf words one detail value for the reader; show is false for details not worth a line.
func cfDetailOf(v *view, eventType, key string, raw any) (d cfDetail, show bool) {
	label := "case.d." + key
	if !cfDetailKnown[key] {
		label = ""
	}
	d.Label = key
	if label != "" {
		d.Label = v.T(label)
	}
	str := func() string {
		switch x := raw.(type) {
		case string:
			return x
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64)
		case bool:
			return strconv.FormatBool(x)
		case nil:
			return ""
		}
		b, _ := json.Marshal(raw)
		return string(b)
	}
	s := str()
	switch key {
	case "unit", "from_unit", "lead_unit":
		d.Value = v.UnitName(s)
	case "handler", "leader", "recipient", "from_leader":
		d.Value = v.StaffName(s)
	case "team":
		d.Value = strings.Join(cfList(raw, v.UnitName), "、")
	case "criterion":
		d.Value = v.Label(labels.KindJointCriterion, s)
	case "rule":
		d.Value = v.Label(labels.KindWarning, s)
	case "joint_proposed":
		d.Value = strings.Join(cfList(raw, func(c string) string { return v.Label(labels.KindJointCriterion, c) }), "；")
	case "report_due":
		d.Value = cfDueText(v, s)
	case "reached", "counts_as_evaluation":
		b, ok := raw.(bool)
		if !ok {
			return d, false
		}
		d.Value = v.T("case.no")
		if b {
			d.Value = v.T("case.yes")
		}
	case "report", "call_back":
		d.Value = v.Tf("case.nth", s)
	case "instructions", "part", "findings", "notes":
		d.Long = true
		d.Value = s
	case "clock":
		if eventType == workflows.EventRegistered {
			return d, false
		}
		d.Value = v.Label("clock", s)
	case "outcome":
		d.Value = v.Label("outcome", s)
	case "evaluation":
		d.Value = v.Label("evaluation", s)
	case "channel":
		d.Value = v.Label("channel", s)
	case "category":
		d.Value = v.Label("category", s)
	case "due", "previous_due":
		d.Value = cfDueText(v, s)
	case "service_method":
		d.Value = v.T("act.svc." + s)
	case "awaiting_service":
		if b, ok := raw.(bool); !ok || !b {
			return d, false
		}
		d.Value = v.T("case.yes")
	case "received_at", "served_at", "answered_at", "notice_at":
		d.Value = v.DateTime(s)
		if d.Value == "" {
			d.Value = s
		}
	case "approved":
		if b, ok := raw.(bool); ok {
			d.Value = v.T("case.no")
			if b {
				d.Value = v.T("case.yes")
			}
		} else {
			d.Value = s
		}
	case "late":
		b, ok := raw.(bool)
		if !ok || !b {
			return d, false
		}
		d.Value = v.T("case.yes")
	case "paused_for":
		d.Value = cfDuration(v, s)
	case "opinion", "reason", "note":
		d.Long = true
		d.Value = s
	default:
		d.Value = s
	}
	return d, d.Value != ""
}

// cfList reads a detail holding a list of codes (JSON array) and words each with name.
func cfList(raw any, name func(string) string) []string {
	var out []string
	switch x := raw.(type) {
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, name(s))
			}
		}
	case []string:
		for _, s := range x {
			out = append(out, name(s))
		}
	case string:
		if x != "" {
			out = append(out, name(x))
		}
	}
	return out
}

// cfDueText is a deadline instant for people: one at midnight is 24:00 of the day before (as
// the explanation words it), not 00:00 of the next.
func cfDueText(v *view, t any) string {
	tt, ok := instant(t)
	if !ok {
		return ""
	}
	local := tt.In(v.c.cfg.Zone)
	if local.Hour() == 0 && local.Minute() == 0 && local.Second() == 0 {
		return v.Date(local.Add(-time.Nanosecond)) + " 24:00"
	}
	return v.DateTime(local)
}

// cfDuration reads a Go duration ("72h30m0s") as days, hours and minutes.
func cfDuration(v *view, s string) string {
	dur, err := time.ParseDuration(s)
	if err != nil {
		return s
	}
	days := int(dur / (24 * time.Hour))
	hours := int(dur % (24 * time.Hour) / time.Hour)
	mins := int(dur % time.Hour / time.Minute)
	if days == 0 && hours == 0 && mins == 0 {
		return v.Tf("case.seconds", int(dur/time.Second))
	}
	return v.Tf("case.dhm", days, hours, mins)
}

// ---- action forms ----

type cfOption struct {
	Value    string
	Label    string
	Selected bool
}

// cfField is one labelled input of an action form.
type cfField struct {
	ID       string
	Name     string
	Kind     string // select, text, textarea, number, date, radio, checkboxes
	Label    string // message key
	Hint     string // message key, optional
	Value    string
	Options  []cfOption
	Optional bool
}

// cfForm is the form of one action the reader may take now.
type cfForm struct {
	Name   string
	Key    string
	Danger bool
	Info   []cfDetail
	Fields []cfField
}

// cfStaff is a staff member as GET /api/v1/staff lists them.
type cfStaff struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
	Unit string `json:"unit"`
}

// cfDirectory is what the forms pick from; a list the API did not give is nil (the form then
// asks for the code or staff ID as text).
type cfDirectory struct {
	Units    []unit
	Handlers []cfStaff
	Leaders  []cfStaff
}

func (c *Console) cfDirectoryLoad(r *http.Request, actions []string) cfDirectory {
	var d cfDirectory
	needUnits, needStaff, needLeaders := false, false, false
	for _, a := range actions {
		switch a {
		case workflows.UpdateAccept, workflows.UpdateReassign:
			needUnits, needStaff = true, true
		case workflows.UpdateForward, workflows.UpdateAddCoUnit, workflows.UpdateDecideJoint:
			needUnits = true
		case workflows.UpdateAssignLeader:
			needLeaders = true
		}
	}
	var wg sync.WaitGroup
	if needUnits {
		wg.Go(func() {
			var ans struct {
				Units []unit `json:"units"`
			}
			if c.get(r, "/api/v1/units", nil).decode(&ans) == nil {
				d.Units = ans.Units
				if d.Units == nil {
					d.Units = []unit{}
				}
			}
		})
	}
	staff := func(role string, into *[]cfStaff) {
		var ans struct {
			Staff []cfStaff `json:"staff"`
		}
		if c.get(r, "/api/v1/staff", url.Values{"role": {role}}).decode(&ans) == nil && ans.Staff != nil {
			*into = ans.Staff
		}
	}
	if needStaff {
		wg.Go(func() { staff(string(workflows.RoleHandler), &d.Handlers) })
	}
	if needStaff || needLeaders {
		wg.Go(func() { staff(string(workflows.RoleLeader), &d.Leaders) })
	}
	wg.Wait()
	return d
}

// cfUnitField is a unit picker (or a text box for the unit code when the directory is unknown).
func cfUnitField(v *view, action string, d cfDirectory, selected string) cfField {
	f := cfField{ID: action + "-unit", Name: "unit", Kind: "select", Label: "act.f.unit", Value: selected}
	if d.Units == nil {
		f.Kind, f.Hint = "text", "act.hint.unit_code"
		return f
	}
	f.Options = append(f.Options, cfOption{Value: "", Label: v.T("act.choose"), Selected: selected == ""})
	for _, u := range d.Units {
		f.Options = append(f.Options, cfOption{Value: u.Code, Label: u.Name, Selected: u.Code == selected})
	}
	return f
}

// cfStaffField is a staff picker (or a text box for the staff ID).
func cfStaffField(v *view, action, name, label string, people []cfStaff, selected string, optional bool) cfField {
	f := cfField{ID: action + "-" + name, Name: name, Kind: "select", Label: label, Value: selected, Optional: optional}
	if people == nil {
		f.Kind, f.Hint = "text", "act.hint.staff_id"
		return f
	}
	first := v.T("act.choose")
	if optional {
		first = v.T("act.none")
	}
	f.Options = append(f.Options, cfOption{Value: "", Label: first, Selected: selected == ""})
	sorted := append([]cfStaff{}, people...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Unit < sorted[j].Unit })
	for _, p := range sorted {
		label := p.Name
		if label == "" {
			label = p.ID
		}
		if p.Unit != "" {
			label += "（" + v.UnitName(p.Unit) + "）"
		}
		f.Options = append(f.Options, cfOption{Value: p.ID, Label: label, Selected: p.ID == selected})
	}
	return f
}

// cfServiceFields are the service date (送达) and method of a written answer: optional with the
// answer itself, required when recorded later (record_service).
func cfServiceFields(v *view, action string, optional bool) []cfField {
	method := cfField{ID: action + "-service_method", Name: "service_method", Kind: "select", Label: "act.f.service_method", Optional: optional}
	if optional {
		method.Options = append(method.Options, cfOption{Value: "", Label: v.T("act.none")})
	}
	for _, m := range []string{workflows.ServiceInPerson, workflows.ServicePost, workflows.ServiceSMS, workflows.ServiceOnline} {
		method.Options = append(method.Options, cfOption{Value: m, Label: v.T("act.svc." + m)})
	}
	return []cfField{
		{ID: action + "-served_at", Name: "served_at", Kind: "date", Label: "act.f.served_at", Hint: "act.hint.served_at", Optional: optional},
		method,
	}
}

func cfTextarea(action, name, label string, optional bool) cfField {
	return cfField{ID: action + "-" + name, Name: name, Kind: "textarea", Label: label, Optional: optional}
}

// actionForms are the forms of the actions the API allows this reader now, in staffActions'
// order; names it sends that are not staff actions are left out.
func (c *Console) actionForms(v *view, allowed []string, now cfNow, d cfDirectory) []cfForm {
	var out []cfForm
	for _, a := range staffActions {
		if !cfHas(allowed, a) {
			continue
		}
		f := cfForm{Name: a, Key: newKey()}
		switch a {
		case workflows.UpdateAccept:
			unitSel := now.SuggestedUnit
			if unitSel == "" {
				unitSel = now.Unit
			}
			handlerSel := ""
			for _, h := range d.Handlers {
				if h.Unit == unitSel && unitSel != "" {
					handlerSel = h.ID
					break
				}
			}
			f.Fields = []cfField{
				cfUnitField(v, a, d, unitSel),
				cfStaffField(v, a, "handler", "act.f.handler", d.Handlers, handlerSel, false),
				cfStaffField(v, a, "leader", "act.f.leader", d.Leaders, "", true),
			}
		case workflows.UpdateReject:
			f.Danger = true
			f.Fields = []cfField{cfTextarea(a, "reason", "act.f.reject_reason", false)}
		case workflows.UpdateForward:
			f.Fields = []cfField{cfUnitField(v, a, d, ""), cfTextarea(a, "reason", "act.f.forward_reason", false)}
		case workflows.UpdateReply:
			f.Fields = append([]cfField{cfTextarea(a, "opinion", "act.f.reply_opinion", false)}, cfServiceFields(v, a, true)...)
		case workflows.UpdateRequestExtension:
			f.Fields = []cfField{
				{ID: a + "-days", Name: "days", Kind: "number", Label: "act.f.days"},
				cfTextarea(a, "reason", "act.f.extension_reason", false),
			}
		case workflows.UpdateDecideExtension:
			if p := now.PendingExtension; p != nil {
				who := p.RequestedBy.Name
				if who == "" {
					who = v.StaffName(p.RequestedBy.ID)
				}
				f.Info = []cfDetail{
					{Label: v.T("act.pending.days"), Value: strconv.Itoa(p.Days)},
					{Label: v.T("act.pending.reason"), Value: p.Reason, Long: true},
					{Label: v.T("act.pending.by"), Value: who},
					{Label: v.T("act.pending.at"), Value: v.DateTime(p.RequestedAt)},
				}
			}
			f.Fields = []cfField{
				{ID: a + "-approved", Name: "approved", Kind: "radio", Label: "act.f.approved", Options: []cfOption{
					{Value: "yes", Label: v.T("act.approve")}, {Value: "no", Label: v.T("act.deny")}}},
				cfTextarea(a, "reason", "act.f.decide_reason", true),
			}
		case workflows.UpdateReassign:
			f.Fields = []cfField{
				cfUnitField(v, a, d, now.Unit),
				cfStaffField(v, a, "handler", "act.f.handler", d.Handlers, now.Handler, false),
				cfStaffField(v, a, "leader", "act.f.leader", d.Leaders, now.Leader, true),
				cfTextarea(a, "reason", "act.f.reassign_reason", true),
			}
		case workflows.UpdatePause:
			f.Fields = []cfField{cfTextarea(a, "reason", "act.f.pause_reason", false)}
		case workflows.UpdateResume:
		case workflows.UpdateSupervise:
			f.Fields = []cfField{
				cfTextarea(a, "opinion", "act.f.supervise_opinion", false),
				{ID: a + "-new_due_at", Name: "new_due_at", Kind: "date", Label: "act.f.new_due_at", Hint: "act.hint.new_due_at", Optional: true},
			}
		case workflows.UpdateReviewDecision, workflows.UpdateReReviewDecision:
			f.Fields = []cfField{
				{ID: a + "-outcome", Name: "outcome", Kind: "radio", Label: "act.f.outcome", Options: []cfOption{
					{Value: workflows.OutcomeUphold, Label: v.Label("outcome", workflows.OutcomeUphold)},
					{Value: workflows.OutcomeRevise, Label: v.Label("outcome", workflows.OutcomeRevise)}}},
				cfTextarea(a, "opinion", "act.f.decision_opinion", false),
			}
			f.Fields = append(f.Fields, cfServiceFields(v, a, true)...)
		case workflows.UpdateRecordService:
			f.Fields = cfServiceFields(v, a, false)
		case workflows.UpdateWithdraw:
			f.Danger = true
			f.Fields = []cfField{cfTextarea(a, "reason", "act.f.withdraw_reason", false)}
		default:
			c.routineForm(v, &f, now, d) // routines.go
		}
		out = append(out, f)
	}
	return out
}

func cfHas(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// noticeLinks are the printable notices this case has: acceptance after an accepted event,
// rejection after a rejected one, reply after a replied one.
func noticeLinks(evs []workflows.Event) []string {
	var out []string
	for _, k := range noticeKinds {
		if lastEvent(evs, noticeEvent[k]) != nil {
			out = append(out, k)
		}
	}
	return out
}

// temporalLink is the case's workflow in the Temporal Web UI, for supervisors.
func (c *Console) temporalLink(me *staffMember, caseNo string) string {
	if me == nil || me.Role != string(workflows.RoleSupervisor) || c.cfg.TemporalUI == "" {
		return ""
	}
	ns := c.cfg.Namespace
	if ns == "" {
		ns = "default"
	}
	return strings.TrimRight(c.cfg.TemporalUI, "/") + "/namespaces/" + url.PathEscape(ns) + "/workflows/" +
		url.PathEscape(workflows.WorkflowID(caseNo))
}

// cfData is the case file page's Data.
type cfData struct {
	File         caseFile
	Now          cfNow
	Seq          int64
	Steps        []cfStep
	Events       []cfEvent
	Actions      []cfForm
	Notices      []string
	TemporalLink string
	// Unavailable: the workflow did not answer, so actions wait (StateError says why).
	Unavailable bool
	EventsError string
	// The running clock, worded: its name, period and extensions; days to (or past) its due.
	Clock      string
	Due        string
	Period     string
	Extensions []string
	DaysLeft   int
	DaysOver   int
	DuePast    bool
}

// periodText words a period: "15 个自然日", "30 calendar days".
func periodText(v *view, p calendar.Period) string {
	if p.Amount == 0 {
		return ""
	}
	return v.Tf("case.period_fmt", p.Amount, v.T("case.unit."+string(p.Unit)))
}

// fetchCase reads the case and its events side by side.
func (c *Console) fetchCase(r *http.Request, no string) (caseFile, apiResult, []workflows.Event, error, error) {
	base := "/api/v1/petitions/" + url.PathEscape(no)
	var (
		file        caseFile
		res         apiResult
		evs         cfEvents
		fErr, evErr error
		wg          sync.WaitGroup
	)
	wg.Go(func() {
		res = c.get(r, base, nil)
		fErr = res.decode(&file)
	})
	wg.Go(func() { evErr = c.get(r, base+"/events", nil).decode(&evs) })
	wg.Wait()
	return file, res, evs.Events, fErr, evErr
}

func (c *Console) casePage(w http.ResponseWriter, r *http.Request, v *view) {
	no := r.PathValue("no")
	file, res, evs, err, evErr := c.fetchCase(r, no)
	if err != nil {
		c.problem(w, v, err)
		return
	}
	now := cfCurrent(file)
	d := cfData{File: file, Now: now, Seq: cfSeq(res, now.Seq), Notices: noticeLinks(evs),
		TemporalLink: c.temporalLink(v.Me, file.Case.CaseNo)}
	if evErr != nil {
		var ae *apiError
		if errors.As(evErr, &ae) && ae.Status == http.StatusNotFound {
			c.problem(w, v, evErr)
			return
		}
		d.EventsError = evErr.Error()
	}
	if dl := now.Deadline; dl != nil {
		d.Steps = cfStepRows(dl.Explanation.Steps, c.cfg.Zone)
		d.Clock = string(dl.Clock)
		d.Due = cfDueText(v, dl.Due)
		d.Period = periodText(v, dl.Explanation.Period)
		for _, e := range dl.Extensions {
			d.Extensions = append(d.Extensions, periodText(v, e))
		}
		if dl.AwaitingService {
			// No window runs before the answer's service date (送达) is recorded.
			d.Due = v.T("case.awaiting_service")
		} else {
			// Counted to the deadline's last day: a deadline at 24:00 is due on the day before.
			d.DaysLeft = v.DaysLeft(dl.Due.Add(-time.Nanosecond))
			d.DuePast = v.Past(dl.Due)
			if d.DuePast {
				d.DaysOver = max(-d.DaysLeft, 0)
			}
		}
	}
	d.Events = c.cfEventViews(v, evs)
	d.Unavailable = file.Source == "register" && file.State == nil && !workflows.Stage(now.Stage).Final()
	if !d.Unavailable {
		allowed := allowedStaffActions(file.AllowedActions)
		if len(allowed) > 0 {
			d.Actions = c.actionForms(v, allowed, now, c.cfDirectoryLoad(r, allowed))
		}
	}
	v.Title = v.Tf("case.title", file.Case.CaseNo)
	v.Nav = "cases"
	v.Data = d
	c.render(w, http.StatusOK, "casefile", v)
}

// ---- acting ----

func (c *Console) caseAction(w http.ResponseWriter, r *http.Request, v *view) {
	no, action := r.PathValue("no"), r.PathValue("action")
	if err := checkForm(r); err != nil {
		c.problem(w, v, err)
		return
	}
	if !isStaffAction(action) {
		c.problem(w, v, &apiError{Status: http.StatusNotFound, Message: v.T("act.unknown")})
		return
	}
	back := "/cases/" + url.PathEscape(no)
	done := func(kind, text string) {
		setFlash(w, kind, text)
		http.Redirect(w, r, back, http.StatusSeeOther)
	}
	body, err := buildActionBody(action, r.PostForm, c.cfg.Zone)
	var fe *formFieldError
	if errors.As(err, &fe) {
		done("error", v.Tf("act.bad_value", v.T("act.f."+fe.Field)))
		return
	} else if err != nil {
		done("error", v.T("act.unknown"))
		return
	}
	seq, err := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get("seq")), 10, 64)
	key := strings.TrimSpace(r.PostForm.Get("key"))
	if err != nil || seq < 0 || key == "" {
		done("error", v.T("act.stale_form"))
		return
	}
	res := c.call(r, http.MethodPost, "/api/v1/petitions/"+url.PathEscape(no)+"/"+actionPath(action), nil, body, actionHeaders(key, seq))
	switch {
	case res.OK():
		done("ok", v.T("act.done."+action))
	case res.Status == http.StatusPreconditionFailed:
		done("error", v.T("act.stale"))
	case res.Status == http.StatusUnauthorized:
		c.needSignIn(w, r)
	default:
		done("error", v.T("act.refused")+" "+res.err().Error())
	}
}
