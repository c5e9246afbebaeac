package register_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

func TestListFiltersAndKeysetPagination(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	units := []string{"construction", "health", "land"}
	type row struct {
		no      string
		due     *time.Time
		unit    string
		stage   string
		overdue bool
		level   int
		topic   string
		content string
	}
	var all []row
	for i := range 120 {
		topic := fmt.Sprintf("paid wages %d", i)
		if i%5 == 0 {
			topic = "欠薪 100% unpaid_wages"
		}
		c := mustRegister(t, s, register.NewCase{Topic: topic, Content: fmt.Sprintf("content %d", i)})
		r := row{no: c.CaseNo, unit: units[i%3], stage: "handling", overdue: i%7 == 0, topic: topic,
			content: c.Content}
		if i%4 == 0 {
			r.stage = "registered"
		}
		if i%11 == 0 {
			r.level = 2
		}
		st := stateOf(c)
		st.Stage, st.Unit, st.Overdue, st.EscalationLevel = workflows.Stage(r.stage), r.unit, r.overdue, r.level
		if i%10 != 0 { // every tenth case has no running clock
			due := day(4, 1).Add(time.Duration(i%37) * 24 * time.Hour) // ties on purpose
			r.due = &due
			st.Deadline = &workflows.Deadline{Clock: workflows.ClockHandling, Due: due}
		}
		apply(t, s, 1, workflows.EventAccepted, st)
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b row) int {
		switch {
		case a.due == nil && b.due != nil:
			return 1
		case a.due != nil && b.due == nil:
			return -1
		case a.due != nil && !a.due.Equal(*b.due):
			return a.due.Compare(*b.due)
		}
		return cmp.Compare(a.no, b.no)
	})

	// pageAll follows the cursors to the end and checks each page's size.
	pageAll := func(t *testing.T, f register.ListFilter) []string {
		t.Helper()
		var got []string
		for pages := 0; ; pages++ {
			if pages > 200 {
				t.Fatal("pagination does not end")
			}
			p, err := s.List(ctx, f)
			if err != nil {
				t.Fatalf("List(%+v): %v", f, err)
			}
			limit := cmp.Or(f.Limit, register.DefaultListLimit)
			if len(p.Cases) > limit || (p.NextCursor != "" && len(p.Cases) != limit) {
				t.Fatalf("page of %d with limit %d, next %q", len(p.Cases), limit, p.NextCursor)
			}
			for _, c := range p.Cases {
				got = append(got, c.CaseNo)
			}
			if p.NextCursor == "" {
				return got
			}
			f.Cursor = p.NextCursor
		}
	}
	want := func(keep func(row) bool) []string {
		var out []string
		for _, r := range all {
			if keep(r) {
				out = append(out, r.no)
			}
		}
		return out
	}
	dueFrom, dueTo := day(4, 10), day(4, 20)
	for _, tc := range []struct {
		name string
		f    register.ListFilter
		keep func(row) bool
	}{
		{"all, pages of 25", register.ListFilter{Limit: 25}, func(row) bool { return true }},
		{"all, default limit", register.ListFilter{}, func(row) bool { return true }},
		{"unit", register.ListFilter{Unit: "health", Limit: 7}, func(r row) bool { return r.unit == "health" }},
		{"stage", register.ListFilter{Stage: "registered", Limit: 9}, func(r row) bool { return r.stage == "registered" }},
		{"overdue", register.ListFilter{Overdue: ptr(true), Limit: 4}, func(r row) bool { return r.overdue }},
		{"not overdue", register.ListFilter{Overdue: ptr(false), Limit: 30}, func(r row) bool { return !r.overdue }},
		{"escalation", register.ListFilter{EscalationLevel: ptr(2), Limit: 5}, func(r row) bool { return r.level == 2 }},
		{"due window", register.ListFilter{DueAfter: &dueFrom, DueBefore: &dueTo, Limit: 6}, func(r row) bool {
			return r.due != nil && !r.due.Before(dueFrom) && r.due.Before(dueTo)
		}},
		{"due before", register.ListFilter{DueBefore: &dueFrom, Limit: 6}, func(r row) bool { return r.due != nil && r.due.Before(dueFrom) }},
		// LIKE wildcards are literal: "d_w" must not match "paid wages".
		{"text with wildcard", register.ListFilter{Text: "D_W", Limit: 10}, func(r row) bool { return strings.Contains(r.topic, "d_w") }},
		{"text percent", register.ListFilter{Text: "100%"}, func(r row) bool { return strings.Contains(r.topic, "100%") }},
		{"text in content", register.ListFilter{Text: "Content 7", Limit: 3}, func(r row) bool { return strings.HasPrefix(r.content, "content 7") }},
		{"combined", register.ListFilter{Unit: "construction", Stage: "handling", Overdue: ptr(true), Text: "欠薪"}, func(r row) bool {
			return r.unit == "construction" && r.stage == "handling" && r.overdue && strings.Contains(r.topic, "欠薪")
		}},
		{"nothing", register.ListFilter{Channel: "email"}, func(row) bool { return false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := pageAll(t, tc.f)
			w := want(tc.keep)
			if len(w) == 0 && tc.name != "nothing" {
				t.Fatal("test data selects nothing")
			}
			if !slices.Equal(got, w) {
				t.Errorf("got %d cases %v\nwant %d %v", len(got), got, len(w), w)
			}
		})
	}

	p, err := s.List(ctx, register.ListFilter{Limit: 10_000})
	if err != nil || len(p.Cases) != 120 || p.NextCursor != "" {
		t.Errorf("Limit above the maximum: %d cases, next %q, %v", len(p.Cases), p.NextCursor, err)
	}
	if p.Cases[0].Petitioners != nil {
		t.Errorf("List returned petitioners")
	}
	for _, bad := range []string{"!!!", base64.RawURLEncoding.EncodeToString([]byte("{")),
		base64.RawURLEncoding.EncodeToString([]byte(`{"d":null}`))} {
		if _, err := s.List(ctx, register.ListFilter{Cursor: bad}); !errors.Is(err, register.ErrInvalidInput) {
			t.Errorf("cursor %q: %v, want ErrInvalidInput", bad, err)
		}
	}
}

// The routines' filters (0012): joint investigation status (联查), assignment status (交办) and
// the involved units (co-handling units, the joint investigation team), alone, combined with
// others and with a unit's scope, counted and paged; unknown statuses are refused.
func TestListRoutineFilters(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	accepted := day(3, 3)
	type row struct {
		no, joint, assignment string
		involved              []string
	}
	var all []row
	for i := range 24 {
		c := mustRegister(t, s, register.NewCase{Topic: fmt.Sprintf("routine %d", i)})
		st := stateOf(c)
		st.Stage, st.Unit, st.AcceptedAt = workflows.StageHandling, "construction", &accepted
		st.Deadline = &workflows.Deadline{Clock: workflows.ClockHandling, Due: day(4, 1).Add(time.Duration(i) * time.Hour)}
		r := row{no: c.CaseNo}
		if i%3 == 0 {
			r.joint = []string{workflows.JointProposed, workflows.JointApproved, workflows.JointDeclined, workflows.JointConcluded}[(i/3+i/12)%4]
			st.Joint = &workflows.JointInvestigation{Status: r.joint,
				Flags: []workflows.JointFlag{{Criterion: workflows.JointSkipGroupLong, Auto: true, By: "system", At: accepted}}}
			if r.joint == workflows.JointApproved || r.joint == workflows.JointConcluded {
				st.Joint.Team = []string{"construction", "land"}
			}
		}
		if i%4 == 0 {
			r.assignment = []string{workflows.AssignmentAwaiting, workflows.AssignmentReported, workflows.AssignmentAccepted}[i/4%3]
			st.Assignment = &workflows.Assignment{By: workflows.Actor{ID: "supervisor.zhao", Role: workflows.RoleSupervisor},
				At: accepted, Instructions: "限期报结果", ReportDue: day(3, 20), Status: r.assignment}
		}
		if i%5 == 0 {
			st.CoUnits = []workflows.CoUnit{{Unit: "health", Part: "核查医疗费用", AddedAt: accepted}}
		}
		r.involved = st.InvolvedUnits()
		apply(t, s, 2, workflows.EventAccepted, st)
		all = append(all, r)
	}
	want := func(keep func(row) bool) []string {
		var out []string
		for _, r := range all { // registered in case number order, due in the same order
			if keep(r) {
				out = append(out, r.no)
			}
		}
		return out
	}
	list := func(f register.ListFilter) []string {
		t.Helper()
		var got []string
		for {
			p, err := s.List(ctx, f)
			if err != nil {
				t.Fatalf("List(%+v): %v", f, err)
			}
			for _, c := range p.Cases {
				got = append(got, c.CaseNo)
			}
			if p.NextCursor == "" {
				return got
			}
			f.Cursor = p.NextCursor
		}
	}
	scope := &register.Scope{LedgerUnits: []string{"land"}}
	for _, tc := range []struct {
		name string
		f    register.ListFilter
		keep func(row) bool
	}{
		{"proposed", register.ListFilter{JointStatus: workflows.JointProposed, Limit: 1}, func(r row) bool { return r.joint == workflows.JointProposed }},
		{"approved", register.ListFilter{JointStatus: workflows.JointApproved}, func(r row) bool { return r.joint == workflows.JointApproved }},
		{"declined", register.ListFilter{JointStatus: workflows.JointDeclined}, func(r row) bool { return r.joint == workflows.JointDeclined }},
		{"concluded", register.ListFilter{JointStatus: workflows.JointConcluded}, func(r row) bool { return r.joint == workflows.JointConcluded }},
		{"awaiting report", register.ListFilter{AssignmentStatus: workflows.AssignmentAwaiting, Limit: 1}, func(r row) bool { return r.assignment == workflows.AssignmentAwaiting }},
		{"reported", register.ListFilter{AssignmentStatus: workflows.AssignmentReported}, func(r row) bool { return r.assignment == workflows.AssignmentReported }},
		{"accepted", register.ListFilter{AssignmentStatus: workflows.AssignmentAccepted}, func(r row) bool { return r.assignment == workflows.AssignmentAccepted }},
		{"co-handled by health", register.ListFilter{InvolvedUnit: "health", Limit: 2}, func(r row) bool { return slices.Contains(r.involved, "health") }},
		{"team with land", register.ListFilter{InvolvedUnit: "land"}, func(r row) bool { return slices.Contains(r.involved, "land") }},
		{"the lead unit, on the team", register.ListFilter{InvolvedUnit: "construction"}, func(r row) bool {
			return slices.Contains(r.involved, "construction") // the team lists the lead unit too
		}},
		{"no such unit", register.ListFilter{InvolvedUnit: "education"}, func(row) bool { return false }},
		{"combined", register.ListFilter{JointStatus: workflows.JointApproved, InvolvedUnit: "land", AssignmentStatus: workflows.AssignmentAwaiting},
			func(r row) bool {
				return r.joint == workflows.JointApproved && r.assignment == workflows.AssignmentAwaiting && slices.Contains(r.involved, "land")
			}},
		{"land's scope sees the team's cases", register.ListFilter{Scope: scope, JointStatus: workflows.JointConcluded},
			func(r row) bool { return r.joint == workflows.JointConcluded }},
		{"land's scope, proposed: none", register.ListFilter{Scope: scope, JointStatus: workflows.JointProposed}, func(row) bool { return false }},
		// A scope's own cases and those its units co-handle or investigate jointly are two
		// branches of the query: paged together, each case once.
		{"land's scope, paged by 2", register.ListFilter{Scope: scope, Limit: 2}, func(r row) bool { return slices.Contains(r.involved, "land") }},
		{"health's scope, paged by 1", register.ListFilter{Scope: &register.Scope{LedgerUnits: []string{"health"}}, Limit: 1},
			func(r row) bool { return slices.Contains(r.involved, "health") }},
		{"construction's scope: its cases once, those on its team too", register.ListFilter{Scope: &register.Scope{LedgerUnits: []string{"construction"}}, Limit: 5},
			func(row) bool { return true }},
		{"construction and health with a reviewer's arm", register.ListFilter{Scope: &register.Scope{LedgerUnits: []string{"health"}, ReviewUnits: []string{"district"}}, AssignmentStatus: workflows.AssignmentAwaiting},
			func(r row) bool {
				return r.assignment == workflows.AssignmentAwaiting && slices.Contains(r.involved, "health")
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := want(tc.keep)
			if got := list(tc.f); !slices.Equal(got, w) {
				t.Errorf("got %v, want %v", got, w)
			}
			n, capped, err := s.Count(ctx, tc.f, 0)
			if err != nil || capped || n != len(w) {
				t.Errorf("Count: %d %v %v, want %d", n, capped, err, len(w))
			}
		})
	}
	if len(want(func(r row) bool {
		return r.joint == workflows.JointApproved && r.assignment == workflows.AssignmentAwaiting
	})) == 0 {
		t.Fatal("test data has no approved joint investigation awaiting a result report")
	}
	for _, f := range []register.ListFilter{{JointStatus: "pending"}, {AssignmentStatus: "awaiting"}, {JointStatus: "x' OR '1'='1"}} {
		if _, err := s.List(ctx, f); !errors.Is(err, register.ErrInvalidInput) {
			t.Errorf("List(%+v): %v, want ErrInvalidInput", f, err)
		}
		if _, _, err := s.Count(ctx, f, 0); !errors.Is(err, register.ErrInvalidInput) {
			t.Errorf("Count(%+v): %v, want ErrInvalidInput", f, err)
		}
	}
}
