package e2e

// The API's side of issue 9 against the real stack: actions applied once (ETag, If-Match,
// 412, 428), closed cases read from the register, every instant in the office's zone, and
// client mistakes answered 4xx with the field named — never 500, never a frozen case.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/petitions/petitions/workflows"
)

// rbSend sends body exactly as given (bytes need not be UTF-8) and answers the status, the
// headers and the decoded JSON body (nil if the body is not a JSON object).
func rbSend(t *testing.T, method, path string, body []byte, headers ...string) (int, http.Header, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, baseURL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] != "" {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: status %d, body is not a JSON object: %q", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, resp.Header, m
}

// rbJSON sends a value as JSON with a staff member's token.
func rbJSON(t *testing.T, staff, method, path string, v any, headers ...string) (int, http.Header, map[string]any) {
	t.Helper()
	var b []byte
	if v != nil {
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	if staff != "" {
		headers = append(headers, bearer(t, staff)...)
	}
	return rbSend(t, method, path, b, headers...)
}

func rbSeq(t *testing.T, h http.Header) int64 {
	t.Helper()
	tag := h.Get("ETag")
	n, err := strconv.ParseInt(strings.Trim(tag, `"`), 10, 64)
	if err != nil || !strings.HasPrefix(tag, `"`) {
		t.Fatalf("ETag %q is not a case's seq", tag)
	}
	return n
}

func rbCount(types []string, want string) int {
	n := 0
	for _, ty := range types {
		if ty == want {
			n++
		}
	}
	return n
}

// #6: an action without Idempotency-Key or If-Match is refused (428); If-Match with the ETag
// of a read makes it conditional (412 once the case has moved on), and the same request
// repeated gets the first outcome instead of a second application.
func TestAPIRobustActionsApplyOnce(t *testing.T) {
	r := registerCase(t, "default", petitioner(), "robust: actions apply once")
	no := r.CaseNo
	base := "/api/v1/petitions/" + no

	code, h, body := rbJSON(t, clerk, "GET", base, nil)
	if code != 200 || body["source"] != "workflow" {
		t.Fatalf("read: %d %v", code, body)
	}
	seq := rbSeq(t, h)
	if st, _ := body["state"].(map[string]any); st["seq"] != float64(seq) {
		t.Fatalf("ETag %d, state seq %v", seq, st["seq"])
	}

	accept := map[string]any{"unit": "construction", "handler": handler}
	if code, _, body := rbJSON(t, clerk, "POST", base+"/accept", accept); code != http.StatusPreconditionRequired ||
		!strings.Contains(fmt.Sprint(body["error"]), "If-Match") {
		t.Fatalf("accept without Idempotency-Key or If-Match: %d %v, want 428", code, body)
	}
	ifMatch := fmt.Sprintf(`"%d"`, seq)
	code, h, body = rbJSON(t, clerk, "POST", base+"/accept", accept, "If-Match", ifMatch)
	if code != 200 || body["stage"] != "handling" || rbSeq(t, h) != int64(body["seq"].(float64)) || rbSeq(t, h) <= seq {
		t.Fatalf("conditional accept: %d ETag %q %v", code, h.Get("ETag"), body)
	}
	after := rbSeq(t, h)
	// A clerk's retry (after a 504, say): the same answer, applied once.
	code, h, body = rbJSON(t, clerk, "POST", base+"/accept", accept, "If-Match", ifMatch)
	if code != 200 || rbSeq(t, h) != after {
		t.Fatalf("retried accept: %d ETag %q %v", code, h.Get("ETag"), body)
	}
	// Another action on the seq read before the accept: the case has changed.
	code, _, body = rbJSON(t, supervisor, "POST", base+"/supervise", map[string]any{"opinion": "请加快办理"}, "If-Match", ifMatch)
	if code != http.StatusPreconditionFailed {
		t.Fatalf("supervise on a stale ETag: %d %v, want 412", code, body)
	}
	// On the current one it is applied, and repeated it is applied once.
	cur := fmt.Sprintf(`"%d"`, after)
	for range 2 {
		if code, _, body := rbJSON(t, supervisor, "POST", base+"/supervise", map[string]any{"opinion": "请加快办理"}, "If-Match", cur); code != 200 {
			t.Fatalf("supervise: %d %v", code, body)
		}
	}
	wantEvents(t, no, "registered", "accepted", "supervised")
	types := eventTypes(t, no)
	if rbCount(types, "accepted") != 1 || rbCount(types, "supervised") != 1 {
		t.Fatalf("events %v: an action applied twice", types)
	}

	// The petitioner's self-service: the same rules.
	pub := "/api/v1/public/petitions/" + no
	code, h, _ = rbSend(t, "GET", pub, nil, "X-Query-Code", r.QueryCode)
	if code != 200 || h.Get("ETag") == "" {
		t.Fatalf("public view: %d ETag %q", code, h.Get("ETag"))
	}
	if code, _, body := rbSend(t, "POST", pub+"/withdraw", []byte(`{"reason":"已解决"}`), "X-Query-Code", r.QueryCode); code != http.StatusPreconditionRequired {
		t.Fatalf("petitioner's action without key or If-Match: %d %v, want 428", code, body)
	}
	if code, _, body := rbSend(t, "POST", pub+"/withdraw", []byte(`{"reason":"已解决"}`), "X-Query-Code", r.QueryCode, "If-Match", `"1"`); code != http.StatusPreconditionFailed {
		t.Fatalf("petitioner's action on a stale ETag: %d %v, want 412", code, body)
	}
}

// #7: a case in a final stage is served from the register, without querying its workflow.
func TestAPIRobustClosedCaseFromRegister(t *testing.T) {
	r := registerCase(t, "default", petitioner(), "robust: closed cases come from the register")
	act(t, r.CaseNo, "reject", map[string]any{"actor": clerk, "reason": "不属于信访受理范围"}, http.StatusOK)
	waitRegister(t, r.CaseNo, "rejected")
	for _, p := range []string{"", "/deadlines"} {
		code, h, body := rbJSON(t, clerk, "GET", "/api/v1/petitions/"+r.CaseNo+p, nil)
		if code != 200 || body["source"] != "register" || body["state_error"] != nil || h.Get("ETag") == "" {
			t.Errorf("GET …%s of a rejected case: %d ETag %q %v", p, code, h.Get("ETag"), body)
		}
		if p == "" && (body["state"] != nil || body["case"].(map[string]any)["stage"] != "rejected") {
			t.Errorf("rejected case: %v", body)
		}
	}
}

var rbInstant = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`)

func rbInstants(path string, v any, out map[string]string) {
	switch x := v.(type) {
	case string:
		if rbInstant.MatchString(x) {
			out[path] = x
		}
	case map[string]any:
		for k, e := range x {
			rbInstants(path+"."+k, e, out)
		}
	case []any:
		for i, e := range x {
			rbInstants(fmt.Sprintf("%s[%d]", path, i), e, out)
		}
	}
}

// #10: every instant the API answers carries the office's offset (+08:00), whether it comes
// from the register, the workflow's state, a projected deadline or an event's details.
func TestAPIRobustInstantsInOfficeZone(t *testing.T) {
	topic := "robust zone " + strconv.FormatInt(idSeq.Add(1), 10)
	r := registerCase(t, "default", petitioner(), topic)
	no := r.CaseNo
	st := act(t, no, "accept", map[string]any{"actor": clerk, "unit": "construction", "handler": handler}, http.StatusOK)
	act(t, no, "supervise", map[string]any{"actor": supervisor, "opinion": "限期办结", "new_due_at": st.Deadline.Due.AddDate(0, 0, 3).Format("2006-01-02")}, http.StatusOK)
	wantEvents(t, no, "registered", "accepted", "supervised")
	waitRegister(t, no, "handling")

	checks := []struct {
		staff, path string
		headers     []string
	}{
		{clerk, "/api/v1/petitions/" + no, nil},
		{clerk, "/api/v1/petitions/" + no + "/events", nil},
		{clerk, "/api/v1/petitions/" + no + "/deadlines", nil},
		{clerk, "/api/v1/petitions?q=" + strings.ReplaceAll(topic, " ", "+"), nil},
		{clerk, "/api/v1/stats", nil},
		{clerk, "/api/v1/auth/me", nil},
		{"", "/api/v1/public/petitions/" + no, []string{"X-Query-Code", r.QueryCode}},
	}
	for _, c := range checks {
		code, _, body := rbJSON(t, c.staff, "GET", c.path, nil, c.headers...)
		if code != 200 {
			t.Errorf("GET %s: %d %v", c.path, code, body)
			continue
		}
		found := map[string]string{}
		rbInstants("", body, found)
		if len(found) == 0 {
			t.Errorf("GET %s: no instants", c.path)
		}
		for p, v := range found {
			if !strings.HasSuffix(v, "+08:00") && v != "0001-01-01T00:00:00Z" {
				t.Errorf("GET %s: %s = %s, want +08:00", c.path, p, v)
			}
		}
	}
	// An action's answer (the workflow's state) too.
	code, _, body := rbJSON(t, handler, "POST", "/api/v1/petitions/"+no+"/pause", map[string]any{"reason": "听证"}, "Idempotency-Key", "zone-"+no)
	found := map[string]string{}
	rbInstants("", body, found)
	for p, v := range found {
		if !strings.HasSuffix(v, "+08:00") && v != "0001-01-01T00:00:00Z" {
			t.Errorf("pause (%d): %s = %s, want +08:00", code, p, v)
		}
	}
	if code != 200 || len(found) == 0 {
		t.Errorf("pause: %d %v", code, body)
	}
}

// #0, #11: client mistakes answer 4xx naming what is wrong, never 500; a refused action
// leaves the case as it was, and the next action goes through.
func TestAPIRobustClientMistakes(t *testing.T) {
	tok := bearer(t, clerk)
	for _, q := range []string{
		"/api/v1/petitions?q=%00", "/api/v1/petitions?q=%ff", "/api/v1/petitions?q=%C0%AF",
		"/api/v1/petitions?unit=%00", "/api/v1/petitions?unit=%ff", "/api/v1/petitions?stage=%C0%AF",
		"/api/v1/petitions?cursor=%00", "/api/v1/petitions?cursor=%ff%fe", "/api/v1/petitions?%ff=1",
		"/api/v1/stats?from=0001-01-01&to=9999-12-31", "/api/v1/stats?unit=%00", "/api/v1/stats?to=10000-01-01",
		"/api/v1/reports/monthly.csv?month=0000-01", "/api/v1/reports/monthly.csv?month=%ff",
	} {
		code, _, body := rbSend(t, "GET", q, nil, tok...)
		if code != http.StatusBadRequest || body == nil || body["error"] == nil {
			t.Errorf("GET %s: %d %v, want 400 with a JSON error", q, code, body)
		}
	}

	// A repeat petition with an offset RFC 3339 does not allow.
	pet := petitioner()
	topic := "robust repeat " + strconv.FormatInt(idSeq.Add(1), 10)
	r := registerCase(t, "default", pet, topic)
	reg := map[string]any{"channel": "visit", "category": "appeal", "topic": topic, "content": "again",
		"petitioners": []any{pet}, "policy": "default", "received_at": "2026-05-01T09:30:00+24:00"}
	if code, _, body := rbJSON(t, clerk, "POST", "/api/v1/petitions", reg); code != 400 || body["fields"].(map[string]any)["received_at"] == nil {
		t.Errorf("repeat petition received at +24:00: %d %v, want 400 naming received_at", code, body)
	}

	// Bad text in every string of an action: 400 naming the field; the case does not freeze.
	no := r.CaseNo
	act(t, no, "accept", map[string]any{"actor": clerk, "unit": "construction", "handler": handler}, http.StatusOK)
	for _, bad := range []string{`a\u0000b`, "a\xffb", "a\xc0\xafb"} {
		for _, field := range []string{"opinion", "reason", "unit", "handler", "leader", "outcome", "evaluation", "actor"} {
			body := []byte(`{"` + field + `":"` + bad + `"}`)
			code, _, resp := rbSend(t, "POST", "/api/v1/petitions/"+no+"/supervise", body, append(bearer(t, supervisor), "Idempotency-Key", "bad-"+field)...)
			fields, _ := resp["fields"].(map[string]any)
			if code != http.StatusBadRequest || fields[field] == nil {
				t.Errorf("supervise with %q in %s: %d %v, want 400 naming it", bad, field, code, resp)
			}
		}
		body := []byte(`{"channel":"letter","category":"appeal","topic":"robust","content":"` + bad + `","petitioners":[{"name":"王某","phone":"13900009999"}]}`)
		code, _, resp := rbSend(t, "POST", "/api/v1/petitions", body, tok...)
		if fields, _ := resp["fields"].(map[string]any); code != http.StatusBadRequest || fields["content"] == nil {
			t.Errorf("registration with %q in content: %d %v, want 400 naming content", bad, code, resp)
		}
	}
	st := act(t, no, "supervise", map[string]any{"actor": supervisor, "opinion": "请按时办理"}, http.StatusOK)
	if st.Stage != workflows.StageHandling {
		t.Errorf("after the refused actions: %+v", st)
	}
	wantEvents(t, no, "registered", "accepted", "supervised")
}
