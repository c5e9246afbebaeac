package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/petitions/petitions/internal/auth"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// Application error types of refused actions. A validator's error travels back through
// UpdateWorkflow / handle.Get as a *temporal.ApplicationError carrying this type (the SDK turns
// the update's failure outcome into an error with FailureToError); its message is written for
// the clerk and is shown as it is.
const (
	appErrInvalidAction = workflows.ErrorInvalidAction // not allowed in this stage or for this actor → 422
	appErrInvalidInput  = workflows.ErrorInvalidInput  // the action's fields are wrong → 400
	appErrStale         = workflows.ErrorStale         // If-Match named a seq the case has left → 412
)

// fieldErrors is a failed validation: field (or query parameter) name → what is wrong.
type fieldErrors map[string]string

func (f fieldErrors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + f[k]
	}
	return "validation failed: " + strings.Join(parts, "; ")
}

// badRequestError is a request that cannot be read at all (malformed JSON, bad path).
type badRequestError struct{ msg string }

func (e *badRequestError) Error() string { return e.msg }

// unprocessableError is a well-formed request naming things that do not exist or may not act
// (an unknown staff ID, an action on a case whose workflow has ended).
type unprocessableError struct {
	msg    string
	fields map[string]string
}

func (e *unprocessableError) Error() string { return e.msg }

// forbiddenError: the petitioner's query code does not match the case.
type forbiddenError struct{ msg string }

func (e *forbiddenError) Error() string { return e.msg }

// notFoundError names what was not found; it wraps register.ErrNotFound.
type notFoundError struct{ what string }

func (e *notFoundError) Error() string { return e.what + " not found" }
func (e *notFoundError) Unwrap() error { return register.ErrNotFound }

// terminatedError: a repeat of a matter closed by re-review (三级终结) is not accepted again.
type terminatedError struct{ caseNo string }

func (e *terminatedError) Error() string { return "terminated matter: " + e.caseNo }

// preconditionRequiredError: an action came with neither an Idempotency-Key nor an If-Match,
// so a retry could not be told from a second action (428).
type preconditionRequiredError struct{ msg string }

func (e *preconditionRequiredError) Error() string { return e.msg }

// workflowStuckError: the case's workflow did not answer because its workflow task keeps
// failing on the worker, or because no worker picks it up. Engineers must look at the worker
// (its logs, whether it runs); the workflow service itself is fine, and saying it is
// unavailable would send them to the wrong place.
type workflowStuckError struct {
	caseNo string
	reason string // what was seen, for the answer
	err    error  // the call that failed
	action bool   // the call was an action, whose answer says what became of it
}

func (e *workflowStuckError) Error() string {
	msg := "case " + e.caseNo + ": " + e.reason
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}
func (e *workflowStuckError) Unwrap() error { return e.err }

// errTimeoutRetry is the 504 message: true for both ways of making an action repeatable.
const errTimeoutRetry = "timed out waiting for the workflow service or the register; the request may still complete: retry with the same Idempotency-Key or If-Match to get its outcome (it is applied once)"

// errSignInRefused is the one answer to a failed sign-in.
const errSignInRefused = "staff ID or password is wrong; after repeated failures an account is locked for a while"

// errNotConfigured: a dependency was not injected (only in tests or a broken main).
var errNotConfigured = errors.New("not configured")

// statusClientClosedRequest is nginx's code for a client that went away; nobody reads it,
// but it keeps such requests out of the 5xx figures.
const statusClientClosedRequest = 499

// classify maps an error to the HTTP status and JSON body. It is the only place that does,
// so every handler answers the same way. Bodies of 5xx answers never carry the error text:
// it may name hosts, SQL or workflow internals; the caller logs it instead.
func classify(err error) (int, gin.H) {
	var (
		fields   fieldErrors
		badReq   *badRequestError
		tooBig   *http.MaxBytesError
		unproc   *unprocessableError
		forbid   *forbiddenError
		notFound *notFoundError
		term     *terminatedError
		appErr   *temporal.ApplicationError
		actErr   *temporal.ActivityError
		wfNF     *serviceerror.NotFound
		started  *serviceerror.WorkflowExecutionAlreadyStarted
		updTO    *client.WorkflowUpdateServiceTimeoutOrCanceledError
		deadline *serviceerror.DeadlineExceeded
		canceled *serviceerror.Canceled
		unavail  *serviceerror.Unavailable
		exhaust  *serviceerror.ResourceExhausted
		tooMany  *tooManyError
		locked   *auth.LockedError
		invalid  *auth.InvalidError
		precond  *preconditionRequiredError
		stuck    *workflowStuckError
		slow     *backendSlowError
		down     *temporalDownError
	)
	switch {
	case err == nil:
		return http.StatusOK, gin.H{}
	case errors.Is(err, errUnauthenticated), errors.Is(err, auth.ErrUnauthenticated):
		return http.StatusUnauthorized, gin.H{"error": errUnauthenticated.Error()}
	case errors.Is(err, auth.ErrBadCredentials), errors.As(err, &locked):
		// A locked account answers like a wrong password, so a stranger learns neither which
		// staff IDs exist nor which are locked; the message tells the staff member why.
		return http.StatusUnauthorized, gin.H{"error": errSignInRefused}
	case errors.As(err, &tooMany):
		return http.StatusTooManyRequests, gin.H{"error": tooMany.Error() + "; try again in " + retryAfterSeconds(tooMany.retryAfter) + " s"}
	case errors.As(err, &invalid):
		return http.StatusBadRequest, gin.H{"error": "validation failed", "fields": map[string]string{invalid.Field: invalid.Msg}}
	case errors.Is(err, auth.ErrAPITokenSignOut):
		return http.StatusUnprocessableEntity, gin.H{"error": "an API token is not a session: the admin revokes it (DELETE /api/v1/admin/tokens/{id})"}
	case errors.Is(err, auth.ErrExists):
		return http.StatusConflict, gin.H{"error": "already exists"}
	case errors.Is(err, auth.ErrNotFound):
		return http.StatusNotFound, gin.H{"error": "not found"}
	case errors.As(err, &fields):
		return http.StatusBadRequest, gin.H{"error": "validation failed", "fields": map[string]string(fields)}
	case errors.As(err, &badReq):
		return http.StatusBadRequest, gin.H{"error": badReq.msg}
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, gin.H{"error": fmt.Sprintf("request body larger than %d bytes", tooBig.Limit)}
	case errors.As(err, &unproc):
		body := gin.H{"error": unproc.msg}
		if len(unproc.fields) > 0 {
			body["fields"] = unproc.fields
		}
		return http.StatusUnprocessableEntity, body
	case errors.As(err, &forbid):
		return http.StatusForbidden, gin.H{"error": forbid.msg}
	case errors.As(err, &term):
		return http.StatusConflict, gin.H{
			"error":   "this matter was terminated after re-review (三级终结) and is not accepted again",
			"case_no": term.caseNo,
		}
	case refusal(err, appErrInvalidAction, &appErr):
		return http.StatusUnprocessableEntity, gin.H{"error": appErr.Message()}
	case refusal(err, appErrInvalidInput, &appErr):
		return http.StatusBadRequest, gin.H{"error": appErr.Message()}
	case refusal(err, appErrStale, &appErr):
		return http.StatusPreconditionFailed, gin.H{"error": appErr.Message() + " (GET the case for its current ETag)"}
	case errors.As(err, &precond):
		return http.StatusPreconditionRequired, gin.H{"error": precond.msg}
	case errors.As(err, &down):
		return http.StatusServiceUnavailable, gin.H{"error": "the workflow service stopped answering while the request waited for it; " +
			"the request may still complete: retry with the same Idempotency-Key or If-Match to get its outcome (it is applied once)"}
	case errors.As(err, &stuck):
		msg := stuck.reason
		if stuck.action {
			msg += ". The action has not been applied yet and may be once the worker recovers: retry it with the same Idempotency-Key or If-Match to learn its outcome (it is applied once)"
		}
		return http.StatusServiceUnavailable, gin.H{"error": msg, "case_no": stuck.caseNo}
	case errors.As(err, &actErr) && permanentActivityFailure(actErr, &appErr):
		// The action was admitted, but an activity it needs refused for good (e.g. a deadline
		// the calendar cannot compute): retrying cannot help; the case is unchanged.
		return http.StatusUnprocessableEntity, gin.H{"error": "the action cannot be carried out: " + appErr.Message() + "; nothing was changed"}
	case errors.As(err, &actErr):
		// The action was admitted but an activity it needed (the register, the calendar)
		// kept failing: an outage, not a mistake; the case is unchanged.
		return http.StatusServiceUnavailable, gin.H{"error": "the case could not be updated because a backing service failed; nothing was changed, try again later"}
	case errors.As(err, &slow):
		return http.StatusServiceUnavailable, gin.H{"error": slow.what + " did not answer within " + slow.wait.String() + "; try again later"}
	case errors.Is(err, register.ErrInvalidInput):
		// The store's invalid-input errors are written for callers (e.g. a bad cursor).
		return http.StatusBadRequest, gin.H{"error": err.Error()}
	case errors.As(err, &notFound):
		return http.StatusNotFound, gin.H{"error": notFound.Error()}
	case errors.Is(err, register.ErrNotFound):
		return http.StatusNotFound, gin.H{"error": "not found"}
	case errors.As(err, &wfNF):
		return http.StatusNotFound, gin.H{"error": "the case's workflow was not found"}
	case errors.Is(err, register.ErrConflict):
		// The register's conflict messages are written for the caller (which key, which case).
		return http.StatusConflict, gin.H{"error": err.Error()}
	case errors.As(err, &started):
		return http.StatusConflict, gin.H{"error": "the case's workflow already exists and may not be started again"}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &deadline), errors.As(err, &updTO):
		return http.StatusGatewayTimeout, gin.H{"error": errTimeoutRetry}
	case errors.Is(err, context.Canceled), errors.As(err, &canceled):
		return statusClientClosedRequest, gin.H{"error": "request cancelled"}
	case errors.As(err, &unavail), errors.As(err, &exhaust), errors.Is(err, errNotConfigured), registerDown(err):
		return http.StatusServiceUnavailable, gin.H{"error": "a backing service is unavailable; try again later"}
	default:
		return http.StatusInternalServerError, gin.H{"error": "internal error"}
	}
}

// registerDown reports that PostgreSQL could not be reached or went away mid-request (every
// request now passes the sign-in check there first): an outage, 503, not a server bug.
func registerDown(err error) bool {
	var (
		connect *pgconn.ConnectError
		netErr  net.Error
		pgErr   *pgconn.PgError
	)
	switch {
	case errors.As(err, &connect), errors.As(err, &netErr):
		return true
	case errors.As(err, &pgErr):
		// admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
		return pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	return false
}

// permanentActivityFailure reports an activity that failed with a non-retryable application
// error (its cause), which it stores in out.
func permanentActivityFailure(actErr *temporal.ActivityError, out **temporal.ApplicationError) bool {
	for e := actErr.Unwrap(); e != nil; e = errors.Unwrap(e) {
		if ae, ok := e.(*temporal.ApplicationError); ok && ae.NonRetryable() {
			*out = ae
			return true
		}
	}
	return false
}

// refusal finds a workflow refusal of the given type anywhere in err's chain: a handler may
// wrap it, and the first ApplicationError in the chain is then the wrapper.
func refusal(err error, typ string, out **temporal.ApplicationError) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ae, ok := e.(*temporal.ApplicationError); ok && ae.Type() == typ {
			*out = ae
			return true
		}
	}
	return false
}

// fail answers the request with err mapped by classify. Server-side failures are logged with
// the request ID, which the body repeats so staff can quote it.
func (s *Server) fail(c *gin.Context, err error) { s.failWith(c, err, nil) }

// failWith answers like fail, with extra fields beside the error (e.g. the case a failed
// registration has nevertheless created).
func (s *Server) failWith(c *gin.Context, err error, extra gin.H) {
	status, body := classify(err)
	for k, v := range extra {
		body[k] = v
	}
	rid := c.GetString(ctxRequestID)
	var tooMany *tooManyError
	switch {
	case status == http.StatusUnauthorized:
		c.Header("WWW-Authenticate", `Bearer realm="petitions"`)
	case errors.As(err, &tooMany):
		c.Header("Retry-After", retryAfterSeconds(tooMany.retryAfter))
	}
	if status >= 500 {
		body["request_id"] = rid
		s.log.ErrorContext(c.Request.Context(), "request failed",
			"status", status, "error", err, "request_id", rid,
			"method", c.Request.Method, "route", c.FullPath())
	} else {
		s.log.DebugContext(c.Request.Context(), "request refused",
			"status", status, "error", err, "request_id", rid)
	}
	b, err := json.Marshal(inZone(body, s.zone))
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error","request_id":`+strconv.Quote(rid)+`}`)
	}
	c.Abort()
	c.Data(status, "application/json; charset=utf-8", b)
}

// readinessReason is a short, non-sensitive reading of a dependency failure for /readyz.
func readinessReason(err error) string {
	switch {
	case errors.Is(err, errNotConfigured):
		return "not configured"
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer within " + readyTimeout.String()
	default:
		return "not answering"
	}
}
