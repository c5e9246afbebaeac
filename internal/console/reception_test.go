package console

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// rcFakeAPI answers the reception endpoints and the reader's permissions; the directory (units,
// staff) is cfFakeAPI's.
type rcFakeAPI struct {
	*cfFakeAPI
	mu    sync.Mutex
	perms []string
	// Status and answer of the next write of each kind (0: the default success).
	publish, cancel, book, receive, noShow int
	fields                                 map[string]string
	receiveAnswer                          map[string]any
	listStatus                             int
	posts                                  []*http.Request
	sent                                   []string
	gets                                   []*http.Request
}

func rcDate(days int) string { return time.Now().In(cfZone).AddDate(0, 0, days).Format(time.DateOnly) }

func rcSampleDays() []map[string]any {
	return []map[string]any{
		{"id": 10, "leader": "leader.health", "leader_name": "刘局", "day": rcDate(-7), "start_time": "09:00", "end_time": "11:00",
			"place": "区信访局二楼", "subjects": "医疗纠纷", "unit": "health", "unit_name": "区卫生健康局", "received": 2},
		{"id": 11, "leader": "leader.construction", "leader_name": "孙局", "day": rcDate(0), "start_time": "09:00", "end_time": "11:30",
			"place": "区信访局一楼接待室", "subjects": "城建、拆迁安置、物业", "unit": "construction", "unit_name": "区住房和城乡建设局",
			"booked": 2, "received": 1, "no_show": 1},
		{"id": 12, "leader": "leader.construction", "leader_name": "孙局", "day": rcDate(3), "place": "区信访局一楼接待室",
			"subjects": "物业", "unit": "construction", "booked": 1},
		{"id": 13, "leader": "leader.health", "leader_name": "刘局", "day": rcDate(5), "start_time": "14:00",
			"place": "区卫生健康局", "subjects": "医保", "unit": "health", "cancelled": true, "cancel_reason": "领导外出"},
	}
}

func rcDayOf(id int) map[string]any {
	for _, d := range rcSampleDays() {
		if d["id"] == id {
			return d
		}
	}
	return nil
}

func (f *rcFakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	js := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	refuse := func(status int) {
		if status >= 500 && f.receiveAnswer != nil {
			js(status, f.receiveAnswer)
			return
		}
		body := map[string]any{"error": "validation failed"}
		if status == http.StatusUnprocessableEntity {
			body["error"] = "reception day 12 is cancelled: book on another day"
		}
		if len(f.fields) > 0 {
			body["fields"] = f.fields
		}
		js(status, body)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p := r.URL.Path
	if r.Method == http.MethodPost && strings.HasPrefix(p, "/api/v1/") && p != "/api/v1/auth/me" {
		b, _ := io.ReadAll(r.Body)
		f.posts, f.sent = append(f.posts, r), append(f.sent, string(b))
	} else if r.Method == http.MethodGet && p != "/api/v1/auth/me" {
		f.gets = append(f.gets, r)
	}
	switch {
	case p == "/api/v1/auth/me":
		js(200, map[string]any{"staff": f.me, "permissions": f.perms})
	case p == "/api/v1/reception-days" && r.Method == http.MethodGet:
		if f.listStatus != 0 {
			js(f.listStatus, map[string]any{"error": "validation failed", "fields": map[string]string{"to": "must not be before from"}})
			return
		}
		js(200, map[string]any{"from": rcDate(-7), "to": rcDate(90), "reception_days": rcSampleDays()})
	case p == "/api/v1/reception-days" && r.Method == http.MethodPost:
		if f.publish != 0 {
			refuse(f.publish)
			return
		}
		d := rcDayOf(12)
		d["id"] = 77
		js(201, d)
	case strings.HasSuffix(p, "/cancel"):
		if f.cancel != 0 {
			js(f.cancel, map[string]any{"error": "reception day 11 is not cancelled: 1 visits were received on it"})
			return
		}
		d := rcDayOf(12)
		d["cancelled"] = true
		js(200, d)
	case strings.HasPrefix(p, "/api/v1/reception-days/") && strings.HasSuffix(p, "/appointments") && r.Method == http.MethodGet:
		id := strings.TrimSuffix(strings.TrimPrefix(p, "/api/v1/reception-days/"), "/appointments")
		n := map[string]int{"11": 11, "12": 12, "13": 13}[id]
		if n == 0 {
			js(404, map[string]any{"error": "reception day " + id + " not found"})
			return
		}
		at := time.Date(2026, 5, 14, 9, 40, 0, 0, cfZone)
		appts := []map[string]any{}
		switch n {
		case 11:
			appts = []map[string]any{
				{"id": 101, "reception_day": 11, "petitioner_name": "张德明", "petitioner_phone": "13900001111", "subject": "拆迁安置房漏水", "status": "booked"},
				{"id": 102, "reception_day": 11, "case_no": "2026-000001", "petitioner_name": "王芳", "petitioner_phone": "13900002222", "subject": "补偿款未到位", "status": "booked",
					"case_stage": "handling"},
				{"id": 103, "reception_day": 11, "petitioner_name": "赵磊", "petitioner_phone": "13900003333", "subject": "物业收费", "status": "received",
					"received_at": at, "received_case_no": "2026-000042", "received_as": "registered", "outcome": "责成区住建局十日内答复", "case_stage": "registered"},
				{"id": 104, "reception_day": 11, "petitioner_name": "钱多", "petitioner_phone": "13900004444", "subject": "违章搭建", "status": "no_show", "outcome": "电话未接通"},
				{"id": 105, "reception_day": 11, "case_no": "2026-000009", "petitioner_name": "李娜", "petitioner_phone": "13900006666", "subject": "噪音扰民又起", "status": "booked",
					"case_stage": "closed"},
			}
		case 12:
			appts = []map[string]any{{"id": 121, "reception_day": 12, "petitioner_name": "孙丽", "petitioner_phone": "13900005555", "subject": "电梯维修", "status": "booked"}}
		}
		js(200, map[string]any{"reception_day": rcDayOf(n), "appointments": appts})
	case strings.HasPrefix(p, "/api/v1/reception-days/") && strings.HasSuffix(p, "/appointments"):
		if f.book != 0 {
			refuse(f.book)
			return
		}
		js(201, map[string]any{"id": 105, "reception_day": 11, "subject": "x", "status": "booked", "status_label": "已预约"})
	case strings.HasSuffix(p, "/receive"):
		if f.receive != 0 {
			refuse(f.receive)
			return
		}
		js(201, f.receiveAnswer)
	case strings.HasSuffix(p, "/no-show"):
		if f.noShow != 0 {
			js(f.noShow, map[string]any{"error": "appointment 103 was received (case 2026-000042): it is no no-show"})
			return
		}
		js(200, map[string]any{"id": 101, "status": "no_show"})
	case p == "/api/v1/reception-record":
		q := r.URL.Query()
		if q.Get("format") == "csv" {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="reception-record-leader.construction.csv"`)
			_, _ = io.WriteString(w, "\ufeff接访日期,接访领导\n2026-05-14,孙局\n")
			return
		}
		leader := q.Get("leader")
		if f.me.Role == "leader" && leader == "" {
			leader = f.me.ID
		}
		closed := time.Date(2026, 5, 30, 16, 0, 0, 0, cfZone)
		received := time.Date(2026, 5, 14, 9, 40, 0, 0, cfZone)
		day := rcDayOf(11)
		day["appointments"] = []map[string]any{
			{"id": 103, "reception_day": 11, "subject": "物业收费", "status": "received", "received_at": received, "received_case_no": "2026-000042", "received_as": "registered"},
			{"id": 102, "reception_day": 11, "case_no": "2026-000001", "subject": "补偿款未到位", "status": "received", "received_at": received,
				"received_case_no": "2026-000001", "received_as": "leader_assigned"},
			{"id": 104, "reception_day": 11, "subject": "违章搭建", "status": "no_show"},
		}
		day["cases"] = []map[string]any{
			{"case_no": "2026-000042", "appointment": 103, "received_as": "registered", "channel": "visit", "category": "appeal",
				"stage": "closed", "unit": "construction", "leader": "leader.construction", "evaluation": "satisfied", "closed_at": closed},
			{"case_no": "2026-000001", "appointment": 102, "received_as": "leader_assigned", "channel": "letter", "category": "inquiry",
				"stage": "handling", "unit": "health", "leader": "leader.health", "overdue": true},
		}
		js(200, map[string]any{"leader": leader, "from": "2026-05-01", "to": "2026-05-31", "days": []any{day},
			"totals": map[string]int{"days": 1, "appointments": 3, "received": 2, "no_show": 1, "cases": 2, "closed": 1, "satisfied": 1}})
	default:
		f.cfFakeAPI.ServeHTTP(w, r)
	}
}

// The permissions of each role (api/authz.go) as GET /api/v1/auth/me lists them.
var rcPerms = map[string][]string{
	"clerk":      {permReadCases, permReceptionRead, permReceptionManage, permReceptionReceive, permReceptionRecord},
	"supervisor": {permReadCases, permReceptionRead, permReceptionManage, permReceptionRecord},
	"leader":     {permReadCases, permReceptionRead, permReceptionReceive, permReceptionRecord},
	"handler":    {permReadCases, permReceptionRead},
}

func rcSample(role string) *rcFakeAPI {
	api := &rcFakeAPI{cfFakeAPI: cfSample()}
	rcAs(api, role)
	return api
}

func rcAs(api *rcFakeAPI, role string) {
	api.perms = rcPerms[role]
	switch role {
	case "clerk":
		api.cfFakeAPI.me = staffMember{ID: "clerk.li", Name: "李娜", Role: role, Unit: "petition_office"}
	case "supervisor":
		api.cfFakeAPI.me = staffMember{ID: "supervisor.zhao", Name: "赵强", Role: role, Unit: "petition_office"}
	case "leader":
		api.cfFakeAPI.me = staffMember{ID: "leader.construction", Name: "孙局", Role: role, Unit: "construction"}
	case "handler":
		api.cfFakeAPI.me = staffMember{ID: "handler.land", Name: "周工", Role: role, Unit: "land"}
	}
}

// got is the last GET the API had of path.
func (f *rcFakeAPI) got(path string) *http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.gets) - 1; i >= 0; i-- {
		if f.gets[i].URL.Path == path {
			return f.gets[i]
		}
	}
	return httptest.NewRequest("GET", "/none", nil)
}

func rcWant(t *testing.T, page string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %s", w)
		}
	}
}

func rcWantNot(t *testing.T, page string, not ...string) {
	t.Helper()
	for _, w := range not {
		if strings.Contains(page, w) {
			t.Errorf("page shows %s", w)
		}
	}
}

// rcToday words today as the console does.
func rcToday() string {
	d := time.Now().In(cfZone)
	return itoa(d.Year()) + "年" + itoa(int(d.Month())) + "月" + itoa(d.Day()) + "日"
}

func TestReceptionSchedule(t *testing.T) {
	api := rcSample("clerk")
	c := cfConsole(t, api)
	w := cfGet(c, "/reception")
	page := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, page)
	}
	rcWant(t, page,
		// the navigation, the record
		`id="nav-reception" aria-current="page"`, `id="rc-record-link"`,
		// each day: date with weekday, hours, leader and unit, place, subjects, state, counts
		`id="day-11" data-state="today"`, rcToday()+"（周", "09:00–11:30", "孙局", "区住房和城乡建设局", "区信访局一楼接待室", "城建、拆迁安置、物业",
		"今日接访", "已预约 2", "已接待 1", "未到访 1",
		`id="day-12" data-state="published"`, "时间另行通知", "已发布",
		`id="day-13" data-state="cancelled" class="rc-cancelled"`, "已取消", "取消原因：领导外出", "14:00 起",
		`id="day-10" data-state="held"`, "已结束",
		// the office opens every day and cancels those without visits received
		`href="/reception/11"`, `href="/reception/10"`, `id="day-12-cancel"`, `action="/reception/12/cancel"`, `id="cancel-12-reason"`,
		// the publishing form: a leader picker from the directory, the unit optional
		`id="rc-publish-form"`, `<option value="leader.construction">孙局（区住房和城乡建设局）</option>`, `id="day-day"`, `type="date"`,
		`min="`+rcDate(0)+`"`, `id="day-start_time"`, `type="time"`, `id="day-end_time"`, `id="day-place"`, `id="day-subjects"`,
		`<option value="" selected>领导所在单位</option>`, `name="key" value="console-`,
		// the filters
		`id="rc-from" name="from" value="`+rcDate(-7)+`"`, `<option value="" selected>全部领导</option>`,
	)
	rcWantNot(t, page, `id="day-11-cancel"`, `id="day-13-cancel"`, `id="day-10-cancel"`)
	cfCheckLabels(t, page)
	if q := api.got("/api/v1/reception-days"); q.URL.Path != "/api/v1/reception-days" || q.URL.RawQuery != "" {
		t.Errorf("schedule asked %s?%s", q.URL.Path, q.URL.RawQuery)
	}

	// The filters go to the API; its refusal is shown with its status.
	cfGet(c, "/reception?from=2026-05-01&to=2026-05-31&leader=leader.health")
	if q := api.got("/api/v1/reception-days").URL.Query(); q.Get("from") != "2026-05-01" || q.Get("to") != "2026-05-31" || q.Get("leader") != "leader.health" {
		t.Errorf("filters sent %v", q)
	}
	api.listStatus = 400
	w = cfGet(c, "/reception?from=2026-05-31&to=2026-05-01")
	if w.Code != 400 || !strings.Contains(w.Body.String(), `id="rc-errors"`) || !strings.Contains(w.Body.String(), "must not be before from") {
		t.Errorf("a refused filter: %d", w.Code)
	}
	api.listStatus = 0

	// A handler reads the schedule: no appointments, no forms, no record.
	rcAs(api, "handler")
	page = cfGet(c, "/reception").Body.String()
	rcWant(t, page, `id="nav-reception"`, `id="day-11"`)
	rcWantNot(t, page, `href="/reception/11"`, `id="rc-publish-form"`, `id="day-12-cancel"`, `id="rc-record-link"`)
	// A leader opens their own days only, and publishes nothing.
	rcAs(api, "leader")
	page = cfGet(c, "/reception").Body.String()
	rcWant(t, page, `href="/reception/11"`, `href="/reception/12"`, `id="rc-record-link"`)
	rcWantNot(t, page, `href="/reception/10"`, `href="/reception/13"`, `id="rc-publish-form"`, `id="day-12-cancel"`)
	// Without the permission there is no navigation entry.
	api.perms = []string{permReadCases}
	if page := cfGet(c, "/cases/2026-000001").Body.String(); strings.Contains(page, `id="nav-reception"`) {
		t.Error("the navigation shows the reception days to a reader without the permission")
	}
	// English is one click away.
	rcAs(api, "clerk")
	r := httptest.NewRequest("GET", "/reception", nil)
	r.AddCookie(&http.Cookie{Name: cookieCSRF, Value: "tok"})
	r.AddCookie(&http.Cookie{Name: cookieLang, Value: "en"})
	ew := httptest.NewRecorder()
	c.ServeHTTP(ew, r)
	rcWant(t, ew.Body.String(), "Leader reception days", "Publish a reception day", "today", "hours to be announced")
}

func TestReceptionPublish(t *testing.T) {
	api := rcSample("clerk")
	c := cfConsole(t, api)
	form := url.Values{"csrf": {"tok"}, "key": {"console-d1"}, "leader": {"leader.construction"}, "day": {rcDate(3)},
		"start_time": {"09:00"}, "end_time": {""}, "place": {" 区信访局一楼接待室 "}, "subjects": {"物业"}, "unit": {""}}
	w := cfPost(c, "/reception/days", form)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/reception/77" {
		t.Fatalf("publish: %d %s %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if fl := cfFlash(w); fl == nil || fl.Kind != "ok" || !strings.Contains(fl.Text, "孙局") || !strings.Contains(fl.Text, "已发布") {
		t.Errorf("flash %+v", fl)
	}
	last := api.posts[len(api.posts)-1]
	var sent map[string]string
	_ = json.Unmarshal([]byte(api.sent[len(api.sent)-1]), &sent)
	if last.URL.Path != "/api/v1/reception-days" || last.Header.Get("Idempotency-Key") != "console-d1" || last.Header.Get("X-CSRF-Token") != "tok" ||
		sent["leader"] != "leader.construction" || sent["day"] != rcDate(3) || sent["start_time"] != "09:00" || sent["place"] != "区信访局一楼接待室" ||
		sent["subjects"] != "物业" || sent["unit"] != "" {
		t.Errorf("sent %s %v %v", last.URL.Path, sent, last.Header)
	}

	// Refused: the form again as typed, each complaint at its input and in the summary.
	api.publish, api.fields = 400, map[string]string{"place": "is required", "day": "must not be in the past (today is 2026-05-14)"}
	form.Set("place", "")
	w = cfPost(c, "/reception/days", form)
	page := w.Body.String()
	if w.Code != 400 {
		t.Fatalf("refused: %d", w.Code)
	}
	rcWant(t, page, `id="rc-publish-errors"`, `href="#day-place"`, `id="day-place-error"`, "必填", `id="day-day-error"`, "must not be in the past",
		`value="console-d1"`, `<option value="leader.construction" selected>`, `aria-invalid="true"`, `id="day-11"`)
	cfCheckLabels(t, page)
	// A leader the API does not take (422, unprocessable, named field).
	api.publish, api.fields = 422, map[string]string{"leader": "handler.land is a handler, not a leader"}
	page = cfPost(c, "/reception/days", form).Body.String()
	rcWant(t, page, `id="day-leader-error"`, "not a leader")
	// A form from elsewhere never reaches the API.
	n := len(api.posts)
	if w := cfPost(c, "/reception/days", url.Values{"csrf": {"forged"}, "leader": {"x"}}); w.Code != 403 || len(api.posts) != n {
		t.Errorf("forged: %d", w.Code)
	}
}

func TestReceptionCancel(t *testing.T) {
	api := rcSample("supervisor")
	c := cfConsole(t, api)
	w := cfPost(c, "/reception/12/cancel", url.Values{"csrf": {"tok"}, "reason": {" 领导临时出差 "}, "back": {"/reception?leader=leader.construction"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/reception?leader=leader.construction" {
		t.Fatalf("cancel: %d %s", w.Code, w.Header().Get("Location"))
	}
	if api.posts[0].URL.Path != "/api/v1/reception-days/12/cancel" || api.sent[0] != `{"reason":"领导临时出差"}` {
		t.Errorf("sent %s %s", api.posts[0].URL.Path, api.sent[0])
	}
	if fl := cfFlash(w); fl == nil || fl.Kind != "ok" || !strings.Contains(fl.Text, "已取消") {
		t.Errorf("flash %+v", fl)
	}
	// Refused: back with the API's reason; a redirect elsewhere is not followed.
	api.cancel = 422
	w = cfPost(c, "/reception/11/cancel", url.Values{"csrf": {"tok"}, "back": {"https://elsewhere.example/"}})
	if w.Header().Get("Location") != "/reception" {
		t.Errorf("back to %s", w.Header().Get("Location"))
	}
	if fl := cfFlash(w); fl == nil || fl.Kind != "error" || !strings.Contains(fl.Text, "visits were received") {
		t.Errorf("flash %+v", fl)
	}
	if w := cfPost(c, "/reception/x/cancel", url.Values{"csrf": {"tok"}}); w.Code != 404 {
		t.Errorf("bad id: %d", w.Code)
	}
}

func TestReceptionDayPage(t *testing.T) {
	api := rcSample("clerk")
	c := cfConsole(t, api)
	w := cfGet(c, "/reception/11")
	page := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, page)
	}
	rcWant(t, page,
		rcToday()+"（周", "领导接访日", "今日接访", `id="rc-day-leader">孙局`, "09:00–11:30", "区信访局一楼接待室",
		// the appointments with the petitioners, statuses labelled, the visit and its case
		`id="appt-101" data-status="booked"`, "张德明", "13900001111", "拆迁安置房漏水", "新事项",
		`id="appt-102" data-status="booked"`, `href="/cases/2026-000001"`,
		`id="appt-103" data-status="received"`, `id="appt-103-case"`, "2026-000042", "登记为新事项", "2026年5月14日 09:40", "责成区住建局十日内答复",
		`id="appt-104" data-status="no_show"`, "未到访", "电话未接通",
		// visits to record: a new matter with the registration's fields, a case with the note (and, if closed, the fields)
		`id="appt-101-receive"`, `action="/reception/11/appointments/101/receive"`, `name="mode" value="new"`, `id="a101-category"`,
		`<option value="appeal">申诉求决</option>`, `id="a101-topic"`, `id="a101-content"`, `id="a101-outcome"`, "由孙局包案",
		`id="appt-102-receive"`, `name="mode" value="case"`, "接待后由孙局包案信访事项 2026-000001", `id="a102-outcome"`, `id="a102-category"`,
		`id="appt-104-receive"`, // a no-show may come late
		`id="appt-101-noshow"`, `action="/reception/11/appointments/101/no-show"`, `id="appt-101-note"`,
		// booking
		`id="rc-book-form"`, `action="/reception/11/appointments"`, `id="book-petitioner_name"`, `id="book-petitioner_phone"`, `type="tel"`,
		`id="book-subject"`, `id="book-case_no"`, `name="key" value="console-`,
		// the day has visits received: not cancelled from here
		`href="/reception"`, `href="/reception/record?leader=leader.construction&amp;from=`+rcDate(0),
	)
	rcWantNot(t, page, `id="appt-103-receive"`, `id="appt-104-noshow"`, `id="rc-day-cancel"`, `id="rc-not-yet"`)
	cfCheckLabels(t, page)
	// Each case's stage, labelled: an open case keeps the registration fields folded, a case
	// in a final stage shows them open (the visit is a new case), category and content required.
	rcWant(t, page,
		`id="appt-102-stage" class="rc-stage" data-stage="handling">办理中`,
		`id="appt-103-stage" class="rc-stage" data-stage="registered">已登记待受理`,
		`id="appt-105-stage" class="rc-stage rc-final" data-stage="closed">已办结`,
		`<details class="rc-fold" id="appt-102-newcase">`,
		`<details class="rc-fold" id="appt-105-newcase" open>`, `id="appt-105-final"`,
		"信访事项 2026-000009 已结束（已办结）：接待后本次来访登记为新的信访事项，由孙局包案",
	)
	rcWantNot(t, page, `id="appt-101-stage"`, `id="appt-104-stage"`, `id="appt-102-final"`)
	if i := strings.Index(page, `id="appt-105-newcase"`); i < 0 || !regexp.MustCompile(`(?s)^.*?<label for="a105-content">[^<]*\*`).MatchString(page[i:]) {
		t.Error("a closed case's visit: content is not marked required")
	}
	if i := strings.Index(page, `id="appt-102-newcase"`); i < 0 || regexp.MustCompile(`(?s)^.*?<label for="a102-content">[^<]*\*`).MatchString(page[i:]) {
		t.Error("an open case's visit: content is marked required")
	}

	// A coming day: booked, but visits are recorded on the day; it may be cancelled.
	page = cfGet(c, "/reception/12").Body.String()
	rcWant(t, page, `id="rc-not-yet"`, `id="rc-book-form"`, `id="appt-121"`, "孙丽", `id="rc-day-cancel"`, `id="cancel-12-reason"`)
	rcWantNot(t, page, `id="appt-121-receive"`, `id="appt-121-noshow"`)
	cfCheckLabels(t, page)
	// A cancelled day takes no booking.
	page = cfGet(c, "/reception/13").Body.String()
	rcWant(t, page, `id="rc-no-booking"`, "领导外出", "暂无约访")
	rcWantNot(t, page, `id="rc-book-form"`, `id="rc-day-cancel"`)

	// The day's leader records visits but books nothing; a supervisor books but records no visit.
	rcAs(api, "leader")
	page = cfGet(c, "/reception/11").Body.String()
	rcWant(t, page, `id="appt-101-receive"`, `id="appt-101-noshow"`)
	rcWantNot(t, page, `id="rc-book-form"`, `id="rc-no-booking"`)
	rcAs(api, "supervisor")
	page = cfGet(c, "/reception/11").Body.String()
	rcWant(t, page, `id="rc-book-form"`)
	rcWantNot(t, page, `id="appt-101-receive"`, `id="appt-101-noshow"`)

	// Another leader's day (the API answers 404), and no such day.
	if w := cfGet(c, "/reception/99"); w.Code != 404 {
		t.Errorf("unknown day: %d", w.Code)
	}
	if w := cfGet(c, "/reception/abc"); w.Code != 404 {
		t.Errorf("bad id: %d", w.Code)
	}
}

func TestReceptionBook(t *testing.T) {
	api := rcSample("clerk")
	c := cfConsole(t, api)
	form := url.Values{"csrf": {"tok"}, "key": {"console-b1"}, "petitioner_name": {"孙某"}, "petitioner_phone": {"139 0000 8888"},
		"subject": {"安置房墙体开裂"}, "case_no": {""}}
	w := cfPost(c, "/reception/11/appointments", form)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/reception/11#appt-105" {
		t.Fatalf("book: %d %s", w.Code, w.Header().Get("Location"))
	}
	if fl := cfFlash(w); fl == nil || !strings.Contains(fl.Text, "约访编号 105") {
		t.Errorf("flash %+v", fl)
	}
	// The petitioner's name and phone go to the API, never into the address or the flash.
	if loc := w.Header().Get("Location"); strings.Contains(loc, "孙某") || strings.Contains(loc, "8888") {
		t.Errorf("personal data in the redirect: %s", loc)
	}
	last := api.posts[len(api.posts)-1]
	var sent map[string]string
	_ = json.Unmarshal([]byte(api.sent[len(api.sent)-1]), &sent)
	if last.URL.Path != "/api/v1/reception-days/11/appointments" || last.Header.Get("Idempotency-Key") != "console-b1" ||
		sent["petitioner_name"] != "孙某" || sent["petitioner_phone"] != "139 0000 8888" || sent["subject"] != "安置房墙体开裂" || sent["case_no"] != "" {
		t.Errorf("sent %s %v", last.URL.Path, sent)
	}
	// Refused: the form again as typed, the complaint at its input.
	api.book, api.fields = 400, map[string]string{"petitioner_phone": "is not a phone number", "case_no": "is not a case number"}
	form.Set("petitioner_phone", "abc")
	form.Set("case_no", "42")
	w = cfPost(c, "/reception/11/appointments", form)
	page := w.Body.String()
	if w.Code != 400 {
		t.Fatalf("refused: %d", w.Code)
	}
	rcWant(t, page, `id="rc-book-errors"`, `href="#book-petitioner_phone"`, "联系电话", `id="book-petitioner_phone-error"`, "is not a phone number",
		`id="book-case_no-error"`, `value="孙某"`, `value="console-b1"`, `id="appt-101"`)
	cfCheckLabels(t, page)
	// A cancelled day (422 without fields): the API's words.
	api.book, api.fields = 422, nil
	page = cfPost(c, "/reception/11/appointments", form).Body.String()
	rcWant(t, page, "is cancelled: book on another day")
}

func TestReceptionReceive(t *testing.T) {
	api := rcSample("clerk")
	c := cfConsole(t, api)
	received := time.Date(2026, 5, 14, 9, 45, 0, 0, cfZone)
	api.receiveAnswer = map[string]any{
		"appointment": map[string]any{"id": 101, "reception_day": 11, "subject": "拆迁安置房漏水", "status": "received", "received_at": received},
		"case_no":     "2026-000050", "received_as": "registered", "received_as_label": "登记为新事项", "query_code": "K7P2M9QX",
		"state": map[string]any{"case_no": "2026-000050", "stage": "registered", "topic": "拆迁安置房漏水", "leader": "leader.construction",
			"received_at": received, "deadline": map[string]any{"clock": "acceptance", "due": time.Date(2026, 5, 29, 0, 0, 0, 0, cfZone)}},
	}
	w := cfPost(c, "/reception/11/appointments/101/receive", url.Values{"csrf": {"tok"}, "mode": {"new"}, "category": {"appeal"},
		"topic": {" "}, "content": {"来访反映安置房墙体开裂、漏水，要求维修。"}, "outcome": {"责成区住建局十日内查明答复"}})
	page := w.Body.String()
	if w.Code != http.StatusCreated {
		t.Fatalf("receive: %d %s", w.Code, page)
	}
	var sent map[string]string
	_ = json.Unmarshal([]byte(api.sent[len(api.sent)-1]), &sent)
	if p := api.posts[len(api.posts)-1]; p.URL.Path != "/api/v1/appointments/101/receive" || p.Header.Get("X-CSRF-Token") != "tok" ||
		sent["category"] != "appeal" || sent["content"] != "来访反映安置房墙体开裂、漏水，要求维修。" || sent["outcome"] != "责成区住建局十日内查明答复" {
		t.Errorf("sent %s %v", p.URL.Path, sent)
	}
	if _, ok := sent["topic"]; ok {
		t.Error("an empty topic was sent (the API takes the appointment's subject)")
	}
	// The receipt: the case (linked), the query code once, the leader in charge, the deadline.
	rcWant(t, page, "领导接访登记回执", `id="rc-receipt-case-no"`, `href="/cases/2026-000050"`, `id="rc-receipt-query-code" class="big code">K7P2M9QX`,
		`id="rc-receipt-leader">孙局`, "2026年5月14日 09:45", "拆迁安置房漏水", "2026年5月29日", "/query", "登记人：李娜", `href="/reception/11"`, "data-print")

	// An open case's appointment: the note only; the leader takes charge of the case.
	api.receiveAnswer = map[string]any{
		"appointment": map[string]any{"id": 102, "reception_day": 11, "subject": "补偿款未到位", "status": "received"},
		"case_no":     "2026-000001", "received_as": "leader_assigned",
		"state": map[string]any{"case_no": "2026-000001", "stage": "handling", "leader": "leader.construction"},
	}
	w = cfPost(c, "/reception/11/appointments/102/receive", url.Values{"csrf": {"tok"}, "mode": {"case"}, "category": {""}, "topic": {""}, "content": {""},
		"outcome": {"领导包案，督促兑付"}})
	page = w.Body.String()
	if api.sent[len(api.sent)-1] != `{"outcome":"领导包案，督促兑付"}` {
		t.Errorf("an open case's visit sent %s", api.sent[len(api.sent)-1])
	}
	rcWant(t, page, `data-received-as="leader_assigned"`, "本次来访已记入信访事项 2026-000001，由孙局包案。", `id="rc-receipt-as">领导包案`, "办理中")
	rcWantNot(t, page, `id="rc-receipt-query-code"`)

	// That case was closed: the API asks for the registration's fields; the form opens with them.
	api.receive, api.fields = 400, map[string]string{"category": "must be one of accusation, appeal, inquiry, suggestion", "content": "is required"}
	w = cfPost(c, "/reception/11/appointments/102/receive", url.Values{"csrf": {"tok"}, "mode": {"case"}, "outcome": {"领导包案"}})
	page = w.Body.String()
	if w.Code != 400 {
		t.Fatalf("refused: %d", w.Code)
	}
	rcWant(t, page, `id="appt-102-receive" open`, `id="appt-102-errors"`, `href="#a102-category"`, `id="a102-category-error"`, `id="a102-content-error"`,
		"必填", "领导包案</textarea>", `<details class="rc-fold" id="appt-102-newcase" open>`)
	rcWantNot(t, page, `id="appt-101-receive" open`, `id="appt-101-errors"`)
	cfCheckLabels(t, page)

	// Registered, but the workflow has not confirmed: the number and code, and the same form to finish.
	api.receive, api.fields = 503, nil
	api.receiveAnswer = map[string]any{"error": "the case is registered but its workflow has not started", "case_no": "2026-000051", "query_code": "ZX81QW2M"}
	w = cfPost(c, "/reception/11/appointments/101/receive", url.Values{"csrf": {"tok"}, "mode": {"new"}, "category": {"appeal"}, "content": {"墙体开裂"}})
	page = w.Body.String()
	if w.Code != 503 {
		t.Fatalf("unconfirmed: %d", w.Code)
	}
	rcWant(t, page, `id="rc-unconfirmed"`, "2026-000051", "ZX81QW2M", `id="appt-101-receive" open`, "墙体开裂</textarea>")
}

func TestReceptionNoShow(t *testing.T) {
	api := rcSample("leader")
	c := cfConsole(t, api)
	w := cfPost(c, "/reception/11/appointments/101/no-show", url.Values{"csrf": {"tok"}, "note": {" 电话未接通 "}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/reception/11#appt-101" {
		t.Fatalf("no-show: %d %s", w.Code, w.Header().Get("Location"))
	}
	if api.posts[0].URL.Path != "/api/v1/appointments/101/no-show" || api.sent[0] != `{"note":"电话未接通"}` {
		t.Errorf("sent %s %s", api.posts[0].URL.Path, api.sent[0])
	}
	if fl := cfFlash(w); fl == nil || fl.Kind != "ok" || !strings.Contains(fl.Text, "未到访") {
		t.Errorf("flash %+v", fl)
	}
	api.noShow = 422
	w = cfPost(c, "/reception/11/appointments/103/no-show", url.Values{"csrf": {"tok"}})
	if fl := cfFlash(w); fl == nil || fl.Kind != "error" || !strings.Contains(fl.Text, "no no-show") {
		t.Errorf("flash %+v", fl)
	}
}

func TestReceptionRecord(t *testing.T) {
	api := rcSample("supervisor")
	c := cfConsole(t, api)
	w := cfGet(c, "/reception/record?leader=leader.construction&from=2026-05-01&to=2026-05-31")
	page := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, page)
	}
	if q := api.got("/api/v1/reception-record").URL.Query(); q.Get("leader") != "leader.construction" ||
		q.Get("from") != "2026-05-01" || q.Get("to") != "2026-05-31" || q.Get("format") != "" {
		t.Errorf("record asked %v", q)
	}
	rcWant(t, page,
		"孙局的接访记录", "2026年5月1日 至 2026年5月31日",
		// totals
		`id="rc-t-days">1`, `id="rc-t-appointments">3`, `id="rc-t-received">2`, `id="rc-t-no_show">1`, `id="rc-t-cases">2`, `id="rc-t-closed">1`, `id="rc-t-satisfied">1`,
		// the day, each appointment and the case received with its labels, linked
		`id="rec-day-11"`, rcToday(), "09:00–11:30", "区信访局一楼接待室",
		`id="rec-appt-103" data-status="received"`, "物业收费", `href="/cases/2026-000042"`, "登记为新事项", "申诉求决", "已办结", "满意", "2026年5月30日",
		`id="rec-appt-102" data-status="received" class="overdue"`, `href="/cases/2026-000001"`, "领导包案", "咨询", "办理中", "已逾期", "区卫生健康局",
		"（现由leader.health包案）",
		`id="rec-appt-104" data-status="no_show"`, "违章搭建",
		// the files with the record's leader and period; the picker
		`href="/reception/record/export/csv?from=2026-05-01&amp;leader=leader.construction&amp;to=2026-05-31"`, `id="rc-record-xlsx"`,
		`id="rec-leader"`, `<option value="leader.construction" selected>`, `id="rec-from" name="from" value="2026-05-01"`,
	)
	// No personal data in the record.
	rcWantNot(t, page, "赵磊", "13900003333", "王芳")
	cfCheckLabels(t, page)

	// A leader reads their own: no picker.
	rcAs(api, "leader")
	page = cfGet(c, "/reception/record").Body.String()
	rcWant(t, page, "孙局的接访记录", `leader=leader.construction`)
	rcWantNot(t, page, `id="rec-leader"`)
	cfCheckLabels(t, page)

	// The files pass through from the API.
	w = cfGet(c, "/reception/record/export/csv?leader=leader.construction&from=2026-05-01&to=2026-05-31")
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") || !strings.Contains(w.Header().Get("Content-Disposition"), "reception-record") ||
		!strings.Contains(w.Body.String(), "接访日期") {
		t.Errorf("csv: %d %v", w.Code, w.Header())
	}
	if q := api.got("/api/v1/reception-record").URL.Query(); q.Get("format") != "csv" || q.Get("leader") != "leader.construction" || q.Get("from") != "2026-05-01" {
		t.Errorf("file asked %v", q)
	}
	if w := cfGet(c, "/reception/record/export/pdf"); w.Code != 404 {
		t.Errorf("pdf: %d", w.Code)
	}
}

// The words the pages make up (rc.st.<state>) exist in both languages.
func TestReceptionMessages(t *testing.T) {
	for _, st := range []string{"published", "today", "held", "cancelled"} {
		if m, ok := messages["rc.st."+st]; !ok || m[0] == "" || m[1] == "" {
			t.Errorf("no words for day state %s", st)
		}
	}
	// The keys the templates hand to their field helpers.
	given := regexp.MustCompile(`"(?:Label|Hint|Title)" "([a-z_]+\.[a-z0-9_.]+)"`)
	for _, name := range []string{"templates/_reception.html", "templates/reception.html", "templates/reception_day.html",
		"templates/reception_record.html", "templates/reception_receipt.html"} {
		b, err := fs.ReadFile(templateFS, name)
		if err != nil {
			t.Fatal(err)
		}
		found := given.FindAllStringSubmatch(string(b), -1)
		if name == "templates/reception_day.html" && len(found) < 10 {
			t.Errorf("%s: only %d keys found", name, len(found))
		}
		for _, m := range found {
			if w, ok := messages[m[1]]; !ok || w[0] == "" || w[1] == "" {
				t.Errorf("%s: no words %s", name, m[1])
			}
		}
	}
	for field, key := range rcFieldKeys {
		if m, ok := messages[key]; !ok || m[0] == "" || m[1] == "" {
			t.Errorf("field %s: no words %s", field, key)
		}
	}
}
