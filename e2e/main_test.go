// Package e2e runs the whole system — real PostgreSQL, the in-process Temporal server, the
// worker and the HTTP API — and drives it through HTTP as staff would. It is the only test
// package that links the Temporal server.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/config"
	"github.com/petitions/petitions/internal/devstack"
)

// continueAsNewAfter is the history length at which the test server suggests continue-as-new.
const continueAsNewAfter = 60

var (
	stack   *devstack.Stack
	baseURL string
	devDir  string // the stack's data folder (PostgreSQL, temporal.db, keys)
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "petitions-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	// A kept folder, so Temporal's database is a file the sealing test can read.
	devDir = filepath.Join(tmp, "dev")
	stack, err = devstack.Start(ctx, devstack.Options{
		// The admin listener (metrics, pprof) on a free port: TestMetrics scrapes it.
		Dir: devDir, HTTPAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Seed: true,
		Config: testConfig(), Logger: testLogger(),
		// Cases here continue as new after ~120 events (in production: thousands), so the
		// long walkthroughs cross a continue-as-new on the real server.
		TemporalDynamicConfig: map[string]any{"limit.historyCount.suggestContinueAsNew": continueAsNewAfter},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start the stack:", err)
		return 1
	}
	defer stack.Stop()
	baseURL = "http://" + stack.Service.Addr()
	fmt.Fprintf(os.Stderr, "e2e: stack up in %s at %s (temporal %s)\n", time.Since(start).Round(time.Millisecond), baseURL, stack.Temporal.HostPort())
	return m.Run()
}

// testConfig uses the test policies: the shipped ones plus seconds-scale ladders, so overdue
// escalation happens within seconds on the real server.
func testConfig() config.Config {
	cfg, _, err := config.Parse("e2e", nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		panic(err)
	}
	cfg.PolicyFile = "testdata/policies.json"
	// The warning rules without sensitive periods: event lists stay the same all year.
	cfg.WarningRulesFile = "testdata/warning-rules.json"
	// The console links supervisors to the Web UI (no UI runs here: the link is checked, not followed).
	cfg.TemporalUIURL = "http://127.0.0.1:8233"
	// Every test's petitioner comes from 127.0.0.1; the per-case limit stays as shipped.
	cfg.SelfServicePerClient = config.Rate{N: 10000, Per: time.Minute}
	cfg.LogLevel = "debug"
	return cfg
}

// capturedLogs holds every log line of the run at debug level, for the test that checks logs
// never carry personal data (sealed_test.go).
var capturedLogs lockedBuffer

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func testLogger() *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("E2E_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(teeHandler{
		slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}),
		slog.NewJSONHandler(&capturedLogs, &slog.HandlerOptions{Level: slog.LevelDebug}),
	})
}

// teeHandler sends each record to every handler that wants it.
type teeHandler []slog.Handler

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range t {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range t {
		if h.Enabled(ctx, r.Level) {
			if err := h.Handle(ctx, r.Clone()); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(teeHandler, len(t))
	for i, h := range t {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	out := make(teeHandler, len(t))
	for i, h := range t {
		out[i] = h.WithGroup(name)
	}
	return out
}

// call sends a JSON request and decodes the JSON answer into out (if not nil); it returns the
// status code. It signs in as the staff member a body's "actor" names (clerk.li when none,
// admin.office for calendar changes) unless headers carry an Authorization already; a body
// with "actor": "petitioner" goes to the petitioner's public endpoint instead.
func call(t *testing.T, method, path string, body any, out any, headers ...string) int {
	t.Helper()
	staff := clerk
	if m, ok := body.(map[string]any); ok {
		if a, _ := m["actor"].(string); a == "petitioner" {
			m = maps.Clone(m)
			delete(m, "actor")
			body = m
			path = strings.Replace(path, "/api/v1/petitions/", "/api/v1/public/petitions/", 1)
			staff = ""
		} else if a != "" {
			staff = a
		}
	}
	collectSecrets(method, path, body)
	if method == "PUT" && strings.HasPrefix(path, "/api/v1/calendars/") {
		staff = adminStaff
	}
	if staff != "" && !slices.Contains(headers, "Authorization") {
		headers = append(headers, "Authorization", "Bearer "+tokenFor(t, staff))
	}
	return callRaw(t, method, path, body, out, headers...)
}

// adminStaff is the demo district's administrator.
const adminStaff = "admin.office"

var (
	tokensMu sync.Mutex
	tokens   = map[string]string{}
)

// tokenFor signs a demo staff member in with the development password (once per test binary;
// tokens live 15 minutes, longer than the e2e run's tests need between refreshes).
func tokenFor(t *testing.T, staffID string) string {
	t.Helper()
	tokensMu.Lock()
	defer tokensMu.Unlock()
	key := baseURL + "|" + staffID // a second stack has its own register and sessions
	if tok, ok := tokens[key]; ok {
		return tok
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	code := callRaw(t, "POST", "/api/v1/auth/sign-in", map[string]any{"staff_id": staffID, "password": devstack.DevPassword}, &out)
	if code != http.StatusOK || out.AccessToken == "" {
		t.Fatalf("sign in as %s: status %d", staffID, code)
	}
	tokens[key] = out.AccessToken
	return out.AccessToken
}

// bearer is the Authorization header pair for a staff member.
func bearer(t *testing.T, staffID string) []string {
	return []string{"Authorization", "Bearer " + tokenFor(t, staffID)}
}

// callRaw sends a request as given, except that an action (a POST to
// /api/v1/[public/]petitions/{no}/{action}) without an Idempotency-Key or If-Match gets a
// fresh Idempotency-Key, as a client must send one (the API answers 428 otherwise); pass
// "Idempotency-Key", "" to send none.
func callRaw(t *testing.T, method, path string, body any, out any, headers ...string) int {
	t.Helper()
	headers = withActionKey(method, path, headers)
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, baseURL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] != "" {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: status %d, cannot decode %q: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	if testing.Verbose() {
		shown := truncate(raw, 300)
		if strings.HasPrefix(path, "/api/v1/auth/") {
			shown = "(tokens not shown)"
		}
		t.Logf("%s %s -> %d %s", method, path, resp.StatusCode, shown)
	}
	return resp.StatusCode
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// actionPath matches the action endpoints (not the query-code reissue, which is no action).
var actionPath = regexp.MustCompile(`^/api/v1/(public/)?petitions/[^/]+/([a-z-]+)$`)

// withActionKey adds a fresh Idempotency-Key to an action that carries neither one nor
// If-Match. An empty value given for either header means "send none" and is dropped.
func withActionKey(method, path string, headers []string) []string {
	m := actionPath.FindStringSubmatch(path)
	if method != http.MethodPost || m == nil || m[2] == "query-code" {
		return headers
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if h := http.CanonicalHeaderKey(headers[i]); h == "Idempotency-Key" || h == "If-Match" {
			return headers
		}
	}
	return append(slices.Clone(headers), "Idempotency-Key", "e2e-"+strconv.FormatInt(time.Now().UnixNano(), 36)+"-"+strconv.FormatInt(keySeq.Add(1), 10))
}

var keySeq atomic.Int64
