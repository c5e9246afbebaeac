package uigate

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAuth knows two staff members: "s1" a supervisor, "c1" a clerk; both with password "pw";
// "locked" is refused with a public message.
type fakeAuth struct {
	mu       sync.Mutex
	sessions map[string][2]string // token -> staff ID, role
	n        int
}

type lockedError struct{}

func (lockedError) Error() string  { return "account locked until 12:00" }
func (lockedError) Public() string { return "账号已锁定 Account locked" }

func (a *fakeAuth) SignIn(_ context.Context, id, pw string) (string, time.Time, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if id == "locked" {
		return "", time.Time{}, lockedError{}
	}
	roles := map[string]string{"s1": "supervisor", "c1": "clerk"}
	role, ok := roles[id]
	if !ok || pw != "pw" {
		return "", time.Time{}, errors.New("wrong password for " + id)
	}
	a.n++
	tok := "tok-" + id + "-" + strconv.Itoa(a.n)
	if a.sessions == nil {
		a.sessions = map[string][2]string{}
	}
	a.sessions[tok] = [2]string{id, role}
	return tok, time.Now().Add(time.Hour), nil
}

func (a *fakeAuth) Authenticate(_ context.Context, tok string) (string, string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.sessions[tok]
	if !ok {
		return "", "", errors.New("invalid session")
	}
	return s[0], s[1], nil
}

func (a *fakeAuth) SignOut(_ context.Context, tok string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.sessions, tok)
	return nil
}

type seen struct {
	Method, Path, Cookie, Authorization string
}

type fixture struct {
	gate     *httptest.Server
	auth     *fakeAuth
	mu       sync.Mutex
	upstream []seen
	codec    []seen
	codecWho string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{auth: &fakeAuth{}}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.upstream = append(f.upstream, seen{r.Method, r.URL.EscapedPath(), r.Header.Get("Cookie"), r.Header.Get("Authorization")})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html>temporal ui</html>")
	}))
	t.Cleanup(up.Close)
	codec := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, role, _ := Staff(r.Context())
		f.mu.Lock()
		f.codec = append(f.codec, seen{r.Method, r.URL.Path + "?" + r.URL.RawQuery, r.Header.Get("Cookie"), ""})
		f.codecWho = id + "/" + role
		f.mu.Unlock()
		io.WriteString(w, `{"payloads":[]}`)
	})
	u, _ := url.Parse(up.URL)
	h, err := New(Options{Upstream: u, Auth: f.auth, Roles: []string{"supervisor"}, Codec: codec})
	if err != nil {
		t.Fatal(err)
	}
	f.gate = httptest.NewServer(h)
	t.Cleanup(f.gate.Close)
	return f
}

// client does not follow redirects, so that tests see them.
var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (f *fixture) do(t *testing.T, method, path string, body io.Reader, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, f.gate.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (f *fixture) signIn(t *testing.T, id, pw, next string) *http.Response {
	t.Helper()
	form := url.Values{"staff_id": {id}, "password": {pw}, "next": {next}}
	return f.do(t, "POST", "/login", strings.NewReader(form.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

func sessionCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	t.Fatalf("no session cookie; status %d", resp.StatusCode)
	return nil
}

func (f *fixture) cookieFor(t *testing.T, id string) string {
	t.Helper()
	return SessionCookie + "=" + sessionCookie(t, f.signIn(t, id, "pw", "")).Value
}

func bodyOf(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSignedOutBrowserGoesToLogin(t *testing.T) {
	f := newFixture(t)
	resp := f.do(t, "GET", "/namespaces/default/workflows?query=x", nil, map[string]string{"Accept": "text/html,*/*"})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303", resp.StatusCode)
	}
	want := "/login?next=" + url.QueryEscape("/namespaces/default/workflows?query=x")
	if got := resp.Header.Get("Location"); got != want {
		t.Fatalf("Location %q, want %q", got, want)
	}
	// The API answers 401 JSON.
	resp = f.do(t, "GET", "/api/v1/namespaces/default/workflows", nil, map[string]string{"Accept": "application/json"})
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("api: status %d %s, want 401 JSON", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// A forged cookie is no session.
	resp = f.do(t, "GET", "/api/v1/settings", nil, map[string]string{"Cookie": SessionCookie + "=forged"})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged cookie: status %d, want 401", resp.StatusCode)
	}
	if len(f.upstream) != 0 {
		t.Fatalf("upstream reached while signed out: %v", f.upstream)
	}
}

func TestLoginPage(t *testing.T) {
	f := newFixture(t)
	resp := f.do(t, "GET", "/login?next=/namespaces", nil, nil)
	body := bodyOf(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, "工作人员登录 Staff sign-in") ||
		!strings.Contains(body, "工号 Staff ID") || !strings.Contains(body, "密码 Password") ||
		!strings.Contains(body, `value="/namespaces"`) {
		t.Fatalf("login page: %d\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, "<script") {
		t.Fatalf("login page is not self-contained:\n%s", body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("CSP %q", csp)
	}
}

func TestLoginSetsCookieAndRedirects(t *testing.T) {
	f := newFixture(t)
	resp := f.signIn(t, "s1", "pw", "/namespaces/default/workflows?query=a%20b")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/namespaces/default/workflows?query=a%20b" {
		t.Fatalf("status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	c := sessionCookie(t, resp)
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure {
		t.Fatalf("cookie attributes: %+v", c)
	}
	if c.MaxAge < 3500 || c.MaxAge > 3600 {
		t.Fatalf("Max-Age %d, want about an hour", c.MaxAge)
	}
	// Signed in, the login page sends the supervisor on.
	resp = f.do(t, "GET", "/login?next=/x", nil, map[string]string{"Cookie": SessionCookie + "=" + c.Value})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/x" {
		t.Fatalf("signed-in login page: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestSecureCookie(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:1")
	h, err := New(Options{Upstream: u, Auth: &fakeAuth{}, Roles: []string{"supervisor"}, Secure: true})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/login", strings.NewReader("staff_id=s1&password=pw"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(rec, req)
	if c := sessionCookie(t, rec.Result()); !c.Secure {
		t.Fatalf("cookie not Secure: %+v", c)
	}
}

func TestWrongPasswordIsGeneric(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"s1", "nobody"} {
		resp := f.signIn(t, id, "wrong", "/")
		body := bodyOf(t, resp)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: status %d, want 401", id, resp.StatusCode)
		}
		if !strings.Contains(body, "工号或密码不正确 Staff ID or password is incorrect") || strings.Contains(body, "wrong password") {
			t.Fatalf("%s: message not generic:\n%s", id, body)
		}
		for _, c := range resp.Cookies() {
			if c.Name == SessionCookie {
				t.Fatalf("%s: cookie set on failure", id)
			}
		}
	}
	// A public error is shown as it is.
	resp := f.signIn(t, "locked", "pw", "/")
	if body := bodyOf(t, resp); resp.StatusCode != 401 || !strings.Contains(body, "账号已锁定 Account locked") ||
		strings.Contains(body, "12:00") {
		t.Fatalf("locked: %d\n%s", resp.StatusCode, body)
	}
}

func TestRoleNotAllowed(t *testing.T) {
	f := newFixture(t)
	cookie := f.cookieFor(t, "c1")
	resp := f.do(t, "GET", "/namespaces/default/workflows", nil, map[string]string{"Cookie": cookie, "Accept": "text/html"})
	body := bodyOf(t, resp)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Only supervisors may look at cases in the Web UI") {
		t.Fatalf("clerk: %d\n%s", resp.StatusCode, body)
	}
	resp = f.do(t, "POST", "/codec/decode", strings.NewReader(`{}`), map[string]string{"Cookie": cookie})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("clerk codec: %d", resp.StatusCode)
	}
	if len(f.upstream)+len(f.codec) != 0 {
		t.Fatalf("clerk reached the UI or codec: %v %v", f.upstream, f.codec)
	}
}

func TestWritesRefused(t *testing.T) {
	f := newFixture(t)
	cookie := f.cookieFor(t, "s1")
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/v1/namespaces/default/workflows/x/terminate"},
		{"POST", "/api/v1/namespaces/default/workflows/x/cancel"},
		{"POST", "/api/v1/namespaces/default/workflows/x/signal/escalate"},
		{"POST", "/api/v1/namespaces/default/workflows/x/update/decide"},
		{"POST", "/api/v1/namespaces/default/workflows/x/reset"},
		{"POST", "/api/v1/namespaces/default/workflows/new-case"},
		{"POST", "/api/v1/namespaces/default/batch-operations/b1"},
		{"POST", "/api/v1/namespaces/default/schedules/s1"},
		{"POST", "/api/v1/namespaces/default/schedules/s1/patch"},
		{"DELETE", "/api/v1/namespaces/default/schedules/s1"},
		{"POST", "/api/v1/namespaces/default/activities-deprecated/pause"},
		{"POST", "/api/v1/namespaces/default/workflows/x/activities/a/unpause"},
		{"PUT", "/api/v1/namespaces/default/workflows/x"},
		{"PATCH", "/api/v1/namespaces/default/workflows/x"},
		{"OPTIONS", "/api/v1/namespaces/default/workflows/x/terminate"},
		// A workflow called "query" is still terminated by this path: refused.
		{"POST", "/api/v1/namespaces/default/workflows/query/terminate"},
		// Look-alikes of the query route.
		{"POST", "/api/v1/namespaces/default/workflows/x/query/q/../../terminate"},
		{"POST", "/api/v1/namespaces/default/workflows/x%2Fquery%2Fq/terminate"},
		{"POST", "/api/v1/namespaces/default/workflows/../workflows/x/terminate"},
		{"POST", "/api/v1/namespaces/default/workflows//query/q"},
		{"POST", "/api/v1/namespaces/default/workflows/x/query/.."},
		{"POST", "/api/v1/namespaces/default/workflows/%2e%2e/query/q"},
		{"POST", "/"},
	} {
		resp := f.do(t, c.method, c.path, strings.NewReader("{}"), map[string]string{"Cookie": cookie})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s: status %d, want 403", c.method, c.path, resp.StatusCode)
		}
	}
	if len(f.upstream) != 0 {
		t.Fatalf("writes reached the UI: %v", f.upstream)
	}
}

func TestReadsPassWithoutTheSessionCookie(t *testing.T) {
	f := newFixture(t)
	cookie := f.cookieFor(t, "s1")
	hdr := map[string]string{"Cookie": cookie + "; _csrf=abc", "Authorization": "Bearer x"}
	for _, c := range []struct{ method, path string }{
		{"GET", "/namespaces/default/workflows"},
		{"GET", "/api/v1/namespaces/default/workflows/petition-2026-000001/history"},
		{"HEAD", "/"},
		{"POST", "/api/v1/namespaces/default/workflows/petition-2026-000001/query/__stack_trace"},
		{"POST", "/api/v1/namespaces/default/workflows/a%2Fb/query/status"},
	} {
		resp := f.do(t, c.method, c.path, strings.NewReader("{}"), hdr)
		if resp.StatusCode != 200 {
			t.Errorf("%s %s: status %d, want 200", c.method, c.path, resp.StatusCode)
		}
	}
	if len(f.upstream) != 5 {
		t.Fatalf("upstream saw %d requests, want 5: %v", len(f.upstream), f.upstream)
	}
	for _, s := range f.upstream {
		if strings.Contains(s.Cookie, SessionCookie) || strings.Contains(s.Cookie, "tok-") {
			t.Errorf("session cookie forwarded: %+v", s)
		}
		if s.Cookie != "_csrf=abc" {
			t.Errorf("other cookies not kept: %q", s.Cookie)
		}
		if s.Authorization != "" {
			t.Errorf("Authorization forwarded: %+v", s)
		}
	}
	if f.upstream[4].Path != "/api/v1/namespaces/default/workflows/a%2Fb/query/status" {
		t.Errorf("escaped path changed: %q", f.upstream[4].Path)
	}
	resp := f.do(t, "GET", "/api/v1/settings", nil, hdr)
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("API response Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
}

func TestCodecOnlySignedIn(t *testing.T) {
	f := newFixture(t)
	resp := f.do(t, "POST", "/codec/decode", strings.NewReader(`{"payloads":[]}`), map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("signed out: %d, want 401", resp.StatusCode)
	}
	resp = f.do(t, "OPTIONS", "/codec/decode", nil, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("signed out OPTIONS: %d, want 401", resp.StatusCode)
	}
	if len(f.codec) != 0 {
		t.Fatal("codec reached while signed out")
	}
	cookie := f.cookieFor(t, "s1")
	for _, p := range []string{"/codec/decode?preserveStorageRefs=true", "/codec/encode"} {
		resp = f.do(t, "POST", p, strings.NewReader(`{"payloads":[]}`),
			map[string]string{"Cookie": cookie + "; other=1", "Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"})
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
	}
	if f.codec[0].Path != "/decode?preserveStorageRefs=true" || f.codec[1].Path != "/encode?" {
		t.Fatalf("codec paths: %+v", f.codec)
	}
	if f.codec[0].Cookie != "other=1" || f.codecWho != "s1/supervisor" {
		t.Fatalf("codec request: %+v %q", f.codec[0], f.codecWho)
	}
	for _, c := range []struct {
		method, path string
		hdr          map[string]string
		want         int
	}{
		{"POST", "/codec/other", nil, 404},
		{"GET", "/codec/decode", nil, 405},
		{"POST", "/codec/decode", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"POST", "/codec/decode", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
	} {
		c.hdr = map[string]string{"Cookie": cookie, "Sec-Fetch-Site": c.hdr["Sec-Fetch-Site"]}
		if resp := f.do(t, c.method, c.path, strings.NewReader("{}"), c.hdr); resp.StatusCode != c.want {
			t.Errorf("%s %s %v: %d, want %d", c.method, c.path, c.hdr, resp.StatusCode, c.want)
		}
	}
}

func TestOpenRedirectRefused(t *testing.T) {
	for _, next := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example",
		"javascript:alert(1)", "evil.example", "/login", "/logout?x", "/a\r\nLocation: https://evil"} {
		if got := safeNext(next); got != "/" {
			t.Errorf("safeNext(%q) = %q, want /", next, got)
		}
	}
	for _, next := range []string{"/", "/namespaces/default/workflows?query=WorkflowId%3D%22x%22", "/namespaces/default/workflows/p%2F1/history"} {
		if got := safeNext(next); got != next {
			t.Errorf("safeNext(%q) = %q", next, got)
		}
	}
	f := newFixture(t)
	resp := f.signIn(t, "s1", "pw", "//evil.example/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-in with //evil: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestLoginRateLimit(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < loginBurst; i++ {
		if resp := f.signIn(t, "s1", "wrong", "/"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	resp := f.signIn(t, "s1", "pw", "/")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("attempt %d: %d, want 429", loginBurst+1, resp.StatusCode)
	}
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 6 {
		t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			t.Fatal("rate-limited attempt signed in")
		}
	}
	// The page itself is not limited.
	if resp := f.do(t, "GET", "/login", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("GET /login: %d", resp.StatusCode)
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t)
	cookie := f.cookieFor(t, "s1")
	if resp := f.do(t, "GET", "/logout", nil, map[string]string{"Cookie": cookie}); resp.StatusCode != 200 {
		t.Fatalf("GET /logout: %d", resp.StatusCode)
	}
	resp := f.do(t, "POST", "/logout", nil, map[string]string{"Cookie": cookie})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if c := sessionCookie(t, resp); c.MaxAge >= 0 || c.Value != "" {
		t.Fatalf("cookie not cleared: %+v", c)
	}
	if resp := f.do(t, "GET", "/api/v1/settings", nil, map[string]string{"Cookie": cookie}); resp.StatusCode != 401 {
		t.Fatalf("old session after logout: %d", resp.StatusCode)
	}
}

func TestCrossSiteLoginRefused(t *testing.T) {
	f := newFixture(t)
	form := url.Values{"staff_id": {"s1"}, "password": {"pw"}}
	resp := f.do(t, "POST", "/login", strings.NewReader(form.Encode()), map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site"})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site sign-in: %d", resp.StatusCode)
	}
}

func TestNewValidates(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:1")
	for _, o := range []Options{
		{Auth: &fakeAuth{}, Roles: []string{"supervisor"}},
		{Upstream: u, Roles: []string{"supervisor"}},
		{Upstream: u, Auth: &fakeAuth{}},
		{Upstream: u, Auth: &fakeAuth{}, Roles: []string{""}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func TestUnauthorizedJSON(t *testing.T) {
	f := newFixture(t)
	resp := f.do(t, "POST", "/api/v1/namespaces/default/workflows/x/terminate", nil, nil)
	var v map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != 401 || v["error"] == "" {
		t.Fatalf("%d %v %v", resp.StatusCode, v, err)
	}
}
