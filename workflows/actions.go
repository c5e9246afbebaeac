package workflows

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/petitions/petitions/internal/calendar"
)

// Every action is a Workflow Update with a validator. The validator refuses an action that is
// not allowed now before it reaches history; the handler checks again under the case mutex,
// because another action may have changed the case while this one waited for it. Handlers do
// their activity work (lookups, deadline computations) before changing any state, so a failed
// activity leaves the case as it was.

// action is one update: who may take it when (rule), what it needs (check), what it does.
type action struct {
	name  string
	rule  rule
	check func(p *petition, now time.Time, in ActionInput) error
	apply func(p *petition, ctx workflow.Context, in ActionInput) error
}

// rule says who may take an action in which stages.
type rule struct {
	stages []Stage // nil: any stage that is not final
	roles  func(p *petition) []Role
	// unit is the unit whose staff (handlers, reviewers, leaders) may act; staff of other units
	// are refused. Clerks, supervisors and petitioners are not unit-scoped.
	unit func(p *petition, in ActionInput) string
}

func only(roles ...Role) func(*petition) []Role { return func(*petition) []Role { return roles } }

func caseUnit(p *petition, _ ActionInput) string   { return p.State.Unit }
func clockUnit(p *petition, _ ActionInput) string  { return p.clockUnit() }
func reviewUnit(p *petition, _ ActionInput) string { return p.State.ReviewUnit }
func reReviewUnit(p *petition, _ ActionInput) string {
	return p.State.ReReviewUnit
}

// clockStaff: during handling the handling unit's handlers and leaders stop and start the clock;
// during review and re-review the reviewing unit's reviewers and leaders (hearings 听证).
func clockStaff(p *petition) []Role {
	if p.State.Stage == StageHandling {
		return []Role{RoleHandler, RoleLeader}
	}
	return []Role{RoleReviewer, RoleLeader}
}

var staffClockStages = []Stage{StageHandling, StageReview, StageReReview}

// serviceStaff: the answering unit's staff record its service (送达): the handling unit's
// handlers and leaders for the reply, the reviewing unit's reviewers and leaders for its decision.
func serviceStaff(p *petition) []Role {
	if p.State.Stage == StageReplied {
		return []Role{RoleHandler, RoleLeader}
	}
	return []Role{RoleReviewer, RoleLeader}
}

func serviceUnit(p *petition, _ ActionInput) string { return p.serviceUnit() }

func (p *petition) actions() []action {
	return append([]action{
		{UpdateAccept, rule{[]Stage{StageRegistered}, only(RoleClerk, RoleLeader, RoleSupervisor),
			// A unit's leader accepts only into their own unit.
			func(_ *petition, in ActionInput) string { return in.Unit }}, checkAccept, (*petition).accept},
		{UpdateReject, rule{[]Stage{StageRegistered}, only(RoleClerk, RoleLeader), caseUnit}, checkReject, (*petition).reject},
		{UpdateForward, rule{[]Stage{StageRegistered}, only(RoleClerk), nil}, checkForward, (*petition).forward},
		{UpdateWithdraw, rule{[]Stage{StageRegistered, StageHandling}, only(RolePetitioner, RoleClerk), nil}, checkWithdraw, (*petition).withdraw},
		{UpdateReply, rule{[]Stage{StageHandling}, only(RoleHandler, RoleLeader), caseUnit}, checkReply, (*petition).reply},
		{UpdateRequestExtension, rule{[]Stage{StageHandling}, only(RoleHandler), caseUnit}, checkRequestExtension, (*petition).requestExtension},
		{UpdateDecideExtension, rule{[]Stage{StageHandling}, only(RoleLeader), caseUnit}, checkDecideExtension, (*petition).decideExtension},
		{UpdateReassign, rule{[]Stage{StageHandling}, only(RoleSupervisor, RoleLeader), caseUnit}, checkReassign, (*petition).reassign},
		{UpdatePause, rule{staffClockStages, clockStaff, clockUnit}, checkPause, (*petition).pause},
		{UpdateResume, rule{staffClockStages, clockStaff, clockUnit}, checkResume, (*petition).resume},
		{UpdateSupervise, rule{staffClockStages, only(RoleSupervisor), nil}, checkSupervise, (*petition).supervise},
		{UpdateEvaluate, rule{[]Stage{StageReplied, StageReviewed}, only(RolePetitioner), nil}, checkEvaluate, (*petition).evaluate},
		{UpdateRequestReview, rule{[]Stage{StageReplied}, only(RolePetitioner), nil}, checkRequestReview, (*petition).requestReview},
		{UpdateReviewDecision, rule{[]Stage{StageReview}, only(RoleReviewer, RoleLeader), reviewUnit}, checkDecision(UpdateReviewDecision), (*petition).reviewDecision},
		{UpdateRequestReReview, rule{[]Stage{StageReviewed}, only(RolePetitioner), nil}, checkRequestReReview, (*petition).requestReReview},
		{UpdateReReviewDecision, rule{[]Stage{StageReReview}, only(RoleReviewer, RoleLeader), reReviewUnit}, checkDecision(UpdateReReviewDecision), (*petition).reReviewDecision},
		{UpdateRecordService, rule{[]Stage{StageReplied, StageReviewed}, serviceStaff, serviceUnit}, checkRecordService, (*petition).recordService},
		// link_repeat is sent by whoever registers the repeat submission (any staff member, as
		// with registration), and is the one update the system itself may send.
		{UpdateLinkRepeat, rule{nil, only(RoleClerk, RoleHandler, RoleLeader, RoleSupervisor, RoleReviewer, RoleSystem), nil}, checkLinkRepeat, (*petition).linkRepeat},
	}, p.routineActions()...) // routines.go
}

// registerHandlers installs the query, await_registration and every action update.
func (p *petition) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (CaseState, error) {
		return p.snapshot(), nil
	}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, QueryAllowedActions, func(actor Actor) ([]string, error) {
		return p.allowedActions(workflow.Now(ctx), actor), nil
	}); err != nil {
		return err
	}
	// await_registration takes an ActionInput only so that clients may send one; nothing in it
	// is used. It never changes the case, so it is allowed in every stage.
	if err := workflow.SetUpdateHandler(ctx, UpdateAwaitRegistration, func(ctx workflow.Context, _ ActionInput) (CaseState, error) {
		ctx, _ = workflow.NewDisconnectedContext(ctx)
		err := workflow.Await(ctx, func() bool { return p.Ready && p.projected(1) })
		return p.snapshot(), err
	}); err != nil {
		return err
	}
	for _, a := range p.actions() {
		if err := p.registerAction(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

func (p *petition) registerAction(ctx workflow.Context, a action) error {
	validate := func(ctx workflow.Context, in ActionInput) error {
		return p.validate(a, workflow.Now(ctx), in)
	}
	handle := func(ctx workflow.Context, in ActionInput) (CaseState, error) {
		// A cancellation request (see Petition) must not break an action half-way.
		ctx, _ = workflow.NewDisconnectedContext(ctx)
		// An action can arrive in the very first workflow task, before setup has run (e.g. a
		// clerk acting while the worker was down at registration): the SDK runs such handlers
		// as soon as they are registered. Wait for setup, so the registered event comes first
		// and the action sees the acceptance clock.
		if err := workflow.Await(ctx, func() bool { return p.Ready }); err != nil {
			return CaseState{}, err
		}
		state, err := p.applyLocked(ctx, a, in)
		if err != nil || !p.outbox {
			return state, err
		}
		// The answer waits until the register has the action (lists and reports read it), but
		// not under the mutex: other actions and the ladder go on meanwhile.
		err = workflow.Await(ctx, func() bool { return p.projected(state.Seq) })
		return state, err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, a.name, handle, workflow.UpdateHandlerOptions{Validator: validate})
}

// applyLocked validates again and applies the action, holding the case mutex.
func (p *petition) applyLocked(ctx workflow.Context, a action, in ActionInput) (CaseState, error) {
	if err := p.mu.Lock(ctx); err != nil {
		return CaseState{}, err
	}
	defer p.mu.Unlock()
	if err := p.validate(a, workflow.Now(ctx), in); err != nil {
		return CaseState{}, err
	}
	if err := a.apply(p, ctx, in); err != nil {
		return CaseState{}, err
	}
	return p.snapshot(), nil
}

// allowedActions lists the actions actor may take now (QueryAllowedActions), asking validate
// itself, so the answer and the validators cannot disagree. Each action is probed with the
// actor alone and the actor's own unit as the target unit (a leader accepts into their unit):
// refusals of the action (stage, role, unit, the case's state) or of a stale read leave it
// out; a refusal of the probe's missing fields (invalid input) means the action is open and
// awaits the form.
func (p *petition) allowedActions(now time.Time, actor Actor) []string {
	out := []string{}
	probe := ActionInput{Actor: actor, Unit: actor.Unit}
	if actor.ID == "" || badText(probe) != "" {
		return out // validate would refuse these as input, not as action
	}
	for _, a := range p.actions() {
		if a.name == UpdateLinkRepeat {
			continue
		}
		if roles := a.rule.roles(p); len(roles) == 1 && roles[0] == RolePetitioner {
			continue
		}
		var appErr *temporal.ApplicationError
		err := p.validate(a, now, probe)
		if err == nil || errors.As(err, &appErr) && appErr.Type() == ErrorInvalidInput {
			out = append(out, a.name)
		}
	}
	return out
}

// validate checks, in order: the actor, the stage, the role, the unit, then the action's fields.
func (p *petition) validate(a action, now time.Time, in ActionInput) error {
	name := actionName(a.name)
	if in.Actor.ID == "" {
		return invalidInput("%s needs the acting person (actor.id)", name)
	}
	if field := badText(in); field != "" {
		// The register cannot store it (PostgreSQL refuses NUL and invalid UTF-8): refused
		// here, it never reaches the history or the projection.
		return invalidInput("%s: %s must be valid UTF-8 text without NUL or control characters", name, field)
	}
	if in.IfSeq != nil && *in.IfSeq != p.State.Seq {
		return stale("%s is refused: the case has changed since it was read (now at #%d, the request expected #%d); read it again",
			name, p.State.Seq, *in.IfSeq)
	}
	s := p.State.Stage
	if s.Final() {
		return invalidAction("%s is not allowed: the case is %s and no further action is possible", name, s)
	}
	if a.rule.stages != nil && !slices.Contains(a.rule.stages, s) {
		return invalidAction("%s is not allowed while the case is %s; %s", name, stageText(s), stageHint(s))
	}
	roles := a.rule.roles(p)
	if !slices.Contains(roles, in.Actor.Role) {
		if in.Actor.Role == RoleSystem {
			return invalidAction("%s must be taken by a person; the system role cannot take it", name)
		}
		return invalidAction("%s is not allowed for a %s; it needs a %s", name, roleText(in.Actor.Role), rolesText(roles))
	}
	if a.rule.unit != nil && unitScoped(in.Actor.Role) {
		if unit := a.rule.unit(p, in); !actsFor(in.Actor, unit) {
			return invalidAction("%s %s of unit %q cannot take %s on a case of unit %q",
				in.Actor.Role, in.Actor.ID, in.Actor.Unit, name, unit)
		}
	}
	return a.check(p, now, in)
}

func unitScoped(r Role) bool { return r == RoleHandler || r == RoleReviewer || r == RoleLeader }

func actionName(update string) string { return strings.ReplaceAll(update, "_", " ") }

func stageText(s Stage) string {
	switch s {
	case StageHandling:
		return "being handled"
	case StageReview:
		return "under review"
	case StageReReview:
		return "under re-review"
	}
	return string(s)
}

// stageHint tells the clerk what the case is waiting for.
func stageHint(s Stage) string {
	switch s {
	case StageRegistered:
		return "accept it first"
	case StageHandling:
		return "it awaits the handling unit's reply"
	case StageReplied:
		return "it awaits the petitioner's evaluation or review request"
	case StageReview:
		return "it awaits the review decision"
	case StageReviewed:
		return "it awaits the petitioner's evaluation or re-review request"
	case StageReReview:
		return "it awaits the re-review decision"
	}
	return "no further action is possible"
}

func roleText(r Role) string {
	if r == "" {
		return "actor without a role"
	}
	return string(r)
}

func rolesText(roles []Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// need refuses an action whose required text field is blank; what names it for the clerk
// ("a reason").
func need(action, what, value string) error {
	if strings.TrimSpace(value) == "" {
		return invalidInput("%s needs %s", actionName(action), what)
	}
	return nil
}

func needAll(action string, fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if err := need(action, fields[i], fields[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// ---- registered ----

func checkAccept(_ *petition, _ time.Time, in ActionInput) error {
	return needAll(UpdateAccept, "a unit", in.Unit, "a handler", in.Handler)
}

func (p *petition) accept(ctx workflow.Context, in ActionInput) error {
	if err := p.learnUnit(ctx, in.Unit); err != nil {
		return err
	}
	now := workflow.Now(ctx)
	d, err := p.newClock(ctx, ClockHandling, now)
	if err != nil {
		return err
	}
	late := p.State.Overdue
	p.State.Stage = StageHandling
	p.State.Unit, p.State.Handler = in.Unit, in.Handler
	if in.Leader != "" { // else a leader in charge from registration (包案) stays
		p.State.Leader = in.Leader
	}
	p.State.AcceptedAt = &now
	p.install(d)
	details := map[string]any{"unit": in.Unit, "handler": in.Handler, "due": d.Due}
	if in.Leader != "" {
		details["leader"] = in.Leader
	}
	if late {
		details["late"] = true
	}
	return p.record(ctx, EventAccepted, in.Actor, details)
}

func checkReject(_ *petition, _ time.Time, in ActionInput) error {
	return need(UpdateReject, "a reason", in.Reason)
}

func (p *petition) reject(ctx workflow.Context, in ActionInput) error {
	p.close(ctx, StageRejected)
	return p.record(ctx, EventRejected, in.Actor, map[string]any{"reason": in.Reason})
}

func checkForward(p *petition, _ time.Time, in ActionInput) error {
	if err := needAll(UpdateForward, "a unit", in.Unit, "a reason", in.Reason); err != nil {
		return err
	}
	if in.Unit == p.State.SuggestedUnit {
		return invalidInput("forward needs a different unit: the case is already with unit %q", in.Unit)
	}
	return nil
}

// forward 转送 hands the case to the unit with authority; under ForwardRestartsClock that unit
// gets a fresh acceptance period from now.
func (p *petition) forward(ctx workflow.Context, in ActionInput) error {
	if err := p.learnUnit(ctx, in.Unit); err != nil {
		return err
	}
	var fresh *Deadline
	if p.Input.Policy.ForwardRestartsClock {
		d, err := p.newClock(ctx, ClockAcceptance, workflow.Now(ctx))
		if err != nil {
			return err
		}
		fresh = &d
	}
	from := p.State.Unit
	p.State.SuggestedUnit, p.State.Unit = in.Unit, in.Unit
	if fresh != nil {
		p.install(*fresh)
	}
	return p.record(ctx, EventForwarded, in.Actor, map[string]any{
		"from_unit": from, "unit": in.Unit, "reason": in.Reason, "due": p.State.Deadline.Due,
	})
}

func checkWithdraw(_ *petition, _ time.Time, in ActionInput) error {
	return need(UpdateWithdraw, "a reason", in.Reason)
}

func (p *petition) withdraw(ctx workflow.Context, in ActionInput) error {
	p.close(ctx, StageWithdrawn)
	return p.record(ctx, EventWithdrawn, in.Actor, map[string]any{"reason": in.Reason})
}

// ---- handling ----

func checkReply(p *petition, now time.Time, in ActionInput) error {
	if why := p.replyWaits(); why != "" {
		return invalidAction("reply is not allowed yet: %s", why)
	}
	if err := need(UpdateReply, "an opinion", in.Opinion); err != nil {
		return err
	}
	return checkService(UpdateReply, now, now, in)
}

// reply 答复 ends the handling clock (a late reply is allowed and marked) and opens the
// petitioner's review request window.
func (p *petition) reply(ctx workflow.Context, in ActionInput) error {
	if workflow.GetVersion(ctx, versionService, workflow.DefaultVersion, 1) == 1 {
		return p.replyServed(ctx, in)
	}
	now := workflow.Now(ctx)
	w, err := p.newClock(ctx, ClockReviewRequest, now)
	if err != nil {
		return err
	}
	d := p.State.Deadline
	p.State.RepliedLate = p.State.Overdue || (!d.Paused && now.After(d.Due))
	p.State.Stage = StageReplied
	p.State.RepliedAt = &now
	p.State.PendingExtension = nil
	p.install(w)
	return p.record(ctx, EventReplied, in.Actor, map[string]any{
		"opinion": in.Opinion, "late": p.State.RepliedLate, "due": w.Due,
	})
}

// replyServed is reply from version service-date on: the review request window runs from the
// reply's service date (送达), and waits for it when the reply does not give it.
func (p *petition) replyServed(ctx workflow.Context, in ActionInput) error {
	now := workflow.Now(ctx)
	w, service, err := p.openWindow(ctx, ClockReviewRequest, in)
	if err != nil {
		return err
	}
	d := p.State.Deadline
	p.State.RepliedLate = p.State.Overdue || (!d.Paused && now.After(d.Due))
	p.State.Stage = StageReplied
	p.State.RepliedAt = &now
	p.State.PendingExtension = nil
	p.install(w)
	p.served(now, in)
	details := map[string]any{"opinion": in.Opinion, "late": p.State.RepliedLate}
	maps.Copy(details, service)
	return p.record(ctx, EventReplied, in.Actor, details)
}

func checkRequestExtension(p *petition, _ time.Time, in ActionInput) error {
	switch {
	case p.State.ExtensionUsed:
		return invalidAction("request extension is not allowed: the one extension allowed has already been decided")
	case p.State.PendingExtension != nil:
		return invalidAction("request extension is not allowed: a request for %d is already waiting for the leader", p.State.PendingExtension.Days)
	case in.Days <= 0:
		return invalidInput("request extension needs a positive number of days")
	}
	if err := need(UpdateRequestExtension, "a reason", in.Reason); err != nil {
		return err
	}
	// The statutory maximum applies when it is stated in the extension's own unit; units that
	// cannot be compared without a calendar are left to the approving leader.
	ext, limit := p.extensionPeriod(in.Days), p.Input.Policy.MaxExtension
	if ext.Unit == limit.Unit && ext.Amount > limit.Amount {
		return invalidInput("request extension may ask for at most %d %s, not %d", limit.Amount, unitText(limit.Unit), in.Days)
	}
	return nil
}

func unitText(u calendar.Unit) string { return strings.ReplaceAll(string(u), "_", " ") }

func (p *petition) requestExtension(ctx workflow.Context, in ActionInput) error {
	p.State.PendingExtension = &ExtensionRequest{
		Days: in.Days, Reason: in.Reason, RequestedBy: in.Actor, RequestedAt: workflow.Now(ctx),
	}
	return p.record(ctx, EventExtensionRequested, in.Actor, map[string]any{"days": in.Days, "reason": in.Reason})
}

func checkDecideExtension(p *petition, _ time.Time, in ActionInput) error {
	if p.State.PendingExtension == nil {
		return invalidAction("decide extension is not allowed: no extension request is pending")
	}
	if in.Approved == nil {
		return invalidInput("decide extension needs approved (true or false)")
	}
	return nil
}

// decideExtension: an approved extension is added to the handling period and the due instant
// recomputed; steps not yet fired are re-armed against it. Approved or denied, the case has
// used its one extension.
func (p *petition) decideExtension(ctx workflow.Context, in ActionInput) error {
	req := p.State.PendingExtension
	details := map[string]any{"approved": *in.Approved, "days": req.Days}
	if in.Reason != "" {
		details["reason"] = in.Reason
	}
	if *in.Approved {
		d := p.State.Deadline.clone()
		d.Extensions = append(d.Extensions, p.extensionPeriod(req.Days))
		d, err := p.recompute(ctx, d)
		if err != nil {
			return err
		}
		details["previous_due"], details["due"] = p.State.Deadline.Due, d.Due
		p.move(ctx, d)
	}
	p.State.ExtensionUsed = true
	p.State.PendingExtension = nil
	return p.record(ctx, EventExtensionDecided, in.Actor, details)
}

func checkReassign(p *petition, _ time.Time, in ActionInput) error {
	if in.Unit == "" && in.Handler == "" {
		return invalidInput("reassign needs a new unit or a new handler")
	}
	if (in.Unit == "" || in.Unit == p.State.Unit) && (in.Handler == "" || in.Handler == p.State.Handler) &&
		(in.Leader == "" || in.Leader == p.State.Leader) {
		return invalidInput("reassign changes nothing: the case is already with unit %q and handler %q", p.State.Unit, p.State.Handler)
	}
	return nil
}

// reassign moves the case to another unit and/or handler; the handling clock runs on. A new
// unit without a named handler leaves the handler empty, so reminders go to the unit's head.
func (p *petition) reassign(ctx workflow.Context, in ActionInput) error {
	from := p.State.Unit
	unit, handler := p.State.Unit, in.Handler
	if in.Unit != "" && in.Unit != from {
		if err := p.learnUnit(ctx, in.Unit); err != nil {
			return err
		}
		unit = in.Unit
	} else if handler == "" {
		handler = p.State.Handler
	}
	p.State.Unit, p.State.Handler = unit, handler
	if in.Leader != "" {
		p.State.Leader = in.Leader
	}
	details := map[string]any{"from_unit": from, "unit": unit, "handler": handler}
	if in.Leader != "" {
		details["leader"] = in.Leader
	}
	if in.Reason != "" {
		details["reason"] = in.Reason
	}
	return p.record(ctx, EventReassigned, in.Actor, details)
}

// ---- clocks: pause, resume, supervise ----

func checkPause(p *petition, _ time.Time, in ActionInput) error {
	if p.State.Deadline.Paused {
		return invalidAction("pause is not allowed: the clock is already paused")
	}
	return need(UpdatePause, "a reason", in.Reason)
}

// pause stops the clock (hearing 听证, awaiting materials); no ladder timer runs while paused.
func (p *petition) pause(ctx workflow.Context, in ActionInput) error {
	d := p.State.Deadline.clone()
	d.Paused = true
	d.Pauses = append(d.Pauses, Pause{From: workflow.Now(ctx), Reason: in.Reason})
	p.State.Deadline = &d
	return p.record(ctx, EventPaused, in.Actor, map[string]any{"reason": in.Reason, "clock": string(d.Clock)})
}

func checkResume(p *petition, _ time.Time, _ ActionInput) error {
	if !p.State.Deadline.Paused {
		return invalidAction("resume is not allowed: the clock is not paused")
	}
	return nil
}

// resume ends the running pause and recomputes the due instant, which ComputeDeadline moves by
// the paused time (in the period's own unit: whole days for day-counted clocks).
func (p *petition) resume(ctx workflow.Context, in ActionInput) error {
	now := workflow.Now(ctx)
	d := p.State.Deadline.clone()
	d.Paused = false
	last := &d.Pauses[len(d.Pauses)-1]
	last.To = now
	pausedFor := now.Sub(last.From)
	d, err := p.recompute(ctx, d)
	if err != nil {
		return err
	}
	previous := p.State.Deadline.Due
	p.move(ctx, d)
	return p.record(ctx, EventResumed, in.Actor, map[string]any{
		"clock": string(d.Clock), "paused_for": pausedFor.String(), "previous_due": previous, "due": d.Due,
	})
}

func checkSupervise(p *petition, now time.Time, in ActionInput) error {
	if err := need(UpdateSupervise, "an opinion", in.Opinion); err != nil {
		return err
	}
	if in.NewDueAt != nil {
		if !in.NewDueAt.After(now) {
			return invalidInput("supervise: new_due_at must be in the future, not %s", shanghai(*in.NewDueAt))
		}
		if p.State.Deadline.Paused {
			return invalidAction("supervise cannot set a new due instant while the clock is paused; resume it first")
		}
	}
	return nil
}

// supervise 督办 records a supervisor's instruction and tells the unit; a NewDueAt replaces the
// running clock's due instant (see dueOverride).
func (p *petition) supervise(ctx workflow.Context, in ActionInput) error {
	details := map[string]any{"opinion": in.Opinion, "clock": string(p.State.Deadline.Clock)}
	if in.NewDueAt != nil {
		due := *in.NewDueAt
		d := p.State.Deadline.clone()
		o := newOverride(workflow.Now(ctx), due, d)
		details["previous_due"], details["due"] = d.Due, due
		d.Due = due
		d.Explanation = Explanation{
			Clock:   string(d.Clock),
			Policy:  p.Input.Policy.Name,
			Start:   o.Start,
			Period:  Period{Amount: o.Seconds, Unit: calendar.Seconds},
			Rule:    "due instant set by supervision (督办)",
			Steps:   []calendar.Step{{Kind: calendar.StepDue, Date: dateText(due), Note: "set by supervisor " + in.Actor.ID}},
			Due:     due,
			Summary: fmt.Sprintf("Due %s, set by supervisor %s", shanghai(due), in.Actor.ID),
		}
		p.Override = o
		p.move(ctx, d)
	}
	unit := p.clockUnit()
	if err := p.record(ctx, EventSupervised, in.Actor, details); err != nil {
		return err
	}
	u := p.Units[unit]
	p.notify(ctx, p.State.Seq, "supervision", firstNonEmpty(u.Head, u.Leader, p.Input.RegisteredBy.ID), unit,
		fmt.Sprintf("督办 Supervision of case %s: %s", p.State.CaseNo, in.Opinion))
	return nil
}

func dateText(t time.Time) string { return t.In(calendar.Location()).Format(time.DateOnly) }

// ---- the petitioner: evaluate, review, re-review ----

func checkEvaluate(_ *petition, _ time.Time, in ActionInput) error {
	switch in.Evaluation {
	case EvaluationSatisfied, EvaluationBasicSatisfied, EvaluationDissatisfied:
		return nil
	}
	return invalidInput("evaluate needs an evaluation: %s, %s or %s",
		EvaluationSatisfied, EvaluationBasicSatisfied, EvaluationDissatisfied)
}

// evaluate 满意度评价: a satisfied petitioner closes the case at once; a dissatisfied one keeps
// the window open to ask for (re-)review.
func (p *petition) evaluate(ctx workflow.Context, in ActionInput) error {
	p.PetitionerEvaluatedAt = workflow.Now(ctx)
	return p.takeEvaluation(ctx, in.Actor, in.Evaluation, EvaluationByPetitioner)
}

// takeEvaluation records an evaluation, the petitioner's own or a call-back's (回访), and closes
// the case unless the petitioner is dissatisfied.
func (p *petition) takeEvaluation(ctx workflow.Context, actor Actor, evaluation, source string) error {
	p.State.Evaluation, p.State.EvaluationSource = evaluation, source
	details := map[string]any{"evaluation": evaluation}
	if source == EvaluationByCallBack {
		details["source"] = source
	}
	if err := p.record(ctx, EventEvaluated, actor, details); err != nil {
		return err
	}
	if evaluation == EvaluationDissatisfied {
		return nil
	}
	p.close(ctx, StageClosed)
	who := "petitioner "
	if source == EvaluationByCallBack {
		who = "petitioner (call-back) "
	}
	return p.record(ctx, EventClosed, actor, map[string]any{"reason": who + strings.ReplaceAll(evaluation, "_", " ")})
}

func checkRequestReview(p *petition, _ time.Time, _ ActionInput) error {
	if p.parentOf(p.State.Unit) == "" {
		return invalidAction("request review is not possible: unit %q has no higher unit to review the case", p.State.Unit)
	}
	return nil
}

// requestReview 复查: the handling unit's parent reviews.
func (p *petition) requestReview(ctx workflow.Context, in ActionInput) error {
	unit := p.parentOf(p.State.Unit)
	return p.escalateTo(ctx, in, unit, StageReview, ClockReview, EventReviewRequested, func() { p.State.ReviewUnit = unit })
}

func checkRequestReReview(p *petition, _ time.Time, _ ActionInput) error {
	if p.parentOf(p.State.ReviewUnit) == "" {
		return invalidAction("request re-review is not possible: review unit %q has no higher unit to re-review the case", p.State.ReviewUnit)
	}
	return nil
}

// requestReReview 复核: the review unit's parent decides, finally.
func (p *petition) requestReReview(ctx workflow.Context, in ActionInput) error {
	unit := p.parentOf(p.State.ReviewUnit)
	return p.escalateTo(ctx, in, unit, StageReReview, ClockReReview, EventReReviewRequested, func() { p.State.ReReviewUnit = unit })
}

// escalateTo moves the case up to a reviewing unit: it learns the unit (and its parent, for a
// later re-review and for the ladder), starts the stage's clock from now and records the request.
func (p *petition) escalateTo(ctx workflow.Context, in ActionInput, unit string, stage Stage, clock Clock, event string, assign func()) error {
	if err := p.learnUnit(ctx, unit); err != nil {
		return err
	}
	d, err := p.newClock(ctx, clock, workflow.Now(ctx))
	if err != nil {
		return err
	}
	p.State.Stage = stage
	assign()
	p.install(d)
	details := map[string]any{"unit": unit, "due": d.Due}
	if in.Reason != "" {
		details["reason"] = in.Reason
	}
	return p.record(ctx, event, in.Actor, details)
}

// checkDecision checks a review or re-review decision.
func checkDecision(update string) func(*petition, time.Time, ActionInput) error {
	return func(_ *petition, now time.Time, in ActionInput) error {
		if in.Outcome != OutcomeUphold && in.Outcome != OutcomeRevise {
			return invalidInput("%s needs an outcome: %s or %s", actionName(update), OutcomeUphold, OutcomeRevise)
		}
		if err := need(update, "an opinion", in.Opinion); err != nil {
			return err
		}
		return checkService(update, now, now, in)
	}
}

// reviewDecision answers the review and opens the re-review request window.
func (p *petition) reviewDecision(ctx workflow.Context, in ActionInput) error {
	if workflow.GetVersion(ctx, versionService, workflow.DefaultVersion, 1) == 1 {
		return p.reviewDecisionServed(ctx, in)
	}
	w, err := p.newClock(ctx, ClockReReviewWindow, workflow.Now(ctx))
	if err != nil {
		return err
	}
	p.State.Stage = StageReviewed
	p.install(w)
	return p.record(ctx, EventReviewDecided, in.Actor, map[string]any{
		"outcome": in.Outcome, "opinion": in.Opinion, "unit": p.State.ReviewUnit, "due": w.Due,
	})
}

// reviewDecisionServed is reviewDecision from version service-date on: the re-review
// request window runs from the decision's service date, and waits for it when not given.
func (p *petition) reviewDecisionServed(ctx workflow.Context, in ActionInput) error {
	w, service, err := p.openWindow(ctx, ClockReReviewWindow, in)
	if err != nil {
		return err
	}
	p.State.Stage = StageReviewed
	p.install(w)
	p.served(workflow.Now(ctx), in)
	details := map[string]any{"outcome": in.Outcome, "opinion": in.Opinion, "unit": p.State.ReviewUnit}
	maps.Copy(details, service)
	return p.record(ctx, EventReviewDecided, in.Actor, details)
}

// reReviewDecision is final: the case is terminated (三级终结) and not accepted again. Its
// service date, when given, is kept with the decision (no window follows it).
func (p *petition) reReviewDecision(ctx workflow.Context, in ActionInput) error {
	details := map[string]any{"outcome": in.Outcome, "opinion": in.Opinion, "unit": p.State.ReReviewUnit}
	if in.ServedAt != nil {
		t := *in.ServedAt
		details["served_at"], details["service_method"] = t, in.ServiceMethod
		p.State.ServedAt, p.State.ServiceMethod = &t, in.ServiceMethod
	}
	if err := p.record(ctx, EventReReviewDecided, in.Actor, details); err != nil {
		return err
	}
	p.close(ctx, StageTerminated)
	return p.record(ctx, EventTerminated, in.Actor, map[string]any{"reason": "re-review decided (三级终结)"})
}

// ---- service (送达) ----

// checkService checks an action's served_at and service_method: both or neither; a known
// method; not in the future; not on a day before the answer's (answeredAt).
func checkService(update string, now, answeredAt time.Time, in ActionInput) error {
	name := actionName(update)
	if in.ServedAt == nil {
		if in.ServiceMethod != "" {
			return invalidInput("%s: service_method needs served_at (the day the answer reached the petitioner)", name)
		}
		return nil
	}
	switch in.ServiceMethod {
	case ServiceInPerson, ServicePost, ServiceSMS, ServiceOnline:
	case "":
		return invalidInput("%s: served_at needs service_method (%s)", name, serviceMethodsText)
	default:
		return invalidInput("%s: service_method must be one of %s", name, serviceMethodsText)
	}
	served := *in.ServedAt
	if served.After(now) {
		return invalidInput("%s: served_at %s is in the future", name, shanghai(served))
	}
	if dateText(served) < dateText(answeredAt) {
		return invalidInput("%s: served_at %s is before the answer was recorded (%s)", name, dateText(served), dateText(answeredAt))
	}
	return nil
}

const serviceMethodsText = ServiceInPerson + " 当面送达, " + ServicePost + " 邮寄送达, " + ServiceSMS + " 短信送达 or " + ServiceOnline + " 网上送达"

func checkRecordService(p *petition, now time.Time, in ActionInput) error {
	d := p.State.Deadline
	if d == nil || !d.AwaitingService {
		what := "the answer"
		if p.State.ServedAt != nil {
			what += fmt.Sprintf(" was served on %s (%s)", dateText(*p.State.ServedAt), p.State.ServiceMethod)
		} else {
			what += "'s window is already running"
		}
		return invalidAction("record service is not allowed: %s", what)
	}
	if in.ServedAt == nil {
		return invalidInput("record service needs served_at (the day the answer reached the petitioner) and service_method")
	}
	return checkService(UpdateRecordService, now, p.AnsweredAt, in)
}

// recordService 送达: the answer reached the petitioner on served_at; the window starts there
// (the service day itself is not counted for day-counted windows).
func (p *petition) recordService(ctx workflow.Context, in ActionInput) error {
	served := *in.ServedAt
	clock := p.State.Deadline.Clock
	w, err := p.newClock(ctx, clock, laterOf(served, p.AnsweredAt))
	if err != nil {
		return err
	}
	p.install(w)
	p.State.ServedAt, p.State.ServiceMethod = &served, in.ServiceMethod
	return p.record(ctx, EventServiceRecorded, in.Actor, map[string]any{
		"clock": string(clock), "served_at": served, "service_method": in.ServiceMethod,
		"answered_at": p.AnsweredAt, "due": w.Due,
	})
}

// ---- any open stage ----

func checkLinkRepeat(_ *petition, _ time.Time, in ActionInput) error {
	return need(UpdateLinkRepeat, "a channel", in.Channel)
}

// linkRepeat links a repeat petition 重复信访 on the same matter to this case.
func (p *petition) linkRepeat(ctx workflow.Context, in ActionInput) error {
	received := in.ReceivedAt
	if received.IsZero() {
		received = workflow.Now(ctx)
	}
	p.State.RepeatCount++
	return p.record(ctx, EventRepeatLinked, in.Actor, map[string]any{
		"channel": in.Channel, "received_at": received, "repeat_count": p.State.RepeatCount,
	})
}

// badText names the first text field of an action that PostgreSQL could not store or a person
// could not read: invalid UTF-8, NUL or another control character (tab and line breaks allowed).
func badText(in ActionInput) string {
	fields := []struct{ name, v string }{
		{"actor.id", in.Actor.ID}, {"actor.name", in.Actor.Name}, {"actor.unit", in.Actor.Unit},
		{"unit", in.Unit}, {"handler", in.Handler}, {"leader", in.Leader}, {"reason", in.Reason},
		{"opinion", in.Opinion}, {"outcome", in.Outcome}, {"evaluation", in.Evaluation}, {"channel", in.Channel},
		{"service_method", in.ServiceMethod}, {"criterion", in.Criterion},
	}
	for _, u := range in.Units {
		fields = append(fields, struct{ name, v string }{"units", u})
	}
	for _, u := range in.Actor.Units {
		fields = append(fields, struct{ name, v string }{"actor.units", u})
	}
	for _, f := range fields {
		if !utf8.ValidString(f.v) {
			return f.name
		}
		for _, r := range f.v {
			if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
				return f.name
			}
		}
	}
	return ""
}
