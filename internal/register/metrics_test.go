package register_test

import (
	"context"
	"slices"
	"testing"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// The metrics' open-case counts: by unit (empty before acceptance) and escalation level,
// overdue among them, closed cases left out.
func TestOpenCaseCounts(t *testing.T) {
	s := newStore(t)
	if got, err := s.OpenCaseCounts(context.Background()); err != nil || len(got) != 0 {
		t.Fatalf("empty register: %v %v", got, err)
	}
	mustRegister(t, s, register.NewCase{Topic: "waiting for acceptance"})
	accept := func(topic, unit string) workflows.CaseState {
		st := stateOf(mustRegister(t, s, register.NewCase{Topic: topic}))
		st.Stage, st.Unit, st.AcceptedAt = workflows.StageHandling, unit, ptr(day(3, 3))
		apply(t, s, 1, workflows.EventAccepted, st)
		return st
	}
	accept("in time", "construction")
	late := accept("late", "construction")
	late.Overdue, late.EscalationLevel = true, 2
	apply(t, s, 2, workflows.EventEscalated, late)
	done := accept("closed", "construction")
	done.Stage, done.ClosedAt = workflows.StageClosed, ptr(day(3, 20))
	apply(t, s, 2, workflows.EventClosed, done)
	accept("other unit", "education")

	got, err := s.OpenCaseCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []register.OpenCaseCount{
		{Unit: "", EscalationLevel: 0, Open: 1},
		{Unit: "construction", EscalationLevel: 0, Open: 1},
		{Unit: "construction", EscalationLevel: 2, Open: 1, Overdue: 1},
		{Unit: "education", EscalationLevel: 0, Open: 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("OpenCaseCounts\n  %+v\nwant\n  %+v", got, want)
	}
}
