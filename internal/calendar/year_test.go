package calendar

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestBuiltin(t *testing.T) {
	years := Builtin()
	if len(years) != 2 || years[0].Year != 2025 || years[1].Year != 2026 {
		t.Fatalf("Builtin years = %v, want 2025 and 2026", yearNumbers(years))
	}
	want := map[int][2]int{2025: {28, 5}, 2026: {33, 6}} // holidays, make-up workdays
	for _, y := range years {
		if err := y.Validate(); err != nil {
			t.Errorf("%d: %v", y.Year, err)
		}
		if got := [2]int{len(y.Holidays), len(y.Workdays)}; got != want[y.Year] {
			t.Errorf("%d: %d holidays and %d make-up workdays, want %v", y.Year, got[0], got[1], want[y.Year])
		}
		if !strings.Contains(y.Source, "国务院办公厅") {
			t.Errorf("%d: source %q does not cite the State Council notice", y.Year, y.Source)
		}
		for _, d := range append(y.Holidays, y.Workdays...) {
			if d.Name == "" {
				t.Errorf("%d: %s has no name", y.Year, d.Date)
			}
		}
	}
	// Callers get copies: mutating one must not leak into the next call.
	years[0].Holidays[0].Name = "changed"
	if Builtin()[0].Holidays[0].Name == "changed" {
		t.Error("Builtin shares its slices with callers")
	}
}

func TestYearJSONShape(t *testing.T) {
	data, err := json.Marshal(Builtin()[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"year":2026`, `"holidays":[`, `"workdays":[`, `"source":`, `"date":"2026-02-15"`, `"name":"春节 Spring Festival"`} {
		if !strings.Contains(string(data), key) {
			t.Errorf("JSON lacks %s: %s", key, data)
		}
	}
	var back Year
	if err := json.Unmarshal(data, &back); err != nil || back.Validate() != nil || len(back.Holidays) != 33 {
		t.Errorf("round trip: %v %v %d", err, back.Validate(), len(back.Holidays))
	}
}

func TestYearValidate(t *testing.T) {
	ok := Year{Year: 2026, Holidays: []Day{{"2026-02-15", "春节"}}, Workdays: []Day{{"2026-02-14", "调休"}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid year: %v", err)
	}
	tests := []struct {
		name string
		y    Year
		want []string // substrings of the error
	}{
		{"bad year", Year{Year: 0}, []string{"year must be between"}},
		{"unparsable", Year{Year: 2026, Holidays: []Day{{"2026-2-1", "x"}}}, []string{`"2026-2-1"`, "YYYY-MM-DD"}},
		{"no such day", Year{Year: 2026, Holidays: []Day{{"2026-02-30", "x"}}}, []string{`"2026-02-30"`}},
		{"holiday in another year", Year{Year: 2026, Holidays: []Day{{"2025-10-01", "x"}}}, []string{"holiday 2025-10-01 is not in 2026"}},
		{"duplicate holiday", Year{Year: 2026, Holidays: []Day{{"2026-10-01", "x"}, {"2026-10-01", "y"}}}, []string{"holiday 2026-10-01 is listed twice"}},
		{"make-up on a weekday", Year{Year: 2026, Workdays: []Day{{"2026-02-13", "x"}}}, []string{"make-up workday 2026-02-13 is a Friday"}},
		{"make-up that is a holiday", Year{Year: 2026, Holidays: []Day{{"2026-02-21", "春节"}}, Workdays: []Day{{"2026-02-21", "x"}}},
			[]string{"make-up workday 2026-02-21 is also listed as a holiday"}},
		{"duplicate make-up", Year{Year: 2026, Workdays: []Day{{"2026-02-14", "x"}, {"2026-02-14", "x"}}}, []string{"make-up workday 2026-02-14 is listed twice"}},
		{"make-up in another year", Year{Year: 2026, Workdays: []Day{{"2025-02-08", "x"}}}, []string{"make-up workday 2025-02-08 is not in 2026"}},
		{"all reported", Year{Year: 2026, Holidays: []Day{{"2025-01-01", "x"}}, Workdays: []Day{{"2026-03-02", "x"}}},
			[]string{"2025-01-01", "2026-03-02 is a Monday"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.y.Validate()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestCalendarBuild(t *testing.T) {
	if _, err := New(Builtin()[0], Builtin()[0]); err == nil || !strings.Contains(err.Error(), "2025 given twice") {
		t.Errorf("duplicate year: %v", err)
	}
	if _, err := New(Year{Year: 2026, Workdays: []Day{{"2026-03-02", "x"}}}); err == nil {
		t.Error("New accepted an invalid year")
	}
	c := Default()
	if got := yearNumbers(c.Years()); len(got) != 2 || got[0] != 2025 || got[1] != 2026 {
		t.Errorf("Years = %v", got)
	}
	if !c.Covers(2025) || !c.Covers(2026) || c.Covers(2027) {
		t.Error("Covers is wrong")
	}
	if c.Provisional(2026) || !c.Provisional(2027) || c.Provisional(2024) || c.Provisional(ProvisionalLast+1) {
		t.Error("Provisional is wrong")
	}

	// With replaces one year in a new calendar and leaves the old one alone: here 2026 is
	// replaced by an arrangement in which Monday 2026-03-02 is a holiday and nothing else is.
	repl := Year{Year: 2026, Holidays: []Day{{"2026-03-02", "test holiday"}}, Source: "test"}
	c2, err := c.With(repl)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := c2.IsWorkingDay(sh(2026, 3, 2, 12, 0)); ok {
		t.Error("With: replaced year not in effect")
	}
	if ok, _ := c2.IsWorkingDay(sh(2026, 2, 16, 12, 0)); !ok {
		t.Error("With: old 2026 holidays still in effect")
	}
	if ok, _ := c.IsWorkingDay(sh(2026, 2, 16, 12, 0)); ok {
		t.Error("With changed the receiver")
	}
	if ok, _ := c2.IsWorkingDay(sh(2025, 10, 1, 12, 0)); ok {
		t.Error("With lost the other years")
	}
	if ys := c2.Years(); len(ys) != 2 || ys[1].Source != "test" {
		t.Errorf("With: Years = %+v", ys)
	}
	if _, err := c.With(Year{Year: 2027, Holidays: []Day{{"2026-01-01", "x"}}}); err == nil {
		t.Error("With accepted an invalid year")
	}
	c3, err := c.With(Year{Year: 2027})
	if err != nil || !c3.Covers(2027) || c.Covers(2027) {
		t.Errorf("With adding a year: %v", err)
	}
}

func TestIsWorkingDay(t *testing.T) {
	c := Default()
	tests := []struct {
		at     time.Time
		want   bool
		reason string
	}{
		{sh(2026, 2, 13, 9, 0), true, "working day (Friday)"},
		{sh(2026, 2, 14, 9, 0), true, "make-up workday: 春节调休 Spring Festival make-up workday (Saturday)"},
		{sh(2026, 2, 15, 9, 0), false, "holiday: 春节 Spring Festival"},
		{sh(2026, 2, 23, 9, 0), false, "holiday: 春节 Spring Festival"},
		{sh(2026, 3, 1, 9, 0), false, "weekend (Sunday)"},
		{sh(2025, 10, 8, 23, 59), false, "holiday: 国庆节、中秋节 National Day and Mid-Autumn Festival"},
		{sh(2025, 10, 11, 0, 0), true, "make-up workday: 国庆节调休 National Day make-up workday (Saturday)"},
		// 2026-02-14 16:30 UTC is 2026-02-15 00:30 in Shanghai: the Shanghai date decides.
		{time.Date(2026, 2, 14, 16, 30, 0, 0, time.UTC), false, "holiday: 春节 Spring Festival"},
		// No notice for 2027 is loaded: the provisional calendar's statutory holidays are rest days.
		{sh(2027, 1, 1, 9, 0), false, "provisional holiday: 元旦 New Year's Day (statutory; the State Council's notice for 2027 is not loaded)"},
		{sh(2027, 1, 4, 9, 0), true, "working day (Monday); the State Council's notice for 2027 is not loaded: provisional calendar (statutory holidays only)"},
		{sh(2027, 1, 3, 9, 0), false, "weekend (Sunday); the State Council's notice for 2027 is not loaded: provisional calendar (statutory holidays only)"},
		// Before 2025 (the amended 办法) a year without a notice has weekends only.
		{sh(2024, 10, 1, 9, 0), true, "working day (Tuesday); no holiday calendar for 2024: only weekends known"},
	}
	for _, tt := range tests {
		ok, reason := c.IsWorkingDay(tt.at)
		if ok != tt.want || reason != tt.reason {
			t.Errorf("IsWorkingDay(%s) = %v, %q; want %v, %q", tt.at, ok, reason, tt.want, tt.reason)
		}
	}
	// A nil calendar loads no notice: weekends and the provisional calendars only; it must not
	// panic. Monday 2026-02-16 is the 2026 Spring Festival eve, Tuesday 2026-03-03 a working day.
	var none *Calendar
	if ok, _ := none.IsWorkingDay(sh(2026, 2, 16, 9, 0)); ok || none.Covers(2026) || !none.Provisional(2026) || len(none.Years()) != 0 {
		t.Error("nil calendar misbehaves")
	}
	if ok, _ := none.IsWorkingDay(sh(2026, 3, 3, 9, 0)); !ok {
		t.Error("nil calendar: an ordinary Tuesday is not a working day")
	}
}

func yearNumbers(ys []Year) []int {
	var out []int
	for _, y := range ys {
		out = append(out, y.Year)
	}
	return out
}

// sh is a wall-clock instant in Asia/Shanghai.
func sh(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, Location())
}
