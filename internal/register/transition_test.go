package register_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

func TestApplyTransitionIdempotentAndNeverBackwards(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := mustRegister(t, s, register.NewCase{SuggestedUnit: "construction"})
	st := stateOf(c)

	accepted := st
	accepted.Stage, accepted.Unit, accepted.Handler = workflows.StageHandling, "construction", "handler.construction"
	accepted.AcceptedAt = ptr(day(3, 3))
	due := day(4, 3)
	accepted.Deadline = &workflows.Deadline{Clock: workflows.ClockHandling, Start: day(3, 3), Due: due}
	apply(t, s, 1, workflows.EventAccepted, accepted)
	apply(t, s, 1, workflows.EventAccepted, accepted) // a retried activity

	got, err := s.Get(ctx, c.CaseNo)
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 1 || got.Stage != "handling" || got.Unit != "construction" || got.Handler != "handler.construction" ||
		got.DueAt == nil || !got.DueAt.Equal(due) || got.AcceptedAt == nil || got.SuggestedUnit != "construction" {
		t.Errorf("after accept: %+v", got)
	}
	var dl workflows.Deadline
	if err := json.Unmarshal(got.Deadline, &dl); err != nil || dl.Clock != workflows.ClockHandling || !dl.Due.Equal(due) {
		t.Errorf("deadline json %s: %v", got.Deadline, err)
	}

	// Seq 3 lands before seq 2: the row takes 3 and stays there; event 2 is still recorded.
	replied := accepted
	replied.Stage, replied.RepliedAt, replied.RepliedLate = workflows.StageReplied, ptr(day(4, 10)), true
	replied.Deadline = nil
	supervised := accepted
	supervised.Overdue, supervised.EscalationLevel = true, 1
	apply(t, s, 3, workflows.EventReplied, replied)
	apply(t, s, 2, workflows.EventOverdue, supervised)

	got, err = s.Get(ctx, c.CaseNo)
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 3 || got.Stage != "replied" || got.Overdue || got.EscalationLevel != 0 || got.DueAt != nil ||
		got.Deadline != nil || !got.RepliedLate || got.RepliedAt == nil {
		t.Errorf("row moved backwards or lost state: %+v", got)
	}
	evs, err := s.Events(ctx, c.CaseNo)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	var types []string
	for _, e := range evs {
		seqs, types = append(seqs, e.Seq), append(types, e.Type)
	}
	if !slices.Equal(seqs, []int64{1, 2, 3}) ||
		!slices.Equal(types, []string{workflows.EventAccepted, workflows.EventOverdue, workflows.EventReplied}) {
		t.Errorf("events = %v %v, want seqs 1,2,3 in order", seqs, types)
	}
	if evs[0].Actor.ID != "clerk.li" || evs[0].Actor.Role != workflows.RoleClerk || evs[0].Actor.Unit != "petition_office" {
		t.Errorf("event actor = %+v", evs[0].Actor)
	}

	// Review, then closure: flags stick and on_time follows replied_late.
	review := replied
	review.Stage, review.ReviewUnit = workflows.StageReview, "district"
	apply(t, s, 4, workflows.EventReviewRequested, review)
	closed := review
	closed.Stage, closed.ClosedAt = workflows.StageClosed, ptr(day(5, 20))
	tr := workflows.Transition{Event: workflows.Event{Seq: 5, Type: workflows.EventClosed, At: day(5, 20),
		Details: map[string]any{"reason": "review upheld"}}, State: closed}
	tr.State.Seq = 5
	if err := s.ApplyTransition(ctx, tr); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Get(ctx, c.CaseNo)
	if !got.ReviewRequested || got.ReReviewRequested || got.OnTime == nil || *got.OnTime || got.ClosedAt == nil {
		t.Errorf("after closing: review %v re-review %v on_time %v", got.ReviewRequested, got.ReReviewRequested, got.OnTime)
	}
	evs, _ = s.Events(ctx, c.CaseNo)
	if last := evs[len(evs)-1]; last.Details["reason"] != "review upheld" {
		t.Errorf("event details = %v", last.Details)
	}
}

// A case started outside the API (e.g. with the Temporal CLI) appears from its first transition.
func TestApplyTransitionCreatesUnknownCase(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	st := workflows.CaseState{CaseNo: "2026-900001", Stage: workflows.StageRegistered, Channel: "phone",
		Category: "inquiry", Topic: "社保", SuggestedUnit: "hrss", ReceivedAt: day(3, 1), RegisteredAt: day(3, 1),
		Deadline: &workflows.Deadline{Clock: workflows.ClockAcceptance, Due: day(3, 16)}}
	apply(t, s, 0, workflows.EventRegistered, st) // seq 0: still newer than "not there"
	got, err := s.Get(ctx, "2026-900001")
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 0 || got.Topic != "社保" || got.Channel != "phone" || got.DueAt == nil || !got.DueAt.Equal(day(3, 16)) ||
		!got.RegisteredAt.Equal(day(3, 1)) || got.Stage != "registered" {
		t.Errorf("created from state: %+v", got)
	}
	if evs, err := s.Events(ctx, "2026-900001"); err != nil || len(evs) != 1 || evs[0].Type != workflows.EventRegistered {
		t.Errorf("events = %+v, %v", evs, err)
	}
	open, err := s.OpenCaseNumbers(ctx)
	if err != nil || !slices.Equal(open, []string{"2026-900001"}) {
		t.Errorf("OpenCaseNumbers = %v, %v", open, err)
	}
	st.Stage, st.ClosedAt, st.Deadline = workflows.StageWithdrawn, ptr(time.Now()), nil
	apply(t, s, 1, workflows.EventWithdrawn, st)
	if open, err := s.OpenCaseNumbers(ctx); err != nil || len(open) != 0 {
		t.Errorf("OpenCaseNumbers after withdrawal = %v, %v", open, err)
	}
}

// A pending extension request is projected, so a leader's queue of requests to decide is a
// list filter; the decision takes the case off it.
func TestExtensionPendingIsProjectedAndListed(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := mustRegister(t, s, register.NewCase{SuggestedUnit: "construction"})
	st := stateOf(c)
	st.Stage, st.Unit, st.Handler = workflows.StageHandling, "construction", "handler.construction"
	st.Deadline = &workflows.Deadline{Clock: workflows.ClockHandling, Start: day(3, 3), Due: day(4, 3)}
	apply(t, s, 1, workflows.EventAccepted, st)
	requested := st
	requested.PendingExtension = &workflows.ExtensionRequest{Days: 10, Reason: "勘验", RequestedAt: day(3, 10)}
	apply(t, s, 2, workflows.EventExtensionRequested, requested)

	pending := func() []string {
		t.Helper()
		yes := true
		page, err := s.List(ctx, register.ListFilter{ExtensionPending: &yes})
		if err != nil {
			t.Fatal(err)
		}
		var nos []string
		for _, c := range page.Cases {
			nos = append(nos, c.CaseNo)
		}
		return nos
	}
	if got := pending(); !slices.Contains(got, c.CaseNo) {
		t.Fatalf("pending extensions %v lack %s", got, c.CaseNo)
	}
	decided := st
	decided.ExtensionUsed = true
	apply(t, s, 3, workflows.EventExtensionDecided, decided)
	if got := pending(); slices.Contains(got, c.CaseNo) {
		t.Fatalf("decided extension still pending: %v", got)
	}
}
