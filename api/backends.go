package api

import (
	"context"
	"time"

	"github.com/petitions/petitions/internal/auth"
	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// Every call to PostgreSQL (the register, and the sign-in service that every request passes)
// has its own deadline, so an unreachable or hung database answers 503 within seconds instead
// of holding the request until the client gives up. A stopped server refuses connections at
// once (pgconn.ConnectError, see registerDown); these deadlines cover a host that does not
// answer at all and a server that accepts connections but no longer replies.
const (
	// registerWait bounds one register or sign-in call: they are single queries or short
	// transactions that take milliseconds.
	registerWait = 5 * time.Second
	// reportWait bounds the statistics and the monthly ledger, which aggregate a period.
	reportWait = 15 * time.Second
	// signInWait bounds a sign-in: two short queries and a password hash.
	signInWait = 15 * time.Second
)

// backendSlowError: a backing service did not answer within its deadline. It is an outage
// (503), unlike a timeout of the request as a whole (504).
type backendSlowError struct {
	what string
	wait time.Duration
	err  error
}

func (e *backendSlowError) Error() string {
	return e.what + " did not answer within " + e.wait.String() + ": " + e.err.Error()
}
func (e *backendSlowError) Unwrap() error { return e.err }

// waits are the deadlines of the decorators; tests shorten them.
type waits struct{ scale float64 }

func (w waits) wait(d time.Duration) time.Duration {
	if w.scale > 0 {
		return time.Duration(float64(d) * w.scale)
	}
	return d
}

// within runs f with a deadline of d and marks a miss as backendSlowError. A request whose
// client went away keeps its own context error.
func within[T any](ctx context.Context, d time.Duration, f func(context.Context) (T, error)) (T, error) {
	cctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	v, err := f(cctx)
	if err != nil && ctx.Err() == nil && cctx.Err() != nil {
		err = &backendSlowError{what: "the register (PostgreSQL)", wait: d, err: err}
	}
	return v, err
}

func within0(ctx context.Context, d time.Duration, f func(context.Context) error) error {
	_, err := within(ctx, d, func(ctx context.Context) (struct{}, error) { return struct{}{}, f(ctx) })
	return err
}

// timedRegister, timedAuth and timedAccounts put a deadline on every call.
type timedRegister struct {
	waits
	r Register
}

type timedAuth struct {
	waits
	a Authenticator
}

type timedAccounts struct {
	waits
	acc Accounts
}

var (
	_ Register      = timedRegister{}
	_ Authenticator = timedAuth{}
	_ Accounts      = timedAccounts{}
)

func (t timedRegister) Ping(ctx context.Context) error {
	return within0(ctx, t.wait(registerWait), func(ctx context.Context) error { return t.r.Ping(ctx) })
}

func (t timedRegister) Register(ctx context.Context, c register.NewCase) (register.Case, bool, error) {
	var b bool
	v, err := within(ctx, t.wait(registerWait), func(ctx context.Context) (register.Case, error) {
		v, ok, err := t.r.Register(ctx, c)
		b = ok
		return v, err
	})
	return v, b, err
}

func (t timedRegister) FindRepeat(ctx context.Context, petitioners []register.Petitioner, category, topic string) (register.Case, bool, error) {
	var b bool
	v, err := within(ctx, t.wait(registerWait), func(ctx context.Context) (register.Case, error) {
		v, ok, err := t.r.FindRepeat(ctx, petitioners, category, topic)
		b = ok
		return v, err
	})
	return v, b, err
}

func (t timedRegister) CaseByIdempotencyKey(ctx context.Context, key string) (register.Case, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) (register.Case, error) { return t.r.CaseByIdempotencyKey(ctx, key) })
}

func (t timedRegister) AddRepeatSubmission(ctx context.Context, caseNo string, nc register.NewCase) error {
	return within0(ctx, t.wait(registerWait), func(ctx context.Context) error { return t.r.AddRepeatSubmission(ctx, caseNo, nc) })
}

func (t timedRegister) RepeatSubmissions(ctx context.Context, caseNo string) ([]register.RepeatSubmission, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) ([]register.RepeatSubmission, error) {
		return t.r.RepeatSubmissions(ctx, caseNo)
	})
}

func (t timedRegister) Warnings(ctx context.Context, caseNo string) (register.CaseWarnings, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) (register.CaseWarnings, error) {
		return t.r.Warnings(ctx, caseNo)
	})
}

func (t timedRegister) Get(ctx context.Context, caseNo string) (register.Case, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) (register.Case, error) { return t.r.Get(ctx, caseNo) })
}

func (t timedRegister) Events(ctx context.Context, caseNo string) ([]workflows.Event, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) ([]workflows.Event, error) { return t.r.Events(ctx, caseNo) })
}

func (t timedRegister) List(ctx context.Context, f register.ListFilter) (register.Page, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) (register.Page, error) { return t.r.List(ctx, f) })
}

func (t timedRegister) Count(ctx context.Context, f register.ListFilter, limit int) (int, bool, error) {
	var capped bool
	n, err := within(ctx, t.wait(registerWait), func(ctx context.Context) (int, error) {
		n, c, err := t.r.Count(ctx, f, limit)
		capped = c
		return n, err
	})
	return n, capped, err
}

// Export reads up to thousands of rows: a report's deadline.
func (t timedRegister) Export(ctx context.Context, f register.ListFilter, max int) ([]register.Case, bool, error) {
	var capped bool
	cases, err := within(ctx, t.wait(reportWait), func(ctx context.Context) ([]register.Case, error) {
		cases, c, err := t.r.Export(ctx, f, max)
		capped = c
		return cases, err
	})
	return cases, capped, err
}

func (t timedRegister) PetitionerCases(ctx context.Context, q register.PetitionerQuery) ([]register.Case, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) ([]register.Case, error) { return t.r.PetitionerCases(ctx, q) })
}

func (t timedRegister) IsPetitionOffice(ctx context.Context, unit string) (bool, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) (bool, error) { return t.r.IsPetitionOffice(ctx, unit) })
}

func (t timedRegister) StaffDirectory(ctx context.Context, unit, role string) ([]register.Staff, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) ([]register.Staff, error) { return t.r.StaffDirectory(ctx, unit, role) })
}

func (t timedRegister) Units(ctx context.Context) ([]register.Unit, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) ([]register.Unit, error) { return t.r.Units(ctx) })
}

func (t timedRegister) Staff(ctx context.Context, id string) (register.Staff, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) (register.Staff, error) { return t.r.Staff(ctx, id) })
}

func (t timedRegister) Unit(ctx context.Context, code string) (register.Unit, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) (register.Unit, error) { return t.r.Unit(ctx, code) })
}

func (t timedRegister) RoutingRules(ctx context.Context) ([]register.RoutingRule, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) ([]register.RoutingRule, error) { return t.r.RoutingRules(ctx) })
}

func (t timedRegister) RoutingRule(ctx context.Context, id int64) (register.RoutingRule, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) (register.RoutingRule, error) { return t.r.RoutingRule(ctx, id) })
}

func (t timedRegister) Route(ctx context.Context, category, topic string) (string, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) (string, error) { return t.r.Route(ctx, category, topic) })
}

func (t timedRegister) Stats(ctx context.Context, from, to time.Time, unit string) (register.Stats, error) {
	return within(ctx, t.wait(reportWait), func(ctx context.Context) (register.Stats, error) { return t.r.Stats(ctx, from, to, unit) })
}

func (t timedRegister) MonthlyReport(ctx context.Context, month time.Time) ([]register.MonthlyRow, error) {
	return within(ctx, t.wait(reportWait), func(ctx context.Context) ([]register.MonthlyRow, error) { return t.r.MonthlyReport(ctx, month) })
}

func (t timedRegister) PutCalendarYear(ctx context.Context, y calendar.Year) error {
	return within0(ctx, t.wait(registerWait), func(ctx context.Context) error { return t.r.PutCalendarYear(ctx, y) })
}

func (t timedRegister) CalendarYear(ctx context.Context, year int) (calendar.Year, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) (calendar.Year, error) { return t.r.CalendarYear(ctx, year) })
}

func (t timedRegister) OpenCaseNumbers(ctx context.Context) ([]string, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) ([]string, error) { return t.r.OpenCaseNumbers(ctx) })
}

func (t timedRegister) GetByQueryCode(ctx context.Context, caseNo, code string) (register.Case, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) (register.Case, error) { return t.r.GetByQueryCode(ctx, caseNo, code) })
}

func (t timedRegister) ReissueQueryCodeAudited(ctx context.Context, caseNo, by string) (string, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) (string, error) { return t.r.ReissueQueryCodeAudited(ctx, caseNo, by) })
}

func (t timedRegister) RecordPersonalDataRead(ctx context.Context, staffID, caseNo, purpose string) error {
	return within0(ctx, t.wait(registerWait), func(ctx context.Context) error { return t.r.RecordPersonalDataRead(ctx, staffID, caseNo, purpose) })
}

func (t timedRegister) PersonalDataReads(ctx context.Context, caseNo, staffID string, before int64, limit int) ([]register.PersonalDataRead, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) ([]register.PersonalDataRead, error) {
		return t.r.PersonalDataReads(ctx, caseNo, staffID, before, limit)
	})
}

func (t timedRegister) Audit(ctx context.Context, actorID, action, target string, details map[string]any) error {
	return within0(ctx, t.wait(registerWait), func(ctx context.Context) error { return t.r.Audit(ctx, actorID, action, target, details) })
}

func (t timedRegister) AuditLog(ctx context.Context, before int64, limit int) ([]register.AuditEntry, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) ([]register.AuditEntry, error) { return t.r.AuditLog(ctx, before, limit) })
}

func (t timedRegister) CreateUnit(ctx context.Context, u register.Unit, by string) error {
	return within0(ctx, t.wait(registerWait), func(ctx context.Context) error { return t.r.CreateUnit(ctx, u, by) })
}

func (t timedRegister) UpdateUnit(ctx context.Context, u register.Unit, by string) error {
	return within0(ctx, t.wait(registerWait), func(ctx context.Context) error { return t.r.UpdateUnit(ctx, u, by) })
}

func (t timedRegister) CreateRoutingRule(ctx context.Context, r register.RoutingRule, by string) (register.RoutingRule, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) (register.RoutingRule, error) { return t.r.CreateRoutingRule(ctx, r, by) })
}

func (t timedRegister) UpdateRoutingRule(ctx context.Context, r register.RoutingRule, by string) error {
	return within0(ctx, t.wait(registerWait), func(ctx context.Context) error { return t.r.UpdateRoutingRule(ctx, r, by) })
}

func (t timedRegister) PolicySettings(ctx context.Context) ([]register.PolicySetting, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) ([]register.PolicySetting, error) { return t.r.PolicySettings(ctx) })
}

func (t timedRegister) PolicyAllowed(ctx context.Context, name string) (bool, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) (bool, error) { return t.r.PolicyAllowed(ctx, name) })
}

func (t timedRegister) SetPolicyAllowed(ctx context.Context, name string, allowed bool, by string) error {
	return within0(ctx, t.wait(registerWait), func(ctx context.Context) error { return t.r.SetPolicyAllowed(ctx, name, allowed, by) })
}

func (t timedAuth) SignIn(ctx context.Context, staffID, password string) (auth.Tokens, error) {
	// A sign-in also hashes the password (argon2id, CPU-bound): on a busy machine that alone can
	// take seconds, which must not read as a database outage.
	return within(ctx, t.wait(signInWait), func(ctx context.Context) (auth.Tokens, error) { return t.a.SignIn(ctx, staffID, password) })
}

func (t timedAuth) Refresh(ctx context.Context, refreshToken string) (auth.Tokens, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) (auth.Tokens, error) { return t.a.Refresh(ctx, refreshToken) })
}

func (t timedAuth) Authenticate(ctx context.Context, secret string) (auth.Principal, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) (auth.Principal, error) { return t.a.Authenticate(ctx, secret) })
}

func (t timedAuth) SignOut(ctx context.Context, p auth.Principal) error {
	return within0(ctx, t.wait(registerWait), func(ctx context.Context) error { return t.a.SignOut(ctx, p) })
}

func (t timedAuth) IssueFor(ctx context.Context, staffID, via string) (auth.Tokens, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) (auth.Tokens, error) { return t.a.IssueFor(ctx, staffID, via) })
}

func (t timedAccounts) AddStaff(ctx context.Context, a auth.Account, password string) error {
	return within0(ctx, t.wait(registerWait), func(ctx context.Context) error { return t.acc.AddStaff(ctx, a, password) })
}

func (t timedAccounts) UpdateStaff(ctx context.Context, a auth.Account) error {
	return within0(ctx, t.wait(registerWait), func(ctx context.Context) error { return t.acc.UpdateStaff(ctx, a) })
}

func (t timedAccounts) SetPassword(ctx context.Context, staffID, password string) error {
	return within0(ctx, t.wait(registerWait), func(ctx context.Context) error { return t.acc.SetPassword(ctx, staffID, password) })
}

func (t timedAccounts) SetDisabled(ctx context.Context, staffID string, disabled bool) error {
	return within0(ctx, t.wait(registerWait), func(ctx context.Context) error { return t.acc.SetDisabled(ctx, staffID, disabled) })
}

func (t timedAccounts) ListStaff(ctx context.Context) ([]auth.AccountInfo, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) ([]auth.AccountInfo, error) { return t.acc.ListStaff(ctx) })
}

func (t timedAccounts) CreateAPIToken(ctx context.Context, staffID, name, role string, ttl time.Duration) (string, auth.TokenInfo, error) {
	var b auth.TokenInfo
	v, err := within(ctx, t.wait(registerWait), func(ctx context.Context) (string, error) {
		v, ok, err := t.acc.CreateAPIToken(ctx, staffID, name, role, ttl)
		b = ok
		return v, err
	})
	return v, b, err
}

func (t timedAccounts) RevokeToken(ctx context.Context, id string) error {
	return within0(ctx, t.wait(registerWait), func(ctx context.Context) error { return t.acc.RevokeToken(ctx, id) })
}

func (t timedAccounts) ListTokens(ctx context.Context, staffID string) ([]auth.TokenInfo, error) {
	return within(ctx, t.wait(registerWait), func(ctx context.Context) ([]auth.TokenInfo, error) { return t.acc.ListTokens(ctx, staffID) })
}
