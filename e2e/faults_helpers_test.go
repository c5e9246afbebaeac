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
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/petitions/petitions/internal/devstack"
	"github.com/petitions/petitions/workflows"
)

// The fault tests' harness: a dev stack of its own per test (its own folder, ports, register
// and Temporal database), a quiet HTTP client with a timeout that reports errors instead of
// failing, `petitiond worker` processes, and the check that after a fault every case is whole.

// faultHTTPTimeout bounds every request of the fault tests: an API that hangs during an outage
// is a failure, not a slow test.
const faultHTTPTimeout = 10 * time.Second

// faultStack is one fault test's stack.
type faultStack struct {
	t    *testing.T
	s    *devstack.Stack
	base string
	logs *lockedBuffer // the stack's warnings and errors, shown when the test fails
	hc   *http.Client  // probes and reads: faultHTTPTimeout
	// patient outwaits the API's own deadlines (20 s for an update), for actions and sign-ins:
	// what the API answers, and when, is reported rather than cut short.
	patient *http.Client

	mu      sync.Mutex
	tokens  map[string]string
	keyN    int
	bin     string // petitiond, built on first use
	workers []*workerProc
	// stepsBefore: ladder steps the register held when the fault began (faultBegins).
	stepsBefore int
}

// startFaultStack starts a dev stack in the test's temporary folder, with the test policies,
// without a worker in this process when noWorker is set.
func startFaultStack(t *testing.T, noWorker bool) *faultStack {
	t.Helper()
	if testing.Short() {
		t.Skip("fault injection starts a stack of its own")
	}
	f := &faultStack{t: t, logs: &lockedBuffer{}, hc: &http.Client{Timeout: faultHTTPTimeout},
		patient: &http.Client{Timeout: 45 * time.Second}, tokens: map[string]string{}}
	cfg := testConfig()
	// The worker processes run elsewhere than the test's folder.
	abs, err := filepath.Abs(cfg.PolicyFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.PolicyFile = abs
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	began := time.Now()
	f.s, err = devstack.Start(ctx, devstack.Options{
		Dir: filepath.Join(t.TempDir(), "dev"), HTTPAddr: "127.0.0.1:0", Seed: true,
		Config: cfg, Logger: faultLogger(f.logs), NoWorker: noWorker,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the stack's last warnings and errors:\n%s", lastLines(f.logs.Bytes(), 40))
		}
		f.s.Stop()
	})
	f.base = "http://" + f.s.Service.Addr()
	t.Logf("fault stack up in %s at %s (temporal %s, worker in process: %t)", time.Since(began).Round(time.Millisecond),
		f.base, f.s.Temporal.HostPort(), !noWorker)
	// Sign in now: during a PostgreSQL outage nobody can.
	for _, staff := range []string{clerk, supervisor} {
		f.token(staff)
	}
	return f
}

// faultLogger keeps warnings and errors for the test's failure report and feeds every line to
// capturedLogs, so the check that logs never carry personal data covers outages too.
func faultLogger(buf *lockedBuffer) *slog.Logger {
	level := slog.LevelWarn
	var hs teeHandler
	if os.Getenv("E2E_DEBUG") != "" {
		hs = append(hs, slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(append(hs,
		slog.NewTextHandler(buf, &slog.HandlerOptions{Level: level}),
		slog.NewJSONHandler(&capturedLogs, &slog.HandlerOptions{Level: slog.LevelDebug}),
	))
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		if len(l) > 400 {
			lines[i] = l[:400] + "…"
		}
	}
	return strings.Join(lines, "\n")
}

// key is a fresh Idempotency-Key.
func (f *faultStack) key(what string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keyN++
	return fmt.Sprintf("fault-%s-%d-%d", what, time.Now().UnixNano(), f.keyN)
}

func (f *faultStack) token(staff string) string {
	f.t.Helper()
	f.mu.Lock()
	tok, ok := f.tokens[staff]
	f.mu.Unlock()
	if ok {
		return tok
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	// Sign-in hashes the password (argon2id): on a busy machine it may answer 503; try again.
	for attempt := 1; ; attempt++ {
		r := f.doWith(f.patient, "POST", "/api/v1/auth/sign-in", "", map[string]any{"staff_id": staff, "password": devstack.DevPassword}, &out)
		if r.err == nil && r.code == http.StatusOK && out.AccessToken != "" {
			break
		}
		if attempt == 5 || r.code != http.StatusServiceUnavailable {
			f.t.Fatalf("sign in as %s: %s", staff, r)
		}
		f.t.Logf("sign in as %s: %s; again", staff, r)
		time.Sleep(time.Second)
	}
	f.mu.Lock()
	f.tokens[staff] = out.AccessToken
	f.mu.Unlock()
	return out.AccessToken
}

// faultReply is an answer of the API, or why there was none.
type faultReply struct {
	code int
	took time.Duration
	body string
	err  error // transport error, e.g. no answer within faultHTTPTimeout
}

func (r faultReply) String() string {
	if r.err != nil {
		return fmt.Sprintf("no answer after %s: %v", r.took.Round(time.Millisecond), r.err)
	}
	return fmt.Sprintf("status %d after %s: %s", r.code, r.took.Round(time.Millisecond), truncate([]byte(r.body), 300))
}

// do sends a request as staff ("" for none) and decodes a 2xx JSON answer into out. Errors are
// returned in the reply, not fatal: during an outage they are what the test looks at.
func (f *faultStack) do(method, path, staff string, body any, out any, headers ...string) faultReply {
	return f.doWith(f.hc, method, path, staff, body, out, headers...)
}

// doWith is do with another client, e.g. one that waits longer to see what a slow answer is.
func (f *faultStack) doWith(hc *http.Client, method, path, staff string, body any, out any, headers ...string) faultReply {
	var r io.Reader
	if body != nil {
		collectSecrets(method, path, body)
		b, err := json.Marshal(body)
		if err != nil {
			return faultReply{err: err}
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.base+path, r)
	if err != nil {
		return faultReply{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	if staff != "" {
		req.Header.Set("Authorization", "Bearer "+f.token(staff))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	began := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return faultReply{took: time.Since(began), err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	rep := faultReply{code: resp.StatusCode, took: time.Since(began), body: string(raw), err: err}
	if err == nil && out != nil && len(raw) > 0 && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, out); err != nil {
			rep.err = fmt.Errorf("cannot decode the answer: %w", err)
		}
	}
	return rep
}

// faultCase is one case of a fault test's batch and the actions answered 200 on it, in order.
type faultCase struct {
	no      string
	acted   bool // accepted, then supervised: its handling clock runs too
	actions []sentAction
}

type sentAction struct {
	action  string // URL segment
	event   string // the event type it records
	opinion string // "" unless the action carries one
}

// registration is the body of a registration on the seconds-scale policy.
func faultRegistration(topic string) map[string]any {
	return map[string]any{
		"channel": "letter", "category": "appeal", "topic": topic,
		"content": "拖欠工资 wages unpaid, " + topic, "petitioners": []any{petitioner()}, "policy": "e2e_fast",
	}
}

// register posts a registration with an Idempotency-Key and returns the case number answered.
func (f *faultStack) register(key string, body map[string]any) (string, faultReply) {
	return f.registerWith(f.hc, key, body)
}

func (f *faultStack) registerWith(hc *http.Client, key string, body map[string]any) (string, faultReply) {
	var out struct {
		CaseNo string `json:"case_no"`
	}
	r := f.doWith(hc, "POST", "/api/v1/petitions", clerk, body, &out, "Idempotency-Key", key)
	return out.CaseNo, r
}

// act posts an action with an Idempotency-Key and records it on the case when answered 200.
// An answer 503 or 504 ("try again", "may still complete") is retried with the same key, as a
// clerk would, a few times; the key makes sure it is applied once. Answers slower than
// faultHTTPTimeout are logged. It returns why it failed.
func (f *faultStack) act(c *faultCase, staff, action, event string, body map[string]any) error {
	key := f.key(action)
	var r faultReply
	began := time.Now()
	for attempt := 1; ; attempt++ {
		var st workflows.CaseState
		r = f.doWith(f.patient, "POST", "/api/v1/petitions/"+c.no+"/"+action, staff, body, &st, "Idempotency-Key", key)
		if r.took > faultHTTPTimeout {
			f.t.Logf("NOTE: %s on %s answered slowly: %s", action, c.no, r)
		}
		if r.err == nil && r.code == http.StatusOK {
			if attempt > 1 {
				f.t.Logf("NOTE: %s on %s answered 200 at attempt %d, %s after the first", action, c.no, attempt,
					time.Since(began).Round(time.Millisecond))
			}
			break
		}
		if attempt == 5 || (r.code != http.StatusServiceUnavailable && r.code != http.StatusGatewayTimeout) {
			return fmt.Errorf("%s on %s: %s (attempt %d)", action, c.no, r, attempt)
		}
		f.t.Logf("%s on %s: %s; retrying with the same Idempotency-Key", action, c.no, r)
		time.Sleep(time.Second)
	}
	opinion, _ := body["opinion"].(string)
	f.mu.Lock()
	c.actions = append(c.actions, sentAction{action: action, event: event, opinion: opinion})
	f.mu.Unlock()
	return nil
}

// batch registers ladder cases, left alone, whose acceptance ladder (reminder 3 s, overdue 6 s,
// leader 9 s, superior 12 s after receipt) runs into the fault; and acted cases, accepted at
// once, whose handling clock superviseAll brings within seconds.
func (f *faultStack) batch(ladder, acted int) []*faultCase {
	f.t.Helper()
	var cases []*faultCase
	for i := range ladder + acted {
		no, r := f.register(f.key("register"), faultRegistration(fmt.Sprintf("%s ladder case %d", f.t.Name(), i)))
		if r.err != nil || r.code != http.StatusCreated || no == "" {
			f.t.Fatalf("register case %d: %s", i, r)
		}
		c := &faultCase{no: no, acted: i >= ladder}
		if c.acted {
			if err := f.act(c, clerk, "accept", workflows.EventAccepted, map[string]any{"unit": "construction", "handler": handler}); err != nil {
				f.t.Fatal(err)
			}
		}
		cases = append(cases, c)
	}
	return cases
}

// superviseAll supervises every acted case at once; with dueIn, the supervisor sets the handling
// deadline that far ahead, so the handling ladder (reminder 3 s before, overdue, leader 3 s and
// superior 6 s after) runs within seconds.
func (f *faultStack) superviseAll(cases []*faultCase, when string, dueIn time.Duration) {
	f.t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(cases))
	began := time.Now()
	for _, c := range cases {
		if !c.acted {
			continue
		}
		body := map[string]any{"opinion": fmt.Sprintf("督办 %s supervision %s, case %s", f.t.Name(), when, c.no)}
		if dueIn > 0 {
			body["new_due_at"] = time.Now().Add(dueIn).Format(time.RFC3339Nano)
		}
		wg.Go(func() {
			if err := f.act(c, supervisor, "supervise", workflows.EventSupervised, body); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	failed := false
	for err := range errs {
		f.t.Error(err)
		failed = true
	}
	if failed {
		f.t.FailNow()
	}
	f.t.Logf("supervised the accepted cases %s in %s", when, time.Since(began).Round(time.Millisecond))
}

// caseBody is GET /api/v1/petitions/{no}: the register row and the live workflow state.
type caseBody struct {
	Case struct {
		CaseNo          string `json:"case_no"`
		Stage           string `json:"stage"`
		Overdue         bool   `json:"overdue"`
		EscalationLevel int    `json:"escalation_level"`
		Seq             int64  `json:"seq"`
	} `json:"case"`
	State      *workflows.CaseState `json:"state"`
	StateError any                  `json:"state_error"`
}

func (b caseBody) agree() bool {
	s := b.State
	return s != nil && b.Case.Seq == s.Seq && b.Case.Stage == string(s.Stage) && b.Case.Overdue == s.Overdue &&
		b.Case.EscalationLevel == s.EscalationLevel
}

func (b caseBody) String() string {
	if b.State == nil {
		return fmt.Sprintf("register {stage %s seq %d level %d overdue %t}, workflow state unavailable (%v)",
			b.Case.Stage, b.Case.Seq, b.Case.EscalationLevel, b.Case.Overdue, b.StateError)
	}
	return fmt.Sprintf("register {stage %s seq %d level %d overdue %t}, workflow {stage %s seq %d level %d overdue %t}",
		b.Case.Stage, b.Case.Seq, b.Case.EscalationLevel, b.Case.Overdue,
		b.State.Stage, b.State.Seq, b.State.EscalationLevel, b.State.Overdue)
}

// caseSnapshot is what the register and the workflow say about a case at one moment.
type caseSnapshot struct {
	body   caseBody
	events []workflows.Event
	err    error
}

func (f *faultStack) caseSnapshot(no string) caseSnapshot {
	var s caseSnapshot
	if r := f.do("GET", "/api/v1/petitions/"+no, clerk, nil, &s.body); r.err != nil || r.code != http.StatusOK {
		s.err = fmt.Errorf("GET case: %s", r)
		return s
	}
	var ev struct {
		Events []workflows.Event `json:"events"`
	}
	if r := f.do("GET", "/api/v1/petitions/"+no+"/events", clerk, nil, &ev); r.err != nil || r.code != http.StatusOK {
		s.err = fmt.Errorf("GET events: %s", r)
		return s
	}
	s.events = ev.Events
	return s
}

// settled: the register holds every transition the workflow made and agrees with it, and
// the ladders have finished (escalation level 3 on the running clock).
func (s caseSnapshot) settled() bool {
	return s.err == nil && s.body.agree() && s.body.State.EscalationLevel == 3 && int64(len(s.events)) == s.body.State.Seq
}

func (s caseSnapshot) String() string {
	if s.err != nil {
		return s.err.Error()
	}
	types := make([]string, len(s.events))
	for i, e := range s.events {
		types[i] = fmt.Sprintf("%d:%s", e.Seq, e.Type)
	}
	return fmt.Sprintf("%s; events %v", s.body, types)
}

// faultBegins notes how many ladder steps the register holds as the fault begins: the fault
// must catch the ladders midway, or the test proves nothing (verify checks).
func (f *faultStack) faultBegins(cases []*faultCase) {
	f.t.Helper()
	f.stepsBefore = f.ladderSteps(cases)
}

// ladderSteps counts the ladder steps the register holds for the cases.
func (f *faultStack) ladderSteps(cases []*faultCase) int {
	f.t.Helper()
	n := 0
	for _, c := range cases {
		s := f.caseSnapshot(c.no)
		if s.err != nil {
			f.t.Fatalf("case %s before the fault: %v", c.no, s.err)
		}
		for _, e := range s.events {
			if slices.Contains(ladderKinds, e.Type) {
				n++
			}
		}
	}
	return n
}

// faultCounts are the figures a fault test reports.
type faultCounts struct {
	cases, registerRows, workflows, events, steps, stepsBefore, remindersSent, remindersSkipped, overdue, escalations, actions int
}

func (c faultCounts) String() string {
	return fmt.Sprintf("cases %d (register rows %d, running workflows %d); events %d; ladder steps %d, %d of them "+
		"recorded before the fault began (reminders sent %d, skipped %d, overdue %d, escalations %d); actions %d",
		c.cases, c.registerRows, c.workflows, c.events, c.steps, c.stepsBefore, c.remindersSent, c.remindersSkipped,
		c.overdue, c.escalations, c.actions)
}

// verify waits until every case has settled (at most settle), then checks that nothing was
// lost and nothing happened twice: each case once in the register and once in Temporal; its
// events numbered 1..n without gaps, in time order; each ladder step once per clock in ladder
// order; each action answered 200 recorded once, in the order sent; the register row equal to
// the workflow's state. It logs the counts.
func (f *faultStack) verify(cases []*faultCase, settle time.Duration) faultCounts {
	t := f.t
	t.Helper()
	began := time.Now()
	snaps := map[string]caseSnapshot{}
	for {
		pending := 0
		for _, c := range cases {
			if s, ok := snaps[c.no]; ok && s.settled() {
				continue
			}
			snaps[c.no] = f.caseSnapshot(c.no)
			if !snaps[c.no].settled() {
				pending++
			}
		}
		if pending == 0 || time.Since(began) > settle {
			if pending > 0 {
				for _, c := range cases {
					if s := snaps[c.no]; !s.settled() {
						t.Errorf("case %s has not settled within %s (register and workflow agree, ladder done): %s", c.no, settle, s)
					}
				}
			}
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("cases settled %s after the last action", time.Since(began).Round(100*time.Millisecond))

	var n faultCounts
	n.cases = len(cases)
	for _, c := range cases {
		s := snaps[c.no]
		if s.err != nil {
			t.Errorf("case %s: %v", c.no, s.err)
			continue
		}
		n.events += len(s.events)
		n.actions += len(c.actions)
		f.checkCase(c, s, &n)
	}
	n.registerRows = f.checkRegisterList(cases)
	n.workflows = f.checkWorkflows(cases)
	n.stepsBefore = f.stepsBefore
	t.Logf("after the fault: %s", n)
	if n.steps-n.stepsBefore < n.cases {
		t.Errorf("only %d of %d ladder steps came after the fault began: the fault missed the ladders", n.steps-n.stepsBefore, n.steps)
	}
	return n
}

// ladderKinds are the event types of ladder steps.
var ladderKinds = []string{workflows.EventReminderSent, workflows.EventReminderSkipped, workflows.EventOverdue, workflows.EventEscalated}

// checkCase checks one settled case's events and state.
func (f *faultStack) checkCase(c *faultCase, s caseSnapshot, n *faultCounts) {
	t := f.t
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("case %s: %s\n  %s", c.no, fmt.Sprintf(format, args...), s)
	}
	if !s.body.agree() {
		fail("the register disagrees with the workflow")
	}
	// Numbered 1..n without gaps or repeats, in time order; the register row at the last.
	for i, e := range s.events {
		if e.Seq != int64(i+1) {
			fail("event %d has seq %d: gaps or repeats", i+1, e.Seq)
			break
		}
		if i > 0 && e.At.Before(s.events[i-1].At) {
			fail("event %d (%s at %s) is older than event %d (%s)", e.Seq, e.Type, e.At, i, s.events[i-1].At)
		}
	}
	if s.body.State != nil && int64(len(s.events)) != s.body.State.Seq {
		fail("%d events in the register, workflow seq %d", len(s.events), s.body.State.Seq)
	}
	if len(s.events) == 0 || s.events[0].Type != workflows.EventRegistered {
		fail("the first event is not %q", workflows.EventRegistered)
	}
	// Ladder steps, per clock: each at most once, in ladder order (reminder, overdue, leader,
	// superior); a clock the case left before its ladder ended may have fewer.
	type clockSteps struct {
		reminder, overdue, leader, superior []int64 // seqs
	}
	clocks := map[string]*clockSteps{}
	var order []string
	for _, e := range s.events {
		if !slices.Contains(ladderKinds, e.Type) {
			continue
		}
		clock, _ := e.Details["clock"].(string)
		cs := clocks[clock]
		if cs == nil {
			cs = &clockSteps{}
			clocks[clock] = cs
			order = append(order, clock)
		}
		n.steps++
		switch e.Type {
		case workflows.EventReminderSent:
			n.remindersSent++
			cs.reminder = append(cs.reminder, e.Seq)
		case workflows.EventReminderSkipped:
			n.remindersSkipped++
			cs.reminder = append(cs.reminder, e.Seq)
		case workflows.EventOverdue:
			n.overdue++
			cs.overdue = append(cs.overdue, e.Seq)
		case workflows.EventEscalated:
			n.escalations++
			switch stepLevel(e) {
			case 2:
				cs.leader = append(cs.leader, e.Seq)
			case 3:
				cs.superior = append(cs.superior, e.Seq)
			default:
				fail("escalated event %d with level %v", e.Seq, e.Details["level"])
			}
		}
	}
	// The clocks that must have run their whole ladder: acceptance for the cases left alone,
	// handling for the cases accepted (their acceptance clock stopped at the acceptance).
	full := string(workflows.ClockAcceptance)
	if c.acted {
		full = string(workflows.ClockHandling)
		// The acceptance clock stops at the acceptance, the handling clock starts there: no step
		// of either on the wrong side of it.
		var accepted int64
		for _, e := range s.events {
			if e.Type == workflows.EventAccepted {
				accepted = e.Seq
			}
		}
		for clock, cs := range clocks {
			for _, seq := range slices.Concat(cs.reminder, cs.overdue, cs.leader, cs.superior) {
				if (clock == string(workflows.ClockAcceptance)) != (seq < accepted) {
					fail("%s clock step at seq %d, the acceptance at seq %d", clock, seq, accepted)
				}
			}
		}
	}
	for _, clock := range order {
		cs := clocks[clock]
		if len(cs.reminder) > 1 || len(cs.overdue) > 1 || len(cs.leader) > 1 || len(cs.superior) > 1 {
			fail("clock %s: a ladder step fired twice: reminder %v, overdue %v, leader %v, superior %v",
				clock, cs.reminder, cs.overdue, cs.leader, cs.superior)
		}
		seqs := slices.Concat(cs.reminder, cs.overdue, cs.leader, cs.superior)
		if !slices.IsSorted(seqs) {
			fail("clock %s: ladder steps out of order: reminder %v, overdue %v, leader %v, superior %v",
				clock, cs.reminder, cs.overdue, cs.leader, cs.superior)
		}
		if clock != full && clock != string(workflows.ClockAcceptance) {
			fail("steps of an unexpected clock %q", clock)
		}
	}
	if cs := clocks[full]; cs == nil || len(cs.reminder) != 1 || len(cs.overdue) != 1 || len(cs.leader) != 1 || len(cs.superior) != 1 {
		var got clockSteps
		if cs != nil {
			got = *cs
		}
		fail("clock %s must have run its whole ladder, each step once (reminder sent or skipped, overdue, leader, superior): %+v", full, got)
	}
	// Every action answered 200 recorded once, in the order sent; nothing else recorded by staff.
	var last int64
	for _, a := range c.actions {
		var seqs []int64
		for _, e := range s.events {
			if e.Type != a.event {
				continue
			}
			if op, _ := e.Details["opinion"].(string); a.opinion != "" && op != a.opinion {
				continue
			}
			seqs = append(seqs, e.Seq)
		}
		if len(seqs) != 1 {
			fail("action %s (%.40q) recorded %d times (events %v), want once", a.action, a.opinion, len(seqs), seqs)
			continue
		}
		if seqs[0] <= last {
			fail("action %s recorded at seq %d, before the action sent ahead of it (seq %d)", a.action, seqs[0], last)
		}
		last = seqs[0]
	}
	staffEvents := 0
	for _, e := range s.events {
		if e.Type != workflows.EventRegistered && e.Actor.Role != workflows.RoleSystem {
			staffEvents++
		}
	}
	if staffEvents != len(c.actions) {
		fail("%d events by staff, %d actions answered 200", staffEvents, len(c.actions))
	}
	// Where the case stands.
	wantStage := workflows.StageRegistered
	if c.acted {
		wantStage = workflows.StageHandling
	}
	if st := s.body.State; st == nil || st.Stage != wantStage || !st.Overdue || st.EscalationLevel != 3 {
		fail("want stage %s, overdue, escalation level 3", wantStage)
	}
}

func stepLevel(e workflows.Event) int {
	switch v := e.Details["level"].(type) {
	case float64:
		return int(v)
	case int:
		return v
	case string:
		n, _ := strconv.Atoi(v)
		return n
	}
	return 0
}

// checkRegisterList checks that the register lists every case once and nothing else (the stack
// is the test's own); it returns the number of rows.
func (f *faultStack) checkRegisterList(cases []*faultCase) int {
	t := f.t
	t.Helper()
	var page struct {
		Cases []struct {
			CaseNo string `json:"case_no"`
		} `json:"cases"`
		NextCursor string `json:"next_cursor"`
	}
	if r := f.do("GET", "/api/v1/petitions?limit=200", clerk, nil, &page); r.err != nil || r.code != http.StatusOK {
		t.Errorf("list the register: %s", r)
		return 0
	}
	var listed []string
	for _, c := range page.Cases {
		listed = append(listed, c.CaseNo)
	}
	if page.NextCursor != "" {
		t.Errorf("the register lists more than a page of cases: %d and more", len(listed))
	}
	sort.Strings(listed)
	want := make([]string, len(cases))
	for i, c := range cases {
		want[i] = c.no
	}
	sort.Strings(want)
	if !slices.Equal(listed, want) {
		t.Errorf("the register lists %v, want each case once: %v", listed, want)
	}
	return len(listed)
}

// checkWorkflows checks that Temporal runs exactly one petition workflow per case and nothing
// else; it returns how many run.
func (f *faultStack) checkWorkflows(cases []*faultCase) int {
	t := f.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := f.s.Service.Temporal()
	for _, fc := range cases {
		d, err := c.DescribeWorkflowExecution(ctx, workflows.WorkflowID(fc.no), "")
		if err != nil {
			t.Errorf("case %s: describe its workflow: %v", fc.no, err)
			continue
		}
		if st := d.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			t.Errorf("case %s: workflow %s, want running", fc.no, st)
		}
	}
	want := map[string]bool{}
	for _, fc := range cases {
		want[workflows.WorkflowID(fc.no)] = true
	}
	// Visibility follows the executions asynchronously: give it a moment.
	var ids []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		ids = ids[:0]
		var token []byte
		for {
			resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Query:         fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running'", workflows.WorkflowName),
				NextPageToken: token,
			})
			if err != nil {
				t.Errorf("list running workflows: %v", err)
				return 0
			}
			for _, e := range resp.GetExecutions() {
				ids = append(ids, e.GetExecution().GetWorkflowId())
			}
			if token = resp.GetNextPageToken(); len(token) == 0 {
				break
			}
		}
		sort.Strings(ids)
		ok := len(ids) == len(want) && !slices.ContainsFunc(ids, func(id string) bool { return !want[id] }) &&
			len(slices.Compact(slices.Clone(ids))) == len(ids)
		if ok {
			return len(ids)
		}
		if time.Now().After(deadline) {
			t.Errorf("running petition workflows %v, want one per case (%d)", ids, len(want))
			return len(ids)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// ---- petitiond worker processes ----

// workerProc is a `petitiond worker` process.
type workerProc struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error // from Wait, once done is closed
}

// petitiond builds the service binary once per test into its temporary folder.
func (f *faultStack) petitiond() string {
	f.t.Helper()
	if f.bin != "" {
		return f.bin
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(f.t.TempDir(), "petitiond")
	began := time.Now()
	cmd := exec.Command(goTool, "build", "-o", bin, "./cmd/petitiond")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		f.t.Fatalf("go build ./cmd/petitiond: %v\n%s", err, out)
	}
	f.t.Logf("built petitiond in %s", time.Since(began).Round(100*time.Millisecond))
	f.bin = bin
	return bin
}

// startWorker starts `petitiond worker` with the stack's worker settings and waits until it
// polls the task queue.
func (f *faultStack) startWorker(name string) *workerProc {
	f.t.Helper()
	w := &workerProc{name: name, out: &lockedBuffer{}, done: make(chan struct{})}
	w.cmd = exec.Command(f.petitiond(), "worker")
	w.cmd.Env = append(os.Environ(), f.s.WorkerEnv()...)
	w.cmd.Env = append(w.cmd.Env, "LOG_LEVEL=info") // debug lines of a whole run are not needed here
	w.cmd.Stdout, w.cmd.Stderr = w.out, w.out
	if err := w.cmd.Start(); err != nil {
		f.t.Fatalf("start worker %s: %v", name, err)
	}
	go func() {
		w.err = w.cmd.Wait()
		// Its log lines join the others for the check that no log carries personal data.
		_, _ = capturedLogs.Write(w.out.Bytes())
		close(w.done)
	}()
	f.workers = append(f.workers, w)
	f.t.Cleanup(func() {
		select {
		case <-w.done:
		default:
			_ = w.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-w.done:
			case <-time.After(20 * time.Second):
				_ = w.cmd.Process.Kill()
				<-w.done
			}
		}
		if f.t.Failed() {
			f.t.Logf("worker %s (pid %d) output, last lines:\n%s", w.name, w.cmd.Process.Pid, lastLines(w.out.Bytes(), 25))
		}
	})
	f.waitPolling(w)
	return w
}

// waitPolling waits until the worker process polls both the workflow and the activity queue.
func (f *faultStack) waitPolling(w *workerProc) {
	f.t.Helper()
	prefix := strconv.Itoa(w.cmd.Process.Pid) + "@"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := f.s.Service.Temporal()
	for {
		polling := 0
		for _, tq := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
			resp, err := c.DescribeTaskQueue(ctx, workflows.TaskQueue, tq)
			if err != nil {
				continue
			}
			for _, p := range resp.GetPollers() {
				if strings.HasPrefix(p.GetIdentity(), prefix) {
					polling++
					break
				}
			}
		}
		if polling == 2 {
			return
		}
		select {
		case <-w.done:
			f.t.Fatalf("worker %s exited: %v\n%s", w.name, w.err, lastLines(w.out.Bytes(), 30))
		case <-ctx.Done():
			f.t.Fatalf("worker %s (pid %d) does not poll the task queue after a minute:\n%s", w.name, w.cmd.Process.Pid,
				lastLines(w.out.Bytes(), 30))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// kill sends SIGKILL: no graceful stop, tasks in flight are lost with the process.
func (w *workerProc) kill(t *testing.T) {
	t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill worker %s: %v", w.name, err)
	}
	<-w.done
	if ws, ok := w.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("worker %s ended by %v, not SIGKILL (it had exited already?)\n%s", w.name, w.cmd.ProcessState, lastLines(w.out.Bytes(), 20))
	}
	t.Logf("worker %s (pid %d) killed with SIGKILL", w.name, w.cmd.Process.Pid)
}

// alive fails the test if the worker process has exited.
func (w *workerProc) alive(t *testing.T) {
	t.Helper()
	select {
	case <-w.done:
		t.Errorf("worker %s exited by itself: %v\n%s", w.name, w.err, lastLines(w.out.Bytes(), 30))
	default:
	}
}

// outageProbe is a request sent again and again while a part is down: each answer must come within
// fast and carry one of the wanted statuses.
type outageProbe struct {
	name  string
	want  []int
	fast  time.Duration
	call  func() faultReply
	count int
	worst time.Duration
	codes map[int]int
}

func (p *outageProbe) run(t *testing.T) {
	t.Helper()
	r := p.call()
	p.count++
	p.worst = max(p.worst, r.took)
	if p.codes == nil {
		p.codes = map[int]int{}
	}
	p.codes[r.code]++
	switch {
	case r.err != nil:
		t.Errorf("%s during the outage: %s", p.name, r)
	case !slices.Contains(p.want, r.code):
		t.Errorf("%s during the outage: %s; want status %v", p.name, r, p.want)
	case r.took > p.fast:
		t.Errorf("%s during the outage: %s; want the answer within %s", p.name, r, p.fast)
	}
}

func (p *outageProbe) String() string {
	return fmt.Sprintf("%s: %d probes, statuses %v, slowest %s", p.name, p.count, p.codes, p.worst.Round(time.Millisecond))
}

// probeDuring runs the probes every interval until d has passed since it began.
func probeDuring(t *testing.T, d, interval time.Duration, probes ...*outageProbe) {
	t.Helper()
	end := time.Now().Add(d)
	for {
		for _, p := range probes {
			p.run(t)
		}
		if time.Until(end) < interval {
			time.Sleep(max(time.Until(end), 0))
			break
		}
		time.Sleep(interval)
	}
	for _, p := range probes {
		t.Logf("%s", p)
	}
}
