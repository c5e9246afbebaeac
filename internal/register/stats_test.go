package register_test

import (
	"context"
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// statsFixture registers a known set of cases around March 2026 (see the comments) and
// returns the store.
func statsFixture(t *testing.T) *register.Store {
	t.Helper()
	ctx := context.Background()
	s := newStore(t)
	if err := s.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	reg := func(channel, category, unit string, registered int, group int) (register.Case, workflows.CaseState) {
		m, d := 3, registered
		if registered < 0 { // February
			m, d = 2, -registered
		} else if registered > 31 { // April
			m, d = 4, registered-31
		}
		c := mustRegister(t, s, register.NewCase{Channel: channel, Category: category, SuggestedUnit: unit,
			GroupSize: group, RegisteredAt: day(time.Month(m), d)})
		return c, stateOf(c)
	}
	// A: construction, March; accepted, replied on time, satisfied, closed: on time. One repeat.
	_, a := reg("visit", "appeal", "construction", 2, 1)
	a.Stage, a.Unit, a.AcceptedAt = workflows.StageHandling, "construction", ptr(day(3, 3))
	apply(t, s, 1, workflows.EventAccepted, a)
	a.RepeatCount = 1
	apply(t, s, 2, workflows.EventRepeatLinked, a)
	a.Stage, a.RepliedAt, a.Evaluation, a.ClosedAt = workflows.StageClosed, ptr(day(3, 10)), "satisfied", ptr(day(3, 12))
	apply(t, s, 3, workflows.EventClosed, a)

	// B: construction, March; replied late, dissatisfied, asked for review (open).
	_, b := reg("letter", "appeal", "construction", 3, 1)
	b.Stage, b.Unit, b.AcceptedAt = workflows.StageHandling, "construction", ptr(day(3, 4))
	apply(t, s, 1, workflows.EventAccepted, b)
	b.Stage, b.RepliedAt, b.RepliedLate, b.Evaluation = workflows.StageReplied, ptr(day(3, 20)), true, "dissatisfied"
	apply(t, s, 2, workflows.EventReplied, b)
	b.Stage, b.ReviewUnit = workflows.StageReview, "district"
	apply(t, s, 3, workflows.EventReviewRequested, b)

	// C: health, March, group of 6; accepted and overdue.
	_, c := reg("online", "suggestion", "health", 5, 6)
	c.Stage, c.Unit, c.AcceptedAt, c.Overdue, c.EscalationLevel = workflows.StageHandling, "health", ptr(day(3, 6)), true, 1
	apply(t, s, 1, workflows.EventOverdue, c)

	// D: health, February; replied and closed in March, basically satisfied.
	_, d := reg("visit", "appeal", "health", -20, 1)
	d.Stage, d.Unit, d.AcceptedAt = workflows.StageHandling, "health", ptr(day(2, 21))
	apply(t, s, 1, workflows.EventAccepted, d)
	d.Stage, d.RepliedAt, d.Evaluation, d.ClosedAt = workflows.StageClosed, ptr(day(3, 1)), "basic_satisfied", ptr(day(3, 2))
	apply(t, s, 2, workflows.EventClosed, d)
	d.RepeatCount = 1 // a repeat linked in April does not count for March
	applyAt(t, s, 3, workflows.EventRepeatLinked, day(4, 2), d)

	// E: routed to land, March; rejected (not a closure).
	_, e := reg("letter", "accusation", "land", 7, 1)
	e.Stage, e.ClosedAt = workflows.StageRejected, ptr(day(3, 8))
	apply(t, s, 1, workflows.EventRejected, e)

	// F: construction, March; replied late, review, re-review, terminated in March.
	_, f := reg("phone", "inquiry", "construction", 8, 1)
	f.Stage, f.Unit, f.AcceptedAt = workflows.StageHandling, "construction", ptr(day(3, 8))
	apply(t, s, 1, workflows.EventAccepted, f)
	f.Stage, f.RepliedAt, f.RepliedLate = workflows.StageReplied, ptr(day(3, 9)), true
	apply(t, s, 2, workflows.EventReplied, f)
	f.Stage = workflows.StageReview
	apply(t, s, 3, workflows.EventReviewRequested, f)
	f.Stage = workflows.StageReReview
	apply(t, s, 4, workflows.EventReReviewRequested, f)
	f.Stage, f.ClosedAt = workflows.StageTerminated, ptr(day(3, 28))
	apply(t, s, 5, workflows.EventTerminated, f)

	// G: education, April: outside March altogether.
	_, g := reg("email", "appeal", "education", 31+3, 1)
	g.Stage, g.Unit, g.AcceptedAt = workflows.StageHandling, "education", ptr(day(4, 4))
	apply(t, s, 1, workflows.EventAccepted, g)
	return s
}

func TestStats(t *testing.T) {
	ctx := context.Background()
	s := statsFixture(t)
	from, to := day(3, 1).Add(-10*3600e9), day(4, 1).Add(-10*3600e9) // March 1 00:00 .. April 1 00:00 CST

	got, err := s.Stats(ctx, from, to, "")
	if err != nil {
		t.Fatal(err)
	}
	want := register.Stats{From: from, To: to,
		Received:   5, // A B C E F
		ByChannel:  map[string]int{"visit": 1, "letter": 2, "online": 1, "phone": 1},
		ByCategory: map[string]int{"appeal": 2, "suggestion": 1, "accusation": 1, "inquiry": 1},
		Accepted:   4,                                       // A B C F
		Closed:     3, ClosedOnTime: 2, OnTimeRate: 2.0 / 3, // A D F; F late
		OverdueNow: 1,                                          // C
		Evaluated:  3, Satisfied: 2, SatisfactionRate: 2.0 / 3, // of answered A B D F
		ParticipationRate: 3.0 / 4,
		ReviewRequested:   2, ReviewRate: 2.0 / 4, // B F
		ReReviewRequested: 1, ReReviewRate: 1.0 / 4, // F
		RepeatPetitions: 1, GroupPetitions: 1,
	}
	checkStats(t, got, want)

	got, err = s.Stats(ctx, from, to, "construction")
	if err != nil {
		t.Fatal(err)
	}
	want = register.Stats{From: from, To: to, Unit: "construction",
		Received:   3, // A B F
		ByChannel:  map[string]int{"visit": 1, "letter": 1, "phone": 1},
		ByCategory: map[string]int{"appeal": 2, "inquiry": 1},
		Accepted:   3, Closed: 2, ClosedOnTime: 1, OnTimeRate: 0.5,
		Evaluated: 2, Satisfied: 1, SatisfactionRate: 0.5, ParticipationRate: 2.0 / 3,
		ReviewRequested: 2, ReviewRate: 2.0 / 3, ReReviewRequested: 1, ReReviewRate: 1.0 / 3,
		RepeatPetitions: 1,
	}
	checkStats(t, got, want)

	// An empty period: zeros, no division by zero.
	got, err = s.Stats(ctx, day(1, 1), day(1, 2), "")
	if err != nil {
		t.Fatal(err)
	}
	checkStats(t, got, register.Stats{From: day(1, 1), To: day(1, 2), ByChannel: map[string]int{},
		ByCategory: map[string]int{}, OverdueNow: 1})
}

func checkStats(t *testing.T, got, want register.Stats) {
	t.Helper()
	if !maps.Equal(got.ByChannel, want.ByChannel) || !maps.Equal(got.ByCategory, want.ByCategory) {
		t.Errorf("by channel %v by category %v\nwant %v %v", got.ByChannel, got.ByCategory, want.ByChannel, want.ByCategory)
	}
	got.ByChannel, got.ByCategory, want.ByChannel, want.ByCategory = nil, nil, nil, nil
	if !got.From.Equal(want.From) || !got.To.Equal(want.To) {
		t.Errorf("period %v..%v, want %v..%v", got.From, got.To, want.From, want.To)
	}
	got.From, got.To = want.From, want.To
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats\n got %+v\nwant %+v", got, want)
	}
}

func TestMonthlyReport(t *testing.T) {
	ctx := context.Background()
	s := statsFixture(t)
	rows, err := s.MonthlyReport(ctx, day(3, 15))
	if err != nil {
		t.Fatal(err)
	}
	units, _ := s.Units(ctx)
	if len(rows) != len(units) {
		t.Fatalf("%d rows for %d units", len(rows), len(units))
	}
	byUnit := map[string]register.MonthlyRow{}
	for _, r := range rows {
		if r.Month != "2026-03" {
			t.Errorf("row month %q", r.Month)
		}
		byUnit[r.Unit] = r
	}
	want := map[string]register.MonthlyRow{
		// Answered: A, B and F replied in March; participation 2/3, satisfaction 1/2.
		"construction": {Received: 3, Accepted: 3, Closed: 2, ClosedOnTime: 1, OnTimeRate: 0.5,
			Satisfied: 1, Evaluated: 2, Reviews: 2, ReReviews: 1,
			Answered: 3, ParticipationRate: 2.0 / 3, SatisfactionRate: 0.5},
		"health": {Received: 1, Accepted: 1, Closed: 1, ClosedOnTime: 1, OnTimeRate: 1, OverdueNow: 1, Satisfied: 1, Evaluated: 1,
			Answered: 1, ParticipationRate: 1, SatisfactionRate: 1},
		"land":      {Received: 1},
		"education": {}, // its case is April's
		"court":     {},
	}
	for code, w := range want {
		got, ok := byUnit[code]
		if !ok {
			t.Errorf("no row for %s", code)
			continue
		}
		if got.UnitName == "" {
			t.Errorf("%s: no unit name", code)
		}
		w.Month, w.Unit, w.UnitName = "2026-03", code, got.UnitName
		if got != w {
			t.Errorf("%s:\n got %+v\nwant %+v", code, got, w)
		}
	}
	april, err := s.MonthlyReport(ctx, day(4, 30))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range april {
		if r.Unit == "education" && (r.Received != 1 || r.Accepted != 1 || r.Month != "2026-04") {
			t.Errorf("April education row %+v", r)
		}
	}
}
