package activities

import (
	"context"
	"fmt"

	"github.com/petitions/petitions/internal/warning"
	"github.com/petitions/petitions/workflows"
)

// EvaluateWarnings evaluates the early-warning rules (预警) for a case that was registered or
// changed (workflows.ActivityEvaluateWarnings): it asks the register for the lodged level, the
// competent unit's level and the petitioner's open cases, evaluates the rule table (the
// office's, Activities.WarningRules, or the built-in one) and answers the warnings not raised
// before, with the office's supervisors to tell. It reads only: the workflow records what it
// raises, so a retry changes nothing.
func (a *Activities) EvaluateWarnings(ctx context.Context, req workflows.WarningRequest) (workflows.WarningAnswer, error) {
	facts, err := a.Store.WarningFacts(ctx, req.CaseNo, req.Unit)
	if err != nil {
		return workflows.WarningAnswer{}, err
	}
	rules := warning.Default()
	if a.WarningRules != nil {
		rules = *a.WarningRules
	}
	raised := rules.EvaluateNew(warning.Facts{
		GroupSize:      req.GroupSize,
		LodgedLevel:    facts.LodgedLevel,
		CompetentLevel: facts.CompetentLevel,
		RepeatCount:    req.RepeatCount,
		OpenCases:      facts.OpenCases,
		At:             req.At,
	}, req.Raised)
	ans := workflows.WarningAnswer{LodgedLevel: facts.LodgedLevel}
	for _, w := range raised {
		ans.Warnings = append(ans.Warnings, workflows.RaisedWarning{Rule: w.Rule, Reason: w.Reason})
	}
	if len(ans.Warnings) == 0 || req.Office == "" {
		return ans, nil
	}
	staff, err := a.Store.StaffDirectory(ctx, req.Office, string(workflows.RoleSupervisor))
	if err != nil {
		return workflows.WarningAnswer{}, fmt.Errorf("supervisors of %s: %w", req.Office, err)
	}
	for _, s := range staff {
		ans.Supervisors = append(ans.Supervisors, s.ID)
	}
	return ans, nil
}
