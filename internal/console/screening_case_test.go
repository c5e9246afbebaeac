package console

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// scCaseFakeAPI answers POST /api/v1/screening/disputes/{id}/case as told; the rest is
// scFakeAPI's.
type scCaseFakeAPI struct {
	*scFakeAPI
	mu     sync.Mutex
	status int // of the next answer
	answer map[string]any
	posts  []*http.Request
	bodies []string
}

func (f *scCaseFakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/api/v1/screening/disputes/") {
		f.scFakeAPI.ServeHTTP(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := io.ReadAll(r.Body)
	f.posts, f.bodies = append(f.posts, r), append(f.bodies, string(b))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	_ = json.NewEncoder(w).Encode(f.answer)
}

func (f *scCaseFakeAPI) last() (*http.Request, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.posts) == 0 {
		return nil, ""
	}
	return f.posts[len(f.posts)-1], f.bodies[len(f.bodies)-1]
}

// scCaseSample: a clerk of the petition office, who reads rounds and makes lines cases.
func scCaseSample() *scCaseFakeAPI {
	api := &scCaseFakeAPI{scFakeAPI: scSample(), status: http.StatusCreated}
	api.perms = []string{permReadCases, permScreeningRead, permScreeningCase}
	api.cfFakeAPI.me = staffMember{ID: "clerk.li", Name: "李静", Role: "clerk", Unit: "petition_office"}
	return api
}

// The screening page offers the clerk a form per line not yet a case, every field labelled.
func TestScreeningCaseForm(t *testing.T) {
	api := scCaseSample()
	c := cfConsole(t, api)
	w := cfGet(c, "/screening?month=2026-11")
	page := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, page)
	}
	rcWant(t, page,
		`id="sc-case-2"`, `id="sc-case-2-toggle"`, "转为信访事项", `action="/screening/disputes/2/case"`,
		`name="month" value="2026-11"`, `name="key" value="console-`,
		`id="d2-petitioners"`, `id="d2-petitioners-0-name" name="petitioners[0].name"`, `id="d2-petitioners-0-id_number"`,
		`type="tel" id="d2-petitioners-0-phone" name="petitioners[0].phone"`, `id="d2-petitioners-2-phone"`,
		`<label for="d2-petitioners-0-name">姓名`, "身份证号码", "区住房和城乡建设局第2条", `id="sc-case-2-submit"`, "登记为信访事项",
		// the line made a case already links it
		`id="sc-dispute-1-case"`,
	)
	rcWantNot(t, page, `id="sc-case-1"`, `id="sc-case-2" open`, `id="d2-petitioners-3-name"`)
	cfCheckLabels(t, page)

	// In English, the words switch.
	r := httptest.NewRequest("GET", "/screening?month=2026-11", nil)
	r.AddCookie(&http.Cookie{Name: cookieCSRF, Value: "tok"})
	r.AddCookie(&http.Cookie{Name: cookieLang, Value: "en"})
	en := httptest.NewRecorder()
	c.ServeHTTP(en, r)
	rcWant(t, en.Body.String(), "Make it a case", "Register the case", "区住房和城乡建设局, line 2", `<label for="d2-petitioners-0-phone">Phone`)
	// Without the permission (a unit's handler): no form.
	api.perms = []string{permReadCases, permScreeningRead, permScreeningFile}
	page = cfGet(c, "/screening?month=2026-11").Body.String()
	rcWantNot(t, page, `id="sc-case-2"`, `action="/screening/disputes/`)
}

// Made a case: the petitioners typed go to the API (empty rows left out) with the form's
// Idempotency-Key and the CSRF token; the receipt shows the case number and query code once.
func TestScreeningCaseMade(t *testing.T) {
	api := scCaseSample()
	c := cfConsole(t, api)
	received := time.Date(2026, 11, 20, 10, 30, 0, 0, cfZone)
	api.answer = map[string]any{
		"dispute": map[string]any{"id": 2, "unit": "construction", "item": 2, "kind": "petition_sign", "summary": "拆迁安置苗头", "case_no": "2026-000060"},
		"case_no": "2026-000060",
		"registration": map[string]any{"case_no": "2026-000060", "query_code": "Q7K2M9PX", "stage": "registered",
			"deadlines": map[string]any{"acceptance": map[string]any{"due": received.AddDate(0, 0, 15), "explanation": "15 days"}},
			"state":     map[string]any{"case_no": "2026-000060", "stage": "registered", "topic": "拆迁安置苗头", "received_at": received}},
	}
	form := url.Values{"csrf": {"tok"}, "key": {"console-d2"}, "month": {"2026-11"},
		"petitioners[0].name": {"赵某"}, "petitioners[0].phone": {"13900001111"}, "petitioners[0].id_number": {""},
		"petitioners[1].name": {""}, "petitioners[1].phone": {""}, "petitioners[1].id_number": {""},
		"petitioners[2].name": {"钱某"}, "petitioners[2].id_number": {"110101199003077777"}, "petitioners[2].phone": {""}}
	w := cfPost(c, "/screening/disputes/2/case", form)
	page := w.Body.String()
	if w.Code != http.StatusCreated {
		t.Fatalf("made: %d %s", w.Code, page)
	}
	req, body := api.last()
	if req == nil || req.URL.Path != "/api/v1/screening/disputes/2/case" || req.Method != http.MethodPost ||
		req.Header.Get("Idempotency-Key") != "console-d2" || req.Header.Get("X-CSRF-Token") != "tok" {
		t.Fatalf("request %+v", req)
	}
	var sent struct {
		Petitioners []petitioner `json:"petitioners"`
	}
	if err := json.Unmarshal([]byte(body), &sent); err != nil || len(sent.Petitioners) != 2 ||
		sent.Petitioners[0] != (petitioner{Name: "赵某", Phone: "13900001111"}) ||
		sent.Petitioners[1] != (petitioner{Name: "钱某", IDNumber: "110101199003077777"}) {
		t.Errorf("sent %s (%v)", body, err)
	}
	rcWant(t, page, `id="receipt"`, "登记回执", `id="receipt-case-no" class="big">2026-000060`, `id="receipt-query-code" class="big code">Q7K2M9PX`,
		"拆迁安置苗头", "2026年11月20日 10:30", `href="/cases/2026-000060"`, `href="/screening?month=2026-11" id="receipt-back"`, "返回矛盾纠纷排查",
		`id="nav-screening" aria-current="page"`)
	rcWantNot(t, page, `href="/register">继续登记`)

	// A repeat of an open case: the line is linked there, the linked-case page.
	api.status = http.StatusOK
	api.answer = map[string]any{"case_no": "2026-000007", "dispute": map[string]any{"id": 2},
		"registration": map[string]any{"case_no": "2026-000007", "linked_to": "2026-000007", "repeat_count": 2, "stage": "handling"}}
	page = cfPost(c, "/screening/disputes/2/case", form).Body.String()
	rcWant(t, page, `id="repeat-linked"`, `id="linked-case-no"`, "2026-000007", "办理中", `id="receipt-back"`)

	// The line was a case already: back to the page, saying which.
	api.answer = map[string]any{"case_no": "2026-000042", "linked": "already", "dispute": map[string]any{"id": 1, "case_no": "2026-000042"}}
	w = cfPost(c, "/screening/disputes/1/case", form)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/screening?month=2026-11" {
		t.Fatalf("already: %d %s", w.Code, w.Header().Get("Location"))
	}
	if fl := cfFlash(w); fl == nil || fl.Kind != "ok" || !strings.Contains(fl.Text, "2026-000042") {
		t.Errorf("already flash %+v", fl)
	}
	if loc := w.Header().Get("Location"); strings.Contains(loc, "赵某") || strings.Contains(loc, "139") {
		t.Errorf("personal data in a redirect: %s", loc)
	}

	// A form from elsewhere, a bad line number: refused before the API.
	n := len(api.posts)
	if w := cfPost(c, "/screening/disputes/2/case", url.Values{"csrf": {"forged"}, "petitioners[0].name": {"赵某"}}); w.Code != 403 {
		t.Errorf("forged: %d", w.Code)
	}
	if w := cfPost(c, "/screening/disputes/x/case", form); w.Code != 404 {
		t.Errorf("bad id: %d", w.Code)
	}
	if len(api.posts) != n {
		t.Error("a refused form reached the API")
	}
}

// Refused: the page again, the line's form open with what was typed, the API's field errors
// next to their inputs (the API's petitioners[1] is the form's third row) and in the summary.
func TestScreeningCaseRefused(t *testing.T) {
	api := scCaseSample()
	c := cfConsole(t, api)
	api.status = http.StatusBadRequest
	api.answer = map[string]any{"error": "invalid petition", "fields": map[string]string{"petitioners[1].phone": "is not a phone number"}}
	form := url.Values{"csrf": {"tok"}, "key": {"console-d2"}, "month": {"2026-11"},
		"petitioners[0].name": {"赵某"}, "petitioners[0].phone": {"13900001111"},
		"petitioners[2].name": {"钱某"}, "petitioners[2].phone": {"call me"}}
	w := cfPost(c, "/screening/disputes/2/case", form)
	page := w.Body.String()
	if w.Code != http.StatusBadRequest {
		t.Fatalf("refused: %d", w.Code)
	}
	rcWant(t, page, `id="sc-case-2" open`, `id="sc-case-2-errors"`, "未能转为信访事项", `href="#d2-petitioners-2-phone"`,
		"信访人 第3人 · 电话", `id="d2-petitioners-2-phone-error"`, "is not a phone number", `aria-invalid="true"`,
		`value="赵某"`, `value="call me"`, `name="key" value="console-d2"`, `id="sc-round"`)
	rcWantNot(t, page, `id="d2-petitioners-1-phone-error"`, `id="sc-case-2-unconfirmed"`)
	cfCheckLabels(t, page)

	// No petitioner at all: the API says so; the complaint is on the petitioners' fieldset.
	api.answer = map[string]any{"error": "invalid petition", "fields": map[string]string{"petitioners": "is required"}}
	page = cfPost(c, "/screening/disputes/2/case", url.Values{"csrf": {"tok"}, "key": {"console-d3"}, "month": {"2026-11"}}).Body.String()
	if _, body := api.last(); body != `{"petitioners":[]}` {
		t.Errorf("sent %s", body)
	}
	rcWant(t, page, `id="sc-case-2" open`, `id="d2-petitioners-error"`, "必填", `href="#d2-petitioners"`)

	// Registered but not confirmed (503 with the number and code): said on the form, same key.
	api.status = http.StatusServiceUnavailable
	api.answer = map[string]any{"error": "the case is registered but its workflow has not started", "case_no": "2026-000061", "query_code": "ZX81QW2M"}
	page = cfPost(c, "/screening/disputes/2/case", form).Body.String()
	rcWant(t, page, `id="sc-case-2-unconfirmed"`, "2026-000061", "ZX81QW2M", `name="key" value="console-d2"`)

	// A terminated matter (409 naming it).
	api.status = http.StatusConflict
	api.answer = map[string]any{"error": "terminated", "case_no": "2025-000003"}
	page = cfPost(c, "/screening/disputes/2/case", form).Body.String()
	rcWant(t, page, "三级终结", "2025-000003")

	// A line the page does not list (another month's, or not one the reader sees): said at the top.
	api.status = http.StatusNotFound
	api.answer = map[string]any{"error": "screening dispute 99 not found"}
	w = cfPost(c, "/screening/disputes/99/case", form)
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "screening dispute 99 not found") {
		t.Errorf("unlisted line: %d", w.Code)
	}
}
