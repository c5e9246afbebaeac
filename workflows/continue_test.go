package workflows_test

import (
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/petitions/petitions/workflows"
)

// A case whose history grows long continues as new when the server suggests it, and the next
// run goes on where the last one stopped: same stage, same deadline, same sequence, ladder steps
// already fired not fired again.
func TestContinueAsNewCarriesTheCase(t *testing.T) {
	r := newRun(t)
	acc := accept(sec(5), r)
	next := r.continuedAt(sec(50))
	if len(next.Carry) == 0 || next.CaseNo != r.input.CaseNo {
		t.Fatalf("continued input carries no state: %+v", next)
	}
	before := r.f.transitions[len(r.f.transitions)-1].State
	due := r.ok(acc).Deadline.Due
	if before.Stage != workflows.StageHandling || before.Deadline == nil || !before.Deadline.Due.Equal(due) {
		t.Fatalf("state before continuing: %+v", before)
	}

	// The next run: a repeat is linked, the handling deadline (65 s) passes, then a late reply.
	r2 := newRun(t)
	r2.input = next
	r2.act(sec(55), workflows.UpdateLinkRepeat, workflows.ActionInput{Actor: clerk, Channel: "phone"})
	reply := r2.act(sec(70), workflows.UpdateReply, workflows.ActionInput{Actor: handler, Opinion: "done"})
	r2.act(sec(75), workflows.UpdateEvaluate, workflows.ActionInput{Actor: petitioner, Evaluation: workflows.EvaluationSatisfied})
	r2.env.SetStartTime(t0.Add(sec(50)))
	r2.env.ExecuteWorkflow(workflows.WorkflowName, r2.input)
	if err := r2.env.GetWorkflowError(); err != nil {
		t.Fatalf("continued run failed: %v", err)
	}
	st := r2.ok(reply)
	if st.Deadline == nil && st.Stage != workflows.StageReplied {
		t.Fatalf("after reply: %+v", st)
	}
	if !st.RepliedLate || st.RepeatCount != 1 {
		t.Errorf("continued state lost: late %v repeats %d", st.RepliedLate, st.RepeatCount)
	}
	if first := r2.f.transitions[0]; first.Event.Seq != before.Seq+1 {
		t.Errorf("sequence restarted: first event of the new run is #%d, want #%d", first.Event.Seq, before.Seq+1)
	}
	count := map[string]int{}
	for _, tr := range append(r.f.transitions, r2.f.transitions...) {
		count[tr.Event.Type]++
	}
	if count[workflows.EventReminderSent] != 1 || count[workflows.EventOverdue] != 1 {
		t.Errorf("ladder steps across the runs: %v", count)
	}
}

// continuedAt runs the case until the server suggests a continue-as-new at offset `at`, and
// returns the input the next run starts with.
func (r *run) continuedAt(at time.Duration) workflows.PetitionInput {
	r.t.Helper()
	r.env.RegisterDelayedCallback(func() { r.env.SetContinueAsNewSuggested(true) }, at)
	r.env.ExecuteWorkflow(workflows.WorkflowName, r.input)
	var can *workflow.ContinueAsNewError
	if err := r.env.GetWorkflowError(); !errors.As(err, &can) {
		r.t.Fatalf("want a continue-as-new, got %v", err)
	}
	var next workflows.PetitionInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		r.t.Fatal(err)
	}
	return next
}
