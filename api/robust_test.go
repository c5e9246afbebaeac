package api

// Robustness of the API under faults and retries (issue 9): actions applied once (ETag,
// If-Match, 412, 428), reads that do not wait for workers, instants in the office's zone,
// faults answered with the right status, and a worker crash answered before the API's own
// deadline with what to do.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/types/known/timestamppb"
	"gopkg.in/yaml.v3"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// utc is how PostgreSQL and a worker in UTC hand instants back: the fakes below answer in it.
var utcNow = time.Date(2026, 5, 14, 2, 0, 0, 0, time.UTC) // 10:00 in Beijing

// caseRegister is a register holding cases in memory, answering in UTC like PostgreSQL does.
type caseRegister struct {
	offlineRegister
	mu        sync.Mutex
	cases     map[string]register.Case
	events    []workflows.Event
	gets      int
	registers int
}

func newCaseRegister(cases ...register.Case) *caseRegister {
	r := &caseRegister{cases: map[string]register.Case{}}
	for _, c := range cases {
		r.cases[c.CaseNo] = c
	}
	r.events = []workflows.Event{{
		Seq: 1, Type: workflows.EventRegistered, At: utcNow, Actor: workflows.Actor{ID: "clerk-1", Role: workflows.RoleClerk},
		// As read back from jsonb: instants are strings.
		Details: map[string]any{"due": "2026-06-04T16:00:00Z", "reason": "原因", "late": true, "n": 3.0},
	}}
	return r
}

// openCase is a case in handling with every instant in UTC and a deadline as projected.
func openCase(no string, stage workflows.Stage) register.Case {
	due := utcNow.Add(21 * 24 * time.Hour)
	accepted := utcNow.Add(time.Hour)
	dl, _ := json.Marshal(workflows.Deadline{Clock: workflows.ClockHandling, Start: accepted, Due: due,
		Explanation: workflows.Explanation{Start: accepted, Due: due}})
	c := register.Case{
		CaseNo: no, Channel: "letter", Category: "appeal", Topic: "欠薪", Policy: "default",
		Unit: testUnit, Stage: string(stage), ReceivedAt: utcNow, RegisteredAt: utcNow, AcceptedAt: &accepted,
		DueAt: &due, Seq: 4, Deadline: dl, UpdatedAt: utcNow, QueryCode: fuzzQueryCode,
	}
	if stage.Final() {
		closed := utcNow.Add(48 * time.Hour)
		c.ClosedAt, c.DueAt, c.Deadline, c.Seq = &closed, nil, nil, 9
	}
	return c
}

// IsPetitionOffice: the test directory's units are bureaus, not the petition office.
func (r *caseRegister) IsPetitionOffice(context.Context, string) (bool, error) { return false, nil }

func (r *caseRegister) Get(_ context.Context, no string) (register.Case, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gets++
	c, ok := r.cases[no]
	if !ok {
		return c, register.ErrNotFound
	}
	return c, nil
}
func (r *caseRegister) GetByQueryCode(ctx context.Context, no, code string) (register.Case, error) {
	c, err := r.Get(ctx, no)
	if err != nil || code != c.QueryCode {
		return register.Case{}, register.ErrNotFound
	}
	return c, nil
}
func (r *caseRegister) RepeatSubmissions(context.Context, string) ([]register.RepeatSubmission, error) {
	return []register.RepeatSubmission{{Channel: "visit", ReceivedAt: utcNow, RegisteredAt: utcNow}}, nil
}
func (r *caseRegister) RecordPersonalDataRead(context.Context, string, string, string) error {
	return nil
}
func (r *caseRegister) Events(context.Context, string) ([]workflows.Event, error) {
	return r.events, nil
}
func (r *caseRegister) Unit(_ context.Context, code string) (register.Unit, error) {
	return register.Unit{Code: code, Name: "信访办"}, nil
}
func (r *caseRegister) Units(context.Context) ([]register.Unit, error) {
	return []register.Unit{{Code: testUnit, Name: "信访办"}}, nil
}
func (r *caseRegister) Staff(_ context.Context, id string) (register.Staff, error) {
	return register.Staff{ID: id, Name: "员工", Role: "clerk", Unit: testUnit}, nil
}
func (r *caseRegister) List(context.Context, register.ListFilter) (register.Page, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var p register.Page
	for _, c := range r.cases {
		p.Cases = append(p.Cases, c)
	}
	return p, nil
}
func (r *caseRegister) Stats(_ context.Context, from, to time.Time, unit string) (register.Stats, error) {
	return register.Stats{From: from.UTC(), To: to.UTC(), Unit: unit}, nil
}
func (r *caseRegister) AuditLog(context.Context, int64, int) ([]register.AuditEntry, error) {
	return []register.AuditEntry{{ID: 1, At: utcNow, ActorID: "admin-1", Action: "unit.create", Target: "x"}}, nil
}
func (r *caseRegister) PersonalDataReads(context.Context, string, string, int64, int) ([]register.PersonalDataRead, error) {
	return []register.PersonalDataRead{{ID: 1, At: utcNow, StaffID: "clerk-1", CaseNo: "2026-000001"}}, nil
}
func (r *caseRegister) PolicyAllowed(context.Context, string) (bool, error) { return true, nil }
func (r *caseRegister) Route(context.Context, string, string) (string, error) {
	return "", register.ErrNotFound
}
func (r *caseRegister) FindRepeat(context.Context, []register.Petitioner, string, string) (register.Case, bool, error) {
	return register.Case{}, false, nil
}
func (r *caseRegister) Register(_ context.Context, nc register.NewCase) (register.Case, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.registers++
	c := openCase("2026-000777", workflows.StageRegistered)
	c.QueryCode = "Q7777777"
	return c, true, nil
}

// fakeTemporal is a workflow service whose behaviour each test sets. Calls it does not
// implement panic (client.Client is nil), which the recovery middleware answers with 500.
type fakeTemporal struct {
	client.Client
	mu       sync.Mutex
	state    workflows.CaseState // answered by queries and updates
	queryErr error               // answered by queries instead
	hang     bool                // queries and updates wait for their context
	updErr   error               // answered by updates instead
	queries  int
	updates  []client.UpdateWorkflowOptions
	pending  *workflowpb.PendingWorkflowTaskInfo // what DescribeWorkflowExecution shows
	pollers  int                                 // workers polling the task queue
	down     bool                                // the health check fails
	// applied counts applications per update ID, as Temporal would: once.
	applied map[string]int
}

type fakeValue struct{ v any }

func (v fakeValue) HasValue() bool { return true }
func (v fakeValue) Get(p any) error {
	b, err := json.Marshal(v.v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, p)
}

func (f *fakeTemporal) QueryWorkflow(ctx context.Context, _, _, _ string, _ ...any) (converter.EncodedValue, error) {
	f.mu.Lock()
	f.queries++
	hang, err, st := f.hang, f.queryErr, f.state
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return fakeValue{st}, nil
}

func (f *fakeTemporal) UpdateWorkflow(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.mu.Lock()
	f.updates = append(f.updates, o)
	hang, err := f.hang, f.updErr
	if f.applied == nil {
		f.applied = map[string]int{}
	}
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return nil, client.NewWorkflowUpdateServiceTimeoutOrCanceledError(ctx.Err())
	}
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	in, _ := o.Args[0].(workflows.ActionInput)
	if f.applied[o.UpdateID] == 0 {
		if in.IfSeq != nil && *in.IfSeq != f.state.Seq {
			return nil, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("the case has changed since it was read (now at #%d, the request expected #%d)", f.state.Seq, *in.IfSeq), workflows.ErrorStale, nil)
		}
		f.state.Seq++
	}
	f.applied[o.UpdateID]++
	return fakeHandle{id: o.UpdateID, state: f.state}, nil
}

func (f *fakeTemporal) NewWithStartWorkflowOperation(client.StartWorkflowOptions, any, ...any) client.WithStartWorkflowOperation {
	return nil
}

func (f *fakeTemporal) UpdateWithStartWorkflow(ctx context.Context, o client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.mu.Lock()
	hang := f.hang
	f.mu.Unlock()
	if hang {
		return hangingHandle{}, nil
	}
	return fakeHandle{id: o.UpdateOptions.UpdateID, state: f.state}, nil
}

func (f *fakeTemporal) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &workflowservice.DescribeWorkflowExecutionResponse{PendingWorkflowTask: f.pending}, nil
}

func (f *fakeTemporal) DescribeTaskQueue(context.Context, string, enums.TaskQueueType) (*workflowservice.DescribeTaskQueueResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := &workflowservice.DescribeTaskQueueResponse{}
	for range f.pollers {
		r.Pollers = append(r.Pollers, &taskqueuepb.PollerInfo{Identity: "worker"})
	}
	return r, nil
}

func (f *fakeTemporal) CheckHealth(ctx context.Context, _ *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		return nil, serviceerror.NewUnavailable("connection refused")
	}
	return &client.CheckHealthResponse{}, nil
}

type fakeHandle struct {
	id    string
	state workflows.CaseState
}

func (h fakeHandle) WorkflowID() string { return "" }
func (h fakeHandle) RunID() string      { return "" }
func (h fakeHandle) UpdateID() string   { return h.id }
func (h fakeHandle) Get(_ context.Context, p any) error {
	return fakeValue{h.state}.Get(p)
}

type hangingHandle struct{ fakeHandle }

func (hangingHandle) Get(ctx context.Context, _ any) error {
	<-ctx.Done()
	return client.NewWorkflowUpdateServiceTimeoutOrCanceledError(ctx.Err())
}

// robustEnv is a server over caseRegister and fakeTemporal.
type robustEnv struct {
	s   *Server
	reg *caseRegister
	tc  *fakeTemporal
}

func newRobustEnv(t *testing.T, cases ...register.Case) *robustEnv {
	t.Helper()
	reg, tc := newCaseRegister(cases...), &fakeTemporal{pollers: 1}
	tc.state = workflows.CaseState{
		CaseNo: "2026-000001", Stage: workflows.StageHandling, Seq: 4,
		ReceivedAt: utcNow, RegisteredAt: utcNow,
		Deadline: &workflows.Deadline{Clock: workflows.ClockHandling, Start: utcNow, Due: utcNow.Add(72 * time.Hour),
			Explanation: workflows.Explanation{Start: utcNow, Due: utcNow.Add(72 * time.Hour)}},
	}
	unlimited := RateLimit{Every: time.Nanosecond, Burst: 1 << 30}
	s := New(Config{
		Policies: testPolicies, Now: func() time.Time { return fixedNow }, Logger: quietLog,
		Register: reg, Temporal: tc, Auth: fakeAuth{}, Accounts: fakeAuth{},
		SelfServicePerClient: unlimited, SelfServicePerCase: unlimited,
	})
	return &robustEnv{s: s, reg: reg, tc: tc}
}

// reqOpts are a request's extra headers, as do takes them.
func hdr(kv ...string) []string { return kv }

// #6: an action needs an Idempotency-Key or If-Match; If-Match makes it conditional (412 when
// the case moved on) and its repetition after a timeout gets the first outcome, not a second
// application. Every answer that shows a case carries its ETag.
func TestActionsApplyOnce(t *testing.T) {
	env := newRobustEnv(t, openCase("2026-000001", workflows.StageHandling))
	const path = "/api/v1/petitions/2026-000001/supervise"
	sup := bearer("supervisor")

	w, body := do(t, env.s, http.MethodPost, path, `{"opinion":"尽快办理"}`, "Authorization", sup)
	if w.Code != http.StatusPreconditionRequired || !strings.Contains(body["error"].(string), "If-Match") ||
		!strings.Contains(body["error"].(string), "Idempotency-Key") || len(env.tc.updates) != 0 {
		t.Fatalf("action without key or If-Match: %d %v (updates %d), want 428 saying what to send", w.Code, body, len(env.tc.updates))
	}

	// The ETag of a read is the seq the answer shows.
	w, body = do(t, env.s, http.MethodGet, "/api/v1/petitions/2026-000001", nil, "Authorization", sup)
	if w.Code != 200 || w.Header().Get("ETag") != `"4"` || body["source"] != "workflow" {
		t.Fatalf("read: %d ETag %q %v", w.Code, w.Header().Get("ETag"), body["source"])
	}

	// Conditional on seq 4: applied, answered with the new seq.
	w, body = do(t, env.s, http.MethodPost, path, `{"opinion":"尽快办理"}`, "Authorization", sup, "If-Match", `"4"`)
	if w.Code != 200 || w.Header().Get("ETag") != `"5"` || body["seq"] != 5.0 {
		t.Fatalf("conditional action: %d ETag %q %v", w.Code, w.Header().Get("ETag"), body)
	}
	first := env.tc.updates[0]
	in := first.Args[0].(workflows.ActionInput)
	if in.IfSeq == nil || *in.IfSeq != 4 || !strings.HasPrefix(first.UpdateID, "supervise-if-4-") {
		t.Fatalf("update %q with IfSeq %v", first.UpdateID, in.IfSeq)
	}
	// The same request again (a retry after a 504): the same update ID, the first outcome.
	w, body = do(t, env.s, http.MethodPost, path, `{"opinion":"尽快办理"}`, "Authorization", sup, "If-Match", `"4"`)
	if w.Code != 200 || body["seq"] != 5.0 || env.tc.updates[1].UpdateID != first.UpdateID || env.tc.state.Seq != 5 {
		t.Fatalf("retry: %d %v, update ID %q (first %q), case at seq %d: applied twice?", w.Code, body, env.tc.updates[1].UpdateID, first.UpdateID, env.tc.state.Seq)
	}
	// Another action on the stale seq is refused: 412.
	w, body = do(t, env.s, http.MethodPost, path, `{"opinion":"另一个指示"}`, "Authorization", sup, "If-Match", `"4"`)
	if w.Code != http.StatusPreconditionFailed || !strings.Contains(body["error"].(string), "changed") || env.tc.state.Seq != 5 {
		t.Fatalf("stale If-Match: %d %v, want 412", w.Code, body)
	}
	// Another person's request on the same seq is another update.
	w, _ = do(t, env.s, http.MethodPost, path, `{"opinion":"尽快办理"}`, "Authorization", "Bearer test-supervisor-"+testUnit+"-supervisor-2", "If-Match", `"5"`)
	if w.Code != 200 || env.tc.updates[3].UpdateID == env.tc.updates[2].UpdateID {
		t.Fatalf("another supervisor: %d, update IDs %q %q", w.Code, env.tc.updates[3].UpdateID, env.tc.updates[2].UpdateID)
	}
	// An Idempotency-Key alone names the update; with If-Match too, the action is conditional.
	w, _ = do(t, env.s, http.MethodPost, path, `{"opinion":"x"}`, "Authorization", sup, "Idempotency-Key", "k-123")
	last := env.tc.updates[len(env.tc.updates)-1]
	if w.Code != 200 || last.UpdateID != "supervise-k-123" || last.Args[0].(workflows.ActionInput).IfSeq != nil {
		t.Fatalf("keyed action: %d %q", w.Code, last.UpdateID)
	}
	w, _ = do(t, env.s, http.MethodPost, path, `{"opinion":"x"}`, "Authorization", sup, "Idempotency-Key", "k-124", "If-Match", `"1"`)
	if w.Code != http.StatusPreconditionFailed {
		t.Fatalf("keyed, stale If-Match: %d, want 412", w.Code)
	}
	// If-Match is one strong ETag of a seq.
	for _, v := range []string{`W/"7"`, `*`, `7`, `"7", "8"`, `"-1"`, `"7x"`, `""`, `"99999999999999999999"`, `"007"`} {
		w, body := do(t, env.s, http.MethodPost, path, `{"opinion":"x"}`, "Authorization", sup, "If-Match", v)
		fields, _ := body["fields"].(map[string]any)
		if w.Code != http.StatusBadRequest || fields["If-Match"] == nil {
			t.Errorf("If-Match %s: %d %v, want 400 naming If-Match", v, w.Code, body)
		}
	}

	// The petitioner's self-service: the same rules, the ETag of the public view.
	pub := "/api/v1/public/petitions/2026-000001"
	w, _ = do(t, env.s, http.MethodGet, pub, nil, "Authorization", "", "X-Query-Code", fuzzQueryCode)
	if w.Code != 200 || w.Header().Get("ETag") != `"4"` {
		t.Fatalf("public view: %d ETag %q", w.Code, w.Header().Get("ETag"))
	}
	w, body = do(t, env.s, http.MethodPost, pub+"/withdraw", `{"reason":"已解决"}`, "Authorization", "", "X-Query-Code", fuzzQueryCode)
	if w.Code != http.StatusPreconditionRequired {
		t.Fatalf("public action without key or If-Match: %d %v, want 428", w.Code, body)
	}
	seq := env.tc.state.Seq
	w, _ = do(t, env.s, http.MethodPost, pub+"/withdraw", `{"reason":"已解决"}`, "Authorization", "", "X-Query-Code", fuzzQueryCode, "If-Match", fmt.Sprintf(`"%d"`, seq))
	if w.Code != 200 || w.Header().Get("ETag") != fmt.Sprintf(`"%d"`, seq+1) {
		t.Fatalf("public conditional action: %d ETag %q", w.Code, w.Header().Get("ETag"))
	}

	// Registration needs no key: the register deduplicates it.
	w, body = do(t, env.s, http.MethodPost, "/api/v1/petitions", validPetition())
	if w.Code != http.StatusCreated || body["case_no"] != "2026-000777" {
		t.Fatalf("registration without a key: %d %v", w.Code, body)
	}
}

// activityFailure is how an action's failed activity reaches the API: the handler wraps the
// ActivityError, whose cause is the activity's own error.
func activityFailure(cause *failurepb.Failure) error {
	f := &failurepb.Failure{
		Message: "accept: compute deadline", FailureInfo: &failurepb.Failure_ApplicationFailureInfo{
			ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{Type: "wrapError"}},
		Cause: &failurepb.Failure{Message: "activity error", FailureInfo: &failurepb.Failure_ActivityFailureInfo{
			ActivityFailureInfo: &failurepb.ActivityFailureInfo{ActivityType: &commonpb.ActivityType{Name: "ComputeDeadline"},
				RetryState: enums.RETRY_STATE_NON_RETRYABLE_FAILURE}}, Cause: cause},
	}
	return temporal.GetDefaultFailureConverter().FailureToError(f)
}

func TestClassifyRobustness(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("failed workflow update: %w", err) }
	invalidDeadline := activityFailure(&failurepb.Failure{Message: "period of 0 days", FailureInfo: &failurepb.Failure_ApplicationFailureInfo{
		ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{Type: "InvalidDeadline", NonRetryable: true}}})
	registerDown := activityFailure(&failurepb.Failure{Message: "connection refused", FailureInfo: &failurepb.Failure_ApplicationFailureInfo{
		ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{Type: "ConnectError"}}})
	for _, tc := range []struct {
		name    string
		err     error
		status  int
		message string
	}{
		{"stale", wrap(temporal.NewNonRetryableApplicationError("supervise is refused: the case has changed", workflows.ErrorStale, nil)), 412, "the case has changed"},
		{"no key, no If-Match", errPreconditionRequired("GET /api/v1/petitions/2026-000001"), 428, "If-Match"},
		{"permanent activity failure", invalidDeadline, 422, "period of 0 days"},
		{"activity outage", registerDown, 503, "try again later"},
		{"register slow", &backendSlowError{what: "the register (PostgreSQL)", wait: registerWait, err: context.DeadlineExceeded}, 503, "did not answer within 5s"},
		{"workflow failing", &workflowStuckError{caseNo: "2026-000001", reason: "the case's workflow is failing on the worker", action: true}, 503, "same Idempotency-Key or If-Match"},
		{"timeout", wrap(context.DeadlineExceeded), 504, "retry with the same Idempotency-Key or If-Match"},
	} {
		status, body := classify(tc.err)
		msg, _ := body["error"].(string)
		if status != tc.status || !strings.Contains(msg, tc.message) {
			t.Errorf("%s: %d %q, want %d containing %q", tc.name, status, msg, tc.status, tc.message)
		}
	}
}

// #7: a closed case is read from the register without asking the workflow; an open one whose
// workflow does not answer falls back to the register at once.
func TestReadsDoNotWaitForWorkers(t *testing.T) {
	env := newRobustEnv(t, openCase("2026-000002", workflows.StageClosed), openCase("2026-000001", workflows.StageHandling))
	for _, p := range []string{"/api/v1/petitions/2026-000002", "/api/v1/petitions/2026-000002/deadlines"} {
		w, body := do(t, env.s, http.MethodGet, p, nil)
		if w.Code != 200 || body["source"] != "register" || body["state_error"] != nil || w.Header().Get("ETag") != `"9"` {
			t.Errorf("closed case %s: %d ETag %q %v", p, w.Code, w.Header().Get("ETag"), body)
		}
	}
	if env.tc.queries != 0 {
		t.Fatalf("a closed case was queried %d times", env.tc.queries)
	}

	env.tc.hang = true // workers down: the query is never answered
	start := time.Now()
	w, body := do(t, env.s, http.MethodGet, "/api/v1/petitions/2026-000001", nil)
	took := time.Since(start)
	reason, _ := body["state_error"].(string)
	if w.Code != 200 || body["source"] != "register" || body["state"] != nil || !strings.Contains(reason, "did not answer within 2s") ||
		body["case"] == nil || body["deadlines"] == nil || w.Header().Get("ETag") != `"4"` {
		t.Errorf("open case, workers down: %d ETag %q %v", w.Code, w.Header().Get("ETag"), body)
	}
	if took > queryTimeout+describeTimeout+time.Second {
		t.Errorf("answered after %s", took)
	}
	env.s.queryWait = 100 * time.Millisecond
	w, body = do(t, env.s, http.MethodGet, "/api/v1/petitions/2026-000001/deadlines", nil)
	if w.Code != 200 || body["source"] != "register" || body["deadline"] == nil || body["state_error"] == nil {
		t.Errorf("deadlines, workers down: %d %v", w.Code, body)
	}
}

// #8/#12: a workflow whose task keeps failing is said to be failing on the worker, in reads
// and in actions; a workflow no worker takes is said to wait for one; neither blames the
// workflow service.
func TestWorkflowTroubleIsNamed(t *testing.T) {
	env := newRobustEnv(t, openCase("2026-000001", workflows.StageHandling))
	env.tc.queryErr = serviceerror.NewWorkflowNotReady("Unable to query workflow due to Workflow Task in failed state.")
	_, body := do(t, env.s, http.MethodGet, "/api/v1/petitions/2026-000001", nil)
	if reason, _ := body["state_error"].(string); !strings.Contains(reason, "failing on the worker") || !strings.Contains(reason, "logs") || strings.Contains(reason, "unavailable") {
		t.Errorf("query refused while the task fails: state_error %q", reason)
	}

	env.tc.queryErr, env.tc.hang = nil, true
	env.s.updateWait, env.s.queryWait = 200*time.Millisecond, 100*time.Millisecond
	act := func() (int, string) {
		w, body := do(t, env.s, http.MethodPost, "/api/v1/petitions/2026-000001/supervise", `{"opinion":"x"}`,
			"Authorization", bearer("supervisor"), "Idempotency-Key", "k1")
		msg, _ := body["error"].(string)
		return w.Code, msg
	}
	env.tc.pending = &workflowpb.PendingWorkflowTaskInfo{Attempt: 7, State: enums.PENDING_WORKFLOW_TASK_STATE_STARTED,
		OriginalScheduledTime: timestamppb.New(fixedNow.Add(-time.Hour)), ScheduledTime: timestamppb.New(fixedNow.Add(-time.Second))}
	if code, msg := act(); code != 503 || !strings.Contains(msg, "failing on the worker (workflow task attempt 7") ||
		!strings.Contains(msg, "same Idempotency-Key or If-Match") || strings.Contains(msg, "unavailable") {
		t.Errorf("action on a failing workflow: %d %q", code, msg)
	}
	_, body = do(t, env.s, http.MethodGet, "/api/v1/petitions/2026-000001", nil)
	if reason, _ := body["state_error"].(string); !strings.Contains(reason, "failing on the worker") {
		t.Errorf("read of a failing workflow: state_error %q", reason)
	}
	env.tc.pending = &workflowpb.PendingWorkflowTaskInfo{Attempt: 1, State: enums.PENDING_WORKFLOW_TASK_STATE_SCHEDULED,
		ScheduledTime: timestamppb.New(fixedNow.Add(-time.Minute))}
	if code, msg := act(); code != 503 || !strings.Contains(msg, "waited 1m0s for a worker") {
		t.Errorf("action no worker takes: %d %q", code, msg)
	}
	env.tc.pending, env.tc.pollers = nil, 0
	if code, msg := act(); code != 503 || !strings.Contains(msg, "no worker is polling") {
		t.Errorf("action with no worker polling: %d %q", code, msg)
	}
	env.tc.pollers = 1
	if code, msg := act(); code != 504 || msg != errTimeoutRetry {
		t.Errorf("plain timeout: %d %q", code, msg)
	}
}

// #12: a registration whose workflow does not confirm in time answers 504 before the API's own
// deadline, naming the case it has created and its query code.
func TestRegistrationTimeoutNamesTheCase(t *testing.T) {
	if updateTimeout+describeTimeout >= 25*time.Second {
		t.Fatalf("the API waits %s for an update: answer before a 30 s proxy or client deadline", updateTimeout)
	}
	env := newRobustEnv(t)
	env.tc.hang = true
	env.s.updateWait = 200 * time.Millisecond
	w, body := do(t, env.s, http.MethodPost, "/api/v1/petitions", validPetition(), "Idempotency-Key", "reg-1")
	msg, _ := body["registered"].(string)
	if w.Code != http.StatusGatewayTimeout || body["case_no"] != "2026-000777" || body["query_code"] != "Q7777777" ||
		!strings.Contains(msg, "retry with the same Idempotency-Key") || w.Header().Get("Cache-Control") != "no-store" ||
		!strings.Contains(body["error"].(string), "retry") {
		t.Fatalf("registration timeout: %d %v", w.Code, body)
	}
	w, body = do(t, env.s, http.MethodPost, "/api/v1/petitions", validPetition())
	if msg, _ := body["registered"].(string); w.Code != http.StatusGatewayTimeout || body["case_no"] != "2026-000777" || !strings.Contains(msg, "do not register the petition again") {
		t.Fatalf("registration timeout without a key: %d %v", w.Code, body)
	}
}

// instantRE finds what encoding/json writes for a time.Time.
var instantRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`)

// instantsIn lists every instant in a decoded JSON answer with its path.
func instantsIn(path string, v any, out map[string]string) {
	switch x := v.(type) {
	case string:
		if instantRE.MatchString(x) {
			out[path] = x
		}
	case map[string]any:
		for k, e := range x {
			instantsIn(path+"."+k, e, out)
		}
	case []any:
		for i, e := range x {
			instantsIn(fmt.Sprintf("%s[%d]", path, i), e, out)
		}
	}
}

// #10: every instant of every answer is written in the office's zone, however the register
// and the workflow handed it over (UTC here), inside typed values, the workflow's state, raw
// deadlines and events' details alike.
func TestInstantsInOfficeZone(t *testing.T) {
	for _, zone := range []struct {
		loc    *time.Location
		suffix string
	}{{nil, "+08:00"}, {mustZone(t, "America/New_York"), "-04:00"}} {
		env := newRobustEnv(t, openCase("2026-000001", workflows.StageHandling), openCase("2026-000002", workflows.StageClosed))
		if zone.loc != nil {
			env.s.zone = zone.loc
		}
		for _, r := range []struct {
			role, method, path string
			body               any
			headers            []string
		}{
			{"clerk", "GET", "/api/v1/petitions/2026-000001", nil, nil},
			{"clerk", "GET", "/api/v1/petitions/2026-000002", nil, nil},
			{"clerk", "GET", "/api/v1/petitions/2026-000001/events", nil, nil},
			{"clerk", "GET", "/api/v1/petitions/2026-000001/deadlines", nil, nil},
			{"clerk", "GET", "/api/v1/petitions", nil, nil},
			{"clerk", "GET", "/api/v1/stats", nil, nil},
			{"clerk", "GET", "/api/v1/auth/me", nil, nil},
			{"supervisor", "POST", "/api/v1/petitions/2026-000001/supervise", `{"opinion":"x"}`, hdr("Idempotency-Key", "z1")},
			{"clerk", "POST", "/api/v1/petitions", validPetition(), nil},
			{"admin", "GET", "/api/v1/admin/audit", nil, nil},
			{"admin", "GET", "/api/v1/admin/personal-data-reads", nil, nil},
			{"", "GET", "/api/v1/public/petitions/2026-000001", nil, hdr("X-Query-Code", fuzzQueryCode)},
		} {
			auth := ""
			if r.role != "" {
				auth = bearer(r.role)
			}
			w, body := do(t, env.s, r.method, r.path, r.body, append([]string{"Authorization", auth}, r.headers...)...)
			if w.Code >= 300 {
				t.Errorf("%s %s: status %d %v", r.method, r.path, w.Code, body)
				continue
			}
			found := map[string]string{}
			instantsIn("", body, found)
			if len(found) == 0 {
				t.Errorf("%s %s: no instant in %v", r.method, r.path, body)
			}
			for p, v := range found {
				if !strings.HasSuffix(v, zone.suffix) {
					t.Errorf("%s %s: %s = %s, want the office's offset %s", r.method, r.path, p, v, zone.suffix)
				}
			}
		}
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// inZone copies; it leaves unset and unrepresentable instants and free text alone.
func TestInZone(t *testing.T) {
	due := utcNow
	raw := json.RawMessage(`{"due":"2026-05-14T02:00:00Z","n":12345678901234567890,"d":"2026-05-14","s":"x"}`)
	in := map[string]any{
		"t": utcNow, "p": &due, "zero": time.Time{}, "old": time.Date(1900, 6, 1, 0, 0, 0, 0, time.UTC),
		"late": time.Date(9999, 12, 31, 20, 0, 0, 0, time.UTC), "raw": raw, "text": "2026-05-14T02:00:00Z 到期",
		"list": []any{"2026-05-14T02:00:00.5Z"},
	}
	b, err := json.Marshal(inZone(in, shanghai))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	_ = json.Unmarshal(b, &got)
	want := map[string]any{
		"t": "2026-05-14T10:00:00+08:00", "p": "2026-05-14T10:00:00+08:00", "zero": "0001-01-01T00:00:00Z",
		"old": "1900-06-01T00:00:00Z", "late": "9999-12-31T20:00:00Z", "text": "2026-05-14T02:00:00Z 到期",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if l := got["list"].([]any); l[0] != "2026-05-14T10:00:00.5+08:00" {
		t.Errorf("list = %v", l)
	}
	if r := got["raw"].(map[string]any); r["due"] != "2026-05-14T10:00:00+08:00" || r["d"] != "2026-05-14" || !strings.Contains(string(b), "12345678901234567890") {
		t.Errorf("raw = %s", b)
	}
	if due.Location() != time.UTC || string(raw) != `{"due":"2026-05-14T02:00:00Z","n":12345678901234567890,"d":"2026-05-14","s":"x"}` {
		t.Errorf("inZone changed its input")
	}
}

// #0: a NUL or bytes that are not UTF-8 in any string of an action or a registration are
// refused at the edge with the field named, before the register or the workflow sees them.
func TestEveryStringRefusesNULAndInvalidUTF8(t *testing.T) {
	s := nilServer()
	bad := map[string]string{"NUL": `a\u0000b`, "invalid UTF-8": "a\xff\xfeb", "overlong": "a\xc0\xafb"}
	for what, v := range bad {
		for _, field := range []string{"opinion", "reason", "unit", "handler", "leader", "outcome", "evaluation", "actor", "new_due_at"} {
			body := `{"` + field + `":"` + v + `"}`
			w, resp := do(t, s, http.MethodPost, "/api/v1/petitions/2026-000001/reply", body, "Idempotency-Key", "k")
			fields, _ := resp["fields"].(map[string]any)
			if w.Code != http.StatusBadRequest || fields[field] == nil {
				t.Errorf("action, %s in %s: %d %v, want 400 naming it", what, field, w.Code, resp)
			}
		}
		for _, field := range []string{"reason", "evaluation"} {
			w, resp := do(t, s, http.MethodPost, "/api/v1/public/petitions/2026-000001/withdraw", `{"`+field+`":"`+v+`"}`,
				"Authorization", "", "X-Query-Code", "K7QX2M9P", "Idempotency-Key", "k")
			// The offline register cannot check the code: 503 then, but never a 500.
			if fields, _ := resp["fields"].(map[string]any); w.Code >= 500 && !isNotConfigured(w.Code, resp) || w.Code == 400 && fields[field] == nil {
				t.Errorf("public action, %s in %s: %d %v", what, field, w.Code, resp)
			}
		}
		for _, field := range []string{"channel", "category", "topic", "content", "location", "policy", "received_at", "actor",
			"petitioners[0].name", "petitioners[0].id_number", "petitioners[0].phone", "petitioners[0].address",
			"attachments[0].name", "attachments[0].content_type", "attachments[0].ref"} {
			m := validPetition()
			m["attachments"] = []map[string]any{{"name": "信.pdf", "content_type": "application/pdf", "ref": "s3://b/k"}}
			pet := m["petitioners"].([]map[string]any)[0]
			const marker = "\x01MARK\x01"
			switch {
			case strings.HasPrefix(field, "petitioners[0]."):
				pet[strings.TrimPrefix(field, "petitioners[0].")] = marker
			case strings.HasPrefix(field, "attachments[0]."):
				m["attachments"].([]map[string]any)[0][strings.TrimPrefix(field, "attachments[0].")] = marker
			default:
				m[field] = marker
			}
			js, _ := json.Marshal(m)
			body := strings.Replace(string(js), `\u0001MARK\u0001`, v, 1)
			w, resp := do(t, s, http.MethodPost, "/api/v1/petitions", body)
			fields, _ := resp["fields"].(map[string]any)
			if w.Code != http.StatusBadRequest || fields[field] == nil {
				t.Errorf("registration, %s in %s: %d %v, want 400 naming it", what, field, w.Code, resp)
			}
		}
	}
}

// #11: with PostgreSQL unreachable every endpoint that needs the register answers 503 within
// seconds: refused connections at once, a server that accepts and never answers within the
// register's deadline.
func TestRegisterUnreachableIs503(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // accepted, never answered
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	for _, db := range []struct{ name, url string }{
		{"refused", "postgres://nobody@127.0.0.1:1/none"},
		{"silent", "postgres://nobody@" + silent.Addr().String() + "/none"},
	} {
		pool, err := pgxpool.New(context.Background(), db.url)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		store := register.New(pool).WithSealer(fakeSealer{})
		env := newRobustEnv(t)
		env.s.reg = timedRegister{waits: waits{scale: 0.04}, r: store} // 0.2 s instead of 5 s
		for _, r := range []struct {
			role, method, path string
			body               any
		}{
			{"clerk", "GET", "/api/v1/petitions", nil},
			{"clerk", "GET", "/api/v1/petitions/2026-000001", nil},
			{"clerk", "GET", "/api/v1/petitions/2026-000001/events", nil},
			{"clerk", "GET", "/api/v1/petitions/2026-000001/deadlines", nil},
			{"clerk", "POST", "/api/v1/petitions/2026-000001/query-code", nil},
			{"clerk", "POST", "/api/v1/petitions", validPetition()},
			{"clerk", "GET", "/api/v1/stats", nil},
			{"clerk", "GET", "/api/v1/reports/monthly.csv", nil},
			{"clerk", "GET", "/api/v1/units", nil},
			{"clerk", "GET", "/api/v1/routing-rules", nil},
			{"clerk", "GET", "/api/v1/policies", nil},
			{"clerk", "GET", "/api/v1/calendars/2026", nil},
			{"supervisor", "POST", "/api/v1/petitions/2026-000001/supervise", `{"opinion":"x"}`},
			{"admin", "GET", "/api/v1/admin/audit", nil},
			{"admin", "GET", "/api/v1/admin/personal-data-reads", nil},
			{"admin", "POST", "/api/v1/units", `{"code":"water","name":"水务局"}`},
			{"admin", "PUT", "/api/v1/policies/default", `{"allowed":true}`},
			{"", "GET", "/api/v1/public/petitions/2026-000001", nil},
		} {
			auth := ""
			if r.role != "" {
				auth = bearer(r.role)
			}
			start := time.Now()
			w, body := do(t, env.s, r.method, r.path, r.body, "Authorization", auth, "X-Query-Code", fuzzQueryCode, "Idempotency-Key", "k1")
			if took := time.Since(start); w.Code != http.StatusServiceUnavailable || took > 3*time.Second {
				t.Errorf("%s: %s %s: %d after %s %v, want 503 within seconds", db.name, r.method, r.path, w.Code, took.Round(time.Millisecond), body)
			}
		}
	}
}

// fakeSealer stands in for the office's keys: the register is never reached anyway.
type fakeSealer struct{}

func (fakeSealer) Seal(p string) (string, error) { return p, nil }
func (fakeSealer) Open(s string) (string, error) { return s, nil }
func (fakeSealer) Index(n string) string         { return n }

var _ = errors.New

// Every JSON answer goes through Server.answer (instants in the office's zone) or fail: a
// handler that rendered with gin directly would answer instants in whatever zone it read them.
// calendars.go is left out: its answers hold civil dates and counts, no instants.
func TestAnswersGoThroughTheZone(t *testing.T) {
	direct := regexp.MustCompile(`\bc\.(JSON|IndentedJSON|PureJSON|SecureJSON|AsciiJSON|JSONP|AbortWithStatusJSON)\(`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "calendars.go" {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			if direct.MatchString(line) && !strings.Contains(line, "internal error") {
				t.Errorf("%s:%d renders JSON past Server.answer: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// The OpenAPI document says how actions are made repeatable: If-Match and Idempotency-Key on
// every action, 412 and 428 among the answers, the ETag on the reads and the action answers.
func TestOpenAPIPreconditions(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Ref string `yaml:"$ref"`
			} `yaml:"parameters"`
			Responses map[string]struct {
				Headers map[string]any `yaml:"headers"`
			} `yaml:"responses"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/api/v1/petitions/{no}/{action}", "/api/v1/public/petitions/{no}/{action}"} {
		op := doc.Paths[p]["post"]
		var refs []string
		for _, prm := range op.Parameters {
			refs = append(refs, prm.Ref)
		}
		if !slices.Contains(refs, "#/components/parameters/IfMatch") || !slices.Contains(refs, "#/components/parameters/ActionIdempotencyKey") {
			t.Errorf("POST %s parameters %v: want IfMatch and ActionIdempotencyKey", p, refs)
		}
		for _, code := range []string{"412", "428", "503", "504"} {
			if _, ok := op.Responses[code]; !ok {
				t.Errorf("POST %s does not document %s", p, code)
			}
		}
		if op.Responses["200"].Headers["ETag"] == nil {
			t.Errorf("POST %s: 200 without ETag", p)
		}
	}
	for _, p := range []string{"/api/v1/petitions/{no}", "/api/v1/petitions/{no}/deadlines", "/api/v1/public/petitions/{no}"} {
		if doc.Paths[p]["get"].Responses["200"].Headers["ETag"] == nil {
			t.Errorf("GET %s: 200 without ETag", p)
		}
	}
}

// #12: when the workflow service stops answering while an action or a registration waits for
// it, the API says so (503) within seconds instead of waiting out updateWait.
func TestTemporalDownAnsweredWithinSeconds(t *testing.T) {
	env := newRobustEnv(t, openCase("2026-000001", workflows.StageHandling))
	env.tc.hang, env.tc.down = true, true
	env.s.healthEvery = 100 * time.Millisecond
	start := time.Now()
	w, body := do(t, env.s, http.MethodPost, "/api/v1/petitions/2026-000001/supervise", `{"opinion":"x"}`,
		"Authorization", bearer("supervisor"), "Idempotency-Key", "k1")
	took := time.Since(start)
	if msg, _ := body["error"].(string); w.Code != http.StatusServiceUnavailable || !strings.Contains(msg, "stopped answering") ||
		!strings.Contains(msg, "same Idempotency-Key or If-Match") || took > time.Second {
		t.Errorf("action while Temporal is down: %d after %s %v", w.Code, took, body)
	}
	w, body = do(t, env.s, http.MethodPost, "/api/v1/petitions", validPetition(), "Idempotency-Key", "reg-2")
	if w.Code != http.StatusServiceUnavailable || body["case_no"] != "2026-000777" || body["query_code"] == nil {
		t.Errorf("registration while Temporal is down: %d %v", w.Code, body)
	}
	// A healthy service is waited for as long as updateWait.
	env.tc.down = false
	env.s.updateWait = 500 * time.Millisecond
	if w, _ := do(t, env.s, http.MethodPost, "/api/v1/petitions/2026-000001/supervise", `{"opinion":"x"}`,
		"Authorization", bearer("supervisor"), "Idempotency-Key", "k2"); w.Code != http.StatusGatewayTimeout {
		t.Errorf("slow but healthy: %d, want 504", w.Code)
	}
}

// The register follows the workflow a moment behind (the outbox): a case that has just moved
// to a reviewer's unit is in their scope by its live state, and a petitioner's action answers
// the stage it brought about, not the register's previous one.
func TestRegisterLagBehindTheWorkflow(t *testing.T) {
	row := openCase("2026-000001", workflows.StageReplied)
	env := newRobustEnv(t, row)
	env.tc.state.Stage, env.tc.state.Unit, env.tc.state.ReviewUnit = workflows.StageReview, "construction", testUnit
	env.tc.state.Seq = row.Seq + 1
	if w, body := do(t, env.s, http.MethodGet, "/api/v1/petitions/2026-000001", nil, "Authorization", bearer("reviewer")); w.Code != 200 {
		t.Errorf("reviewer reading a case just moved to their unit: %d %v", w.Code, body)
	}
	env.tc.state.ReviewUnit = "elsewhere"
	if w, _ := do(t, env.s, http.MethodGet, "/api/v1/petitions/2026-000001", nil, "Authorization", bearer("reviewer")); w.Code != 404 {
		t.Errorf("reviewer reading a case of another unit: %d, want 404", w.Code)
	}

	// The fake answers its state with the seq raised: the workflow has moved to review, the
	// register still says replied.
	env.tc.state.Stage, env.tc.state.Seq = workflows.StageReview, row.Seq
	w, body := do(t, env.s, http.MethodPost, "/api/v1/public/petitions/2026-000001/request-review", `{"reason":"不服"}`,
		"Authorization", "", "X-Query-Code", fuzzQueryCode, "Idempotency-Key", "rr-1")
	if w.Code != 200 || body["stage"] != "review" || body["stage_label"] != stageLabels[workflows.StageReview] {
		t.Fatalf("request-review answered from the lagging register: %d %v", w.Code, body)
	}
	var st workflows.CaseState
	st.CaseNo, st.Stage, st.Seq = "2026-000001", workflows.StageReview, row.Seq+1
	lagging := row
	withState(&lagging, st)
	if lagging.Stage != "review" || lagging.Seq != row.Seq+1 || lagging.DueAt != nil {
		t.Errorf("withState: %+v", lagging)
	}
	older := row
	st.Seq = row.Seq - 1
	if withState(&older, st); older.Stage != row.Stage {
		t.Errorf("withState applied an older state: %+v", older)
	}
}
