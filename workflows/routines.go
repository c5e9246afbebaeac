package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"
)

// The bureau's routines on a case (see the contract): assignment with a result report 交办,
// call-backs 回访, co-handling units 成员单位, joint investigation 联查 and the leader in charge 包案.
//
// None of them needs a workflow version: each runs only after its own new update, which no
// history recorded before it contains, and the automatic proposals for joint investigation
// change only the state and the details handed to the register, never a command.

// routineActions are the routines' updates, appended to actions().
func (p *petition) routineActions() []action {
	handled := []Stage{StageHandling}
	answered := []Stage{StageReplied, StageReviewed}
	return []action{
		{UpdateAssign, rule{handled, only(RoleSupervisor), nil}, checkAssign, (*petition).assign},
		{UpdateReportResult, rule{handled, only(RoleHandler, RoleLeader), caseUnit}, checkReportResult, (*petition).reportResult},
		{UpdateReviewResult, rule{handled, only(RoleSupervisor), nil}, checkReviewResult, (*petition).reviewResult},
		{UpdateAddCoUnit, rule{handled, only(RoleSupervisor, RoleLeader), caseUnit}, checkAddCoUnit, (*petition).addCoUnit},
		// co_reply and record_joint_findings check the actor's unit against the co-handling
		// units and the team themselves (several units may act).
		{UpdateCoReply, rule{handled, only(RoleHandler, RoleLeader), nil}, checkCoReply, (*petition).coReply},
		{UpdateRecordCallBack, rule{answered, only(RoleClerk, RoleSupervisor, RoleHandler, RoleLeader), caseUnit}, checkCallBack, (*petition).recordCallBack},
		{UpdateFlagJoint, rule{nil, only(RoleSupervisor), nil}, checkFlagJoint, (*petition).flagJoint},
		{UpdateDecideJoint, rule{nil, only(RoleLeader), officeUnit}, checkDecideJoint, (*petition).decideJoint},
		{UpdateRecordJointFindings, rule{nil, only(RoleSupervisor, RoleHandler, RoleLeader), nil}, checkJointFindings, (*petition).recordJointFindings},
		{UpdateAssignLeader, rule{nil, only(RoleClerk, RoleSupervisor, RoleLeader), nil}, checkAssignLeader, (*petition).assignLeader},
	}
}

// officeUnit is the petition office that registered the case (the first-contact clerk's unit):
// its leaders, and leaders above it, decide on joint investigation.
func officeUnit(p *petition, in ActionInput) string {
	if u := p.Input.RegisteredBy.Unit; u != "" {
		return u
	}
	return in.Actor.Unit // a case started outside the API: any leader
}

// actsFor reports whether actor belongs to unit: their own unit, or for a leader one below it
// (the unit check of every unit-scoped action, validate).
func actsFor(actor Actor, unit string) bool {
	return actor.Unit == unit || actor.Role == RoleLeader && slices.Contains(actor.Units, unit)
}

// ---- assignment 交办 with a result report ----

func checkAssign(p *petition, now time.Time, in ActionInput) error {
	if a := p.State.Assignment; a != nil {
		return invalidAction("assign is not allowed: the case was assigned on %s by %s", dateText(a.At), a.By.ID)
	}
	if err := need(UpdateAssign, "instructions (opinion)", in.Opinion); err != nil {
		return err
	}
	return checkReportDue(UpdateAssign, now, in)
}

func checkReportDue(update string, now time.Time, in ActionInput) error {
	if in.ReportDue != nil && !in.ReportDue.After(now) {
		return invalidInput("%s: report_due must be in the future, not %s", actionName(update), shanghai(*in.ReportDue))
	}
	return nil
}

// assign 交办: the office requires the unit's result report by report_due, by default the
// handling deadline; a report not in by then is overdue (and proposes joint investigation).
func (p *petition) assign(ctx workflow.Context, in ActionInput) error {
	now := workflow.Now(ctx)
	due := p.State.Deadline.Due
	if in.ReportDue != nil {
		due = *in.ReportDue
	}
	details := map[string]any{"instructions": in.Opinion, "report_due": due}
	if in.Unit != "" && in.Unit != p.State.Unit {
		// Assigned to another unit: the case moves there, as a reassignment without a handler
		// (the unit head hears of it and names one); the handling clock runs on.
		if err := p.learnUnit(ctx, in.Unit); err != nil {
			return err
		}
		details["from_unit"] = p.State.Unit
		p.State.Unit, p.State.Handler = in.Unit, ""
	}
	details["unit"] = p.State.Unit
	p.State.Assignment = &Assignment{By: in.Actor, At: now, Instructions: in.Opinion, ReportDue: due, Status: AssignmentAwaiting}
	if err := p.record(ctx, EventAssigned, in.Actor, details); err != nil {
		return err
	}
	p.noticeUnitHead(ctx, NoticeAssignment, p.State.Unit,
		fmt.Sprintf("交办 Case %s is assigned to your unit by the petition office; the result report is due %s: %s",
			p.State.CaseNo, shanghai(due), in.Opinion))
	p.watchAssignment(ctx)
	return nil
}

func checkReportResult(p *petition, _ time.Time, in ActionInput) error {
	a := p.State.Assignment
	switch {
	case a == nil:
		return invalidAction("report result is not allowed: the case was not assigned (交办) by the petition office; reply instead")
	case a.Status == AssignmentReported:
		return invalidAction("report result is not allowed: the last report waits for the petition office's review")
	case a.Status == AssignmentAccepted:
		return invalidAction("report result is not allowed: the petition office accepted the result report; reply to the petitioner")
	}
	return need(UpdateReportResult, "the result (opinion)", in.Opinion)
}

func (p *petition) reportResult(ctx workflow.Context, in ActionInput) error {
	a := p.cloneAssignment()
	now := workflow.Now(ctx)
	a.Reports = append(a.Reports, ResultReport{Opinion: in.Opinion, By: in.Actor, At: now})
	a.Status = AssignmentReported
	p.State.Assignment = a
	late := now.After(a.ReportDue)
	if err := p.record(ctx, EventResultReported, in.Actor, map[string]any{
		"opinion": in.Opinion, "report": len(a.Reports), "late": late,
	}); err != nil {
		return err
	}
	p.notify(ctx, p.State.Seq, NoticeAssignment, a.By.ID, a.By.Unit,
		fmt.Sprintf("交办 Case %s: unit %s reported its result; review it", p.State.CaseNo, p.State.Unit))
	return nil
}

func checkReviewResult(p *petition, now time.Time, in ActionInput) error {
	if a := p.State.Assignment; a == nil || a.Status != AssignmentReported {
		return invalidAction("review result is not allowed: no result report waits for review")
	}
	if in.Approved == nil {
		return invalidInput("review result needs approved (true: accept the report, false: send it back)")
	}
	if !*in.Approved {
		if err := need(UpdateReviewResult, "the reasons for sending it back (reason)", in.Reason); err != nil {
			return err
		}
	}
	return checkReportDue(UpdateReviewResult, now, in)
}

// reviewResult: an accepted report lets the reply go to the petitioner; a report sent back
// awaits a new one, by a new limit when given.
func (p *petition) reviewResult(ctx workflow.Context, in ActionInput) error {
	a := p.cloneAssignment()
	now := workflow.Now(ctx)
	last := &a.Reports[len(a.Reports)-1]
	ok := *in.Approved
	last.Accepted, last.Reason, last.ReviewedBy, last.ReviewedAt = &ok, in.Reason, &in.Actor, &now
	details := map[string]any{"approved": ok, "report": len(a.Reports)}
	if in.Reason != "" {
		details["reason"] = in.Reason
	}
	if ok {
		a.Status = AssignmentAccepted
	} else {
		a.Status = AssignmentAwaiting
		if in.ReportDue != nil {
			a.ReportDue, a.Overdue = *in.ReportDue, false
			p.assignGen++
		}
		details["report_due"] = a.ReportDue
	}
	p.State.Assignment = a
	if err := p.record(ctx, EventResultReviewed, in.Actor, details); err != nil {
		return err
	}
	msg := fmt.Sprintf("交办 Case %s: the petition office accepted the result report; reply to the petitioner", p.State.CaseNo)
	if !ok {
		msg = fmt.Sprintf("交办 Case %s: the petition office sent the result report back (due %s): %s", p.State.CaseNo, shanghai(a.ReportDue), in.Reason)
		p.watchAssignment(ctx)
	}
	p.notify(ctx, p.State.Seq, NoticeAssignment, firstNonEmpty(p.State.Handler, p.Units[p.State.Unit].Head), p.State.Unit, msg)
	return nil
}

func (p *petition) cloneAssignment() *Assignment {
	a := *p.State.Assignment
	a.Reports = slices.Clone(a.Reports)
	return &a
}

// watchAssignment waits in the background for the result report's due instant: a report not
// in by then makes the assignment overdue (criterion 5 of joint investigation) and tells the
// unit head. A report, a new limit or the case's end stops the wait. A continued run watches
// again (restore).
func (p *petition) watchAssignment(ctx workflow.Context) {
	a := p.State.Assignment
	if a == nil || a.Overdue || a.Status != AssignmentAwaiting {
		return
	}
	gen, due := p.assignGen, a.ReportDue
	waiting := func() bool {
		a := p.State.Assignment
		return p.assignGen == gen && !p.State.Stage.Final() && a.Status == AssignmentAwaiting && !a.Overdue
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		if wait := due.Sub(workflow.Now(ctx)); wait > 0 {
			changed, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
				Timeout:      wait,
				TimerOptions: workflow.TimerOptions{Summary: "result report due (交办)"},
			}, func() bool { return !waiting() })
			if err != nil || changed {
				return
			}
		}
		err := p.locked(ctx, func(ctx workflow.Context) error {
			if !waiting() {
				return nil
			}
			a := p.cloneAssignment()
			a.Overdue = true
			p.State.Assignment = a
			if err := p.record(ctx, EventAssignmentOverdue, systemActor, map[string]any{"report_due": a.ReportDue, "unit": p.State.Unit}); err != nil {
				return err
			}
			p.noticeUnitHead(ctx, NoticeAssignment, p.State.Unit,
				fmt.Sprintf("督办 Case %s: the result report the petition office required by %s is overdue", p.State.CaseNo, shanghai(a.ReportDue)))
			// The assigning supervisor too: the case is now proposed for joint investigation.
			p.noticeKeyed(ctx, fmt.Sprintf("%s/%d/%s", p.State.CaseNo, p.State.Seq, a.By.ID), NoticeAssignment, a.By.ID, a.By.Unit,
				fmt.Sprintf("交办 Case %s: unit %s's result report is overdue (due %s); proposed for joint investigation (联查)", p.State.CaseNo, p.State.Unit, shanghai(a.ReportDue)))
			return nil
		})
		if err != nil {
			p.logger.Error("assignment overdue not recorded", "error", err)
		}
	})
}

// noticeUnitHead tells a unit's head (or leader; else the registering clerk), as the one notice
// of the event just recorded (its key is the case and the event's seq).
func (p *petition) noticeUnitHead(ctx workflow.Context, kind, unit, msg string) {
	p.notify(ctx, p.State.Seq, kind, p.headOf(unit), unit, msg)
}

func (p *petition) headOf(unit string) string {
	u := p.Units[unit]
	return firstNonEmpty(u.Head, u.Leader, p.Input.RegisteredBy.ID)
}

// noticeKeyed sends one of several notices of an event, each under its own key, so the
// receiver tells a repeated delivery from another recipient's notice (also the warnings').
func (p *petition) noticeKeyed(ctx workflow.Context, key, kind, recipient, unit, msg string) {
	n := Notice{Key: key, CaseNo: p.State.CaseNo, Kind: kind, Recipient: recipient, Unit: unit, Message: msg}
	p.Notices = append(p.Notices, n)
	p.deliver(ctx, n)
}

// replyWaits is why the reply to the petitioner must wait: an assigned case's result report
// not accepted yet, or co-handling units that have not replied to the lead. "" when it may go.
func (p *petition) replyWaits() string {
	if a := p.State.Assignment; a != nil && a.Status != AssignmentAccepted {
		return "the petition office assigned the case (交办) and must accept the unit's result report first (report result, then review result)"
	}
	var missing []string
	for _, c := range p.State.CoUnits {
		if c.RepliedAt == nil {
			missing = append(missing, c.Unit)
		}
	}
	if len(missing) > 0 {
		return "the co-handling units " + strings.Join(missing, ", ") + " have not replied to the lead unit yet (co reply)"
	}
	return ""
}

// ---- co-handling units 牵头 + 成员单位 ----

func checkAddCoUnit(p *petition, _ time.Time, in ActionInput) error {
	if err := needAll(UpdateAddCoUnit, "a unit", in.Unit, "its part (opinion)", in.Opinion); err != nil {
		return err
	}
	if in.Unit == p.State.Unit {
		return invalidInput("add co unit: unit %q leads the case already", in.Unit)
	}
	if slices.ContainsFunc(p.State.CoUnits, func(c CoUnit) bool { return c.Unit == in.Unit }) {
		return invalidInput("add co unit: unit %q co-handles the case already", in.Unit)
	}
	return nil
}

func (p *petition) addCoUnit(ctx workflow.Context, in ActionInput) error {
	if err := p.learnUnit(ctx, in.Unit); err != nil {
		return err
	}
	co := CoUnit{Unit: in.Unit, Part: in.Opinion, AddedBy: in.Actor, AddedAt: workflow.Now(ctx)}
	p.State.CoUnits = append(slices.Clip(p.State.CoUnits), co)
	if err := p.record(ctx, EventCoUnitAdded, in.Actor, map[string]any{
		"unit": in.Unit, "part": in.Opinion, "lead_unit": p.State.Unit,
	}); err != nil {
		return err
	}
	p.noticeUnitHead(ctx, NoticeAssignment, in.Unit,
		fmt.Sprintf("Case %s: your unit co-handles it with lead unit %s; your part: %s", p.State.CaseNo, p.State.Unit, in.Opinion))
	return nil
}

// coUnitOf is the index of the co-handling unit actor replies for (-1: none).
func (p *petition) coUnitOf(actor Actor) int {
	return slices.IndexFunc(p.State.CoUnits, func(c CoUnit) bool { return actsFor(actor, c.Unit) && c.RepliedAt == nil })
}

func checkCoReply(p *petition, _ time.Time, in ActionInput) error {
	if len(p.State.CoUnits) == 0 {
		return invalidAction("co reply is not allowed: the case has no co-handling units")
	}
	if p.coUnitOf(in.Actor) < 0 {
		if slices.ContainsFunc(p.State.CoUnits, func(c CoUnit) bool { return actsFor(in.Actor, c.Unit) }) {
			return invalidAction("co reply is not allowed: unit %q replied to the lead unit already", in.Actor.Unit)
		}
		return invalidAction("%s %s of unit %q cannot take co reply: the unit does not co-handle the case", in.Actor.Role, in.Actor.ID, in.Actor.Unit)
	}
	return need(UpdateCoReply, "the unit's reply (opinion)", in.Opinion)
}

func (p *petition) coReply(ctx workflow.Context, in ActionInput) error {
	i := p.coUnitOf(in.Actor)
	now := workflow.Now(ctx)
	units := slices.Clone(p.State.CoUnits)
	units[i].Reply, units[i].RepliedBy, units[i].RepliedAt = in.Opinion, &in.Actor, &now
	p.State.CoUnits = units
	if err := p.record(ctx, EventCoReplied, in.Actor, map[string]any{"unit": units[i].Unit, "opinion": in.Opinion}); err != nil {
		return err
	}
	p.notify(ctx, p.State.Seq, NoticeAssignment, firstNonEmpty(p.State.Handler, p.Units[p.State.Unit].Head), p.State.Unit,
		fmt.Sprintf("Case %s: co-handling unit %s replied on its part", p.State.CaseNo, units[i].Unit))
	return nil
}

// ---- call-backs 回访 ----

func checkCallBack(_ *petition, _ time.Time, in ActionInput) error {
	if in.Reached == nil {
		return invalidInput("record call back needs reached (true or false: whether the petitioner was reached)")
	}
	switch in.Evaluation {
	case "":
	case EvaluationSatisfied, EvaluationBasicSatisfied, EvaluationDissatisfied:
		if !*in.Reached {
			return invalidInput("record call back: an evaluation needs the petitioner reached")
		}
	default:
		return invalidInput("record call back: evaluation must be %s, %s or %s",
			EvaluationSatisfied, EvaluationBasicSatisfied, EvaluationDissatisfied)
	}
	return nil
}

// recordCallBack 回访: a reached petitioner's evaluation counts as the evaluation of the answer
// when they have not evaluated it themselves, with the same effect (satisfied closes the case).
func (p *petition) recordCallBack(ctx workflow.Context, in ActionInput) error {
	cb := CallBack{At: workflow.Now(ctx), By: in.Actor, Reached: *in.Reached, Evaluation: in.Evaluation, Notes: in.Reason}
	p.State.CallBacks = append(slices.Clip(p.State.CallBacks), cb)
	counts := cb.Evaluation != "" && !p.petitionerEvaluated()
	details := map[string]any{"reached": cb.Reached, "call_back": len(p.State.CallBacks)}
	if cb.Evaluation != "" {
		details["evaluation"], details["counts_as_evaluation"] = cb.Evaluation, counts
	}
	if cb.Notes != "" {
		details["notes"] = cb.Notes
	}
	if err := p.record(ctx, EventCallBackRecorded, in.Actor, details); err != nil {
		return err
	}
	if !counts {
		return nil
	}
	return p.takeEvaluation(ctx, in.Actor, cb.Evaluation, EvaluationByCallBack)
}

// petitionerEvaluated: the petitioner evaluated the current answer themselves.
func (p *petition) petitionerEvaluated() bool {
	return p.State.EvaluationSource == EvaluationByPetitioner && !p.PetitionerEvaluatedAt.Before(p.answeredAt())
}

// answeredAt is when the current answer was recorded (before version service-date: the reply).
func (p *petition) answeredAt() time.Time {
	if !p.AnsweredAt.IsZero() {
		return p.AnsweredAt
	}
	if p.State.RepliedAt != nil {
		return *p.State.RepliedAt
	}
	return time.Time{}
}

// ---- joint investigation 联查 ----

func jointCriterion(code string) (JointCriterion, bool) {
	i := slices.IndexFunc(JointCriteria, func(c JointCriterion) bool { return c.Code == code })
	if i < 0 {
		return JointCriterion{}, false
	}
	return JointCriteria[i], true
}

func (p *petition) jointFlagged(code string) bool {
	j := p.State.Joint
	return j != nil && slices.ContainsFunc(j.Flags, func(f JointFlag) bool { return f.Criterion == code })
}

func checkFlagJoint(p *petition, _ time.Time, in ActionInput) error {
	c, ok := jointCriterion(in.Criterion)
	var manual []string
	for _, c := range JointCriteria {
		if !c.Auto {
			manual = append(manual, c.Code)
		}
	}
	switch {
	case in.Criterion == "" || !ok:
		return invalidInput("flag joint investigation needs a criterion: %s", strings.Join(manual, ", "))
	case c.Auto:
		return invalidInput("flag joint investigation: criterion %s is proposed by the system from what it sees; a supervisor sets %s",
			c.Code, strings.Join(manual, ", "))
	case p.jointFlagged(c.Code):
		return invalidAction("flag joint investigation is not allowed: criterion %s is set already", c.Code)
	}
	if j := p.State.Joint; j != nil && (j.Status == JointApproved || j.Status == JointConcluded) {
		return invalidAction("flag joint investigation is not allowed: the case is in joint investigation already (%s)", j.Status)
	}
	return need(UpdateFlagJoint, "a reason", in.Reason)
}

func (p *petition) flagJoint(ctx workflow.Context, in ActionInput) error {
	p.addJointFlags(JointFlag{Criterion: in.Criterion, Reason: in.Reason, By: in.Actor.ID, At: workflow.Now(ctx)})
	return p.record(ctx, EventJointFlagged, in.Actor, map[string]any{"criterion": in.Criterion, "reason": in.Reason})
}

// addJointFlags sets criteria on the case; a case not in joint investigation (or declined)
// becomes proposed for it.
func (p *petition) addJointFlags(flags ...JointFlag) {
	j := JointInvestigation{}
	if p.State.Joint != nil {
		j = *p.State.Joint
	}
	j.Flags = append(slices.Clone(j.Flags), flags...)
	if j.Status == "" || j.Status == JointDeclined {
		j.Status = JointProposed
	}
	p.State.Joint = &j
}

// proposeJoint proposes the criteria the workflow can see with an event it is about to record
// (record calls it): skip-level and group petitions (from their warnings) and long-standing
// ones (open longer than the policy's LongStandingAfter), criterion 2; a repeat petition after
// the answer or over the repeat threshold, criterion 4; an overdue result report, criterion 5.
// Each criterion once. The proposal is written into the event's details (DetailJointProposed)
// and the state; no command is added, so histories recorded before it replay unchanged.
func (p *petition) proposeJoint(now time.Time, typ string, details map[string]any) map[string]any {
	if p.State.Stage.Final() {
		return details
	}
	var found []JointFlag
	add := func(code, reason string) {
		if !p.jointFlagged(code) && !slices.ContainsFunc(found, func(f JointFlag) bool { return f.Criterion == code }) {
			found = append(found, JointFlag{Criterion: code, Auto: true, Reason: reason, By: systemActor.ID, At: now})
		}
	}
	switch typ {
	case EventWarningRaised: // the rule codes of internal/warning
		switch details["rule"] {
		case "skip_level":
			add(JointSkipGroupLong, "skip-level petition (越级访)")
		case "group":
			add(JointSkipGroupLong, "group petition (集体访)")
		case "repeat":
			add(JointRepeatAfterHandling, "repeat petitions over the threshold (重信重访)")
		}
	case EventRepeatLinked:
		if p.State.RepliedAt != nil {
			add(JointRepeatAfterHandling, "petitioned again after the answer (已作处理仍信访)")
		}
	case EventAssignmentOverdue:
		add(JointAssignmentOverdue, "the assigned case's result report is overdue (交办件逾期未报结果)")
	}
	long := p.Input.Policy.LongStandingAfter.Std()
	if long <= 0 {
		long = DefaultLongStandingAfter
	}
	if !p.State.ReceivedAt.IsZero() && now.Sub(p.State.ReceivedAt) >= long {
		add(JointSkipGroupLong, fmt.Sprintf("open since %s (上访老户)", dateText(p.State.ReceivedAt)))
	}
	if len(found) == 0 {
		return details
	}
	p.addJointFlags(found...)
	codes := make([]string, len(found))
	for i, f := range found {
		codes[i] = f.Criterion
	}
	if details == nil {
		details = map[string]any{}
	}
	details[DetailJointProposed] = codes
	return details
}

func checkDecideJoint(p *petition, _ time.Time, in ActionInput) error {
	j := p.State.Joint
	if j == nil || j.Status != JointProposed {
		what := "no criterion is set on the case"
		if j != nil {
			what = "the joint investigation is " + j.Status
		}
		return invalidAction("decide joint investigation is not allowed: %s", what)
	}
	if in.Approved == nil {
		return invalidInput("decide joint investigation needs approved (true or false)")
	}
	if !*in.Approved {
		return need(UpdateDecideJoint, "a reason", in.Reason)
	}
	if len(in.Units) == 0 {
		return invalidInput("decide joint investigation needs the team's units (units)")
	}
	if len(in.Units) > 20 {
		return invalidInput("decide joint investigation: a team has at most 20 units")
	}
	for _, u := range in.Units {
		if strings.TrimSpace(u) == "" || len(u) > 64 || badText(ActionInput{Unit: u}) != "" {
			return invalidInput("decide joint investigation: units must be unit codes")
		}
	}
	return nil
}

// decideJoint: an approved case goes into joint investigation with its team (the handling unit
// leads it); each team unit's head is told. A declined one waits for a new criterion.
func (p *petition) decideJoint(ctx workflow.Context, in ActionInput) error {
	j := *p.State.Joint
	now := workflow.Now(ctx)
	j.DecidedBy, j.DecidedAt, j.Reason = &in.Actor, &now, in.Reason
	details := map[string]any{"approved": *in.Approved}
	if in.Reason != "" {
		details["reason"] = in.Reason
	}
	if *in.Approved {
		var team []string
		for _, u := range in.Units {
			if !slices.Contains(team, u) {
				team = append(team, u)
			}
		}
		for _, u := range team {
			if err := p.learnUnit(ctx, u); err != nil {
				return err
			}
		}
		j.Status, j.Team = JointApproved, team
		details["team"] = team
	} else {
		j.Status = JointDeclined
	}
	p.State.Joint = &j
	if err := p.record(ctx, EventJointDecided, in.Actor, details); err != nil {
		return err
	}
	for _, u := range j.Team {
		if *in.Approved {
			p.noticeKeyed(ctx, fmt.Sprintf("%s/%d/%s", p.State.CaseNo, p.State.Seq, u), NoticeJointInvestigation, p.headOf(u), u,
				fmt.Sprintf("联查 Case %s is approved for joint investigation; your unit is on the team (%s)", p.State.CaseNo, strings.Join(j.Team, ", ")))
		}
	}
	return nil
}

func checkJointFindings(p *petition, _ time.Time, in ActionInput) error {
	j := p.State.Joint
	if j == nil || j.Status != JointApproved {
		return invalidAction("record joint findings is not allowed: the case is not in joint investigation")
	}
	if in.Actor.Role != RoleSupervisor && !slices.ContainsFunc(j.Team, func(u string) bool { return actsFor(in.Actor, u) }) {
		return invalidAction("%s %s of unit %q cannot take record joint findings: the unit is not on the team (%s)",
			in.Actor.Role, in.Actor.ID, in.Actor.Unit, strings.Join(j.Team, ", "))
	}
	return need(UpdateRecordJointFindings, "the findings (opinion)", in.Opinion)
}

func (p *petition) recordJointFindings(ctx workflow.Context, in ActionInput) error {
	j := *p.State.Joint
	now := workflow.Now(ctx)
	j.Status, j.Findings, j.FindingsBy, j.FindingsAt = JointConcluded, in.Opinion, &in.Actor, &now
	p.State.Joint = &j
	return p.record(ctx, EventJointFindings, in.Actor, map[string]any{"findings": in.Opinion})
}

// ---- the leader in charge 包案 ----

func checkAssignLeader(p *petition, _ time.Time, in ActionInput) error {
	if err := need(UpdateAssignLeader, "a leader", in.Leader); err != nil {
		return err
	}
	if in.Leader == p.State.Leader {
		return invalidInput("assign leader changes nothing: %s is in charge already", in.Leader)
	}
	return nil
}

func (p *petition) assignLeader(ctx workflow.Context, in ActionInput) error {
	from := p.State.Leader
	p.State.Leader = in.Leader
	details := map[string]any{"leader": in.Leader}
	if from != "" {
		details["from_leader"] = from
	}
	if in.Reason != "" {
		details["reason"] = in.Reason
	}
	return p.record(ctx, EventLeaderAssigned, in.Actor, details)
}

// routineDetails adds the routines to the Web UI's current details, so a supervisor reads
// there what the case waits for besides its clock.
func (p *petition) routineDetails(b *strings.Builder) {
	s := p.State
	if s.Leader != "" {
		fmt.Fprintf(b, "\n**Leader in charge (包案):** %s\n", s.Leader)
	}
	if a := s.Assignment; a != nil {
		fmt.Fprintf(b, "\n**Assigned (交办):** %s, result report due %s", a.Status, shanghai(a.ReportDue))
		if a.Overdue {
			b.WriteString(" · overdue")
		}
		b.WriteString("\n")
	}
	if len(s.CoUnits) > 0 {
		parts := make([]string, len(s.CoUnits))
		for i, c := range s.CoUnits {
			state := "awaiting its reply"
			if c.RepliedAt != nil {
				state = "replied"
			}
			parts[i] = c.Unit + " (" + state + ")"
		}
		fmt.Fprintf(b, "\n**Co-handling units (协办):** %s\n", strings.Join(parts, ", "))
	}
	if j := s.Joint; j != nil {
		criteria := make([]string, len(j.Flags))
		for i, f := range j.Flags {
			criteria[i] = f.Criterion
		}
		fmt.Fprintf(b, "\n**Joint investigation (联查):** %s · criteria %s", j.Status, strings.Join(criteria, ", "))
		if len(j.Team) > 0 {
			fmt.Fprintf(b, " · team %s", strings.Join(j.Team, ", "))
		}
		b.WriteString("\n")
	}
	if n := len(s.CallBacks); n > 0 {
		fmt.Fprintf(b, "\n**Call-backs (回访):** %d\n", n)
	}
}
