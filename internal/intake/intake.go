// Package intake starts a registered case's workflow from its register row: the API right after
// registration, and the worker's reconciler for a row that was left without one (the API
// crashed, or Temporal was down, between the register's commit and the start).
package intake

import (
	"context"
	"fmt"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// Input is the workflow input of a registered case. The clerk is the case's first-contact
// clerk (首问负责制), who hears of the ladder when no unit is known.
func Input(row register.Case, policy workflows.Policy, clerk workflows.Actor) workflows.PetitionInput {
	if policy.Name == "" {
		policy.Name = row.Policy
	}
	return workflows.PetitionInput{
		CaseNo:        row.CaseNo,
		Channel:       row.Channel,
		Category:      row.Category,
		Topic:         row.Topic,
		SuggestedUnit: row.SuggestedUnit,
		GroupSize:     row.GroupSize,
		ReceivedAt:    row.ReceivedAt,
		RegisteredAt:  row.RegisteredAt,
		RegisteredBy:  clerk,
		Policy:        policy,
		// The leader in charge from the start (a visit received on a reception day): from the
		// register row, so a retried start and the reconciler's start keep it.
		Leader: row.Leader,
	}
}

// StartOptions start a case's workflow at most once: the same workflow ID every time, an
// existing run is used as it is, and a finished case is never started again (only a run that
// failed may be, so no case is stranded).
func StartOptions(row register.Case, policy workflows.Policy) client.StartWorkflowOptions {
	name := policy.Name
	if name == "" {
		name = row.Policy
	}
	return client.StartWorkflowOptions{
		ID:                       workflows.WorkflowID(row.CaseNo),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		StaticSummary:            StaticSummary(row),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SearchCaseNo.ValueSet(row.CaseNo),
			workflows.SearchStage.ValueSet(string(workflows.StageRegistered)),
			workflows.SearchCategory.ValueSet(row.Category),
			workflows.SearchChannel.ValueSet(row.Channel),
			workflows.SearchPolicy.ValueSet(name),
		),
	}
}

// StaticSummary is the one line the Temporal UI shows for the workflow. It is stored sealed
// like every payload, and still carries no personal data and no petition content (not even
// the topic), so nothing is lost if a summary is ever shown undecoded.
func StaticSummary(row register.Case) string {
	return fmt.Sprintf("%s · %s · %s", row.CaseNo, row.Category, row.Channel)
}

// Start starts the case's workflow (or finds it running) without waiting for it.
func Start(ctx context.Context, c client.Client, row register.Case, policy workflows.Policy, clerk workflows.Actor) error {
	_, err := c.ExecuteWorkflow(ctx, StartOptions(row, policy), workflows.WorkflowName, Input(row, policy, clerk))
	return err
}

// Imported is the workflow input of a running case brought in from the office's earlier
// system (补录): Input with the imported stage, dates and people, so the workflow starts in
// that stage (workflows/import.go). The clerk is the importing one. Started with StartOptions
// like any case: the workflow sets its stage's search attributes in its first task. Its
// register row waits at register.ImportedSeq, which the reconciler leaves alone (it would
// start the case as a fresh registration): the import itself starts it, and importing the
// same file again starts one whose start was lost.
func Imported(row register.Case, policy workflows.Policy, clerk workflows.Actor, im workflows.ImportedCase) workflows.PetitionInput {
	in := Input(row, policy, clerk)
	in.Import = &im
	return in
}
