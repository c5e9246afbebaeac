package workflows_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/petitions/petitions/internal/warning"
	"github.com/petitions/petitions/workflows"
)

// EvaluateWarnings stands in for the activity: f.warn answers (nil: no warning).
func (f *fakes) EvaluateWarnings(_ context.Context, req workflows.WarningRequest) (workflows.WarningAnswer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.warnRequests = append(f.warnRequests, req)
	if f.warn == nil {
		return workflows.WarningAnswer{}, nil
	}
	return f.warn(req), nil
}

// register is what the fake register knows of a case for the rules.
type warnRegister struct {
	rules     warning.Rules
	lodged    string
	levels    map[string]string // unit → level
	openCases int
}

// evaluate answers as the activity does: the facts from the request and the register, the
// real rules, the rules raised already left out, the office's supervisor to tell.
func (w warnRegister) evaluate(req workflows.WarningRequest) workflows.WarningAnswer {
	facts := warning.Facts{
		GroupSize: req.GroupSize, RepeatCount: req.RepeatCount, At: req.At,
		LodgedLevel: w.lodged, CompetentLevel: w.levels[req.Unit], OpenCases: max(w.openCases, 1),
	}
	var ans workflows.WarningAnswer
	for _, x := range w.rules.EvaluateNew(facts, req.Raised) {
		ans.Warnings = append(ans.Warnings, workflows.RaisedWarning{Rule: x.Rule, Reason: x.Reason})
	}
	if len(ans.Warnings) > 0 {
		ans.Supervisors = []string{"sup1"}
	}
	ans.LodgedLevel = w.lodged
	return ans
}

// withoutDates is the built-in table without the sensitive-date rule (the tests start on
// 2 March, within the two sessions).
func withoutDates() warning.Rules {
	r := warning.Default()
	r.Rules = slices.DeleteFunc(slices.Clone(r.Rules), func(x warning.Rule) bool { return x.Code == warning.RuleSensitiveDate })
	return r
}

// warningRun registers a case the register answers about with w; the test then accepts it
// (a second evaluation) and withdraws it.
func warningRun(t *testing.T, w warnRegister, setup func(r *run)) *run {
	r := newRun(t)
	r.f.warn = w.evaluate
	if setup != nil {
		setup(r)
	}
	r.act(sec(1), workflows.UpdateAccept, workflows.ActionInput{Actor: clerk, Unit: "construction", Handler: "h1"})
	r.act(sec(3), workflows.UpdateWithdraw, workflows.ActionInput{Actor: petitioner, Reason: "settled"})
	return r
}

// raisedOnce checks that exactly one warning was raised, of rule, right after the event
// after, and that the supervisors heard of it once.
func raisedOnce(t *testing.T, r *run, rule, after string) workflows.Transition {
	t.Helper()
	var raised []workflows.Transition
	for i, tr := range r.f.transitions {
		if tr.Event.Type != workflows.EventWarningRaised {
			continue
		}
		raised = append(raised, tr)
		if i == 0 || r.f.transitions[i-1].Event.Type != after {
			t.Errorf("warning raised after %v, want right after %s", types(r.f.transitions[:i]), after)
		}
	}
	if len(raised) != 1 {
		t.Fatalf("%d warnings raised, want 1: %v", len(raised), types(r.f.transitions))
	}
	w := raised[0]
	if w.Event.Details["rule"] != rule || w.Event.Actor.Role != workflows.RoleSystem {
		t.Errorf("warning %v by %v, want rule %s by the system", w.Event.Details, w.Event.Actor, rule)
	}
	if reason, _ := w.Event.Details["reason"].(string); reason == "" {
		t.Error("warning without a reason")
	}
	var notices []workflows.Notice
	for _, n := range r.f.notices {
		if n.Kind == workflows.NoticeWarning {
			notices = append(notices, n)
		}
	}
	if len(notices) != 1 {
		t.Fatalf("%d warning notices, want 1: %v", len(notices), r.noticesTo())
	}
	n := notices[0]
	if n.Recipient != "sup1" || n.Unit != clerk.Unit || n.Key != caseNo+"/warning/"+rule+"/sup1" || !strings.Contains(n.Message, rule) {
		t.Errorf("notice %+v", n)
	}
	// The rule is passed back as raised, so a later evaluation leaves it out.
	if last := r.f.warnRequests[len(r.f.warnRequests)-1]; last.Event != after && !slices.Contains(last.Raised, rule) {
		t.Errorf("last evaluation after %s had raised %v, want %s among them", last.Event, last.Raised, rule)
	}
	return w
}

func TestWarningGroupPetitionRaisedOnceAtRegistration(t *testing.T) {
	var upserts []temporal.SearchAttributes
	r := warningRun(t, warnRegister{rules: withoutDates()}, func(r *run) {
		r.input.GroupSize = warning.GroupPetitionSize
		r.env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Run(func(args mock.Arguments) {
			upserts = append(upserts, args.Get(0).(temporal.SearchAttributes))
		})
	})
	r.execute()
	w := raisedOnce(t, r, warning.RuleGroup, workflows.EventRegistered)
	if w.Event.Seq != 2 || w.Event.At != t0 {
		t.Errorf("group warning #%d at %s, want #2 at registration", w.Event.Seq, w.Event.At)
	}
	if got := w.Event.Details["reason"]; got != "group petition of 5 people (5 or more)" {
		t.Errorf("reason %q", got)
	}
	// Evaluated at registration only: acceptance into the unit it was routed to, the same
	// day, changes nothing the rules see; withdrawal is no trigger.
	var events []string
	for _, req := range r.f.warnRequests {
		events = append(events, req.Event)
	}
	if strings.Join(events, " ") != "registered" {
		t.Errorf("evaluated after %v", events)
	}
	// The search attribute from the warning on; before it, unset.
	if len(upserts) != len(r.f.transitions) {
		t.Fatalf("%d upserts for %d transitions", len(upserts), len(r.f.transitions))
	}
	if upserts[0].ContainsKey(workflows.SearchWarnings) {
		t.Error("PetitionWarnings set before the warning")
	}
	for _, sa := range upserts[1:] {
		if v, _ := sa.GetKeywordList(workflows.SearchWarnings); !slices.Equal(v, []string{"group"}) {
			t.Errorf("PetitionWarnings = %v, want [group]", v)
		}
	}
}

func TestWarningNoneBelowTheGroupSize(t *testing.T) {
	r := warningRun(t, warnRegister{rules: withoutDates()}, func(r *run) { r.input.GroupSize = warning.GroupPetitionSize - 1 })
	r.execute()
	for _, tr := range r.f.transitions {
		if tr.Event.Type == workflows.EventWarningRaised {
			t.Errorf("warning raised: %v", tr.Event.Details)
		}
	}
	if len(r.f.notices) > 0 && slices.Contains(r.noticesTo(), workflows.NoticeWarning+":sup1") {
		t.Errorf("notices %v", r.noticesTo())
	}
}

func TestWarningSkipLevelRaisedOnce(t *testing.T) {
	// Lodged at the city; the construction bureau is a district unit.
	r := warningRun(t, warnRegister{rules: withoutDates(), lodged: warning.LevelCity,
		levels: map[string]string{"construction": warning.LevelDistrict}}, nil)
	r.execute()
	raisedOnce(t, r, warning.RuleSkipLevel, workflows.EventRegistered)
}

func TestWarningSkipLevelRaisedWhenTheUnitChanges(t *testing.T) {
	// Registered without a routed unit (level unknown): the warning comes with acceptance.
	r := warningRun(t, warnRegister{rules: withoutDates(), lodged: warning.LevelCity,
		levels: map[string]string{"construction": warning.LevelDistrict}}, func(r *run) { r.input.SuggestedUnit = "" })
	r.execute()
	raisedOnce(t, r, warning.RuleSkipLevel, workflows.EventAccepted)
}

func TestWarningRepeatPetitionsRaisedOnce(t *testing.T) {
	rules := withoutDates()
	rule, _ := rules.Rule(warning.RuleRepeat)
	r := newRun(t)
	r.f.warn = warnRegister{rules: rules}.evaluate
	r.act(sec(1), workflows.UpdateAccept, workflows.ActionInput{Actor: clerk, Unit: "construction", Handler: "h1"})
	// Repeats up to the threshold and one more: the warning comes with the threshold's.
	for i := range rule.Threshold + 1 {
		r.act(sec(2+i), workflows.UpdateLinkRepeat, workflows.ActionInput{Actor: clerk, Channel: "visit"})
	}
	r.act(sec(10), workflows.UpdateWithdraw, workflows.ActionInput{Actor: petitioner, Reason: "settled"})
	r.execute()
	w := raisedOnce(t, r, warning.RuleRepeat, workflows.EventRepeatLinked)
	if w.State.RepeatCount != rule.Threshold {
		t.Errorf("raised at repeat %d, want %d", w.State.RepeatCount, rule.Threshold)
	}
}

func TestWarningEvaluatedWhenWhatTheRulesSeeChanges(t *testing.T) {
	r := newRun(t)
	r.f.warn = warnRegister{rules: withoutDates(), lodged: warning.LevelDistrict}.evaluate
	r.act(sec(1), workflows.UpdateAccept, workflows.ActionInput{Actor: clerk, Unit: "construction", Handler: "h1"})  // same unit, same day
	r.act(sec(2), workflows.UpdateLinkRepeat, workflows.ActionInput{Actor: clerk, Channel: "visit"})                 // a repeat
	r.act(sec(3), workflows.UpdateReassign, workflows.ActionInput{Actor: supervisor, Unit: "health", Handler: "h2"}) // another unit
	r.act(20*time.Hour, workflows.UpdateLinkRepeat, workflows.ActionInput{Actor: clerk, Channel: "visit"})           // the next day
	r.act(20*time.Hour+sec(1), workflows.UpdateWithdraw, workflows.ActionInput{Actor: petitioner, Reason: "settled"})
	r.execute()
	var events []string
	for _, req := range r.f.warnRequests {
		events = append(events, fmt.Sprintf("%s:%s:%d", req.Event, req.Unit, req.RepeatCount))
	}
	if got := strings.Join(events, " "); got != "registered:construction:0 repeat_linked:construction:1 reassigned:health:1 repeat_linked:health:2" {
		t.Errorf("evaluated after %s", got)
	}
}

func TestWarningUnitChangeIgnoredWithoutALodgedLevel(t *testing.T) {
	r := newRun(t)
	r.input.SuggestedUnit = ""
	r.f.warn = warnRegister{rules: withoutDates()}.evaluate
	r.act(sec(1), workflows.UpdateAccept, workflows.ActionInput{Actor: clerk, Unit: "construction", Handler: "h1"})
	r.act(sec(2), workflows.UpdateWithdraw, workflows.ActionInput{Actor: petitioner, Reason: "settled"})
	r.execute()
	if len(r.f.warnRequests) != 1 {
		t.Errorf("%d evaluations, want the registration's alone", len(r.f.warnRequests))
	}
}

func TestWarningOpenCasesRaisedOnce(t *testing.T) {
	rules := withoutDates()
	rule, _ := rules.Rule(warning.RuleOpenCases)
	r := warningRun(t, warnRegister{rules: rules, openCases: rule.Threshold}, nil)
	r.execute()
	raisedOnce(t, r, warning.RuleOpenCases, workflows.EventRegistered)
}

func TestWarningSensitiveDateRaisedOnce(t *testing.T) {
	// The tests start on 2 March 2026, 09:00 in Beijing: within the two sessions (全国两会).
	r := warningRun(t, warnRegister{rules: warning.Default()}, nil)
	r.execute()
	w := raisedOnce(t, r, warning.RuleSensitiveDate, workflows.EventRegistered)
	if reason, _ := w.Event.Details["reason"].(string); !strings.Contains(reason, "全国两会") {
		t.Errorf("reason %q", reason)
	}
}

func TestWarningEvaluationFailureDoesNotHoldTheCase(t *testing.T) {
	r := newRun(t)
	r.input.GroupSize = 9
	r.env.OnActivity(workflows.ActivityEvaluateWarnings, mock.Anything, mock.Anything).
		Return(workflows.WarningAnswer{}, temporal.NewNonRetryableApplicationError("register down", "Down", nil))
	r.act(sec(1), workflows.UpdateAccept, workflows.ActionInput{Actor: clerk, Unit: "construction", Handler: "h1"})
	r.act(sec(3), workflows.UpdateWithdraw, workflows.ActionInput{Actor: petitioner, Reason: "settled"})
	final := r.execute()
	if final.Stage != workflows.StageWithdrawn {
		t.Errorf("stage %s", final.Stage)
	}
	r.wantEvents(workflows.EventRegistered, time.Duration(0), workflows.EventAccepted, sec(1), workflows.EventWithdrawn, sec(3))
}

func TestWarningsInTheState(t *testing.T) {
	r := warningRun(t, warnRegister{rules: withoutDates()}, func(r *run) { r.input.GroupSize = 6 })
	final := r.execute()
	if !slices.Equal(final.Warnings, []string{"group"}) {
		t.Errorf("final state warnings %v", final.Warnings)
	}
	// The registered event's state predates the warning; the warning's has it.
	if w := r.event(workflows.EventRegistered, 0).State.Warnings; len(w) != 0 {
		t.Errorf("registered state warnings %v", w)
	}
	if w := r.event(workflows.EventWarningRaised, 0).State.Warnings; !slices.Equal(w, []string{"group"}) {
		t.Errorf("warning state warnings %v", w)
	}
}
