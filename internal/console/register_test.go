package console

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func shanghai(t *testing.T) *time.Location {
	t.Helper()
	z, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func TestBuildRegistration(t *testing.T) {
	form := url.Values{
		"channel": {"visit"}, "category": {"appeal"}, "topic": {"违章建筑"}, "content": {"内容"},
		"location": {""}, "policy": {"default"}, "received_at": {"2026-05-01T09:30"}, "group_size": {""},
		"petitioners[0].name": {""}, "petitioners[0].id_number": {" "}, "petitioners[0].phone": {""},
		"petitioners[1].name": {"张秀英"}, "petitioners[1].phone": {"13700000000"},
		"petitioners[2].name": {""}, "petitioners[2].address": {""},
		"attachments[0].name": {""}, "attachments[0].ref": {""},
		"attachments[1].name": {"照片"}, "attachments[1].ref": {"A-12"},
		"petitioners[x].name": {"ignored"}, "csrf": {"t"},
	}
	b := buildRegistration(form, shanghai(t))
	if len(b.FormErrors) != 0 {
		t.Fatalf("form errors: %v", b.FormErrors)
	}
	r := b.Req
	if r.ReceivedAt != "2026-05-01T09:30:00+08:00" {
		t.Errorf("received_at = %q, want the office zone's RFC 3339", r.ReceivedAt)
	}
	if len(r.Petitioners) != 1 || r.Petitioners[0].Name != "张秀英" || r.Petitioners[0].Phone != "13700000000" {
		t.Errorf("petitioners = %+v", r.Petitioners)
	}
	if len(b.PetRows) != 1 || b.PetRows[0] != 1 {
		t.Errorf("petitioner rows = %v, want [1]", b.PetRows)
	}
	if len(r.Attachments) != 1 || r.Attachments[0] != (regAttach{Name: "照片", Ref: "A-12"}) || b.AttRows[0] != 1 {
		t.Errorf("attachments = %+v rows %v", r.Attachments, b.AttRows)
	}
	if r.GroupSize != nil {
		t.Errorf("group_size = %d, want absent", *r.GroupSize)
	}
	raw, _ := json.Marshal(r)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	for _, k := range []string{"group_size", "location"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s sent though empty: %s", k, raw)
		}
	}
	for _, k := range []string{"channel", "category", "topic", "content", "petitioners", "policy", "received_at", "attachments"} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s missing: %s", k, raw)
		}
	}

	// A group size is a number; every other value goes as typed for the API to judge.
	form.Set("group_size", "12")
	form.Set("received_at", "yesterday")
	b = buildRegistration(form, shanghai(t))
	if b.Req.GroupSize == nil || *b.Req.GroupSize != 12 || b.Req.ReceivedAt != "yesterday" {
		t.Errorf("group %v received %q", b.Req.GroupSize, b.Req.ReceivedAt)
	}
	form.Set("group_size", "many")
	if b = buildRegistration(form, shanghai(t)); b.FormErrors["group_size"] == "" {
		t.Error("a group size that is no number went to the API")
	}
	// No rows at all: an empty list, for the API to refuse.
	b = buildRegistration(url.Values{"topic": {"x"}}, shanghai(t))
	if b.Req.Petitioners == nil || len(b.Req.Petitioners) != 0 || b.Req.ReceivedAt != "" {
		t.Errorf("empty form: %+v", b.Req)
	}
}

func TestPlaceErrors(t *testing.T) {
	got := placeErrors(map[string]string{
		"topic":                    "is required",
		"petitioners[0].id_number": "bad checksum",
		"petitioners[1].name":      "is required",
		"attachments[0].name":      "is required",
		"petitioners":              "at least one",
		"Idempotency-Key":          "bad",
	}, []int{1, 2}, []int{3})
	want := map[string]string{
		"topic":                    "is required",
		"petitioners[1].id_number": "bad checksum",
		"petitioners[2].name":      "is required",
		"attachments[3].name":      "is required",
		"petitioners":              "at least one",
		"Idempotency-Key":          "bad",
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q want %q (all: %v)", k, got[k], v, got)
		}
	}
	for name, id := range map[string]string{
		"petitioners[0].name": "petitioners-0-name", "petitioners[12].id_number": "petitioners-12-id_number",
		"attachments[1].ref": "attachments-1-ref", "received_at": "received_at",
	} {
		if g := inputID(name); g != id {
			t.Errorf("inputID(%q) = %q, want %q", name, g, id)
		}
	}
	for name, target := range map[string]string{"petitioners[2].name": "petitioners-2-name", "petitioners": "fs-petitioners", "actor": "register-form"} {
		if g := summaryTarget(name); g != target {
			t.Errorf("summaryTarget(%q) = %q, want %q", name, g, target)
		}
	}
}

func TestCaseListQuery(t *testing.T) {
	in := url.Values{
		"q": {" 2026-000123 "}, "stage": {"handling"}, "unit": {""}, "overdue": {"true"},
		"handler": {"handler.construction"}, "due_before": {"2026-05-10"}, "escalation_level": {"2"},
		"registered_by": {"clerk.li"}, "leader": {"leader.city"}, "category": {"appeal"}, "channel": {"visit"},
		"limit": {"5000"}, "format": {"csv"}, "count": {"false"}, "cursor": {"abc"}, "evil": {"1"},
	}
	got := caseListQuery(in)
	want := url.Values{
		"q": {"2026-000123"}, "stage": {"handling"}, "overdue": {"true"}, "handler": {"handler.construction"},
		"due_before": {"2026-05-10"}, "escalation_level": {"2"}, "registered_by": {"clerk.li"},
		"leader": {"leader.city"}, "category": {"appeal"}, "channel": {"visit"},
	}
	if got.Encode() != want.Encode() {
		t.Errorf("forwarded %s\nwant      %s", got.Encode(), want.Encode())
	}
	// A lookup takes the row's inputs as the API's parameter names.
	lq := lookupParams(url.Values{"row": {"1"}, "petitioners[1].id_number": {"11010519491231002X"},
		"petitioners[1].name": {"张三"}, "petitioners[0].phone": {"1"}, "topic": {"t"}, "category": {""}})
	if lq.Encode() != (url.Values{"id_number": {"11010519491231002X"}, "name": {"张三"}, "topic": {"t"}}).Encode() {
		t.Errorf("lookup query %s", lq.Encode())
	}
}

func TestParseMonth(t *testing.T) {
	z := shanghai(t)
	// 2026-05-31 20:00 UTC is already June in Beijing.
	now := time.Date(2026, 5, 31, 20, 0, 0, 0, time.UTC)
	for in, want := range map[string]struct {
		month string
		ok    bool
	}{
		"": {"2026-06", true}, "2026-02": {"2026-02", true}, " 2025-12 ": {"2025-12", true},
		"2026-13": {"2026-06", false}, "2026-5": {"2026-06", false}, "May": {"2026-06", false}, "0000-01": {"2026-06", false},
	} {
		m, ok := parseMonth(in, now, z)
		if m.Format("2006-01") != want.month || ok != want.ok || m.Location() != z || m.Day() != 1 || m.Hour() != 0 {
			t.Errorf("parseMonth(%q) = %v %v, want %s %v", in, m, ok, want.month, want.ok)
		}
	}
	r := monthRange(time.Date(2026, 2, 1, 0, 0, 0, 0, z))
	if r.Get("from") != "2026-02-01" || r.Get("to") != "2026-02-28" {
		t.Errorf("month range %v", r)
	}
	rows, err := decodeMonthly([]byte(`{"rows":[{"unit":"health","unit_name":"区卫生健康局","on_time_rate":0.5}]}`))
	if err != nil || len(rows) != 1 || rows[0].Name() != "区卫生健康局" {
		t.Errorf("decodeMonthly: %v %v", rows, err)
	}
	if rows, err = decodeMonthly([]byte(`[{"unit":"land"}]`)); err != nil || len(rows) != 1 || rows[0].Name() != "land" {
		t.Errorf("decodeMonthly list: %v %v", rows, err)
	}
}

// Every word used by this file's templates and Go code exists in both languages.
func TestRegisterListStatsMessageKeysExist(t *testing.T) {
	lit := regexp.MustCompile(`\b(?:T|Tf)\s*\(?\s*"([a-zA-Z0-9_.]*[a-zA-Z0-9_])"`)
	var keys []string
	for _, f := range []string{"register.html", "receipt.html", "list.html", "stats.html"} {
		b, err := fs.ReadFile(templateFS, "templates/"+f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
	}
	for _, f := range []string{"register.go", "list.go", "stats.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
	}
	// Keys built at run time.
	for _, f := range append(append([]string{}, regTopFields...), "petitioners", "attachments") {
		keys = append(keys, "reg."+f)
	}
	for _, f := range petitionerFields {
		keys = append(keys, "reg.p."+f)
	}
	for _, f := range []string{"name", "ref", "content_type", "size"} {
		keys = append(keys, "reg.a."+f)
	}
	for _, k := range []string{"received", "closed", "on_time_rate", "satisfaction", "participation", "overdue_now", "count", "rate", "none"} {
		keys = append(keys, "stats."+k)
	}
	if len(keys) < 50 {
		t.Fatalf("only %d keys found: the pattern misses the templates", len(keys))
	}
	for _, k := range keys {
		m, ok := messages[k]
		if !ok {
			t.Errorf("message %q is used but not defined", k)
		} else if m[0] == "" || m[1] == "" {
			t.Errorf("message %q lacks a language", k)
		}
	}
}

// fakeAPI answers the API calls the pages make, as a clerk.
type fakeAPI struct {
	t     *testing.T
	posts []map[string]any
	keys  []string
	reply func(body map[string]any) (int, string)
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	q := r.URL.Query()
	switch r.URL.Path {
	case "/api/v1/auth/me":
		io.WriteString(w, `{"staff":{"id":"clerk.li","name":"李娜","role":"clerk","unit":"petition_office"},"permissions":[]}`)
	case "/api/v1/policies":
		io.WriteString(w, `{"policies":[{"name":"demo","allowed":false},{"name":"default","description":"标准时限","allowed":true},{"name":"fast","allowed":true}],"development_mode":false}`)
	case "/api/v1/units":
		io.WriteString(w, `{"units":[{"code":"construction","name":"区住房和城乡建设局"},{"code":"health","name":"区卫生健康局"}]}`)
	case "/api/v1/routing/suggestion":
		if strings.Contains(q.Get("topic"), "违章") {
			io.WriteString(w, `{"unit":"construction","unit_name":"区住房和城乡建设局"}`)
		} else {
			io.WriteString(w, `{"unit":null,"unit_name":""}`)
		}
	case "/api/v1/petitioners/lookup":
		if q.Get("id_number") == "bad" {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"validation failed","fields":{"id_number":"checksum does not match"}}`)
			return
		}
		io.WriteString(w, `{"cases":[{"case_no":"2026-000007","stage":"handling","category":"appeal","topic":"违章建筑","unit":"construction","registered_at":"2026-03-02T09:00:00+08:00"}],"repeat_of":"2026-000007"}`)
	case "/api/v1/petitions":
		if r.Method == http.MethodPost {
			var body map[string]any
			_ = json.NewDecoder(r.Body).Decode(&body)
			f.posts = append(f.posts, body)
			f.keys = append(f.keys, r.Header.Get("Idempotency-Key"))
			status, answer := f.reply(body)
			w.WriteHeader(status)
			io.WriteString(w, answer)
			return
		}
		if q.Get("format") == "csv" {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="cases.csv"`)
			io.WriteString(w, "编号\n"+q.Get("stage")+"\n")
			return
		}
		if q.Get("stage") == "nonsense" {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"validation failed","fields":{"stage":"must be one of registered, handling"}}`)
			return
		}
		io.WriteString(w, `{"cases":[{"case_no":"2026-000009","topic":"噪声扰民","category":"appeal","stage":"handling","unit":"health","group_size":1}],"next_cursor":"CUR1","count":51,"count_capped":false}`)
	case "/api/v1/stats":
		io.WriteString(w, `{"received":12,"by_channel":{"visit":7,"letter":5},"by_category":{"appeal":12},"accepted":10,"closed":4,"closed_on_time":3,"on_time_rate":0.75,"overdue_now":2,"evaluated":2,"satisfied":2,"satisfaction_rate":1,"participation_rate":0.5,"group_petitions":1,"repeat_petitions":3}`)
	case "/api/v1/reports/monthly":
		io.WriteString(w, `[{"month":"2026-05","unit":"health","unit_name":"区卫生健康局","received":3,"closed":2,"closed_on_time":1,"on_time_rate":0.5,"overdue_now":1,"satisfied":1,"evaluated":1,"answered":2,"participation_rate":0.5,"satisfaction_rate":1}]`)
	default:
		w.WriteHeader(404)
		io.WriteString(w, `{"error":"not found"}`)
	}
}

func newTestConsole(t *testing.T, api *fakeAPI) *Console {
	t.Helper()
	c, err := New(Config{API: api, Office: "某区信访局", Zone: shanghai(t)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func do(t *testing.T, c *Console, method, target string, form url.Values) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r.AddCookie(&http.Cookie{Name: cookieCSRF, Value: "tok"})
	w := httptest.NewRecorder()
	c.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

func wantIn(t *testing.T, page string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(page, p) {
			t.Errorf("page lacks %q", p)
		}
	}
}

func TestRegisterPages(t *testing.T) {
	api := &fakeAPI{t: t}
	c := newTestConsole(t, api)
	code, page := do(t, c, "GET", "/register", nil)
	if code != 200 {
		t.Fatalf("GET /register: %d %s", code, page)
	}
	wantIn(t, page, `id="register-form"`, `id="register-submit"`, `id="petitioners-2-name"`, `id="petitioners-0-id_number"`,
		`id="routing-suggestion"`, `id="repeat-warning"`, `id="attachments-1-ref"`, `<option value="default" selected>`,
		`name="idempotency_key" value="console-`, `hx-trigger="keyup changed delay:400ms"`)
	if strings.Contains(page, `value="demo"`) {
		t.Error("a policy the office does not allow is offered")
	}
	// Every input has a label.
	for _, m := range regexp.MustCompile(`<(?:input|select|textarea)[^>]*\sid="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if !strings.Contains(page, `for="`+m[1]+`"`) {
			t.Errorf("input %s has no label", m[1])
		}
	}

	_, frag := do(t, c, "GET", "/register/suggestion?topic=小区违章建筑&category=appeal", nil)
	wantIn(t, frag, "建议承办单位：区住房和城乡建设局")
	_, frag = do(t, c, "GET", "/register/suggestion?topic=别的", nil)
	wantIn(t, frag, "无匹配规则，受理时指定")
	_, frag = do(t, c, "GET", "/register/lookup?row=0&petitioners%5B0%5D.phone=137&topic=x", nil)
	wantIn(t, frag, "2026-000007", "重复信访", `role="alert"`)
	_, frag = do(t, c, "GET", "/register/lookup?id_number=bad", nil)
	wantIn(t, frag, "身份证号码有误", "checksum does not match")

	form := url.Values{"csrf": {"tok"}, "idempotency_key": {"console-k1"}, "channel": {"visit"}, "category": {"appeal"},
		"topic": {"违章建筑"}, "content": {"c"}, "received_at": {"2026-05-01T09:30"}, "policy": {"default"},
		"petitioners[0].name": {""}, "petitioners[1].name": {"张秀英"}, "petitioners[1].id_number": {"123"}}

	// The API's field errors come back next to the inputs, the form keeps its values.
	api.reply = func(map[string]any) (int, string) {
		return 400, `{"error":"validation failed","fields":{"petitioners[0].id_number":"is not a valid ID number","content":"is required"}}`
	}
	code, page = do(t, c, "POST", "/register", form)
	if code != 400 {
		t.Fatalf("status %d", code)
	}
	wantIn(t, page, `role="alert"`, `id="petitioners-1-id_number-error"`, "身份证号码有误", `href="#petitioners-1-id_number"`,
		`value="张秀英"`, `id="content-error"`, "必填", "建议承办单位")
	if api.keys[0] != "console-k1" || api.posts[0]["received_at"] != "2026-05-01T09:30:00+08:00" {
		t.Errorf("sent key %q body %v", api.keys[0], api.posts[0])
	}

	// A new case: the receipt with its query code, straight from the answer.
	api.reply = func(map[string]any) (int, string) {
		return 201, `{"case_no":"2026-000123","query_code":"K7P2QX9A","stage":"registered","group_petition":false,
			"deadlines":{"acceptance":{"due":"2026-05-18T23:59:59+08:00","explanation":"15 个工作日"}},
			"state":{"case_no":"2026-000123","stage":"registered","received_at":"2026-05-01T09:30:00+08:00","topic":"违章建筑"}}`
	}
	code, page = do(t, c, "POST", "/register", form)
	if code != 201 {
		t.Fatalf("receipt status %d", code)
	}
	wantIn(t, page, `id="receipt"`, `id="receipt-case-no" class="big">2026-000123<`, `id="receipt-query-code" class="big code">K7P2QX9A<`,
		"2026年5月18日", "2026年5月1日", "某区信访局", "data-print", "/query")

	// A repeat of an open case is linked to it.
	api.reply = func(map[string]any) (int, string) {
		return 200, `{"case_no":"2026-000007","stage":"handling","repeat_count":2,"linked_to":"2026-000007"}`
	}
	_, page = do(t, c, "POST", "/register", form)
	wantIn(t, page, "已并入在办事项 2026-000007", "累计重复信访 2 次")

	// Unconfirmed: the case number and code are shown, and the same key is kept for the retry.
	api.reply = func(map[string]any) (int, string) {
		return 503, `{"error":"the workflow service is unavailable","case_no":"2026-000124","query_code":"ZZ99","registered":"…"}`
	}
	code, page = do(t, c, "POST", "/register", form)
	wantIn(t, page, "2026-000124", "ZZ99", `value="console-k1"`, "the workflow service is unavailable")
	if code != 503 {
		t.Errorf("status %d", code)
	}
	api.reply = func(map[string]any) (int, string) {
		return 409, `{"error":"terminated","case_no":"2026-000001"}`
	}
	_, page = do(t, c, "POST", "/register", form)
	wantIn(t, page, "三级终结", "2026-000001")

	// A form from elsewhere is refused before the API sees it.
	n := len(api.posts)
	form.Set("csrf", "other")
	if code, _ = do(t, c, "POST", "/register", form); code != 403 || len(api.posts) != n {
		t.Errorf("bad CSRF: %d, %d posts", code, len(api.posts)-n)
	}
}

func TestListAndStatsPages(t *testing.T) {
	c := newTestConsole(t, &fakeAPI{t: t})
	code, page := do(t, c, "GET", "/cases?stage=handling&evil=1&q=", nil)
	if code != 200 {
		t.Fatalf("list: %d %s", code, page)
	}
	wantIn(t, page, `id="case-list"`, "2026-000009", "共 51 件", `id="export-csv" href="/cases/export/csv?stage=handling"`,
		`id="export-xlsx"`, "cursor=CUR1", `<option value="health" >区卫生健康局</option>`)
	code, page = do(t, c, "GET", "/cases?stage=nonsense", nil)
	if code != 400 || !strings.Contains(page, "must be one of") {
		t.Errorf("bad filter: %d", code)
	}
	code, page = do(t, c, "GET", "/cases/export/csv?stage=closed&evil=2", nil)
	if code != 200 || page != "编号\nclosed\n" {
		t.Errorf("export: %d %q", code, page)
	}
	code, page = do(t, c, "GET", "/stats?month=2026-05", nil)
	if code != 200 {
		t.Fatalf("stats: %d %s", code, page)
	}
	wantIn(t, page, `id="stats-figures"`, "75.0%", `id="chart-channel"`, `id="chart-trend"`, `id="chart-ontime"`,
		`id="chart-satisfaction"`, `id="chart-overdue"`, `id="chart-category"`, `id="stats-data"`,
		"/assets/vendor/echarts.min.js", "/stats/ledger/xlsx?month=2026-05", "区卫生健康局", "2025-06")
	m := regexp.MustCompile(`(?s)<script type="application/json" id="stats-data">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no chart data")
	}
	var d chartData
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatalf("chart data is not JSON: %v\n%s", err, m[1])
	}
	if len(d.Months) != 12 || d.Months[11] != "2026-05" || d.Channel[0].Name != "来访" || d.OnTime[0] == nil || *d.OnTime[0] != 50 {
		t.Errorf("chart data %+v", d)
	}
}
