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

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/internal/labels"
	"github.com/petitions/petitions/workflows"
)

var cfZone = func() *time.Location {
	z, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return z
}()

func TestCaseFileActionBody(t *testing.T) {
	form := url.Values{
		"unit": {" construction "}, "handler": {"handler.construction"}, "leader": {"leader.construction"},
		"reason": {"需要现场核查"}, "opinion": {"经核查，已督促支付。"}, "days": {"30"}, "approved": {"yes"},
		"outcome": {"uphold"}, "new_due_at": {"2026-03-12"}, "evaluation": {"satisfied"},
		"report_due": {"2026-03-20"}, "reached": {"yes"}, "criterion": {"urgent_risk"}, "units": {"construction", "land, health"},
	}
	want := map[string]string{
		workflows.UpdateAccept:           `{"unit":"construction","handler":"handler.construction","leader":"leader.construction"}`,
		workflows.UpdateReject:           `{"reason":"需要现场核查"}`,
		workflows.UpdateForward:          `{"unit":"construction","reason":"需要现场核查"}`,
		workflows.UpdateReply:            `{"opinion":"经核查，已督促支付。"}`,
		workflows.UpdateRequestExtension: `{"reason":"需要现场核查","days":30}`,
		workflows.UpdateDecideExtension:  `{"reason":"需要现场核查","approved":true}`,
		workflows.UpdateReassign:         `{"unit":"construction","handler":"handler.construction","leader":"leader.construction","reason":"需要现场核查"}`,
		workflows.UpdatePause:            `{"reason":"需要现场核查"}`,
		workflows.UpdateResume:           `{}`,
		workflows.UpdateSupervise:        `{"opinion":"经核查，已督促支付。","new_due_at":"2026-03-13T00:00:00+08:00"}`,
		workflows.UpdateReviewDecision:   `{"opinion":"经核查，已督促支付。","outcome":"uphold"}`,
		workflows.UpdateReReviewDecision: `{"opinion":"经核查，已督促支付。","outcome":"uphold"}`,
		workflows.UpdateWithdraw:         `{"reason":"需要现场核查"}`,
		workflows.UpdateRecordService:    `{}`,
		// The bureau's routines: the team goes as a JSON array, reached as a boolean.
		workflows.UpdateAssign:              `{"unit":"construction","opinion":"经核查，已督促支付。","report_due":"2026-03-20"}`,
		workflows.UpdateReportResult:        `{"opinion":"经核查，已督促支付。"}`,
		workflows.UpdateReviewResult:        `{"reason":"需要现场核查","approved":true,"report_due":"2026-03-20"}`,
		workflows.UpdateAddCoUnit:           `{"unit":"construction","opinion":"经核查，已督促支付。"}`,
		workflows.UpdateCoReply:             `{"opinion":"经核查，已督促支付。"}`,
		workflows.UpdateRecordCallBack:      `{"reason":"需要现场核查","reached":true,"evaluation":"satisfied"}`,
		workflows.UpdateFlagJoint:           `{"reason":"需要现场核查","criterion":"urgent_risk"}`,
		workflows.UpdateDecideJoint:         `{"reason":"需要现场核查","approved":true,"units":["construction","land","health"]}`,
		workflows.UpdateRecordJointFindings: `{"opinion":"经核查，已督促支付。"}`,
		workflows.UpdateAssignLeader:        `{"leader":"leader.construction","reason":"需要现场核查"}`,
	}
	for _, a := range staffActions {
		b, err := buildActionBody(a, form, cfZone)
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		got, _ := json.Marshal(b)
		if string(got) != want[a] {
			t.Errorf("%s: body %s, want %s", a, got, want[a])
		}
	}
	if len(want) != len(staffActions) {
		t.Errorf("test covers %d actions, staffActions has %d", len(want), len(staffActions))
	}

	// The service date (送达) goes as the day; the method as chosen.
	b, err := buildActionBody(workflows.UpdateRecordService, url.Values{"served_at": {"2026-03-10"}, "service_method": {"post"}}, cfZone)
	if got, _ := json.Marshal(b); err != nil || string(got) != `{"served_at":"2026-03-10","service_method":"post"}` {
		t.Errorf("record_service: body %s, %v", got, err)
	}
	if _, err := buildActionBody(workflows.UpdateReply, url.Values{"opinion": {"x"}, "served_at": {"10 March"}}, cfZone); err == nil {
		t.Error("reply with a served_at that is no date accepted")
	}

	// Empty optional values are left out; "no" is false, not missing.
	b, err = buildActionBody(workflows.UpdateDecideExtension, url.Values{"approved": {"no"}}, cfZone)
	if got, _ := json.Marshal(b); err != nil || string(got) != `{"approved":false}` {
		t.Errorf("decide no: %s %v", got, err)
	}
	b, err = buildActionBody(workflows.UpdateSupervise, url.Values{"opinion": {"x"}, "new_due_at": {""}}, cfZone)
	if got, _ := json.Marshal(b); err != nil || string(got) != `{"opinion":"x"}` {
		t.Errorf("supervise without date: %s %v", got, err)
	}
	// Shapes the console cannot read are the reader's mistake, named by field.
	for _, tc := range []struct{ action, field, value string }{
		{workflows.UpdateRequestExtension, "days", "thirty"},
		{workflows.UpdateRequestExtension, "days", "1.5"},
		{workflows.UpdateDecideExtension, "approved", "maybe"},
		{workflows.UpdateSupervise, "new_due_at", "12/03/2026"},
		{workflows.UpdateAssign, "report_due", "next Friday"},
		{workflows.UpdateRecordCallBack, "reached", "maybe"},
	} {
		_, err := buildActionBody(tc.action, url.Values{tc.field: {tc.value}}, cfZone)
		fe, ok := err.(*formFieldError)
		if !ok || fe.Field != tc.field {
			t.Errorf("%s %s=%q: err %v", tc.action, tc.field, tc.value, err)
		}
	}
	if _, err := buildActionBody("evaluate", form, cfZone); err == nil {
		t.Error("evaluate is not a staff action")
	}
}

func TestCaseFileActionNames(t *testing.T) {
	for _, a := range staffActions {
		if !isStaffAction(a) {
			t.Errorf("%s not known", a)
		}
		if _, ok := actionFields[a]; !ok {
			t.Errorf("%s has no fields entry", a)
		}
		if labels.Zh(labels.KindAction, a) == a {
			t.Errorf("%s has no label", a)
		}
	}
	for _, a := range []string{"", "evaluate", "request_review", "request_re_review", "link_repeat",
		"await_registration", "accept;drop", "ACCEPT", "request-extension"} {
		if isStaffAction(a) {
			t.Errorf("%q taken for a staff action", a)
		}
	}
	got := allowedStaffActions([]string{"accept", "request-extension", "decide_extension", "evaluate", "request-review", "link-repeat", "bogus"})
	if strings.Join(got, ",") != "accept,request_extension,decide_extension" {
		t.Errorf("allowed %v", got)
	}
	if got := actionPath(workflows.UpdateReReviewDecision); got != "re-review-decision" {
		t.Errorf("actionPath = %q", got)
	}
	if got := actionPath(workflows.UpdateRequestExtension); got != "request-extension" {
		t.Errorf("actionPath = %q", got)
	}
}

func TestCaseFileNoticeKinds(t *testing.T) {
	want := map[string]string{"acceptance": "accepted", "rejection": "rejected", "reply": "replied"}
	if len(noticeEvent) != len(want) || len(noticeKinds) != len(want) {
		t.Fatalf("notice kinds %v", noticeEvent)
	}
	for k, e := range want {
		if noticeEvent[k] != e {
			t.Errorf("%s → %s, want %s", k, noticeEvent[k], e)
		}
	}
	evs := []workflows.Event{{Seq: 1, Type: "registered"}, {Seq: 2, Type: "accepted"}, {Seq: 3, Type: "reassigned"}}
	if got := noticeLinks(evs); strings.Join(got, ",") != "acceptance" {
		t.Errorf("links %v", got)
	}
	if e := lastEvent(evs, "accepted"); e == nil || e.Seq != 2 {
		t.Errorf("lastEvent %v", e)
	}
	if lastEvent(evs, "replied") != nil {
		t.Error("no reply yet")
	}
	if got := noticeLastDay(time.Date(2026, 12, 12, 0, 0, 0, 0, cfZone), cfZone); got != "2026年12月11日" {
		t.Errorf("last day of a 24:00 deadline: %s", got)
	}
	if got := noticeLastDay(time.Date(2026, 3, 12, 17, 30, 0, 0, cfZone), cfZone); got != "2026年3月12日" {
		t.Errorf("last day: %s", got)
	}
	if got := noticeAddressee(caseRow{}); got != "信访人" {
		t.Errorf("withheld addressee %q", got)
	}
	if got := noticeAddressee(caseRow{GroupSize: 7, Petitioners: []petitioner{{Name: "张三"}, {Name: "李四"}}}); got != "张三、李四等7人" {
		t.Errorf("group addressee %q", got)
	}
}

func TestCaseFileStepRows(t *testing.T) {
	steps := []calendar.Step{{Kind: calendar.StepStart, Date: "2026-04-30"}}
	for _, d := range []string{"2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05"} {
		steps = append(steps, calendar.Step{Kind: calendar.StepHoliday, Date: d, Note: "劳动节"})
	}
	for _, d := range []string{"2026-05-06", "2026-05-07", "2026-05-08"} {
		steps = append(steps, calendar.Step{Kind: calendar.StepCounted, Date: d})
	}
	steps = append(steps, calendar.Step{Kind: calendar.StepMakeUpWorkday, Date: "2026-05-09"},
		calendar.Step{Kind: calendar.StepWeekend, Date: "2026-05-10"})
	for _, d := range []string{"2026-05-11", "2026-05-12", "2026-05-13", "2026-05-14", "2026-05-15"} {
		steps = append(steps, calendar.Step{Kind: calendar.StepCounted, Date: d, Note: "day " + d})
	}
	steps = append(steps, calendar.Step{Kind: calendar.StepDue, Date: "2026-05-15"})
	rows := cfStepRows(steps, cfZone)
	// start, 5 holidays, 3 counted (too few to merge), makeup, weekend, 1 merged run, due.
	if len(rows) != 1+5+3+1+1+1+1 {
		t.Fatalf("%d rows: %+v", len(rows), rows)
	}
	skipped := 0
	for _, r := range rows {
		if r.Skipped {
			skipped++
		}
	}
	if skipped != 6 {
		t.Errorf("skipped rows %d, want every holiday and the weekend (6)", skipped)
	}
	run := rows[len(rows)-2]
	if run.Count != 5 || run.Date.Format(time.DateOnly) != "2026-05-11" || run.To.Format(time.DateOnly) != "2026-05-15" ||
		run.Note != "day 2026-05-15" {
		t.Errorf("merged run %+v", run)
	}
}

// templateKeys are the literal message keys ($.T "key", $.Tf "key") of a template.
var templateKeys = regexp.MustCompile(`\.Tf? "([^"]+)"`)

func TestCaseFileMessageKeysExist(t *testing.T) {
	for _, name := range []string{"templates/casefile.html", "templates/notice.html", "templates/public.html"} {
		b, err := fs.ReadFile(templateFS, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range templateKeys.FindAllStringSubmatch(string(b), -1) {
			if _, ok := messages[m[1]]; !ok {
				t.Errorf("%s: message %q is not defined", name, m[1])
			}
		}
	}
	// Keys made up in code.
	var keys []string
	for _, a := range staffActions {
		keys = append(keys, "act.done."+a)
	}
	for _, f := range []string{"days", "approved", "new_due_at", "served_at", "report_due", "reached"} {
		keys = append(keys, "act.f."+f)
	}
	for _, k := range cfDetailOrder {
		keys = append(keys, "case.d."+k)
	}
	for _, u := range []calendar.Unit{calendar.Seconds, calendar.CalendarDays, calendar.WorkingDays, calendar.Months} {
		keys = append(keys, "case.unit."+string(u))
	}
	for _, k := range noticeKinds {
		keys = append(keys, "notice."+k+".title", "notice.none."+k)
	}
	for _, a := range publicActionNames {
		keys = append(keys, "pub.done."+a)
	}
	keys = append(keys, "notice.intro", "notice.acceptance.body", "notice.acceptance.due", "notice.acceptance.query",
		"notice.hereby", "notice.rejection.body", "notice.rejection.where", "notice.reply.body", "notice.reply.evaluate",
		"notice.reply.review", "notice.reply.window", "notice.reply.hereby", "notice.no", "notice.petitioner", "notice.and_others")
	// Every label and hint of every form.
	c := &Console{cfg: Config{Zone: cfZone}}
	v := &view{c: c, r: httptest.NewRequest("GET", "/", nil), Lang: labels.Chinese, unitNames: map[string]string{}, staffNames: map[string]string{}}
	now := cfNow{Stage: "handling", PendingExtension: &workflows.ExtensionRequest{Days: 10}}
	for _, dir := range []cfDirectory{{}, {Units: []unit{{Code: "x", Name: "X"}}, Handlers: []cfStaff{{ID: "h"}}, Leaders: []cfStaff{{ID: "l"}}}} {
		for _, f := range c.actionForms(v, staffActions, now, dir) {
			for _, fld := range f.Fields {
				keys = append(keys, fld.Label)
				if fld.Hint != "" {
					keys = append(keys, fld.Hint)
				}
			}
		}
	}
	for _, k := range keys {
		m, ok := messages[k]
		if !ok {
			t.Errorf("message %q is not defined", k)
		} else if m[0] == "" || m[1] == "" {
			t.Errorf("message %q lacks a language", k)
		}
	}
}

// ---- the pages against a fake API ----

type cfFakeAPI struct {
	mu        sync.Mutex
	me        staffMember
	file      caseFile
	events    []workflows.Event
	status    int // of actions
	calls     []*http.Request
	bodies    []string
	public    int // status of public reads
	publicMay []string
}

func (f *cfFakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	f.calls, f.bodies = append(f.calls, r), append(f.bodies, string(body))
	js := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	p := r.URL.Path
	switch {
	case p == "/api/v1/auth/me":
		js(200, map[string]any{"staff": f.me, "permissions": []string{"read cases"}})
	case p == "/api/v1/units":
		js(200, map[string]any{"units": []unit{{Code: "construction", Name: "区住房和城乡建设局"}, {Code: "health", Name: "区卫生健康局"}}})
	case p == "/api/v1/staff":
		all := []cfStaff{{ID: "handler.construction", Name: "陈工", Role: "handler", Unit: "construction"},
			{ID: "handler.health", Name: "刘医", Role: "handler", Unit: "health"},
			{ID: "leader.construction", Name: "孙局", Role: "leader", Unit: "construction"}}
		var out []cfStaff
		for _, s := range all {
			if r.URL.Query().Get("role") == "" || s.Role == r.URL.Query().Get("role") {
				out = append(out, s)
			}
		}
		js(200, map[string]any{"staff": out})
	case p == "/api/v1/petitions/2026-000001":
		w.Header().Set("ETag", `"7"`)
		js(200, f.file)
	case p == "/api/v1/petitions/2026-000001/events":
		js(200, map[string]any{"events": f.events})
	case strings.HasPrefix(p, "/api/v1/petitions/2026-000001/"):
		if f.status != 200 {
			js(f.status, map[string]any{"error": "the case changed", "fields": map[string]string{"reason": "is required"}})
			return
		}
		js(200, f.file.State)
	case strings.HasPrefix(p, "/api/v1/public/petitions/"):
		if r.Header.Get("X-Query-Code") != "12345678" {
			js(404, map[string]any{"error": "a case with this number and query code was not found"})
			return
		}
		if f.public != 0 {
			w.Header().Set("Retry-After", "6")
			js(f.public, map[string]any{"error": "too many requests"})
			return
		}
		js(200, map[string]any{"case_no": "2026-000001", "stage": "replied", "received_at": "2026-03-02T09:00:00+08:00",
			"replied_at": "2026-03-20T10:00:00+08:00", "due_at": "2026-04-20T00:00:00+08:00", "may": f.publicMay,
			"replies": []map[string]any{{"type": "replied", "at": "2026-03-20T10:00:00+08:00", "opinion": "已督促支付工资。"}}})
	default:
		js(404, map[string]any{"error": "no such route"})
	}
}

func cfSample() *cfFakeAPI {
	received := time.Date(2026, 3, 2, 9, 0, 0, 0, cfZone)
	accepted := time.Date(2026, 3, 5, 10, 0, 0, 0, cfZone)
	due := time.Date(2026, 4, 4, 0, 0, 0, 0, cfZone)
	dl := &workflows.Deadline{Clock: workflows.ClockHandling, Start: accepted, Due: due,
		Explanation: calendar.Explanation{Rule: "30 calendar days from 2026-03-05", Period: calendar.Period{Amount: 30, Unit: calendar.CalendarDays},
			Steps: []calendar.Step{{Kind: calendar.StepStart, Date: "2026-03-05"}, {Kind: calendar.StepWeekend, Date: "2026-03-07", Note: "Saturday"},
				{Kind: calendar.StepDue, Date: "2026-04-03", Note: "due at 24:00"}}}}
	state := &workflows.CaseState{CaseNo: "2026-000001", Stage: workflows.StageHandling, Unit: "construction", SuggestedUnit: "construction",
		Handler: "handler.construction", Deadline: dl, Overdue: true, EscalationLevel: 2, ReceivedAt: received, AcceptedAt: &accepted, Seq: 7,
		PendingExtension: &workflows.ExtensionRequest{Days: 15, Reason: "需要现场核查", RequestedBy: workflows.Actor{ID: "handler.construction", Name: "陈工"}}}
	return &cfFakeAPI{
		me: staffMember{ID: "supervisor.zhao", Name: "赵强", Role: "supervisor", Unit: "petition_office"},
		file: caseFile{Case: caseRow{CaseNo: "2026-000001", Channel: "letter", Category: "appeal", Topic: "拖欠工资",
			Content: "某工地拖欠工资。\n共计12万元。", GroupSize: 1, Stage: "handling", ReceivedAt: received, RegisteredAt: received,
			Petitioners: []petitioner{{Name: "张德明", Phone: "13900001111"}}, Seq: 6},
			State: state, Source: "workflow", AllowedActions: cfDashed(append(append([]string{}, staffActions...), "evaluate"))},
		events: []workflows.Event{
			{Seq: 1, Type: "registered", At: received, Actor: workflows.Actor{ID: "clerk.li", Name: "李娜", Role: "clerk", Unit: "petition_office"},
				Details: map[string]any{"channel": "letter", "due": "2026-03-18T00:00:00+08:00"}},
			{Seq: 2, Type: "accepted", At: accepted, Actor: workflows.Actor{ID: "clerk.li", Name: "李娜", Role: "clerk", Unit: "petition_office"},
				Details: map[string]any{"unit": "construction", "handler": "handler.construction", "due": "2026-04-04T00:00:00+08:00"}},
			{Seq: 3, Type: "escalated", At: due.Add(time.Hour), Actor: workflows.Actor{ID: "system", Role: "system"},
				Details: map[string]any{"level": 2.0, "clock": "handling"}},
		},
		status: 200,
	}
}

// cfDashed: the API lists actions by their URL names.
func cfDashed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = actionPath(n)
	}
	return out
}

func cfConsole(t *testing.T, api http.Handler) *Console {
	t.Helper()
	c, err := New(Config{API: api, Office: "某区信访局", Zone: cfZone, TemporalUI: "http://127.0.0.1:8233/", Namespace: "petitions"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func cfGet(c *Console, target string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", target, nil)
	r.AddCookie(&http.Cookie{Name: cookieCSRF, Value: "tok"})
	w := httptest.NewRecorder()
	c.ServeHTTP(w, r)
	return w
}

func cfPost(c *Console, target string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: cookieCSRF, Value: "tok"})
	w := httptest.NewRecorder()
	c.ServeHTTP(w, r)
	return w
}

var (
	cfInputs = regexp.MustCompile(`<(?:input|select|textarea)\b[^>]*>`)
	cfID     = regexp.MustCompile(`\bid="([^"]+)"`)
)

// cfCheckLabels: every visible input of a page has a <label for>.
func cfCheckLabels(t *testing.T, page string) {
	t.Helper()
	for _, in := range cfInputs.FindAllString(page, -1) {
		if strings.Contains(in, `type="hidden"`) {
			continue
		}
		m := cfID.FindStringSubmatch(in)
		if m == nil {
			t.Errorf("input without id: %s", in)
			continue
		}
		if !strings.Contains(page, `for="`+m[1]+`"`) {
			t.Errorf("input %s has no label", m[1])
		}
	}
}

func TestCaseFilePage(t *testing.T) {
	api := cfSample()
	c := cfConsole(t, api)
	w := cfGet(c, "/cases/2026-000001")
	page := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, page)
	}
	for _, want := range []string{`id="timeline"`, `id="clock"`, `id="notice-acceptance"`, `id="temporal-link"`,
		`href="http://127.0.0.1:8233/namespaces/petitions/workflows/petition-2026-000001"`,
		`name="seq" value="7"`, "张德明", "陈工", "区住房和城乡建设局", "督办2级", "休息日，不计", "需要现场核查", "30 calendar days from 2026-03-05"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, a := range staffActions {
		for _, id := range []string{`id="act-` + a + `"`, `id="act-` + a + `-submit"`} {
			if !strings.Contains(page, id) {
				t.Errorf("page lacks %s", id)
			}
		}
	}
	if strings.Contains(page, "act-evaluate") || strings.Contains(page, "notice-reply") {
		t.Error("a petitioner's action or a notice that does not exist is shown")
	}
	cfCheckLabels(t, page)

	// Not a supervisor: no Web UI link. Register copy: no actions.
	api.me = staffMember{ID: "clerk.li", Name: "李娜", Role: "clerk", Unit: "petition_office"}
	api.file.State, api.file.Source, api.file.StateError = nil, "register", "the workflow service is unavailable"
	page = cfGet(c, "/cases/2026-000001").Body.String()
	if strings.Contains(page, "temporal-link") || strings.Contains(page, `id="act-`) || !strings.Contains(page, `id="state-error"`) {
		t.Error("register copy: expected the state error, no actions and no Web UI link")
	}

	// Missing allowed_actions: none.
	api.file.State, api.file.Source, api.file.AllowedActions = cfSample().file.State, "workflow", nil
	page = cfGet(c, "/cases/2026-000001").Body.String()
	if strings.Contains(page, `id="act-`) || !strings.Contains(page, `id="no-actions"`) {
		t.Error("without allowed_actions no form is shown")
	}

	// Outside the reader's scope (the API's 404): 404, nothing of the case.
	w = cfGet(c, "/cases/2026-009999")
	if w.Code != 404 || strings.Contains(w.Body.String(), "张德明") {
		t.Errorf("unknown case: %d", w.Code)
	}
}

func TestCaseFileAction(t *testing.T) {
	api := cfSample()
	c := cfConsole(t, api)
	form := url.Values{"csrf": {"tok"}, "key": {"console-k1"}, "seq": {"7"}, "days": {"15"}, "reason": {"需要现场核查"}}
	w := cfPost(c, "/cases/2026-000001/actions/request_extension", form)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/cases/2026-000001" {
		t.Fatalf("status %d location %q", w.Code, w.Header().Get("Location"))
	}
	last := api.calls[len(api.calls)-1]
	if last.URL.Path != "/api/v1/petitions/2026-000001/request-extension" || last.Method != "POST" ||
		last.Header.Get("Idempotency-Key") != "console-k1" || last.Header.Get("If-Match") != `"7"` ||
		last.Header.Get("X-CSRF-Token") != "tok" {
		t.Errorf("API call %s %s %v", last.Method, last.URL.Path, last.Header)
	}
	if got := api.bodies[len(api.bodies)-1]; got != `{"reason":"需要现场核查","days":15}` {
		t.Errorf("body %s", got)
	}
	if fl := cfFlash(w); fl == nil || fl.Kind != "ok" || !strings.Contains(fl.Text, "延期申请已提交") {
		t.Errorf("flash %+v", fl)
	}

	api.status = http.StatusPreconditionFailed
	w = cfPost(c, "/cases/2026-000001/actions/request_extension", form)
	if fl := cfFlash(w); w.Code != http.StatusSeeOther || fl == nil || fl.Kind != "error" || !strings.Contains(fl.Text, "已有新的变化") {
		t.Errorf("stale: %d %+v", w.Code, fl)
	}
	api.status = http.StatusUnprocessableEntity
	w = cfPost(c, "/cases/2026-000001/actions/request_extension", form)
	if fl := cfFlash(w); fl == nil || fl.Kind != "error" || !strings.HasPrefix(fl.Text, "未能办理：") || !strings.Contains(fl.Text, "the case changed") {
		t.Errorf("refused: %+v", fl)
	}

	// Client mistakes are never 500s, and reach no API action.
	n := len(api.calls)
	for _, tc := range []struct {
		target string
		form   url.Values
		status int
	}{
		{"/cases/2026-000001/actions/evaluate", form, 404},
		{"/cases/2026-000001/actions/request_extension", url.Values{"csrf": {"wrong"}, "key": {"k"}, "seq": {"7"}}, 403},
		{"/cases/2026-000001/actions/request_extension", url.Values{"csrf": {"tok"}, "key": {"k"}, "seq": {"7"}, "days": {"x"}}, 303},
		{"/cases/2026-000001/actions/request_extension", url.Values{"csrf": {"tok"}, "key": {"k"}, "seq": {"seven"}}, 303},
	} {
		w := cfPost(c, tc.target, tc.form)
		if w.Code != tc.status {
			t.Errorf("%s %v: %d, want %d", tc.target, tc.form, w.Code, tc.status)
		}
	}
	for _, r := range api.calls[n:] {
		if r.Method == "POST" {
			t.Errorf("a refused form reached the API: %s", r.URL.Path)
		}
	}
}

func cfFlash(w *httptest.ResponseRecorder) *flash {
	r := &http.Request{Header: http.Header{"Cookie": w.Header().Values("Set-Cookie")}}
	return takeFlash(httptest.NewRecorder(), r)
}

func TestCaseFileNotices(t *testing.T) {
	api := cfSample()
	c := cfConsole(t, api)
	w := cfGet(c, "/cases/2026-000001/notices/acceptance")
	page := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, page)
	}
	for _, want := range []string{"受理告知书", "某区信访局", "张德明", "2026年3月2日", "拖欠工资", "2026年3月5日", "区住房和城乡建设局",
		"办理期限至2026年4月3日", "查询码", "data-print", `class="notice"`} {
		if !strings.Contains(page, want) {
			t.Errorf("acceptance notice lacks %s", want)
		}
	}
	if w := cfGet(c, "/cases/2026-000001/notices/reply"); w.Code != 404 || !strings.Contains(w.Body.String(), "尚未答复") {
		t.Errorf("reply before the reply: %d", w.Code)
	}
	if w := cfGet(c, "/cases/2026-000001/notices/receipt"); w.Code != 404 {
		t.Errorf("unknown kind: %d", w.Code)
	}
	api.events = append(api.events, workflows.Event{Seq: 4, Type: "replied", At: time.Date(2026, 3, 20, 10, 0, 0, 0, cfZone),
		Actor: workflows.Actor{ID: "handler.construction", Name: "陈工", Role: "handler", Unit: "construction"}, Details: map[string]any{"opinion": "已督促支付工资。"}})
	api.file.Case.Petitioners = nil // withheld
	page = cfGet(c, "/cases/2026-000001/notices/reply").Body.String()
	for _, want := range []string{"答复意见书", "信访人：", "已督促支付工资。", "30日内", "复查", "2026年3月20日"} {
		if !strings.Contains(page, want) {
			t.Errorf("reply notice lacks %s", want)
		}
	}
}

func TestCaseFilePublic(t *testing.T) {
	api := cfSample()
	api.publicMay = []string{"evaluate", "request-review"}
	c := cfConsole(t, api)
	w := cfGet(c, "/query")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `id="pub-query"`) {
		t.Fatalf("query form: %d", w.Code)
	}
	w = cfPost(c, "/query", url.Values{"no": {"2026-000001"}, "code": {"00000000"}})
	if w.Code != 404 || !strings.Contains(w.Body.String(), "编号或查询码不正确") {
		t.Errorf("wrong code: %d", w.Code)
	}
	w = cfPost(c, "/query", url.Values{"no": {"2026-000001"}, "code": {"12345678"}})
	page := w.Body.String()
	if w.Code != 200 || !strings.Contains(page, `id="pub-evaluate"`) || !strings.Contains(page, `id="pub-request-review-submit"`) ||
		!strings.Contains(page, "已督促支付工资。") || strings.Contains(page, "pub-withdraw") {
		t.Errorf("view: %d %s", w.Code, page)
	}
	cfCheckLabels(t, page)
	last := api.calls[len(api.calls)-1]
	if last.Header.Get("X-Query-Code") != "12345678" || strings.Contains(last.URL.String(), "12345678") {
		t.Errorf("the code travels in the header only: %s %v", last.URL, last.Header)
	}

	w = cfPost(c, "/query/actions/evaluate", url.Values{"no": {"2026-000001"}, "code": {"12345678"}, "key": {"console-p1"}, "evaluation": {"satisfied"}})
	last = api.calls[len(api.calls)-1]
	if w.Code != 200 || last.URL.Path != "/api/v1/public/petitions/2026-000001/evaluate" || last.Header.Get("Idempotency-Key") != "console-p1" ||
		api.bodies[len(api.bodies)-1] != `{"evaluation":"satisfied"}` || !strings.Contains(w.Body.String(), "评价已提交") {
		t.Errorf("evaluate: %d %s %s", w.Code, last.URL.Path, api.bodies[len(api.bodies)-1])
	}

	api.public = http.StatusTooManyRequests
	w = cfPost(c, "/query", url.Values{"no": {"2026-000001"}, "code": {"12345678"}})
	if w.Code != 429 || !strings.Contains(w.Body.String(), "查询过于频繁") {
		t.Errorf("rate limit: %d", w.Code)
	}
	if w := cfPost(c, "/query", url.Values{"no": {""}}); w.Code != 400 {
		t.Errorf("empty form: %d", w.Code)
	}
}
