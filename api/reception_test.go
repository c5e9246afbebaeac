package api

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// receptionRegister is the register of these tests: a directory, reception days and
// appointments in memory (today is 2026-05-14, fixedNow). Day 1 is leader.district's on
// 2026-05-14, day 2 leader.health's on 2026-05-20, day 3 cancelled, day 4 passed.
type receptionRegister struct {
	offlineRegister
	days  map[int64]register.ReceptionDay
	appts map[int64]register.Appointment
	reads []string // personal data reads recorded: staff ID + purpose
}

func newReceptionRegister() *receptionRegister {
	r := &receptionRegister{days: map[int64]register.ReceptionDay{}, appts: map[int64]register.Appointment{}}
	for _, d := range []register.ReceptionDay{
		{ID: 1, Leader: "leader.district", LeaderName: "陈志强", Day: "2026-05-14", StartTime: "09:00", EndTime: "11:30",
			Place: "区信访局接待室", Subjects: "城建、拆迁安置", Unit: "district", UnitName: "区人民政府", CreatedBy: "clerk.li"},
		{ID: 2, Leader: "leader.health", LeaderName: "杨帆", Day: "2026-05-20", Place: "区卫健局", Unit: "health",
			UnitName: "区卫生健康局", CreatedBy: "clerk.li"},
		{ID: 3, Leader: "leader.health", LeaderName: "杨帆", Day: "2026-05-21", Place: "区卫健局", Unit: "health",
			UnitName: "区卫生健康局", CreatedBy: "clerk.li", Cancelled: true},
		{ID: 4, Leader: "leader.district", LeaderName: "陈志强", Day: "2026-05-07", Place: "区信访局接待室", Unit: "district",
			UnitName: "区人民政府", CreatedBy: "clerk.li"},
	} {
		r.days[d.ID] = d
	}
	received := fixedNow.Add(-time.Hour)
	for _, a := range []register.Appointment{
		{ID: 10, ReceptionDay: 1, PetitionerName: "孙八", PetitionerPhone: "13900008888", Subject: "小区加装电梯纠纷", Status: register.AppointmentBooked},
		{ID: 11, ReceptionDay: 1, PetitionerName: "钱七", PetitionerPhone: "13900007777", Subject: "补偿款", Status: register.AppointmentBooked, CaseNo: "2026-000007",
			CaseStage: "handling"},
		{ID: 12, ReceptionDay: 1, PetitionerName: "周九", PetitionerPhone: "13900009999", Subject: "噪音", Status: register.AppointmentReceived,
			ReceivedAt: &received, ReceivedCaseNo: "2026-000009", ReceivedAs: register.ReceivedLeaderAssigned, CaseStage: "closed"},
		{ID: 13, ReceptionDay: 3, PetitionerName: "吴十", PetitionerPhone: "13900001010", Subject: "物业", Status: register.AppointmentCancelled},
		{ID: 14, ReceptionDay: 2, PetitionerName: "郑一", PetitionerPhone: "13900002020", Subject: "医疗", Status: register.AppointmentBooked},
	} {
		r.appts[a.ID] = a
	}
	return r
}

func (*receptionRegister) Units(context.Context) ([]register.Unit, error) {
	return []register.Unit{
		{Code: "district", Name: "区人民政府"},
		{Code: "petition_office", Name: "区信访局", Parent: "district"},
		{Code: "construction", Name: "区住房和城乡建设局", Parent: "district"},
		{Code: "health", Name: "区卫生健康局", Parent: "district"},
	}, nil
}

func (r *receptionRegister) Unit(ctx context.Context, code string) (register.Unit, error) {
	units, _ := r.Units(ctx)
	for _, u := range units {
		if u.Code == code {
			return u, nil
		}
	}
	return register.Unit{}, register.ErrNotFound
}

func (*receptionRegister) Staff(_ context.Context, id string) (register.Staff, error) {
	switch id {
	case "leader.district":
		return register.Staff{ID: id, Name: "陈志强", Role: "leader", Unit: "district"}, nil
	case "leader.health":
		return register.Staff{ID: id, Name: "杨帆", Role: "leader", Unit: "health"}, nil
	case "handler.health":
		return register.Staff{ID: id, Name: "刘洋", Role: "handler", Unit: "health"}, nil
	case "clerk.li":
		return register.Staff{ID: id, Name: "李娜", Role: "clerk", Unit: "petition_office"}, nil
	}
	return register.Staff{}, register.ErrNotFound
}

func (*receptionRegister) IsPetitionOffice(_ context.Context, unit string) (bool, error) {
	return unit == "petition_office", nil
}

// Cases: 2026-000007 open (construction), 2026-000009 closed.
func (*receptionRegister) Get(_ context.Context, no string) (register.Case, error) {
	switch no {
	case "2026-000007":
		return register.Case{CaseNo: no, Stage: "handling", Unit: "construction", Category: "appeal"}, nil
	case "2026-000009":
		return register.Case{CaseNo: no, Stage: "closed", Unit: "construction", Category: "appeal"}, nil
	}
	return register.Case{}, register.ErrNotFound
}

func (r *receptionRegister) RecordPersonalDataRead(_ context.Context, staffID, _, purpose string) error {
	r.reads = append(r.reads, staffID+" "+purpose)
	return nil
}

func (r *receptionRegister) CreateReceptionDay(_ context.Context, nd register.NewReceptionDay) (register.ReceptionDay, bool, error) {
	for _, d := range r.days {
		if d.CreatedBy == nd.IdempotencyKey {
			return d, false, nil
		}
	}
	d := register.ReceptionDay{ID: int64(len(r.days) + 1), Leader: nd.Leader, Day: nd.Day, StartTime: nd.StartTime,
		EndTime: nd.EndTime, Place: nd.Place, Subjects: nd.Subjects, Unit: nd.Unit, CreatedBy: nd.IdempotencyKey, CreatedAt: nd.CreatedAt}
	r.days[d.ID] = d
	return d, true, nil
}

func (r *receptionRegister) ReceptionDayByID(_ context.Context, id int64) (register.ReceptionDay, error) {
	d, ok := r.days[id]
	if !ok {
		return d, register.ErrNotFound
	}
	return d, nil
}

func (r *receptionRegister) ReceptionDays(_ context.Context, f register.ReceptionDayFilter) ([]register.ReceptionDay, error) {
	var out []register.ReceptionDay
	for _, d := range r.days {
		if d.Day >= f.From && d.Day <= f.To && (f.Leader == "" || d.Leader == f.Leader) && (f.Cancelled || !d.Cancelled) {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out, nil
}

func (r *receptionRegister) CancelReceptionDay(_ context.Context, id int64, by string, at time.Time, reason string) (register.ReceptionDay, error) {
	d, ok := r.days[id]
	if !ok {
		return d, register.ErrNotFound
	}
	if id == 1 {
		return d, &register.ReceptionError{Msg: "reception day 1 is not cancelled: 1 visits were received on it"}
	}
	d.Cancelled, d.CancelledBy, d.CancelledAt, d.CancelReason = true, by, &at, reason
	r.days[id] = d
	return d, nil
}

func (r *receptionRegister) BookAppointment(_ context.Context, na register.NewAppointment) (register.Appointment, bool, error) {
	a := register.Appointment{ID: int64(100 + len(r.appts)), ReceptionDay: na.ReceptionDay, CaseNo: na.CaseNo,
		PetitionerName: na.PetitionerName, PetitionerPhone: na.PetitionerPhone, Subject: na.Subject,
		Status: register.AppointmentBooked, CreatedBy: na.CreatedBy, CreatedAt: na.CreatedAt}
	r.appts[a.ID] = a
	return a, true, nil
}

func (r *receptionRegister) AppointmentByID(_ context.Context, id int64) (register.Appointment, error) {
	a, ok := r.appts[id]
	if !ok {
		return a, register.ErrNotFound
	}
	return a, nil
}

func (r *receptionRegister) Appointments(_ context.Context, day int64) ([]register.Appointment, error) {
	var out []register.Appointment
	for _, a := range r.appts {
		if a.ReceptionDay == day {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (r *receptionRegister) ReceiveAppointment(context.Context, register.Reception) (register.Appointment, error) {
	return register.Appointment{}, errOffline
}

func (r *receptionRegister) NoShowAppointment(_ context.Context, id int64, by string, at time.Time, note string) (register.Appointment, error) {
	a := r.appts[id]
	a.Status, a.RecordedBy, a.Outcome, a.UpdatedAt = register.AppointmentNoShow, by, note, at
	r.appts[id] = a
	return a, nil
}

func (r *receptionRegister) ReceptionRecord(ctx context.Context, leader, from, to string) ([]register.ReceptionRecordDay, error) {
	days, _ := r.ReceptionDays(ctx, register.ReceptionDayFilter{From: from, To: to, Leader: leader})
	var out []register.ReceptionRecordDay
	closed := fixedNow.Add(-24 * time.Hour)
	for _, d := range days {
		rd := register.ReceptionRecordDay{ReceptionDay: d, Appointments: []register.Appointment{}, Cases: []register.ReceivedCase{}}
		list, _ := r.Appointments(ctx, d.ID)
		for _, a := range list {
			a.PetitionerName, a.PetitionerPhone = "", ""
			rd.Appointments = append(rd.Appointments, a)
			if a.Status == register.AppointmentReceived {
				rd.Cases = append(rd.Cases, register.ReceivedCase{CaseNo: a.ReceivedCaseNo, Appointment: a.ID, ReceivedAs: a.ReceivedAs,
					Channel: "visit", Category: "appeal", Stage: "closed", Unit: "construction", Leader: d.Leader,
					Evaluation: workflows.EvaluationSatisfied, ClosedAt: &closed})
			}
		}
		out = append(out, rd)
	}
	return out, nil
}

func receptionServer(reg *receptionRegister) *Server {
	return New(Config{
		Policies: testPolicies, Now: func() time.Time { return fixedNow }, Logger: quietLog,
		Register: reg, Auth: fakeAuth{}, Accounts: fakeAuth{},
	})
}

// fieldOf is the field error an answer names for field ("" when none).
func fieldOf(body map[string]any, field string) string {
	f, _ := body["fields"].(map[string]any)
	s, _ := f[field].(string)
	return s
}

// Publishing a day: every client mistake is a 4xx naming the field, before the register is
// written; the leader must be a leader; a retry with the same key answers the same day.
func TestReceptionDayValidation(t *testing.T) {
	s := receptionServer(newReceptionRegister())
	good := `{"leader":"leader.district","day":"2026-06-10","start_time":"09:00","end_time":"11:30","place":"区信访局一楼接待室","subjects":"城建、拆迁安置"}`
	for _, tc := range []struct {
		name, body, key, auth string
		status                int
		field                 string
	}{
		{"no leader", `{"day":"2026-06-10","place":"x"}`, "k", "", 400, "leader"},
		{"no day", `{"leader":"leader.district","place":"x"}`, "k", "", 400, "day"},
		{"bad day", `{"leader":"leader.district","day":"10 June","place":"x"}`, "k", "", 400, "day"},
		{"past day", `{"leader":"leader.district","day":"2026-05-13","place":"x"}`, "k", "", 400, "day"},
		{"year 10000", `{"leader":"leader.district","day":"10000-01-01","place":"x"}`, "k", "", 400, "day"},
		{"bad time", `{"leader":"leader.district","day":"2026-06-10","start_time":"9 am","place":"x"}`, "k", "", 400, "start_time"},
		{"end before start", `{"leader":"leader.district","day":"2026-06-10","start_time":"11:00","end_time":"09:00","place":"x"}`, "k", "", 400, "end_time"},
		{"no place", `{"leader":"leader.district","day":"2026-06-10"}`, "k", "", 400, "place"},
		{"NUL in place", `{"leader":"leader.district","day":"2026-06-10","place":"a\u0000b"}`, "k", "", 400, "place"},
		{"invalid UTF-8 in subjects", "{\"leader\":\"leader.district\",\"day\":\"2026-06-10\",\"place\":\"x\",\"subjects\":\"a\xffb\"}", "k", "", 400, "subjects"},
		{"subjects too long", `{"leader":"leader.district","day":"2026-06-10","place":"x","subjects":"` + strings.Repeat("事", 2001) + `"}`, "k", "", 400, "subjects"},
		{"unknown field", `{"leader":"leader.district","day":"2026-06-10","place":"x","room":"3"}`, "k", "", 400, "room"},
		{"no key", good, "", "", 428, ""},
		{"bad key", good, "a key", "", 400, "Idempotency-Key"},
		{"unknown leader", `{"leader":"leader.nobody","day":"2026-06-10","place":"x"}`, "k", "", 422, "leader"},
		{"not a leader", `{"leader":"handler.health","day":"2026-06-10","place":"x"}`, "k", "", 422, "leader"},
		{"unknown unit", `{"leader":"leader.district","day":"2026-06-10","place":"x","unit":"mars"}`, "k", "", 422, "unit"},
		{"handler", good, "k", bearer("handler"), 403, ""},
		{"leader", good, "k", bearer("leader"), 403, ""},
		{"published", good, "day-1", bearer("supervisor"), 201, ""},
		{"retried", good, "day-1", bearer("supervisor"), 200, ""},
	} {
		headers := []string{"Idempotency-Key", tc.key}
		if tc.auth != "" {
			headers = append(headers, "Authorization", tc.auth)
		}
		w, body := do(t, s, http.MethodPost, "/api/v1/reception-days", tc.body, headers...)
		if w.Code != tc.status {
			t.Errorf("%s: status %d %v, want %d", tc.name, w.Code, body, tc.status)
			continue
		}
		if tc.field != "" && fieldOf(body, tc.field) == "" {
			t.Errorf("%s: no field error for %s: %v", tc.name, tc.field, body)
		}
		if tc.status == 201 && (body["unit"] != "district" || body["leader"] != "leader.district" || body["day"] != "2026-06-10") {
			t.Errorf("%s: %v (the leader's unit by default)", tc.name, body)
		}
	}
}

// The public schedule needs no sign-in and shows the day, hours, place, subjects, the
// leader's name and unit: nothing else, and no cancelled day.
func TestPublicReceptionSchedule(t *testing.T) {
	s := receptionServer(newReceptionRegister())
	w, body := do(t, s, http.MethodGet, "/api/v1/public/reception-days?from=2026-05-01&to=2026-05-31", nil, "Authorization", "")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d %v", w.Code, body)
	}
	days, _ := body["reception_days"].([]any)
	if len(days) != 3 {
		t.Fatalf("days: %v (cancelled left out)", days)
	}
	allowed := []string{"day", "start_time", "end_time", "place", "subjects", "leader_name", "unit_name"}
	for _, d := range days {
		for k := range d.(map[string]any) {
			if !slices.Contains(allowed, k) {
				t.Errorf("the public schedule shows %q: %v", k, d)
			}
		}
	}
	first := days[0].(map[string]any)
	if first["day"] != "2026-05-07" || first["leader_name"] != "陈志强" || first["unit_name"] != "区人民政府" {
		t.Errorf("first day: %v", first)
	}
	if strings.Contains(w.Body.String(), "leader.district") || strings.Contains(w.Body.String(), "clerk.li") {
		t.Errorf("staff IDs in the public schedule: %s", w.Body.String())
	}
	// From today for 90 days by default.
	_, body = do(t, s, http.MethodGet, "/api/v1/public/reception-days", nil, "Authorization", "")
	if body["from"] != "2026-05-14" || body["to"] != "2026-08-12" || len(body["reception_days"].([]any)) != 2 {
		t.Errorf("default range: %v", body)
	}
	for _, q := range []string{"from=May", "from=2026-06-01&to=2026-05-01", "from=2026-01-01&to=2027-06-01", "leader=leader.district", "to=99999-01-01"} {
		if w, body := do(t, s, http.MethodGet, "/api/v1/public/reception-days?"+q, nil, "Authorization", ""); w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %v, want 400", q, w.Code, body)
		}
	}
	// Staff see cancelled days too, and filter by leader.
	_, body = do(t, s, http.MethodGet, "/api/v1/reception-days?from=2026-05-01&to=2026-05-31&leader=leader.health", nil, "Authorization", bearer("reviewer"))
	if days, _ := body["reception_days"].([]any); len(days) != 2 || days[1].(map[string]any)["cancelled"] != true {
		t.Errorf("staff schedule: %v", body)
	}
}

// Appointments carry personal data: the petition office reads any day's, a leader their own
// day's (another's is 404), and each read is recorded.
func TestAppointmentsScope(t *testing.T) {
	reg := newReceptionRegister()
	s := receptionServer(reg)
	w, body := do(t, s, http.MethodGet, "/api/v1/reception-days/1/appointments", nil, "Authorization", bearer("clerk"))
	if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("clerk: %d %v", w.Code, body)
	}
	list, _ := body["appointments"].([]any)
	if len(list) != 3 || list[0].(map[string]any)["petitioner_name"] != "孙八" || list[0].(map[string]any)["status_label"] != "已预约" {
		t.Errorf("appointments: %v", list)
	}
	// Each appointment carries the stage of its case as the register's query joined it (a new
	// matter none); no case is read for it, and the read of the day is recorded once.
	stages := map[float64]any{}
	for _, x := range list {
		a := x.(map[string]any)
		stages[a["id"].(float64)] = a["case_stage"]
	}
	if stages[10] != nil || stages[11] != "handling" || stages[12] != "closed" {
		t.Errorf("case stages: %v", stages)
	}
	if len(reg.reads) != 1 || !strings.HasPrefix(reg.reads[0], "clerk-1 ") {
		t.Errorf("personal data reads: %v", reg.reads)
	}
	own := bearerOf("leader", "district", "leader.district")
	if w, body := do(t, s, http.MethodGet, "/api/v1/reception-days/1/appointments", nil, "Authorization", own); w.Code != http.StatusOK {
		t.Errorf("the day's leader: %d %v", w.Code, body)
	}
	if w, body := do(t, s, http.MethodGet, "/api/v1/reception-days/2/appointments", nil, "Authorization", own); w.Code != http.StatusNotFound {
		t.Errorf("another leader's day: %d %v", w.Code, body)
	}
	if w, _ := do(t, s, http.MethodGet, "/api/v1/reception-days/2/appointments", nil, "Authorization", bearer("handler")); w.Code != http.StatusForbidden {
		t.Errorf("handler: %d", w.Code)
	}
	if w, _ := do(t, s, http.MethodGet, "/api/v1/reception-days/99/appointments", nil); w.Code != http.StatusNotFound {
		t.Errorf("unknown day: %d", w.Code)
	}
	if w, _ := do(t, s, http.MethodGet, "/api/v1/reception-days/x/appointments", nil); w.Code != http.StatusBadRequest {
		t.Errorf("bad id: %d", w.Code)
	}
	// A leader records a no-show on their own day only.
	if w, body := do(t, s, http.MethodPost, "/api/v1/appointments/14/no-show", nil, "Authorization", own); w.Code != http.StatusNotFound {
		t.Errorf("no-show on another leader's day: %d %v", w.Code, body)
	}
	if w, body := do(t, s, http.MethodPost, "/api/v1/appointments/14/no-show", `{}`); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("no-show before the day: %d %v", w.Code, body)
	}
	w, body = do(t, s, http.MethodPost, "/api/v1/appointments/10/no-show", `{"note":"电话未接通"}`, "Authorization", own)
	if w.Code != http.StatusOK || body["status"] != "no_show" || body["status_label"] != "未到访" || body["recorded_by"] != "leader.district" {
		t.Errorf("no-show: %d %v", w.Code, body)
	}
	if w, body := do(t, s, http.MethodPost, "/api/v1/appointments/10/no-show", `{"reason":"x"}`); w.Code != http.StatusBadRequest || fieldOf(body, "reason") == "" {
		t.Errorf("no-show with a reason: %d %v", w.Code, body)
	}
	if w, body := do(t, s, http.MethodPost, "/api/v1/reception-days/1/cancel", `{"reason":"x"}`, "Authorization", bearer("supervisor")); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("cancel a day with visits: %d %v", w.Code, body)
	}
	if w, body := do(t, s, http.MethodPost, "/api/v1/reception-days/2/cancel", nil); w.Code != http.StatusOK || body["cancelled"] != true {
		t.Errorf("cancel without a body: %d %v", w.Code, body)
	}
}

// Booking: a client mistake is a 4xx naming the field; a cancelled or passed day and a case
// the clerk may not see are refused (422).
func TestBookAppointmentValidation(t *testing.T) {
	s := receptionServer(newReceptionRegister())
	good := `{"petitioner_name":"孙八","petitioner_phone":"139-0000 8888","subject":"小区加装电梯纠纷"}`
	for _, tc := range []struct {
		name, day, body, key, auth string
		status                     int
		field                      string
	}{
		{"no name", "2", `{"petitioner_phone":"13900008888","subject":"x"}`, "k", "", 400, "petitioner_name"},
		{"no phone", "2", `{"petitioner_name":"孙八","subject":"x"}`, "k", "", 400, "petitioner_phone"},
		{"bad phone", "2", `{"petitioner_name":"孙八","petitioner_phone":"call me","subject":"x"}`, "k", "", 400, "petitioner_phone"},
		{"no subject", "2", `{"petitioner_name":"孙八","petitioner_phone":"13900008888"}`, "k", "", 400, "subject"},
		{"NUL in name", "2", `{"petitioner_name":"孙\u0000八","petitioner_phone":"13900008888","subject":"x"}`, "k", "", 400, "petitioner_name"},
		{"long subject", "2", `{"petitioner_name":"孙八","petitioner_phone":"13900008888","subject":"` + strings.Repeat("事", 201) + `"}`, "k", "", 400, "subject"},
		{"bad case number", "2", `{"petitioner_name":"孙八","petitioner_phone":"13900008888","subject":"x","case_no":"../etc"}`, "k", "", 400, "case_no"},
		{"bad day id", "two", good, "k", "", 400, "id"},
		{"no key", "2", good, "", "", 428, ""},
		{"unknown day", "99", good, "k", "", 404, ""},
		{"cancelled day", "3", good, "k", "", 422, ""},
		{"passed day", "4", good, "k", "", 422, ""},
		{"unknown case", "2", `{"petitioner_name":"孙八","petitioner_phone":"13900008888","subject":"x","case_no":"2026-000404"}`, "k", "", 422, "case_no"},
		{"leader", "2", good, "k", bearer("leader"), 403, ""},
		{"booked", "2", good, "k", "", 201, ""},
		{"for a case", "2", `{"petitioner_name":"钱七","petitioner_phone":"13900007777","subject":"补偿款","case_no":"2026-000007"}`, "k2", bearer("supervisor"), 201, ""},
	} {
		headers := []string{"Idempotency-Key", tc.key}
		if tc.auth != "" {
			headers = append(headers, "Authorization", tc.auth)
		}
		w, body := do(t, s, http.MethodPost, "/api/v1/reception-days/"+tc.day+"/appointments", tc.body, headers...)
		if w.Code != tc.status {
			t.Errorf("%s: status %d %v, want %d", tc.name, w.Code, body, tc.status)
			continue
		}
		if tc.field != "" && fieldOf(body, tc.field) == "" {
			t.Errorf("%s: no field error for %s: %v", tc.name, tc.field, body)
		}
		if tc.status == 201 && (body["status"] != "booked" || body["reception_day"] != float64(2)) {
			t.Errorf("%s: %v", tc.name, body)
		}
	}
}

// Receiving a visit: the appointment's state and the body are checked before the register
// or Temporal is touched; a received appointment answers as received.
func TestReceiveAppointmentChecks(t *testing.T) {
	s := receptionServer(newReceptionRegister())
	own := bearerOf("leader", "district", "leader.district")
	for _, tc := range []struct {
		name, id, body, auth string
		status               int
		field                string
	}{
		{"bad id", "x", `{}`, "", 400, "id"},
		{"unknown", "99", `{}`, "", 404, ""},
		{"another leader's day", "14", `{}`, own, 404, ""},
		{"supervisor", "10", `{}`, bearer("supervisor"), 403, ""},
		{"cancelled", "13", `{}`, "", 422, ""},
		{"before the day", "14", `{}`, "", 422, ""},
		{"NUL in outcome", "10", `{"outcome":"a\u0000b"}`, "", 400, "outcome"},
		{"another actor", "10", `{"actor":"clerk-2"}`, "", 403, ""},
		{"letter", "10", `{"channel":"letter","category":"appeal","content":"x"}`, own, 400, "channel"},
		{"no category, no content", "10", `{}`, own, 400, "category"},
		{"bad petitioner", "10", `{"category":"appeal","content":"x","petitioners":[{"name":"","phone":"x"}]}`, "", 400, "petitioners[0].name"},
		{"petition on an open case", "11", `{"category":"appeal","content":"x"}`, own, 400, "petition"},
		{"open case, no Temporal", "11", `{"outcome":"当场协调"}`, own, 503, ""},
		{"new matter, no Temporal", "10", `{"category":"appeal","content":"接访时反映小区加装电梯纠纷"}`, "", 503, ""},
		{"received already", "12", `{}`, "", 200, ""},
	} {
		headers := []string{}
		if tc.auth != "" {
			headers = append(headers, "Authorization", tc.auth)
		}
		w, body := do(t, s, http.MethodPost, "/api/v1/appointments/"+tc.id+"/receive", tc.body, headers...)
		if w.Code != tc.status {
			t.Errorf("%s: status %d %v, want %d", tc.name, w.Code, body, tc.status)
			continue
		}
		if tc.field != "" && fieldOf(body, tc.field) == "" {
			t.Errorf("%s: no field error for %s: %v", tc.name, tc.field, body)
		}
		if tc.status == 200 && (body["case_no"] != "2026-000009" || body["received_as"] != "leader_assigned" || body["received_as_label"] != "领导包案") {
			t.Errorf("%s: %v", tc.name, body)
		}
		if a, _ := body["appointment"].(map[string]any); tc.status == 200 && a["case_stage"] != "closed" {
			t.Errorf("%s: the received case's stage: %v", tc.name, a)
		}
	}
}

// The reception record: a leader reads their own (by default), not another's; the office any;
// the CSV has Chinese headers and no petitioner.
func TestReceptionRecord(t *testing.T) {
	s := receptionServer(newReceptionRegister())
	own := bearerOf("leader", "district", "leader.district")
	w, body := do(t, s, http.MethodGet, "/api/v1/reception-record", nil, "Authorization", own)
	if w.Code != http.StatusOK || body["leader"] != "leader.district" || body["from"] != "2026-05-01" || body["to"] != "2026-05-31" {
		t.Fatalf("own record: %d %v", w.Code, body)
	}
	days, _ := body["days"].([]any)
	if len(days) != 2 {
		t.Fatalf("days: %v", days)
	}
	var today map[string]any
	for _, d := range days {
		if d.(map[string]any)["day"] == "2026-05-14" {
			today = d.(map[string]any)
		}
	}
	cases, _ := today["cases"].([]any)
	if len(cases) != 1 || cases[0].(map[string]any)["stage_label"] != "已办结" || cases[0].(map[string]any)["evaluation_label"] != "满意" {
		t.Errorf("cases: %v", cases)
	}
	totals, _ := body["totals"].(map[string]any)
	if totals["appointments"] != float64(3) || totals["received"] != float64(1) || totals["closed"] != float64(1) || totals["satisfied"] != float64(1) {
		t.Errorf("totals: %v", totals)
	}
	if strings.Contains(w.Body.String(), "孙八") || strings.Contains(w.Body.String(), "13900008888") {
		t.Errorf("the record shows personal data: %s", w.Body.String())
	}
	if w, body := do(t, s, http.MethodGet, "/api/v1/reception-record?leader=leader.health", nil, "Authorization", own); w.Code != http.StatusForbidden {
		t.Errorf("another leader's record: %d %v", w.Code, body)
	}
	if w, body := do(t, s, http.MethodGet, "/api/v1/reception-record?leader=leader.health&from=2026-05-01&to=2026-05-31", nil, "Authorization", bearer("supervisor")); w.Code != http.StatusOK || len(body["days"].([]any)) != 1 {
		t.Errorf("supervisor: %d %v", w.Code, body)
	}
	for _, q := range []string{"format=pdf", "from=2026-02-30", "to=2026-04-01", "unit=health"} {
		if w, body := do(t, s, http.MethodGet, "/api/v1/reception-record?"+q, nil); w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %v", q, w.Code, body)
		}
	}
	if w, _ := do(t, s, http.MethodGet, "/api/v1/reception-record", nil, "Authorization", bearer("handler")); w.Code != http.StatusForbidden {
		t.Errorf("handler: %d", w.Code)
	}

	w, _ = do(t, s, http.MethodGet, "/api/v1/reception-record?format=csv&leader=leader.district", nil, "Authorization", bearer("clerk"))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	text := strings.TrimPrefix(w.Body.String(), utf8BOM)
	lines := strings.Split(strings.TrimSpace(text), "\r\n")
	if len(lines) != 4 || lines[0] != strings.Join(receptionRecordHeader, ",") || !strings.HasPrefix(lines[0], "接访日期,接访时间,接访地点,接访领导") {
		t.Fatalf("csv:\n%s", text)
	}
	if want := "2026-05-14,09:00–11:30,区信访局接待室,陈志强,区人民政府,12,噪音,已接待,2026-05-14 09:00,2026-000009,领导包案,已办结,区住房和城乡建设局,否,满意,2026-05-13 10:00"; !strings.Contains(text, want) {
		t.Errorf("csv lacks %q:\n%s", want, text)
	}
	if strings.Contains(text, "孙八") || strings.Contains(text, "1390000") {
		t.Errorf("csv carries personal data:\n%s", text)
	}
	if cd := w.Header().Get("Content-Disposition"); !strings.Contains(cd, "reception-record-leader.district-2026-05-01-2026-05-31.csv") {
		t.Errorf("Content-Disposition %q", cd)
	}
	w, _ = do(t, s, http.MethodGet, "/api/v1/reception-record?format=xlsx", nil, "Authorization", bearer("supervisor"))
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != mimeXLSX {
		t.Errorf("xlsx: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
}

// Every answer of the reception routes is JSON in the office's zone or a file; none is a 5xx
// other than "not configured" on the offline register.
func TestReceptionOffline(t *testing.T) {
	s := nilServer()
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/v1/public/reception-days"},
		{"GET", "/api/v1/reception-days"},
		{"GET", "/api/v1/reception-days/1/appointments"},
		{"POST", "/api/v1/reception-days/1/cancel"},
		{"POST", "/api/v1/appointments/1/receive"},
		{"POST", "/api/v1/appointments/1/no-show"},
		{"GET", "/api/v1/reception-record"},
	} {
		w, body := do(t, s, r.method, r.path, nil)
		if !isNotConfigured(w.Code, body) {
			t.Errorf("%s %s: %d %v, want the 503 of a register that is not there", r.method, r.path, w.Code, body)
		}
	}
}
