package console

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/petitions/petitions/workflows"
)

// scFakeAPI answers the screening and list endpoints and the reader's permissions; the rest
// is cfFakeAPI's.
type scFakeAPI struct {
	*cfFakeAPI
	mu      sync.Mutex
	perms   []string
	missing bool // no round this month
	closed  bool
	file    int               // status of a filing
	fields  map[string]string // its field errors
	posts   []*http.Request
	bodies  []string
	lists   []url.Values
}

func (f *scFakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	js := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	at := func(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, cfZone) }
	f.mu.Lock()
	defer f.mu.Unlock()
	switch p := r.URL.Path; {
	case p == "/api/v1/auth/me":
		js(200, map[string]any{"staff": f.me, "permissions": f.perms})
	case p == "/api/v1/screening/rounds":
		js(200, map[string]any{"rounds": []map[string]any{{"month": "2026-11"}, {"month": "2026-10"}}})
	case p == "/api/v1/screening/rounds/2026-11", p == "/api/v1/screening/rounds/"+time.Now().In(cfZone).Format("2006-01"):
		if f.missing {
			js(404, map[string]any{"error": "screening round 2026-11 not found"})
			return
		}
		round := map[string]any{"month": "2026-11", "opened_at": at(1, 9), "due_at": at(6, 0), "closes_at": at(11, 0),
			"units": 5, "filed": 1, "zero": 1, "pending": 2, "missed": 1, "overdue": 1, "disputes": 2}
		if f.closed {
			round["closed_at"] = at(11, 0)
		}
		filed, zero := at(3, 10), at(4, 16)
		js(200, map[string]any{"round": round,
			"reports": []map[string]any{
				{"unit": "construction", "unit_name": "区住房和城乡建设局", "status": "filed", "filed_at": filed, "filed_by": "handler.construction", "filed_by_name": "陈工", "disputes": 2},
				{"unit": "health", "unit_name": "区卫生健康局", "status": "zero", "filed_at": zero, "filed_by": "head.health", "late": true, "escalation_level": 1},
				{"unit": "land", "unit_name": "区自然资源局", "status": "pending", "overdue": true, "escalation_level": 2},
				{"unit": "civil_affairs", "unit_name": "区民政局", "status": "missed", "escalation_level": 3},
				{"unit": "education", "unit_name": "区教育局", "status": "pending"},
			},
			"disputes": []map[string]any{
				{"id": 1, "unit": "construction", "item": 1, "kind": "dispute", "summary": "工地欠薪纠纷", "leader": "孙局", "plan": "约谈施工方", "time_limit": "2026-11-30", "case_no": "2026-000042"},
				{"id": 2, "unit": "construction", "item": 2, "kind": "petition_sign", "summary": "拆迁安置苗头", "leader": "孙局", "plan": "入户走访", "time_limit": "2026-12-15"},
			}})
	case p == "/api/v1/screening/rounds/2026-11/reports":
		b, _ := io.ReadAll(r.Body)
		f.posts, f.bodies = append(f.posts, r), append(f.bodies, string(b))
		if f.file != 200 {
			js(f.file, map[string]any{"error": "the report is not complete", "fields": f.fields})
			return
		}
		js(200, map[string]any{"month": "2026-11"})
	case p == "/api/v1/screening/rounds/2026-11/ledger.csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="screening-2026-11.csv"`)
		_, _ = io.WriteString(w, "\ufeff月份,单位\n2026-11,区住房和城乡建设局\n")
	case p == "/api/v1/petitions":
		f.lists = append(f.lists, r.URL.Query())
		if r.URL.Query().Get("warning") == "group" {
			js(200, map[string]any{"cases": []caseRow{{CaseNo: "2026-000007", Topic: "工地欠薪集体访", Category: "appeal", Stage: "registered", GroupSize: 6}}, "count": 1})
			return
		}
		js(200, map[string]any{"cases": []caseRow{}, "count": 0})
	default:
		f.cfFakeAPI.ServeHTTP(w, r)
	}
}

func scSample() *scFakeAPI {
	api := &scFakeAPI{cfFakeAPI: cfSample(), file: 200,
		perms: []string{permReadCases, permScreeningFile, permScreeningRead}}
	api.cfFakeAPI.me = staffMember{ID: "handler.land", Name: "周工", Role: "handler", Unit: "land"}
	return api
}

func TestScreeningPage(t *testing.T) {
	api := scSample()
	c := cfConsole(t, api)
	w := cfGet(c, "/screening?month=2026-11")
	page := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, page)
	}
	for _, want := range []string{
		"2026年11月矛盾纠纷排查", `id="sc-round"`, "报送中", "2026年11月5日 24:00",
		// each unit: filed, zero, pending and late with its level, missed; when and by whom
		`id="sc-unit-construction" data-status="filed"`, "已报送", "2026年11月3日 10:00", "陈工",
		`id="sc-unit-health" data-status="zero"`, "零报告", "逾期报送", "督办1级",
		`id="sc-unit-land" data-status="pending" class="overdue"`, "未报送", "已逾期", "督办2级",
		`id="sc-unit-civil_affairs" data-status="missed" class="overdue"`, "逾期未报", "督办3级",
		// the lines, one of them made a case; the ledger
		"工地欠薪纠纷", "信访苗头", "入户走访", `href="/cases/2026-000042"`,
		`href="/screening/2026-11/ledger/csv"`, `href="/screening/2026-11/ledger/xlsx"`,
		// other months; the navigation
		`href="/screening?month=2026-10"`, `id="nav-screening"`, `id="nav-warnings"`,
		// the form: zero or lines, for the reader's unit first among those not filed
		`id="sc-form"`, `id="sc-mode-zero"`, `id="sc-kind-0"`, `id="sc-summary-2"`, `id="sc-time_limit-2"`, `id="sc-more"`,
		`<option value="land" selected>区自然资源局</option>`, `<option value="education">区教育局</option>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, `<option value="construction"`) {
		t.Error("a unit that filed is offered in the form")
	}
	cfCheckLabels(t, page)

	// Without the filing permission (the petition office): the round, no form.
	api.perms = []string{permReadCases, permScreeningRead}
	page = cfGet(c, "/screening?month=2026-11").Body.String()
	if strings.Contains(page, `id="sc-form"`) || !strings.Contains(page, `id="sc-units"`) {
		t.Error("a reader who may not file gets the form, or no round")
	}
	// A closed round takes no report.
	api.perms, api.closed = []string{permReadCases, permScreeningRead, permScreeningFile}, true
	page = cfGet(c, "/screening?month=2026-11").Body.String()
	if strings.Contains(page, `id="sc-form"`) || !strings.Contains(page, "本轮排查已结束") || !strings.Contains(page, `id="sc-closed"`) {
		t.Error("a closed round offers the form")
	}
	api.closed = false
	// No round yet; the current month by default.
	api.missing = true
	page = cfGet(c, "/screening").Body.String()
	if !strings.Contains(page, `id="sc-missing"`) || strings.Contains(page, `id="sc-form"`) {
		t.Error("a month without a round")
	}
	api.missing = false
	if w := cfGet(c, "/screening?month=2026-13"); w.Code != 400 {
		t.Errorf("bad month: %d", w.Code)
	}
	// Not a reader of rounds: no link in the navigation.
	api.perms = []string{permReadCases}
	if page := cfGet(c, "/cases/2026-000001").Body.String(); strings.Contains(page, `id="nav-screening"`) || !strings.Contains(page, `id="nav-warnings"`) {
		t.Error("navigation does not follow the permissions")
	}
}

func TestScreeningFiling(t *testing.T) {
	api := scSample()
	c := cfConsole(t, api)
	base := url.Values{"csrf": {"tok"}, "key": {"console-s1"}, "unit": {"land"}, "rows": {"4"}}
	with := func(kv ...string) url.Values {
		f := url.Values{}
		for k, v := range base {
			f[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}

	// A zero report.
	w := cfPost(c, "/screening/2026-11/reports", with("mode", "zero", "summary-0", "ignored"))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/screening?month=2026-11" {
		t.Fatalf("zero: %d %s", w.Code, w.Header().Get("Location"))
	}
	if fl := cfFlash(w); fl == nil || fl.Kind != "ok" || !strings.Contains(fl.Text, "零报告已报送") {
		t.Errorf("zero flash %+v", fl)
	}
	last := api.posts[len(api.posts)-1]
	if api.bodies[len(api.bodies)-1] != `{"note":"","unit":"land","zero":true}` || last.Header.Get("Idempotency-Key") != "console-s1" ||
		last.Header.Get("X-CSRF-Token") != "tok" {
		t.Errorf("zero: %s %v", api.bodies[len(api.bodies)-1], last.Header)
	}

	// Lines: empty lines are left out.
	w = cfPost(c, "/screening/2026-11/reports", with("mode", "lines", "note", " 本月重点 ",
		"kind-0", "dispute", "summary-0", "征地补偿纠纷", "leader-0", "钱局", "plan-0", "召开协调会", "time_limit-0", "2026-11-30",
		"kind-2", "petition_sign", "summary-2", "宅基地边界苗头", "leader-2", "孙局", "plan-2", "入户调解", "time_limit-2", "2026-12-10"))
	if w.Code != http.StatusSeeOther {
		t.Fatalf("lines: %d %s", w.Code, w.Body)
	}
	var sent struct {
		Unit     string                       `json:"unit"`
		Zero     bool                         `json:"zero"`
		Note     string                       `json:"note"`
		Disputes []workflows.ScreeningDispute `json:"disputes"`
	}
	if err := json.Unmarshal([]byte(api.bodies[len(api.bodies)-1]), &sent); err != nil {
		t.Fatal(err)
	}
	if sent.Unit != "land" || sent.Zero || sent.Note != "本月重点" || len(sent.Disputes) != 2 ||
		sent.Disputes[1] != (workflows.ScreeningDispute{Kind: "petition_sign", Summary: "宅基地边界苗头", Leader: "孙局", Plan: "入户调解", TimeLimit: "2026-12-10"}) {
		t.Errorf("lines sent: %+v", sent)
	}
	if fl := cfFlash(w); fl == nil || !strings.Contains(fl.Text, "排查表已报送") {
		t.Errorf("lines flash %+v", fl)
	}

	// Refused: the form again, as typed, the complaint at its line (the second sent is the third row).
	api.file, api.fields = http.StatusBadRequest, map[string]string{"disputes[1]": "time_limit must be a date, e.g. 2026-06-30", "note": "too long"}
	w = cfPost(c, "/screening/2026-11/reports", with("mode", "lines",
		"kind-0", "dispute", "summary-0", "征地补偿纠纷", "leader-0", "钱局", "plan-0", "召开协调会", "time_limit-0", "2026-11-30",
		"kind-2", "petition_sign", "summary-2", "宅基地边界苗头", "leader-2", "孙局", "plan-2", "入户调解"))
	page := w.Body.String()
	if w.Code != http.StatusBadRequest {
		t.Fatalf("refused: %d", w.Code)
	}
	for _, want := range []string{`id="sc-errors"`, "the report is not complete", `id="sc-line-2-error"`, "time_limit must be a date",
		"note：too long", "宅基地边界苗头", `value="console-s1"`, `<option value="petition_sign" selected>`} {
		if !strings.Contains(page, want) {
			t.Errorf("refused page lacks %s", want)
		}
	}
	if strings.Contains(page, `id="sc-line-0-error"`) {
		t.Error("the complaint landed on the wrong line")
	}
	cfCheckLabels(t, page)

	// Three more lines, what was typed kept, nothing filed.
	n := len(api.posts)
	w = cfPost(c, "/screening/2026-11/reports", with("more", "1", "summary-1", "山林权属纠纷"))
	page = w.Body.String()
	if w.Code != 200 || len(api.posts) != n || !strings.Contains(page, `id="sc-line-6"`) || strings.Contains(page, `id="sc-line-7"`) ||
		!strings.Contains(page, "山林权属纠纷") || !strings.Contains(page, `name="rows" value="7"`) {
		t.Errorf("more lines: %d, %d posts", w.Code, len(api.posts)-n)
	}
	// A form from elsewhere is refused before the API.
	if w := cfPost(c, "/screening/2026-11/reports", url.Values{"csrf": {"forged"}, "mode": {"zero"}}); w.Code != 403 || len(api.posts) != n {
		t.Errorf("forged form: %d", w.Code)
	}
	if w := cfPost(c, "/screening/2026-1/reports", with("mode", "zero")); w.Code != 400 || len(api.posts) != n {
		t.Errorf("bad month: %d", w.Code)
	}
}

func TestScreeningLedger(t *testing.T) {
	c := cfConsole(t, scSample())
	w := cfGet(c, "/screening/2026-11/ledger/csv")
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") ||
		!strings.Contains(w.Header().Get("Content-Disposition"), "screening-2026-11.csv") || !strings.Contains(w.Body.String(), "区住房和城乡建设局") {
		t.Errorf("ledger: %d %v", w.Code, w.Header())
	}
	for _, bad := range []string{"/screening/2026-11/ledger/pdf", "/screening/2026-11x/ledger/csv"} {
		if w := cfGet(c, bad); w.Code != 404 {
			t.Errorf("%s: %d", bad, w.Code)
		}
	}
}

func TestWarningsPage(t *testing.T) {
	api := scSample()
	c := cfConsole(t, api)
	w := cfGet(c, "/warnings")
	page := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, page)
	}
	for _, want := range []string{`id="warn-group"`, `id="warn-skip_level"`, `id="warn-repeat"`, `id="warn-open_cases"`, `id="warn-sensitive_date"`,
		"集体访", "越级访", "重复访", "多件在办", "敏感时期", "2026-000007", "工地欠薪集体访", `href="/cases?warning=group"`, `data-count="1"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	var rules []string
	for _, q := range api.lists {
		if q.Get("count") != "true" || q.Get("limit") != "10" {
			t.Errorf("list asked %v", q)
		}
		rules = append(rules, q.Get("warning"))
	}
	if len(rules) != 5 {
		t.Errorf("rules asked: %v", rules)
	}
	// The list page takes the rule as a filter, labelled.
	page = cfGet(c, "/cases?warning=group").Body.String()
	if !strings.Contains(page, `<option value="group" selected>集体访</option>`) {
		t.Error("the list page does not show the warning filter")
	}
	if q := api.lists[len(api.lists)-1]; q.Get("warning") != "group" {
		t.Errorf("list page asked %v", q)
	}
}
