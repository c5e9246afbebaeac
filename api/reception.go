package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/petitions/petitions/internal/labels"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// Leader reception days (领导接访日) and appointments (约访), issue 13. The petition office
// publishes which leader receives petitioners on which day, where, on which subjects; a clerk
// books a petitioner's appointment for a new matter or an existing case; the visit received
// makes the leader the case's leader in charge (包案领导): the appointment's open case through
// the workflow's assign_leader update, or a new case (channel visit) registered by
// registration's own path (petitions.go registerCase) with the leader in charge from the
// start. The register holds the schedule and the appointments (internal/register/reception.go):
//
//	GET  /api/v1/public/reception-days                    the published schedule (public: no personal data, no IDs)
//	GET  /api/v1/reception-days                           the schedule for staff (cancelled days and counts too)
//	POST /api/v1/reception-days                           publish a day (clerks, supervisors; Idempotency-Key)
//	POST /api/v1/reception-days/{id}/cancel               cancel it and its booked appointments
//	GET  /api/v1/reception-days/{id}/appointments         the day's appointments, with the petitioners' names and phones
//	POST /api/v1/reception-days/{id}/appointments         book one (clerks, supervisors; Idempotency-Key)
//	POST /api/v1/appointments/{id}/receive                the visit was received (clerks, the receiving leader)
//	POST /api/v1/appointments/{id}/no-show                the petitioner did not come
//	GET  /api/v1/reception-record                         a leader's reception record; format=csv|xlsx
//
// Scope: the schedule is public; a leader reads the appointments and the record of their own
// days and receives on them only (others' answer 404 and 403); the petition office all.

// receptionStore is the register's reception part (internal/register/reception.go).
type receptionStore interface {
	CreateReceptionDay(ctx context.Context, nd register.NewReceptionDay) (register.ReceptionDay, bool, error)
	ReceptionDayByID(ctx context.Context, id int64) (register.ReceptionDay, error)
	ReceptionDays(ctx context.Context, f register.ReceptionDayFilter) ([]register.ReceptionDay, error)
	CancelReceptionDay(ctx context.Context, id int64, by string, at time.Time, reason string) (register.ReceptionDay, error)
	BookAppointment(ctx context.Context, na register.NewAppointment) (register.Appointment, bool, error)
	AppointmentByID(ctx context.Context, id int64) (register.Appointment, error)
	Appointments(ctx context.Context, day int64) ([]register.Appointment, error)
	ReceiveAppointment(ctx context.Context, r register.Reception) (register.Appointment, error)
	NoShowAppointment(ctx context.Context, id int64, by string, at time.Time, note string) (register.Appointment, error)
	ReceptionRecord(ctx context.Context, leader, from, to string) ([]register.ReceptionRecordDay, error)
}

// reception is the register's reception part, or errNotConfigured. Its calls go through
// receptionCall, which puts the register's deadline on each.
func (s *Server) reception() (receptionStore, error) {
	r := s.reg
	if t, ok := r.(timedRegister); ok {
		r = t.r
	}
	st, ok := r.(receptionStore)
	if !ok {
		return nil, errNotConfigured
	}
	return st, nil
}

func receptionCall[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	v, err := within(ctx, registerWait, f)
	var refused *register.ReceptionError
	if errors.As(err, &refused) {
		err = &unprocessableError{msg: refused.Msg}
	}
	return v, err
}

// Bounds of the schedule and the appointments (PostgreSQL text; shown to staff and the public).
const (
	maxPlace         = 200
	maxSubjects      = 2000
	maxOutcome       = 5000
	maxCancelReason  = 500
	maxReceptionSpan = 366 // days a schedule or record query may cover
	// receptionDefaultSpan: the schedule shows this many days from today unless asked.
	receptionDefaultSpan = 90
)

var clockPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// civilDate reads a date YYYY-MM-DD of the legal calendar in the years the API accepts.
func civilDate(v string) (time.Time, error) {
	d, err := time.ParseInLocation(time.DateOnly, v, shanghai)
	if err != nil {
		return time.Time{}, errors.New("must be a date written YYYY-MM-DD, e.g. 2026-06-10")
	}
	if !inYearRange(d) {
		return time.Time{}, errYearRange
	}
	return d, nil
}

// today is the civil date now, Asia/Shanghai.
func (s *Server) today() string { return s.now().In(shanghai).Format(time.DateOnly) }

// idParam reads a numeric path parameter.
func idParam(c *gin.Context, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, fieldErrors{"id": "must be the number of " + what}
	}
	return id, nil
}

// dateRange reads from and to (dates, both included) among the known parameters. A missing
// from is the given one; a missing to the given one, or when none is given
// receptionDefaultSpan days after from.
func dateRange(c *gin.Context, known []string, from, to string) (string, string, error) {
	q := c.Request.URL.Query()
	f := fieldErrors{}
	for name := range q {
		if !contains(known, name) {
			f[name] = "unknown parameter; known: " + strings.Join(known, ", ")
		}
	}
	if v := q.Get("from"); v != "" {
		from = v
	}
	fromDay, err := civilDate(from)
	if err != nil {
		f["from"] = err.Error()
	}
	if v := q.Get("to"); v != "" {
		to = v
	}
	var toDay time.Time
	switch {
	case to != "":
		if toDay, err = civilDate(to); err != nil {
			f["to"] = err.Error()
		}
	case f["from"] == "":
		toDay = fromDay.AddDate(0, 0, receptionDefaultSpan)
		if last := time.Date(maxYear, 12, 31, 0, 0, 0, 0, shanghai); toDay.After(last) {
			toDay = last
		}
	}
	if len(f) == 0 {
		switch {
		case toDay.Before(fromDay):
			f["to"] = "must not be before from"
		case toDay.After(fromDay.AddDate(0, 0, maxReceptionSpan)):
			f["to"] = "at most " + strconv.Itoa(maxReceptionSpan) + " days after from"
		}
	}
	if len(f) > 0 {
		return "", "", f
	}
	return fromDay.Format(time.DateOnly), toDay.Format(time.DateOnly), nil
}

// ---- the schedule ----

// publicReceptionDay is a day as the public schedule shows it: nothing else.
type publicReceptionDay struct {
	Day        string `json:"day"`
	StartTime  string `json:"start_time,omitempty"`
	EndTime    string `json:"end_time,omitempty"`
	Place      string `json:"place"`
	Subjects   string `json:"subjects"`
	LeaderName string `json:"leader_name"`
	UnitName   string `json:"unit_name"`
}

// publicReceptionDays is GET /api/v1/public/reception-days: the published schedule, from
// today for 90 days unless asked; cancelled days are left out. Rate-limited per client
// address like the petitioner's self-service.
func (s *Server) publicReceptionDays(c *gin.Context) {
	if err := s.publicClient.take(c.ClientIP()); err != nil {
		s.fail(c, err)
		return
	}
	from, to, err := dateRange(c, []string{"from", "to"}, s.today(), "")
	if err != nil {
		s.fail(c, err)
		return
	}
	st, err := s.reception()
	if err != nil {
		s.fail(c, err)
		return
	}
	days, err := receptionCall(c.Request.Context(), func(ctx context.Context) ([]register.ReceptionDay, error) {
		return st.ReceptionDays(ctx, register.ReceptionDayFilter{From: from, To: to})
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]publicReceptionDay, 0, len(days))
	for _, d := range days {
		out = append(out, publicReceptionDay{Day: d.Day, StartTime: d.StartTime, EndTime: d.EndTime, Place: d.Place,
			Subjects: d.Subjects, LeaderName: d.LeaderName, UnitName: d.UnitName})
	}
	c.Header("Cache-Control", "public, max-age=60")
	s.answer(c, http.StatusOK, gin.H{"from": from, "to": to, "reception_days": out})
}

// listReceptionDays is GET /api/v1/reception-days?from=&to=&leader=: the schedule for staff,
// cancelled days included (marked), with the appointments' counts.
func (s *Server) listReceptionDays(c *gin.Context) {
	from, to, err := dateRange(c, []string{"from", "to", "leader"}, s.today(), "")
	if err != nil {
		s.fail(c, err)
		return
	}
	leader := strings.TrimSpace(c.Query("leader"))
	if len(leader) > 64 || !validText(leader) {
		s.fail(c, fieldErrors{"leader": "must be a staff ID of at most 64 characters"})
		return
	}
	st, err := s.reception()
	if err != nil {
		s.fail(c, err)
		return
	}
	days, err := receptionCall(c.Request.Context(), func(ctx context.Context) ([]register.ReceptionDay, error) {
		return st.ReceptionDays(ctx, register.ReceptionDayFilter{From: from, To: to, Leader: leader, Cancelled: true})
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	if days == nil {
		days = []register.ReceptionDay{}
	}
	s.answer(c, http.StatusOK, gin.H{"from": from, "to": to, "reception_days": days})
}

// receptionDayRequest is the body of POST /api/v1/reception-days.
type receptionDayRequest struct {
	Leader    string `json:"leader"`
	Day       string `json:"day"`
	StartTime string `json:"start_time"`
	EndTime   string `json:"end_time"`
	Place     string `json:"place"`
	Subjects  string `json:"subjects"`
	// Unit: the unit the day is held for; the leader's own by default.
	Unit string `json:"unit"`
}

func (r *receptionDayRequest) validate(today, key string) error {
	f := fieldErrors{}
	trimAll(&r.Leader, &r.Day, &r.StartTime, &r.EndTime, &r.Place, &r.Subjects, &r.Unit)
	switch {
	case r.Leader == "":
		f["leader"] = "is required: the receiving leader's staff ID"
	case len(r.Leader) > 64 || !validText(r.Leader):
		f["leader"] = "must be a staff ID of at most 64 characters"
	}
	if r.Day == "" {
		f["day"] = "is required"
	} else if d, err := civilDate(r.Day); err != nil {
		f["day"] = err.Error()
	} else if r.Day = d.Format(time.DateOnly); r.Day < today {
		f["day"] = "must not be in the past (today is " + today + ")"
	}
	for field, v := range map[string]string{"start_time": r.StartTime, "end_time": r.EndTime} {
		if v != "" && !clockPattern.MatchString(v) {
			f[field] = "must be a time of day written HH:MM, e.g. 09:00"
		}
	}
	if f["start_time"] == "" && f["end_time"] == "" && r.StartTime != "" && r.EndTime != "" && r.EndTime <= r.StartTime {
		f["end_time"] = "must be after start_time"
	}
	if r.Place == "" {
		f["place"] = "is required"
	} else if msg := textProblem(r.Place, maxPlace); msg != "" {
		f["place"] = msg
	}
	if msg := textProblem(r.Subjects, maxSubjects); msg != "" {
		f["subjects"] = msg
	}
	if len(r.Unit) > 64 || !validText(r.Unit) {
		f["unit"] = "must be a unit code of at most 64 characters"
	}
	checkIdempotencyKey(key, f)
	if len(f) > 0 {
		return f
	}
	return nil
}

// createReceptionDay is POST /api/v1/reception-days: the office publishes a reception day of a
// leader (a staff member of role leader). The same Idempotency-Key answers the same day.
func (s *Server) createReceptionDay(c *gin.Context) {
	var req receptionDayRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	key := c.GetHeader(headerIdempotencyKey)
	if err := req.validate(s.today(), key); err != nil {
		s.fail(c, err)
		return
	}
	if key == "" {
		s.fail(c, errKeyRequired("publishing a reception day", "day", "a retry publishes it once"))
		return
	}
	st, err := s.reception()
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	leader, err := s.reg.Staff(ctx, req.Leader)
	switch {
	case errors.Is(err, register.ErrNotFound):
		s.fail(c, &unprocessableError{msg: "unknown leader", fields: map[string]string{"leader": "no staff member with ID " + strconv.Quote(req.Leader)}})
		return
	case err != nil:
		s.fail(c, err)
		return
	case leader.Role != string(workflows.RoleLeader):
		s.fail(c, &unprocessableError{msg: "not a leader", fields: map[string]string{"leader": req.Leader + " is a " + leader.Role + ", not a leader: a reception day is a leader's"}})
		return
	}
	if req.Unit == "" {
		req.Unit = leader.Unit
	} else if _, err := s.reg.Unit(ctx, req.Unit); errors.Is(err, register.ErrNotFound) {
		s.fail(c, &unprocessableError{msg: "unknown unit", fields: map[string]string{"unit": "no unit with code " + strconv.Quote(req.Unit)}})
		return
	} else if err != nil {
		s.fail(c, err)
		return
	}
	p := principal(c)
	var created bool
	day, err := receptionCall(ctx, func(ctx context.Context) (register.ReceptionDay, error) {
		d, ok, err := st.CreateReceptionDay(ctx, register.NewReceptionDay{Leader: req.Leader, Day: req.Day,
			StartTime: req.StartTime, EndTime: req.EndTime, Place: req.Place, Subjects: req.Subjects, Unit: req.Unit,
			CreatedBy: p.StaffID, CreatedAt: s.now(), IdempotencyKey: key})
		created = ok
		return d, err
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.log.InfoContext(ctx, "reception day published", "reception_day", day.ID, "leader", day.Leader, "day", day.Day, "staff_id", p.StaffID)
	}
	s.answer(c, status, day)
}

// cancelRequest is the optional body of POST /api/v1/reception-days/{id}/cancel.
type cancelRequest struct {
	Reason string `json:"reason"`
}

// noShowRequest is the optional body of POST /api/v1/appointments/{id}/no-show.
type noShowRequest struct {
	Note string `json:"note"`
}

// decodeOptional reads a JSON body when there is one: these endpoints need none.
func decodeOptional(c *gin.Context, v any) error {
	if c.Request.Body == nil || c.Request.Body == http.NoBody || c.Request.ContentLength == 0 {
		return nil
	}
	return decodeJSON(c, v)
}

// cancelReceptionDay is POST /api/v1/reception-days/{id}/cancel: the day and its booked
// appointments are cancelled (again: the same answer); a day with received visits is not.
func (s *Server) cancelReceptionDay(c *gin.Context) {
	id, err := idParam(c, "a reception day")
	if err != nil {
		s.fail(c, err)
		return
	}
	var req cancelRequest
	if err := decodeOptional(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if msg := textProblem(req.Reason, maxCancelReason); msg != "" {
		s.fail(c, fieldErrors{"reason": msg})
		return
	}
	st, err := s.reception()
	if err != nil {
		s.fail(c, err)
		return
	}
	p := principal(c)
	day, err := receptionCall(c.Request.Context(), func(ctx context.Context) (register.ReceptionDay, error) {
		return st.CancelReceptionDay(ctx, id, p.StaffID, s.now(), req.Reason)
	})
	if errors.Is(err, register.ErrNotFound) {
		err = &notFoundError{what: "reception day " + strconv.FormatInt(id, 10)}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answer(c, http.StatusOK, day)
}

// ---- appointments ----

// appointmentView is an appointment with its status in Chinese.
type appointmentView struct {
	register.Appointment
	StatusLabel string `json:"status_label"`
}

func viewAppointment(a register.Appointment) appointmentView {
	return appointmentView{Appointment: a, StatusLabel: labels.Zh(labels.KindAppointmentStatus, a.Status)}
}

// receptionDayOf loads a day the signed-in person may work on: the petition office any, a
// leader their own (another's answers 404, so IDs cannot be probed).
func (s *Server) receptionDayOf(ctx context.Context, st receptionStore, p Principal, id int64) (register.ReceptionDay, error) {
	day, err := receptionCall(ctx, func(ctx context.Context) (register.ReceptionDay, error) { return st.ReceptionDayByID(ctx, id) })
	if err == nil && workflows.Role(p.Role) == workflows.RoleLeader && day.Leader != p.StaffID {
		err = register.ErrNotFound
	}
	if errors.Is(err, register.ErrNotFound) {
		err = &notFoundError{what: "reception day " + strconv.FormatInt(id, 10)}
	}
	return day, err
}

// listAppointments is GET /api/v1/reception-days/{id}/appointments: the day and its
// appointments with the petitioners' names and phones (a read recorded among the personal
// data reads).
func (s *Server) listAppointments(c *gin.Context) {
	id, err := idParam(c, "a reception day")
	if err != nil {
		s.fail(c, err)
		return
	}
	st, err := s.reception()
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	p := principal(c)
	day, err := s.receptionDayOf(ctx, st, p, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	list, err := receptionCall(ctx, func(ctx context.Context) ([]register.Appointment, error) { return st.Appointments(ctx, id) })
	if err != nil {
		s.fail(c, err)
		return
	}
	if len(list) > 0 {
		if err := s.reg.RecordPersonalDataRead(ctx, p.StaffID, "", "GET /api/v1/reception-days/{id}/appointments (reception day "+strconv.FormatInt(id, 10)+")"); err != nil {
			s.fail(c, err)
			return
		}
	}
	views := make([]appointmentView, 0, len(list))
	for _, a := range list {
		views = append(views, viewAppointment(a))
	}
	c.Header("Cache-Control", "no-store")
	s.answer(c, http.StatusOK, gin.H{"reception_day": day, "appointments": views})
}

// appointmentRequest is the body of POST /api/v1/reception-days/{id}/appointments.
type appointmentRequest struct {
	PetitionerName  string `json:"petitioner_name"`
	PetitionerPhone string `json:"petitioner_phone"`
	Subject         string `json:"subject"`
	// CaseNo: an existing case the appointment is about (the clerk may see it); empty for a
	// new matter.
	CaseNo string `json:"case_no"`
}

func (r *appointmentRequest) validate(key string) error {
	f := fieldErrors{}
	trimAll(&r.PetitionerName, &r.PetitionerPhone, &r.Subject, &r.CaseNo)
	if r.PetitionerName == "" {
		f["petitioner_name"] = "is required"
	} else if msg := textProblem(r.PetitionerName, maxName); msg != "" {
		f["petitioner_name"] = msg
	}
	if r.PetitionerPhone == "" {
		f["petitioner_phone"] = "is required: the office calls to confirm the appointment"
	} else if len(r.PetitionerPhone) > maxPhone || !validPhone(r.PetitionerPhone) {
		f["petitioner_phone"] = "is not a phone number"
	}
	if r.Subject == "" {
		f["subject"] = "is required: what the petitioner wants to raise"
	} else if msg := textProblem(r.Subject, maxTopic); msg != "" {
		f["subject"] = msg
	}
	if r.CaseNo != "" && !validCaseNo(r.CaseNo) {
		f["case_no"] = "is not a case number"
	}
	checkIdempotencyKey(key, f)
	if len(f) > 0 {
		return f
	}
	return nil
}

// bookAppointment is POST /api/v1/reception-days/{id}/appointments: a clerk books a
// petitioner on a day that is not cancelled and has not passed, for a new matter or an
// existing case the clerk may see. The same Idempotency-Key answers the same appointment.
func (s *Server) bookAppointment(c *gin.Context) {
	id, err := idParam(c, "a reception day")
	if err != nil {
		s.fail(c, err)
		return
	}
	var req appointmentRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	key := c.GetHeader(headerIdempotencyKey)
	if err := req.validate(key); err != nil {
		s.fail(c, err)
		return
	}
	if key == "" {
		s.fail(c, errKeyRequired("booking an appointment", "appointment", "a retry books it once"))
		return
	}
	st, err := s.reception()
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	p := principal(c)
	day, err := s.receptionDayOf(ctx, st, p, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	switch {
	case day.Cancelled:
		s.fail(c, &unprocessableError{msg: "reception day " + strconv.FormatInt(id, 10) + " is cancelled: book on another day"})
		return
	case day.Day < s.today():
		s.fail(c, &unprocessableError{msg: "reception day " + strconv.FormatInt(id, 10) + " (" + day.Day + ") has passed: book on a coming day"})
		return
	}
	if req.CaseNo != "" {
		row, err := s.getCase(ctx, req.CaseNo)
		var sc *register.Scope
		if err == nil {
			sc, err = s.caseScope(ctx, p)
		}
		if err == nil && !inScope(sc, row) {
			err = &notFoundError{what: "case " + req.CaseNo}
		}
		if errors.Is(err, register.ErrNotFound) {
			// Unknown and out of scope alike, so case numbers cannot be probed.
			err = &unprocessableError{msg: "unknown case", fields: map[string]string{"case_no": "no case " + req.CaseNo + " that you may see"}}
		}
		if err != nil {
			s.fail(c, err)
			return
		}
	}
	var created bool
	a, err := receptionCall(ctx, func(ctx context.Context) (register.Appointment, error) {
		a, ok, err := st.BookAppointment(ctx, register.NewAppointment{ReceptionDay: id, CaseNo: req.CaseNo,
			PetitionerName: req.PetitionerName, PetitionerPhone: req.PetitionerPhone, Subject: req.Subject,
			CreatedBy: p.StaffID, CreatedAt: s.now(), IdempotencyKey: key})
		created = ok
		return a, err
	})
	if errors.Is(err, register.ErrNotFound) {
		err = &notFoundError{what: "reception day " + strconv.FormatInt(id, 10)}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.log.InfoContext(ctx, "appointment booked", "appointment", a.ID, "reception_day", id, "staff_id", p.StaffID)
	}
	c.Header("Cache-Control", "no-store") // the petitioner's name and phone
	s.answer(c, status, viewAppointment(a))
}

// appointmentFor reads an action on an appointment (receive, no-show): the reception store,
// the optional body into req, its note (text, under field) trimmed and checked, and the
// appointment with its day. Not ok: the request has been answered with the error.
func (s *Server) appointmentFor(c *gin.Context, req any, field string, text *string) (st receptionStore, a register.Appointment, day register.ReceptionDay, ok bool) {
	st, err := s.reception()
	if err == nil {
		err = decodeOptional(c, req)
	}
	if err == nil {
		*text = strings.TrimSpace(*text)
		if msg := textProblem(*text, maxOutcome); msg != "" {
			err = fieldErrors{field: msg}
		}
	}
	if err == nil {
		a, day, err = s.appointmentOf(c, st)
	}
	if err != nil {
		s.fail(c, err)
		return nil, a, day, false
	}
	return st, a, day, true
}

// appointmentOf loads an appointment and its day for the signed-in person: the petition
// office any, a leader those of their own days (another's answers 404).
func (s *Server) appointmentOf(c *gin.Context, st receptionStore) (register.Appointment, register.ReceptionDay, error) {
	id, err := idParam(c, "an appointment")
	if err != nil {
		return register.Appointment{}, register.ReceptionDay{}, err
	}
	ctx := c.Request.Context()
	a, err := receptionCall(ctx, func(ctx context.Context) (register.Appointment, error) { return st.AppointmentByID(ctx, id) })
	var day register.ReceptionDay
	if err == nil {
		day, err = s.receptionDayOf(ctx, st, principal(c), a.ReceptionDay)
	}
	if errors.Is(err, register.ErrNotFound) {
		err = &notFoundError{what: "appointment " + strconv.FormatInt(id, 10)}
	}
	return a, day, err
}

// receiveRequest is the body of POST /api/v1/appointments/{id}/receive: the note of the
// visit (接访情况), and for an appointment without an open case the petition to register, with
// the fields and the validation of POST /api/v1/petitions. Left out there: channel visit, the
// appointment's subject as topic, its petitioner (name and phone) as the petitioner.
type receiveRequest struct {
	petitionRequest
	Outcome string `json:"outcome"`
}

// hasPetition reports whether the body carries any of the petition's fields.
func (r *receiveRequest) hasPetition() bool {
	p := r.petitionRequest
	return p.Channel != "" || p.Category != "" || p.Topic != "" || p.Content != "" || len(p.Petitioners) > 0 ||
		p.GroupSize != nil || p.Location != "" || len(p.Attachments) > 0 || p.Policy != "" || p.ReceivedAt != "" ||
		p.LodgedLevel != ""
}

// receptionKey is the idempotency key of the case registered from an appointment's visit: a
// retried reception finds the case it registered.
func receptionKey(id int64) string { return "reception-appointment-" + strconv.FormatInt(id, 10) }

// receiveAppointment is POST /api/v1/appointments/{id}/receive: the visit was received by the
// day's leader. An appointment about an open case makes the leader its leader in charge (the
// workflow's assign_leader, update ID of the appointment); any other registers the visit as a
// new case (channel visit) by registration's own path, the leader in charge from the start —
// or, when it repeats an open case of the petitioner (重复信访), links it there and puts the
// leader in charge of that case. The appointment is then marked received with the case.
// Repeated, it answers the appointment as received (with the query code of a case it
// registered).
func (s *Server) receiveAppointment(c *gin.Context) {
	var req receiveRequest
	st, a, day, ok := s.appointmentFor(c, &req, "outcome", &req.Outcome)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	p := principal(c)
	if err := checkActorField(p, req.Actor); err != nil {
		s.fail(c, err)
		return
	}
	switch {
	case a.Status == register.AppointmentReceived:
		s.answerReceived(c, a, http.StatusOK, nil, "")
		return
	case a.Status == register.AppointmentCancelled:
		s.fail(c, &unprocessableError{msg: "appointment " + strconv.FormatInt(a.ID, 10) + " was cancelled with its reception day"})
		return
	case s.today() < day.Day:
		s.fail(c, &unprocessableError{msg: "the reception day is " + day.Day + ": a visit is received on the day (or recorded after it)"})
		return
	}
	actor, err := s.actorOf(ctx, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	var open *register.Case
	if a.CaseNo != "" {
		row, err := s.getCase(ctx, a.CaseNo)
		if err != nil {
			s.fail(c, err)
			return
		}
		if !workflows.Stage(row.Stage).Final() {
			open = &row
		}
	}
	reception := register.Reception{Appointment: a.ID, By: p.StaffID, At: s.now(), Outcome: req.Outcome}
	var (
		state     any
		queryCode string
		status    = http.StatusOK
	)
	if open != nil {
		if req.hasPetition() {
			s.fail(c, fieldErrors{"petition": "appointment " + strconv.FormatInt(a.ID, 10) + " is about open case " + open.CaseNo +
				": the visit is recorded on it; send only the outcome"})
			return
		}
		cs, err := s.assignReceivingLeader(ctx, *open, a, day, actor)
		if err != nil {
			s.fail(c, err)
			return
		}
		state = cs
		reception.CaseNo, reception.As = open.CaseNo, register.ReceivedLeaderAssigned
	} else {
		reg, nc, err := s.registerVisit(c, &req, a, day, p)
		switch {
		case err != nil && reg.row.CaseNo != "":
			s.failRegistered(c, reg.row, true, err)
			return
		case err != nil:
			s.fail(c, err)
			return
		case reg.linked != nil:
			// A repeat of the petitioner's open case: the visit is recorded there, and the
			// leader takes charge of that case.
			prior, err := s.getCase(ctx, reg.repeatOf)
			if err != nil {
				s.fail(c, err)
				return
			}
			cs, err := s.assignReceivingLeader(ctx, prior, a, day, actor)
			if err != nil {
				s.fail(c, err)
				return
			}
			state = cs
			reception.CaseNo, reception.As = reg.repeatOf, register.ReceivedRepeat
		default:
			state, queryCode = reg.state, reg.row.QueryCode
			reception.CaseNo, reception.As = reg.row.CaseNo, register.ReceivedRegistered
			if reg.created {
				status = http.StatusCreated
				s.log.InfoContext(ctx, "visit registered on a reception day", "case_no", reg.row.CaseNo,
					"appointment", a.ID, "leader", nc.Leader, "staff_id", p.StaffID)
			}
		}
	}
	a, err = receptionCall(ctx, func(ctx context.Context) (register.Appointment, error) { return st.ReceiveAppointment(ctx, reception) })
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answerReceived(c, a, status, state, queryCode)
}

// answerReceived answers a received appointment: the case it concerns and how, the case's
// state when known, and the query code of a case registered from the visit (this time, or on
// a repeat of the request: the petitioner must not leave without it).
func (s *Server) answerReceived(c *gin.Context, a register.Appointment, status int, state any, queryCode string) {
	ctx := c.Request.Context()
	if queryCode == "" && a.ReceivedAs == register.ReceivedRegistered {
		if row, err := s.reg.CaseByIdempotencyKey(ctx, receptionKey(a.ID)); err == nil && row.CaseNo == a.ReceivedCaseNo {
			queryCode = row.QueryCode
		}
	}
	if state == nil && a.ReceivedCaseNo != "" {
		if row, err := s.getCase(ctx, a.ReceivedCaseNo); err == nil {
			if live, ok, _ := s.liveState(ctx, row); ok {
				state = live
			}
		}
	}
	body := gin.H{
		"appointment":       viewAppointment(a),
		"case_no":           a.ReceivedCaseNo,
		"received_as":       a.ReceivedAs,
		"received_as_label": labels.Zh(labels.KindReceivedAs, a.ReceivedAs),
	}
	if state != nil {
		body["state"] = state
	}
	if queryCode != "" {
		body["query_code"] = queryCode
	}
	c.Header("Cache-Control", "no-store") // personal data, and the query code
	s.answer(c, status, body)
}

// assignReceivingLeader makes the day's leader the case's leader in charge (包案领导) with the
// workflow's assign_leader update, its ID the appointment's, so a retry applies it once. A
// leader already in charge is fine.
func (s *Server) assignReceivingLeader(ctx context.Context, row register.Case, a register.Appointment, day register.ReceptionDay, actor workflows.Actor) (workflows.CaseState, error) {
	in := workflows.ActionInput{Actor: actor, Leader: day.Leader,
		Reason: fmt.Sprintf("领导接访日 %s 接待（约访 %d）", day.Day, a.ID)}
	state, err := s.update(ctx, row.CaseNo, workflows.UpdateAssignLeader, "reception-"+strconv.FormatInt(a.ID, 10), in)
	var appErr *temporal.ApplicationError
	if refusal(err, appErrInvalidInput, &appErr) {
		// "changes nothing": the leader is in charge already (e.g. received before).
		if live, qerr := s.queryState(ctx, row.CaseNo, s.queryWait); qerr == nil && live.Leader == day.Leader {
			return live, nil
		}
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		err = s.explainMissingWorkflow(ctx, row.CaseNo, err)
	}
	return state, err
}

// registerVisit registers the visit of an appointment without an open case, by registration's
// own path (registerCase), the day's leader in charge from the start. The registering clerk
// is the signed-in clerk, or, when the leader records the visit, the clerk who booked it (the
// petition office's first contact, 首问负责制).
func (s *Server) registerVisit(c *gin.Context, req *receiveRequest, a register.Appointment, day register.ReceptionDay, p Principal) (registration, register.NewCase, error) {
	ctx := c.Request.Context()
	pr := &req.petitionRequest
	switch strings.TrimSpace(pr.Channel) {
	case "":
		pr.Channel = "visit"
	case "visit":
	default:
		return registration{}, register.NewCase{}, fieldErrors{"channel": "a visit received on a reception day is registered as channel visit (来访)"}
	}
	if strings.TrimSpace(pr.Topic) == "" {
		pr.Topic = truncateRunes(a.Subject, maxTopic)
	}
	if len(pr.Petitioners) == 0 {
		pr.Petitioners = []register.Petitioner{{Name: a.PetitionerName, Phone: a.PetitionerPhone}}
	}
	nc, err := s.validate(pr, receptionKey(a.ID))
	if err != nil {
		return registration{}, nc, err
	}
	nc.Leader = day.Leader
	var clerk workflows.Actor
	if workflows.Role(p.Role) == workflows.RoleClerk {
		clerk, err = s.actorOf(ctx, p)
	} else {
		clerk, err = s.staffActor(ctx, a.CreatedBy)
	}
	if err != nil {
		return registration{}, nc, err
	}
	nc.RegisteredBy = clerk.ID
	reg, err := s.registerCase(c, nc, clerk)
	return reg, nc, err
}

// noShowAppointment is POST /api/v1/appointments/{id}/no-show: the petitioner did not come
// (未到访), recorded on or after the day, with an optional note. Again: the same answer.
func (s *Server) noShowAppointment(c *gin.Context) {
	var req noShowRequest
	st, a, day, ok := s.appointmentFor(c, &req, "note", &req.Note)
	if !ok {
		return
	}
	if a.Status == register.AppointmentBooked && s.today() < day.Day {
		s.fail(c, &unprocessableError{msg: "the reception day is " + day.Day + ": a no-show is recorded on the day or after it"})
		return
	}
	p := principal(c)
	a, err := receptionCall(c.Request.Context(), func(ctx context.Context) (register.Appointment, error) {
		return st.NoShowAppointment(ctx, a.ID, p.StaffID, s.now(), req.Note)
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	s.answer(c, http.StatusOK, viewAppointment(a))
}

// ---- the leader's reception record ----

// receivedCaseView is a received case with its stage and evaluation in Chinese.
type receivedCaseView struct {
	register.ReceivedCase
	StageLabel      string `json:"stage_label"`
	EvaluationLabel string `json:"evaluation_label,omitempty"`
	ReceivedAsLabel string `json:"received_as_label"`
}

// recordDayView is one day of the record as answered.
type recordDayView struct {
	register.ReceptionDay
	Appointments []appointmentView  `json:"appointments"`
	Cases        []receivedCaseView `json:"cases"`
}

// recordTotals sums the record up.
type recordTotals struct {
	Days         int `json:"days"`
	Appointments int `json:"appointments"`
	Received     int `json:"received"`
	NoShow       int `json:"no_show"`
	Cases        int `json:"cases"`
	Closed       int `json:"closed"`
	Satisfied    int `json:"satisfied"`
}

// receptionRecordHeader: the record's columns (领导接访记录), one row per appointment; no
// petitioner and no free text beyond the subject, as every export.
var receptionRecordHeader = []string{
	"接访日期", "接访时间", "接访地点", "接访领导", "接访单位", "约访编号", "约访事由", "约访状态", "接待时间",
	"信访事项编号", "处理方式", "阶段", "承办单位", "是否逾期", "满意度评价", "办结时间",
}

// receptionRecord is GET /api/v1/reception-record?leader=&from=&to=&format=: a leader's
// reception record for the days from … to (the current month by default): each day held, its
// appointments (without personal data) and the cases received with their stage, evaluation and
// closing now. A leader reads their own; the petition office any leader's, or every leader's
// when none is named. format=csv or xlsx downloads it (Chinese headers).
func (s *Server) receptionRecord(c *gin.Context) {
	month := currentMonth(s.now())
	from, to, err := dateRange(c, []string{"from", "to", "leader", "format"}, month.Format(time.DateOnly),
		month.AddDate(0, 1, -1).Format(time.DateOnly))
	if err != nil {
		s.fail(c, err)
		return
	}
	format := c.DefaultQuery("format", formatJSON)
	if !contains(listFormats, format) {
		s.fail(c, fieldErrors{"format": oneOf(listFormats)})
		return
	}
	leader := strings.TrimSpace(c.Query("leader"))
	if len(leader) > 64 || !validText(leader) {
		s.fail(c, fieldErrors{"leader": "must be a staff ID of at most 64 characters"})
		return
	}
	p := principal(c)
	if workflows.Role(p.Role) == workflows.RoleLeader {
		switch leader {
		case "":
			leader = p.StaffID
		case p.StaffID:
		default:
			s.fail(c, &forbiddenError{"the reception record of " + leader + " is not yours: a leader reads their own (" + p.StaffID + ")"})
			return
		}
	}
	st, err := s.reception()
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	days, err := receptionCall(ctx, func(ctx context.Context) ([]register.ReceptionRecordDay, error) {
		return st.ReceptionRecord(ctx, leader, from, to)
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	views := make([]recordDayView, 0, len(days))
	var totals recordTotals
	for _, d := range days {
		v := recordDayView{ReceptionDay: d.ReceptionDay, Appointments: make([]appointmentView, 0, len(d.Appointments)),
			Cases: make([]receivedCaseView, 0, len(d.Cases))}
		for _, a := range d.Appointments {
			v.Appointments = append(v.Appointments, viewAppointment(a))
			totals.Appointments++
			switch a.Status {
			case register.AppointmentReceived:
				totals.Received++
			case register.AppointmentNoShow:
				totals.NoShow++
			}
		}
		for _, rc := range d.Cases {
			cv := receivedCaseView{ReceivedCase: rc, StageLabel: labels.Zh(labels.KindStage, rc.Stage),
				ReceivedAsLabel: labels.Zh(labels.KindReceivedAs, rc.ReceivedAs)}
			if rc.Evaluation != "" {
				cv.EvaluationLabel = labels.Zh(labels.KindEvaluation, rc.Evaluation)
			}
			v.Cases = append(v.Cases, cv)
			totals.Cases++
			if rc.ClosedAt != nil {
				totals.Closed++
			}
			if rc.Evaluation == workflows.EvaluationSatisfied || rc.Evaluation == workflows.EvaluationBasicSatisfied {
				totals.Satisfied++
			}
		}
		views = append(views, v)
		totals.Days++
	}
	if format != formatJSON {
		s.receptionRecordFile(c, views, leader, from, to, format)
		return
	}
	s.answer(c, http.StatusOK, gin.H{"leader": leader, "from": from, "to": to, "days": views, "totals": totals})
}

// receptionRecordFile answers the record as CSV or Excel: one row per appointment.
func (s *Server) receptionRecordFile(c *gin.Context, days []recordDayView, leader, from, to, format string) {
	at := func(t *time.Time) exportCell {
		if t == nil || t.IsZero() {
			return textCell("")
		}
		return textCell(t.In(s.zone).Format(exportTimeLayout))
	}
	names := s.unitNames(c.Request.Context())
	rows := [][]exportCell{}
	for _, d := range days {
		hours := d.StartTime
		if d.EndTime != "" {
			hours += "–" + d.EndTime
		}
		byAppointment := map[int64]receivedCaseView{}
		for _, rc := range d.Cases {
			byAppointment[rc.Appointment] = rc
		}
		for _, a := range d.Appointments {
			row := []exportCell{textCell(d.Day), textCell(hours), textCell(d.Place), textCell(firstOf(d.LeaderName, d.Leader)),
				textCell(firstOf(d.UnitName, d.Unit)), numCell(int(a.ID)), textCell(a.Subject), textCell(a.StatusLabel),
				at(a.ReceivedAt)}
			if rc, ok := byAppointment[a.ID]; ok {
				overdue := "否"
				if rc.Overdue {
					overdue = "是"
				}
				row = append(row, textCell(rc.CaseNo), textCell(rc.ReceivedAsLabel), textCell(rc.StageLabel),
					textCell(firstOf(names[rc.Unit], rc.Unit)), textCell(overdue), textCell(rc.EvaluationLabel), at(rc.ClosedAt))
			} else {
				row = append(row, textCell(""), textCell(""), textCell(""), textCell(""), textCell(""), textCell(""), textCell(""))
			}
			rows = append(rows, row)
		}
	}
	var body []byte
	var err error
	if format == formatXLSX {
		body, err = xlsxFile("领导接访记录", receptionRecordHeader, rows)
	} else {
		body, err = csvFile(receptionRecordHeader, rows)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	who := firstOf(leader, "all")
	s.sendFile(c, "领导接访记录-"+who+"-"+from+"-"+to, "reception-record-"+asciiName(who)+"-"+from+"-"+to, format, body)
}

// asciiName keeps the characters a plain filename may hold (a staff ID is ASCII already).
func asciiName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
