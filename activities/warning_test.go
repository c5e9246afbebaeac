package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/warning"
	"github.com/petitions/petitions/workflows"
)

func TestEvaluateWarningsAsksTheRegister(t *testing.T) {
	a, store := newActivities(t)
	ctx := context.Background()
	quiet := time.Date(2026, 5, 20, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	c, _, err := store.Register(ctx, register.NewCase{Channel: "visit", Category: "appeal", Topic: "wages",
		Content: "x", GroupSize: 6, LodgedLevel: warning.LevelCity, SuggestedUnit: "construction",
		Petitioners: []register.Petitioner{{Name: "张三", Phone: "13900001111"}}, RegisteredAt: quiet})
	if err != nil {
		t.Fatal(err)
	}
	req := workflows.WarningRequest{CaseNo: c.CaseNo, Event: workflows.EventRegistered, Unit: "construction",
		GroupSize: 6, At: quiet, Office: "petition_office"}
	ans, err := a.EvaluateWarnings(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	// Group (6 people) and skip-level (lodged at the city, the bureau is a district's).
	if len(ans.Warnings) != 2 || ans.Warnings[0].Rule != warning.RuleGroup || ans.Warnings[1].Rule != warning.RuleSkipLevel {
		t.Errorf("warnings %+v", ans.Warnings)
	}
	if len(ans.Supervisors) != 1 || ans.Supervisors[0] != "supervisor.zhao" {
		t.Errorf("supervisors %v", ans.Supervisors)
	}
	// Raised already: nothing again, nobody to tell.
	req.Raised = []string{warning.RuleGroup, warning.RuleSkipLevel}
	if ans, err := a.EvaluateWarnings(ctx, req); err != nil || len(ans.Warnings) != 0 || len(ans.Supervisors) != 0 {
		t.Errorf("again: %+v %v", ans, err)
	}
	// The office's table: only what it lists.
	a.WarningRules = &warning.Rules{Rules: []warning.Rule{{Code: warning.RuleSkipLevel}}}
	req.Raised = nil
	if ans, err := a.EvaluateWarnings(ctx, req); err != nil || len(ans.Warnings) != 1 || ans.Warnings[0].Rule != warning.RuleSkipLevel {
		t.Errorf("office table: %+v %v", ans, err)
	}
}
