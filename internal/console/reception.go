package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/petitions/petitions/internal/labels"
	"github.com/petitions/petitions/workflows"
)

// Leader reception days (领导接访日) and appointments (约访): the schedule as GET
// /api/v1/reception-days answers it, with the office's form that publishes a day (POST
// /api/v1/reception-days) and cancels one; a day's appointments (GET …/{id}/appointments) with
// the booking form and, per appointment, the visit received (POST /api/v1/appointments/{id}/
// receive: the leader takes charge of the case, a new matter is registered as a visit) or the
// no-show; and the leader's reception record (GET /api/v1/reception-record, also as CSV or
// Excel). Who may publish, book, receive and read which day is the API's business; the forms
// and links follow the reader's permissions from GET /api/v1/auth/me, and the API decides
// every request again. Petitioners' names and phones appear on a day's page only, never in a
// log line or a redirect.

// The API's reception permissions (api/authz.go).
const (
	permReceptionRead    = "read reception days"
	permReceptionManage  = "manage reception days and appointments"
	permReceptionReceive = "receive visits on reception days"
	permReceptionRecord  = "read reception appointments and records"
)

// rcDay is a reception day as the API answers it.
type rcDay struct {
	ID           int64      `json:"id"`
	Leader       string     `json:"leader"`
	LeaderName   string     `json:"leader_name"`
	Day          string     `json:"day"`
	StartTime    string     `json:"start_time"`
	EndTime      string     `json:"end_time"`
	Place        string     `json:"place"`
	Subjects     string     `json:"subjects"`
	Unit         string     `json:"unit"`
	UnitName     string     `json:"unit_name"`
	CreatedBy    string     `json:"created_by"`
	CreatedAt    time.Time  `json:"created_at"`
	Cancelled    bool       `json:"cancelled"`
	CancelledBy  string     `json:"cancelled_by"`
	CancelledAt  *time.Time `json:"cancelled_at"`
	CancelReason string     `json:"cancel_reason"`
	Booked       int        `json:"booked"`
	Received     int        `json:"received"`
	NoShow       int        `json:"no_show"`
}

// rcAppointment is an appointment as the API answers it (the record's without name and phone).
type rcAppointment struct {
	ID              int64      `json:"id"`
	ReceptionDay    int64      `json:"reception_day"`
	CaseNo          string     `json:"case_no"`
	PetitionerName  string     `json:"petitioner_name"`
	PetitionerPhone string     `json:"petitioner_phone"`
	Subject         string     `json:"subject"`
	Status          string     `json:"status"`
	ReceivedAt      *time.Time `json:"received_at"`
	ReceivedCaseNo  string     `json:"received_case_no"`
	ReceivedAs      string     `json:"received_as"`
	RecordedBy      string     `json:"recorded_by"`
	Outcome         string     `json:"outcome"`
	CreatedBy       string     `json:"created_by"`
	CreatedAt       time.Time  `json:"created_at"`
	// CaseStage is the stage now of the case the appointment concerns (the case received, else
	// the case booked for), as the API's register has it; "" for a new matter.
	CaseStage string `json:"case_stage"`
}

// CaseFinal reports an appointment whose case has ended (closed, terminated, rejected,
// withdrawn): a visit about it is registered as a new case, so its registration fields are
// shown open (the API decides).
func (a rcAppointment) CaseFinal() bool {
	return a.CaseStage != "" && workflows.Stage(a.CaseStage).Final()
}

// Appointment statuses (the register's; labelled by internal/labels).
const (
	rcBooked   = "booked"
	rcReceived = "received"
	rcNoShow   = "no_show"
	// rcRegistered: the visit was registered as a new case (received_as).
	rcRegistered = "registered"
)

// rcReceivedCase is a case received on a day, as the record lists it.
type rcReceivedCase struct {
	CaseNo      string     `json:"case_no"`
	Appointment int64      `json:"appointment"`
	ReceivedAs  string     `json:"received_as"`
	Channel     string     `json:"channel"`
	Category    string     `json:"category"`
	Stage       string     `json:"stage"`
	Unit        string     `json:"unit"`
	Leader      string     `json:"leader"`
	Overdue     bool       `json:"overdue"`
	DueAt       *time.Time `json:"due_at"`
	Evaluation  string     `json:"evaluation"`
	ClosedAt    *time.Time `json:"closed_at"`
}

// rcRecordDay is one day of the record.
type rcRecordDay struct {
	rcDay
	Appointments []rcAppointment  `json:"appointments"`
	Cases        []rcReceivedCase `json:"cases"`
}

// CaseOf is the case received at an appointment, if any.
func (d rcRecordDay) CaseOf(appointment int64) *rcReceivedCase {
	for i := range d.Cases {
		if d.Cases[i].Appointment == appointment {
			return &d.Cases[i]
		}
	}
	return nil
}

// rcRecord is GET /api/v1/reception-record.
type rcRecord struct {
	Leader string        `json:"leader"`
	From   string        `json:"from"`
	To     string        `json:"to"`
	Days   []rcRecordDay `json:"days"`
	Totals struct {
		Days         int `json:"days"`
		Appointments int `json:"appointments"`
		Received     int `json:"received"`
		NoShow       int `json:"no_show"`
		Cases        int `json:"cases"`
		Closed       int `json:"closed"`
		Satisfied    int `json:"satisfied"`
	} `json:"totals"`
}

// ---- words and dates ----

// civilDay reads a civil date (YYYY-MM-DD) in the office zone.
func (v *view) civilDay(day string) (time.Time, bool) {
	t, err := time.ParseInLocation(time.DateOnly, day, v.c.cfg.Zone)
	return t, err == nil
}

// DayText words a civil date with its weekday: 2026年3月12日（周四）, 12 Mar 2026 (Thu).
func (v *view) DayText(day string) string {
	t, ok := v.civilDay(day)
	if !ok {
		return day
	}
	if v.Lang == labels.English {
		return v.Date(t) + " (" + v.Weekday(t) + ")"
	}
	return v.Date(t) + "（" + v.Weekday(t) + "）"
}

// DayDate words a civil date: 2026年3月12日.
func (v *view) DayDate(day string) string {
	if t, ok := v.civilDay(day); ok {
		return v.Date(t)
	}
	return day
}

// Hours words a day's hours: 09:00–11:30, or that they are still to be announced.
func (v *view) Hours(start, end string) string {
	switch {
	case start != "" && end != "":
		return start + "–" + end
	case start != "":
		return v.Tf("rc.hours_from", start)
	case end != "":
		return v.Tf("rc.hours_until", end)
	}
	return v.T("rc.hours_tbd")
}

// LeaderOf is a day's leader's name.
func (v *view) LeaderOf(d rcDay) string {
	if d.LeaderName != "" {
		return d.LeaderName
	}
	return v.StaffName(d.Leader)
}

// today is the office's civil date.
func (v *view) today() string { return v.Now.Format(time.DateOnly) }

// DayState is a day's state for the schedule: cancelled, held (past), today or published.
func (v *view) DayState(d rcDay) string {
	switch today := v.today(); {
	case d.Cancelled:
		return "cancelled"
	case d.Day < today:
		return "held"
	case d.Day == today:
		return "today"
	}
	return "published"
}

// MayOpenDay reports whether the reader may read a day's appointments: the petition office
// any, a leader their own (for the link; the API decides).
func (v *view) MayOpenDay(d rcDay) bool {
	if !v.May(permReceptionRecord) {
		return false
	}
	return !v.Can(string(workflows.RoleLeader)) || d.Leader == v.Me.ID
}

// ---- forms ----

// rcForm is one of the page's forms as typed: its inputs named as the API's fields, the
// API's complaints about them, and its Idempotency-Key.
type rcForm struct {
	Prefix  string // the inputs' ids are Prefix + name
	Key     string
	Values  url.Values
	Errors  map[string]string
	Message string       // the refusal as the API words it, when it names no field
	Summary []regSummary // every complaint, linked to its input when the form has one
	Open    bool         // a form shown folded is shown open (it was refused)
}

func newRCForm(prefix string) *rcForm {
	return &rcForm{Prefix: prefix, Key: newKey(), Values: url.Values{}, Errors: map[string]string{}}
}

// F is an input of the form.
func (f *rcForm) F(name string) regField {
	return regField{Name: name, ID: f.Prefix + name, Value: f.Values.Get(name), Error: f.Errors[name]}
}

// Failed reports a refused form.
func (f *rcForm) Failed() bool { return f.Message != "" || len(f.Summary) > 0 }

// rcFieldKeys name the forms' inputs (the API's field names) in the reader's words.
var rcFieldKeys = map[string]string{
	"leader": "rc.f.leader", "day": "rc.p.day", "start_time": "rc.p.start_time", "end_time": "rc.p.end_time",
	"place": "rc.p.place", "subjects": "rc.p.subjects", "unit": "rc.p.unit",
	"petitioner_name": "rc.b.name", "petitioner_phone": "rc.b.phone", "subject": "rc.b.subject", "case_no": "rc.b.case_no",
	"category": "reg.category", "topic": "reg.topic", "content": "reg.content", "outcome": "rc.r.outcome",
}

// refused puts an API refusal on the form: each field complaint in the summary, and next to
// its input when the form has one (a registration's other fields, e.g. petitioners[0].phone,
// are the appointment's and named as registration names them).
func (f *rcForm) refused(v *view, ae *apiError, inputs []string) {
	f.Open = true
	if len(ae.Fields) == 0 {
		f.Message = ae.Message
		return
	}
	names := make([]string, 0, len(ae.Fields))
	for k := range ae.Fields {
		names = append(names, k)
	}
	order := func(n string) int {
		if i := slices.Index(inputs, n); i >= 0 {
			return i
		}
		return len(inputs)
	}
	sort.Slice(names, func(i, j int) bool {
		if oi, oj := order(names[i]), order(names[j]); oi != oj {
			return oi < oj
		}
		return names[i] < names[j]
	})
	for _, k := range names {
		detail := ae.Fields[k]
		text := errorText(v, k, detail)
		if strings.HasPrefix(detail, "is required") || slices.Contains(inputs, k) && strings.TrimSpace(f.Values.Get(k)) == "" {
			text = v.T("reg.err.required")
		}
		line := regSummary{Label: fieldLabel(v, k), Text: text}
		if key, ok := rcFieldKeys[k]; ok {
			line.Label = v.T(key)
		}
		if slices.Contains(inputs, k) {
			f.Errors[k] = text
			line.ID = f.Prefix + k
		}
		f.Summary = append(f.Summary, line)
	}
}

// formValues keeps a posted form's inputs (not its token and key).
func formValues(f url.Values, names ...string) url.Values {
	out := url.Values{}
	for _, n := range names {
		if vs, ok := f[n]; ok {
			out[n] = vs
		}
	}
	return out
}

// The forms' inputs, named as the API's fields.
var (
	rcDayInputs     = []string{"leader", "day", "start_time", "end_time", "place", "subjects", "unit"}
	rcBookInputs    = []string{"petitioner_name", "petitioner_phone", "subject", "case_no"}
	rcReceiveInputs = []string{"category", "topic", "content", "outcome"}
)

// rcDirectory is what the publishing form picks from: the leaders and the units (nil when the
// API did not give them: the form then asks for the staff ID or the unit code as text).
type rcDirectory struct {
	Leaders []cfStaff
	Units   []unit
}

func (c *Console) rcDirectoryLoad(r *http.Request, units bool) rcDirectory {
	var (
		d  rcDirectory
		wg sync.WaitGroup
	)
	wg.Go(func() {
		var ans struct {
			Staff []cfStaff `json:"staff"`
		}
		if c.get(r, "/api/v1/staff", url.Values{"role": {string(workflows.RoleLeader)}}).decode(&ans) == nil {
			d.Leaders = ans.Staff
			if d.Leaders == nil {
				d.Leaders = []cfStaff{}
			}
		}
	})
	if units {
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
	wg.Wait()
	return d
}

// LeaderField is the leader picker (or a staff ID box) with id, name and options.
func (d rcDirectory) LeaderField(v *view, id, selected, first string) cfField {
	f := cfStaffField(v, "", "leader", "rc.f.leader", d.Leaders, selected, false)
	f.ID = id
	if f.Kind == "select" && first != "" {
		f.Options[0].Label = first
	}
	return f
}

// UnitField is the optional unit picker of the publishing form.
func (d rcDirectory) UnitField(v *view, selected string) cfField {
	f := cfField{ID: "day-unit", Name: "unit", Kind: "select", Label: "rc.p.unit", Value: selected, Optional: true}
	if d.Units == nil {
		f.Kind, f.Hint = "text", "act.hint.unit_code"
		return f
	}
	f.Options = append(f.Options, cfOption{Value: "", Label: v.T("rc.p.unit_own"), Selected: selected == ""})
	for _, u := range d.Units {
		f.Options = append(f.Options, cfOption{Value: u.Code, Label: u.Name, Selected: u.Code == selected})
	}
	return f
}

// ---- the schedule ----

// rcSchedule is the schedule page's data.
type rcSchedule struct {
	From, To, Leader string // the filters as the API read them (or as typed, when refused)
	Days             []rcDay
	Err              *apiError
	Dir              rcDirectory
	CanPublish       bool
	Form             *rcForm // publishing
}

// rcFilter is the schedule's or the record's filters as the API takes them.
func rcFilter(q url.Values, names ...string) url.Values {
	out := url.Values{}
	for _, n := range names {
		if x := strings.TrimSpace(q.Get(n)); x != "" {
			out.Set(n, x)
		}
	}
	return out
}

func (c *Console) rcScheduleLoad(r *http.Request, v *view, q url.Values, form *rcForm) *rcSchedule {
	p := &rcSchedule{From: q.Get("from"), To: q.Get("to"), Leader: q.Get("leader"), CanPublish: v.May(permReceptionManage), Form: form}
	if p.Form == nil {
		p.Form = newRCForm("day-")
	}
	var (
		wg  sync.WaitGroup
		ans struct {
			From string  `json:"from"`
			To   string  `json:"to"`
			Days []rcDay `json:"reception_days"`
		}
		err error
	)
	wg.Go(func() { err = c.get(r, "/api/v1/reception-days", q).decode(&ans) })
	wg.Go(func() { p.Dir = c.rcDirectoryLoad(r, p.CanPublish) })
	wg.Wait()
	if err != nil {
		if ae, ok := err.(*apiError); ok {
			p.Err = ae
		} else {
			p.Err = &apiError{Status: http.StatusBadGateway, Message: err.Error()}
		}
		return p
	}
	p.From, p.To, p.Days = ans.From, ans.To, ans.Days
	return p
}

func (c *Console) rcScheduleRender(w http.ResponseWriter, v *view, status int, p *rcSchedule) {
	v.Title, v.Nav, v.Data = v.T("rc.title"), "reception", p
	c.render(w, status, "reception", v)
}

// receptionPage is the schedule: from today for 90 days unless asked.
func (c *Console) receptionPage(w http.ResponseWriter, r *http.Request, v *view) {
	p := c.rcScheduleLoad(r, v, rcFilter(r.URL.Query(), "from", "to", "leader"), nil)
	status := http.StatusOK
	if p.Err != nil {
		if p.Err.Status == http.StatusUnauthorized {
			c.needSignIn(w, r)
			return
		}
		status = p.Err.Status
	}
	c.rcScheduleRender(w, v, status, p)
}

// receptionPublish publishes a day (POST /api/v1/reception-days with the form's
// Idempotency-Key) and goes to its page, where the office books its appointments.
func (c *Console) receptionPublish(w http.ResponseWriter, r *http.Request, v *view) {
	if err := checkForm(r); err != nil {
		c.problem(w, v, err)
		return
	}
	form := newRCForm("day-")
	form.Values = formValues(r.PostForm, rcDayInputs...)
	if k := strings.TrimSpace(r.PostForm.Get("key")); k != "" {
		form.Key = k
	}
	body := map[string]string{}
	for _, n := range rcDayInputs {
		body[n] = strings.TrimSpace(form.Values.Get(n))
	}
	res := c.call(r, http.MethodPost, "/api/v1/reception-days", nil, body, http.Header{"Idempotency-Key": {form.Key}})
	if res.OK() {
		var d rcDay
		if err := res.decode(&d); err != nil || d.ID == 0 {
			setFlash(w, "ok", v.Tf("rc.published", v.DayDate(body["day"]), body["leader"]))
			http.Redirect(w, r, "/reception", http.StatusSeeOther)
			return
		}
		setFlash(w, "ok", v.Tf("rc.published", v.DayDate(d.Day), v.LeaderOf(d)))
		http.Redirect(w, r, "/reception/"+strconv.FormatInt(d.ID, 10), http.StatusSeeOther)
		return
	}
	if res.Status == http.StatusUnauthorized {
		c.needSignIn(w, r)
		return
	}
	ae := res.err()
	form.refused(v, ae, rcDayInputs)
	p := c.rcScheduleLoad(r, v, url.Values{}, form)
	c.rcScheduleRender(w, v, refusedStatus(ae), p)
}

func refusedStatus(ae *apiError) int {
	if ae.Status < 400 {
		return http.StatusBadGateway
	}
	return ae.Status
}

// rcID reads a numeric path parameter.
func rcID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// rcBack is where a small form goes back to: a page of the reception pages, or the schedule.
func rcBack(back, fallback string) string {
	back = safeNext(back)
	if back == "/reception" || strings.HasPrefix(back, "/reception?") || strings.HasPrefix(back, "/reception/") {
		return back
	}
	return fallback
}

// receptionCancel cancels a day (and its booked appointments) and goes back with the answer.
func (c *Console) receptionCancel(w http.ResponseWriter, r *http.Request, v *view) {
	if err := checkForm(r); err != nil {
		c.problem(w, v, err)
		return
	}
	id, ok := rcID(r, "id")
	if !ok {
		c.problem(w, v, &apiError{Status: http.StatusNotFound, Message: v.T("rc.bad_id")})
		return
	}
	back := rcBack(r.PostForm.Get("back"), "/reception")
	res := c.call(r, http.MethodPost, "/api/v1/reception-days/"+strconv.FormatInt(id, 10)+"/cancel", nil,
		map[string]string{"reason": strings.TrimSpace(r.PostForm.Get("reason"))}, nil)
	var d rcDay
	switch err := res.decode(&d); {
	case err == nil:
		setFlash(w, "ok", v.Tf("rc.cancelled", v.DayDate(d.Day)))
	case res.Status == http.StatusUnauthorized:
		c.needSignIn(w, r)
		return
	default:
		setFlash(w, "error", v.T("rc.not_done")+" "+res.err().Error())
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// ---- a day's appointments ----

// rcDayPage is a day's page data.
type rcDayPage struct {
	Day          rcDay
	Appointments []rcAppointment
	// What the reader may do on this day now (the API decides each request again).
	CanBook    bool
	CanReceive bool
	NotYet     bool // receiving is for the day or later
	CanCancel  bool
	Book       *rcForm
	failed     *rcForm // the refused visit form, by appointment
	failedID   int64
	Warn       string // a new case registered whose workflow has not confirmed yet
	Categories []string
}

// ReceiveForm is an appointment's visit form: the refused one as typed, or a new one.
func (p *rcDayPage) ReceiveForm(a rcAppointment) *rcForm {
	if p.failed != nil && p.failedID == a.ID {
		return p.failed
	}
	return newRCForm(fmt.Sprintf("a%d-", a.ID))
}

// Receivable reports an appointment whose visit may be recorded (a no-show may come late).
func (a rcAppointment) Receivable() bool { return a.Status == rcBooked || a.Status == rcNoShow }

// Pending reports an appointment still booked.
func (a rcAppointment) Pending() bool { return a.Status == rcBooked }

// rcDayLoad reads a day and its appointments; ok false when the page was answered (refused).
func (c *Console) rcDayLoad(w http.ResponseWriter, r *http.Request, v *view, id int64) (*rcDayPage, bool) {
	var ans struct {
		Day          rcDay           `json:"reception_day"`
		Appointments []rcAppointment `json:"appointments"`
	}
	res := c.get(r, "/api/v1/reception-days/"+strconv.FormatInt(id, 10)+"/appointments", nil)
	if err := res.decode(&ans); err != nil {
		if res.Status == http.StatusUnauthorized {
			c.needSignIn(w, r)
			return nil, false
		}
		c.problem(w, v, err)
		return nil, false
	}
	d := ans.Day
	today := v.today()
	p := &rcDayPage{Day: d, Appointments: ans.Appointments, Book: newRCForm("book-"),
		Categories: orderedCodes(labels.KindCategory, categoryDisplayOrder)}
	p.CanBook = v.May(permReceptionManage) && !d.Cancelled && d.Day >= today
	p.CanReceive = v.May(permReceptionReceive) && !d.Cancelled && d.Day <= today
	p.NotYet = v.May(permReceptionReceive) && !d.Cancelled && d.Day > today
	p.CanCancel = v.May(permReceptionManage) && !d.Cancelled && d.Received == 0
	return p, true
}

func (c *Console) rcDayRender(w http.ResponseWriter, v *view, status int, p *rcDayPage) {
	v.Title, v.Nav, v.Data = v.Tf("rc.day_title", v.DayDate(p.Day.Day)), "reception", p
	c.render(w, status, "reception_day", v)
}

func (c *Console) receptionDayPage(w http.ResponseWriter, r *http.Request, v *view) {
	id, ok := rcID(r, "id")
	if !ok {
		c.problem(w, v, &apiError{Status: http.StatusNotFound, Message: v.T("rc.bad_id")})
		return
	}
	p, ok := c.rcDayLoad(w, r, v, id)
	if !ok {
		return
	}
	c.rcDayRender(w, v, http.StatusOK, p)
}

// receptionBook books an appointment (POST …/appointments with the form's Idempotency-Key).
func (c *Console) receptionBook(w http.ResponseWriter, r *http.Request, v *view) {
	if err := checkForm(r); err != nil {
		c.problem(w, v, err)
		return
	}
	id, ok := rcID(r, "id")
	if !ok {
		c.problem(w, v, &apiError{Status: http.StatusNotFound, Message: v.T("rc.bad_id")})
		return
	}
	form := newRCForm("book-")
	form.Values = formValues(r.PostForm, rcBookInputs...)
	if k := strings.TrimSpace(r.PostForm.Get("key")); k != "" {
		form.Key = k
	}
	body := map[string]string{}
	for _, n := range rcBookInputs {
		body[n] = strings.TrimSpace(form.Values.Get(n))
	}
	day := strconv.FormatInt(id, 10)
	res := c.call(r, http.MethodPost, "/api/v1/reception-days/"+day+"/appointments", nil, body, http.Header{"Idempotency-Key": {form.Key}})
	if res.OK() {
		var a rcAppointment
		_ = res.decode(&a)
		setFlash(w, "ok", v.Tf("rc.booked", a.ID))
		http.Redirect(w, r, "/reception/"+day+"#appt-"+strconv.FormatInt(a.ID, 10), http.StatusSeeOther)
		return
	}
	if res.Status == http.StatusUnauthorized {
		c.needSignIn(w, r)
		return
	}
	ae := res.err()
	p, ok := c.rcDayLoad(w, r, v, id)
	if !ok {
		return
	}
	form.refused(v, ae, rcBookInputs)
	p.Book = form
	c.rcDayRender(w, v, refusedStatus(ae), p)
}

// rcReceipt is the page after a visit was received.
type rcReceipt struct {
	DayID       int64
	Appointment rcAppointment
	CaseNo      string
	ReceivedAs  string
	QueryCode   string
	Registered  bool // a new case from the visit: the receipt with its query code
	State       *workflows.CaseState
	Topic       string
	ReceivedAt  time.Time
	Due         *time.Time
	QueryURL    string
	By          string
}

// Leader is the case's leader in charge as the answer has it.
func (rc rcReceipt) Leader() string {
	if rc.State != nil {
		return rc.State.Leader
	}
	return ""
}

// receptionReceive records the visit (POST /api/v1/appointments/{id}/receive): for a new
// matter (or a closed case) with the registration fields, otherwise with the note only. The
// answer names the case; a new case's query code is shown once, on the receipt.
func (c *Console) receptionReceive(w http.ResponseWriter, r *http.Request, v *view) {
	if err := checkForm(r); err != nil {
		c.problem(w, v, err)
		return
	}
	id, ok1 := rcID(r, "id")
	aid, ok2 := rcID(r, "aid")
	if !ok1 || !ok2 {
		c.problem(w, v, &apiError{Status: http.StatusNotFound, Message: v.T("rc.bad_id")})
		return
	}
	form := newRCForm(fmt.Sprintf("a%d-", aid))
	form.Values = formValues(r.PostForm, "category", "topic", "content", "outcome", "mode")
	body := map[string]string{"outcome": strings.TrimSpace(form.Values.Get("outcome"))}
	// The registration's fields go for a new matter, and for a case's appointment only when
	// filled in (that case was closed: the visit is a new case).
	petition := form.Values.Get("mode") == "new"
	for _, n := range []string{"category", "topic", "content"} {
		if strings.TrimSpace(form.Values.Get(n)) != "" {
			petition = true
		}
	}
	if petition {
		for _, n := range []string{"category", "topic", "content"} {
			if x := strings.TrimSpace(form.Values.Get(n)); x != "" {
				body[n] = x
			}
		}
	}
	res := c.call(r, http.MethodPost, "/api/v1/appointments/"+strconv.FormatInt(aid, 10)+"/receive", nil, body, nil)
	if res.OK() {
		var ans struct {
			Appointment rcAppointment        `json:"appointment"`
			CaseNo      string               `json:"case_no"`
			ReceivedAs  string               `json:"received_as"`
			QueryCode   string               `json:"query_code"`
			State       *workflows.CaseState `json:"state"`
		}
		if err := json.Unmarshal(res.Body, &ans); err != nil {
			c.problem(w, v, fmt.Errorf("the API answered something the console cannot read: %w", err))
			return
		}
		c.rcReceiptRender(w, r, v, id, ans.Appointment, ans.CaseNo, ans.ReceivedAs, ans.QueryCode, ans.State, res.Status)
		return
	}
	if res.Status == http.StatusUnauthorized {
		c.needSignIn(w, r)
		return
	}
	ae := res.err()
	p, ok := c.rcDayLoad(w, r, v, id)
	if !ok {
		return
	}
	if res.Status >= 500 {
		var extra struct {
			CaseNo    string `json:"case_no"`
			QueryCode string `json:"query_code"`
		}
		_ = json.Unmarshal(res.Body, &extra)
		if extra.CaseNo != "" {
			p.Warn = v.Tf("reg.unconfirmed", extra.CaseNo, extra.QueryCode)
		} else {
			p.Warn = v.T("reg.unavailable")
		}
	}
	form.refused(v, ae, rcReceiveInputs)
	p.failed, p.failedID = form, aid
	c.rcDayRender(w, v, refusedStatus(ae), p)
}

func (c *Console) rcReceiptRender(w http.ResponseWriter, r *http.Request, v *view, day int64, a rcAppointment, caseNo, as, code string, st *workflows.CaseState, status int) {
	rc := rcReceipt{DayID: day, Appointment: a, CaseNo: caseNo, ReceivedAs: as, QueryCode: code, State: st, Topic: a.Subject, By: v.Me.Name,
		Registered: as == rcRegistered}
	if a.ReceivedAt != nil {
		rc.ReceivedAt = *a.ReceivedAt
	}
	if st != nil {
		if !st.ReceivedAt.IsZero() {
			rc.ReceivedAt = st.ReceivedAt
		}
		if st.Topic != "" {
			rc.Topic = st.Topic
		}
		if st.Deadline != nil && st.Deadline.Clock == workflows.ClockAcceptance {
			due := st.Deadline.Due
			rc.Due = &due
		}
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	rc.QueryURL = scheme + "://" + r.Host + "/query"
	title := "rc.receipt.done"
	if rc.Registered {
		title = "rc.receipt.title"
	}
	v.Title, v.Nav, v.Data = v.T(title), "reception", rc
	c.render(w, status, "reception_receipt", v)
}

// receptionNoShow records that the petitioner did not come.
func (c *Console) receptionNoShow(w http.ResponseWriter, r *http.Request, v *view) {
	if err := checkForm(r); err != nil {
		c.problem(w, v, err)
		return
	}
	id, ok1 := rcID(r, "id")
	aid, ok2 := rcID(r, "aid")
	if !ok1 || !ok2 {
		c.problem(w, v, &apiError{Status: http.StatusNotFound, Message: v.T("rc.bad_id")})
		return
	}
	res := c.call(r, http.MethodPost, "/api/v1/appointments/"+strconv.FormatInt(aid, 10)+"/no-show", nil,
		map[string]string{"note": strings.TrimSpace(r.PostForm.Get("note"))}, nil)
	switch {
	case res.OK():
		setFlash(w, "ok", v.Tf("rc.noshow_done", aid))
	case res.Status == http.StatusUnauthorized:
		c.needSignIn(w, r)
		return
	default:
		setFlash(w, "error", v.T("rc.not_done")+" "+res.err().Error())
	}
	http.Redirect(w, r, "/reception/"+strconv.FormatInt(id, 10)+"#appt-"+strconv.FormatInt(aid, 10), http.StatusSeeOther)
}

// ---- the record ----

// rcRecordPage is the record page's data.
type rcRecordPage struct {
	Leader, From, To string
	Record           *rcRecord
	Err              *apiError
	Pick             bool // the reader chooses the leader (the petition office)
	Dir              rcDirectory
	Query            string // the filters, for the download links
}

// ExportLink is the record as a file with the page's filters.
func (p *rcRecordPage) ExportLink(format string) string {
	return linkWithQuery("/reception/record/export/"+format, p.Query)
}

var rcFormat = regexp.MustCompile(`^(csv|xlsx)$`)

func (c *Console) receptionRecord(w http.ResponseWriter, r *http.Request, v *view) {
	q := rcFilter(r.URL.Query(), "leader", "from", "to")
	p := &rcRecordPage{Leader: q.Get("leader"), From: q.Get("from"), To: q.Get("to"), Query: q.Encode(),
		Pick: !v.Can(string(workflows.RoleLeader))}
	var (
		wg  sync.WaitGroup
		rec rcRecord
		res apiResult
	)
	wg.Go(func() { res = c.get(r, "/api/v1/reception-record", q) })
	if p.Pick {
		wg.Go(func() { p.Dir = c.rcDirectoryLoad(r, false) })
	}
	wg.Wait()
	status := http.StatusOK
	if err := res.decode(&rec); err != nil {
		if res.Status == http.StatusUnauthorized {
			c.needSignIn(w, r)
			return
		}
		ae, ok := err.(*apiError)
		if !ok {
			ae = &apiError{Status: http.StatusBadGateway, Message: err.Error()}
		}
		p.Err, status = ae, refusedStatus(ae)
	} else {
		p.Record = &rec
		p.From, p.To = rec.From, rec.To
		if !p.Pick {
			p.Leader = rec.Leader
		}
		// The files are the record shown: its leader and period as the API read them.
		files := url.Values{"from": {rec.From}, "to": {rec.To}}
		if rec.Leader != "" {
			files.Set("leader", rec.Leader)
		}
		p.Query = files.Encode()
	}
	v.Title, v.Nav, v.Data = v.T("rc.record.title"), "reception", p
	c.render(w, status, "reception_record", v)
}

// receptionRecordExport passes the record's CSV or Excel file through from the API.
func (c *Console) receptionRecordExport(w http.ResponseWriter, r *http.Request, v *view) {
	format := r.PathValue("format")
	if !rcFormat.MatchString(format) {
		c.problem(w, v, &apiError{Status: http.StatusNotFound, Message: v.T("rc.record.no_file")})
		return
	}
	q := rcFilter(r.URL.Query(), "leader", "from", "to")
	q.Set("format", format)
	res := c.get(r, "/api/v1/reception-record", q)
	if !res.OK() {
		c.problem(w, v, res.err())
		return
	}
	passThrough(w, res)
}
