package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/petitions/petitions/internal/auth"
	"github.com/petitions/petitions/internal/register"
)

func TestClassify(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("failed workflow update: %w", err) }
	cases := []struct {
		name    string
		err     error
		status  int
		message string // substring of body["error"]
	}{
		{"field errors", fieldErrors{"channel": "bad"}, 400, "validation failed"},
		{"malformed", &badRequestError{"malformed JSON at byte 3"}, 400, "malformed JSON"},
		{"too big", &http.MaxBytesError{Limit: 10}, 413, "larger than 10"},
		{"unknown actor", &unprocessableError{msg: "unknown actor"}, 422, "unknown actor"},
		{"query code", &forbiddenError{"the query code does not match"}, 403, "query code"},
		{"terminated", &terminatedError{caseNo: "2026-000007"}, 409, "三级终结"},
		{"invalid action", wrap(temporal.NewNonRetryableApplicationError("cannot reply: case is registered", appErrInvalidAction, nil)), 422, "cannot reply: case is registered"},
		{"invalid input", temporal.NewApplicationError("days must be positive", appErrInvalidInput), 400, "days must be positive"},
		{"refusal wrapped by the handler", temporal.NewApplicationErrorWithCause("accept: look up unit", "wrapError",
			temporal.NewApplicationError(`unit "x" is not in the register`, appErrInvalidInput)), 400, "not in the register"},
		{"other application error", temporal.NewApplicationError("db down", "ActivityError"), 500, "internal error"},
		{"register invalid input", fmt.Errorf("%w: bad cursor", register.ErrInvalidInput), 400, "bad cursor"},
		{"case not found", &notFoundError{what: "case 2026-000001"}, 404, "case 2026-000001 not found"},
		{"register not found", fmt.Errorf("get: %w", register.ErrNotFound), 404, "not found"},
		{"workflow not found", wrap(serviceerror.NewNotFound("workflow not found for ID: petition-x")), 404, "workflow was not found"},
		{"register conflict", fmt.Errorf("%w: idempotency key k1 was used for case 2026-000001", register.ErrConflict), 409, "idempotency key k1"},
		{"already started", serviceerror.NewWorkflowExecutionAlreadyStarted("started", "", ""), 409, "already exists"},
		{"context deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), 504, "timed out"},
		{"grpc deadline", serviceerror.NewDeadlineExceeded("deadline"), 504, "timed out"},
		{"update timeout", client.NewWorkflowUpdateServiceTimeoutOrCanceledError(errors.New("x")), 504, "timed out"},
		{"cancelled", context.Canceled, 499, "cancelled"},
		{"unavailable", serviceerror.NewUnavailable("connection refused 10.0.0.3:7233"), 503, "unavailable"},
		{"not configured", errNotConfigured, 503, "unavailable"},
		{"anything else", errors.New(`pq: relation "cases" does not exist`), 500, "internal error"},

		// Signing in and rate limits.
		{"unauthenticated", errUnauthenticated, 401, "sign in first"},
		{"wrapped unauthenticated", fmt.Errorf("check: %w", errUnauthenticated), 401, "sign in first"},
		{"bad credentials", fmt.Errorf("%w", auth.ErrBadCredentials), 401, "staff ID or password is wrong"},
		// Locked answers like a wrong password: nobody learns which staff IDs exist.
		{"locked", &auth.LockedError{Until: fixedNow.Add(time.Hour)}, 401, "staff ID or password is wrong"},
		{"rate limited", &tooManyError{what: "from this address", retryAfter: 1500 * time.Millisecond}, 429, "try again in 2 s"},
		{"invalid account field", &auth.InvalidError{Field: "role", Msg: "is not a role"}, 400, "validation failed"},
		{"API token sign-out", auth.ErrAPITokenSignOut, 422, "not a session"},
		{"account exists", fmt.Errorf("%w: staff x", auth.ErrExists), 409, "already exists"},
		{"account not found", fmt.Errorf("%w: staff x", auth.ErrNotFound), 404, "not found"},
		{"forbidden", &forbiddenError{"a handler may not register petitions"}, 403, "may not register"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := classify(tc.err)
			if status != tc.status {
				t.Errorf("status = %d, want %d", status, tc.status)
			}
			msg, _ := body["error"].(string)
			if !strings.Contains(msg, tc.message) {
				t.Errorf("error = %q, want it to contain %q", msg, tc.message)
			}
			// Server errors never echo internals.
			if status >= 500 && (strings.Contains(msg, "10.0.0.3") || strings.Contains(msg, "relation")) {
				t.Errorf("5xx body leaks the error: %q", msg)
			}
		})
	}
}

func TestFieldErrorsInBody(t *testing.T) {
	_, body := classify(fieldErrors{"limit": "must be an integer"})
	fields, _ := body["fields"].(map[string]string)
	if fields["limit"] != "must be an integer" {
		t.Errorf("fields = %v", body["fields"])
	}
	_, body = classify(&terminatedError{caseNo: "2026-000007"})
	if body["case_no"] != "2026-000007" {
		t.Errorf("terminated body = %v", body)
	}
}

// TestFailHeaders: 401 says how to authenticate, 429 says when to come back, and a 5xx body
// carries the request ID but not the error.
func TestFailHeaders(t *testing.T) {
	s := nilServer()
	for _, tc := range []struct {
		err            error
		header, prefix string
	}{
		{errUnauthenticated, "WWW-Authenticate", "Bearer"},
		{&tooManyError{what: "x", retryAfter: 90 * time.Second}, "Retry-After", "90"},
		{&auth.LockedError{Until: time.Now().Add(10 * time.Minute)}, "WWW-Authenticate", "Bearer"},
	} {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
		s.fail(c, tc.err)
		if got := w.Header().Get(tc.header); !strings.HasPrefix(got, tc.prefix) {
			t.Errorf("%v: %s = %q, want %s…", tc.err, tc.header, got, tc.prefix)
		}
	}
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	c.Set(ctxRequestID, "rid-1")
	s.fail(c, errors.New("dial tcp 10.0.0.3:5432: connection refused"))
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "10.0.0.3") || !strings.Contains(w.Body.String(), "rid-1") {
		t.Errorf("500: %d %s", w.Code, w.Body)
	}
}

// With PostgreSQL unreachable, every authenticated request fails at the sign-in check: that
// is an outage (503) within seconds, not a server bug (500).
func TestRegisterDownIsUnavailable(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := New(Config{Policies: testPolicies, Auth: auth.New(pool, auth.Config{}), Now: func() time.Time { return fixedNow }})
	start := time.Now()
	w, body := do(t, s, http.MethodGet, "/api/v1/petitions", nil, "Authorization", "Bearer pt_anything")
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d %v, want 503", w.Code, body)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("answered after %s", d)
	}
	w, _ = do(t, s, http.MethodPost, "/api/v1/auth/sign-in", `{"staff_id":"clerk.li","password":"x"}`, "Authorization", "")
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("sign-in with the register down: status %d, want 503", w.Code)
	}
}
