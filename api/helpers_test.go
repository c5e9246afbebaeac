package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/auth"
	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// These tests exercise what the API decides on its own — parsing, validation, authentication,
// authorisation, error mapping — with no PostgreSQL and no Temporal. Everything that reaches
// them is tested against the real servers in the e2e package.

// fixedNow is the tests' clock: Thursday 2026-05-14 10:00 in Beijing.
var fixedNow = time.Date(2026, 5, 14, 10, 0, 0, 0, shanghai)

var testPolicies = map[string]workflows.Policy{
	"default": {Acceptance: workflows.Period{Amount: 15, Unit: calendar.CalendarDays}},
}

// quietLog keeps the tests' output to failures: every refused request logs a line.
var quietLog = slog.New(slog.DiscardHandler)

// allRoles are the staff roles of authz.go, in the order the tests walk them.
var allRoles = []string{"clerk", "handler", "leader", "supervisor", "reviewer", "admin"}

const testUnit = "petition_office"

// tokenFor is the bearer token fakeAuth accepts for a member of role: staff ID "<role>-1" in
// the petition office (so the default clerk is "clerk-1", validPetition's actor).
func tokenFor(role string) string { return "test-" + role + "-" + testUnit + "-" + role + "-1" }

// bearer is the Authorization header value for role; pass it to do as
// do(…, "Authorization", bearer("admin")). do(…, "Authorization", "") sends no credential.
func bearer(role string) string { return "Bearer " + tokenFor(role) }

// fakeAuth is the sign-in service of the tests: it accepts tokens
// "test-<role>-<unit>-<staffid>" (tokenFor), signs in nobody, and manages no accounts (the
// Accounts half answers "not configured", like a missing database).
type fakeAuth struct{}

func (fakeAuth) Authenticate(_ context.Context, secret string) (auth.Principal, error) {
	parts := strings.SplitN(secret, "-", 4)
	if len(parts) != 4 || parts[0] != "test" || parts[1] == "" || parts[2] == "" || parts[3] == "" {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	return auth.Principal{
		StaffID: parts[3], Name: "Test " + parts[1], Role: parts[1], Unit: parts[2],
		Via: auth.ViaPassword, TokenID: "tok-" + parts[3], Family: "fam-" + parts[3],
		ExpiresAt: fixedNow.Add(15 * time.Minute),
	}, nil
}

func (fakeAuth) SignIn(context.Context, string, string) (auth.Tokens, error) {
	return auth.Tokens{}, auth.ErrBadCredentials
}

func (fakeAuth) Refresh(context.Context, string) (auth.Tokens, error) {
	return auth.Tokens{}, auth.ErrUnauthenticated
}

func (fakeAuth) SignOut(context.Context, auth.Principal) error { return nil }

func (fakeAuth) IssueFor(context.Context, string, string) (auth.Tokens, error) {
	return auth.Tokens{}, auth.ErrNotFound
}

func (fakeAuth) AddStaff(context.Context, auth.Account, string) error { return errNotConfigured }
func (fakeAuth) UpdateStaff(context.Context, auth.Account) error      { return errNotConfigured }
func (fakeAuth) SetPassword(context.Context, string, string) error    { return errNotConfigured }
func (fakeAuth) SetDisabled(context.Context, string, bool) error      { return errNotConfigured }
func (fakeAuth) ListStaff(context.Context) ([]auth.AccountInfo, error) {
	return nil, errNotConfigured
}
func (fakeAuth) CreateAPIToken(context.Context, string, string, string, time.Duration) (string, auth.TokenInfo, error) {
	return "", auth.TokenInfo{}, errNotConfigured
}
func (fakeAuth) RevokeToken(context.Context, string) error { return errNotConfigured }
func (fakeAuth) ListTokens(context.Context, string) ([]auth.TokenInfo, error) {
	return nil, errNotConfigured
}

// offlineRegister is the register that is not there: every call answers errNotConfigured
// (503), as a database that was never configured would. A nil Register cannot stand in for
// it, because the handlers call it without a nil check (a nil interface panics: 500).
type offlineRegister struct{}

var errOffline = errNotConfigured

func (offlineRegister) Ping(context.Context) error { return errOffline }
func (offlineRegister) Register(context.Context, register.NewCase) (register.Case, bool, error) {
	return register.Case{}, false, errOffline
}
func (offlineRegister) FindRepeat(context.Context, []register.Petitioner, string, string) (register.Case, bool, error) {
	return register.Case{}, false, errOffline
}
func (offlineRegister) CaseByIdempotencyKey(context.Context, string) (register.Case, error) {
	return register.Case{}, errOffline
}
func (offlineRegister) AddRepeatSubmission(context.Context, string, register.NewCase) error {
	return errOffline
}
func (offlineRegister) RepeatSubmissions(context.Context, string) ([]register.RepeatSubmission, error) {
	return nil, errOffline
}
func (offlineRegister) Get(context.Context, string) (register.Case, error) {
	return register.Case{}, errOffline
}
func (offlineRegister) Events(context.Context, string) ([]workflows.Event, error) {
	return nil, errOffline
}
func (offlineRegister) List(context.Context, register.ListFilter) (register.Page, error) {
	return register.Page{}, errOffline
}
func (offlineRegister) Count(context.Context, register.ListFilter, int) (int, bool, error) {
	return 0, false, errOffline
}
func (offlineRegister) Export(context.Context, register.ListFilter, int) ([]register.Case, bool, error) {
	return nil, false, errOffline
}
func (offlineRegister) PetitionerCases(context.Context, register.PetitionerQuery) ([]register.Case, error) {
	return nil, errOffline
}
func (offlineRegister) StaffDirectory(context.Context, string, string) ([]register.Staff, error) {
	return nil, errOffline
}
func (offlineRegister) IsPetitionOffice(context.Context, string) (bool, error) {
	return false, errOffline
}
func (offlineRegister) Units(context.Context) ([]register.Unit, error) { return nil, errOffline }
func (offlineRegister) Staff(context.Context, string) (register.Staff, error) {
	return register.Staff{}, errOffline
}
func (offlineRegister) Unit(context.Context, string) (register.Unit, error) {
	return register.Unit{}, errOffline
}
func (offlineRegister) RoutingRules(context.Context) ([]register.RoutingRule, error) {
	return nil, errOffline
}
func (offlineRegister) RoutingRule(context.Context, int64) (register.RoutingRule, error) {
	return register.RoutingRule{}, errOffline
}
func (offlineRegister) Route(context.Context, string, string) (string, error) { return "", errOffline }
func (offlineRegister) Stats(context.Context, time.Time, time.Time, string) (register.Stats, error) {
	return register.Stats{}, errOffline
}
func (offlineRegister) MonthlyReport(context.Context, time.Time) ([]register.MonthlyRow, error) {
	return nil, errOffline
}
func (offlineRegister) PutCalendarYear(context.Context, calendar.Year) error { return errOffline }
func (offlineRegister) CalendarYear(context.Context, int) (calendar.Year, error) {
	return calendar.Year{}, errOffline
}
func (offlineRegister) OpenCaseNumbers(context.Context) ([]string, error) { return nil, errOffline }
func (offlineRegister) GetByQueryCode(context.Context, string, string) (register.Case, error) {
	return register.Case{}, errOffline
}
func (offlineRegister) ReissueQueryCodeAudited(context.Context, string, string) (string, error) {
	return "", errOffline
}
func (offlineRegister) RecordPersonalDataRead(context.Context, string, string, string) error {
	return errOffline
}
func (offlineRegister) PersonalDataReads(context.Context, string, string, int64, int) ([]register.PersonalDataRead, error) {
	return nil, errOffline
}
func (offlineRegister) Audit(context.Context, string, string, string, map[string]any) error {
	return errOffline
}
func (offlineRegister) AuditLog(context.Context, int64, int) ([]register.AuditEntry, error) {
	return nil, errOffline
}
func (offlineRegister) CreateUnit(context.Context, register.Unit, string) error { return errOffline }
func (offlineRegister) UpdateUnit(context.Context, register.Unit, string) error { return errOffline }
func (offlineRegister) CreateRoutingRule(context.Context, register.RoutingRule, string) (register.RoutingRule, error) {
	return register.RoutingRule{}, errOffline
}
func (offlineRegister) UpdateRoutingRule(context.Context, register.RoutingRule, string) error {
	return errOffline
}
func (offlineRegister) PolicySettings(context.Context) ([]register.PolicySetting, error) {
	return nil, errOffline
}
func (offlineRegister) PolicyAllowed(context.Context, string) (bool, error) { return false, errOffline }
func (offlineRegister) SetPolicyAllowed(context.Context, string, bool, string) error {
	return errOffline
}

// isNotConfigured tells the 503 that means "validation passed and a backing service was
// needed" from any other server error.
func isNotConfigured(code int, body map[string]any) bool {
	return code == 503 && body["error"] == "a backing service is unavailable; try again later"
}

// do sends a request as the signed-in clerk "clerk-1"; body may be a string (sent as is) or a
// value (sent as JSON). headers are name, value pairs; an "Authorization" pair replaces the
// clerk's token (bearer(role) for another role), and an empty value removes the header.
func do(t testing.TB, s *Server, method, path string, body any, headers ...string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = bytes.NewBufferString(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(js)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", bearer("clerk"))
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	return w, jsonBody(t, method+" "+path, w)
}

// jsonBody decodes a JSON answer; a JSON content type with a body that is not JSON (e.g. an
// empty body after a failed render) fails the test.
func jsonBody(t testing.TB, what string, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s: status %d, body is not JSON: %v\n%.300q", what, w.Code, err, w.Body.String())
		}
	}
	return m
}

// idNumber completes 17 digits with their GB 11643 check character.
func idNumber(first17 string) string {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return first17 + string(idCheck[sum%11])
}
