package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/petitions/petitions/internal/auth"
	"github.com/petitions/petitions/internal/sealing"
	"github.com/petitions/petitions/workflows"
)

// Principal is the signed-in person a request acts for.
type Principal = auth.Principal

// Authenticator is the sign-in service (internal/auth.Service).
type Authenticator interface {
	SignIn(ctx context.Context, staffID, password string) (auth.Tokens, error)
	Refresh(ctx context.Context, refreshToken string) (auth.Tokens, error)
	Authenticate(ctx context.Context, secret string) (auth.Principal, error)
	SignOut(ctx context.Context, p auth.Principal) error
	IssueFor(ctx context.Context, staffID, via string) (auth.Tokens, error)
}

// Accounts manages staff accounts and API tokens (internal/auth.Service); admin only.
type Accounts interface {
	AddStaff(ctx context.Context, a auth.Account, password string) error
	UpdateStaff(ctx context.Context, a auth.Account) error
	SetPassword(ctx context.Context, staffID, password string) error
	SetDisabled(ctx context.Context, staffID string, disabled bool) error
	ListStaff(ctx context.Context) ([]auth.AccountInfo, error)
	CreateAPIToken(ctx context.Context, staffID, name, role string, ttl time.Duration) (string, auth.TokenInfo, error)
	RevokeToken(ctx context.Context, id string) error
	ListTokens(ctx context.Context, staffID string) ([]auth.TokenInfo, error)
}

// Browser sessions: the access token in an HttpOnly cookie, the refresh token in another one
// that only the refresh endpoint receives, and a CSRF token that scripts of our own origin
// read and echo in X-CSRF-Token on every unsafe request (double submit).
const (
	cookieSession   = "petitions_session"
	cookieRefresh   = "petitions_refresh"
	cookieCSRF      = "petitions_csrf"
	headerCSRF      = "X-CSRF-Token"
	ctxPrincipal    = "principal"
	refreshCookieAt = "/api/v1/auth"
)

// errUnauthenticated: no valid credential on a request that needs one.
var errUnauthenticated = errors.New("sign in first: send Authorization: Bearer <token> (POST /api/v1/auth/sign-in)")

// authenticate admits requests that carry a valid bearer token or session cookie and puts the
// principal on the context; anything else answers 401.
func (s *Server) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := s.principalOf(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Set(ctxPrincipal, p)
		c.Next()
	}
}

// principalOf reads the request's credential: the Authorization header first, else the
// session cookie, which for unsafe methods must come with the matching CSRF token.
func (s *Server) principalOf(c *gin.Context) (Principal, error) {
	return s.principalOfRequest(c.Request, true)
}

// principalOfRequest reads a bearer token or the session cookie. With csrf, a cookie on an
// unsafe method needs the CSRF token too; the codec server, which changes nothing, asks
// without (CORS limits which origins may call it).
func (s *Server) principalOfRequest(r *http.Request, csrf bool) (Principal, error) {
	if s.auth == nil {
		return Principal{}, errNotConfigured
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return Principal{}, errUnauthenticated
		}
		return s.checkToken(r.Context(), strings.TrimSpace(token))
	}
	cookie, err := r.Cookie(cookieSession)
	if err != nil || cookie.Value == "" {
		return Principal{}, errUnauthenticated
	}
	if csrf && !safeMethod(r.Method) {
		if err := checkCSRF(r); err != nil {
			return Principal{}, err
		}
	}
	return s.checkToken(r.Context(), cookie.Value)
}

// checkCSRF: the X-CSRF-Token header must equal the CSRF cookie (double submit).
func checkCSRF(r *http.Request) error {
	want, _ := r.Cookie(cookieCSRF)
	if want == nil || want.Value == "" || subtle.ConstantTimeCompare([]byte(want.Value), []byte(r.Header.Get(headerCSRF))) != 1 {
		return &forbiddenError{"missing or wrong " + headerCSRF + " header (cookie sessions echo the " + cookieCSRF + " cookie)"}
	}
	return nil
}

func (s *Server) checkToken(ctx context.Context, token string) (Principal, error) {
	if len(token) > 512 {
		return Principal{}, errUnauthenticated
	}
	p, err := s.auth.Authenticate(ctx, token)
	if errors.Is(err, auth.ErrUnauthenticated) {
		return Principal{}, errUnauthenticated
	}
	return p, err
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// principal is the request's signed-in person (set by authenticate).
func principal(c *gin.Context) Principal {
	v, _ := c.Get(ctxPrincipal)
	p, _ := v.(Principal)
	return p
}

// require answers 403 unless the signed-in person's role has the permission (authz.go).
func (s *Server) require(perm permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		if p := principal(c); !allowed(p, perm) {
			s.fail(c, &forbiddenError{"the role " + roleName(p.Role) + " may not " + string(perm)})
			return
		}
		c.Next()
	}
}

func roleName(r string) string {
	if r == "" {
		return "person without a role"
	}
	return r
}

// actorOf is the workflow's Actor for the signed-in person. A leader's authority covers the
// units below their own (authz.go), which the workflow's validators accept.
func (s *Server) actorOf(ctx context.Context, p Principal) (workflows.Actor, error) {
	a := workflows.Actor{ID: p.StaffID, Name: p.Name, Role: workflows.Role(p.Role), Unit: p.Unit}
	if a.Role == workflows.RoleLeader {
		units, err := s.unitTree(ctx, p.Unit)
		if err != nil {
			return workflows.Actor{}, err
		}
		if len(units) > 1 {
			a.Units = units[1:]
		}
	}
	return a, nil
}

// checkActorField: a body's "actor" may only name the signed-in person; the field is kept so
// old clients that send their own ID keep working.
func checkActorField(p Principal, actor string) error {
	actor = strings.TrimSpace(actor)
	if actor != "" && actor != p.StaffID {
		return &forbiddenError{"\"actor\" names someone else; the acting person is the signed-in one (" + p.StaffID + "): drop the field"}
	}
	return nil
}

// signInRequest is the body of POST /api/v1/auth/sign-in.
type signInRequest struct {
	StaffID  string `json:"staff_id"`
	Password string `json:"password"`
	// Session "cookie" sets the browser session cookies instead of only answering tokens.
	Session string `json:"session"`
}

func (s *Server) signIn(c *gin.Context) {
	if s.auth == nil {
		s.fail(c, errNotConfigured)
		return
	}
	var req signInRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	f := fieldErrors{}
	req.StaffID = strings.TrimSpace(req.StaffID)
	if req.StaffID == "" || len(req.StaffID) > 64 || !validText(req.StaffID) {
		f["staff_id"] = "is required (at most 64 characters)"
	}
	if req.Password == "" || len(req.Password) > 1024 || !validText(req.Password) {
		f["password"] = "is required (at most 1024 bytes)"
	}
	if req.Session != "" && req.Session != "cookie" {
		f["session"] = `must be "cookie" or absent`
	}
	if len(f) > 0 {
		s.fail(c, f)
		return
	}
	// Per address and account: an office behind one NAT address signs in at 8:30 together;
	// guessing one account's password is slowed here and then stopped by its lock-out.
	if err := s.loginLimit.take(c.ClientIP() + "|" + req.StaffID); err != nil {
		s.fail(c, err)
		return
	}
	// And per address across accounts, against password spraying.
	if err := s.loginLimitAddr.take(c.ClientIP()); err != nil {
		s.fail(c, err)
		return
	}
	tokens, err := s.auth.SignIn(c.Request.Context(), req.StaffID, req.Password)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "signed in", "staff_id", tokens.Principal.StaffID, "via", "password")
	s.answerTokens(c, tokens, req.Session == "cookie")
}

// answerTokens answers a sign-in or refresh; with cookie, it also sets the browser session.
func (s *Server) answerTokens(c *gin.Context, t auth.Tokens, cookie bool) {
	body := gin.H{
		"expires_at":         t.AccessExpiresAt,
		"refresh_expires_at": t.RefreshExpiresAt,
		"staff":              staffBody(t.Principal),
	}
	if cookie {
		// The tokens stay in HttpOnly cookies, out of reach of scripts; only the CSRF token,
		// which scripts must echo, is in the body.
		csrf := randomID()
		s.setCookie(c, cookieSession, t.AccessToken, "/", t.AccessExpiresAt, true)
		s.setCookie(c, cookieRefresh, t.RefreshToken, refreshCookieAt, t.RefreshExpiresAt, true)
		s.setCookie(c, cookieCSRF, csrf, "/", t.RefreshExpiresAt, false)
		body["csrf_token"] = csrf
	} else {
		body["token_type"] = "Bearer"
		body["access_token"] = t.AccessToken
		body["refresh_token"] = t.RefreshToken
	}
	c.Header("Cache-Control", "no-store")
	s.answer(c, http.StatusOK, body)
}

func staffBody(p Principal) gin.H {
	return gin.H{"id": p.StaffID, "name": p.Name, "role": p.Role, "unit": p.Unit}
}

func (s *Server) setCookie(c *gin.Context, name, value, path string, expires time.Time, httpOnly bool) {
	s.setCookieSameSite(c, name, value, path, expires, httpOnly, http.SameSiteStrictMode)
}

// setCookieSameSite: the single sign-on's state and nonce must come back on the identity
// provider's cross-site redirect, which carries Lax cookies but not Strict ones.
func (s *Server) setCookieSameSite(c *gin.Context, name, value, path string, expires time.Time, httpOnly bool, same http.SameSite) {
	maxAge := int(time.Until(expires).Seconds())
	if value == "" {
		maxAge = -1
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: httpOnly, Secure: s.secureCookies, SameSite: same,
	})
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// refresh trades a refresh token (body, or the browser's refresh cookie) for new tokens.
func (s *Server) refresh(c *gin.Context) {
	if s.auth == nil {
		s.fail(c, errNotConfigured)
		return
	}
	var req refreshRequest
	fromCookie := false
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			s.fail(c, err)
			return
		}
	}
	if req.RefreshToken == "" {
		if v, err := c.Cookie(cookieRefresh); err == nil && v != "" {
			req.RefreshToken, fromCookie = v, true
			if err := checkCSRF(c.Request); err != nil {
				s.fail(c, err)
				return
			}
		}
	}
	if req.RefreshToken == "" || len(req.RefreshToken) > 512 {
		s.fail(c, fieldErrors{"refresh_token": "is required"})
		return
	}
	t, err := s.auth.Refresh(c.Request.Context(), req.RefreshToken)
	if errors.Is(err, auth.ErrUnauthenticated) || errors.Is(err, auth.ErrBadCredentials) {
		err = errUnauthenticated
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answerTokens(c, t, fromCookie)
}

// signOut revokes the session the request came with (its access and refresh tokens).
func (s *Server) signOut(c *gin.Context) {
	p := principal(c)
	if err := s.auth.SignOut(c.Request.Context(), p); err != nil {
		s.fail(c, err)
		return
	}
	for _, name := range []string{cookieSession, cookieCSRF} {
		s.setCookie(c, name, "", "/", time.Time{}, true)
	}
	s.setCookie(c, cookieRefresh, "", refreshCookieAt, time.Time{}, true)
	s.log.InfoContext(c.Request.Context(), "signed out", "staff_id", p.StaffID)
	c.Status(http.StatusNoContent)
}

// me answers who is signed in and what they may do.
func (s *Server) me(c *gin.Context) {
	p := principal(c)
	perms := []string{}
	for perm, roles := range permissions {
		for _, r := range roles {
			if string(r) == p.Role {
				perms = append(perms, string(perm))
			}
		}
	}
	slices.Sort(perms)
	s.answer(c, http.StatusOK, gin.H{"staff": staffBody(p), "via": p.Via, "expires_at": p.ExpiresAt, "permissions": perms})
}

// authorizeCodec admits codec server requests from supervisors (bearer token or the browser
// session cookie; the Web UI sends cookies with includeCredentials).
func (s *Server) authorizeCodec(r *http.Request) error {
	p, err := s.principalOfRequest(r, false)
	if errors.Is(err, errUnauthenticated) {
		return err
	}
	if err != nil {
		// The codec server answers its caller with the error's text: say nothing internal.
		s.log.WarnContext(r.Context(), "codec server: sign-in check failed", "error", err)
		return errors.New("the sign-in service is unavailable; try again later")
	}
	if !allowed(p, permCodec) {
		return fmt.Errorf("%w: only supervisors may decode case payloads", sealing.ErrForbidden)
	}
	return nil
}
