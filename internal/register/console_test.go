package register_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// consoleFixture registers cases of two petitioners across categories and staff:
//
//	appeal    张三 (ID, phone)   accepted into construction, handler h.a, leader l.a, by clerk.li
//	accusation 张三 (ID)         accepted into construction, handler h.a, by clerk.wang
//	appeal    李四 (phone)       routed to health, by clerk.li
//	inquiry   王五 (phone)       accepted into health, handler h.b, leader l.a, by clerk.wang
func consoleFixture(t *testing.T) (*register.Store, map[string]register.Case) {
	t.Helper()
	s := newStore(t)
	zhang := register.Petitioner{Name: "张三", IDNumber: "11010519491231002X", Phone: "13800001111"}
	cases := map[string]register.Case{}
	add := func(key string, nc register.NewCase, unit, handler, leader string, due time.Time) {
		c := mustRegister(t, s, nc)
		st := stateOf(c)
		if handler != "" {
			st.Stage, st.Unit, st.Handler, st.Leader = workflows.StageHandling, unit, handler, leader
			st.AcceptedAt = ptr(nc.RegisteredAt.Add(time.Hour))
		}
		st.Deadline = &workflows.Deadline{Clock: workflows.ClockHandling, Due: due}
		apply(t, s, 1, workflows.EventAccepted, st)
		cases[key] = c
	}
	add("appeal", register.NewCase{Category: "appeal", Topic: "拖欠工资", Content: "工地欠薪", RegisteredAt: day(3, 2),
		RegisteredBy: "clerk.li", SuggestedUnit: "construction", Petitioners: []register.Petitioner{zhang}},
		"construction", "h.a", "l.a", day(4, 2))
	add("accusation", register.NewCase{Category: "accusation", Topic: "检举某局长", Content: "受贿", RegisteredAt: day(3, 5),
		RegisteredBy: "clerk.wang", SuggestedUnit: "construction",
		Petitioners: []register.Petitioner{{Name: "张三", IDNumber: "11010519491231002x"}}},
		"construction", "h.a", "", day(4, 1))
	add("routed", register.NewCase{Category: "appeal", Topic: "医疗纠纷", Content: "医院", RegisteredAt: day(3, 9),
		RegisteredBy: "clerk.li", SuggestedUnit: "health", Petitioners: []register.Petitioner{{Name: "李四", Phone: "139 0000 2222"}}},
		"", "", "", day(3, 20))
	add("inquiry", register.NewCase{Category: "inquiry", Topic: "医保报销", Content: "咨询", RegisteredAt: day(3, 12),
		RegisteredBy: "clerk.wang", SuggestedUnit: "health", Petitioners: []register.Petitioner{{Name: "王五", Phone: "13900003333"}}},
		"health", "h.b", "l.a", day(4, 20))
	return s, cases
}

func caseNos(cs []register.Case) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.CaseNo
	}
	return out
}

func TestListByStaffAndRegistration(t *testing.T) {
	ctx := context.Background()
	s, c := consoleFixture(t)
	after, before := day(3, 5), day(3, 12)
	for _, tc := range []struct {
		name string
		f    register.ListFilter
		want []string // in list order: due key, then case number
	}{
		{"handler", register.ListFilter{Handler: "h.a"}, []string{c["accusation"].CaseNo, c["appeal"].CaseNo}},
		{"leader", register.ListFilter{Leader: "l.a"}, []string{c["appeal"].CaseNo, c["inquiry"].CaseNo}},
		{"registered by", register.ListFilter{RegisteredBy: "clerk.li"}, []string{c["routed"].CaseNo, c["appeal"].CaseNo}},
		{"handler and leader", register.ListFilter{Handler: "h.a", Leader: "l.a"}, []string{c["appeal"].CaseNo}},
		{"registered in [5th, 12th)", register.ListFilter{RegisteredAfter: &after, RegisteredBefore: &before},
			[]string{c["routed"].CaseNo, c["accusation"].CaseNo}},
		{"registered from the 12th", register.ListFilter{RegisteredAfter: &before}, []string{c["inquiry"].CaseNo}},
		{"nobody's", register.ListFilter{Handler: "h.none"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.List(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := caseNos(p.Cases); !slices.Equal(got, tc.want) {
				t.Errorf("List = %v, want %v", got, tc.want)
			}
			n, capped, err := s.Count(ctx, tc.f, 0)
			if err != nil || n != len(tc.want) || capped {
				t.Errorf("Count = %d, %v, %v; want %d", n, capped, err, len(tc.want))
			}
		})
	}
}

// q finds a case by its number and by a person (name, ID number, phone however typed); the
// person match leaves out accusations when asked to, and never matches on an empty hash.
func TestListTextMatchesCaseNumberAndIdentity(t *testing.T) {
	ctx := context.Background()
	s, c := consoleFixture(t)
	all := register.ListFilter{TextMatchesIdentity: true}
	noAccusations := register.ListFilter{TextMatchesIdentity: true, IdentityExcludesAccusations: true}
	appeal, acc, routed, inquiry := c["appeal"].CaseNo, c["accusation"].CaseNo, c["routed"].CaseNo, c["inquiry"].CaseNo
	for _, tc := range []struct {
		name string
		f    register.ListFilter
		q    string
		want []string
	}{
		{"case number", register.ListFilter{}, routed, []string{routed}},
		{"case number, identity on", all, inquiry, []string{inquiry}},
		{"topic still", all, "医", []string{routed, inquiry}},
		{"content still", all, "受贿", []string{acc}},
		{"name", all, "张三", []string{acc, appeal}},
		{"name, accusations hidden", noAccusations, "张三", []string{appeal}},
		{"name is exact", all, "张", []string{}},
		{"name without identity matching", register.ListFilter{}, "张三", []string{}},
		{"ID number, lower-case x", all, "11010519491231002x", []string{acc, appeal}},
		{"ID number, accusations hidden", noAccusations, " 11010519491231002X ", []string{appeal}},
		{"phone with separators", all, "139-0000-2222", []string{routed}},
		{"phone with country code", all, "+86 138 0000 1111", []string{appeal}},
		{"phone, full-width digits", all, "１３９００００３３３３", []string{inquiry}},
		{"nobody", all, "13999999999", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f
			f.Text = tc.q
			p, err := s.List(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if got := caseNos(p.Cases); !slices.Equal(got, tc.want) {
				t.Errorf("q=%q: %v, want %v", tc.q, got, tc.want)
			}
		})
	}
	// A petitioner without an ID number has an empty hash: a search must not match them all.
	if _, err := s.Pool().Exec(ctx, `INSERT INTO petitioners (case_no, position, name) VALUES ($1, 9, '')`, inquiry); err != nil {
		t.Fatal(err)
	}
	p, err := s.List(ctx, register.ListFilter{TextMatchesIdentity: true, Text: "123456789012345"})
	if err != nil || len(p.Cases) != 0 {
		t.Errorf("an unknown ID number matched %v (%v)", caseNos(p.Cases), err)
	}
}

func TestCountCaps(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for i := range 7 {
		mustRegister(t, s, register.NewCase{Topic: fmt.Sprintf("topic %d", i), RegisteredAt: day(3, 1+i)})
	}
	for _, tc := range []struct {
		f      register.ListFilter
		limit  int
		n      int
		capped bool
	}{
		{register.ListFilter{}, 5, 5, true},
		{register.ListFilter{}, 6, 6, true},
		{register.ListFilter{}, 7, 7, false},
		{register.ListFilter{}, 0, 7, false}, // CountCap
		{register.ListFilter{Text: "topic 3"}, 1, 1, false},
		{register.ListFilter{Limit: 2, Cursor: "ignored"}, 10, 7, false},
		{register.ListFilter{Scope: &register.Scope{}}, 10, 0, false},
	} {
		n, capped, err := s.Count(ctx, tc.f, tc.limit)
		if err != nil || n != tc.n || capped != tc.capped {
			t.Errorf("Count(%+v, %d) = %d, %v, %v; want %d, %v", tc.f, tc.limit, n, capped, err, tc.n, tc.capped)
		}
	}
}

func TestExport(t *testing.T) {
	ctx := context.Background()
	s, c := consoleFixture(t)
	all, capped, err := s.Export(ctx, register.ListFilter{Limit: 1}, 0)
	if err != nil || capped || len(all) != 4 {
		t.Fatalf("Export = %d cases, capped %v, %v", len(all), capped, err)
	}
	p, _ := s.List(ctx, register.ListFilter{})
	if !slices.Equal(caseNos(all), caseNos(p.Cases)) {
		t.Errorf("export order %v, list order %v", caseNos(all), caseNos(p.Cases))
	}
	for _, e := range all {
		if e.Content != "" || e.Location != "" || e.QueryCode != "" || e.Petitioners != nil || e.Topic == "" || e.RegisteredBy == "" {
			t.Errorf("exported %+v", e)
		}
	}
	two, capped, err := s.Export(ctx, register.ListFilter{}, 2)
	if err != nil || !capped || !slices.Equal(caseNos(two), caseNos(p.Cases)[:2]) {
		t.Errorf("Export capped at 2 = %v, %v, %v", caseNos(two), capped, err)
	}
	mine, _, err := s.Export(ctx, register.ListFilter{Handler: "h.a", Scope: &register.Scope{LedgerUnits: []string{"construction"}}}, 0)
	if err != nil || !slices.Equal(caseNos(mine), []string{c["accusation"].CaseNo, c["appeal"].CaseNo}) {
		t.Errorf("Export of a handler's queue = %v, %v", caseNos(mine), err)
	}
}

func TestPetitionerCases(t *testing.T) {
	ctx := context.Background()
	s, c := consoleFixture(t)
	appeal, acc, routed := c["appeal"].CaseNo, c["accusation"].CaseNo, c["routed"].CaseNo
	for _, tc := range []struct {
		name string
		q    register.PetitionerQuery
		want []string // newest registration first
	}{
		{"ID number", register.PetitionerQuery{IDNumber: "11010519491231002x"}, []string{acc, appeal}},
		{"phone", register.PetitionerQuery{Phone: "+86 138-0000-1111"}, []string{appeal}},
		{"either", register.PetitionerQuery{IDNumber: "11010519491231002X", Phone: "13900002222"}, []string{routed, acc, appeal}},
		{"accusations hidden", register.PetitionerQuery{IDNumber: "11010519491231002X", ExcludeAccusations: true}, []string{appeal}},
		{"scoped", register.PetitionerQuery{IDNumber: "11010519491231002X", Phone: "13900002222",
			Scope: &register.Scope{LedgerUnits: []string{"health"}}}, []string{routed}},
		{"limit", register.PetitionerQuery{IDNumber: "11010519491231002X", Limit: 1}, []string{acc}},
		{"nothing to match", register.PetitionerQuery{}, []string{}},
		{"nobody", register.PetitionerQuery{Phone: "12345"}, []string{}},
	} {
		got, err := s.PetitionerCases(ctx, tc.q)
		if err != nil || !slices.Equal(caseNos(got), tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, caseNos(got), err, tc.want)
		}
		for _, g := range got {
			if g.Petitioners != nil || g.Content != "" {
				t.Errorf("%s: personal data in %+v", tc.name, g)
			}
		}
	}
	if _, err := register.New(s.Pool()).PetitionerCases(ctx, register.PetitionerQuery{Phone: "13800001111"}); err == nil {
		t.Error("a store without keys matched identities")
	}
}

func TestStaffDirectory(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE staff SET phone = '13900000000' WHERE id = 'handler.construction'`); err != nil {
		t.Fatal(err)
	}
	got, err := s.StaffDirectory(ctx, "construction", "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, st := range got {
		ids = append(ids, st.ID)
		if st.Phone != "" || st.Unit != "construction" {
			t.Errorf("entry %+v", st)
		}
	}
	if !slices.Equal(ids, []string{"handler.construction", "head.construction", "leader.construction"}) {
		t.Errorf("construction's staff %v", ids)
	}
	handlers, err := s.StaffDirectory(ctx, "", "handler")
	if err != nil || len(handlers) < 5 || !slices.IsSortedFunc(handlers, func(a, b register.Staff) int {
		return strings.Compare(a.Unit+"/"+a.ID, b.Unit+"/"+b.ID)
	}) {
		t.Errorf("handlers: %d, %v", len(handlers), err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE staff SET disabled = true WHERE id = 'handler.construction'`); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.StaffDirectory(ctx, "construction", "handler"); len(got) != 0 {
		t.Errorf("a disabled account is listed: %+v", got)
	}
}

// The monthly ledger's rates are Stats' (one definition): for each unit the same figures.
func TestMonthlyRatesAreStats(t *testing.T) {
	ctx := context.Background()
	s := statsFixture(t)
	rows, err := s.MonthlyReport(ctx, day(3, 1))
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, cst)
	for _, r := range rows {
		st, err := s.Stats(ctx, from, from.AddDate(0, 1, 0), r.Unit)
		if err != nil {
			t.Fatal(err)
		}
		if r.ParticipationRate != st.ParticipationRate || r.SatisfactionRate != st.SatisfactionRate ||
			r.OnTimeRate != st.OnTimeRate || r.Evaluated != st.Evaluated {
			t.Errorf("%s: row %+v, stats %+v", r.Unit, r, st)
		}
	}
}

// The first page of a person's queue is a seek into that person's index, in list order: no
// sort, however many cases the register holds.
func TestQueueFirstPageUsesItsIndex(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if _, err := s.Pool().Exec(ctx, `
		INSERT INTO cases (case_no, channel, category, topic, stage, handler, leader, registered_by,
			unit, received_at, registered_at, due_at, seq)
		SELECT '2026-' || lpad(i::text, 7, '0'), 'letter', 'appeal', 'topic ' || i, 'handling',
			'handler.' || (i % 200), 'leader.' || (i % 50), 'clerk.' || (i % 20), 'unit' || (i % 20),
			t, t, t + interval '30 days', 1
		FROM generate_series(1, 60000) AS i,
			LATERAL (SELECT timestamptz '2026-01-01 00:00+08' + (i % 300) * interval '1 day' AS t) x;
		INSERT INTO petitioners (case_no, position, name)
		SELECT '2026-' || lpad(i::text, 7, '0'), 0, 'name ' || i FROM generate_series(1, 60000) AS i;
		ANALYZE cases; ANALYZE petitioners`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f     register.ListFilter
		index string
	}{
		{register.ListFilter{Handler: "handler.7"}, "cases_handler_due_key_idx"},
		{register.ListFilter{Leader: "leader.7"}, "cases_leader_due_key_idx"},
		{register.ListFilter{RegisteredBy: "clerk.7"}, "cases_registered_by_due_key_idx"},
		{register.ListFilter{Handler: "handler.7", Cursor: cursorAfter(t, s, register.ListFilter{Handler: "handler.7"})},
			"cases_handler_due_key_idx"},
		{register.ListFilter{Text: "name 77", TextMatchesIdentity: true}, "petitioners_name_idx"},
	} {
		sql, args, err := register.ListQuery(s, tc.f, register.DefaultListLimit+1)
		if err != nil {
			t.Fatal(err)
		}
		var plan []byte
		if err := s.Pool().QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, args).Scan(&plan); err != nil {
			t.Fatal(err)
		}
		text := string(plan)
		if !strings.Contains(text, `"Index Name": "`+tc.index+`"`) {
			t.Errorf("%+v: plan does not use %s:\n%s", tc.f, tc.index, text)
		}
		if tc.index != "petitioners_name_idx" && strings.Contains(text, `"Node Type": "Sort"`) {
			t.Errorf("%+v: plan sorts:\n%s", tc.f, text)
		}
	}
}

// cursorAfter is the cursor after the first page of f.
func cursorAfter(t *testing.T, s *register.Store, f register.ListFilter) string {
	t.Helper()
	p, err := s.List(context.Background(), f)
	if err != nil || p.NextCursor == "" {
		t.Fatalf("first page: %v, next %q", err, p.NextCursor)
	}
	return p.NextCursor
}
