package api

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/sealing"
	"github.com/petitions/petitions/workflows"
)

// Pseudo-permissions of the route table: no credential needed, or any signed-in person.
const (
	permPublic   permission = "<public>"
	permSignedIn permission = "<signed in>"
)

// routePermissions is what every route needs, written out here independently of server.go:
// a route added there without an entry here fails TestEveryRouteHasAPermission, and a route
// guarded by another permission than the one written here fails TestPermissionTable.
var routePermissions = map[string]permission{
	"GET /healthz":                              permPublic,
	"GET /readyz":                               permPublic,
	"GET /openapi.yaml":                         permPublic,
	"POST /api/v1/auth/sign-in":                 permPublic,
	"POST /api/v1/auth/refresh":                 permPublic,
	"GET /api/v1/auth/oidc/login":               permPublic,
	"GET /api/v1/auth/oidc/callback":            permPublic,
	"GET /api/v1/public/petitions/:no":          permPublic,
	"POST /api/v1/public/petitions/:no/:action": permPublic,

	"POST /api/v1/auth/sign-out": permSignedIn,
	"GET /api/v1/auth/me":        permSignedIn,

	"POST /api/v1/petitions":                permRegister,
	"POST /api/v1/petitions/import":         permImport,
	"GET /api/v1/petitions":                 permReadCases,
	"GET /api/v1/petitions/:no":             permReadCases,
	"GET /api/v1/petitions/:no/events":      permReadCases,
	"GET /api/v1/petitions/:no/deadlines":   permReadCases,
	"POST /api/v1/petitions/:no/query-code": permReissueCode,
	"POST /api/v1/petitions/:no/:action":    permAct,
	"GET /api/v1/stats":                     permStats,
	"GET /api/v1/reports/monthly.csv":       permStats,
	"GET /api/v1/reports/monthly":           permStats,
	"GET /api/v1/reports/monthly.xlsx":      permStats,
	"GET /api/v1/petitioners/lookup":        permRegister,
	"GET /api/v1/units":                     permDirectory,
	"GET /api/v1/routing-rules":             permDirectory,
	"GET /api/v1/routing/suggestion":        permDirectory,
	"GET /api/v1/staff":                     permDirectory,
	"GET /api/v1/calendars/:year":           permDirectory,
	"GET /api/v1/policies":                  permDirectory,
	"PUT /api/v1/calendars/:year":           permAdminister,
	"POST /api/v1/units":                    permAdminister,
	"PUT /api/v1/units/:code":               permAdminister,
	"POST /api/v1/routing-rules":            permAdminister,
	"PUT /api/v1/routing-rules/:id":         permAdminister,
	"PUT /api/v1/policies/:name":            permAdminister,
	"GET /api/v1/admin/staff":               permAdminister,
	"POST /api/v1/admin/staff":              permAdminister,
	"PATCH /api/v1/admin/staff/:id":         permAdminister,
	"PUT /api/v1/admin/staff/:id/password":  permAdminister,
	"GET /api/v1/admin/tokens":              permAdminister,
	"POST /api/v1/admin/tokens":             permAdminister,
	"DELETE /api/v1/admin/tokens/:id":       permAdminister,
	"GET /api/v1/admin/audit":               permAdminister,
	"GET /api/v1/admin/personal-data-reads": permAdminister,

	// Monthly dispute screening (screening.go).
	"GET /api/v1/screening/rounds":                    permScreeningRead,
	"GET /api/v1/screening/rounds/:month":             permScreeningRead,
	"GET /api/v1/screening/rounds/:month/ledger.csv":  permScreeningRead,
	"GET /api/v1/screening/rounds/:month/ledger.xlsx": permScreeningRead,
	"POST /api/v1/screening/rounds/:month/reports":    permScreeningFile,
	"POST /api/v1/screening/disputes/:id/case":        permScreeningCase,

	// Leader reception days and appointments (reception.go).
	"GET /api/v1/public/reception-days":            permPublic,
	"GET /api/v1/reception-days":                   permReceptionRead,
	"POST /api/v1/reception-days":                  permReceptionManage,
	"POST /api/v1/reception-days/:id/cancel":       permReceptionManage,
	"GET /api/v1/reception-days/:id/appointments":  permReceptionRecord,
	"POST /api/v1/reception-days/:id/appointments": permReceptionManage,
	"POST /api/v1/appointments/:id/receive":        permReceptionReceive,
	"POST /api/v1/appointments/:id/no-show":        permReceptionReceive,
	"GET /api/v1/reception-record":                 permReceptionRecord,

	// The codec server (codecServer only) checks credentials itself: POST for supervisors,
	// CORS preflights (which carry no credentials) for anyone.
	"POST /codec/encode":    permCodec,
	"POST /codec/decode":    permCodec,
	"OPTIONS /codec/encode": permPublic,
	"OPTIONS /codec/decode": permPublic,
}

// codecServer is nilServer with the codec server at /codec (sealed with the test keyring).
func codecServer() *Server {
	return New(Config{
		Policies: testPolicies, Now: func() time.Time { return fixedNow }, Logger: quietLog,
		Register: offlineRegister{}, Auth: fakeAuth{}, Accounts: fakeAuth{},
		Codec: sealing.NewCodec(sealing.TestKeyring()),
	})
}

// pathParam fills a route's parameters with plausible values.
var pathParam = regexp.MustCompile(`:[a-z_]+`)

func concretePath(route string) string {
	return pathParam.ReplaceAllStringFunc(route, func(p string) string {
		switch p {
		case ":no":
			return "2026-000001"
		case ":action":
			return "accept"
		case ":year":
			return "2026"
		case ":code":
			return "petition_office"
		case ":id":
			if strings.Contains(route, "routing-rules") {
				return "1"
			}
			return "clerk-2"
		case ":name":
			return "default"
		}
		return "x"
	})
}

type route struct{ method, path string }

// engineRoutes lists the server's routes as "METHOD path" keys.
func engineRoutes(s *Server) []route {
	var out []route
	for _, r := range s.engine.Routes() {
		out = append(out, route{r.Method, r.Path})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path+out[i].method < out[j].path+out[j].method })
	return out
}

func bodyFor(method string) any {
	if method == http.MethodGet || method == http.MethodDelete {
		return nil
	}
	return `{}`
}

func TestEveryRouteHasAPermission(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range engineRoutes(codecServer()) {
		key := r.method + " " + r.path
		seen[key] = true
		if _, ok := routePermissions[key]; !ok {
			t.Errorf("route %s has no entry in routePermissions: say which permission it needs", key)
		}
	}
	for key := range routePermissions {
		if !seen[key] {
			t.Errorf("routePermissions names %s, which is not a route", key)
		}
	}
	// Every permission guards some route, and every role is known.
	used := map[permission]bool{}
	for _, p := range routePermissions {
		used[p] = true
	}
	for perm, rs := range permissions {
		if !used[perm] {
			t.Errorf("permission %q guards no route", perm)
		}
		for _, r := range rs {
			if !slices.Contains(allRoles, string(r)) {
				t.Errorf("permission %q names unknown role %q", perm, r)
			}
		}
	}
	for _, r := range allRoles {
		if _, ok := scopes[workflows.Role(r)]; !ok {
			t.Errorf("role %s has no case scope", r)
		}
	}
}

// TestUnauthenticated: every route but the public ones wants a credential, and says so with
// 401 and WWW-Authenticate.
func TestUnauthenticated(t *testing.T) {
	s := codecServer()
	for _, r := range engineRoutes(s) {
		perm := routePermissions[r.method+" "+r.path]
		if perm == permPublic || perm == "" {
			continue
		}
		path := concretePath(r.path)
		for _, h := range []string{
			"",        // none
			"Basic x", // another scheme
			"Bearer",  // scheme alone
			"Bearer ", // empty token
			"Bearer    ",
			"Bearer not-a-test-token",
			"Bearer test-clerk-petition_office-" + strings.Repeat("x", 600), // over 512 bytes
			"bearer-" + tokenFor("clerk"),
			tokenFor("clerk"), // a token without its scheme
		} {
			w, body := do(t, s, r.method, path, bodyFor(r.method), "Authorization", h)
			if w.Code != http.StatusUnauthorized {
				t.Errorf("%s %s with Authorization %.30q: status %d %v, want 401", r.method, path, h, w.Code, body)
				continue
			}
			// The codec server (internal/sealing) answers its own 401 without the header.
			if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") && perm != permCodec {
				t.Errorf("%s %s: WWW-Authenticate = %q", r.method, path, got)
			}
			if msg, _ := body["error"].(string); !strings.Contains(msg, "sign in") {
				t.Errorf("%s %s: error %q", r.method, path, msg)
			}
		}
	}
}

// TestPublicRoutes: probes, the API description, signing in and the petitioner's
// self-service need no credential.
func TestPublicRoutes(t *testing.T) {
	s := nilServer()
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
	}{
		{http.MethodGet, "/healthz", nil, http.StatusOK},
		{http.MethodGet, "/openapi.yaml", nil, http.StatusOK},
		{http.MethodGet, "/readyz", nil, http.StatusServiceUnavailable}, // no register, no Temporal
		{http.MethodPost, "/api/v1/auth/sign-in", `{"staff_id": 7}`, http.StatusBadRequest},
		{http.MethodPost, "/api/v1/auth/sign-in", `{"staff_id": "", "password": ""}`, http.StatusBadRequest},
		{http.MethodPost, "/api/v1/auth/sign-in", `{"staff_id": "clerk-1", "password": "wrong"}`, http.StatusUnauthorized},
		{http.MethodPost, "/api/v1/auth/refresh", nil, http.StatusBadRequest},
		{http.MethodPost, "/api/v1/auth/refresh", `{"refresh_token": "stale"}`, http.StatusUnauthorized},
		{http.MethodGet, "/api/v1/auth/oidc/login", nil, http.StatusNotFound}, // single sign-on is off
		{http.MethodGet, "/api/v1/public/petitions/2026-000001", nil, http.StatusBadRequest},
		{http.MethodGet, "/api/v1/public/petitions/bad%20no", nil, http.StatusBadRequest},
		{http.MethodPost, "/api/v1/public/petitions/2026-000001/evaluate", `{}`, http.StatusBadRequest},
		{http.MethodPost, "/api/v1/public/petitions/2026-000001/dance", `{}`, http.StatusNotFound},
	} {
		w, body := do(t, s, tc.method, tc.path, tc.body, "Authorization", "")
		if w.Code != tc.status {
			t.Errorf("%s %s %v: status %d %v, want %d", tc.method, tc.path, tc.body, w.Code, body, tc.status)
		}
	}
	// Without a query code the petitioner is told what to send.
	_, body := do(t, s, http.MethodGet, "/api/v1/public/petitions/2026-000001", nil, "Authorization", "")
	if fields, _ := body["fields"].(map[string]any); fields["query_code"] == nil {
		t.Errorf("no query code: %v", body)
	}
}

// TestPermissionTable: for every authenticated route and every role, a role without the
// route's permission gets 403 naming it; a role with it gets past the check.
func TestPermissionTable(t *testing.T) {
	s := codecServer()
	for _, r := range engineRoutes(s) {
		perm := routePermissions[r.method+" "+r.path]
		if perm == permPublic || perm == "" {
			continue
		}
		path := concretePath(r.path)
		for _, role := range append(slices.Clone(allRoles), "petitioner", "nobody") {
			w, body := do(t, s, r.method, path, bodyFor(r.method), "Authorization", bearer(role))
			msg, _ := body["error"].(string)
			refused := w.Code == http.StatusForbidden && strings.Contains(msg, " may not ")
			if perm == permCodec { // the codec server words its refusal itself
				refused = w.Code == http.StatusForbidden && strings.Contains(msg, "only supervisors")
			}
			want := perm == permSignedIn || slices.Contains(permissions[perm], workflows.Role(role))
			switch {
			case w.Code == http.StatusUnauthorized:
				t.Errorf("%s %s as %s: 401 with a valid token", r.method, path, role)
			case want && refused:
				t.Errorf("%s %s as %s: refused (%s), but %s may %s", r.method, path, role, msg, role, perm)
			case !want && !refused:
				t.Errorf("%s %s as %s: status %d %v, want 403: a %s may not %s", r.method, path, role, w.Code, body, role, perm)
			case !want && perm != permCodec && msg != "the role "+role+" may not "+string(perm):
				t.Errorf("%s %s as %s: 403 %q, want it to name the permission %q", r.method, path, role, msg, perm)
			case w.Code >= 500 && !isNotConfigured(w.Code, body):
				t.Errorf("%s %s as %s: status %d %v", r.method, path, role, w.Code, body)
			}
		}
	}
}

// TestPermissionSpotChecks pins a few decisions of the permission table by name, so that an
// edit of authz.go that changes them shows up here too.
func TestPermissionSpotChecks(t *testing.T) {
	s := nilServer()
	for _, tc := range []struct {
		role, method, path string
		forbidden          bool
	}{
		{"admin", http.MethodGet, "/api/v1/petitions", true}, // the admin reads no case content
		{"admin", http.MethodGet, "/api/v1/petitions/2026-000001", true},
		{"admin", http.MethodGet, "/api/v1/stats", true},
		{"admin", http.MethodPost, "/api/v1/petitions/2026-000001/accept", true},
		{"clerk", http.MethodPut, "/api/v1/calendars/2026", true},
		{"supervisor", http.MethodPut, "/api/v1/calendars/2026", true},
		{"admin", http.MethodPut, "/api/v1/calendars/2026", false},
		{"handler", http.MethodPost, "/api/v1/petitions", true},
		{"leader", http.MethodPost, "/api/v1/petitions", true},
		{"reviewer", http.MethodPost, "/api/v1/petitions", true},
		{"supervisor", http.MethodPost, "/api/v1/petitions", true},
		{"clerk", http.MethodPost, "/api/v1/petitions", false},
		{"handler", http.MethodPost, "/api/v1/petitions/2026-000001/query-code", true},
		{"supervisor", http.MethodPost, "/api/v1/petitions/2026-000001/query-code", false},
		{"clerk", http.MethodGet, "/api/v1/admin/staff", true},
		{"supervisor", http.MethodGet, "/api/v1/admin/audit", true},
		{"leader", http.MethodPost, "/api/v1/admin/tokens", true},
		{"reviewer", http.MethodDelete, "/api/v1/admin/tokens/t1", true},
		{"handler", http.MethodGet, "/api/v1/admin/personal-data-reads", true},
		{"admin", http.MethodGet, "/api/v1/admin/staff", false},
		{"admin", http.MethodGet, "/api/v1/units", false},
		{"handler", http.MethodGet, "/api/v1/units", false},
	} {
		w, body := do(t, s, tc.method, tc.path, bodyFor(tc.method), "Authorization", bearer(tc.role))
		if got := w.Code == http.StatusForbidden; got != tc.forbidden || w.Code == http.StatusUnauthorized {
			t.Errorf("%s %s as %s: status %d %v, want forbidden=%v", tc.method, tc.path, tc.role, w.Code, body, tc.forbidden)
		}
	}
}

func TestMe(t *testing.T) {
	w, body := do(t, nilServer(), http.MethodGet, "/api/v1/auth/me", nil, "Authorization", bearer("supervisor"))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d %v", w.Code, body)
	}
	staff, _ := body["staff"].(map[string]any)
	if staff["id"] != "supervisor-1" || staff["role"] != "supervisor" || staff["unit"] != testUnit {
		t.Errorf("staff = %v", staff)
	}
	var perms []string
	for _, p := range body["permissions"].([]any) {
		perms = append(perms, p.(string))
	}
	if !slices.Contains(perms, string(permCodec)) || slices.Contains(perms, string(permAdminister)) || !slices.IsSorted(perms) {
		t.Errorf("permissions = %v", perms)
	}
}

// cookieRequest sends a request with the browser session: the session cookie, optionally
// the CSRF cookie, and optionally the X-CSRF-Token header.
func cookieRequest(t *testing.T, s *Server, method, path, body, session, csrfCookie, csrfHeader string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: cookieSession, Value: session})
	if csrfCookie != "" {
		req.AddCookie(&http.Cookie{Name: cookieCSRF, Value: csrfCookie})
	}
	if csrfHeader != "" {
		req.Header.Set(headerCSRF, csrfHeader)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	return w, jsonBody(t, method+" "+path, w)
}

func TestCookieSessionsNeedCSRFTokenForUnsafeMethods(t *testing.T) {
	s := nilServer()
	clerk := tokenFor("clerk")
	for _, tc := range []struct {
		name                    string
		method, path, body      string
		session, cookie, header string
		status                  int
	}{
		{"GET with only the cookie", http.MethodGet, "/api/v1/auth/me", "", clerk, "", "", http.StatusOK},
		{"GET with a bad session", http.MethodGet, "/api/v1/auth/me", "", "stale", "", "", http.StatusUnauthorized},
		{"GET with an empty session", http.MethodGet, "/api/v1/auth/me", "", "", "", "", http.StatusUnauthorized},
		{"POST without CSRF", http.MethodPost, "/api/v1/petitions", `{}`, clerk, "", "", http.StatusForbidden},
		{"POST with the CSRF cookie only", http.MethodPost, "/api/v1/petitions", `{}`, clerk, "c5rf", "", http.StatusForbidden},
		{"POST with the CSRF header only", http.MethodPost, "/api/v1/petitions", `{}`, clerk, "", "c5rf", http.StatusForbidden},
		{"POST with a wrong CSRF header", http.MethodPost, "/api/v1/petitions", `{}`, clerk, "c5rf", "c5rg", http.StatusForbidden},
		{"POST with a longer CSRF header", http.MethodPost, "/api/v1/petitions", `{}`, clerk, "c5rf", "c5rf2", http.StatusForbidden},
		{"POST with the matching CSRF header", http.MethodPost, "/api/v1/petitions", `{}`, clerk, "c5rf", "c5rf", http.StatusBadRequest},
		{"PUT without CSRF", http.MethodPut, "/api/v1/calendars/2026", `{}`, tokenFor("admin"), "", "", http.StatusForbidden},
		{"DELETE without CSRF", http.MethodDelete, "/api/v1/admin/tokens/t1", ``, tokenFor("admin"), "", "", http.StatusForbidden},
		{"sign-out without CSRF", http.MethodPost, "/api/v1/auth/sign-out", ``, clerk, "", "", http.StatusForbidden},
		{"sign-out with CSRF", http.MethodPost, "/api/v1/auth/sign-out", ``, clerk, "c5rf", "c5rf", http.StatusNoContent},
	} {
		w, body := cookieRequest(t, s, tc.method, tc.path, tc.body, tc.session, tc.cookie, tc.header)
		if w.Code != tc.status {
			t.Errorf("%s: status %d %v, want %d", tc.name, w.Code, body, tc.status)
		}
		if w.Code == http.StatusForbidden {
			if msg, _ := body["error"].(string); !strings.Contains(msg, headerCSRF) {
				t.Errorf("%s: error %q does not name %s", tc.name, msg, headerCSRF)
			}
		}
	}
	// The Authorization header wins over the cookie, and needs no CSRF token.
	req := httptest.NewRequest(http.MethodPost, "/api/v1/petitions", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer stale")
	req.AddCookie(&http.Cookie{Name: cookieSession, Value: clerk})
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("bad bearer with a good cookie: status %d, want 401", w.Code)
	}
	// Signing out clears the browser's cookies.
	w, _ = cookieRequest(t, s, http.MethodPost, "/api/v1/auth/sign-out", "", clerk, "c5rf", "c5rf")
	cleared := map[string]bool{}
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			cleared[c.Name] = true
		}
	}
	for _, name := range []string{cookieSession, cookieRefresh, cookieCSRF} {
		if !cleared[name] {
			t.Errorf("sign-out did not clear cookie %s", name)
		}
	}
}

func TestCheckActorField(t *testing.T) {
	p := Principal{StaffID: "clerk-1", Role: "clerk"}
	for actor, ok := range map[string]bool{
		"":              true,
		"clerk-1":       true,
		"  clerk-1\n":   true,
		"clerk-2":       false,
		"Clerk-1":       false,
		"petitioner":    false,
		"clerk-1\x00":   false,
		"clerk-1 other": false,
	} {
		err := checkActorField(p, actor)
		if (err == nil) != ok {
			t.Errorf("checkActorField(%q) = %v, want ok=%v", actor, err, ok)
		}
		if status, _ := classify(err); err != nil && status != http.StatusForbidden {
			t.Errorf("checkActorField(%q): status %d, want 403", actor, status)
		}
	}

	s := nilServer()
	m := validPetition()
	m["actor"] = "clerk-2"
	if w, body := do(t, s, http.MethodPost, "/api/v1/petitions", m); w.Code != http.StatusForbidden {
		t.Errorf("registration naming another actor: status %d %v, want 403", w.Code, body)
	}
	m["actor"] = "clerk-1"
	if w, body := do(t, s, http.MethodPost, "/api/v1/petitions", m); !isNotConfigured(w.Code, body) {
		t.Errorf("registration naming the signed-in clerk: status %d %v, want 503 (passed, no register)", w.Code, body)
	}
	if w, body := do(t, s, http.MethodPost, "/api/v1/petitions/2026-000001/reply", `{"actor":"handler-1","opinion":"ok"}`,
		"Authorization", bearer("handler")); !isNotConfigured(w.Code, body) {
		t.Errorf("action naming the signed-in handler: status %d %v, want 503", w.Code, body)
	}
	if w, body := do(t, s, http.MethodPost, "/api/v1/petitions/2026-000001/reply", `{"actor":"handler-2","opinion":"ok"}`,
		"Authorization", bearer("handler")); w.Code != http.StatusForbidden {
		t.Errorf("action naming another handler: status %d %v, want 403", w.Code, body)
	}
	if w, body := do(t, s, http.MethodPost, "/api/v1/petitions/2026-000001/withdraw", `{"actor":"petitioner"}`); w.Code != http.StatusForbidden {
		t.Errorf(`staff acting as "petitioner": status %d %v, want 403`, w.Code, body)
	}
}
