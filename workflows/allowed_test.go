package workflows_test

import (
	"slices"
	"testing"
	"time"

	"github.com/petitions/petitions/workflows"
)

// allowed queries QueryAllowedActions as actor at offset at; the answer lands in the slice.
func (r *run) allowed(at time.Duration, actor workflows.Actor) *[]string {
	got := new([]string)
	r.at(at, func() { *got = r.queryAllowed(actor) })
	return got
}

func (r *run) queryAllowed(actor workflows.Actor) []string {
	r.t.Helper()
	v, err := r.env.QueryWorkflow(workflows.QueryAllowedActions, actor)
	if err != nil {
		r.t.Errorf("query %s as %s: %v", workflows.QueryAllowedActions, actor.ID, err)
		return nil
	}
	var got []string
	if err := v.Get(&got); err != nil {
		r.t.Errorf("decode allowed actions: %v", err)
	}
	return got
}

// The case file shows what the reader may do now, by the validators' own rules: the clerk's
// acceptance decisions on a registered case, the handling unit's actions while it handles the
// case (staff of another unit none), the leader's decision only while an extension waits for
// it, and nothing once the case is over.
func TestAllowedActions(t *testing.T) {
	r := newRun(t)
	constructionLeader := leader
	districtLeader := workflows.Actor{ID: "district-leader", Role: workflows.RoleLeader, Unit: "district", Units: []string{"construction", "health"}}
	nobody := workflows.Actor{Role: workflows.RoleClerk}

	clerkRegistered := r.allowed(sec(1), clerk)
	supervisorRegistered := r.allowed(sec(1), supervisor)
	handlerRegistered := r.allowed(sec(1), handler)
	leaderRegistered := r.allowed(sec(1), constructionLeader)
	noID := r.allowed(sec(1), nobody)
	accept(sec(2), r)
	handlerHandling := r.allowed(sec(3), handler)
	otherUnit := r.allowed(sec(3), healthStaff)
	clerkHandling := r.allowed(sec(3), clerk)
	leaderHandling := r.allowed(sec(3), constructionLeader)
	aboveHandling := r.allowed(sec(3), districtLeader)
	reviewerHandling := r.allowed(sec(3), distReviewer)
	r.act(sec(4), workflows.UpdateRequestExtension, workflows.ActionInput{Actor: handler, Days: 10, Reason: "site survey"})
	leaderPending := r.allowed(sec(5), constructionLeader)
	handlerPending := r.allowed(sec(5), handler)
	r.act(sec(6), workflows.UpdatePause, workflows.ActionInput{Actor: handler, Reason: "hearing"})
	handlerPaused := r.allowed(sec(7), handler)
	r.act(sec(8), workflows.UpdateWithdraw, workflows.ActionInput{Actor: clerk, Reason: "settled"})
	final := r.execute()
	if final.Stage != workflows.StageWithdrawn {
		t.Fatalf("final stage %s", final.Stage)
	}

	for _, tc := range []struct {
		name      string
		got, want []string
	}{
		{"clerk, registered", *clerkRegistered, []string{workflows.UpdateAccept, workflows.UpdateReject, workflows.UpdateForward, workflows.UpdateWithdraw, workflows.UpdateAssignLeader}},
		{"supervisor, registered", *supervisorRegistered, []string{workflows.UpdateAccept, workflows.UpdateFlagJoint, workflows.UpdateAssignLeader}},
		{"handler, registered", *handlerRegistered, []string{}},
		{"leader, registered (accept into their unit)", *leaderRegistered, []string{workflows.UpdateAccept, workflows.UpdateReject, workflows.UpdateAssignLeader}},
		{"actor without ID", *noID, []string{}},
		{"handler of the unit, handling", *handlerHandling, []string{workflows.UpdateReply, workflows.UpdateRequestExtension, workflows.UpdatePause}},
		{"handler of another unit, handling", *otherUnit, []string{}},
		{"clerk, handling", *clerkHandling, []string{workflows.UpdateWithdraw, workflows.UpdateAssignLeader}},
		{"leader of the unit, handling", *leaderHandling, []string{workflows.UpdateReply, workflows.UpdateReassign, workflows.UpdatePause, workflows.UpdateAddCoUnit, workflows.UpdateAssignLeader}},
		{"leader above the unit, handling", *aboveHandling, []string{workflows.UpdateReply, workflows.UpdateReassign, workflows.UpdatePause, workflows.UpdateAddCoUnit, workflows.UpdateAssignLeader}},
		{"reviewer, handling", *reviewerHandling, []string{}},
		{"leader, extension pending", *leaderPending, []string{workflows.UpdateReply, workflows.UpdateDecideExtension, workflows.UpdateReassign, workflows.UpdatePause, workflows.UpdateAddCoUnit, workflows.UpdateAssignLeader}},
		{"handler, extension pending", *handlerPending, []string{workflows.UpdateReply, workflows.UpdatePause}},
		{"handler, clock paused", *handlerPaused, []string{workflows.UpdateReply, workflows.UpdateResume}},
		{"clerk, withdrawn", r.queryAllowed(clerk), []string{}},
		{"supervisor, withdrawn", r.queryAllowed(supervisor), []string{}},
	} {
		if tc.got == nil || !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s: allowed %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	// The query leaves no trace in the history: the events are the actions'.
	r.wantEvents(
		workflows.EventRegistered, sec(0),
		workflows.EventAccepted, sec(2),
		workflows.EventExtensionRequested, sec(4),
		workflows.EventPaused, sec(6),
		workflows.EventWithdrawn, sec(8),
	)
}
