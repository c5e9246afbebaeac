package devtemporal

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/uigate"
)

// oneSupervisor signs in "s1" with password "pw" as a supervisor.
type oneSupervisor struct{}

func (oneSupervisor) SignIn(_ context.Context, id, pw string) (string, time.Time, error) {
	if id != "s1" || pw != "pw" {
		return "", time.Time{}, errors.New("wrong password")
	}
	return "token-s1", time.Now().Add(time.Hour), nil
}

func (oneSupervisor) Authenticate(_ context.Context, tok string) (string, string, error) {
	if tok != "token-s1" {
		return "", "", errors.New("invalid session")
	}
	return "s1", "supervisor", nil
}

func (oneSupervisor) SignOut(context.Context, string) error { return nil }

// TestUIBehindGate starts the server with its database in a file and the Web UI behind the
// gate, as the dev stack does: the UI answers signed-in supervisors, is read-only, names the
// codec, and the database files are the owner's only.
func TestUIBehindGate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	begin := time.Now()
	uiPort, err := FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	upstream, _ := url.Parse("http://127.0.0.1:" + strconv.Itoa(uiPort))
	codec := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"payloads":[]}`) })
	gate, err := uigate.New(uigate.Options{Upstream: upstream, Auth: oneSupervisor{}, Roles: []string{"supervisor"}, Codec: codec})
	if err != nil {
		t.Fatal(err)
	}
	public := httptest.NewServer(gate)
	defer public.Close()

	dir := filepath.Join(t.TempDir(), "data")
	db := filepath.Join(dir, "temporal.db")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := Start(ctx, Options{UIPort: uiPort, DatabaseFile: db, UIPublicURL: public.URL,
		UICodecEndpoint: public.URL + "/codec"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	if got, want := srv.UIAddress(), upstream.String(); got != want {
		t.Errorf("UIAddress %q, want %q", got, want)
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	do := func(method, path string, hdr map[string]string, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, public.URL+path, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	// Signed out, the UI's page leads to the sign-in page.
	resp, body := do("GET", "/namespaces/default/workflows", map[string]string{"Accept": "text/html"}, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "工作人员登录 Staff sign-in") {
		t.Fatalf("signed out: %d\n%.300s", resp.StatusCode, body)
	}
	// Sign in: back to the page asked for, the UI's own.
	form := url.Values{"staff_id": {"s1"}, "password": {"pw"}, "next": {"/namespaces/default/workflows"}}
	resp, body = do("POST", "/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded",
		"Accept": "text/html"}, form.Encode())
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "<html") || strings.Contains(body, "Staff sign-in") {
		t.Fatalf("signed in: %d %s\n%.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, _ = do("GET", "/", map[string]string{"Accept": "text/html"}, "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}

	// The UI's settings: read-only, the codec with the browser's cookies.
	resp, body = do("GET", "/api/v1/settings", nil, "")
	var settings map[string]any
	if err := json.Unmarshal([]byte(body), &settings); err != nil || resp.StatusCode != 200 {
		t.Fatalf("settings: %d %v\n%.300s", resp.StatusCode, err, body)
	}
	for _, k := range []string{"DisableWriteActions", "WorkflowTerminateDisabled", "WorkflowCancelDisabled",
		"WorkflowSignalDisabled", "WorkflowUpdateDisabled", "WorkflowResetDisabled", "WorkflowPauseDisabled",
		"BatchActionsDisabled", "StartWorkflowDisabled", "ActivityCommandsDisabled"} {
		if settings[k] != true {
			t.Errorf("setting %s = %v, want true", k, settings[k])
		}
	}
	codecSettings, _ := settings["Codec"].(map[string]any)
	if codecSettings["Endpoint"] != public.URL+"/codec" || codecSettings["IncludeCredentials"] != true ||
		codecSettings["PassAccessToken"] != false {
		t.Errorf("codec settings %v", codecSettings)
	}

	// Reads pass; the UI's CSRF token travels in its _csrf cookie, as in a browser.
	resp, body = do("GET", "/api/v1/namespaces/default/workflows", nil, "")
	if resp.StatusCode != 200 || !strings.HasPrefix(strings.TrimSpace(body), "{") {
		t.Fatalf("list workflows: %d\n%.300s", resp.StatusCode, body)
	}
	csrf := ""
	for _, ck := range jar.Cookies(mustURL(public.URL)) {
		if ck.Name == "_csrf" {
			csrf = ck.Value
		}
	}
	if csrf == "" {
		t.Fatal("the UI set no _csrf cookie through the gate")
	}
	same := map[string]string{"X-CSRF-Token": csrf, "Content-Type": "application/json", "Sec-Fetch-Site": "same-origin",
		"Origin": public.URL}
	resp, body = do("POST", "/api/v1/namespaces/default/workflows/no-such-case/query/__stack_trace", same,
		`{"query":{"queryType":"__stack_trace"}}`)
	if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusMethodNotAllowed ||
		resp.StatusCode == http.StatusBadRequest || resp.StatusCode/100 == 2 {
		t.Errorf("query of a missing workflow: %d (want the server's not found)\n%.300s", resp.StatusCode, body)
	}
	t.Logf("query of a missing workflow through the gate: %d %.120s", resp.StatusCode, body)
	// Writes: refused by the gate, and by the UI server itself.
	resp, _ = do("POST", "/api/v1/namespaces/default/workflows/no-such-case/terminate", same, `{}`)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("terminate through the gate: %d, want 403", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", srv.UIAddress()+"/api/v1/namespaces/default/workflows/no-such-case/terminate",
		strings.NewReader(`{}`))
	req.Header.Set("Cookie", "_csrf=0123456789abcdef0123456789abcdef")
	req.Header.Set("X-CSRF-Token", "0123456789abcdef0123456789abcdef")
	req.Header.Set("Content-Type", "application/json")
	direct, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	direct.Body.Close()
	if direct.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("terminate on the UI server: %d, want 405", direct.StatusCode)
	}

	// Whatever companion files SQLite keeps while the server runs have the database's mode
	// (TestSQLiteCompanionsTakeTheDatabaseMode checks the write-ahead log's).
	for _, p := range []string{db, db + "-wal", db + "-shm", db + "-journal"} {
		if m := modeIfExists(p); m != 0 && m != 0o600 {
			t.Errorf("%s mode %o, want 600", filepath.Base(p), m)
		}
	}
	srv.Stop()
	if m := mode(t, db); m != 0o600 {
		t.Errorf("database mode %o", m)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("data folder mode %o, want 700", m)
	}
	t.Logf("server, UI and gate checked in %s", time.Since(begin).Round(time.Millisecond))
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
