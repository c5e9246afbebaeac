package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/petitions/petitions/internal/auth"
	"github.com/petitions/petitions/internal/register"
)

// Administration (admin role only, authz.go): staff accounts, API tokens, units, routing
// rules and the policy allow-list. Every change is an audited event (GET /admin/audit).
// Every change writes its audit entry in the transaction that makes it: directory changes in
// the register, account and token changes in the sign-in service (adminCtx names the admin).

const (
	defaultAdminPage = 100
	maxAdminPage     = 1000
)

// adminCtx is the request's context carrying the signed-in admin, so that the sign-in service
// audits account and token changes in the transaction that makes them.
func adminCtx(c *gin.Context) context.Context {
	return auth.AsActor(c.Request.Context(), principal(c).StaffID)
}

func (s *Server) audit(c *gin.Context, action, target string, details map[string]any) error {
	return s.reg.Audit(c.Request.Context(), principal(c).StaffID, action, target, details)
}

// codeShape: unit codes, staff IDs and policy names are short ASCII identifiers.
func codeShape(v string) bool {
	if v == "" || len(v) > 64 {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

type unitRequest struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Parent string `json:"parent"`
	Head   string `json:"head"`
	Leader string `json:"leader"`
	Email  string `json:"email"`
}

func (r *unitRequest) unit() (register.Unit, error) {
	trimAll(&r.Code, &r.Name, &r.Parent, &r.Head, &r.Leader, &r.Email)
	f := fieldErrors{}
	if !codeShape(r.Code) {
		f["code"] = "is required: letters, digits, _ - . (at most 64)"
	}
	if r.Name == "" {
		f["name"] = "is required"
	} else if msg := textProblem(r.Name, 200); msg != "" {
		f["name"] = msg
	}
	for field, v := range map[string]string{"parent": r.Parent, "head": r.Head, "leader": r.Leader} {
		if v != "" && !codeShape(v) {
			f[field] = "is not a code or staff ID"
		}
	}
	if msg := textProblem(r.Email, 200); msg != "" {
		f["email"] = msg
	}
	if len(f) > 0 {
		return register.Unit{}, f
	}
	return register.Unit{Code: r.Code, Name: r.Name, Parent: r.Parent, Head: r.Head, Leader: r.Leader, Email: r.Email}, nil
}

func (s *Server) createUnit(c *gin.Context) {
	var req unitRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	u, err := req.unit()
	if err == nil {
		err = s.reg.CreateUnit(c.Request.Context(), u, principal(c).StaffID)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answer(c, http.StatusCreated, u)
}

func (s *Server) updateUnit(c *gin.Context) {
	if !codeShape(c.Param("code")) {
		s.fail(c, fieldErrors{"code": "is not a unit code"})
		return
	}
	var req unitRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.Code == "" {
		req.Code = c.Param("code")
	} else if req.Code != c.Param("code") {
		s.fail(c, fieldErrors{"code": "differs from the path's unit code"})
		return
	}
	u, err := req.unit()
	if err == nil {
		err = s.reg.UpdateUnit(c.Request.Context(), u, principal(c).StaffID)
	}
	if errors.Is(err, register.ErrNotFound) {
		err = &notFoundError{what: "unit " + strconv.Quote(req.Code)}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answer(c, http.StatusOK, u)
}

type routingRuleRequest struct {
	Keyword  string `json:"keyword"`
	Category string `json:"category"`
	Unit     string `json:"unit"`
	Priority int    `json:"priority"`
	Disabled bool   `json:"disabled"`
}

func (r *routingRuleRequest) rule() (register.RoutingRule, error) {
	trimAll(&r.Keyword, &r.Category, &r.Unit)
	f := fieldErrors{}
	if r.Keyword == "" {
		f["keyword"] = "is required"
	} else if msg := textProblem(r.Keyword, 100); msg != "" {
		f["keyword"] = msg
	}
	if r.Category != "" && !contains(categories, r.Category) {
		f["category"] = oneOf(categories)
	}
	if !codeShape(r.Unit) {
		f["unit"] = "is required: a unit code"
	}
	if r.Priority < -1000 || r.Priority > 1000 {
		f["priority"] = "must be between -1000 and 1000"
	}
	if len(f) > 0 {
		return register.RoutingRule{}, f
	}
	return register.RoutingRule{Keyword: r.Keyword, Category: r.Category, Unit: r.Unit, Priority: r.Priority, Disabled: r.Disabled}, nil
}

func (s *Server) createRoutingRule(c *gin.Context) {
	var req routingRuleRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	r, err := req.rule()
	if err == nil {
		r, err = s.reg.CreateRoutingRule(c.Request.Context(), r, principal(c).StaffID)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answer(c, http.StatusCreated, r)
}

func (s *Server) updateRoutingRule(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		s.fail(c, fieldErrors{"id": "must be a routing rule's ID"})
		return
	}
	var req routingRuleRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	r, err := req.rule()
	if err == nil {
		r.ID = id
		err = s.reg.UpdateRoutingRule(c.Request.Context(), r, principal(c).StaffID)
	}
	if errors.Is(err, register.ErrNotFound) {
		err = &notFoundError{what: "routing rule " + strconv.FormatInt(id, 10)}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answer(c, http.StatusOK, r)
}

// listPolicies: the policies this process knows, and whether this office allows each.
func (s *Server) listPolicies(c *gin.Context) {
	ctx := c.Request.Context()
	settings, err := s.reg.PolicySettings(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	byName := map[string]register.PolicySetting{}
	for _, st := range settings {
		byName[st.Name] = st
	}
	names := make([]string, 0, len(s.policies))
	for n := range s.policies {
		names = append(names, n)
	}
	slices.Sort(names)
	out := []gin.H{}
	for _, n := range names {
		st, listed := byName[n]
		out = append(out, gin.H{
			"name": n, "description": s.policies[n].Description,
			"allowed": st.Allowed || (!listed && s.devMode), "listed": listed,
		})
	}
	s.answer(c, http.StatusOK, gin.H{"policies": out, "development_mode": s.devMode})
}

type policyRequest struct {
	Allowed *bool `json:"allowed"`
}

func (s *Server) setPolicy(c *gin.Context) {
	name := c.Param("name")
	if !codeShape(name) {
		s.fail(c, fieldErrors{"name": "is not a policy name"})
		return
	}
	var req policyRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.Allowed == nil {
		s.fail(c, fieldErrors{"allowed": "is required: true or false"})
		return
	}
	if _, ok := s.policies[name]; !ok {
		s.fail(c, &notFoundError{what: "policy " + strconv.Quote(name)})
		return
	}
	if *req.Allowed && name == "demo" && !s.devMode {
		s.fail(c, &unprocessableError{msg: "the seconds-scale demo policy exists only in development mode"})
		return
	}
	if err := s.reg.SetPolicyAllowed(c.Request.Context(), name, *req.Allowed, principal(c).StaffID); err != nil {
		s.fail(c, err)
		return
	}
	s.answer(c, http.StatusOK, gin.H{"name": name, "allowed": *req.Allowed})
}

// Staff accounts.

type staffRequest struct {
	ID       string  `json:"id"`
	Name     *string `json:"name"`
	Role     *string `json:"role"`
	Unit     *string `json:"unit"`
	Phone    *string `json:"phone"`
	Disabled *bool   `json:"disabled"`
	Password string  `json:"password"`
}

func (s *Server) listStaff(c *gin.Context) {
	list, err := s.accounts.ListStaff(c.Request.Context())
	answerList(s, c, "staff", list, err)
}

func (s *Server) addStaff(c *gin.Context) {
	var req staffRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.Disabled != nil {
		s.fail(c, fieldErrors{"disabled": "a new account starts enabled; disable it with PATCH /api/v1/admin/staff/{id}"})
		return
	}
	a := auth.Account{ID: strings.TrimSpace(req.ID), Name: deref(req.Name), Role: deref(req.Role), Unit: deref(req.Unit), Phone: deref(req.Phone)}
	if err := checkAccountText(a, req.Password); err != nil {
		s.fail(c, err)
		return
	}
	ctx := adminCtx(c)
	if err := s.accounts.AddStaff(ctx, a, req.Password); err != nil {
		s.fail(c, err)
		return
	}
	s.answer(c, http.StatusCreated, gin.H{"id": a.ID, "name": a.Name, "role": a.Role, "unit": a.Unit})
}

// updateStaff changes name, role, unit or phone, and disables or enables the account.
func (s *Server) updateStaff(c *gin.Context) {
	id := c.Param("id")
	if !codeShape(id) {
		s.fail(c, fieldErrors{"id": "is not a staff ID"})
		return
	}
	var req staffRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.ID != "" && req.ID != id {
		s.fail(c, fieldErrors{"id": "differs from the path's staff ID"})
		return
	}
	if req.Password != "" {
		s.fail(c, fieldErrors{"password": "is set with PUT /api/v1/admin/staff/{id}/password"})
		return
	}
	ctx := adminCtx(c)
	list, err := s.accounts.ListStaff(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	var cur *auth.AccountInfo
	for i := range list {
		if list[i].ID == id {
			cur = &list[i]
		}
	}
	if cur == nil {
		s.fail(c, &notFoundError{what: "staff member " + strconv.Quote(id)})
		return
	}
	a := cur.Account
	for _, v := range []struct {
		in  *string
		out *string
	}{{req.Name, &a.Name}, {req.Role, &a.Role}, {req.Unit, &a.Unit}, {req.Phone, &a.Phone}} {
		if v.in != nil {
			*v.out = strings.TrimSpace(*v.in)
		}
	}
	if err := checkAccountText(a, ""); err != nil {
		s.fail(c, err)
		return
	}
	// The office keeps at least one enabled admin, or nobody could manage accounts again
	// except through the command line on the server.
	if id == principal(c).StaffID && (a.Role != cur.Role || a.Unit != cur.Unit) {
		s.fail(c, &unprocessableError{msg: "an admin does not change their own role or unit; another admin does"})
		return
	}
	losesAdmin := cur.Role == string(admin) && !cur.Disabled &&
		(a.Role != string(admin) || (req.Disabled != nil && *req.Disabled))
	if losesAdmin && !otherEnabledAdmin(list, id) {
		s.fail(c, &unprocessableError{msg: "this is the last enabled admin account: add another admin first"})
		return
	}
	if req.Name != nil || req.Role != nil || req.Unit != nil || req.Phone != nil {
		if err := s.accounts.UpdateStaff(ctx, a); err != nil {
			s.fail(c, err)
			return
		}
	}
	if req.Disabled != nil {
		if err := s.accounts.SetDisabled(ctx, id, *req.Disabled); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.answer(c, http.StatusOK, gin.H{"id": a.ID, "name": a.Name, "role": a.Role, "unit": a.Unit})
}

func otherEnabledAdmin(list []auth.AccountInfo, except string) bool {
	for _, a := range list {
		if a.ID != except && a.Role == string(admin) && !a.Disabled {
			return true
		}
	}
	return false
}

func checkAccountText(a auth.Account, password string) error {
	f := fieldErrors{}
	for field, v := range map[string]string{"id": a.ID, "name": a.Name, "role": a.Role, "unit": a.Unit, "phone": a.Phone} {
		if msg := textProblem(v, 200); msg != "" {
			f[field] = msg
		}
	}
	if len(password) > 1024 || !validText(password) {
		f["password"] = "must be text of at most 1024 bytes"
	}
	if len(f) > 0 {
		return f
	}
	return nil
}

type passwordRequest struct {
	Password string `json:"password"`
}

func (s *Server) setStaffPassword(c *gin.Context) {
	id := c.Param("id")
	if !codeShape(id) {
		s.fail(c, fieldErrors{"id": "is not a staff ID"})
		return
	}
	var req passwordRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if len(req.Password) > 1024 || !validText(req.Password) {
		s.fail(c, fieldErrors{"password": "must be text of at most 1024 bytes"})
		return
	}
	if err := s.accounts.SetPassword(adminCtx(c), id, req.Password); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// API tokens for integrations.

type tokenRequest struct {
	Staff string `json:"staff"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	TTL   string `json:"ttl"` // Go duration, e.g. "8760h"
}

func (s *Server) listTokens(c *gin.Context) {
	staff := c.Query("staff")
	if len(staff) > 64 || !validText(staff) {
		s.fail(c, fieldErrors{"staff": "is not a staff ID"})
		return
	}
	list, err := s.accounts.ListTokens(c.Request.Context(), staff)
	answerList(s, c, "tokens", list, err)
}

func (s *Server) createToken(c *gin.Context) {
	var req tokenRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	trimAll(&req.Staff, &req.Name, &req.Role, &req.TTL)
	f := fieldErrors{}
	if !codeShape(req.Staff) {
		f["staff"] = "is required: the staff ID (service account) the token acts as"
	}
	if req.Name == "" {
		f["name"] = "is required: what the integration is, e.g. 12345 hotline feed"
	} else if msg := textProblem(req.Name, 200); msg != "" {
		f["name"] = msg
	}
	if req.Role != "" && !codeShape(req.Role) {
		f["role"] = "is not a role"
	}
	var ttl time.Duration
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil || d <= 0 {
			f["ttl"] = "must be a duration such as 8760h"
		}
		ttl = d
	}
	if len(f) > 0 {
		s.fail(c, f)
		return
	}
	ctx := adminCtx(c)
	// API tokens belong to service accounts (no password): an admin must not mint a token that
	// acts as a person, who signs in for themselves.
	list, err := s.accounts.ListStaff(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, a := range list {
		if a.ID == req.Staff && a.HasPassword {
			s.fail(c, &unprocessableError{msg: "API tokens are for service accounts", fields: map[string]string{
				"staff": req.Staff + " is a person's account (it has a password); create a service account without one for the integration"}})
			return
		}
	}
	secret, info, err := s.accounts.CreateAPIToken(ctx, req.Staff, req.Name, req.Role, ttl)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	s.answer(c, http.StatusCreated, gin.H{"token": secret, "info": info, "note": "the token is shown once and cannot be shown again"})
}

func (s *Server) revokeToken(c *gin.Context) {
	id := c.Param("id")
	if !codeShape(id) {
		s.fail(c, fieldErrors{"id": "is not a token ID"})
		return
	}
	if err := s.accounts.RevokeToken(adminCtx(c), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// Records.

func pageParams(c *gin.Context) (before int64, limit int, err error) {
	limit = defaultAdminPage
	f := fieldErrors{}
	if v := c.Query("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 0 {
			f["before"] = "must be an entry's ID"
		}
	}
	if v := c.Query("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxAdminPage {
			f["limit"] = "must be an integer from 1 to " + strconv.Itoa(maxAdminPage)
		}
	}
	if len(f) > 0 {
		return 0, 0, f
	}
	return before, limit, nil
}

func (s *Server) auditLog(c *gin.Context) {
	before, limit, err := pageParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	entries, err := s.reg.AuditLog(c.Request.Context(), before, limit)
	answerList(s, c, "entries", entries, err)
}

// personalDataReads lists the 查阅记录: who read which case's personal data, when.
func (s *Server) personalDataReads(c *gin.Context) {
	before, limit, err := pageParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	caseNo, staff := c.Query("case_no"), c.Query("staff")
	if (caseNo != "" && !validCaseNo(caseNo)) || len(staff) > 64 || !validText(staff) {
		s.fail(c, fieldErrors{"case_no": "filters must be a case number and a staff ID"})
		return
	}
	reads, err := s.reg.PersonalDataReads(c.Request.Context(), caseNo, staff, before, limit)
	answerList(s, c, "reads", reads, err)
}

// Single sign-on through the office's identity provider (OpenID Connect).

const (
	cookieOIDCState = "petitions_oidc_state"
	cookieOIDCNonce = "petitions_oidc_nonce"
	oidcCookiePath  = "/api/v1/auth/oidc"
)

func (s *Server) oidcLogin(c *gin.Context) {
	if s.oidc == nil {
		s.fail(c, &notFoundError{what: "single sign-on (not configured)"})
		return
	}
	state, nonce := randomID(), randomID()
	exp := time.Now().Add(10 * time.Minute)
	s.setCookieSameSite(c, cookieOIDCState, state, oidcCookiePath, exp, true, http.SameSiteLaxMode)
	s.setCookieSameSite(c, cookieOIDCNonce, nonce, oidcCookiePath, exp, true, http.SameSiteLaxMode)
	c.Redirect(http.StatusFound, s.oidc.AuthCodeURL(state, nonce))
}

// oidcCallback finishes single sign-on: the ID token's staff claim must name an enabled staff
// member. It answers tokens like sign-in and sets the browser session.
func (s *Server) oidcCallback(c *gin.Context) {
	if s.oidc == nil || s.auth == nil {
		s.fail(c, &notFoundError{what: "single sign-on (not configured)"})
		return
	}
	state, _ := c.Cookie(cookieOIDCState)
	nonce, _ := c.Cookie(cookieOIDCNonce)
	if state == "" || c.Query("state") != state {
		s.fail(c, &badRequestError{"sign-on state does not match; start again at /api/v1/auth/oidc/login"})
		return
	}
	if e := c.Query("error"); e != "" {
		s.fail(c, &forbiddenError{"the identity provider refused the sign-on"})
		return
	}
	ctx := c.Request.Context()
	staffID, err := s.oidc.StaffID(ctx, c.Query("code"), nonce)
	if err != nil {
		s.log.WarnContext(ctx, "single sign-on failed", "error", err)
		s.fail(c, errUnauthenticated)
		return
	}
	tokens, err := s.auth.IssueFor(ctx, staffID, "oidc")
	if err != nil {
		if errors.Is(err, auth.ErrNotFound) || errors.Is(err, auth.ErrBadCredentials) || errors.Is(err, auth.ErrUnauthenticated) {
			err = &forbiddenError{"the identity provider's account is not an enabled staff member here"}
		}
		s.fail(c, err)
		return
	}
	s.setCookie(c, cookieOIDCState, "", oidcCookiePath, time.Time{}, true)
	s.setCookie(c, cookieOIDCNonce, "", oidcCookiePath, time.Time{}, true)
	s.log.InfoContext(ctx, "signed in", "staff_id", staffID, "via", "oidc")
	s.answerTokens(c, tokens, true)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}
