package workflows

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/petitions/petitions/internal/calendar"
)

// The monthly dispute screening round (矛盾纠纷排查, seed 002): see the contract (contract.go)
// for what it is; this file is how it runs. One state struct (round), one goroutine per unit
// running that unit's clock (reminder, overdue notice, leader, superior unit: each step once),
// an outbox drained to the register in the background, notices through the notifier.

// Bounds of a screening form, checked by the update's validator (the API checks the same
// shapes first, to answer field errors).
const (
	MaxScreeningDisputes = 200
	maxScreeningSummary  = 2000
	maxScreeningLeader   = 100
	maxScreeningPlan     = 5000
	maxScreeningNote     = 5000
	// screeningDefaultClose: a policy without close_after closes the round this long after
	// the due instant.
	screeningDefaultClose = 5 * 24 * time.Hour
	// screeningAnswerWait bounds how long a filing's answer waits for the register to take
	// its event (the round's page reads the register).
	screeningAnswerWait = 10 * time.Second
)

// ScreeningOpen is what the monthly schedule starts: it opens the round of the month it runs
// in as a child workflow with the round's one ID (screening-<YYYY-MM>), abandoned when it
// ends, and answers the round's ID. A round already open (the schedule fired twice, a
// worker retried) is left as it is.
func ScreeningOpen(ctx workflow.Context, in ScreeningOpenInput) (string, error) {
	month := ScreeningMonth(workflow.Now(ctx))
	id := ScreeningRoundID(month)
	workflow.SetCurrentDetails(ctx, "**矛盾纠纷排查 Dispute screening:** opening the round of "+month+" ("+id+")")
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            id,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		StaticSummary:         "矛盾纠纷排查 dispute screening " + month,
	})
	f := workflow.ExecuteChildWorkflow(cctx, ScreeningWorkflow, ScreeningInput{Month: month, Policy: in.Policy, Units: in.Units})
	err := f.GetChildWorkflowExecution().Get(ctx, nil)
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		workflow.SetCurrentDetails(ctx, "**矛盾纠纷排查 Dispute screening:** the round of "+month+" was open already ("+id+")")
		return id, nil
	}
	if err != nil {
		return "", err
	}
	workflow.SetCurrentDetails(ctx, "**矛盾纠纷排查 Dispute screening:** opened the round of "+month+" ("+id+")")
	return id, nil
}

// ScreeningRound runs one month's round until it closes, and returns its final state.
func ScreeningRound(ctx workflow.Context, in ScreeningInput) (ScreeningState, error) {
	if err := validateScreeningInput(in); err != nil {
		return ScreeningState{}, err
	}
	r := &round{
		Input:  in,
		State:  ScreeningState{Month: in.Month, Policy: in.Policy.Name},
		Info:   map[string]UnitInfo{},
		logger: workflow.GetLogger(ctx),
	}
	if err := workflow.SetQueryHandler(ctx, QueryScreening, func() (ScreeningState, error) { return r.snapshot(), nil }); err != nil {
		return ScreeningState{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateFileScreening, r.file,
		workflow.UpdateHandlerOptions{Validator: r.validateFiling}); err != nil {
		return ScreeningState{}, err
	}
	workflow.Go(ctx, r.project)
	if err := r.setup(ctx); err != nil {
		return r.State, err
	}
	for i := range r.State.Units {
		workflow.Go(ctx, func(ctx workflow.Context) { r.clock(ctx, i) })
	}

	// The round closes at ClosesAt, or as soon as every unit has filed.
	tctx, cancel := workflow.WithCancel(ctx)
	closing := workflow.NewTimerWithOptions(tctx, r.State.ClosesAt.Sub(workflow.Now(ctx)),
		workflow.TimerOptions{Summary: "close the round: units without a report are recorded as missed (未报)"})
	if err := workflow.Await(ctx, func() bool { return closing.IsReady() || r.allFiled() }); err != nil {
		return r.State, err
	}
	cancel()
	r.close(ctx)

	// Drain: admitted filings finish (they revalidate and refuse), notices go out, the
	// register takes every event.
	err := workflow.Await(ctx, func() bool {
		return workflow.AllHandlersFinished(ctx) && r.notifying == 0 && len(r.Outbox) == 0
	})
	return r.snapshot(), err
}

func validateScreeningInput(in ScreeningInput) error {
	var problems []string
	if _, err := time.Parse("2006-01", in.Month); err != nil || len(in.Month) != 7 {
		problems = append(problems, fmt.Sprintf("month %q is not YYYY-MM", in.Month))
	}
	if err := ValidateScreeningPolicy(in.Policy); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return temporal.NewNonRetryableApplicationError("screening input: "+strings.Join(problems, "; "), ErrorInvalidInput, nil)
	}
	return nil
}

// ValidateScreeningPolicy checks a screening policy: a name, a due day (1–31) or a positive
// due_after, and no negative offset.
func ValidateScreeningPolicy(p ScreeningPolicy) error {
	var problems []string
	if strings.TrimSpace(p.Name) == "" {
		problems = append(problems, "policy has no name")
	}
	if p.DueAfter < 0 || p.CloseAfter < 0 || p.Ladder.ReminderBefore < 0 || p.Ladder.LeaderAfter < 0 || p.Ladder.SuperiorAfter < 0 {
		problems = append(problems, "durations must not be negative")
	}
	if p.DueAfter == 0 && (p.DueDay < 1 || p.DueDay > 31) {
		problems = append(problems, "due_day must be 1–31 (or due_after set)")
	}
	if p.Ladder.ReminderWorkingDays > 0 {
		problems = append(problems, "reminder_before in working days is not supported for screening")
	}
	if len(problems) > 0 {
		return fmt.Errorf("screening policy %q: %s", p.Name, strings.Join(problems, "; "))
	}
	return nil
}

// round is the whole state of a month's round.
type round struct {
	Input ScreeningInput `json:"input"`
	State ScreeningState `json:"state"`
	// Info: the directory entries of the units and their parents (recipients of notices).
	Info map[string]UnitInfo `json:"info"`
	// Fired: the ladder steps fired per unit, each once.
	Fired map[string]*ladderFired `json:"fired"`
	Ready bool                    `json:"ready"`
	// Outbox: events the register has not confirmed yet, oldest first.
	Outbox []ScreeningTransition `json:"outbox,omitempty"`
	// projected is the count of transitions the register has confirmed.
	projected, queued int
	notifying         int
	logger            log.Logger
}

// setup learns the units that must file, sets the round's instants and records it opened.
func (r *round) setup(ctx workflow.Context) error {
	codes := slices.Clone(r.Input.Units)
	if len(codes) == 0 {
		actx := workflow.WithActivityOptions(ctx, durableOptions("list the units that file this month", lookupTimeout, registerRetryMax))
		if err := workflow.ExecuteActivity(actx, ActivityScreeningUnits, ScreeningUnitsRequest{Month: r.Input.Month}).Get(ctx, &codes); err != nil {
			return err
		}
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	for _, code := range codes {
		u, err := lookupUnit(ctx, code, true)
		if err != nil {
			return err
		}
		if u.Code == "" {
			u.Code = code
		}
		r.Info[code] = u
		if p := u.Parent; p != "" {
			if _, ok := r.Info[p]; !ok {
				if pu, err := lookupUnit(ctx, p, true); err == nil {
					r.Info[p] = pu
				} else {
					r.logger.Warn("superior unit unknown; level 3 goes to the unit's own leader", "unit", p, "error", err)
				}
			}
		}
	}
	now := workflow.Now(ctx)
	pol := r.Input.Policy
	r.State.OpenedAt = now
	r.State.DueAt = screeningDue(r.Input.Month, pol, now)
	closeAfter := pol.CloseAfter.Std()
	if closeAfter <= 0 {
		closeAfter = screeningDefaultClose
	}
	r.State.ClosesAt = r.State.DueAt.Add(closeAfter)
	r.Fired = map[string]*ladderFired{}
	for _, code := range codes {
		r.State.Units = append(r.State.Units, ScreeningUnit{Unit: code, Status: ReportPending})
		r.Fired[code] = &ladderFired{}
	}
	r.Ready = true
	r.record(ctx, -1, EventRoundOpened, systemActor, map[string]any{
		"due": r.State.DueAt, "closes_at": r.State.ClosesAt, "units": codes, "policy": pol.Name,
	}, nil, "")
	return nil
}

// screeningDue is the round's due instant: the end of the policy's due day in the round's
// month (Asia/Shanghai; a day past the month's end is its last day), or due_after from now.
func screeningDue(month string, pol ScreeningPolicy, now time.Time) time.Time {
	if pol.DueAfter > 0 {
		return now.Add(pol.DueAfter.Std())
	}
	loc := calendar.Location()
	first, _ := time.ParseInLocation("2006-01", month, loc)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(pol.DueDay, last)+1, 0, 0, 0, 0, loc)
}

func (r *round) unit(code string) (int, bool) {
	for i, u := range r.State.Units {
		if u.Unit == code {
			return i, true
		}
	}
	return -1, false
}

func (r *round) allFiled() bool {
	if !r.Ready {
		return false
	}
	for _, u := range r.State.Units {
		if u.Status == ReportPending {
			return false
		}
	}
	return true
}

// snapshot is a copy later changes cannot reach.
func (r *round) snapshot() ScreeningState {
	s := r.State
	s.Units = slices.Clone(s.Units)
	return s
}

// record appends one event (of unit i, or of the round when i < 0) to the outbox and
// refreshes the Web UI's view. It returns the event's sequence number.
func (r *round) record(ctx workflow.Context, i int, typ string, actor Actor, details map[string]any, disputes []ScreeningDispute, note string) int64 {
	t := ScreeningTransition{Month: r.State.Month, Disputes: disputes, Note: note}
	var seq int64
	if i < 0 {
		r.State.Seq++
		seq = r.State.Seq
	} else {
		u := &r.State.Units[i]
		u.Seq++
		seq = u.Seq
		t.Unit = u.Unit
		rep := *u
		t.Report = &rep
	}
	t.Event = Event{Seq: seq, Type: typ, At: workflow.Now(ctx), Actor: actor, Details: details}
	t.Round = r.State
	t.Round.Units = nil
	r.Outbox = append(r.Outbox, t)
	r.queued++
	r.show(ctx)
	return seq
}

// project hands the outbox to the register in order, in the background. Outages are
// retried inside the activity; a refusal for good is logged and retried after a while.
func (r *round) project(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return len(r.Outbox) > 0 }); err != nil {
			return
		}
		batch := slices.Clone(r.Outbox[:min(len(r.Outbox), maxProjectionBatch)])
		first, last := batch[0], batch[len(batch)-1]
		summary := fmt.Sprintf("record %s %s#%d", first.Event.Type, firstNonEmpty(first.Unit, "round"), first.Event.Seq)
		if len(batch) > 1 {
			summary = fmt.Sprintf("record %d screening events (%s … %s %s)", len(batch), first.Event.Type, last.Event.Type, firstNonEmpty(last.Unit, "round"))
		}
		actx := workflow.WithActivityOptions(ctx, durableOptions(summary, registerTimeout, registerRetryMax))
		err := workflow.ExecuteActivity(actx, ActivityRecordScreening, batch).Get(ctx, nil)
		if err == nil {
			r.Outbox = r.Outbox[len(batch):]
			r.projected += len(batch)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		r.logger.Error("the register refused screening events; retrying later", "type", first.Event.Type, "unit", first.Unit, "error", err)
		retry := workflow.NewTimerWithOptions(ctx, stuckRetryFirst, workflow.TimerOptions{Summary: "retry the refused screening projection"})
		if err := retry.Get(ctx, nil); err != nil {
			return
		}
	}
}

// ---- each unit's clock ----

// nextStep is the first ladder step of unit i that has not fired (Kind "" when none).
func (r *round) nextStep(i int) step {
	u := r.State.Units[i]
	f := r.Fired[u.Unit]
	due := r.State.DueAt
	l := r.Input.Policy.Ladder
	at := func(k stepKind, t time.Time) step { return step{Kind: k, At: t, Raw: t} }
	switch {
	case l.ReminderBefore > 0 && !f.Reminder:
		return at(stepReminder, due.Add(-l.ReminderBefore.Std()))
	case !f.Overdue:
		return at(stepOverdue, due)
	case l.LeaderAfter > 0 && !f.Leader:
		return at(stepLeader, due.Add(l.LeaderAfter.Std()))
	case l.SuperiorAfter > 0 && !f.Superior:
		return at(stepSuperior, due.Add(l.SuperiorAfter.Std()))
	}
	return step{}
}

func screeningStepSummary(k stepKind, unit string) string {
	switch k {
	case stepReminder:
		return "reminder before the screening report is due · " + unit
	case stepOverdue:
		return "screening report due · " + unit
	case stepLeader:
		return "escalate to the unit's leader (screening) · " + unit
	case stepSuperior:
		return "escalate to the superior unit (screening) · " + unit
	}
	return string(k) + " · " + unit
}

// clock runs unit i's ladder until the unit files or the round closes.
func (r *round) clock(ctx workflow.Context, i int) {
	for {
		if r.State.Units[i].Status != ReportPending || r.State.Closed {
			return
		}
		st := r.nextStep(i)
		if st.Kind == "" {
			_ = workflow.Await(ctx, func() bool { return r.State.Units[i].Status != ReportPending || r.State.Closed })
			return
		}
		if wait := st.At.Sub(workflow.Now(ctx)); wait > 0 {
			tctx, cancel := workflow.WithCancel(ctx)
			timer := workflow.NewTimerWithOptions(tctx, wait, workflow.TimerOptions{Summary: screeningStepSummary(st.Kind, r.State.Units[i].Unit)})
			err := workflow.Await(ctx, func() bool {
				return timer.IsReady() || r.State.Units[i].Status != ReportPending || r.State.Closed
			})
			cancel()
			if err != nil || !timer.IsReady() {
				continue // filed or closed: the loop ends
			}
		}
		if r.State.Units[i].Status == ReportPending && !r.State.Closed {
			r.fire(ctx, i, st)
		}
	}
}

// fire performs a ladder step for unit i.
func (r *round) fire(ctx workflow.Context, i int, st step) {
	u := &r.State.Units[i]
	f := r.Fired[u.Unit]
	info := r.Info[u.Unit]
	due := r.State.DueAt
	month := r.State.Month
	switch st.Kind {
	case stepReminder:
		f.Reminder = true
		if !workflow.Now(ctx).Before(due) {
			return // the round opened after the reminder's time and the due instant: the overdue notice says more
		}
		to := firstNonEmpty(info.Head, info.Leader, u.Unit)
		seq := r.record(ctx, i, EventReminderSent, systemActor, map[string]any{"due": due, "recipient": to, "unit": u.Unit}, nil, "")
		r.notify(ctx, u.Unit, seq, "reminder", to, fmt.Sprintf(
			"催办 Reminder: the dispute screening form (矛盾纠纷排查表) of %s is due %s; file it, or a zero report (零报告).", month, shanghai(due)))
		return
	case stepOverdue:
		f.Overdue = true
		u.Overdue = true
		u.EscalationLevel = max(u.EscalationLevel, 1)
		to := firstNonEmpty(info.Head, info.Leader, u.Unit)
		seq := r.record(ctx, i, EventOverdue, systemActor, map[string]any{"due": due, "level": 1, "recipient": to, "unit": u.Unit}, nil, "")
		r.notify(ctx, u.Unit, seq, "supervision", to, fmt.Sprintf(
			"督办 Supervision: unit %s has not filed its dispute screening form of %s, due %s.", u.Unit, month, shanghai(due)))
		return
	}
	level, to, unit := 2, firstNonEmpty(info.Leader, info.Head, u.Unit), u.Unit
	if st.Kind == stepLeader {
		f.Leader = true
	} else {
		f.Superior = true
		level = 3
		if p, ok := r.Info[info.Parent]; ok && info.Parent != "" {
			to, unit = firstNonEmpty(p.Leader, p.Head, p.Code), p.Code
		}
	}
	u.Overdue = true
	u.EscalationLevel = max(u.EscalationLevel, level)
	seq := r.record(ctx, i, EventEscalated, systemActor, map[string]any{"due": due, "level": level, "recipient": to, "unit": unit}, nil, "")
	r.notify(ctx, u.Unit, seq, "escalation", to, fmt.Sprintf(
		"督办升级 Escalation level %d: unit %s still has not filed its dispute screening form of %s (due %s).", level, u.Unit, month, shanghai(due)))
}

// notify delivers a notice in the background, keyed "<round>/<unit>/<seq>" so a receiver can
// drop a repeat; the round waits for it before it ends.
func (r *round) notify(ctx workflow.Context, unit string, seq int64, kind, recipient, message string) {
	n := Notice{
		Key:  ScreeningRoundID(r.State.Month) + "/" + unit + "/" + strconv.FormatInt(seq, 10),
		Kind: "screening_" + kind, Recipient: recipient, Unit: unit, Message: message,
	}
	r.notifying++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { r.notifying-- }()
		if err := notify(ctx, n, true); err != nil {
			r.logger.Warn("notice not delivered", "key", n.Key, "error", err)
		}
	})
}

// close ends the round: every unit without a report is recorded as missed.
func (r *round) close(ctx workflow.Context) {
	missed := []string{}
	for i := range r.State.Units {
		u := &r.State.Units[i]
		if u.Status != ReportPending {
			continue
		}
		u.Status = ReportMissed
		missed = append(missed, u.Unit)
		r.record(ctx, i, EventReportMissed, systemActor, map[string]any{"due": r.State.DueAt, "level": u.EscalationLevel}, nil, "")
	}
	r.State.Closed = true
	reason := "every unit has filed"
	if len(missed) > 0 {
		reason = "the round's time is up"
	}
	r.record(ctx, -1, EventRoundClosed, systemActor, map[string]any{"reason": reason, "missed": missed}, nil, "")
}

// ---- filing (Update) ----

// validateFiling refuses a filing before it reaches history: the round must be open, the
// actor a leader or handler of the filing unit (a leader also for units below theirs), the
// unit asked to file and not filed yet, and the form either a zero report or a list of
// complete lines.
func (r *round) validateFiling(ctx workflow.Context, in ScreeningFiling) error {
	return r.checkFiling(in)
}

func (r *round) checkFiling(in ScreeningFiling) error {
	if !r.Ready {
		return invalidAction("the screening round of %s is still opening; try again in a moment", r.State.Month)
	}
	if r.State.Closed {
		return invalidAction("the screening round of %s has closed; reports are no longer taken", r.State.Month)
	}
	a := in.Actor
	if a.Role != RoleLeader && a.Role != RoleHandler {
		return invalidAction("a screening report is filed by the unit's leader or handler, not by a %s", roleText(a.Role))
	}
	unit := firstNonEmpty(in.Unit, a.Unit)
	i, ok := r.unit(unit)
	if !ok {
		return invalidAction("unit %q is not asked to file in the screening round of %s", unit, r.State.Month)
	}
	if unit != a.Unit && !(a.Role == RoleLeader && slices.Contains(a.Units, unit)) {
		return invalidAction("%s %s of unit %s may not file the report of unit %s", roleText(a.Role), a.ID, a.Unit, unit)
	}
	if u := r.State.Units[i]; u.Status != ReportPending {
		return invalidAction("unit %s has already filed its screening report of %s (%s)", unit, r.State.Month, u.Status)
	}
	return CheckScreeningForm(in.Zero, in.Disputes, in.Note)
}

// CheckScreeningForm checks a form's shape: a zero report lists nothing, any other lists at
// least one complete line. The API runs the same check for its field errors.
func CheckScreeningForm(zero bool, disputes []ScreeningDispute, note string) error {
	switch {
	case zero && len(disputes) > 0:
		return invalidInput("a zero report (零报告) lists no disputes")
	case !zero && len(disputes) == 0:
		return invalidInput("list the disputes and petition signs found, or file a zero report (\"zero\": true)")
	case len(disputes) > MaxScreeningDisputes:
		return invalidInput("at most %d lines per report", MaxScreeningDisputes)
	case utf8.RuneCountInString(note) > maxScreeningNote:
		return invalidInput("note: at most %d characters", maxScreeningNote)
	}
	for n, d := range disputes {
		if msg := ScreeningDisputeProblem(d); msg != "" {
			return invalidInput("disputes[%d]: %s", n, msg)
		}
	}
	return nil
}

// ScreeningDisputeProblem is what is wrong with one line ("" when nothing).
func ScreeningDisputeProblem(d ScreeningDispute) string {
	var p []string
	if d.Kind != DisputeKindDispute && d.Kind != DisputeKindPetitionSign {
		p = append(p, "kind must be dispute or petition_sign")
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"summary", d.Summary, maxScreeningSummary}, {"leader", d.Leader, maxScreeningLeader}, {"plan", d.Plan, maxScreeningPlan}} {
		switch n := utf8.RuneCountInString(strings.TrimSpace(f.v)); {
		case n == 0:
			p = append(p, f.name+" is required")
		case n > f.max:
			p = append(p, fmt.Sprintf("%s: at most %d characters", f.name, f.max))
		}
	}
	if _, err := time.Parse(time.DateOnly, d.TimeLimit); err != nil {
		p = append(p, "time_limit must be a date, e.g. 2026-06-30")
	}
	return strings.Join(p, "; ")
}

// file records a unit's report and answers the round's state once the register has it (or
// after screeningAnswerWait).
func (r *round) file(ctx workflow.Context, in ScreeningFiling) (ScreeningState, error) {
	// Validated again: another filing of the same unit may have been admitted meanwhile.
	if err := r.checkFiling(in); err != nil {
		return r.snapshot(), err
	}
	unit := firstNonEmpty(in.Unit, in.Actor.Unit)
	i, _ := r.unit(unit)
	u := &r.State.Units[i]
	now := workflow.Now(ctx)
	by := in.Actor
	by.Units = nil
	u.FiledAt, u.FiledBy = &now, &by
	u.Late = now.After(r.State.DueAt)
	u.Overdue = false
	event := EventReportFiled
	u.Status, u.Disputes = ReportFiled, len(in.Disputes)
	if in.Zero {
		event, u.Status = EventZeroReport, ReportZero
	}
	details := map[string]any{"disputes": len(in.Disputes), "late": u.Late}
	if u.EscalationLevel > 0 {
		details["escalation_level"] = u.EscalationLevel
	}
	r.record(ctx, i, event, by, details, slices.Clone(in.Disputes), strings.TrimSpace(in.Note))
	target := r.queued
	_, _ = workflow.AwaitWithTimeout(ctx, screeningAnswerWait, func() bool { return r.projected >= target })
	return r.snapshot(), nil
}

// show is the round's current details in the Web UI: who filed, who filed zero, who is late.
func (r *round) show(ctx workflow.Context) {
	s := r.State
	var filed, zero, pending, missed []string
	for _, u := range s.Units {
		name := u.Unit
		if u.EscalationLevel > 0 {
			name += fmt.Sprintf(" (督办 level %d)", u.EscalationLevel)
		}
		switch u.Status {
		case ReportFiled:
			filed = append(filed, name)
		case ReportZero:
			zero = append(zero, name)
		case ReportMissed:
			missed = append(missed, name)
		default:
			pending = append(pending, name)
		}
	}
	list := func(xs []string) string { return firstNonEmpty(strings.Join(xs, ", "), "—") }
	var b strings.Builder
	fmt.Fprintf(&b, "**矛盾纠纷排查 Dispute screening %s** · policy %s", s.Month, s.Policy)
	if s.Closed {
		b.WriteString(" · closed")
	}
	fmt.Fprintf(&b, "\n\n**Due:** %s · **closes:** %s\n\n", shanghai(s.DueAt), shanghai(s.ClosesAt))
	fmt.Fprintf(&b, "**Filed (%d):** %s\n\n**Zero reports 零报告 (%d):** %s\n\n**Not filed yet (%d):** %s\n",
		len(filed), list(filed), len(zero), list(zero), len(pending), list(pending))
	if len(missed) > 0 {
		fmt.Fprintf(&b, "\n**Missed 未报 (%d):** %s\n", len(missed), list(missed))
	}
	workflow.SetCurrentDetails(ctx, b.String())
}
