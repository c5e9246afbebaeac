package register_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/internal/register"
)

func TestSeedDemoIsIdempotentAndRoutes(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	count := func() (n [3]int) {
		for i, table := range []string{"units", "staff", "routing_rules"} {
			if err := s.Pool().QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n[i]); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	if err := s.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	first := count()
	if _, err := s.Pool().Exec(ctx, "UPDATE units SET name = 'renamed' WHERE code = 'health'"); err != nil {
		t.Fatal(err)
	}
	if err := s.SeedDemo(ctx); err != nil {
		t.Fatalf("second SeedDemo: %v", err)
	}
	if second := count(); second != first {
		t.Errorf("rows after reseeding %v, after seeding %v", second, first)
	}

	units, err := s.Units(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 19 {
		t.Errorf("%d units, want 19 (province, city, district, petition office, 15 bureaus)", len(units))
	}
	u, err := s.Unit(ctx, "health")
	if err != nil || u.Name != "区卫生健康局" || u.Parent != "district" || u.Head != "head.health" || u.Leader != "leader.health" {
		t.Errorf("Unit(health) = %+v, %v (reseeding restores the name)", u, err)
	}
	if u, err := s.Unit(ctx, "province"); err != nil || u.Parent != "" {
		t.Errorf("Unit(province) = %+v, %v", u, err)
	}
	if _, err := s.Unit(ctx, "nope"); !errors.Is(err, register.ErrNotFound) {
		t.Errorf("Unit(nope) = %v", err)
	}
	// The review chain: bureau -> district -> city -> province.
	for code, parent := range map[string]string{"construction": "district", "petition_office": "district",
		"district": "city", "city": "province"} {
		if u, _ := s.Unit(ctx, code); u.Parent != parent {
			t.Errorf("%s parent %q, want %q", code, u.Parent, parent)
		}
	}
	// Every head and leader named by a unit is a member of staff of that unit.
	for _, u := range units {
		for _, id := range []string{u.Head, u.Leader} {
			st, err := s.Staff(ctx, id)
			if err != nil || st.Role != "leader" || st.Unit != u.Code {
				t.Errorf("unit %s: staff %q = %+v, %v", u.Code, id, st, err)
			}
		}
	}
	for id, want := range map[string][2]string{
		"clerk.li": {"clerk", "petition_office"}, "supervisor.zhao": {"supervisor", "petition_office"},
		"reviewer.district": {"reviewer", "district"}, "reviewer.city": {"reviewer", "city"},
		"handler.construction": {"handler", "construction"}, "leader.construction": {"leader", "construction"},
		"head.construction": {"leader", "construction"},
	} {
		st, err := s.Staff(ctx, id)
		if err != nil || st.Role != want[0] || st.Unit != want[1] || st.Name == "" {
			t.Errorf("Staff(%s) = %+v, %v; want role %s in %s", id, st, err, want[0], want[1])
		}
	}
	if _, err := s.Staff(ctx, "nobody"); !errors.Is(err, register.ErrNotFound) {
		t.Errorf("Staff(nobody) = %v", err)
	}
	staff, err := s.StaffList(ctx)
	if err != nil || len(staff) != first[1] {
		t.Errorf("StaffList = %d, %v", len(staff), err)
	}
	rules, err := s.RoutingRules(ctx)
	if err != nil || len(rules) != first[2] || rules[0].Priority < rules[len(rules)-1].Priority {
		t.Errorf("RoutingRules = %d rules, %v", len(rules), err)
	}

	for _, tc := range []struct{ category, topic, want string }{
		{"appeal", "Unpaid WAGES at a building site", "construction"},
		{"appeal", "拖欠农民工工资", "construction"},
		{"appeal", "拆迁补偿", "construction"},
		{"appeal", "Illegal construction next door", "urban_management"}, // beats "construction"
		{"appeal", "违章建筑", "urban_management"},
		{"appeal", "医疗纠纷", "health"},
		{"appeal", "land requisition compensation", "land"},
		{"appeal", "土地承包合同", "agriculture"}, // beats "土地"
		{"appeal", "劳动争议", "hrss"},
		{"suggestion", "学校收费", "education"},
		{"accusation", "化工厂污染", "environment"},
		{"accusation", "environment", "environment"},
		{"inquiry", "天气", ""},
		{"inquiry", "", ""},
	} {
		got, err := s.Route(ctx, tc.category, tc.topic)
		if err != nil || got != tc.want {
			t.Errorf("Route(%q, %q) = %q, %v; want %q", tc.category, tc.topic, got, err, tc.want)
		}
	}

	// A category-specific rule applies only to its category and wins by priority.
	if _, err := s.Pool().Exec(ctx, `INSERT INTO routing_rules (keyword, category, unit, priority)
		VALUES ('工资', 'accusation', 'discipline', 50)`); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Route(ctx, "accusation", "挪用工资"); got != "discipline" {
		t.Errorf("category rule: %q", got)
	}
	if got, _ := s.Route(ctx, "appeal", "挪用工资"); got != "construction" {
		t.Errorf("category rule leaked to another category: %q", got)
	}
}

func TestCalendarYears(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if _, err := s.CalendarYear(ctx, 2026); !errors.Is(err, register.ErrNotFound) {
		t.Errorf("CalendarYear before any put: %v", err)
	}
	if ys, err := s.CalendarYears(ctx); err != nil || len(ys) != 0 {
		t.Errorf("CalendarYears empty = %v, %v", ys, err)
	}
	builtin := calendar.Builtin()
	for _, y := range builtin {
		if err := s.PutCalendarYear(ctx, y); err != nil {
			t.Fatalf("PutCalendarYear(%d): %v", y.Year, err)
		}
	}
	byDate := func(a, b calendar.Day) int { return strings.Compare(a.Date, b.Date) }
	for _, want := range builtin {
		got, err := s.CalendarYear(ctx, want.Year)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(want.Holidays, byDate)
		slices.SortFunc(want.Workdays, byDate)
		if got.Year != want.Year || got.Source != want.Source || !slices.Equal(got.Holidays, want.Holidays) ||
			!slices.Equal(got.Workdays, want.Workdays) {
			t.Errorf("CalendarYear(%d) = %+v\nwant %+v", want.Year, got, want)
		}
	}

	// Replacing a year drops the days it no longer lists.
	replacement := calendar.Year{Year: 2026, Source: "corrected notice",
		Holidays: []calendar.Day{{Date: "2026-01-01", Name: "元旦 New Year's Day"}}}
	if err := s.PutCalendarYear(ctx, replacement); err != nil {
		t.Fatal(err)
	}
	got, err := s.CalendarYear(ctx, 2026)
	if err != nil || got.Source != "corrected notice" || len(got.Holidays) != 1 || len(got.Workdays) != 0 {
		t.Errorf("replaced 2026 = %+v, %v", got, err)
	}
	years, err := s.CalendarYears(ctx)
	if err != nil || len(years) != len(builtin) || years[0].Year >= years[len(years)-1].Year {
		t.Errorf("CalendarYears = %d years, %v", len(years), err)
	}

	// A weekday "make-up workday" is refused and changes nothing.
	bad := calendar.Year{Year: 2026, Workdays: []calendar.Day{{Date: "2026-03-04", Name: "Wednesday"}}}
	if err := s.PutCalendarYear(ctx, bad); !errors.Is(err, register.ErrInvalidInput) {
		t.Errorf("invalid year: %v, want ErrInvalidInput", err)
	}
	if got, _ := s.CalendarYear(ctx, 2026); got.Source != "corrected notice" {
		t.Errorf("invalid put changed the year: %+v", got)
	}
}
