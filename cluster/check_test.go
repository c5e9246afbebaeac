package cluster

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	ic "github.com/petitions/petitions/internal/cluster"
	"github.com/petitions/petitions/workflows"
)

// The checks after the faults and the upgrade (the ideas of e2e's fault tests, on the cluster):
// each case once in the register and once in Temporal; its events numbered 1..n without gaps,
// in time order; each ladder step at most once per clock, in ladder order, the expected clock's
// ladder complete; each action answered 200 recorded once, in the order sent; the register row
// equal to the workflow's state; no workflow task failed or keeps failing (a non-determinism
// error would); and each ladder step under the rule its case should follow (upgradeWindow).

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

// snapshot is what the register and the workflow say about a case at one moment.
type snapshot struct {
	body   caseBody
	events []workflows.Event
	err    error
}

func (a *apiClient) snapshot(no string) snapshot {
	var s snapshot
	if r := a.do(0, "GET", "/api/v1/petitions/"+no, clerk, nil, &s.body); !r.ok(http.StatusOK) {
		s.err = fmt.Errorf("GET case: %s", r)
		return s
	}
	s.events, s.err = a.events(no)
	return s
}

// settled: the register holds every transition the workflow made and agrees with it, and the
// ladder has finished (escalation level 3 on the running clock).
func (s snapshot) settled() bool {
	return s.err == nil && s.body.agree() && s.body.State.EscalationLevel == 3 && int64(len(s.events)) == s.body.State.Seq
}

func (s snapshot) String() string {
	if s.err != nil {
		return s.err.Error()
	}
	types := make([]string, len(s.events))
	for i, e := range s.events {
		types[i] = fmt.Sprintf("%d:%s", e.Seq, e.Type)
		if probed(e) {
			types[i] += "*"
		}
	}
	return fmt.Sprintf("%s; events %v", s.body, types)
}

// ladderKinds are the event types of ladder steps.
var ladderKinds = []string{workflows.EventReminderSent, workflows.EventReminderSkipped, workflows.EventOverdue, workflows.EventEscalated}

func isStep(e workflows.Event) bool { return slices.Contains(ladderKinds, e.Type) }

// probed: the step was recorded under the upgrade build's new rule.
func probed(e workflows.Event) bool {
	_, ok := e.Details[ic.ProbeDetail]
	return ok
}

func stepLevel(e workflows.Event) int {
	switch v := e.Details["level"].(type) {
	case float64:
		return int(v)
	case string:
		n, _ := strconv.Atoi(v)
		return n
	}
	return 0
}

// counts are the figures the test reports.
type counts struct {
	cases, registerRows, workflows, events, steps, remindersSent, remindersSkipped, overdue, escalations, actions int
	// Temporal: workflow tasks that timed out (a killed worker's) and failed; cases whose tasks
	// more than one worker process completed; tasks an old build completed on a case already
	// marked with the probe's version (the mixed fleet of a rolling update).
	taskTimeouts, taskFailures, moved, oldOnNew int
	// The upgrade: cases whose first step came before, within, after the window; cases under the
	// new rule; old cases that kept the old rule for steps after the upgrade; old cases (first
	// registered before it) that reached their first step after it and took the new rule.
	firstBefore, firstWithin, firstAfter, newRule, keptOld, oldTookNew int
}

func (c counts) String() string {
	return fmt.Sprintf("cases %d (register rows %d, petition workflows %d); events %d; ladder steps %d "+
		"(reminders sent %d, skipped %d, overdue %d, escalations %d); actions %d; workflow tasks timed out %d, failed %d",
		c.cases, c.registerRows, c.workflows, c.events, c.steps, c.remindersSent, c.remindersSkipped, c.overdue,
		c.escalations, c.actions, c.taskTimeouts, c.taskFailures)
}

// upgradeWindow is when old and new workers both ran: before From only old builds, after To
// only new ones. Zero when no upgrade build ran.
type upgradeWindow struct {
	From, To time.Time
	probe    bool // the new workers run the probe build
}

// settle waits until every case has settled (at most d) and returns the snapshots.
func (a *apiClient) settle(t *testing.T, cases []*tcase, d time.Duration) map[string]snapshot {
	t.Helper()
	began := time.Now()
	snaps := map[string]snapshot{}
	for {
		pending := 0
		for _, c := range cases {
			if s, ok := snaps[c.no]; ok && s.settled() {
				continue
			}
			snaps[c.no] = a.snapshot(c.no)
			if !snaps[c.no].settled() {
				pending++
			}
		}
		if pending == 0 {
			t.Logf("all %d cases settled %s after the last action", len(cases), time.Since(began).Round(100*time.Millisecond))
			return snaps
		}
		if time.Since(began) > d {
			for _, c := range cases {
				if s := snaps[c.no]; !s.settled() {
					t.Errorf("case %s (%s) has not settled within %s (register and workflow agree, ladder done): %s", c.no, c.group, d, s)
				}
			}
			return snaps
		}
		time.Sleep(time.Second)
	}
}

// checkCase checks one settled case's events and state, and its steps against the upgrade.
func checkCase(t *testing.T, c *tcase, s snapshot, w upgradeWindow, n *counts) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("case %s (%s): %s\n  %s", c.no, c.group, fmt.Sprintf(format, args...), s)
	}
	if s.err != nil {
		fail("%v", s.err)
		return
	}
	if !s.body.agree() {
		fail("the register disagrees with the workflow")
	}
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
	n.events += len(s.events)

	// Ladder steps per clock: each at most once, in ladder order.
	type clockSteps struct{ reminder, overdue, leader, superior []int64 }
	clocks := map[string]*clockSteps{}
	for _, e := range s.events {
		if !isStep(e) {
			continue
		}
		clock, _ := e.Details["clock"].(string)
		cs := clocks[clock]
		if cs == nil {
			cs = &clockSteps{}
			clocks[clock] = cs
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
	full := string(workflows.ClockAcceptance)
	if c.acted {
		full = string(workflows.ClockHandling)
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
	for clock, cs := range clocks {
		if len(cs.reminder) > 1 || len(cs.overdue) > 1 || len(cs.leader) > 1 || len(cs.superior) > 1 {
			fail("clock %s: a ladder step fired twice: reminder %v, overdue %v, leader %v, superior %v",
				clock, cs.reminder, cs.overdue, cs.leader, cs.superior)
		}
		if seqs := slices.Concat(cs.reminder, cs.overdue, cs.leader, cs.superior); !slices.IsSorted(seqs) {
			fail("clock %s: ladder steps out of order: %+v", clock, *cs)
		}
		if clock != full && clock != string(workflows.ClockAcceptance) {
			fail("steps of an unexpected clock %q", clock)
		}
	}
	if cs := clocks[full]; cs == nil || len(cs.reminder) != 1 || len(cs.overdue) != 1 || len(cs.leader) != 1 || len(cs.superior) != 1 {
		fail("clock %s must have run its whole ladder, each step once", full)
	}

	// Every action answered 200 recorded once, in the order sent; nothing else by staff.
	var last int64
	for _, act := range c.actions {
		var seqs []int64
		for _, e := range s.events {
			if e.Type != act.event {
				continue
			}
			if op, _ := e.Details["opinion"].(string); act.opinion != "" && op != act.opinion {
				continue
			}
			seqs = append(seqs, e.Seq)
		}
		if len(seqs) != 1 {
			fail("action %s recorded %d times (events %v), want once", act.action, len(seqs), seqs)
			continue
		}
		if seqs[0] <= last {
			fail("action %s recorded at seq %d, before the action sent ahead of it (seq %d)", act.action, seqs[0], last)
		}
		last = seqs[0]
	}
	n.actions += len(c.actions)
	staffEvents := 0
	for _, e := range s.events {
		if e.Type != workflows.EventRegistered && e.Actor.Role != workflows.RoleSystem {
			staffEvents++
		}
	}
	if staffEvents != len(c.actions) {
		fail("%d events by staff, %d actions answered 200", staffEvents, len(c.actions))
	}
	wantStage := workflows.StageRegistered
	if c.acted {
		wantStage = workflows.StageHandling
	}
	if st := s.body.State; st == nil || st.Stage != wantStage || !st.Overdue || st.EscalationLevel != 3 {
		fail("want stage %s, overdue, escalation level 3", wantStage)
	}
	checkRule(t, c, s, w, n, fail)
}

// checkRule checks each ladder step against the rolling upgrade. The version is decided at a
// case's first ladder step: recorded by an old worker there is no marker and the case keeps
// the old rule for good (a new worker replays it to DefaultVersion); recorded by a new worker,
// the marker says version 1 and every later step a new worker records carries the probe. So:
// steps before the window never carry it; the first step after the window always does when it
// is the case's first; after the window a step carries it exactly when the case's first step
// did; within the window a case on the old rule never has it (an old worker may still record a
// step of a case on the new rule, without the probe: the old code knows nothing of it).
func checkRule(t *testing.T, c *tcase, s snapshot, w upgradeWindow, n *counts, fail func(string, ...any)) {
	t.Helper()
	var steps []workflows.Event
	for _, e := range s.events {
		if isStep(e) {
			steps = append(steps, e)
		}
	}
	if len(steps) == 0 {
		return
	}
	if !w.probe {
		for _, e := range steps {
			if probed(e) {
				fail("step %d (%s) carries the probe, but no probe build ran", e.Seq, e.Type)
			}
		}
		return
	}
	first := steps[0]
	v := probed(first)
	switch {
	case first.At.Before(w.From):
		n.firstBefore++
		if v {
			fail("the first step (seq %d at %s) came before the upgrade began (%s) yet carries the probe", first.Seq,
				first.At.Format(time.StampMilli), w.From.Format(time.StampMilli))
		}
	case first.At.After(w.To):
		n.firstAfter++
		if !v {
			fail("the first step (seq %d at %s) came after the upgrade ended (%s) but runs the old rule", first.Seq,
				first.At.Format(time.StampMilli), w.To.Format(time.StampMilli))
		}
	default:
		n.firstWithin++
	}
	if v {
		n.newRule++
		if c.registeredAt.Before(w.From) && first.At.After(w.To) {
			n.oldTookNew++
		}
	}
	keptOld := false
	for _, e := range steps {
		switch {
		case e.At.Before(w.From):
			if probed(e) {
				fail("step %d (%s) before the upgrade carries the probe", e.Seq, e.Type)
			}
		case e.At.After(w.To):
			if probed(e) != v {
				fail("step %d (%s) after the upgrade: probe %t, the case's rule (its first step, seq %d) says %t",
					e.Seq, e.Type, probed(e), first.Seq, v)
			}
			if !v {
				keptOld = true
			}
		default:
			if !v && probed(e) {
				fail("step %d (%s) within the upgrade carries the probe, but the case runs the old rule", e.Seq, e.Type)
			}
		}
	}
	if keptOld {
		n.keptOld++
	}
}

// checkRegister checks that the register holds exactly the test's cases, once each.
func checkRegister(t *testing.T, databaseURL string, cases []*tcase) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Errorf("register: %v", err)
		return 0
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT case_no FROM cases ORDER BY case_no`)
	if err != nil {
		t.Errorf("register: %v", err)
		return 0
	}
	have, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Errorf("register: %v", err)
		return 0
	}
	want := make([]string, len(cases))
	for i, c := range cases {
		want[i] = c.no
	}
	sort.Strings(want)
	if !slices.Equal(have, want) {
		t.Errorf("the register holds %d cases %v, want each of the test's %d once: %v", len(have), have, len(want), want)
	}
	return len(have)
}

// checkTemporal checks that Temporal runs exactly one petition workflow per case, that no
// workflow task of a case failed (a non-determinism error fails them) or is being retried, and
// that the probe's change version is on exactly the cases under the new rule.
//
// oldBuild names the worker processes of the old build by pid (a worker's identity is
// "<pid>@<host>@"), to find tasks an old worker completed on a case the new build had marked.
func checkTemporal(t *testing.T, tc client.Client, cases []*tcase, snaps map[string]snapshot, w upgradeWindow,
	oldBuild map[int]bool, n *counts) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	want := map[string]bool{}
	for _, c := range cases {
		want[workflows.WorkflowID(c.no)] = true
	}
	// Visibility follows the executions asynchronously: give it a moment.
	var ids []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		ids = ids[:0]
		var token []byte
		for {
			resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Query: fmt.Sprintf("WorkflowType = '%s'", workflows.WorkflowName), NextPageToken: token,
			})
			if err != nil {
				t.Errorf("list petition workflows: %v", err)
				return
			}
			for _, e := range resp.GetExecutions() {
				ids = append(ids, e.GetExecution().GetWorkflowId())
				if st := e.GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && time.Now().After(deadline) {
					t.Errorf("workflow %s is %s, want running", e.GetExecution().GetWorkflowId(), st)
				}
			}
			if token = resp.GetNextPageToken(); len(token) == 0 {
				break
			}
		}
		sort.Strings(ids)
		if len(ids) == len(want) && !slices.ContainsFunc(ids, func(id string) bool { return !want[id] }) &&
			len(slices.Compact(slices.Clone(ids))) == len(ids) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("petition workflows in Temporal: %d %v, want one per case (%d)", len(ids), ids, len(want))
			break
		}
		time.Sleep(time.Second)
	}
	n.workflows = len(ids)

	for _, c := range cases {
		id := workflows.WorkflowID(c.no)
		d, err := tc.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			t.Errorf("case %s: describe its workflow: %v", c.no, err)
			continue
		}
		info := d.GetWorkflowExecutionInfo()
		if st := info.GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			t.Errorf("case %s: workflow %s, want running", c.no, st)
		}
		if p := d.GetPendingWorkflowTask(); p != nil && p.GetAttempt() > 1 {
			t.Errorf("case %s: its workflow task is at attempt %d (failing on the workers)", c.no, p.GetAttempt())
		}
		if w.probe {
			var versions []string
			if p := info.GetSearchAttributes().GetIndexedFields()["TemporalChangeVersion"]; p != nil {
				if err := converter.GetDefaultDataConverter().FromPayload(p, &versions); err != nil {
					t.Errorf("case %s: TemporalChangeVersion: %v", c.no, err)
				}
			}
			marked := slices.Contains(versions, ic.ProbeChangeID+"-1")
			var v bool
			for _, e := range snaps[c.no].events {
				if isStep(e) {
					v = probed(e)
					break
				}
			}
			if marked != v {
				t.Errorf("case %s: change versions %v, yet its first ladder step says new rule %t", c.no, versions, v)
			}
		}
		it := tc.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		workers := map[string]bool{}
		marked := false
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				t.Errorf("case %s: history: %v", c.no, err)
				break
			}
			switch e.GetEventType() {
			case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
				p := e.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields()["TemporalChangeVersion"]
				marked = marked || (p != nil && strings.Contains(string(p.GetData()), ic.ProbeChangeID+"-1"))
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				identity := e.GetWorkflowTaskCompletedEventAttributes().GetIdentity()
				workers[identity] = true
				pid, _, _ := strings.Cut(identity, "@")
				if p, err := strconv.Atoi(pid); err == nil && marked && oldBuild[p] {
					n.oldOnNew++
				}
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
				n.taskTimeouts++
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
				n.taskFailures++
				a := e.GetWorkflowTaskFailedEventAttributes()
				t.Errorf("case %s: workflow task failed at event %d: %s: %.300s", c.no, e.GetEventId(), a.GetCause(),
					a.GetFailure().GetMessage())
			}
		}
		if len(workers) > 1 {
			n.moved++
		}
	}
}

// checkLogs fails on any sign of a non-determinism error in the workers' logs.
func checkLogs(t *testing.T, procs []*ic.Proc) {
	t.Helper()
	for _, p := range procs {
		for i, line := range strings.Split(string(p.Output()), "\n") {
			l := strings.ToLower(line)
			if strings.Contains(l, "tmprl1100") || strings.Contains(l, "nondeterministic") || strings.Contains(l, "non-deterministic") {
				t.Errorf("%s log line %d: %.400s", p.Name, i+1, line)
			}
		}
	}
}
