package e2e

import (
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/workflows"
)

// receptionDay is a reception day as the staff endpoints answer it.
type receptionDay struct {
	ID         int64  `json:"id"`
	Leader     string `json:"leader"`
	LeaderName string `json:"leader_name"`
	Day        string `json:"day"`
	Place      string `json:"place"`
	UnitName   string `json:"unit_name"`
	Cancelled  bool   `json:"cancelled"`
	Booked     int    `json:"booked"`
	Received   int    `json:"received"`
	NoShow     int    `json:"no_show"`
}

// appointment is an appointment as the API answers it.
type appointment struct {
	ID              int64  `json:"id"`
	ReceptionDay    int64  `json:"reception_day"`
	CaseNo          string `json:"case_no"`
	PetitionerName  string `json:"petitioner_name"`
	PetitionerPhone string `json:"petitioner_phone"`
	Subject         string `json:"subject"`
	Status          string `json:"status"`
	StatusLabel     string `json:"status_label"`
	ReceivedCaseNo  string `json:"received_case_no"`
	ReceivedAs      string `json:"received_as"`
}

// reception is the answer of POST /api/v1/appointments/{id}/receive.
type reception struct {
	Appointment appointment          `json:"appointment"`
	CaseNo      string               `json:"case_no"`
	ReceivedAs  string               `json:"received_as"`
	QueryCode   string               `json:"query_code"`
	State       *workflows.CaseState `json:"state"`
}

// receptionRecordView is GET /api/v1/reception-record.
type receptionRecordView struct {
	Leader string `json:"leader"`
	Days   []struct {
		receptionDay
		Appointments []appointment `json:"appointments"`
		Cases        []struct {
			CaseNo     string `json:"case_no"`
			ReceivedAs string `json:"received_as"`
			Channel    string `json:"channel"`
			Stage      string `json:"stage"`
			StageLabel string `json:"stage_label"`
			Leader     string `json:"leader"`
			Unit       string `json:"unit"`
		} `json:"cases"`
	} `json:"days"`
	Totals struct {
		Appointments int `json:"appointments"`
		Received     int `json:"received"`
		NoShow       int `json:"no_show"`
		Cases        int `json:"cases"`
	} `json:"totals"`
}

func receptionKey() string { return "e2e-reception-" + strconv.FormatInt(time.Now().UnixNano(), 36) }

// A leader's reception day (领导接访日) on the real stack, through HTTP: the clerk publishes
// leader.district's day; the public schedule shows it without personal data; the clerk books
// a petitioner for a new matter and one for an existing case; the leader receives both — the
// new matter becomes a case (channel visit) with the leader in charge from the start, the
// existing case gets the leader in charge through its workflow; the leader's reception record
// lists both cases with their stage; another leader sees neither; a no-show and a cancelled
// day are recorded as such.
func TestReceptionDayThroughHTTP(t *testing.T) {
	const dayLeader = "leader.district"
	today := time.Now().In(calendar.Location()).Format(time.DateOnly)
	place := "区信访局一楼接待室 " + strconv.FormatInt(time.Now().UnixNano()%1e6, 10)

	// The clerk publishes the day; a retry with the same key publishes it once.
	dayBody := map[string]any{"leader": dayLeader, "day": today, "start_time": "08:30", "end_time": "17:30",
		"place": place, "subjects": "城建、拆迁安置、物业"}
	key := receptionKey()
	var day receptionDay
	if code := callRaw(t, "POST", "/api/v1/reception-days", dayBody, &day, append(bearer(t, clerk), "Idempotency-Key", key)...); code != http.StatusCreated ||
		day.ID == 0 || day.Leader != dayLeader || day.LeaderName == "" || day.UnitName != "区人民政府" {
		t.Fatalf("publish: %d %+v", code, day)
	}
	var again receptionDay
	if code := callRaw(t, "POST", "/api/v1/reception-days", dayBody, &again, append(bearer(t, clerk), "Idempotency-Key", key)...); code != http.StatusOK || again.ID != day.ID {
		t.Fatalf("publish again: %d %+v", code, again)
	}
	// A leader does not publish; a handler is no leader.
	if code := callRaw(t, "POST", "/api/v1/reception-days", dayBody, nil, append(bearer(t, dayLeader), "Idempotency-Key", receptionKey())...); code != http.StatusForbidden {
		t.Errorf("a leader publishing: %d", code)
	}
	notLeader := map[string]any{"leader": handler, "day": today, "place": place}
	if code := callRaw(t, "POST", "/api/v1/reception-days", notLeader, nil, append(bearer(t, clerk), "Idempotency-Key", receptionKey())...); code != http.StatusUnprocessableEntity {
		t.Errorf("a handler's reception day: %d", code)
	}

	// Appointments: a new matter, and the petitioner of an existing (open) case.
	newPet, oldPet := petitioner(), petitioner()
	newPet["name"], oldPet["name"] = "孙八接访", "钱七接访"
	// The appointments' names and phones must never reach Temporal or the logs (zz_sealed_test).
	collectSecrets("POST", "", map[string]any{"petitioners": []any{
		map[string]any{"name": newPet["name"], "phone": newPet["phone"]}, map[string]any{"name": oldPet["name"], "phone": oldPet["phone"]}}})
	existing := registerCase(t, "default", oldPet, "拆迁补偿款迟迟未到位 "+place)
	book := func(body map[string]any) appointment {
		t.Helper()
		var a appointment
		if code := callRaw(t, "POST", "/api/v1/reception-days/"+strconv.FormatInt(day.ID, 10)+"/appointments", body, &a,
			append(bearer(t, clerk), "Idempotency-Key", receptionKey())...); code != http.StatusCreated || a.Status != "booked" {
			t.Fatalf("book %v: %d %+v", body, code, a)
		}
		return a
	}
	aNew := book(map[string]any{"petitioner_name": newPet["name"], "petitioner_phone": newPet["phone"], "subject": "小区拆迁安置房质量问题 " + place})
	aOld := book(map[string]any{"petitioner_name": oldPet["name"], "petitioner_phone": oldPet["phone"], "subject": "补偿款", "case_no": existing.CaseNo})
	aGone := book(map[string]any{"petitioner_name": "周九接访", "petitioner_phone": "13911112222", "subject": "噪音扰民"})
	if aOld.CaseNo != existing.CaseNo || aNew.PetitionerName != newPet["name"] {
		t.Fatalf("appointments: %+v %+v", aNew, aOld)
	}

	// The public schedule shows the day — date, hours, place, subjects, the leader's name and
	// unit — and nothing else: no staff ID, no petitioner.
	resp, err := http.Get(baseURL + "/api/v1/public/reception-days?from=" + today + "&to=" + today)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	schedule := string(raw)
	if resp.StatusCode != http.StatusOK || !strings.Contains(schedule, place) || !strings.Contains(schedule, day.LeaderName) ||
		!strings.Contains(schedule, `"start_time":"08:30"`) {
		t.Fatalf("public schedule: %d %s", resp.StatusCode, schedule)
	}
	for _, secret := range []string{dayLeader, clerk, newPet["name"].(string), newPet["phone"].(string), oldPet["name"].(string), existing.CaseNo, `"id"`} {
		if strings.Contains(schedule, secret) {
			t.Errorf("the public schedule shows %q: %s", secret, schedule)
		}
	}

	// The day's leader reads the appointments with names and phones; another leader may not.
	dayPath := "/api/v1/reception-days/" + strconv.FormatInt(day.ID, 10)
	var list struct {
		Appointments []appointment `json:"appointments"`
	}
	if code := callRaw(t, "GET", dayPath+"/appointments", nil, &list, bearer(t, dayLeader)...); code != http.StatusOK ||
		len(list.Appointments) != 3 || list.Appointments[0].PetitionerPhone != newPet["phone"] {
		t.Fatalf("the leader's appointments: %d %+v", code, list)
	}
	if code := callRaw(t, "GET", dayPath+"/appointments", nil, nil, bearer(t, "leader.health")...); code != http.StatusNotFound {
		t.Errorf("another leader's appointments: %d", code)
	}

	// The leader receives the new matter: registered as a case, channel visit, the leader in
	// charge from the start; the petitioner gets the query code.
	receivePath := func(a appointment) string { return "/api/v1/appointments/" + strconv.FormatInt(a.ID, 10) + "/receive" }
	visit := map[string]any{"category": "appeal", "content": "来访反映安置房墙体开裂、漏水，要求维修并追究责任 " + place,
		"outcome": "当场听取诉求，责成区住建局十日内查明答复"}
	if code := callRaw(t, "POST", receivePath(aNew), visit, nil, bearer(t, "leader.health")...); code != http.StatusNotFound {
		t.Errorf("another leader receiving: %d", code)
	}
	var got reception
	if code := callRaw(t, "POST", receivePath(aNew), visit, &got, bearer(t, dayLeader)...); code != http.StatusCreated ||
		got.CaseNo == "" || got.QueryCode == "" || got.ReceivedAs != "registered" || got.Appointment.Status != "received" ||
		got.State == nil || got.State.Leader != dayLeader || got.State.Channel != "visit" {
		t.Fatalf("receive the new matter: %d %+v", code, got)
	}
	newCase := got.CaseNo
	var retried reception
	if code := callRaw(t, "POST", receivePath(aNew), visit, &retried, bearer(t, clerk)...); code != http.StatusOK ||
		retried.CaseNo != newCase || retried.QueryCode != got.QueryCode {
		t.Errorf("receive again: %d %+v", code, retried)
	}
	var file struct {
		Case struct {
			CaseNo       string `json:"case_no"`
			Channel      string `json:"channel"`
			Leader       string `json:"leader"`
			Stage        string `json:"stage"`
			RegisteredBy string `json:"registered_by"`
			Petitioners  []struct {
				Name  string `json:"name"`
				Phone string `json:"phone"`
			} `json:"petitioners"`
		} `json:"case"`
		State *workflows.CaseState `json:"state"`
	}
	if code := callRaw(t, "GET", "/api/v1/petitions/"+newCase, nil, &file, bearer(t, clerk)...); code != http.StatusOK ||
		file.Case.Channel != "visit" || file.Case.Leader != dayLeader || file.State == nil || file.State.Leader != dayLeader ||
		file.Case.RegisteredBy != clerk || len(file.Case.Petitioners) != 1 || file.Case.Petitioners[0].Name != newPet["name"] {
		t.Fatalf("the visit's case: %d %+v", code, file)
	}

	// The clerk records the visit of the existing case: its leader in charge is now the
	// receiving leader (the workflow's assign_leader), and the case goes on.
	var onCase reception
	if code := callRaw(t, "POST", receivePath(aOld), map[string]any{"outcome": "领导包案，督促尽快兑付"}, &onCase, bearer(t, clerk)...); code != http.StatusOK ||
		onCase.CaseNo != existing.CaseNo || onCase.ReceivedAs != "leader_assigned" || onCase.State == nil || onCase.State.Leader != dayLeader {
		t.Fatalf("receive on the existing case: %d %+v", code, onCase)
	}
	if code := callRaw(t, "POST", receivePath(aOld), map[string]any{"outcome": "领导包案，督促尽快兑付"}, &onCase, bearer(t, clerk)...); code != http.StatusOK || onCase.CaseNo != existing.CaseNo {
		t.Errorf("receive on the existing case again: %d %+v", code, onCase)
	}
	var events struct {
		Events []workflows.Event `json:"events"`
	}
	eventually(t, 20*time.Second, "leader_assigned in the existing case's events", func() bool {
		callRaw(t, "GET", "/api/v1/petitions/"+existing.CaseNo+"/events", nil, &events, bearer(t, clerk)...)
		return slices.ContainsFunc(events.Events, func(e workflows.Event) bool {
			return e.Type == workflows.EventLeaderAssigned && e.Details["leader"] == dayLeader
		})
	})
	// The existing case moves on: accepted into the construction bureau.
	act(t, existing.CaseNo, "accept", map[string]any{"actor": clerk, "unit": "construction", "handler": handler}, http.StatusOK)

	// The third petitioner did not come.
	var gone appointment
	if code := callRaw(t, "POST", "/api/v1/appointments/"+strconv.FormatInt(aGone.ID, 10)+"/no-show", map[string]any{"note": "电话未接通"}, &gone, bearer(t, dayLeader)...); code != http.StatusOK ||
		gone.Status != "no_show" || gone.StatusLabel != "未到访" {
		t.Fatalf("no-show: %d %+v", code, gone)
	}

	// The leader's reception record: both cases with their stage now (from the register).
	var record receptionRecordView
	eventually(t, 20*time.Second, "the record with the existing case in handling", func() bool {
		if callRaw(t, "GET", "/api/v1/reception-record?from="+today+"&to="+today, nil, &record, bearer(t, dayLeader)...) != http.StatusOK {
			return false
		}
		for _, d := range record.Days {
			if d.ID != day.ID {
				continue
			}
			for _, c := range d.Cases {
				if c.CaseNo == existing.CaseNo && c.Stage == "handling" {
					return true
				}
			}
		}
		return false
	})
	if record.Leader != dayLeader {
		t.Errorf("record of %q", record.Leader)
	}
	for _, d := range record.Days {
		if d.ID != day.ID {
			continue
		}
		if d.Received != 2 || d.NoShow != 1 || len(d.Appointments) != 3 || len(d.Cases) != 2 {
			t.Errorf("the day in the record: %+v", d)
		}
		for _, a := range d.Appointments {
			if a.PetitionerName != "" || a.PetitionerPhone != "" {
				t.Errorf("the record shows personal data: %+v", a)
			}
		}
		for _, c := range d.Cases {
			switch c.CaseNo {
			case newCase:
				if c.Stage != "registered" || c.StageLabel != "已登记待受理" || c.ReceivedAs != "registered" || c.Channel != "visit" || c.Leader != dayLeader {
					t.Errorf("the new case in the record: %+v", c)
				}
			case existing.CaseNo:
				if c.StageLabel != "办理中" || c.ReceivedAs != "leader_assigned" || c.Unit != "construction" || c.Leader != dayLeader {
					t.Errorf("the existing case in the record: %+v", c)
				}
			default:
				t.Errorf("an unexpected case in the record: %+v", c)
			}
		}
	}
	if code := callRaw(t, "GET", "/api/v1/reception-record?leader="+dayLeader, nil, nil, bearer(t, "leader.health")...); code != http.StatusForbidden {
		t.Errorf("another leader's record: %d", code)
	}
	// The record as CSV for the office: Chinese headers, the cases, no petitioner.
	req, _ := http.NewRequest("GET", baseURL+"/api/v1/reception-record?format=csv&leader="+dayLeader+"&from="+today+"&to="+today, nil)
	req.Header.Set("Authorization", "Bearer "+tokenFor(t, supervisor))
	csvResp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(csvResp.Body)
	csvResp.Body.Close()
	csv := string(raw)
	if csvResp.StatusCode != http.StatusOK || !strings.Contains(csv, "接访日期,接访时间,接访地点,接访领导") ||
		!strings.Contains(csv, newCase) || !strings.Contains(csv, existing.CaseNo) || !strings.Contains(csv, "未到访") {
		t.Errorf("record CSV: %d\n%s", csvResp.StatusCode, csv)
	}
	if strings.Contains(csv, newPet["name"].(string)) || strings.Contains(csv, newPet["phone"].(string)) {
		t.Errorf("the record CSV shows personal data:\n%s", csv)
	}

	// A day cancelled: its booked appointment with it, and the public schedule drops it.
	tomorrow := time.Now().In(calendar.Location()).AddDate(0, 0, 1).Format(time.DateOnly)
	var later receptionDay
	if code := callRaw(t, "POST", "/api/v1/reception-days", map[string]any{"leader": dayLeader, "day": tomorrow, "place": place + " B"}, &later,
		append(bearer(t, supervisor), "Idempotency-Key", receptionKey())...); code != http.StatusCreated {
		t.Fatalf("publish tomorrow: %d", code)
	}
	var booked appointment
	if code := callRaw(t, "POST", "/api/v1/reception-days/"+strconv.FormatInt(later.ID, 10)+"/appointments",
		map[string]any{"petitioner_name": "吴十接访", "petitioner_phone": "13911113333", "subject": "物业"}, &booked,
		append(bearer(t, clerk), "Idempotency-Key", receptionKey())...); code != http.StatusCreated {
		t.Fatalf("book tomorrow: %d", code)
	}
	if code := callRaw(t, "POST", "/api/v1/appointments/"+strconv.FormatInt(booked.ID, 10)+"/receive", map[string]any{}, nil, bearer(t, clerk)...); code != http.StatusUnprocessableEntity {
		t.Errorf("receiving before the day: %d", code)
	}
	var cancelled receptionDay
	if code := callRaw(t, "POST", "/api/v1/reception-days/"+strconv.FormatInt(later.ID, 10)+"/cancel", map[string]any{"reason": "领导另有公务"}, &cancelled, bearer(t, clerk)...); code != http.StatusOK || !cancelled.Cancelled {
		t.Fatalf("cancel: %d %+v", code, cancelled)
	}
	if code := callRaw(t, "POST", dayPath+"/cancel", nil, nil, bearer(t, clerk)...); code != http.StatusUnprocessableEntity {
		t.Errorf("cancelling a day with visits: %d", code)
	}
	var laterList struct {
		Appointments []appointment `json:"appointments"`
	}
	if code := callRaw(t, "GET", "/api/v1/reception-days/"+strconv.FormatInt(later.ID, 10)+"/appointments", nil, &laterList, bearer(t, clerk)...); code != http.StatusOK ||
		len(laterList.Appointments) != 1 || laterList.Appointments[0].Status != "cancelled" {
		t.Errorf("appointments of the cancelled day: %d %+v", code, laterList)
	}
	var public struct {
		ReceptionDays []struct {
			Place string `json:"place"`
		} `json:"reception_days"`
	}
	if code := callRaw(t, "GET", "/api/v1/public/reception-days?from="+tomorrow+"&to="+tomorrow, nil, &public); code != http.StatusOK {
		t.Fatalf("public schedule: %d", code)
	}
	for _, d := range public.ReceptionDays {
		if d.Place == place+" B" {
			t.Errorf("a cancelled day in the public schedule: %+v", public)
		}
	}
}
