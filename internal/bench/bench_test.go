package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/petitions/petitions/workflows"
)

// The bare case answers its start update at once, refuses an action without unit or handler
// in the validator, runs one activity for the action and then ends.
func TestBareCase(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	RegisterBare(env)
	var started, acted BareState
	var refused error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(BareUpdateStart, "start", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("start refused: %v", err) },
			OnAccept: func() {},
			OnComplete: func(v any, err error) {
				if err != nil {
					t.Errorf("start: %v", err)
				}
				started = v.(BareState)
			},
		})
		env.UpdateWorkflow(BareUpdateAct, "bad", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { refused = err },
			OnAccept:   func() { t.Error("an action without unit accepted") },
			OnComplete: func(any, error) {},
		}, BareAction{Handler: "h"})
		env.UpdateWorkflow(BareUpdateAct, "act", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("act refused: %v", err) },
			OnAccept: func() {},
			OnComplete: func(v any, err error) {
				if err != nil {
					t.Errorf("act: %v", err)
				}
				acted = v.(BareState)
			},
		}, BareAction{Unit: "construction", Handler: "handler.construction"})
	}, 0)
	env.ExecuteWorkflow(BareCase, BareInput{ID: "b1"})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	if started.Stage != "registered" || acted.Stage != "handling" || acted.Unit != "construction" || acted.Seq != 2 {
		t.Errorf("start %+v, act %+v", started, acted)
	}
	if refused == nil {
		t.Error("the validator let an action without unit through")
	}
	var final BareState
	if err := env.GetWorkflowResult(&final); err != nil || final.Stage != "handling" {
		t.Errorf("result %+v, %v", final, err)
	}
}

// The bare timer fires at its instant and says when.
func TestBareTimer(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	RegisterBare(env)
	at := env.Now().Add(90 * time.Second)
	env.ExecuteWorkflow(BareTimer, at)
	var fired time.Time
	if err := env.GetWorkflowResult(&fired); err != nil {
		t.Fatal(err)
	}
	if fired.Before(at) || fired.Sub(at) > time.Second {
		t.Errorf("fired at %s, due %s", fired, at)
	}
}

func ev(typ string, at time.Time, details map[string]any) workflows.Event {
	return workflows.Event{Type: typ, At: at, Details: details}
}

func TestAnalyzeLadder(t *testing.T) {
	l := workflows.Ladder{ReminderBefore: workflows.Duration(20 * time.Second),
		LeaderAfter: workflows.Duration(20 * time.Second), SuperiorAfter: workflows.Duration(40 * time.Second)}
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	acc := func(extra map[string]any) map[string]any {
		m := map[string]any{"clock": "acceptance"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	// Everything once.
	a := analyzeLadder([]workflows.Event{
		ev("registered", t0, nil),
		ev("reminder_sent", t0.Add(1*time.Second), acc(nil)),
		ev("overdue", t0.Add(2*time.Second), acc(map[string]any{"level": 1.0})),
		ev("escalated", t0.Add(3*time.Second), acc(map[string]any{"level": 2.0})),
		ev("escalated", t0.Add(4*time.Second), acc(map[string]any{"level": 3.0})),
		// Another clock's steps do not count.
		ev("overdue", t0.Add(5*time.Second), map[string]any{"clock": "handling", "level": 1.0}),
	}, "acceptance", l)
	if a.expected != 4 || a.recorded != 4 || a.skipped != 0 || a.duplicated != 0 || a.missing != 0 {
		t.Errorf("clean ladder: %+v", a)
	}
	if !a.first[StepSuperior].Equal(t0.Add(4 * time.Second)) {
		t.Errorf("superior at %s", a.first[StepSuperior])
	}
	// A skipped reminder is recorded and counted as skipped; a step twice is a duplicate; a
	// step never recorded is missing; a reminder both sent and skipped is doubled.
	a = analyzeLadder([]workflows.Event{
		ev("reminder_skipped", t0, acc(nil)),
		ev("reminder_sent", t0, acc(nil)),
		ev("overdue", t0, acc(map[string]any{"level": 1.0})),
		ev("overdue", t0.Add(time.Second), acc(map[string]any{"level": 1.0})),
		ev("escalated", t0, acc(map[string]any{"level": 2.0})),
	}, "acceptance", l)
	if a.recorded != 5 || a.skipped != 1 || a.duplicated != 2 || a.missing != 1 {
		t.Errorf("faulty ladder: %+v", a)
	}
	if !a.first[StepOverdue].Equal(t0) {
		t.Errorf("the first overdue counts: %s", a.first[StepOverdue])
	}
	// A ladder without reminder expects none.
	a = analyzeLadder(nil, "acceptance", workflows.Ladder{})
	if a.expected != 1 || a.missing != 1 {
		t.Errorf("bare ladder: %+v", a)
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	s := summarize(ds)
	if s.N != 100 || s.P50 != 50*time.Millisecond || s.P99 != 99*time.Millisecond || s.Max != 100*time.Millisecond {
		t.Errorf("%+v", s)
	}
	if ds[0] != 100*time.Millisecond {
		t.Error("summarize sorted its argument")
	}
	if s := summarize([]time.Duration{7}); s.P50 != 7 || s.P99 != 7 {
		t.Errorf("one value: %+v", s)
	}
	if s := summarize(nil); s != (Latencies{}) {
		t.Errorf("none: %+v", s)
	}
}

func TestParseCounts(t *testing.T) {
	if c, err := parseCounts("4, 16"); err != nil || len(c) != 2 || c[0] != 4 || c[1] != 16 {
		t.Errorf("4,16: %v %v", c, err)
	}
	for _, bad := range []string{"", "0", "x", "4,", "5000"} {
		if _, err := parseCounts(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCommandFlags(t *testing.T) {
	var out bytes.Buffer
	getenv := func(k string) string {
		if k == "PETITIONS_KEYS" {
			return `{"secret":"do-not-print"}`
		}
		return ""
	}
	err := Command(context.Background(), []string{"--help"}, getenv, &out)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "-storm-n") || !strings.Contains(out.String(), "TEMPORAL_ADDRESS") {
		t.Errorf("--help: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "do-not-print") {
		t.Error("--help printed key material from the environment")
	}
	if err := Command(context.Background(), []string{"-c", "many"}, getenv, &out); err == nil {
		t.Error("-c many accepted")
	}
	if err := Command(context.Background(), []string{"--log-level", "loud"}, getenv, &out); err == nil {
		t.Error("a bad service setting accepted")
	}
	// Nothing listens there: a clear error, before any Temporal connection.
	err = Command(context.Background(), []string{"-api", "http://127.0.0.1:1"}, func(string) string { return "" }, &out)
	if err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("no stack: %v", err)
	}
}

// The API client signs in, registers fresh petitioners with an Idempotency-Key, and signs in
// again when its token has expired.
func TestAPIClient(t *testing.T) {
	var mu sync.Mutex
	signIns, unavailable := 0, 0
	valid := ""
	var bodies []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/api/v1/auth/sign-in":
			var b map[string]string
			_ = json.NewDecoder(r.Body).Decode(&b)
			if b["staff_id"] != "clerk.li" || b["password"] != DevPassword {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			signIns++
			valid = "tok" + string(rune('0'+signIns))
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": valid})
		case "/api/v1/petitions":
			if r.Header.Get("Authorization") != "Bearer "+valid {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			if r.Header.Get("Idempotency-Key") == "" {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			if unavailable > 0 {
				unavailable--
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			var b map[string]any
			_ = json.NewDecoder(r.Body).Decode(&b)
			bodies = append(bodies, b)
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]any{"case_no": "2026-000001"})
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	cfg, err := Config{APIURL: srv.URL + "/", Temporal: nil}.withDefaults()
	if err == nil {
		t.Fatal("a config without Temporal client accepted")
	}
	cfg = Config{APIURL: srv.URL + "/"}
	cfg.Password, cfg.HTTP = DevPassword, srv.Client()
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	ctx := context.Background()
	a, err := newAPIClient(ctx, cfg, "clerk.li")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	if _, err := a.register(ctx, "[t]", 1, "demo", at, 0); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	valid = "expired-elsewhere" // the server forgot the token
	mu.Unlock()
	if _, err := a.register(ctx, "[t]", 2, "default", time.Time{}, 0); err != nil {
		t.Fatalf("after the token expired: %v", err)
	}
	if _, err := newAPIClient(ctx, cfg, "nobody"); err == nil {
		t.Error("a refused sign-in passed")
	}
	// An overloaded service (503) is retried when the caller allows it, else reported.
	mu.Lock()
	unavailable = 1
	mu.Unlock()
	var he *HTTPError
	if _, err := a.register(ctx, "[t]", 3, "default", time.Time{}, 0); !errors.As(err, &he) || he.Status != http.StatusServiceUnavailable {
		t.Errorf("503 without retries: %v", err)
	}
	mu.Lock()
	unavailable = 1
	mu.Unlock()
	if r, err := a.register(ctx, "[t]", 3, "default", time.Time{}, 2); err != nil || r.CaseNo == "" {
		t.Errorf("503 with retries: %+v, %v", r, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if signIns != 2 || len(bodies) != 3 {
		t.Fatalf("sign-ins %d, registrations %d", signIns, len(bodies))
	}
	if bodies[0]["policy"] != "demo" || bodies[0]["received_at"] != "2026-05-01T09:00:00Z" || bodies[1]["received_at"] != nil {
		t.Errorf("bodies: %v", bodies)
	}
	p := func(b map[string]any) string { return b["petitioners"].([]any)[0].(map[string]any)["phone"].(string) }
	if p(bodies[0]) == p(bodies[1]) || len(p(bodies[0])) > 20 {
		t.Errorf("phones %q %q: want unique, at most 20 digits", p(bodies[0]), p(bodies[1]))
	}
}
