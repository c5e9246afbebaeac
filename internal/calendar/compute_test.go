package calendar

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func wd(n int) Period { return Period{Amount: n, Unit: WorkingDays} }
func cd(n int) Period { return Period{Amount: n, Unit: CalendarDays} }
func mo(n int) Period { return Period{Amount: n, Unit: Months} }

// span expands kind:date entries over an inclusive date range.
func span(kind StepKind, from, to string) []string {
	d, _ := time.Parse(dateLayout, from)
	end, _ := time.Parse(dateLayout, to)
	var out []string
	for ; !d.After(end); d = d.AddDate(0, 0, 1) {
		out = append(out, string(kind)+":"+d.Format(dateLayout))
	}
	return out
}

func one(kind StepKind, dates ...string) []string {
	var out []string
	for _, d := range dates {
		out = append(out, string(kind)+":"+d)
	}
	return out
}

func join(parts ...[]string) []string { return slices.Concat(parts...) }

// dayed lists the steps that name a skipped, make-up or rolled-to day, in order.
func dayed(ex Explanation) []string {
	var out []string
	for _, s := range ex.Steps {
		switch s.Kind {
		case StepWeekend, StepHoliday, StepMakeUpWorkday, StepRolledForward:
			out = append(out, string(s.Kind)+":"+s.Date)
		}
	}
	return out
}

func TestCompute(t *testing.T) {
	full := Default()
	only2026, err := New(Builtin()[1])
	if err != nil {
		t.Fatal(err)
	}
	sf2026 := sh(2026, 2, 13, 10, 0) // a letter received on Friday 2026-02-13, 10:00

	tests := []struct {
		name string
		cal  *Calendar
		req  Request
		due  time.Time
		// days, when non-nil, is the exact list of skipped / make-up / rolled-to steps.
		days []string
		// summary, when set, is the exact summary; notes are substrings of some step's note.
		summary string
		notes   []string
	}{
		{
			// Hand count: Sat 02-14 make-up (1); 02-15..02-23 Spring Festival (9 skipped);
			// 02-24..02-27 (2–5); Sat 02-28 make-up (6); Sun 03-01 skipped; 03-02..03-06 (7–11);
			// 03-07, 03-08 skipped; 03-09..03-12 (12–15). Ends 24:00 Thursday 2026-03-12.
			name: "Spring Festival 2026, 15 working days from Friday 02-13",
			req:  Request{Start: sf2026, Period: wd(15)},
			due:  sh(2026, 3, 13, 0, 0),
			days: join(one(StepMakeUpWorkday, "2026-02-14"), span(StepHoliday, "2026-02-15", "2026-02-23"),
				one(StepMakeUpWorkday, "2026-02-28"), one(StepWeekend, "2026-03-01", "2026-03-07", "2026-03-08")),
			summary: "due 2026-03-12 24:00 (15 working days; skipped 9 holiday and 3 weekend days; 2 make-up workdays)",
			notes:   []string{"working day 15 of 15: base period ends", "due at 24:00 of 2026-03-12 (Thursday), i.e. 2026-03-13 00:00"},
		},
		{
			name: "same case with the start given in UTC (01:30 Shanghai)",
			req:  Request{Start: time.Date(2026, 2, 12, 17, 30, 0, 0, time.UTC), Period: wd(15)},
			due:  sh(2026, 3, 13, 0, 0),
		},
		{
			name: "same case starting at 00:00 exactly: the start day is still not counted",
			req:  Request{Start: sh(2026, 2, 13, 0, 0), Period: wd(15)},
			due:  sh(2026, 3, 13, 0, 0),
		},
		{
			// Sat 01-25 skipped; Sun 01-26 make-up (1); 01-27 (2); 01-28..02-04 (8 skipped);
			// 02-05..02-07 (3–5); Sat 02-08 make-up (6); Sun 02-09 skipped; 02-10..02-13 (7–10).
			name: "Spring Festival 2025, 10 working days from Friday 01-24",
			req:  Request{Start: sh(2025, 1, 24, 16, 0), Period: wd(10)},
			due:  sh(2025, 2, 14, 0, 0),
			days: join(one(StepWeekend, "2025-01-25"), one(StepMakeUpWorkday, "2025-01-26"),
				span(StepHoliday, "2025-01-28", "2025-02-04"), one(StepMakeUpWorkday, "2025-02-08"), one(StepWeekend, "2025-02-09")),
			summary: "due 2025-02-13 24:00 (10 working days; skipped 8 holiday and 2 weekend days; 2 make-up workdays)",
		},
		{
			// Sat 09-27 skipped; Sun 09-28 make-up (1); 09-29, 09-30 (2, 3); 10-01..10-08 skipped;
			// 10-09, 10-10 (4, 5).
			name: "National Day 2025, 5 working days from Friday 09-26",
			req:  Request{Start: sh(2025, 9, 26, 9, 0), Period: wd(5)},
			due:  sh(2025, 10, 11, 0, 0),
			days: join(one(StepWeekend, "2025-09-27"), one(StepMakeUpWorkday, "2025-09-28"), span(StepHoliday, "2025-10-01", "2025-10-08")),
		},
		{
			// 10-01..10-08 skipped; 10-09, 10-10 (1, 2); Sat 10-11 make-up (3); Sun 10-12 skipped;
			// 10-13..10-17 (4–8); 10-18, 10-19 skipped; 10-20..10-24 (9–13); 10-25, 10-26
			// skipped; 10-27, 10-28 (14, 15).
			name: "National Day 2025, 15 working days from Tuesday 09-30",
			req:  Request{Start: sh(2025, 9, 30, 15, 0), Period: wd(15)},
			due:  sh(2025, 10, 29, 0, 0),
			days: join(span(StepHoliday, "2025-10-01", "2025-10-08"), one(StepMakeUpWorkday, "2025-10-11"),
				one(StepWeekend, "2025-10-12", "2025-10-18", "2025-10-19", "2025-10-25", "2025-10-26")),
			summary: "due 2025-10-28 24:00 (15 working days; skipped 8 holiday and 5 weekend days; 1 make-up workday)",
		},
		{
			// Sat 09-19 skipped; Sun 09-20 make-up (1); 09-21..09-24 (2–5); 09-25..09-27
			// Mid-Autumn skipped; 09-28..09-30 (6–8); 10-01..10-07 skipped; 10-08, 10-09 (9, 10).
			// The make-up Saturday 10-10 comes after the end.
			name: "Mid-Autumn and National Day 2026, 10 working days from Friday 09-18",
			req:  Request{Start: sh(2026, 9, 18, 11, 0), Period: wd(10)},
			due:  sh(2026, 10, 10, 0, 0),
			days: join(one(StepWeekend, "2026-09-19"), one(StepMakeUpWorkday, "2026-09-20"),
				span(StepHoliday, "2026-09-25", "2026-09-27"), span(StepHoliday, "2026-10-01", "2026-10-07")),
		},
		{
			// 09-16 + 15 days = 10-01, a holiday; rest runs to 10-08; next working day 10-09.
			name:    "calendar days ending on National Day 2025 roll forward",
			req:     Request{Start: sh(2025, 9, 16, 10, 0), Period: cd(15)},
			due:     sh(2025, 10, 10, 0, 0),
			days:    join(span(StepHoliday, "2025-10-01", "2025-10-08"), one(StepRolledForward, "2025-10-09")),
			summary: "due 2025-10-09 24:00 (15 calendar days; rolled forward from 2025-10-01, 国庆节、中秋节 National Day and Mid-Autumn Festival)",
			notes:   []string{"last day 2025-10-01 (国庆节、中秋节 National Day and Mid-Autumn Festival) is a rest day; the period ends on the next working day 2025-10-09"},
		},
		{
			name: "calendar days ending on National Day 2026 roll forward",
			req:  Request{Start: sh(2026, 9, 16, 10, 0), Period: cd(15)},
			due:  sh(2026, 10, 9, 0, 0),
			days: join(span(StepHoliday, "2026-10-01", "2026-10-07"), one(StepRolledForward, "2026-10-08")),
		},
		{
			// 01-20 + 30 days = 02-19, inside the Spring Festival; next working day 02-24.
			name: "30 calendar days ending in the Spring Festival 2026 roll forward",
			req:  Request{Start: sh(2026, 1, 20, 10, 0), Period: cd(30)},
			due:  sh(2026, 2, 25, 0, 0),
			days: join(span(StepHoliday, "2026-02-19", "2026-02-23"), one(StepRolledForward, "2026-02-24")),
		},
		{
			name: "calendar days ending on an ordinary Saturday roll to Monday",
			req:  Request{Start: sh(2026, 3, 6, 10, 0), Period: cd(15)},
			due:  sh(2026, 3, 24, 0, 0),
			days: join(one(StepWeekend, "2026-03-21", "2026-03-22"), one(StepRolledForward, "2026-03-23")),
		},
		{
			name: "calendar days ending on a make-up Saturday do not roll",
			req:  Request{Start: sf2026, Period: cd(15)},
			due:  sh(2026, 3, 1, 0, 0),
			days: []string{},
		},
		{
			// No 31 February: the last day is 02-28, a make-up Saturday in 2026, so no roll.
			name:  "one month from 2026-01-31",
			req:   Request{Start: sh(2026, 1, 31, 10, 0), Period: mo(1)},
			due:   sh(2026, 3, 1, 0, 0),
			days:  []string{},
			notes: []string{"February 2026 has no day 31 (1 month after 2026-01-31), so its last day"},
		},
		{
			name: "one month from 2025-01-31",
			req:  Request{Start: sh(2025, 1, 31, 10, 0), Period: mo(1)},
			due:  sh(2025, 3, 1, 0, 0),
			days: []string{},
		},
		{
			name: "one month from 2026-01-15 ends in the Spring Festival and rolls forward",
			req:  Request{Start: sh(2026, 1, 15, 10, 0), Period: mo(1)},
			due:  sh(2026, 2, 25, 0, 0),
			days: join(span(StepHoliday, "2026-02-15", "2026-02-23"), one(StepRolledForward, "2026-02-24")),
		},
		{
			name: "one month from 2025-09-01 ends on National Day and rolls forward",
			req:  Request{Start: sh(2025, 9, 1, 10, 0), Period: mo(1)},
			due:  sh(2025, 10, 10, 0, 0),
		},
		{
			name: "two months across the year end, 2025-12-31",
			req:  Request{Start: sh(2025, 12, 31, 10, 0), Period: mo(2)},
			due:  sh(2026, 3, 1, 0, 0),
		},
		{
			// Touches Sat 02-14 (make-up), 02-24 and 02-25: +3 working days after 03-12:
			// 03-13 (1); 03-14, 03-15 skipped; 03-16, 03-17 (2, 3).
			name: "pause across the Spring Festival 2026 in working days",
			req: Request{Start: sf2026, Period: wd(15), Pauses: []Pause{
				{From: sh(2026, 2, 14, 9, 0), To: sh(2026, 2, 25, 18, 0), Reason: "awaiting materials"}}},
			due: sh(2026, 3, 18, 0, 0),
			days: join(one(StepMakeUpWorkday, "2026-02-14"), span(StepHoliday, "2026-02-15", "2026-02-23"),
				one(StepMakeUpWorkday, "2026-02-28"), one(StepWeekend, "2026-03-01", "2026-03-07", "2026-03-08", "2026-03-14", "2026-03-15")),
			summary: "due 2026-03-17 24:00 (15 working days + 3 working days paused; skipped 9 holiday and 5 weekend days; 2 make-up workdays)",
			notes:   []string{"touched 3 working days (2026-02-14, 2026-02-24, 2026-02-25)"},
		},
		{
			name: "pause wholly inside the Spring Festival adds no working day",
			req: Request{Start: sf2026, Period: wd(15), Pauses: []Pause{
				{From: sh(2026, 2, 16, 9, 0), To: sh(2026, 2, 20, 17, 0), Reason: "hearing"}}},
			due:   sh(2026, 3, 13, 0, 0),
			notes: []string{"touched 0 working days; no effect"},
		},
		{
			// Base: 02-13 + 15 = 02-28. The pause of 2 days 8 hours rounds up to 3 calendar days:
			// 02-28 + 3 = 03-03, a Tuesday.
			name: "pause in calendar days rounds up",
			req: Request{Start: sf2026, Period: cd(15), Pauses: []Pause{
				{From: sh(2026, 2, 20, 9, 0), To: sh(2026, 2, 22, 17, 0), Reason: "hearing"}}},
			due:   sh(2026, 3, 4, 0, 0),
			notes: []string{"2d8h, counted as 3 calendar days"},
		},
		{
			// Received Friday 10:00, paused until 02-14 12:00: only the make-up Saturday 02-14
			// counts (the start day is not counted anyway), so +1 working day: 03-13.
			name: "pause from the start day counts only from the next day",
			req: Request{Start: sf2026, Period: wd(15), Pauses: []Pause{
				{From: sh(2026, 2, 13, 11, 0), To: sh(2026, 2, 14, 12, 0)}}},
			due:   sh(2026, 3, 14, 0, 0),
			notes: []string{"touched 1 working day (2026-02-14)"},
		},
		{
			name: "pause only on the start day has no effect",
			req: Request{Start: sf2026, Period: cd(15), Pauses: []Pause{
				{From: sh(2026, 2, 13, 11, 0), To: sh(2026, 2, 13, 15, 0)}}},
			due:   sh(2026, 3, 1, 0, 0),
			notes: []string{"only on the start day, which is not counted; no effect"},
		},
		{
			name: "running pause leaves the due instant and says so",
			req: Request{Start: sf2026, Period: wd(15), Pauses: []Pause{
				{From: sh(2026, 2, 24, 9, 0), Reason: "hearing"}}},
			due:   sh(2026, 3, 13, 0, 0),
			notes: []string{"pause running since 2026-02-24 09:00 (hearing); not counted yet; due will move on resume"},
		},
		{
			// Base 15 working days end 03-12; +5: 03-13 (1), weekend, 03-16..03-19 (2–5).
			name:  "working-day extension continues counting working days",
			req:   Request{Start: sf2026, Period: wd(15), Extensions: []Period{wd(5)}},
			due:   sh(2026, 3, 20, 0, 0),
			notes: []string{"extension 1: +5 working days after 2026-03-12 24:00", "working day 5 of 5: extension 1 ends"},
		},
		{
			// 60 days from 08-02 end on 10-01 (a holiday), but the roll-forward applies only to
			// the final last day: 10-01 + 30 = 10-31, a Friday.
			name: "calendar-day extension is additive; no intermediate roll-forward",
			req:  Request{Start: sh(2025, 8, 2, 10, 0), Period: cd(60), Extensions: []Period{cd(30)}},
			due:  sh(2025, 11, 1, 0, 0),
			days: []string{},
		},
		{
			// 03-10 + 90 days = Sunday 06-08, rolled to Monday 06-09.
			name: "60 + 30 calendar days ending on a Sunday",
			req:  Request{Start: sh(2025, 3, 10, 10, 0), Period: cd(60), Extensions: []Period{cd(30)}},
			due:  sh(2025, 6, 10, 0, 0),
		},
		{
			// Base ends 02-15; 10 working days from 02-16: 02-16..02-23 skipped; 02-24..02-27
			// (1–4); 02-28 make-up (5); 03-01 skipped; 03-02..03-06 (6–10).
			name: "month period with a working-day extension",
			req:  Request{Start: sh(2026, 1, 15, 10, 0), Period: mo(1), Extensions: []Period{wd(10)}},
			due:  sh(2026, 3, 7, 0, 0),
		},
		{
			name: "seconds with an extension, a finished and a running pause",
			req: Request{Start: sf2026, Period: Period{Amount: 30, Unit: Seconds},
				Extensions: []Period{{Amount: 10, Unit: Seconds}},
				Pauses: []Pause{
					{From: sf2026.Add(5 * time.Second), To: sf2026.Add(10 * time.Second)},
					{From: sf2026.Add(20 * time.Second)},
				}},
			due:     sf2026.Add(45 * time.Second),
			days:    []string{},
			summary: "due 2026-02-13 10:00:45 (30 seconds + 10 seconds extension + 5s paused; pause running since 2026-02-13 10:00:20)",
		},
		{
			// Calendar for 2026 only: 12-31 (1); Fri 2027-01-01 counts, as no 2027 holidays are
			// known (2); 01-02, 01-03 skipped; 01-04..01-06 (3–5).
			name:    "working days into a year not covered",
			cal:     only2026,
			req:     Request{Start: sh(2026, 12, 30, 10, 0), Period: wd(5)},
			due:     sh(2027, 1, 7, 0, 0),
			days:    one(StepWeekend, "2027-01-02", "2027-01-03"),
			summary: "due 2027-01-06 24:00 (5 working days; skipped 2 weekend days; no holiday calendar for 2027)",
			notes:   []string{"no holiday calendar for 2027: only weekends skipped"},
		},
		{
			name:  "calendar days rolling forward in a year not covered",
			cal:   only2026,
			req:   Request{Start: sh(2026, 12, 20, 10, 0), Period: cd(13)},
			due:   sh(2027, 1, 5, 0, 0),
			days:  join(one(StepWeekend, "2027-01-02", "2027-01-03"), one(StepRolledForward, "2027-01-04")),
			notes: []string{"no holiday calendar for 2027"},
		},
		{
			// 2025 is not in this calendar: the National Day week is not known, so only weekends
			// are skipped and the clerk is told so.
			name:  "past year not covered",
			cal:   only2026,
			req:   Request{Start: sh(2025, 9, 30, 10, 0), Period: wd(5)},
			due:   sh(2025, 10, 8, 0, 0),
			notes: []string{"no holiday calendar for 2025"},
		},
		{
			// Leap year, not covered: 2028-02-29 is a Tuesday.
			name:  "one month from 2028-01-31 (leap year, not covered)",
			req:   Request{Start: sh(2028, 1, 31, 10, 0), Period: mo(1)},
			due:   sh(2028, 3, 1, 0, 0),
			notes: []string{"no holiday calendar for 2028"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cal := tt.cal
			if cal == nil {
				cal = full
			}
			ex, err := cal.Compute(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if !ex.Due.Equal(tt.due) {
				t.Errorf("due %s, want %s\n%s", ex.Due.In(Location()), tt.due, dump(ex))
			}
			if ex.Due.Location() != Location() {
				t.Errorf("due is in %s, want Asia/Shanghai", ex.Due.Location())
			}
			if tt.days != nil {
				if got := dayed(ex); !slices.Equal(got, tt.days) {
					t.Errorf("days\n got %v\nwant %v", got, tt.days)
				}
			}
			if tt.summary != "" && ex.Summary != tt.summary {
				t.Errorf("summary\n got %q\nwant %q", ex.Summary, tt.summary)
			}
			for _, n := range tt.notes {
				if !slices.ContainsFunc(ex.Steps, func(s Step) bool { return strings.Contains(s.Note, n) }) {
					t.Errorf("no step note contains %q\n%s", n, dump(ex))
				}
			}
			if first, last := ex.Steps[0], ex.Steps[len(ex.Steps)-1]; first.Kind != StepStart || last.Kind != StepDue {
				t.Errorf("steps run %s … %s, want start … due", first.Kind, last.Kind)
			}
			if ex.Rule == "" || !strings.HasPrefix(ex.Summary, "due ") {
				t.Errorf("rule %q, summary %q", ex.Rule, ex.Summary)
			}
		})
	}
}

func TestComputeExplanationFields(t *testing.T) {
	req := Request{Clock: "acceptance", Policy: "信访工作条例 art. 22", Start: sh(2026, 2, 13, 10, 0), Period: wd(15)}
	ex, err := Default().Compute(req)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Clock != req.Clock || ex.Policy != req.Policy || !ex.Start.Equal(req.Start) || ex.Period != req.Period {
		t.Errorf("request not echoed: %+v", ex)
	}
	if want := "15 working days from 2026-02-13 (start day not counted"; !strings.HasPrefix(ex.Rule, want) {
		t.Errorf("rule %q, want prefix %q", ex.Rule, want)
	}
	// Compact: start, 2 make-up, 9 holiday, 3 weekend, counted, due — not every counted day.
	if len(ex.Steps) != 17 {
		t.Errorf("%d steps, want 17:\n%s", len(ex.Steps), dump(ex))
	}
	if _, err := json.Marshal(ex); err != nil {
		t.Error(err)
	}
}

func TestComputeValidation(t *testing.T) {
	start := sh(2026, 2, 13, 10, 0)
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"zero amount", Request{Start: start, Period: wd(0)}, "period: amount must be positive, got 0"},
		{"unknown unit", Request{Start: start, Period: Period{Amount: 3, Unit: "fortnights"}}, `period: unknown unit "fortnights"`},
		{"no start", Request{Period: wd(15)}, "start is missing"},
		{"bad extension", Request{Start: start, Period: wd(15), Extensions: []Period{cd(-1)}}, "extension 1: amount must be positive"},
		{"too long", Request{Start: start, Period: wd(100000)}, "more than the maximum"},
		{"pause reversed", Request{Start: start, Period: wd(15), Pauses: []Pause{{From: start.Add(2 * time.Hour), To: start.Add(time.Hour)}}},
			"pause 1 ends 2026-02-13 11:00, before it starts 2026-02-13 12:00"},
		{"pause before start", Request{Start: start, Period: wd(15), Pauses: []Pause{{From: start.Add(-time.Hour), To: start}}},
			"pause 1 starts 2026-02-13 09:00, before the clock started"},
		{"pause without from", Request{Start: start, Period: wd(15), Pauses: []Pause{{To: start}}}, "pause 1: from is missing"},
		{"pauses overlap", Request{Start: start, Period: wd(15), Pauses: []Pause{
			{From: start.Add(3 * time.Hour), To: start.Add(5 * time.Hour)}, {From: start.Add(time.Hour), To: start.Add(4 * time.Hour)}}},
			"pauses 1 and 2 overlap"},
		{"pause after a running pause", Request{Start: start, Period: wd(15), Pauses: []Pause{
			{From: start.Add(time.Hour)}, {From: start.Add(2 * time.Hour), To: start.Add(3 * time.Hour)}}},
			"pauses 1 and 2 overlap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Default().Compute(tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLocationFallback(t *testing.T) {
	if Location().String() != "Asia/Shanghai" {
		t.Errorf("location %s; time/tzdata should provide Asia/Shanghai", Location())
	}
	if _, off := time.Date(2026, 7, 1, 0, 0, 0, 0, Location()).Zone(); off != 8*3600 {
		t.Errorf("offset %d", off)
	}
}

func dump(ex Explanation) string {
	var b strings.Builder
	b.WriteString(ex.Rule + "\n")
	for _, s := range ex.Steps {
		b.WriteString("  " + string(s.Kind) + " " + s.Date + " " + s.Note + "\n")
	}
	b.WriteString(ex.Summary)
	return b.String()
}
