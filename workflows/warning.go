package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/petitions/petitions/internal/calendar"
)

// Early warning (预警): when a case is registered or changes in a way the rules look at, the
// workflow asks ActivityEvaluateWarnings (a local activity: one marker in the history) which
// rules fire, and raises each new one once per case: a warning_raised event (rule and reason,
// no personal data), the PetitionWarnings search attribute, and a notice to the petition
// office's supervisors keyed by case and rule. The rules themselves are data
// (internal/warning), read by the worker; the workflow only remembers what it raised.

// versionWarnings: runs from this version on evaluate warnings. Histories without the marker
// (cases that ran before it) never call the activity, so they replay as they were written.
const versionWarnings = "warnings"

// warningTriggers are the events after which the rules are evaluated: the case appears, its
// competent unit changes, or the petitioner comes back.
var warningTriggers = map[string]bool{
	EventRegistered:        true,
	EventAccepted:          true,
	EventForwarded:         true,
	EventReassigned:        true,
	EventRepeatLinked:      true,
	EventReviewRequested:   true,
	EventReReviewRequested: true,
}

// warnState remembers the "warnings" version decision of a run (decided at its first trigger)
// and what the last evaluation of the run was asked about.
type warnState struct {
	decided, on bool
	last        string
	// lodged: the register knows the level the petition was lodged at (last answer), so the
	// competent unit matters to the rules.
	lodged bool
}

// warningFacts is what the workflow itself knows of the rules' facts: the competent unit, the
// repeats and the day (Asia/Shanghai); the unit only when the petition's lodged level is
// known (else no unit can make it a skip-level petition). A trigger that changes none of them
// (a case accepted the day it was registered) is not evaluated again: each evaluation costs a
// marker in the history. The register's facts (the petitioner's open cases) are then looked
// at again with the next change.
func (p *petition) warningFacts(ctx workflow.Context) string {
	day := workflow.Now(ctx).In(calendar.Location()).Format(time.DateOnly)
	unit := "*"
	if p.warn.lodged || p.warn.last == "" {
		unit = p.State.Unit
	}
	return fmt.Sprintf("%s|%d|%s", unit, p.State.RepeatCount, day)
}

// warningsOn: this run evaluates warnings (version "warnings"; outbox runs only).
func (p *petition) warningsOn(ctx workflow.Context) bool {
	if !p.outbox {
		return false
	}
	if !p.warn.decided {
		p.warn.decided = true
		p.warn.on = workflow.GetVersion(ctx, versionWarnings, workflow.DefaultVersion, 1) == 1
	}
	return p.warn.on
}

// afterRecord evaluates the warning rules after an event that may raise one. A failed
// evaluation is logged and the case goes on: a warning must never hold up a case, and the
// next change evaluates again.
func (p *petition) afterRecord(ctx workflow.Context, typ string) error {
	if !warningTriggers[typ] || !p.warningsOn(ctx) {
		return nil
	}
	facts := p.warningFacts(ctx)
	if facts == p.warn.last {
		return nil
	}
	p.warn.last = facts
	req := WarningRequest{
		CaseNo:      p.State.CaseNo,
		Event:       typ,
		Unit:        p.State.Unit,
		GroupSize:   p.Input.GroupSize,
		RepeatCount: p.State.RepeatCount,
		At:          workflow.Now(ctx),
		Office:      p.Input.RegisteredBy.Unit,
		Raised:      slices.Clone(p.State.Warnings),
	}
	lctx := workflow.WithLocalActivityOptions(ctx, localOptions("evaluate warnings after "+typ, 3))
	var ans WarningAnswer
	if err := workflow.ExecuteLocalActivity(lctx, ActivityEvaluateWarnings, req).Get(ctx, &ans); err != nil {
		p.logger.Warn("warning rules not evaluated; the next change evaluates them again", "event", typ, "error", err)
		p.warn.last = ""
		return nil
	}
	p.warn.lodged = ans.LodgedLevel != ""
	if !p.warn.lodged {
		p.warn.last = p.warningFacts(ctx) // the unit no longer counts
	}
	for _, w := range ans.Warnings {
		if w.Rule == "" || slices.Contains(p.State.Warnings, w.Rule) {
			continue
		}
		// A new array: snapshots of the state taken before share none of it.
		p.State.Warnings = append(slices.Clip(p.State.Warnings), w.Rule)
		if err := p.record(ctx, EventWarningRaised, systemActor, map[string]any{"rule": w.Rule, "reason": w.Reason}); err != nil {
			return err
		}
		p.noticeWarning(ctx, w, ans.Supervisors)
	}
	return nil
}

// noticeWarning tells the petition office's supervisors at once, one notice each, keyed by
// case, rule and recipient, so a repeated delivery is recognised. Without a supervisor on
// record the office itself is told.
func (p *petition) noticeWarning(ctx workflow.Context, w RaisedWarning, supervisors []string) {
	office := p.Input.RegisteredBy.Unit
	recipients := supervisors
	if len(recipients) == 0 {
		recipients = []string{""}
	}
	for _, to := range recipients {
		p.noticeKeyed(ctx, p.State.CaseNo+"/warning/"+w.Rule+"/"+to, NoticeWarning, to, office,
			fmt.Sprintf("预警 early warning on case %s: %s (%s)", p.State.CaseNo, w.Rule, w.Reason))
	}
}

// warningAttributes is the PetitionWarnings search attribute, set once a warning is raised
// (cases without one leave it unset, as runs before warnings did).
func (p *petition) warningAttributes() []temporal.SearchAttributeUpdate {
	if len(p.State.Warnings) == 0 {
		return nil
	}
	return []temporal.SearchAttributeUpdate{SearchWarnings.ValueSet(slices.Clone(p.State.Warnings))}
}
