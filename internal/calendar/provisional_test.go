package calendar

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	lunar "github.com/6tail/lunar-go/calendar"
)

// TestProvisionalAgainstNotices is the check of the provisional calendar against the State
// Council's notices shipped in holidays/: every statutory day the provisional calendar of 2025
// and 2026 has must be a holiday in that year's notice (the notice adds bridging days, never
// drops a statutory one).
func TestProvisionalAgainstNotices(t *testing.T) {
	checked := 0
	for _, notice := range Builtin() {
		prov, ok := ProvisionalYear(notice.Year)
		if !ok {
			t.Fatalf("no provisional calendar for %d", notice.Year)
		}
		holidays := map[string]string{}
		for _, d := range notice.Holidays {
			holidays[d.Date] = d.Name
		}
		for _, d := range prov.Holidays {
			if _, ok := holidays[d.Date]; !ok {
				t.Errorf("%d: provisional %s (%s) is not a holiday in the notice %s", notice.Year, d.Date, d.Name, notice.Source)
			}
		}
		checked++
	}
	if checked < 2 {
		t.Errorf("checked %d notices, want 2025 and 2026 at least", checked)
	}
}

// TestProvisionalYears checks the hand-looked-up dates of some years (lunar dates from the
// almanac: 除夕, 初一, 五月初五, 八月十五; 清明 from the solar-term tables).
func TestProvisionalYears(t *testing.T) {
	tests := []struct {
		year int
		want []string // date name, in date order
	}{
		{2027, []string{
			"2027-01-01 元旦 New Year's Day",
			"2027-02-05 春节 Spring Festival (除夕 eve)", // 腊月廿九: the 12th month of 丙午 (lunar 2026) has 29 days
			"2027-02-06 春节 Spring Festival", "2027-02-07 春节 Spring Festival", "2027-02-08 春节 Spring Festival",
			"2027-04-05 清明节 Qingming Festival",
			"2027-05-01 劳动节 Labour Day", "2027-05-02 劳动节 Labour Day",
			"2027-06-09 端午节 Dragon Boat Festival",
			"2027-09-15 中秋节 Mid-Autumn Festival",
			"2027-10-01 国庆节 National Day", "2027-10-02 国庆节 National Day", "2027-10-03 国庆节 National Day",
		}},
		{2028, []string{
			"2028-01-01 元旦 New Year's Day",
			"2028-01-25 春节 Spring Festival (除夕 eve)",
			"2028-01-26 春节 Spring Festival", "2028-01-27 春节 Spring Festival", "2028-01-28 春节 Spring Festival",
			"2028-04-04 清明节 Qingming Festival",
			"2028-05-01 劳动节 Labour Day", "2028-05-02 劳动节 Labour Day",
			"2028-05-28 端午节 Dragon Boat Festival",
			"2028-10-01 国庆节 National Day", "2028-10-02 国庆节 National Day",
			"2028-10-03 国庆节、中秋节 National Day and Mid-Autumn Festival", // 八月十五 on 3 October
		}},
	}
	for _, tt := range tests {
		y, ok := ProvisionalYear(tt.year)
		if !ok {
			t.Fatalf("no provisional calendar for %d", tt.year)
		}
		var got []string
		for _, d := range y.Holidays {
			got = append(got, d.Date+" "+d.Name)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%d:\n got %q\nwant %q", tt.year, got, tt.want)
		}
	}
}

// TestProvisionalYearShape checks every year the provisional calendar covers: 13 statutory
// days (12 when Mid-Autumn falls on 1–3 October), all in the year, no make-up workday, the eve
// the last day of the 12th lunar month (29th or 30th, both seen), marked provisional.
func TestProvisionalYearShape(t *testing.T) {
	eveDays := map[int]int{}
	for year := ProvisionalFirst; year <= ProvisionalLast; year++ {
		y, ok := ProvisionalYear(year)
		if !ok {
			t.Fatalf("no provisional calendar for %d", year)
		}
		if !y.Provisional || len(y.Workdays) != 0 || !strings.Contains(y.Source, fmt.Sprintf("notice for %d is imported", year)) {
			t.Errorf("%d: provisional %v, %d workdays, source %q", year, y.Provisional, len(y.Workdays), y.Source)
		}
		if n := len(y.Holidays); n != 13 && !(n == 12 && slices.ContainsFunc(y.Holidays, func(d Day) bool { return d.Name == nameNationalMid })) {
			t.Errorf("%d: %d holidays: %v", year, n, y.Holidays)
		}
		// Validate refuses it only for being provisional: the dates are sound.
		y.Provisional = false
		if err := y.Validate(); err != nil {
			t.Errorf("%d: %v", year, err)
		}
		// The eve is the last day of the 12th month of the previous lunar year.
		m12 := lunar.NewLunarMonthFromYm(year-1, 12)
		eve := lunarDate(year-1, 12, m12.GetDayCount()).Format(dateLayout)
		eveDays[m12.GetDayCount()]++
		if i := slices.IndexFunc(y.Holidays, func(d Day) bool { return d.Name == nameSpringEve }); i < 0 || y.Holidays[i].Date != eve {
			t.Errorf("%d: eve is not %s: %v", year, eve, y.Holidays)
		}
		q := qingming(year)
		if q.Month() != time.April || q.Day() < 4 || q.Day() > 6 {
			t.Errorf("%d: 清明 on %s", year, q.Format(dateLayout))
		}
	}
	if eveDays[29] == 0 || eveDays[30] == 0 {
		t.Errorf("eves on the 29th and 30th: %v; both should occur", eveDays)
	}
	for _, year := range []int{ProvisionalFirst - 1, ProvisionalLast + 1, 1} {
		if _, ok := ProvisionalYear(year); ok {
			t.Errorf("provisional calendar for %d", year)
		}
	}
}

func TestProvisionalYearIsNotLoaded(t *testing.T) {
	y, _ := ProvisionalYear(2027)
	err := y.Validate()
	if err == nil || !strings.Contains(err.Error(), "a provisional calendar") {
		t.Errorf("Validate of a provisional year: %v", err)
	}
	if _, err := New(y); err == nil {
		t.Error("New loaded a provisional year")
	}
	// A loaded notice replaces the provisional calendar: 2027-01-01 becomes what the notice says.
	c, err := Default().With(Year{Year: 2027, Holidays: []Day{{"2027-01-04", "test holiday"}}, Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.IsWorkingDay(sh(2027, 1, 1, 9, 0)); !ok || c.Provisional(2027) {
		t.Error("the loaded 2027 does not replace the provisional one")
	}
	if ok, _ := c.IsWorkingDay(sh(2027, 1, 4, 9, 0)); ok {
		t.Error("the loaded 2027 is not in effect")
	}
}
