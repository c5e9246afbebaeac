package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/auth"
	"github.com/petitions/petitions/internal/devstack"
)

// Who may read and act on what, through HTTP against the real stack: every endpoint × role ×
// own unit / other unit / no token / expired token / revoked token.
func TestEndpointRoleScopeTable(t *testing.T) {
	ctx := context.Background()
	// One case handled by the construction bureau, one by the health bureau.
	own := registerCase(t, "default", petitioner(), "scaffolding wages unpaid at the stadium")
	act(t, own.CaseNo, "accept", map[string]any{"actor": clerk, "unit": "construction", "handler": handler}, http.StatusOK)
	other := registerCase(t, "default", petitioner(), "clinic refuses to issue records")
	act(t, other.CaseNo, "accept", map[string]any{"actor": clerk, "unit": "health", "handler": "handler.health"}, http.StatusOK)

	// Credentials that must not work: none, expired, revoked (signed out), disabled account.
	past := auth.New(stack.Service.Pool(), auth.Config{Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }})
	expired, err := past.SignIn(ctx, "handler.land", devstack.DevPassword)
	if err != nil {
		t.Fatal(err)
	}
	var signedIn struct {
		AccessToken string `json:"access_token"`
	}
	if code := callRaw(t, "POST", "/api/v1/auth/sign-in", map[string]any{"staff_id": "handler.land", "password": devstack.DevPassword}, &signedIn); code != http.StatusOK {
		t.Fatalf("sign in: %d", code)
	}
	revoked := signedIn.AccessToken
	if code := callRaw(t, "POST", "/api/v1/auth/sign-out", nil, nil, "Authorization", "Bearer "+revoked); code != http.StatusNoContent {
		t.Fatalf("sign out: %d", code)
	}

	type who struct {
		name    string
		headers []string
	}
	people := []who{
		{"clerk", bearer(t, clerk)},
		{"supervisor", bearer(t, supervisor)},
		{"handler own unit", bearer(t, handler)},
		{"handler other unit", bearer(t, "handler.health")},
		{"leader own unit", bearer(t, leader)},
		{"leader above (district)", bearer(t, "leader.district")},
		{"leader other unit", bearer(t, "leader.health")},
		{"reviewer (district)", bearer(t, reviewerDist)},
		{"admin", bearer(t, adminStaff)},
		{"no token", []string{"X-None", "1"}},
		{"expired token", []string{"Authorization", "Bearer " + expired.AccessToken}},
		{"revoked token", []string{"Authorization", "Bearer " + revoked}},
	}
	no := own.CaseNo
	endpoints := []struct {
		name, method, path string
		body               any
		// want by person, in the order of people
		want []int
	}{
		{"read case", "GET", "/api/v1/petitions/" + no, nil,
			[]int{200, 200, 200, 404, 200, 200, 404, 404, 403, 401, 401, 401}},
		{"read events", "GET", "/api/v1/petitions/" + no + "/events", nil,
			[]int{200, 200, 200, 404, 200, 200, 404, 404, 403, 401, 401, 401}},
		{"read deadlines", "GET", "/api/v1/petitions/" + no + "/deadlines", nil,
			[]int{200, 200, 200, 404, 200, 200, 404, 404, 403, 401, 401, 401}},
		{"list cases", "GET", "/api/v1/petitions?limit=5", nil,
			[]int{200, 200, 200, 200, 200, 200, 200, 200, 403, 401, 401, 401}},
		// A pause: handlers and leaders of the handling unit (the district's leader too);
		// clerks and supervisors see the case but the workflow refuses them (422).
		{"act: pause", "POST", "/api/v1/petitions/" + no + "/pause", map[string]any{"reason": "现场勘验 site inspection"},
			[]int{422, 422, 200, 404, 422, 200, 404, 404, 403, 401, 401, 401}},
		{"register", "POST", "/api/v1/petitions", map[string]any{"channel": "pigeon"},
			[]int{400, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401, 401}},
		{"statistics of own unit", "GET", "/api/v1/stats?unit=construction", nil,
			[]int{200, 200, 200, 403, 200, 200, 403, 403, 403, 401, 401, 401}},
		{"monthly ledger", "GET", "/api/v1/reports/monthly.csv", nil,
			[]int{200, 200, 200, 200, 200, 200, 200, 403, 403, 401, 401, 401}},
		{"change a calendar", "PUT", "/api/v1/calendars/2026", map[string]any{"year": 2027},
			[]int{403, 403, 403, 403, 403, 403, 403, 403, 400, 401, 401, 401}},
		{"list staff", "GET", "/api/v1/admin/staff", nil,
			[]int{403, 403, 403, 403, 403, 403, 403, 403, 200, 401, 401, 401}},
		{"reissue query code", "POST", "/api/v1/petitions/" + other.CaseNo + "/query-code", nil,
			[]int{200, 200, 403, 403, 403, 403, 403, 403, 403, 401, 401, 401}},
		{"read units", "GET", "/api/v1/units", nil,
			[]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401, 401}},
		{"read routing rules", "GET", "/api/v1/routing-rules", nil,
			[]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401, 401}},
		{"read a calendar", "GET", "/api/v1/calendars/2026", nil,
			[]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401, 401}},
		{"read policies", "GET", "/api/v1/policies", nil,
			[]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401, 401}},
		{"who am I", "GET", "/api/v1/auth/me", nil,
			[]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401, 401}},
		{"statistics, own units by default", "GET", "/api/v1/stats", nil,
			[]int{200, 200, 200, 200, 200, 200, 200, 403, 403, 401, 401, 401}},
		{"audit log", "GET", "/api/v1/admin/audit", nil,
			[]int{403, 403, 403, 403, 403, 403, 403, 403, 200, 401, 401, 401}},
		{"personal data reads", "GET", "/api/v1/admin/personal-data-reads", nil,
			[]int{403, 403, 403, 403, 403, 403, 403, 403, 200, 401, 401, 401}},
		{"list API tokens", "GET", "/api/v1/admin/tokens", nil,
			[]int{403, 403, 403, 403, 403, 403, 403, 403, 200, 401, 401, 401}},
		{"create a routing rule", "POST", "/api/v1/routing-rules", map[string]any{"keyword": ""},
			[]int{403, 403, 403, 403, 403, 403, 403, 403, 400, 401, 401, 401}},
		{"export cases", "GET", "/api/v1/petitions?format=csv&handler=" + handler, nil,
			[]int{200, 200, 200, 200, 200, 200, 200, 200, 403, 401, 401, 401}},
		{"monthly ledger, JSON", "GET", "/api/v1/reports/monthly", nil,
			[]int{200, 200, 200, 200, 200, 200, 200, 403, 403, 401, 401, 401}},
		{"monthly ledger, Excel", "GET", "/api/v1/reports/monthly.xlsx", nil,
			[]int{200, 200, 200, 200, 200, 200, 200, 403, 403, 401, 401, 401}},
		{"look up a petitioner", "GET", "/api/v1/petitioners/lookup?phone=13900009999", nil,
			[]int{200, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401, 401}},
		{"routing suggestion", "GET", "/api/v1/routing/suggestion?topic=wages", nil,
			[]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401, 401}},
		{"staff for pickers", "GET", "/api/v1/staff?unit=construction", nil,
			[]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401, 401}},
		// Leader reception days (领导接访日): the schedule is public; the office publishes; a
		// leader reads their own record; the office or the day's leader receives.
		{"public reception schedule", "GET", "/api/v1/public/reception-days", nil,
			[]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"reception schedule", "GET", "/api/v1/reception-days", nil,
			[]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401, 401}},
		{"publish a reception day", "POST", "/api/v1/reception-days", map[string]any{"leader": ""},
			[]int{400, 400, 403, 403, 403, 403, 403, 403, 403, 401, 401, 401}},
		{"reception record", "GET", "/api/v1/reception-record", nil,
			[]int{200, 200, 403, 403, 200, 200, 200, 403, 403, 401, 401, 401}},
		{"receive a visit", "POST", "/api/v1/appointments/999999999/receive", map[string]any{},
			[]int{404, 403, 403, 403, 404, 404, 404, 403, 403, 401, 401, 401}},
	}
	var report strings.Builder
	for _, ep := range endpoints {
		for i, p := range people {
			if ep.name == "act: pause" && p.name == "leader above (district)" {
				// resume what the handler paused, so the district leader can pause again
				callRaw(t, "POST", "/api/v1/petitions/"+no+"/resume", map[string]any{}, nil, bearer(t, handler)...)
			}
			code := callRaw(t, ep.method, ep.path, ep.body, nil, p.headers...)
			fmt.Fprintf(&report, "%-24s %-26s %d\n", ep.name, p.name, code)
			if code != ep.want[i] {
				t.Errorf("%s as %s: status %d, want %d", ep.name, p.name, code, ep.want[i])
			}
		}
	}
	t.Logf("endpoint × person:\n%s", report.String())

	// Lists are scoped like single reads: the health handler never sees a construction case,
	// unless the health bureau co-handles it or is on its joint investigation team.
	var page struct {
		Cases []struct {
			CaseNo        string   `json:"case_no"`
			Unit          string   `json:"unit"`
			InvolvedUnits []string `json:"involved_units"`
		} `json:"cases"`
	}
	if code := callRaw(t, "GET", "/api/v1/petitions?limit=500", nil, &page, bearer(t, "handler.health")...); code != 200 {
		t.Fatalf("list: %d", code)
	}
	for _, c := range page.Cases {
		if c.Unit != "health" && c.Unit != "" && !slices.Contains(c.InvolvedUnits, "health") {
			t.Errorf("health handler listed case %s of unit %s", c.CaseNo, c.Unit)
		}
	}
	// Acting on another unit's case is as impossible as reading it.
	if code := callRaw(t, "POST", "/api/v1/petitions/"+no+"/reply", map[string]any{"opinion": "不该由我答复"}, nil, bearer(t, "handler.health")...); code != http.StatusNotFound {
		t.Errorf("health handler replying on a construction case: %d, want 404", code)
	}
	// The case file says what each reader may do now, as the workflow's validators decide:
	// the handler of the unit (the clock stands paused after the table), a clerk.
	var file struct {
		AllowedActions []string `json:"allowed_actions"`
		Source         string   `json:"source"`
	}
	if code := callRaw(t, "GET", "/api/v1/petitions/"+no, nil, &file, bearer(t, handler)...); code != 200 ||
		file.Source != "workflow" || !slices.Contains(file.AllowedActions, "reply") ||
		!slices.Contains(file.AllowedActions, "resume") || slices.Contains(file.AllowedActions, "pause") {
		t.Errorf("the handler's allowed actions: %d %+v", code, file)
	}
	file.AllowedActions = nil
	if code := callRaw(t, "GET", "/api/v1/petitions/"+no, nil, &file, bearer(t, clerk)...); code != 200 ||
		!slices.Equal(file.AllowedActions, []string{"withdraw", "assign-leader"}) {
		t.Errorf("the clerk's allowed actions: %d %+v", code, file)
	}
	// The query code is never in a staff read.
	raw := rawGet(t, "/api/v1/petitions/"+other.CaseNo, bearer(t, clerk))
	if strings.Contains(raw, own.QueryCode) || strings.Contains(raw, other.QueryCode) || strings.Contains(raw, "query_code") {
		t.Errorf("a staff read shows a query code: %s", truncate([]byte(raw), 300))
	}
}

// An accusation (检举控告): the handling unit's staff read the matter without the accuser's
// identity; the petition office reads it, and every such read is recorded (查阅记录).
func TestAccusationHidesTheAccuser(t *testing.T) {
	pet := map[string]any{"name": "举报人甲乙丙", "phone": "13912345678", "id_number": "11010519491231002X", "address": "某小区8号楼"}
	var r registered
	code := call(t, "POST", "/api/v1/petitions", map[string]any{
		"channel": "letter", "category": "accusation", "topic": "construction bureau official takes bribes",
		"content": "举报住建局某科长收受施工方好处费", "petitioners": []any{pet}, "policy": "default", "actor": clerk,
	}, &r)
	if code != http.StatusCreated {
		t.Fatalf("register accusation: %d", code)
	}
	act(t, r.CaseNo, "accept", map[string]any{"actor": clerk, "unit": "construction", "handler": handler}, http.StatusOK)

	for _, staff := range []string{handler, leader} {
		raw := rawGet(t, "/api/v1/petitions/"+r.CaseNo, bearer(t, staff))
		for _, secret := range []string{"举报人甲乙丙", "13912345678", "11010519491231002X", "某小区8号楼", r.QueryCode} {
			if strings.Contains(raw, secret) {
				t.Errorf("%s reads the accuser's identity (%s)", staff, secret)
			}
		}
		if !strings.Contains(raw, "identity_withheld") || !strings.Contains(raw, "收受施工方好处费") {
			t.Errorf("%s should read the matter without the identity: %s", staff, truncate([]byte(raw), 400))
		}
	}
	raw := rawGet(t, "/api/v1/petitions/"+r.CaseNo, bearer(t, clerk))
	if !strings.Contains(raw, "举报人甲乙丙") || !strings.Contains(raw, "11010519491231002X") {
		t.Errorf("the petition office should read the accuser's identity: %s", truncate([]byte(raw), 400))
	}
	var reads struct {
		Reads []struct {
			StaffID string `json:"staff_id"`
			CaseNo  string `json:"case_no"`
		} `json:"reads"`
	}
	if code := callRaw(t, "GET", "/api/v1/admin/personal-data-reads?case_no="+r.CaseNo, nil, &reads, bearer(t, adminStaff)...); code != 200 {
		t.Fatalf("personal data reads: %d", code)
	}
	if len(reads.Reads) != 1 || reads.Reads[0].StaffID != clerk {
		t.Errorf("查阅记录 of %s: %+v, want one read by %s", r.CaseNo, reads.Reads, clerk)
	}
}

// The petitioner's self-service: status with the query code in a header; an unknown case and
// a wrong code answer alike; the per-case rate limit trips and recovers.
func TestSelfService(t *testing.T) {
	r := registerCase(t, "default", petitioner(), "self service pavement repair")
	act(t, r.CaseNo, "accept", map[string]any{"actor": clerk, "unit": "construction", "handler": handler}, http.StatusOK)
	act(t, r.CaseNo, "reply", map[string]any{"actor": handler, "opinion": "人行道已列入维修计划 repair scheduled"}, http.StatusOK)

	var view struct {
		Stage   string           `json:"stage"`
		Replies []map[string]any `json:"replies"`
		May     []string         `json:"may"`
	}
	if code := callRaw(t, "GET", "/api/v1/public/petitions/"+r.CaseNo, nil, &view, "X-Query-Code", r.QueryCode); code != 200 {
		t.Fatalf("status: %d", code)
	}
	if view.Stage != "replied" || len(view.Replies) != 1 || view.Replies[0]["opinion"] != "人行道已列入维修计划 repair scheduled" {
		t.Errorf("petitioner's view: %+v", view)
	}
	wrongCode := rawStatus(t, "GET", "/api/v1/public/petitions/"+r.CaseNo, "X-Query-Code", "99999999")
	unknown := rawStatus(t, "GET", "/api/v1/public/petitions/1999-000001", "X-Query-Code", "99999999")
	if wrongCode != unknown || !strings.HasPrefix(wrongCode, "404 ") {
		t.Errorf("a wrong code answers %q, an unknown case %q: they must be alike", wrongCode, unknown)
	}
	// Up to the per-case limit (10 a minute, in the tests too), then 429 with Retry-After.
	var retry string
	for i := 0; i < 30 && retry == ""; i++ {
		req, _ := http.NewRequest("GET", baseURL+"/api/v1/public/petitions/"+r.CaseNo, nil)
		req.Header.Set("X-Query-Code", "12345678")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			retry = resp.Header.Get("Retry-After")
		}
	}
	if retry == "" {
		t.Fatal("the per-case rate limit never tripped")
	}
	var secs int
	fmt.Sscan(retry, &secs)
	if secs < 1 || secs > 60 {
		t.Fatalf("Retry-After %q", retry)
	}
	time.Sleep(time.Duration(secs)*time.Second + 200*time.Millisecond)
	if code := callRaw(t, "POST", "/api/v1/public/petitions/"+r.CaseNo+"/evaluate", map[string]any{"evaluation": "satisfied"}, &view, "X-Query-Code", r.QueryCode); code != 200 || view.Stage != "closed" {
		t.Errorf("after the limit recovered, evaluate: %d %+v", code, view)
	}
}

// The codec server decodes the case's payloads for a supervisor and nobody else.
func TestCodecServer(t *testing.T) {
	r := registerCase(t, "default", petitioner(), "codec server decodes for supervisors")
	ctx := context.Background()
	iter := stack.Service.Temporal().GetWorkflowHistory(ctx, "petition-"+r.CaseNo, "", false, 0)
	first, err := iter.Next()
	if err != nil {
		t.Fatal(err)
	}
	input := first.GetWorkflowExecutionStartedEventAttributes().GetInput()
	if input == nil || len(input.GetPayloads()) == 0 {
		t.Fatal("no input payload")
	}
	p := input.GetPayloads()[0]
	if enc := string(p.GetMetadata()["encoding"]); enc != "binary/encrypted" {
		t.Fatalf("the start input is stored with encoding %q, want binary/encrypted", enc)
	}
	body, _ := json.Marshal(map[string]any{"payloads": []any{map[string]any{
		"metadata": map[string]any{"encoding": p.GetMetadata()["encoding"], "encryption-key-id": p.GetMetadata()["encryption-key-id"]},
		"data":     p.GetData(),
	}}})
	decode := func(headers ...string) (int, string) {
		req, _ := http.NewRequest("POST", baseURL+"/codec/decode", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", "default")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := decode(); code != http.StatusUnauthorized {
		t.Errorf("decode without a token: %d", code)
	}
	if code, _ := decode(bearer(t, handler)...); code != http.StatusForbidden {
		t.Errorf("decode as a handler: %d", code)
	}
	code, out := decode(bearer(t, supervisor)...)
	// "anNvbi9wbGFpbg==" is base64 of json/plain: the payload decoded.
	if code != http.StatusOK || !strings.Contains(out, "anNvbi9wbGFpbg==") {
		t.Errorf("decode as a supervisor: %d %s", code, truncate([]byte(out), 200))
	}
}

func rawGet(t *testing.T, path string, headers []string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", baseURL+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// rawStatus answers "status body" of a request, to compare two answers whole.
func rawStatus(t *testing.T, method, path string, headers ...string) string {
	t.Helper()
	req, _ := http.NewRequest(method, baseURL+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, b)
}
