package register_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// A round projected event by event: retried and late deliveries change nothing, the figures
// count who filed, who filed zero, who is late; a line of a form links to one case only.
func TestScreeningProjection(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	units, err := s.ScreeningUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 15 || units[0] != "agriculture" {
		t.Fatalf("units that file: %v", units)
	}

	opened := day(5, 1)
	round := workflows.ScreeningState{Month: "2026-05", Policy: "default", OpenedAt: opened,
		DueAt: day(5, 26), ClosesAt: day(5, 31), Seq: 1}
	sys := workflows.Actor{ID: "system", Role: workflows.RoleSystem}
	apply := func(tr workflows.ScreeningTransition) {
		t.Helper()
		tr.Month = "2026-05"
		if tr.Round.Month == "" {
			tr.Round = round
		}
		if tr.Event.At.IsZero() {
			tr.Event.At = opened
		}
		if err := s.ApplyScreening(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	apply(workflows.ScreeningTransition{Event: workflows.Event{Seq: 1, Type: workflows.EventRoundOpened, Actor: sys,
		Details: map[string]any{"units": []string{"construction", "health", "land"}}}})

	h := workflows.Actor{ID: "handler.construction", Name: "刘洋", Role: workflows.RoleHandler, Unit: "construction"}
	at := day(5, 10)
	filed := workflows.ScreeningTransition{Unit: "construction",
		Event:  workflows.Event{Seq: 1, Type: workflows.EventReportFiled, Actor: h, At: at},
		Report: &workflows.ScreeningUnit{Unit: "construction", Status: workflows.ReportFiled, FiledAt: &at, FiledBy: &h, Disputes: 2, Seq: 1},
		Disputes: []workflows.ScreeningDispute{
			{Kind: workflows.DisputeKindDispute, Summary: "拆迁安置补偿争议", Leader: "陈志强", Plan: "约谈", TimeLimit: "2026-06-30"},
			{Kind: workflows.DisputeKindPetitionSign, Summary: "欠薪苗头", Leader: "王建国", Plan: "协调", TimeLimit: "2026-06-15"},
		}, Note: "本月排查两件"}
	apply(filed)
	apply(filed) // a retried delivery
	apply(workflows.ScreeningTransition{Unit: "health",
		Event:  workflows.Event{Seq: 1, Type: workflows.EventZeroReport, Actor: h, At: at},
		Report: &workflows.ScreeningUnit{Unit: "health", Status: workflows.ReportZero, FiledAt: &at, FiledBy: &h, Seq: 1}})
	apply(workflows.ScreeningTransition{Unit: "land",
		Event:  workflows.Event{Seq: 2, Type: workflows.EventEscalated, Actor: sys},
		Report: &workflows.ScreeningUnit{Unit: "land", Status: workflows.ReportPending, Overdue: true, EscalationLevel: 2, Seq: 2}})
	// Late delivery of land's first event: the report keeps level 2.
	apply(workflows.ScreeningTransition{Unit: "land",
		Event:  workflows.Event{Seq: 1, Type: workflows.EventOverdue, Actor: sys},
		Report: &workflows.ScreeningUnit{Unit: "land", Status: workflows.ReportPending, Overdue: true, EscalationLevel: 1, Seq: 1}})

	r, err := s.ScreeningRoundOf(ctx, "2026-05", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Units != 3 || r.Filed != 1 || r.Zero != 1 || r.Pending != 1 || r.Overdue != 1 || r.Disputes != 2 {
		t.Fatalf("round: %+v", r)
	}
	reps, err := s.ScreeningReports(ctx, "2026-05", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 3 || reps[2].Unit != "land" || reps[2].EscalationLevel != 2 || reps[0].Note != "本月排查两件" || reps[0].FiledByName != "刘洋" {
		t.Fatalf("reports: %+v", reps)
	}
	mine, err := s.ScreeningReports(ctx, "2026-05", []string{"health"})
	if err != nil || len(mine) != 1 {
		t.Fatalf("scoped reports: %+v %v", mine, err)
	}
	evs, err := s.ScreeningEvents(ctx, "2026-05", nil)
	if err != nil || len(evs) != 5 {
		t.Fatalf("events: %d %v", len(evs), err)
	}
	ds, err := s.ScreeningDisputes(ctx, "2026-05", nil)
	if err != nil || len(ds) != 2 || ds[1].TimeLimit != "2026-06-15" || ds[0].Item != 1 {
		t.Fatalf("disputes: %+v %v", ds, err)
	}

	c := mustRegister(t, s, register.NewCase{Petitioners: []register.Petitioner{{Name: "张某", Phone: "13700000009"}}, Policy: "default", ReceivedAt: day(5, 12), Content: "x"})
	other := mustRegister(t, s, register.NewCase{Topic: "noise", Petitioners: []register.Petitioner{{Name: "李某", Phone: "13700000010"}}, Policy: "default", ReceivedAt: day(5, 12), Content: "y"})
	now := time.Now()
	d, err := s.LinkScreeningDispute(ctx, ds[0].ID, c.CaseNo, "clerk.li", now)
	if err != nil || d.CaseNo != c.CaseNo {
		t.Fatalf("link: %+v %v", d, err)
	}
	if _, err := s.LinkScreeningDispute(ctx, ds[0].ID, c.CaseNo, "clerk.li", now); err != nil {
		t.Fatalf("link again: %v", err)
	}
	if _, err := s.LinkScreeningDispute(ctx, ds[0].ID, other.CaseNo, "clerk.li", now); !errors.Is(err, register.ErrDisputeLinked) {
		t.Fatalf("link to another case: %v", err)
	}
	if _, err := s.ScreeningDisputeByID(ctx, 999999); !errors.Is(err, register.ErrNotFound) {
		t.Fatalf("unknown dispute: %v", err)
	}
	rounds, err := s.ScreeningRounds(ctx, nil)
	if err != nil || len(rounds) != 1 {
		t.Fatalf("rounds: %+v %v", rounds, err)
	}
}
