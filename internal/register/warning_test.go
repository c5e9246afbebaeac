package register_test

import (
	"context"
	"errors"
	"testing"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/warning"
	"github.com/petitions/petitions/workflows"
)

// raise records a warning_raised event as the workflow does.
func raise(t *testing.T, s *register.Store, seq int64, st workflows.CaseState, rule string) {
	t.Helper()
	st.Seq = seq
	tr := workflows.Transition{
		Event: workflows.Event{Seq: seq, Type: workflows.EventWarningRaised, At: st.RegisteredAt,
			Actor:   workflows.Actor{ID: "system", Role: workflows.RoleSystem},
			Details: map[string]any{"rule": rule, "reason": "because " + rule}},
		State: st,
	}
	if err := s.ApplyTransition(context.Background(), tr); err != nil {
		t.Fatalf("ApplyTransition(warning %s): %v", rule, err)
	}
}

func TestWarningsProjectedOncePerCaseAndRule(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := mustRegister(t, s, register.NewCase{GroupSize: 6, LodgedLevel: warning.LevelCity,
		Petitioners: []register.Petitioner{{Name: "张三", Phone: "13900001111"}}})
	st := stateOf(c)
	apply(t, s, 1, workflows.EventRegistered, st)
	raise(t, s, 2, st, warning.RuleGroup)
	raise(t, s, 2, st, warning.RuleGroup) // the same transition handed over again
	raise(t, s, 3, st, warning.RuleSkipLevel)
	raise(t, s, 4, st, warning.RuleGroup) // a (buggy) second raise of the rule: still one row

	got, err := s.Warnings(ctx, c.CaseNo)
	if err != nil {
		t.Fatal(err)
	}
	if got.LodgedLevel != warning.LevelCity {
		t.Errorf("lodged level %q", got.LodgedLevel)
	}
	if len(got.Warnings) != 2 || got.Warnings[0].Rule != "group" || got.Warnings[0].Seq != 2 ||
		got.Warnings[1].Rule != "skip_level" || got.Warnings[1].Reason != "because skip_level" {
		t.Errorf("warnings %+v", got.Warnings)
	}
	// Events are kept as always.
	evs, _ := s.Events(ctx, c.CaseNo)
	if len(evs) != 4 {
		t.Errorf("%d events", len(evs))
	}

	// The list filter.
	for rule, want := range map[string]int{"group": 1, "skip_level": 1, "open_cases": 0} {
		page, err := s.List(ctx, register.ListFilter{Warning: rule, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Cases) != want {
			t.Errorf("warning=%s: %d cases, want %d", rule, len(page.Cases), want)
		}
	}

	// A case without warnings answers an empty list; an unknown case ErrNotFound.
	other := mustRegister(t, s, register.NewCase{Topic: "other", Petitioners: []register.Petitioner{{Name: "李四", Phone: "13900002222"}}})
	if got, err := s.Warnings(ctx, other.CaseNo); err != nil || got.Warnings == nil || len(got.Warnings) != 0 || got.LodgedLevel != "" {
		t.Errorf("other case: %+v %v", got, err)
	}
	if _, err := s.Warnings(ctx, "2026-999999"); !errors.Is(err, register.ErrNotFound) {
		t.Errorf("unknown case: %v", err)
	}
	// A warning without its rule is refused for good.
	bad := workflows.Transition{Event: workflows.Event{Seq: 1, Type: workflows.EventWarningRaised, At: st.RegisteredAt},
		State: stateOf(other)}
	bad.State.Seq = 1
	if err := s.ApplyTransition(ctx, bad); !errors.Is(err, register.ErrInvalidInput) {
		t.Errorf("warning without a rule: %v", err)
	}
}

func TestWarningFacts(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	// The same petitioner (by phone, or by ID number) in three cases, one of them closed.
	pet := register.Petitioner{Name: "王五", Phone: "139 0000 3333"}
	a := mustRegister(t, s, register.NewCase{Topic: "wages", LodgedLevel: warning.LevelProvince, Petitioners: []register.Petitioner{pet}})
	mustRegister(t, s, register.NewCase{Topic: "housing", Petitioners: []register.Petitioner{{Name: "王五", Phone: "13900003333", IDNumber: "11010519491231002X"}}})
	closed := mustRegister(t, s, register.NewCase{Topic: "roads", Petitioners: []register.Petitioner{pet}})
	cs := stateOf(closed)
	cs.Stage, cs.ClosedAt = workflows.StageWithdrawn, ptr(day(3, 3))
	apply(t, s, 1, workflows.EventWithdrawn, cs)
	// Another person entirely.
	mustRegister(t, s, register.NewCase{Topic: "wages", Petitioners: []register.Petitioner{{Name: "赵六", Phone: "13900004444"}}})

	f, err := s.WarningFacts(ctx, a.CaseNo, "construction")
	if err != nil {
		t.Fatal(err)
	}
	want := register.WarningFacts{LodgedLevel: warning.LevelProvince, CompetentLevel: warning.LevelDistrict, OpenCases: 2}
	if f != want {
		t.Errorf("facts %+v, want %+v", f, want)
	}
	// Levels: a government, a bureau (its government's), a unit with none up its chain.
	for unit, level := range map[string]string{"city": "city", "district": "district", "health": "district", "nowhere": ""} {
		if got, err := s.UnitLevel(ctx, unit); err != nil || got != level {
			t.Errorf("level of %s: %q %v, want %q", unit, got, err, level)
		}
	}
}

func TestWarningStatistics(t *testing.T) {
	ctx := context.Background()
	s := statsFixture(t)
	// Two March cases of construction and health get warnings; one in April.
	march := mustRegister(t, s, register.NewCase{SuggestedUnit: "construction", GroupSize: 5, RegisteredAt: day(3, 9)})
	raise(t, s, 1, stateOf(march), warning.RuleGroup)
	raise(t, s, 2, stateOf(march), warning.RuleSkipLevel)
	health := mustRegister(t, s, register.NewCase{SuggestedUnit: "health", RegisteredAt: day(3, 10)})
	raise(t, s, 1, stateOf(health), warning.RuleSkipLevel)
	april := mustRegister(t, s, register.NewCase{SuggestedUnit: "health", RegisteredAt: day(4, 2)})
	raise(t, s, 1, stateOf(april), warning.RuleRepeat)

	st, err := s.Stats(ctx, day(3, 1), day(4, 1), "")
	if err != nil {
		t.Fatal(err)
	}
	if st.Warnings != 3 || st.WarningsByRule["group"] != 1 || st.WarningsByRule["skip_level"] != 2 || len(st.WarningsByRule) != 2 {
		t.Errorf("warnings %d by rule %v", st.Warnings, st.WarningsByRule)
	}
	if st.GroupPetitions != 2 { // the fixture's group of 6 and this one of 5
		t.Errorf("group petitions %d", st.GroupPetitions)
	}
	st, err = s.Stats(ctx, day(3, 1), day(4, 1), "health")
	if err != nil {
		t.Fatal(err)
	}
	if st.Warnings != 1 || st.WarningsByRule["skip_level"] != 1 {
		t.Errorf("health: warnings %d by rule %v", st.Warnings, st.WarningsByRule)
	}
	rows, err := s.MonthlyReport(ctx, day(3, 15))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		want := map[string]int{"construction": 2, "health": 1}[r.Unit]
		if r.Warnings != want {
			t.Errorf("%s: %d warnings in March, want %d", r.Unit, r.Warnings, want)
		}
	}
}
