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
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/config"
	"github.com/petitions/petitions/internal/devstack"
)

// continueAsNewAfter is the history length at which the test server suggests continue-as-new.
const continueAsNewAfter = 120

var (
	stack   *devstack.Stack
	baseURL string
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
	stack, err = devstack.Start(ctx, devstack.Options{
		TempDir: tmp, HTTPAddr: "127.0.0.1:0", Seed: true,
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
	cfg.LogLevel = "warn"
	return cfg
}

func testLogger() *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("E2E_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// call sends a JSON request and decodes the JSON answer into out (if not nil); it returns the
// status code.
func call(t *testing.T, method, path string, body any, out any, headers ...string) int {
	t.Helper()
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
		req.Header.Set(headers[i], headers[i+1])
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
		t.Logf("%s %s -> %d %s", method, path, resp.StatusCode, truncate(raw, 300))
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
