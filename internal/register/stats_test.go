package register_test

import (
	"context"
	"maps"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/warning"
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
		Answered:       4,                                       // A B D F
		RoutineFigures: register.RoutineFigures{RepeatCases: 1}, // A
		ByTopic: []register.TopicFigures{ // every case's topic is "unpaid wages"
			{Topic: "unpaid wages", Category: "appeal", Received: 2, Closed: 2, Evaluated: 3, Satisfied: 2, SatisfactionRate: 2.0 / 3}, // A B D
			{Topic: "unpaid wages", Category: "suggestion", Received: 1, OverdueNow: 1},                                                // C
			{Topic: "unpaid wages", Category: "inquiry", Received: 1, Closed: 1},                                                       // F
			{Topic: "unpaid wages", Category: "accusation", Received: 1},                                                               // E
		},
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
		RepeatPetitions: 1, Answered: 3, RoutineFigures: register.RoutineFigures{RepeatCases: 1},
		ByTopic: []register.TopicFigures{
			{Topic: "unpaid wages", Category: "appeal", Received: 2, Closed: 1, Evaluated: 2, Satisfied: 1, SatisfactionRate: 0.5}, // A B
			{Topic: "unpaid wages", Category: "inquiry", Received: 1, Closed: 1},                                                   // F
		},
	}
	checkStats(t, got, want)

	// An empty period: zeros, no division by zero.
	got, err = s.Stats(ctx, day(1, 1), day(1, 2), "")
	if err != nil {
		t.Fatal(err)
	}
	checkStats(t, got, register.Stats{From: day(1, 1), To: day(1, 2), ByChannel: map[string]int{},
		ByCategory: map[string]int{}, OverdueNow: 1,
		ByTopic: []register.TopicFigures{{Topic: "unpaid wages", Category: "suggestion", OverdueNow: 1}}}) // C
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
	if want.ScreeningByUnit == nil {
		want.ScreeningByUnit = []register.UnitScreening{}
	}
	if want.ByTopic == nil {
		want.ByTopic = []register.TopicFigures{}
	}
	if !reflect.DeepEqual(got.ByTopic, want.ByTopic) {
		t.Errorf("by topic\n got %+v\nwant %+v", got.ByTopic, want.ByTopic)
	}
	if !reflect.DeepEqual(got.ScreeningByUnit, want.ScreeningByUnit) {
		t.Errorf("screening by unit\n got %+v\nwant %+v", got.ScreeningByUnit, want.ScreeningByUnit)
	}
	got.ByTopic, want.ByTopic, got.ScreeningByUnit, want.ScreeningByUnit = nil, nil, nil, nil
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
			Answered: 3, ParticipationRate: 2.0 / 3, SatisfactionRate: 0.5,
			RepeatPetitions: 1, RoutineFigures: register.RoutineFigures{RepeatCases: 1},
			Topics: []register.TopicFigures{
				{Topic: "unpaid wages", Category: "appeal", Received: 2, Closed: 1, Evaluated: 2, Satisfied: 1, SatisfactionRate: 0.5}, // A B
				{Topic: "unpaid wages", Category: "inquiry", Received: 1, Closed: 1},                                                   // F
			}},
		"health": {Received: 1, Accepted: 1, Closed: 1, ClosedOnTime: 1, OnTimeRate: 1, OverdueNow: 1, Satisfied: 1, Evaluated: 1,
			Answered: 1, ParticipationRate: 1, SatisfactionRate: 1,
			Topics: []register.TopicFigures{
				{Topic: "unpaid wages", Category: "suggestion", Received: 1, OverdueNow: 1},                             // C
				{Topic: "unpaid wages", Category: "appeal", Closed: 1, Evaluated: 1, Satisfied: 1, SatisfactionRate: 1}, // D
			}},
		"land":      {Received: 1, Topics: []register.TopicFigures{{Topic: "unpaid wages", Category: "accusation", Received: 1}}},
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
		if w.Topics == nil {
			w.Topics = []register.TopicFigures{}
		}
		if !reflect.DeepEqual(got, w) {
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

// record projects one event with its details, as the workflow hands it over.
func record(t *testing.T, s *register.Store, seq int64, evType string, at time.Time, st workflows.CaseState, details map[string]any) {
	t.Helper()
	st.Seq = seq
	actor := workflows.Actor{ID: "supervisor.zhao", Role: workflows.RoleSupervisor, Unit: "petition_office"}
	if evType == workflows.EventWarningRaised || evType == workflows.EventAssignmentOverdue {
		actor = workflows.Actor{ID: "system", Role: workflows.RoleSystem}
	}
	tr := workflows.Transition{Event: workflows.Event{Seq: seq, Type: evType, At: at, Actor: actor, Details: details}, State: st}
	if err := s.ApplyTransition(context.Background(), tr); err != nil {
		t.Fatalf("ApplyTransition(%s #%d %s): %v", st.CaseNo, seq, evType, err)
	}
}

// routinesFixture adds to statsFixture's register cases with the bureau's routines and the
// screening rounds of February, March and April 2026 (see the comments).
func routinesFixture(t *testing.T) *register.Store {
	t.Helper()
	ctx := context.Background()
	s := statsFixture(t)
	proposed := func(codes ...string) map[string]any {
		return map[string]any{workflows.DetailJointProposed: codes}
	}

	// H: construction, March. A skip-level warning proposes joint investigation; assigned, its
	// result report falls overdue (proposing again); approved for joint investigation; replied;
	// a call-back reaches the petitioner, dissatisfied (the evaluation counted); the team's
	// findings come in April.
	hc := mustRegister(t, s, register.NewCase{Topic: "拖欠工资", SuggestedUnit: "construction", RegisteredAt: day(3, 10)})
	h := stateOf(hc)
	h.Joint = &workflows.JointInvestigation{Status: workflows.JointProposed,
		Flags: []workflows.JointFlag{{Criterion: workflows.JointSkipGroupLong, Auto: true, By: "system"}}}
	record(t, s, 1, workflows.EventWarningRaised, day(3, 10), h,
		map[string]any{"rule": warning.RuleSkipLevel, "reason": "lodged above", workflows.DetailJointProposed: []string{workflows.JointSkipGroupLong}})
	h.Stage, h.Unit, h.AcceptedAt = workflows.StageHandling, "construction", ptr(day(3, 11))
	record(t, s, 2, workflows.EventAccepted, day(3, 11), h, nil)
	h.Assignment = &workflows.Assignment{At: day(3, 12), ReportDue: day(3, 20), Status: workflows.AssignmentAwaiting}
	record(t, s, 3, workflows.EventAssigned, day(3, 12), h, map[string]any{"unit": "construction"})
	h.Assignment = &workflows.Assignment{At: day(3, 12), ReportDue: day(3, 20), Status: workflows.AssignmentAwaiting, Overdue: true}
	record(t, s, 4, workflows.EventAssignmentOverdue, day(3, 20), h, proposed(workflows.JointAssignmentOverdue))
	h.Joint = &workflows.JointInvestigation{Status: workflows.JointApproved, Team: []string{"construction", "land"}}
	record(t, s, 5, workflows.EventJointDecided, day(3, 22), h, map[string]any{"approved": true, "team": []string{"construction", "land"}})
	h.Assignment = &workflows.Assignment{At: day(3, 12), ReportDue: day(3, 20), Status: workflows.AssignmentAccepted, Overdue: true}
	h.Stage, h.RepliedAt = workflows.StageReplied, ptr(day(3, 25))
	record(t, s, 6, workflows.EventReplied, day(3, 25), h, nil)
	h.CallBacks = []workflows.CallBack{{At: day(3, 27), Reached: true, Evaluation: workflows.EvaluationDissatisfied}}
	record(t, s, 7, workflows.EventCallBackRecorded, day(3, 27), h, map[string]any{"reached": true, "call_back": 1})
	h.Evaluation, h.EvaluationSource = workflows.EvaluationDissatisfied, workflows.EvaluationByCallBack
	record(t, s, 8, workflows.EventEvaluated, day(3, 27), h, map[string]any{"evaluation": "dissatisfied", "source": "call_back"})
	h.Joint = &workflows.JointInvestigation{Status: workflows.JointConcluded, Team: []string{"construction", "land"}}
	record(t, s, 9, workflows.EventJointFindings, day(4, 3), h, map[string]any{"findings": "…"})

	// I: health, March, topic spelled with spaces. A supervisor flags it, a leader declines;
	// two repeat petitions (one received in February, one in March); replied; a call-back does
	// not reach the petitioner.
	ic := mustRegister(t, s, register.NewCase{Topic: " 拖欠工资 ", SuggestedUnit: "health", RegisteredAt: day(3, 12)})
	i := stateOf(ic)
	i.Stage, i.Unit, i.AcceptedAt = workflows.StageHandling, "health", ptr(day(3, 12))
	record(t, s, 1, workflows.EventAccepted, day(3, 12), i, nil)
	i.Joint = &workflows.JointInvestigation{Status: workflows.JointProposed,
		Flags: []workflows.JointFlag{{Criterion: workflows.JointUrgentRisk, By: "supervisor.zhao"}}}
	record(t, s, 2, workflows.EventJointFlagged, day(3, 13), i, map[string]any{"criterion": workflows.JointUrgentRisk, "reason": "risk"})
	i.Joint = &workflows.JointInvestigation{Status: workflows.JointDeclined, Flags: i.Joint.Flags}
	record(t, s, 3, workflows.EventJointDecided, day(3, 14), i, map[string]any{"approved": false, "reason": "no need"})
	for n, received := range []time.Time{day(2, 28), day(3, 16)} {
		i.RepeatCount = n + 1
		record(t, s, int64(4+n), workflows.EventRepeatLinked, day(3, 15+n), i, map[string]any{"channel": "visit", "repeat_count": n + 1})
		if err := s.AddRepeatSubmission(ctx, ic.CaseNo, register.NewCase{Channel: "visit", Content: "又来了",
			ReceivedAt: received, RegisteredAt: day(3, 15+n)}); err != nil {
			t.Fatal(err)
		}
	}
	i.Stage, i.RepliedAt = workflows.StageReplied, ptr(day(3, 20))
	record(t, s, 6, workflows.EventReplied, day(3, 20), i, nil)
	i.CallBacks = []workflows.CallBack{{At: day(3, 22), Reached: false}}
	record(t, s, 7, workflows.EventCallBackRecorded, day(3, 22), i, map[string]any{"reached": false, "call_back": 1})

	// J: construction, February: flagged and approved then; the findings come in March.
	jc := mustRegister(t, s, register.NewCase{Topic: "噪声扰民", Category: "suggestion", SuggestedUnit: "construction", RegisteredAt: day(2, 10)})
	j := stateOf(jc)
	j.Stage, j.Unit, j.AcceptedAt = workflows.StageHandling, "construction", ptr(day(2, 10))
	j.Joint = &workflows.JointInvestigation{Status: workflows.JointProposed}
	record(t, s, 1, workflows.EventJointFlagged, day(2, 11), j, map[string]any{"criterion": workflows.JointMisconduct, "reason": "…"})
	j.Joint = &workflows.JointInvestigation{Status: workflows.JointApproved, Team: []string{"construction"}}
	record(t, s, 2, workflows.EventJointDecided, day(2, 12), j, map[string]any{"approved": true, "team": []string{"construction"}})
	j.Joint = &workflows.JointInvestigation{Status: workflows.JointConcluded, Team: []string{"construction"}}
	record(t, s, 3, workflows.EventJointFindings, day(3, 3), j, map[string]any{"findings": "…"})

	// Screening rounds. March: construction files on time, health a zero report on time, land
	// files late, education missed, agriculture still pending past the due instant. February:
	// construction missed. April: construction pending, not due yet.
	sys := workflows.Actor{ID: "system", Role: workflows.RoleSystem}
	round := func(month string, opened time.Time, reports map[string]workflows.ScreeningUnit) {
		t.Helper()
		st := workflows.ScreeningState{Month: month, Policy: "default", OpenedAt: opened,
			DueAt: opened.AddDate(0, 0, 24), ClosesAt: opened.AddDate(0, 0, 29), Seq: 1}
		units := make([]string, 0, len(reports))
		for u := range reports {
			units = append(units, u)
		}
		if err := s.ApplyScreening(ctx, workflows.ScreeningTransition{Month: month, Round: st,
			Event: workflows.Event{Seq: 1, Type: workflows.EventRoundOpened, At: opened, Actor: sys,
				Details: map[string]any{"units": units}}}); err != nil {
			t.Fatal(err)
		}
		for u, rep := range reports {
			if rep.Status == workflows.ReportPending && !rep.Overdue {
				continue
			}
			rep.Unit, rep.Seq = u, 1
			typ := map[string]string{workflows.ReportFiled: workflows.EventReportFiled, workflows.ReportZero: workflows.EventZeroReport,
				workflows.ReportMissed: workflows.EventReportMissed, workflows.ReportPending: workflows.EventOverdue}[rep.Status]
			if err := s.ApplyScreening(ctx, workflows.ScreeningTransition{Month: month, Unit: u, Round: st, Report: &rep,
				Event: workflows.Event{Seq: 1, Type: typ, At: opened.AddDate(0, 0, 20), Actor: sys}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	round("2026-02", day(2, 1), map[string]workflows.ScreeningUnit{"construction": {Status: workflows.ReportMissed, Overdue: true}})
	round("2026-03", day(3, 1), map[string]workflows.ScreeningUnit{
		"construction": {Status: workflows.ReportFiled, Disputes: 1},
		"health":       {Status: workflows.ReportZero},
		"land":         {Status: workflows.ReportFiled, Late: true, Disputes: 2},
		"education":    {Status: workflows.ReportMissed, Overdue: true},
		"agriculture":  {Status: workflows.ReportPending, Overdue: true, EscalationLevel: 1},
	})
	round("2026-04", day(4, 1), map[string]workflows.ScreeningUnit{"construction": {Status: workflows.ReportPending}})
	return s
}

// The figures of skip-level and repeat petitions, the routines, the screening reports and the
// topics, for all units, one unit, the monthly ledger and other periods.
func TestRoutineStats(t *testing.T) {
	ctx := context.Background()
	s := routinesFixture(t)
	march, april := time.Date(2026, 3, 1, 0, 0, 0, 0, cst), time.Date(2026, 4, 1, 0, 0, 0, 0, cst)
	may := april.AddDate(0, 1, 0)

	got, err := s.Stats(ctx, march, april, "")
	if err != nil {
		t.Fatal(err)
	}
	onTime := func(f register.ScreeningFigures) register.ScreeningFigures {
		f.ScreeningRounds, f.ScreeningDue = 1, 1
		f.ScreeningOnTimeRate = float64(f.ScreeningOnTime)
		return f
	}
	want := register.RoutineFigures{
		SkipLevel:   1,                       // H
		RepeatCases: 2, RepeatSubmissions: 1, // A, I; I's March one
		JointProposed: 2, JointApproved: 1, // H (twice, counted once), I; H
		JointDeclined: 1, JointConcluded: 1, // I; J
		CalledBack: 2, CallBackRate: 2.0 / 6, // H I of A B D F H I
		CallBackReached: 1, CallBackReachedRate: 0.5, EvaluatedByCallBack: 1, // H
		Assigned: 1, AssignmentsOverdue: 1, // H
		ScreeningFigures: register.ScreeningFigures{ScreeningRounds: 5, ScreeningDue: 5, ScreeningOnTime: 2,
			ScreeningLate: 1, ScreeningZero: 1, ScreeningMissed: 1, ScreeningPending: 1, ScreeningOnTimeRate: 0.4},
	}
	if got.RoutineFigures != want {
		t.Errorf("March\n got %+v\nwant %+v", got.RoutineFigures, want)
	}
	if got.RepeatPetitions != 3 || got.Answered != 6 || got.Evaluated != 4 || got.WarningsByRule["skip_level"] != got.SkipLevel {
		t.Errorf("repeat petitions %d, answered %d, evaluated %d, warnings %v", got.RepeatPetitions, got.Answered, got.Evaluated, got.WarningsByRule)
	}
	wantScreening := []register.UnitScreening{
		{"agriculture", onTime(register.ScreeningFigures{ScreeningPending: 1})},
		{"construction", onTime(register.ScreeningFigures{ScreeningOnTime: 1})},
		{"education", onTime(register.ScreeningFigures{ScreeningMissed: 1})},
		{"health", onTime(register.ScreeningFigures{ScreeningOnTime: 1, ScreeningZero: 1})},
		{"land", onTime(register.ScreeningFigures{ScreeningLate: 1})},
	}
	if !reflect.DeepEqual(got.ScreeningByUnit, wantScreening) {
		t.Errorf("screening by unit\n got %+v\nwant %+v", got.ScreeningByUnit, wantScreening)
	}
	// H and I share a topic (compared trimmed), ahead of C by count; A B D's closes more.
	wantTopics := []register.TopicFigures{
		{Topic: "unpaid wages", Category: "appeal", Received: 2, Closed: 2, Evaluated: 3, Satisfied: 2, SatisfactionRate: 2.0 / 3}, // A B D
		{Topic: "拖欠工资", Category: "appeal", Received: 2, Evaluated: 1},                                                             // H I
		{Topic: "unpaid wages", Category: "suggestion", Received: 1, OverdueNow: 1},                                                // C
		{Topic: "unpaid wages", Category: "inquiry", Received: 1, Closed: 1},                                                       // F
		{Topic: "unpaid wages", Category: "accusation", Received: 1},                                                               // E
	}
	if !reflect.DeepEqual(got.ByTopic, wantTopics) {
		t.Errorf("by topic\n got %+v\nwant %+v", got.ByTopic, wantTopics)
	}

	// One unit: its cases' events, its own screening report.
	got, err = s.Stats(ctx, march, april, "health")
	if err != nil {
		t.Fatal(err)
	}
	want = register.RoutineFigures{RepeatCases: 1, RepeatSubmissions: 1, JointProposed: 1, JointDeclined: 1,
		CalledBack: 1, CallBackRate: 0.5, // I of D I
		ScreeningFigures: onTime(register.ScreeningFigures{ScreeningOnTime: 1, ScreeningZero: 1})}
	if got.RoutineFigures != want || got.RepeatPetitions != 2 || len(got.ScreeningByUnit) != 1 || got.ScreeningByUnit[0].Unit != "health" {
		t.Errorf("health\n got %+v %d %+v\nwant %+v", got.RoutineFigures, got.RepeatPetitions, got.ScreeningByUnit, want)
	}
	if len(got.ByTopic) != 3 || got.ByTopic[0].Category != "suggestion" || got.ByTopic[1].Topic != "拖欠工资" || got.ByTopic[2].Received != 0 {
		t.Errorf("health by topic %+v", got.ByTopic) // C I D
	}

	// March and April: April's round is pending before its due instant (not due), H's
	// findings conclude its joint investigation.
	got, err = s.Stats(ctx, march, may, "construction")
	if err != nil {
		t.Fatal(err)
	}
	if f := got.ScreeningFigures; f.ScreeningRounds != 2 || f.ScreeningDue != 1 || f.ScreeningPending != 1 || f.ScreeningOnTimeRate != 1 ||
		got.JointConcluded != 2 {
		t.Errorf("construction, March–April: %+v", got.RoutineFigures)
	}
	// From mid-March: only April's round begins in the period; H proposed again with its
	// overdue report (not I, flagged before); H's findings.
	got, err = s.Stats(ctx, day(3, 15), day(4, 15), "")
	if err != nil {
		t.Fatal(err)
	}
	if f := got.ScreeningFigures; f.ScreeningRounds != 1 || f.ScreeningPending != 1 || f.ScreeningDue != 0 || got.JointConcluded != 1 ||
		got.JointProposed != 1 || got.JointApproved != 1 || got.Assigned != 0 || got.AssignmentsOverdue != 1 {
		t.Errorf("mid-March to mid-April: %+v", got.RoutineFigures)
	}

	// The ledger: the same figures per unit, and each unit's topics.
	rows, err := s.MonthlyReport(ctx, day(3, 15))
	if err != nil {
		t.Fatal(err)
	}
	byUnit := map[string]register.MonthlyRow{}
	for _, r := range rows {
		byUnit[r.Unit] = r
	}
	wantRows := map[string]register.RoutineFigures{
		"construction": {SkipLevel: 1, RepeatCases: 1, JointProposed: 1, JointApproved: 1, JointConcluded: 1, // A; H; J
			CalledBack: 1, CallBackRate: 0.25, CallBackReached: 1, CallBackReachedRate: 1, EvaluatedByCallBack: 1, // H of A B F H
			Assigned: 1, AssignmentsOverdue: 1, ScreeningFigures: onTime(register.ScreeningFigures{ScreeningOnTime: 1})},
		"health": want,
		"land":   {ScreeningFigures: onTime(register.ScreeningFigures{ScreeningLate: 1})},
		"court":  {},
	}
	for code, w := range wantRows {
		if got := byUnit[code].RoutineFigures; got != w {
			t.Errorf("%s's row\n got %+v\nwant %+v", code, got, w)
		}
	}
	if r := byUnit["construction"]; r.RepeatPetitions != 1 || len(r.Topics) != 3 || r.Topics[1].Category != "inquiry" ||
		r.Topics[2] != (register.TopicFigures{Topic: "拖欠工资", Category: "appeal", Received: 1, Evaluated: 1}) {
		t.Errorf("construction's row: repeats %d, topics %+v", r.RepeatPetitions, r.Topics) // A B; F; H
	}
	if r := byUnit["health"]; r.RepeatPetitions != 2 || len(r.Topics) != 3 {
		t.Errorf("health's row: repeats %d, topics %+v", r.RepeatPetitions, r.Topics)
	}
	// Each row is the unit's Stats for the month.
	for _, r := range rows {
		st, err := s.Stats(ctx, march, april, r.Unit)
		if err != nil {
			t.Fatal(err)
		}
		if st.RoutineFigures != r.RoutineFigures || st.RepeatPetitions != r.RepeatPetitions || st.Answered != r.Answered {
			t.Errorf("%s: row %+v, stats %+v", r.Unit, r.RoutineFigures, st.RoutineFigures)
		}
	}
}

// Stats lists TopTopics topics, a ledger row TopicsPerUnit.
func TestTopicsAreCapped(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for n := range register.TopTopics + 3 {
		for range n%3 + 1 {
			mustRegister(t, s, register.NewCase{Topic: "topic " + strconv.Itoa(n), SuggestedUnit: "construction", RegisteredAt: day(3, 2)})
		}
	}
	st, err := s.Stats(ctx, day(3, 1), day(3, 31), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.ByTopic) != register.TopTopics || st.ByTopic[0].Received != 3 || st.ByTopic[len(st.ByTopic)-1].Received != 1 {
		t.Errorf("%d topics: %+v", len(st.ByTopic), st.ByTopic)
	}
	rows, err := s.MonthlyReport(ctx, day(3, 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Unit == "construction" && (len(r.Topics) != register.TopicsPerUnit || r.Topics[0].Received != 3) {
			t.Errorf("construction's topics %+v", r.Topics)
		}
	}
}
