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
		// steps, when non-nil, is the whole explanation, "kind date note" per step.
		steps []string
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
			// Each period is counted on its own (Civil Code art. 203). 60 days from 08-02 end on
			// Wednesday 10-01, a holiday (2025 notice: 10-01..10-08), so the base period ends on
			// Thursday 10-09; the extension counts from there: 10-09 + 30 = Saturday 11-08, which
			// rolls to Monday 11-10. (Counted as 90 days at once it would end on 10-31, 10 days
			// earlier: same-unit extensions are not additive when the base period rolls.)
			name: "calendar-day extension counts from the rolled end of the base period",
			req:  Request{Start: sh(2025, 8, 2, 10, 0), Period: cd(60), Extensions: []Period{cd(30)}},
			due:  sh(2025, 11, 11, 0, 0),
			days: join(span(StepHoliday, "2025-10-01", "2025-10-08"), one(StepRolledForward, "2025-10-09"),
				one(StepWeekend, "2025-11-08", "2025-11-09"), one(StepRolledForward, "2025-11-10")),
			summary: "due 2025-11-10 24:00 (60 calendar days + 30 calendar days extension; " +
				"base period rolled forward from 2025-10-01, 国庆节、中秋节 National Day and Mid-Autumn Festival, to 2025-10-09; " +
				"extension 1 rolled forward from 2025-11-08, Saturday, to 2025-11-10)",
		},
		{
			// The case, by hand from the 2026 notice (国办发明电〔2025〕7号: National Day
			// holiday Thursday 10-01 to Wednesday 10-07, make-up Saturday 10-10).
			// Base: 09-01 + 30 calendar days = Thursday 10-01, a holiday; 10-02..10-07 are holidays
			// too, so the base period ends on the first working day after them, Thursday 10-08.
			// Extension: 15 calendar days from 10-08 (not counted): 10-09 is day 1, Friday 10-23
			// is day 15, a working day. Due 2026-10-23 24:00. Before each period was counted on its
			// own, the extension counted from the unrolled 10-01 and ended on 10-16, 7 days short.
			name: "extension after a holiday-rolled end: 30 + 15 calendar days over National Day 2026",
			req:  Request{Start: sh(2026, 9, 1, 10, 0), Period: cd(30), Extensions: []Period{cd(15)}},
			due:  sh(2026, 10, 24, 0, 0),
			days: join(span(StepHoliday, "2026-10-01", "2026-10-07"), one(StepRolledForward, "2026-10-08")),
			summary: "due 2026-10-23 24:00 (30 calendar days + 15 calendar days extension; " +
				"base period rolled forward from 2026-10-01, 国庆节 National Day, to 2026-10-08)",
			notes: []string{
				"calendar day 30 of 30: base period ends",
				"last day 2026-10-01 (国庆节 National Day) is a rest day; the base period ends on the next working day 2026-10-08 (Civil Code art. 203)",
				"extension 1: +15 calendar days after 2026-10-08 24:00, the end of the base period",
				"calendar day 15 of 15: extension 1 ends",
			},
			steps: []string{
				"start 2026-09-01 started 2026-09-01 10:00 (Tuesday, Asia/Shanghai); the start day is not counted (Civil Code art. 201)",
				"counted 2026-10-01 calendar day 30 of 30: base period ends",
				"holiday 2026-10-01 国庆节 National Day",
				"holiday 2026-10-02 国庆节 National Day",
				"holiday 2026-10-03 国庆节 National Day",
				"holiday 2026-10-04 国庆节 National Day",
				"holiday 2026-10-05 国庆节 National Day",
				"holiday 2026-10-06 国庆节 National Day",
				"holiday 2026-10-07 国庆节 National Day",
				"rolled_forward 2026-10-08 last day 2026-10-01 (国庆节 National Day) is a rest day; the base period ends on the next working day 2026-10-08 (Civil Code art. 203)",
				"extension 2026-10-08 extension 1: +15 calendar days after 2026-10-08 24:00, the end of the base period",
				"counted 2026-10-23 calendar day 15 of 15: extension 1 ends",
				"due 2026-10-23 due at 24:00 of 2026-10-23 (Friday), i.e. 2026-10-24 00:00 Asia/Shanghai",
			},
		},
		{
			// As above with a 16-day extension: 10-08 + 16 = Saturday 10-24, which rolls past
			// Sunday 10-25 to Monday 10-26. Both ends roll, each with its own step.
			name: "extension after a holiday-rolled end that rolls itself",
			req:  Request{Start: sh(2026, 9, 1, 10, 0), Period: cd(30), Extensions: []Period{cd(16)}},
			due:  sh(2026, 10, 27, 0, 0),
			days: join(span(StepHoliday, "2026-10-01", "2026-10-07"), one(StepRolledForward, "2026-10-08"),
				one(StepWeekend, "2026-10-24", "2026-10-25"), one(StepRolledForward, "2026-10-26")),
			notes: []string{"last day 2026-10-24 (Saturday) is a rest day; extension 1 ends on the next working day 2026-10-26"},
		},
		{
			// Base as above ends 10-08 (rolled from 10-01). The pause of 2d8h counts as 3 calendar
			// days, added after the base period: 10-08 + 3 = Sunday 10-11 (the make-up Saturday
			// is 10-10), which rolls to Monday 10-12. Added to the unrolled 10-01 instead, the
			// pause would have ended inside the holiday and moved nothing.
			name: "pause after a holiday-rolled base period, final end rolled",
			req: Request{Start: sh(2026, 9, 1, 10, 0), Period: cd(30), Pauses: []Pause{
				{From: sh(2026, 9, 10, 9, 0), To: sh(2026, 9, 12, 17, 0), Reason: "hearing"}}},
			due: sh(2026, 10, 13, 0, 0),
			days: join(span(StepHoliday, "2026-10-01", "2026-10-07"), one(StepRolledForward, "2026-10-08"),
				one(StepWeekend, "2026-10-11"), one(StepRolledForward, "2026-10-12")),
			summary: "due 2026-10-12 24:00 (30 calendar days + 3 calendar days paused; " +
				"base period rolled forward from 2026-10-01, 国庆节 National Day, to 2026-10-08; " +
				"period with the paused time rolled forward from 2026-10-11, Sunday, to 2026-10-12)",
		},
		{
			// 03-10 + 90 days = Sunday 06-08, rolled to Monday 06-09.
			name: "60 + 30 calendar days ending on a Sunday",
			req:  Request{Start: sh(2025, 3, 10, 10, 0), Period: cd(60), Extensions: []Period{cd(30)}},
			due:  sh(2025, 6, 10, 0, 0),
		},
		{
			// One month from 01-15 ends on Sunday 02-15, in the Spring Festival (02-15..02-23), so
			// the base period ends on Tuesday 02-24. 10 working days from there: 02-25..02-27
			// (1–3); 02-28 make-up (4); 03-01 skipped; 03-02..03-06 (5–9); 03-07, 03-08 skipped;
			// 03-09 (10).
			name: "month period rolled in the Spring Festival, then a working-day extension",
			req:  Request{Start: sh(2026, 1, 15, 10, 0), Period: mo(1), Extensions: []Period{wd(10)}},
			due:  sh(2026, 3, 10, 0, 0),
			days: join(span(StepHoliday, "2026-02-15", "2026-02-23"), one(StepRolledForward, "2026-02-24"),
				one(StepMakeUpWorkday, "2026-02-28"), one(StepWeekend, "2026-03-01", "2026-03-07", "2026-03-08")),
			notes: []string{"extension 1: +10 working days after 2026-02-24 24:00, the end of the base period"},
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
			// Calendar for 2026 only: 12-31 (1); Friday 2027-01-01 is New Year's Day on the
			// provisional 2027 calendar, skipped; 01-02, 01-03 skipped; 01-04..01-07 (2–5).
			name:    "working days into a year without a notice",
			cal:     only2026,
			req:     Request{Start: sh(2026, 12, 30, 10, 0), Period: wd(5)},
			due:     sh(2027, 1, 8, 0, 0),
			days:    join(one(StepHoliday, "2027-01-01"), one(StepWeekend, "2027-01-02", "2027-01-03")),
			summary: "due 2027-01-07 24:00 (5 working days; skipped 1 holiday and 2 weekend days; provisional calendar for 2027: no State Council notice loaded)",
			notes: []string{"the State Council's notice for 2027 is not loaded: the year's calendar is provisional until its notice is imported",
				"provisional holiday: 元旦 New Year's Day (statutory; the State Council's notice for 2027 is not loaded)"},
		},
		{
			// 12-20 + 13 = Saturday 2027-01-02; the provisional New Year's Day (01-01) is before
			// it, so the roll is the weekend's: to Monday 01-04.
			name:  "calendar days rolling forward in a year without a notice",
			cal:   only2026,
			req:   Request{Start: sh(2026, 12, 20, 10, 0), Period: cd(13)},
			due:   sh(2027, 1, 5, 0, 0),
			days:  join(one(StepWeekend, "2027-01-02", "2027-01-03"), one(StepRolledForward, "2027-01-04")),
			notes: []string{"the year's calendar is provisional"},
		},
		{
			// 2025 is not in this calendar: its provisional calendar has the statutory days only,
			// 10-01..10-03 (National Day) and Monday 10-06 (Mid-Autumn), not the notice's bridging
			// days 10-07, 10-08 nor its make-up Saturday 10-11. 10-01..10-06 skipped;
			// 10-07..10-10 (1–4); 10-11, 10-12 skipped; 10-13 (5).
			name: "past year without a notice: provisional",
			cal:  only2026,
			req:  Request{Start: sh(2025, 9, 30, 10, 0), Period: wd(5)},
			due:  sh(2025, 10, 14, 0, 0),
			days: join(span(StepHoliday, "2025-10-01", "2025-10-03"), one(StepWeekend, "2025-10-04", "2025-10-05"),
				one(StepHoliday, "2025-10-06"), one(StepWeekend, "2025-10-11", "2025-10-12")),
			notes: []string{"provisional holiday: 中秋节 Mid-Autumn Festival (statutory; the State Council's notice for 2025 is not loaded)"},
		},
		{
			// Before 2025 the amended 办法 did not apply: a year without a notice has weekends only.
			// 2024-10-01..10-03 (Tuesday–Thursday) count (1–3).
			name:    "year before the provisional calendars: weekends only",
			cal:     only2026,
			req:     Request{Start: sh(2024, 9, 30, 10, 0), Period: wd(3)},
			due:     sh(2024, 10, 4, 0, 0),
			days:    []string{},
			summary: "due 2024-10-03 24:00 (3 working days; no holiday calendar for 2024)",
			notes:   []string{"no holiday calendar for 2024: only weekends skipped"},
		},
		{
			// Leap year without a notice: 2028-02-29 is a Tuesday, not a statutory holiday.
			name:  "one month from 2028-01-31 (leap year, without a notice)",
			req:   Request{Start: sh(2028, 1, 31, 10, 0), Period: mo(1)},
			due:   sh(2028, 3, 1, 0, 0),
			days:  []string{},
			notes: []string{"the State Council's notice for 2028 is not loaded"},
		},
		{
			// 2026-12-17 + 15 calendar days = Friday 2027-01-01. No notice for 2027 is loaded; on
			// the provisional calendar 01-01 is New Year's Day, and 01-02, 01-03 are the weekend,
			// so the period ends on Monday 2027-01-04. (With weekends only, it ended on 01-01.)
			name: "period ending on 1 January of a year without a notice",
			req:  Request{Start: sh(2026, 12, 17, 10, 0), Period: cd(15)},
			due:  sh(2027, 1, 5, 0, 0),
			days: join(one(StepHoliday, "2027-01-01"), one(StepWeekend, "2027-01-02", "2027-01-03"), one(StepRolledForward, "2027-01-04")),
			summary: "due 2027-01-04 24:00 (15 calendar days; rolled forward from 2027-01-01, provisional holiday 元旦 New Year's Day; " +
				"provisional calendar for 2027: no State Council notice loaded)",
			notes: []string{"last day 2027-01-01 (provisional holiday: 元旦 New Year's Day (statutory; the State Council's notice for 2027 is not loaded)) is a rest day"},
		},
		{
			// 2027-09-16 + 15 = Friday 2027-10-01, provisional National Day; 10-02 and 10-03 are
			// provisional holidays on a weekend; the period ends on Monday 10-04. (With weekends
			// only, Friday 10-01 was a working day and the period ended there.)
			name: "period ending on 1 October 2027, without a notice",
			req:  Request{Start: sh(2027, 9, 16, 10, 0), Period: cd(15)},
			due:  sh(2027, 10, 5, 0, 0),
			days: join(span(StepHoliday, "2027-10-01", "2027-10-03"), one(StepRolledForward, "2027-10-04")),
		},
		{
			// 2028-04-16 + 15 = Monday 2028-05-01; 05-01 and 05-02 are the provisional Labour Day
			// holidays (Monday, Tuesday), so the period ends on Wednesday 05-03. (With weekends
			// only, it ended on 05-01, two days earlier.)
			name:  "period ending on 1 May 2028, a Monday, without a notice",
			req:   Request{Start: sh(2028, 4, 16, 10, 0), Period: cd(15)},
			due:   sh(2028, 5, 4, 0, 0),
			days:  join(span(StepHoliday, "2028-05-01", "2028-05-02"), one(StepRolledForward, "2028-05-03")),
			notes: []string{"provisional holiday: 劳动节 Labour Day"},
		},
		{
			// 2028-09-17 + 15 = Monday 2028-10-02; Tuesday 10-03 is both National Day and
			// Mid-Autumn (农历八月十五 falls on it in 2028), so the period ends on Wednesday 10-04.
			name:  "period ending on 2 October 2028: National Day and Mid-Autumn on one day",
			req:   Request{Start: sh(2028, 9, 17, 10, 0), Period: cd(15)},
			due:   sh(2028, 10, 5, 0, 0),
			days:  join(span(StepHoliday, "2028-10-02", "2028-10-03"), one(StepRolledForward, "2028-10-04")),
			notes: []string{"provisional holiday: 国庆节、中秋节 National Day and Mid-Autumn Festival"},
		},
		{
			// Spring Festival 2027 without a notice: 除夕 Friday 02-05 and 初一..初三 02-06..02-08
			// are skipped, with no bridging days and no make-up workdays. From Thursday 02-04:
			// 02-05..02-08 skipped; 02-09..02-12 (1–4); 02-13, 02-14 skipped; 02-15 (5).
			name:    "working days over the Spring Festival 2027, without a notice",
			req:     Request{Start: sh(2027, 2, 4, 10, 0), Period: wd(5)},
			due:     sh(2027, 2, 16, 0, 0),
			days:    join(span(StepHoliday, "2027-02-05", "2027-02-08"), one(StepWeekend, "2027-02-13", "2027-02-14")),
			summary: "due 2027-02-15 24:00 (5 working days; skipped 4 holiday and 2 weekend days; provisional calendar for 2027: no State Council notice loaded)",
			notes:   []string{"provisional holiday: 春节 Spring Festival (除夕 eve) (statutory;"},
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
			if tt.steps != nil {
				var got []string
				for _, s := range ex.Steps {
					got = append(got, string(s.Kind)+" "+s.Date+" "+s.Note)
				}
				if !slices.Equal(got, tt.steps) {
					t.Errorf("steps\n got %q\nwant %q", got, tt.steps)
				}
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
