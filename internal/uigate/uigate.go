// Package uigate puts a staff sign-in in front of the Temporal Web UI.
//
// The Web UI server has no sign-in of its own and shows every case: who petitioned, whom they
// accuse. The gate listens on the public UI port and proxies to the UI server on an internal
// loopback port, for signed-in staff whose role is allowed (the office: supervisors) and for
// nobody else. It also serves the payload codec at /codec/, so that the UI decodes encrypted
// payloads in the browser of an allowed supervisor and of nobody else, and it refuses any
// request that could change a case, beside the UI server's own write switches.
//
// Routes:
//
//	GET  /login            the sign-in page (no session needed)
//	POST /login            sign in: sets the session cookie, 303 to a local "next" path or /
//	GET  /logout           a page with a sign-out button
//	POST /logout           sign out: clears the cookie, 303 to /login
//	POST /codec/encode     Options.Codec, for allowed roles (also OPTIONS)
//	POST /codec/decode     Options.Codec, for allowed roles (also OPTIONS)
//	anything else          the UI server, for allowed roles; reads only (see below)
//
// Requests reach the UI server only as GET or HEAD, plus the one POST that reads, a
// workflow query:
//
//	POST /api/v1/namespaces/{namespace}/workflows/{workflow_id}/query/{query_type}
//
// Every other method and route is refused with 403 (an allow-list: routes added to the UI
// server later stay closed). In ui-server v2.54.1 with go.temporal.io/api v1.63.5 that refuses
// every write the UI's HTTP API offers: start, signal, signal-with-start, update, cancel,
// terminate, reset, pause/unpause of workflows and activities, activity options and
// completion, batch operations, schedule create/update/patch/delete, namespace
// register/update, worker deployments and versioning, workflow rules, Nexus endpoints and
// operations, task queue config, worker config and heartbeats. Two other POST routes are
// reads but the UI's read views do not use them, so they stay closed too: FetchWorkerConfig
// (.../workers/fetch-config) and ValidateWorkerDeploymentVersionComputeConfig
// (.../validate-compute-config). The UI's own auth routes (/auth/...) are GET, and its CSRF
// token travels in the _csrf cookie set on GET responses, so neither needs a POST.
//
// Toward the UI server the gate removes its session cookie, the Authorization and
// Authorization-Extras headers (the UI's OIDC sign-in is off; the gate is the sign-in) and
// method-override headers.
package uigate

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// SessionCookie is the name of the gate's session cookie. It holds the Authenticator's token,
// is HttpOnly and SameSite=Strict, and is never passed to the UI server or the codec.
const SessionCookie = "petitions_ui_session"

// Authenticator checks staff credentials and sessions (the register's staff sign-in).
type Authenticator interface {
	// SignIn checks a staff member's password and returns a session token (opaque) and its expiry.
	SignIn(ctx context.Context, staffID, password string) (token string, expires time.Time, err error)
	// Authenticate returns who holds a session token, with their role; an error for an invalid one.
	Authenticate(ctx context.Context, token string) (staffID, role string, err error)
	SignOut(ctx context.Context, token string) error
}

// PublicError is an error whose Public text may be shown on the sign-in page, e.g. "account
// locked". Any other SignIn error shows a generic message that does not tell whether the
// staff ID exists.
type PublicError interface {
	error
	Public() string
}

// Options configures the gate.
type Options struct {
	Upstream *url.URL      // the UI server on its internal port
	Auth     Authenticator // required
	Roles    []string      // roles allowed to look (the office: "supervisor"); at least one
	// Codec serves /codec/encode and /codec/decode, only for allowed roles. It gets the
	// request with the "/codec" prefix stripped (URL.Path "/encode" or "/decode", query kept),
	// without the session cookie, and with the staff member in the context (see Staff).
	// Nil: /codec/ answers 404.
	Codec  http.Handler
	Secure bool         // cookies marked Secure (behind TLS)
	Logger *slog.Logger // sign-ins, sign-outs, refusals; default discards
}

// Sign-in attempts allowed per client IP: a burst of loginBurst, refilled at loginEvery.
const (
	loginBurst = 10
	loginEvery = time.Minute / loginBurst
)

type gate struct {
	opts    Options
	roles   map[string]bool
	proxy   *httputil.ReverseProxy
	limiter *ipLimiter
	log     *slog.Logger
}

// New returns the gate's handler.
func New(opts Options) (http.Handler, error) {
	if opts.Upstream == nil || opts.Upstream.Scheme == "" || opts.Upstream.Host == "" {
		return nil, errors.New("uigate: Upstream must be an absolute URL")
	}
	if opts.Auth == nil {
		return nil, errors.New("uigate: Auth is required")
	}
	g := &gate{opts: opts, roles: map[string]bool{}, log: opts.Logger,
		limiter: newIPLimiter(rate.Every(loginEvery), loginBurst)}
	for _, r := range opts.Roles {
		if r != "" {
			g.roles[r] = true
		}
	}
	if len(g.roles) == 0 {
		return nil, errors.New("uigate: Roles must name at least one role")
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil // the UI server is local: never through an environment proxy
	upstream := *opts.Upstream
	g.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&upstream)
			removeCookie(pr.Out.Header, SessionCookie)
			for _, h := range []string{"Authorization", "Authorization-Extras",
				"X-Http-Method-Override", "X-Http-Method", "X-Method-Override"} {
				pr.Out.Header.Del(h)
			}
		},
		Transport:     transport,
		FlushInterval: -1, // stream: the UI long-polls history
		ModifyResponse: func(resp *http.Response) error {
			if strings.HasPrefix(resp.Request.URL.Path, "/api/") {
				// Case data stays out of the browser's disk cache.
				resp.Header.Set("Cache-Control", "no-store")
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			g.log.Error("temporal UI proxy", "path", r.URL.Path, "error", err)
			http.Error(w, "Temporal Web UI unavailable", http.StatusBadGateway)
		},
	}
	return g, nil
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == "/login":
		g.login(w, r)
	case p == "/logout":
		g.logout(w, r)
	case p == "/codec" || strings.HasPrefix(p, "/codec/"):
		g.codec(w, r)
	default:
		g.upstream(w, r)
	}
}

type staffKey struct{}

type staff struct{ id, role string }

// Staff returns the signed-in staff member a request passed the gate for; the codec handler
// may use it to log who decoded what.
func Staff(ctx context.Context) (staffID, role string, ok bool) {
	s, ok := ctx.Value(staffKey{}).(staff)
	return s.id, s.role, ok
}

// session returns the staff member holding the request's session cookie.
func (g *gate) session(r *http.Request) (staff, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return staff{}, false
	}
	id, role, err := g.opts.Auth.Authenticate(r.Context(), c.Value)
	if err != nil {
		return staff{}, false
	}
	return staff{id, role}, true
}

// admit lets through a signed-in staff member with an allowed role; otherwise it answers
// (303 to the sign-in page, 401 or 403) and returns false.
func (g *gate) admit(w http.ResponseWriter, r *http.Request) (staff, bool) {
	s, ok := g.session(r)
	if !ok {
		if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return staff{}, false
		}
		writeJSON(w, http.StatusUnauthorized, "sign-in required: /login")
		return staff{}, false
	}
	if !g.roles[s.role] {
		g.log.Info("UI access refused: role not allowed", "staff_id", s.id, "role", s.role, "path", r.URL.Path)
		if strings.Contains(r.Header.Get("Accept"), "text/html") {
			renderPage(w, http.StatusForbidden, forbiddenPage, nil)
		} else {
			writeJSON(w, http.StatusForbidden, "only supervisors may look at cases in the Web UI")
		}
		return staff{}, false
	}
	return s, true
}

func (g *gate) upstream(w http.ResponseWriter, r *http.Request) {
	s, ok := g.admit(w, r)
	if !ok {
		return
	}
	if !readOnly(r.Method, r.URL.EscapedPath()) {
		g.log.Warn("UI write refused", "staff_id", s.id, "method", r.Method, "path", r.URL.Path)
		writeJSON(w, http.StatusForbidden, "the Web UI is read-only")
		return
	}
	g.log.Debug("UI request", "staff_id", s.id, "method", r.Method, "path", r.URL.Path)
	g.proxy.ServeHTTP(w, r)
}

// readOnly reports whether a request may reach the UI server: GET and HEAD anywhere, and the
// workflow query POST /api/v1/namespaces/{ns}/workflows/{id}/query/{type}. The path is
// matched by its escaped segments, so an ID holding "/query/" (sent as %2Fquery%2F) cannot
// make a terminate look like a query.
func readOnly(method, escapedPath string) bool {
	switch method {
	case http.MethodGet, http.MethodHead:
		return true
	case http.MethodPost:
		seg := strings.Split(escapedPath, "/")
		return len(seg) == 9 && seg[0] == "" && seg[1] == "api" && seg[2] == "v1" &&
			seg[3] == "namespaces" && name(seg[4]) && seg[5] == "workflows" && name(seg[6]) &&
			seg[7] == "query" && name(seg[8])
	}
	return false
}

// name reports whether an escaped path segment is a plain value: not empty, not a dot segment.
func name(seg string) bool {
	v, err := url.PathUnescape(seg)
	return err == nil && v != "" && v != "." && v != ".."
}

func (g *gate) codec(w http.ResponseWriter, r *http.Request) {
	if g.opts.Codec == nil || (r.URL.Path != "/codec/encode" && r.URL.Path != "/codec/decode") {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodOptions {
		w.Header().Set("Allow", "POST, OPTIONS")
		writeJSON(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	s, ok := g.admit(w, r)
	if !ok {
		return
	}
	if crossSite(r) {
		writeJSON(w, http.StatusForbidden, "cross-site request refused")
		return
	}
	out := r.Clone(context.WithValue(r.Context(), staffKey{}, s))
	out.URL.Path = strings.TrimPrefix(r.URL.Path, "/codec")
	out.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, "/codec")
	out.RequestURI = out.URL.RequestURI()
	removeCookie(out.Header, SessionCookie)
	w.Header().Set("Cache-Control", "no-store")
	g.log.Debug("codec request", "staff_id", s.id, "path", out.URL.Path,
		"namespace", r.Header.Get("X-Namespace"))
	g.opts.Codec.ServeHTTP(w, out)
}

func (g *gate) login(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		next := safeNext(r.URL.Query().Get("next"))
		if s, ok := g.session(r); ok && g.roles[s.role] {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
		renderPage(w, http.StatusOK, loginPage, loginData{Next: next})
	case http.MethodPost:
		g.signIn(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (g *gate) signIn(w http.ResponseWriter, r *http.Request) {
	ip := clientIP(r)
	if crossSite(r) {
		http.Error(w, "cross-site sign-in refused", http.StatusForbidden)
		return
	}
	if wait, ok := g.limiter.allow(ip); !ok {
		g.log.Warn("UI sign-in rate limited", "remote", ip)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
		renderPage(w, http.StatusTooManyRequests, loginPage, loginData{
			Message: "尝试次数过多，请稍后再试 Too many attempts, try again later", Next: "/"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	staffID := strings.TrimSpace(r.PostForm.Get("staff_id"))
	password := r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	failed := func(msg string) {
		renderPage(w, http.StatusUnauthorized, loginPage, loginData{Message: msg, StaffID: staffID, Next: next})
	}
	const generic = "工号或密码不正确 Staff ID or password is incorrect"
	if staffID == "" || password == "" {
		failed(generic)
		return
	}
	token, expires, err := g.opts.Auth.SignIn(r.Context(), staffID, password)
	if err != nil {
		g.log.Warn("UI sign-in refused", "staff_id", staffID, "remote", ip, "error", err)
		var pub PublicError
		if errors.As(err, &pub) && pub.Public() != "" {
			failed(pub.Public())
		} else {
			failed(generic)
		}
		return
	}
	c := &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: g.opts.Secure}
	if !expires.IsZero() {
		c.Expires = expires
		c.MaxAge = max(1, int(time.Until(expires).Seconds()))
	}
	http.SetCookie(w, c)
	g.log.Info("UI sign-in", "staff_id", staffID, "remote", ip)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (g *gate) logout(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		renderPage(w, http.StatusOK, logoutPage, nil)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if crossSite(r) {
		http.Error(w, "cross-site sign-out refused", http.StatusForbidden)
		return
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		id, _, _ := g.opts.Auth.Authenticate(r.Context(), c.Value)
		if err := g.opts.Auth.SignOut(r.Context(), c.Value); err != nil {
			g.log.Warn("UI sign-out", "staff_id", id, "error", err)
		} else {
			g.log.Info("UI sign-out", "staff_id", id, "remote", clientIP(r))
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: g.opts.Secure})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext returns a local path to go to after signing in, or "/": absolute URLs, "//host"
// and "/\host" (which browsers read as "//host") are refused, as are the gate's own pages.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || next[0] != '/' || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\") {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	if u.Path == "/login" || u.Path == "/logout" {
		return "/"
	}
	return next
}

// crossSite reports a browser request made from another site's page (Sec-Fetch-Site); ports
// do not make sites, so this also stops pages on other local ports.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return false
	}
	return true
}

// clientIP is the TCP peer's address: the gate faces browsers directly. Behind a TLS
// terminator every client shares its address and thus one rate limit.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// removeCookie takes one cookie out of a request's Cookie headers, keeping the others.
func removeCookie(h http.Header, name string) {
	if len(h.Values("Cookie")) == 0 {
		return
	}
	var keep []string
	for _, c := range (&http.Request{Header: h}).Cookies() {
		if c.Name != name {
			keep = append(keep, (&http.Cookie{Name: c.Name, Value: c.Value, Quoted: c.Quoted}).String())
		}
	}
	h.Del("Cookie")
	if len(keep) > 0 {
		h.Set("Cookie", strings.Join(keep, "; "))
	}
}

func writeJSON(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// ipLimiter keeps one token bucket per client IP, forgetting full buckets now and then.
type ipLimiter struct {
	mu        sync.Mutex
	every     rate.Limit
	burst     int
	byIP      map[string]*rate.Limiter
	lastSweep time.Time
}

func newIPLimiter(every rate.Limit, burst int) *ipLimiter {
	return &ipLimiter{every: every, burst: burst, byIP: map[string]*rate.Limiter{}, lastSweep: time.Now()}
}

// allow takes a token for ip; when none is left it returns how long until one is.
func (l *ipLimiter) allow(ip string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.lastSweep) > time.Minute {
		for k, lim := range l.byIP {
			if lim.TokensAt(now) >= float64(l.burst) {
				delete(l.byIP, k)
			}
		}
		l.lastSweep = now
	}
	lim, ok := l.byIP[ip]
	if !ok {
		lim = rate.NewLimiter(l.every, l.burst)
		l.byIP[ip] = lim
	}
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d, false
	}
	return 0, true
}
