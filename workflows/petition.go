package workflows

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/petitions/petitions/internal/calendar"
)

// Petition is the lifecycle of one case, from registration to its final stage. Staff and
// petitioner actions arrive as Workflow Updates (see actions.go); deadlines and the escalation
// ladder run on timers (see clock.go). It returns the final CaseState.
func Petition(ctx workflow.Context, in PetitionInput) (CaseState, error) {
	// Versioning from day one: later changes branch on GetVersion with their own change IDs,
	// and this marker tells which histories predate all of them.
	workflow.GetVersion(ctx, "initial", workflow.DefaultVersion, 1)

	// A request to cancel the workflow (Web UI, CLI, any client) must not end or wedge a case:
	// the case runs on a context that cancellation does not reach, and records the request.
	cancelled := ctx
	ctx, _ = workflow.NewDisconnectedContext(ctx)

	if err := validateInput(in); err != nil {
		return CaseState{}, err
	}
	p := newPetition(ctx, in)
	// Runs from this version on hand transitions to the register through an outbox drained in
	// the background (see project), so no wait for the register holds the case's mutex.
	p.outbox = workflow.GetVersion(ctx, "outbox", workflow.DefaultVersion, 1) == 1
	if len(in.Carry) > 0 {
		// A continued run: the case goes on where the previous run left it.
		if err := p.restore(ctx, in.Carry); err != nil {
			return CaseState{}, err
		}
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		cancelled.Done().Receive(ctx, nil)
		p.cancelRequests++
	})
	if p.outbox {
		workflow.Go(ctx, p.project)
		for _, n := range p.Notices {
			p.deliver(ctx, n)
		}
	}
	// Handlers first: an update sent together with the start (await_registration) must find
	// its handler; actions wait until setup has finished.
	if err := p.registerHandlers(ctx); err != nil {
		return CaseState{}, err
	}
	if !p.Ready {
		setup := p.setup
		if in.Import != nil {
			setup = p.setupImported // a running case brought in from an earlier system (import.go)
		}
		if err := setup(ctx); err != nil {
			return CaseState{}, err
		}
	}
	return p.run(ctx)
}

// restore takes over the state carried by a continue-as-new and shows it in the Web UI again
// (current details belong to a run).
func (p *petition) restore(ctx workflow.Context, carry json.RawMessage) error {
	if err := json.Unmarshal(carry, p); err != nil {
		return temporal.NewNonRetryableApplicationError("carried state unreadable: "+err.Error(), ErrorInvalidInput, err)
	}
	if p.Units == nil {
		p.Units = map[string]UnitInfo{}
	}
	p.Input.Carry = nil
	p.Ready = true
	if p.CalendarPending {
		// A calendar change arrived while the last run was handing over: handle it now.
		p.CalendarPending = false
		p.calendarSignals++
	}
	p.watchAssignment(ctx) // an assignment's result report still awaited (routines.go)
	return p.publish(ctx)
}

// continueAsNew ends this run and starts the next with the whole state, once no action or
// notice is in flight. The server suggests it when the history grows long; timers are
// re-armed by the next run from the absolute deadlines in the state.
func (p *petition) continueAsNew(ctx workflow.Context) error {
	// A calendar change not handled yet goes along: those counted, and those delivered in this
	// very task that the loop has not taken yet.
	for workflow.GetSignalChannel(ctx, SignalCalendarChanged).ReceiveAsync(nil) {
		p.calendarSignals++
	}
	p.CalendarPending = p.CalendarPending || p.calendarSignals != p.calendarSeen
	in := p.Input
	in.Carry = nil
	p.Input = in
	carry, err := json.Marshal(p)
	if err != nil {
		return err
	}
	in.Carry = carry
	return workflow.NewContinueAsNewError(ctx, WorkflowName, in)
}

func validateInput(in PetitionInput) error {
	var missing []string
	if in.CaseNo == "" {
		missing = append(missing, "case_no")
	}
	if in.Policy.Name == "" {
		missing = append(missing, "policy")
	}
	if in.ReceivedAt.IsZero() {
		missing = append(missing, "received_at")
	}
	if len(missing) > 0 {
		return temporal.NewNonRetryableApplicationError("petition input lacks "+strings.Join(missing, ", "), ErrorInvalidInput, nil)
	}
	return nil
}

// petition is the whole state of a case. Exported fields are plain data (JSON-serializable,
// deadlines as absolute instants), so the state could be carried over a continue-as-new.
// Unexported fields coordinate goroutines within one run and are rebuilt on replay.
type petition struct {
	Input PetitionInput `json:"input"`
	State CaseState     `json:"state"`
	// Units are the register's answers about the responsible units and their parents, kept so
	// that validators (which cannot call activities) know whether a higher unit exists, and so
	// escalations know whom to notify.
	Units map[string]UnitInfo `json:"units"`
	// UnitsAt is when each unit was looked up (outbox runs).
	UnitsAt map[string]time.Time `json:"units_at,omitempty"`
	// Fired are the ladder steps of the running clock that have fired.
	Fired ladderFired `json:"fired"`
	// Override is set when a supervisor replaced the running clock's due instant.
	Override *dueOverride `json:"override,omitempty"`
	// Ready: setup has computed the acceptance deadline and recorded the registered event.
	Ready bool `json:"ready"`
	// Outbox holds recorded transitions the register has not confirmed yet, oldest first; a
	// continued run hands them over again (the register ignores what it already has).
	Outbox []Transition `json:"outbox,omitempty"`
	// Stuck is set while the register refuses the outbox's first transition for good.
	Stuck *projectionStuck `json:"stuck,omitempty"`
	// Notices are notices not delivered yet; a continued run delivers them (their key lets the
	// receiver drop a duplicate).
	Notices []Notice `json:"notices,omitempty"`
	// CalendarPending: a calendar_changed signal came in that the last run did not handle.
	CalendarPending bool `json:"calendar_pending,omitempty"`
	// AnsweredAt is when the last written answer (reply, review decision) was recorded: its
	// service date may not be earlier, and the service reminder counts from it.
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	// Deferral is the calendar's placement of the step armed last (office hours, working days).
	Deferral *deferral `json:"deferral,omitempty"`
	// PetitionerEvaluatedAt: when the petitioner last evaluated themselves (a call-back's
	// evaluation counts only for an answer they have not evaluated).
	PetitionerEvaluatedAt time.Time `json:"petitioner_evaluated_at,omitzero"`

	// mu serialises actions, ladder steps and calendar recomputations: each of them awaits
	// activities, and two of them interleaving would break the one-event-at-a-time register.
	mu workflow.Mutex
	// gen rises with every recorded event; the main loop waits for it to re-arm its timer.
	gen int
	// calendarSignals counts calendar_changed signals; calendarSeen how many were handled.
	calendarSignals, calendarSeen int
	// notifying counts notices being delivered; the workflow does not end before they are.
	notifying int
	// canDecided/canAllowed remember the continue-as-new version decision of this run.
	canDecided, canAllowed bool
	// outbox: this run projects through the Outbox (version "outbox").
	outbox bool
	// noticeDecided/noticeLocal remember the "notice-local" version decision of this run.
	noticeDecided, noticeLocal bool
	// warn remembers the "warnings" version decision of this run (warning.go).
	warn warnState
	// assignGen rises when an assignment's report limit changes (routines.go).
	assignGen int
	// handingOver: the run is about to continue as new; actions stop waiting for the register.
	handingOver bool
	// cancelRequests counts requests to cancel the workflow (at most one: a cancellation is
	// requested once); cancelSeen how many were recorded.
	cancelRequests, cancelSeen int
	logger                     log.Logger
}

// projectionStuck describes a transition the register refuses for good.
type projectionStuck struct {
	Seq     int64     `json:"seq"`
	Error   string    `json:"error"`
	Since   time.Time `json:"since"`
	Retries int       `json:"retries"`
}

func newPetition(ctx workflow.Context, in PetitionInput) *petition {
	return &petition{
		Input: in,
		State: CaseState{
			CaseNo:        in.CaseNo,
			Stage:         StageRegistered,
			Policy:        in.Policy.Name,
			Channel:       in.Channel,
			Category:      in.Category,
			Topic:         in.Topic,
			Unit:          in.SuggestedUnit,
			SuggestedUnit: in.SuggestedUnit,
			Leader:        in.Leader,
			ReceivedAt:    in.ReceivedAt,
			RegisteredAt:  in.RegisteredAt,
		},
		Units:  map[string]UnitInfo{},
		mu:     workflow.NewMutex(ctx),
		logger: workflow.GetLogger(ctx),
	}
}

// setup starts the acceptance clock from receipt and records the registered event (seq 1).
func (p *petition) setup(ctx workflow.Context) error {
	if err := p.mu.Lock(ctx); err != nil {
		return err
	}
	defer p.mu.Unlock()

	if unit := p.State.Unit; unit != "" {
		// Routing suggestions can be stale; an unknown unit must not block registration. The
		// ladder then falls back to the registering clerk.
		if err := p.learnUnit(ctx, unit); err != nil {
			p.logger.Warn("suggested unit unknown; notices go to the registering clerk", "unit", unit, "error", err)
		}
	}
	var d Deadline
	var err error
	if p.outbox {
		// The case exists in the register already: an outage must not fail the workflow and
		// leave a case without a clock. The activity retries through it without growing the
		// history; only a refusal for good comes back.
		var exp Explanation
		exp, err = computeDeadlineDurable(ctx, p.request(Deadline{Clock: ClockAcceptance, Start: p.Input.ReceivedAt}, nil))
		d = Deadline{Clock: ClockAcceptance, Start: p.Input.ReceivedAt, Due: exp.Due, Explanation: exp}
	} else {
		d, err = p.newClock(ctx, ClockAcceptance, p.Input.ReceivedAt)
	}
	// Cases from before the outbox retried the computation in the workflow, once a minute.
	for err != nil && !permanent(err) && !p.outbox {
		p.logger.Error("acceptance deadline not computed; retrying in a minute", "error", err)
		retry := workflow.NewTimerWithOptions(ctx, recordRetryDelay, workflow.TimerOptions{Summary: "retry acceptance deadline"})
		if err := retry.Get(ctx, nil); err != nil {
			return err
		}
		d, err = p.newClock(ctx, ClockAcceptance, p.Input.ReceivedAt)
	}
	if err != nil {
		return err
	}
	p.install(d)
	actor := p.Input.RegisteredBy
	if actor.ID == "" {
		actor = systemActor
	}
	details := map[string]any{"channel": p.State.Channel, "category": p.State.Category, "due": d.Due}
	if p.State.Unit != "" {
		details["unit"] = p.State.Unit
	}
	if p.Input.GroupSize > 0 {
		details["group_size"] = p.Input.GroupSize
	}
	if p.State.Leader != "" {
		details["leader"] = p.State.Leader // in charge from registration (包案, a reception day)
	}
	if err := p.record(ctx, EventRegistered, actor, details); err != nil {
		return err
	}
	p.Ready = true
	return nil
}

// run is the main loop: it keeps one timer armed for the next ladder step (or window expiry) of
// the running clock and waits for it, for a change of state, or for a calendar signal.
func (p *petition) run(ctx workflow.Context) (CaseState, error) {
	// Calendar signals stay in their channel until the loop takes them (no goroutine holds a
	// delivered signal where a hand-over could miss it).
	calendarCh := workflow.GetSignalChannel(ctx, SignalCalendarChanged)

	var armed *armedStep
	for !p.State.Stage.Final() {
		if p.continueSuggested(ctx) {
			if armed != nil {
				armed.cancel()
				armed = nil
			}
			if p.outbox {
				return p.State, p.handOver(ctx)
			}
			// Let admitted actions and notices finish; no command may follow the decision
			// below within this task, so nothing slips in between.
			if err := workflow.Await(ctx, func() bool {
				return workflow.AllHandlersFinished(ctx) && p.notifying == 0
			}); err != nil {
				return p.State, err
			}
			if !p.State.Stage.Final() {
				return p.State, p.continueAsNew(ctx)
			}
			break
		}
		gen := p.gen
		next, ok := p.nextStep()
		// Keep a pending timer when the step it waits for did not change (e.g. after link_repeat);
		// otherwise cancel it so no stale timer outlives its step.
		if armed != nil && (!ok || !armed.step.same(next)) {
			armed.cancel()
			armed = nil
		}
		if ok && armed == nil {
			armed = p.arm(ctx, p.officeStep(ctx, next))
		}

		err := workflow.Await(ctx, func() bool {
			return p.gen != gen || calendarCh.Len() > 0 || p.calendarSignals != p.calendarSeen ||
				(armed != nil && armed.ready()) || p.cancelRequests != p.cancelSeen || p.wantsContinue(ctx)
		})
		if err != nil {
			return p.State, err
		}
		for calendarCh.ReceiveAsync(nil) {
			p.calendarSignals++
		}

		if p.cancelRequests != p.cancelSeen {
			if err := p.locked(ctx, p.refuseCancellation); err != nil {
				return p.State, err
			}
		}
		if p.calendarSignals != p.calendarSeen {
			if err := p.locked(ctx, p.onCalendarChanged); err != nil {
				return p.State, err
			}
		}
		if armed != nil && armed.ready() {
			st := armed.step
			armed.cancel()
			armed = nil
			if err := p.locked(ctx, func(ctx workflow.Context) error { return p.fire(ctx, st) }); err != nil {
				return p.State, err
			}
		}
	}
	if armed != nil {
		armed.cancel()
	}

	// Drain: let admitted updates finish (they revalidate and refuse), notices go out and the
	// register take every transition. A cancellation request meanwhile is recorded too.
	for {
		err := workflow.Await(ctx, func() bool {
			return p.cancelRequests != p.cancelSeen ||
				workflow.AllHandlersFinished(ctx) && p.notifying == 0 && len(p.Outbox) == 0
		})
		if err != nil || p.cancelRequests == p.cancelSeen {
			return p.State, err
		}
		if err := p.locked(ctx, p.refuseCancellation); err != nil {
			return p.State, err
		}
	}
}

// handOver continues the case as new without waiting for the register or the notifier: the
// outbox, undelivered notices and an unhandled calendar change go along in the state, so no
// timer stands still while an outage lasts. It waits only for admitted actions, which do not
// wait for the register while the run hands over.
func (p *petition) handOver(ctx workflow.Context) error {
	p.handingOver = true
	// Goroutines woken in this task run first (a notice just delivered leaves the state, so the
	// next run does not send it again): a goroutine started now runs after them.
	yielded := false
	workflow.Go(ctx, func(workflow.Context) { yielded = true })
	if err := workflow.Await(ctx, func() bool { return yielded && workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	return p.continueAsNew(ctx)
}

// refuseCancellation records a request to cancel the workflow and goes on: cases end only by
// withdrawal, rejection, a decision or an expired window. Who asked is read from the history.
func (p *petition) refuseCancellation(ctx workflow.Context) error {
	p.cancelSeen = p.cancelRequests
	req := describeCancellation(ctx)
	p.logger.Warn("a request to cancel the case's workflow was refused", "identity", req.Identity)
	details := map[string]any{
		"requested_by": firstNonEmpty(req.Identity, "unknown"),
		"note":         "a petition ends only by withdrawal, rejection, a decision or an expired window; the case goes on",
	}
	if req.Reason != "" {
		details["reason"] = req.Reason
	}
	return p.record(ctx, EventCancellationRefused, systemActor, details)
}

// continueSuggested: the server finds the history long and this run may continue as new.
// Versioned, because it adds a branch to the main loop of cases already running: a run that
// started before it never continues as new, exactly as when its history was written.
func (p *petition) continueSuggested(ctx workflow.Context) bool {
	if !workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
		return false
	}
	if !p.canDecided {
		p.canDecided = true
		p.canAllowed = workflow.GetVersion(ctx, "continue-as-new", workflow.DefaultVersion, 1) == 1
	}
	return p.canAllowed
}

// wantsContinue is continueSuggested for Await conditions, which must not record markers.
func (p *petition) wantsContinue(ctx workflow.Context) bool {
	return workflow.GetInfo(ctx).GetContinueAsNewSuggested() && (p.canAllowed || !p.canDecided)
}

// locked runs fn holding the case mutex.
func (p *petition) locked(ctx workflow.Context, fn func(workflow.Context) error) error {
	if err := p.mu.Lock(ctx); err != nil {
		return err
	}
	defer p.mu.Unlock()
	return fn(ctx)
}

var systemActor = Actor{ID: "system", Role: RoleSystem}

// recordHook, when set, sees each event before record numbers it and may add details. Only the
// cluster test's upgrade build sets it (build tag clusterprobe, probe_clusterprobe.go): a
// workflow change behind GetVersion, rolled out by the test's rolling upgrade. Nil in every
// release build, where it changes nothing.
var recordHook func(ctx workflow.Context, typ string, details map[string]any)

// record appends one event: it bumps Seq, refreshes the Web UI view and hands the register the
// event with the state after it, through the outbox (project delivers it in order). Cases from
// before the outbox wait for the register here instead.
func (p *petition) record(ctx workflow.Context, typ string, actor Actor, details map[string]any) error {
	if recordHook != nil {
		recordHook(ctx, typ, details)
	}
	details = p.proposeJoint(workflow.Now(ctx), typ, details) // joint investigation (routines.go)
	p.State.Seq++
	p.gen++
	ev := Event{Seq: p.State.Seq, Type: typ, At: workflow.Now(ctx), Actor: actor, Details: details}
	if err := p.publish(ctx); err != nil {
		return err
	}
	t := Transition{Event: ev, State: p.snapshot()}
	if p.outbox {
		p.Outbox = append(p.Outbox, t)
		return p.afterRecord(ctx, typ) // early warning (warning.go)
	}
	return recordTransition(ctx, t)
}

// maxProjectionBatch bounds one RecordTransitions call; a backlog after an outage goes over in
// a few calls instead of one per transition.
const maxProjectionBatch = 50

// Retries of a projection the register refused for good: after stuckRetryFirst, doubling up to
// stuckRetryMax, or at once on SignalRetryProjection. Each retry adds a few history events.
const (
	stuckRetryFirst = 10 * time.Minute
	stuckRetryMax   = 24 * time.Hour
)

// project hands the outbox to the register, in order, in the background: actions and ladder
// steps never wait for it under the case's mutex. An outage is retried inside the activity; a
// refusal for good marks the case stuck (search attribute, log, metric) and waits for a retry
// signal or a long timer, so a poison transition neither spins nor holds the case.
func (p *petition) project(ctx workflow.Context) {
	retry := workflow.GetSignalChannel(ctx, SignalRetryProjection)
	for {
		if err := workflow.Await(ctx, func() bool { return len(p.Outbox) > 0 }); err != nil {
			return
		}
		batch := slices.Clone(p.Outbox[:min(len(p.Outbox), maxProjectionBatch)])
		err := recordTransitions(ctx, batch)
		if err == nil {
			p.Outbox = p.Outbox[len(batch):]
			if p.Stuck != nil {
				p.Stuck = nil
				p.logger.Info("the register took the case's transitions again")
				_ = workflow.UpsertTypedSearchAttributes(ctx, SearchStuck.ValueUnset())
			}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if p.Stuck == nil {
			p.Stuck = &projectionStuck{Seq: batch[0].Event.Seq, Since: workflow.Now(ctx)}
			_ = workflow.UpsertTypedSearchAttributes(ctx, SearchStuck.ValueSet(true))
			workflow.GetMetricsHandler(ctx).Counter("petition_projection_stuck").Inc(1)
		} else {
			p.Stuck.Retries++
		}
		p.Stuck.Error = err.Error()
		p.logger.Error("the register refused the case's transition; the case goes on and retries later",
			"seq", batch[0].Event.Seq, "type", batch[0].Event.Type, "error", err)
		wait := min(stuckRetryFirst<<min(p.Stuck.Retries, 10), stuckRetryMax)
		tctx, cancel := workflow.WithCancel(ctx)
		timer := workflow.NewTimerWithOptions(tctx, wait, workflow.TimerOptions{Summary: "retry the refused register projection"})
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(timer, func(workflow.Future) {})
		sel.AddReceive(retry, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		sel.Select(ctx)
		cancel()
	}
}

// projected reports that the register holds every transition up to seq, or that waiting for
// it is pointless now (the case is stuck or hands over to its next run).
func (p *petition) projected(seq int64) bool {
	return len(p.Outbox) == 0 || p.Outbox[0].Event.Seq > seq || p.Stuck != nil || p.handingOver
}

// snapshot is a copy of the state that later changes cannot reach.
func (p *petition) snapshot() CaseState {
	s := p.State
	if s.Deadline != nil {
		d := s.Deadline.clone()
		s.Deadline = &d
	}
	if s.PendingExtension != nil {
		e := *s.PendingExtension
		s.PendingExtension = &e
	}
	return s
}

// notify delivers a notice in the background: a notifier outage must not hold up the case (the
// delivery retries until it succeeds), and the workflow waits for it before it ends.
func (p *petition) notify(ctx workflow.Context, seq int64, kind, recipient, unit, message string) {
	p.notifyAt(ctx, seq, kind, recipient, unit, message, time.Time{})
}

// notifyAt is notify for a notice held until deliverAt (office hours; zero: at once).
func (p *petition) notifyAt(ctx workflow.Context, seq int64, kind, recipient, unit, message string, deliverAt time.Time) {
	n := Notice{
		DeliverAt: deliverAt,
		Key:       p.State.CaseNo + "/" + strconv.FormatInt(seq, 10),
		CaseNo:    p.State.CaseNo,
		Kind:      kind,
		Recipient: recipient,
		Unit:      unit,
		Message:   message,
	}
	if p.outbox {
		p.Notices = append(p.Notices, n)
	}
	p.deliver(ctx, n)
}

// deliver sends a notice in the background; in outbox runs the notice stays in the state until
// delivered (or refused for good), so a continued run sends it again.
func (p *petition) deliver(ctx workflow.Context, n Notice) {
	p.notifying++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { p.notifying-- }()
		if wait := n.DeliverAt.Sub(workflow.Now(ctx)); !n.DeliverAt.IsZero() && wait > 0 {
			// Held for office hours; a continued run holds it again for what is left.
			timer := workflow.NewTimerWithOptions(ctx, wait, workflow.TimerOptions{Summary: "deliver " + n.Kind + " in office hours"})
			if err := timer.Get(ctx, nil); err != nil {
				return
			}
		}
		if err := notify(ctx, n, p.localNotices(ctx)); err != nil {
			p.logger.Warn("notice not delivered", "key", n.Key, "error", err)
		}
		p.Notices = slices.DeleteFunc(p.Notices, func(m Notice) bool { return m.Key == n.Key })
	})
}

// localNotices: from version "notice-local" on, a notice's first tries are a local activity.
// Decided once per run, at its first notice (runs before the outbox never ask).
func (p *petition) localNotices(ctx workflow.Context) bool {
	if !p.outbox {
		return false
	}
	if !p.noticeDecided {
		p.noticeDecided = true
		p.noticeLocal = workflow.GetVersion(ctx, "notice-local", workflow.DefaultVersion, 1) == 1
	}
	return p.noticeLocal
}

// close ends the case in a final stage. The clock stops, so nothing is overdue any more.
func (p *petition) close(ctx workflow.Context, stage Stage) {
	now := workflow.Now(ctx)
	p.State.Stage = stage
	p.State.ClosedAt = &now
	p.State.Deadline = nil
	p.State.Overdue = false
	p.State.EscalationLevel = 0
	p.State.PendingExtension = nil
	p.Fired = ladderFired{}
	p.Override = nil
}

// learnUnit asks the register about a unit and its parent and remembers both: the parent
// decides whether a review (or re-review) is possible and who the superior unit's leader is.
//
// From the outbox version on, a unit looked up less than unitFreshFor ago is taken from the
// state (registration looked up the suggested unit; accepting into it needs no second look).
func (p *petition) learnUnit(ctx workflow.Context, code string) error {
	u, err := p.unit(ctx, code)
	if err != nil {
		return err
	}
	if u.Parent != "" {
		if _, err := p.unit(ctx, u.Parent); err != nil {
			return err
		}
	}
	return nil
}

// unitFreshFor is how long a unit's directory entry (head, leader, parent) is trusted.
const unitFreshFor = 24 * time.Hour

func (p *petition) unit(ctx workflow.Context, code string) (UnitInfo, error) {
	now := workflow.Now(ctx)
	if u, ok := p.Units[code]; ok && p.outbox && now.Sub(p.UnitsAt[code]) < unitFreshFor {
		return u, nil
	}
	u, err := lookupUnit(ctx, code, p.outbox)
	if err != nil {
		return UnitInfo{}, err
	}
	if u.Code == "" {
		u.Code = code
	}
	p.Units[code] = u
	if p.outbox {
		if p.UnitsAt == nil {
			p.UnitsAt = map[string]time.Time{}
		}
		p.UnitsAt[code] = now
	}
	return u, nil
}

// parentOf returns the known parent of a unit, "" if it has none or is unknown.
func (p *petition) parentOf(code string) string { return p.Units[code].Parent }

// publish refreshes the search attributes and the current details shown in the Web UI.
func (p *petition) publish(ctx workflow.Context) error {
	s := p.State
	updates := []temporal.SearchAttributeUpdate{
		SearchCaseNo.ValueSet(s.CaseNo),
		SearchStage.ValueSet(string(s.Stage)),
		keyword(SearchUnit, s.Unit),
		keyword(SearchCategory, s.Category),
		keyword(SearchChannel, s.Channel),
		keyword(SearchLeader, s.Leader),
		keyword(SearchPolicy, s.Policy),
		SearchOverdue.ValueSet(s.Overdue),
		SearchEscalationLevel.ValueSet(int64(s.EscalationLevel)),
	}
	updates = append(updates, p.warningAttributes()...)
	if s.Deadline != nil && !s.Deadline.Due.IsZero() {
		updates = append(updates, SearchDueAt.ValueSet(s.Deadline.Due))
	} else {
		updates = append(updates, SearchDueAt.ValueUnset())
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		return fmt.Errorf("upsert search attributes: %w", err)
	}
	workflow.SetCurrentDetails(ctx, p.details())
	return nil
}

// keyword unsets empty keywords, so "PetitionLeader is null" finds cases without a leader.
func keyword(key temporal.SearchAttributeKeyKeyword, v string) temporal.SearchAttributeUpdate {
	if v == "" {
		return key.ValueUnset()
	}
	return key.ValueSet(v)
}

// details is the short markdown the Web UI shows as the workflow's current details.
func (p *petition) details() string {
	s := p.State
	var b strings.Builder
	fmt.Fprintf(&b, "**Stage:** %s", s.Stage)
	if s.Unit != "" {
		fmt.Fprintf(&b, " · **Unit:** %s", s.Unit)
	}
	b.WriteString("\n\n")
	if d := s.Deadline; d != nil && d.AwaitingService {
		fmt.Fprintf(&b, "**Waiting for service (送达):** the %s starts when the answer's service date is recorded\n", clockName(d.Clock))
	} else if d != nil {
		fmt.Fprintf(&b, "**Due (%s):** %s", d.Clock, shanghai(d.Due))
		if d.Paused {
			b.WriteString(" · ⏸ paused")
		}
		b.WriteString("\n\n")
		if s.Overdue || s.EscalationLevel > 0 {
			fmt.Fprintf(&b, "**Overdue:** %t · **Escalation level:** %d\n\n", s.Overdue, s.EscalationLevel)
		}
		if d.Explanation.Summary != "" {
			b.WriteString(d.Explanation.Summary + "\n")
		}
	} else if s.ClosedAt != nil {
		fmt.Fprintf(&b, "**Closed:** %s\n", shanghai(*s.ClosedAt))
	}
	p.routineDetails(&b) // routines.go
	return b.String()
}

// shanghai formats an instant as a clerk reads it.
func shanghai(t time.Time) string {
	return t.In(calendar.Location()).Format("2006-01-02 15:04:05") + " (Asia/Shanghai)"
}
