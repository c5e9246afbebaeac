package calendar

import (
	"fmt"
	"sync"
	"time"

	lunar "github.com/6tail/lunar-go/calendar"
)

// The provisional calendar of a year whose State Council notice is not loaded.
//
// The State Council announces each year's arrangement (bridging days, make-up workdays) in a
// notice every winter, but the statutory holidays themselves are fixed by 《全国年节及纪念日放假办法》
// (as amended 2024, in force from 1 January 2025) for every year:
//
//   - 元旦 New Year's Day: 1 January;
//   - 春节 Spring Festival: the eve (除夕, the last day of the 12th lunar month, the 29th or the
//     30th) and days 1–3 of the first lunar month (正月初一至初三);
//   - 清明节 Qingming: the day of the 清明 solar term;
//   - 劳动节 Labour Day: 1 and 2 May;
//   - 端午节 Dragon Boat Festival: the 5th day of the 5th lunar month (农历五月初五);
//   - 中秋节 Mid-Autumn Festival: the 15th day of the 8th lunar month (农历八月十五);
//   - 国庆节 National Day: 1–3 October.
//
// A deadline running into a year without a loaded notice counts these days as holidays, so it
// does not come out days early; it knows no bridging days and no make-up workdays (only the
// notice has those), and every explanation says the calendar is provisional. Lunar dates and
// solar terms come from github.com/6tail/lunar-go.
const (
	// ProvisionalFirst is the first year the amended 办法 (2024) governs; before it the statutory
	// holidays were others, and a year without a notice has weekends only.
	ProvisionalFirst = 2025
	// ProvisionalLast bounds the years computed (the API's years end at 2200 too).
	ProvisionalLast = 2200
)

// provisionalSource is the Source of a provisional Year.
const provisionalSource = "《全国年节及纪念日放假办法》（2024年修订）的法定节日 statutory holidays only: provisional until the State Council's notice for %d is imported"

// provisionalCache holds each year's provisional holidays (int → map[string]string, date →
// name), computed once: the lunar computation is too slow to repeat for every day classified.
var provisionalCache sync.Map

// provisionalHolidays returns the statutory holidays of a year, date → name, or nil for a year
// outside ProvisionalFirst..ProvisionalLast. The map is shared: callers must not modify it.
func provisionalHolidays(year int) map[string]string {
	if year < ProvisionalFirst || year > ProvisionalLast {
		return nil
	}
	if m, ok := provisionalCache.Load(year); ok {
		return m.(map[string]string)
	}
	m := computeProvisional(year)
	actual, _ := provisionalCache.LoadOrStore(year, m)
	return actual.(map[string]string)
}

// Names of the provisional holidays, bilingual as in the shipped notices.
const (
	nameNewYear     = "元旦 New Year's Day"
	nameSpringEve   = "春节 Spring Festival (除夕 eve)"
	nameSpring      = "春节 Spring Festival"
	nameQingming    = "清明节 Qingming Festival"
	nameLabour      = "劳动节 Labour Day"
	nameDragonBoat  = "端午节 Dragon Boat Festival"
	nameMidAutumn   = "中秋节 Mid-Autumn Festival"
	nameNational    = "国庆节 National Day"
	nameNationalMid = "国庆节、中秋节 National Day and Mid-Autumn Festival"
)

func computeProvisional(year int) map[string]string {
	m := map[string]string{}
	put := func(d time.Time, name string) {
		key := d.Format(dateLayout)
		if old, ok := m[key]; ok {
			// Mid-Autumn can fall on 1–3 October (as in 2028): one day, both names.
			if (old == nameNational && name == nameMidAutumn) || (old == nameMidAutumn && name == nameNational) {
				name = nameNationalMid
			} else {
				panic(fmt.Sprintf("calendar: provisional %d: %s is both %s and %s", year, key, old, name))
			}
		}
		m[key] = name
	}
	day := func(month time.Month, d int) time.Time { return time.Date(year, month, d, 0, 0, 0, 0, time.UTC) }

	put(day(time.January, 1), nameNewYear)

	// Days 1–3 of the first lunar month of lunar year `year` (always in January or February of
	// the same Gregorian year), and the eve, the day before the first: the last day of the 12th
	// lunar month, whether that month has 29 days or 30.
	newYear := lunarDate(year, 1, 1)
	put(newYear.AddDate(0, 0, -1), nameSpringEve)
	for i := range 3 {
		put(newYear.AddDate(0, 0, i), nameSpring)
	}

	put(qingming(year), nameQingming)
	put(day(time.May, 1), nameLabour)
	put(day(time.May, 2), nameLabour)
	put(lunarDate(year, 5, 5), nameDragonBoat)
	put(lunarDate(year, 8, 15), nameMidAutumn)
	for d := 1; d <= 3; d++ {
		put(day(time.October, d), nameNational)
	}
	for key := range m {
		if key[:4] != fmt.Sprint(year) {
			panic(fmt.Sprintf("calendar: provisional %d: %s falls outside the year", year, key))
		}
	}
	return m
}

// lunarDate returns the Gregorian date of a day of a (non-leap) lunar month, as UTC midnight.
func lunarDate(year, month, day int) time.Time {
	s := lunar.NewLunarFromYmd(year, month, day).GetSolar()
	return time.Date(s.GetYear(), time.Month(s.GetMonth()), s.GetDay(), 0, 0, 0, 0, time.UTC)
}

// qingming returns the day of the 清明 solar term of a Gregorian year (4, 5 or 6 April, in
// Beijing time as lunar-go computes it).
func qingming(year int) time.Time {
	// 1 April is always in the lunar year that began that winter, whose solar-term table holds
	// this April's 清明.
	s := lunar.NewSolarFromYmd(year, 4, 1).GetLunar().GetJieQiTable()["清明"]
	return time.Date(s.GetYear(), time.Month(s.GetMonth()), s.GetDay(), 0, 0, 0, 0, time.UTC)
}

// ProvisionalYear returns the provisional calendar of a year: the statutory holidays of
// 《全国年节及纪念日放假办法》 only, no make-up workdays, marked Provisional. ok is false for a year
// outside ProvisionalFirst..ProvisionalLast. It is what a year without a loaded notice is
// counted on; it is never loaded as a year (Validate refuses it).
func ProvisionalYear(year int) (y Year, ok bool) {
	m := provisionalHolidays(year)
	if m == nil {
		return Year{}, false
	}
	y = Year{Year: year, Holidays: make([]Day, 0, len(m)), Workdays: []Day{},
		Source: fmt.Sprintf(provisionalSource, year), Provisional: true}
	for d := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == year; d = d.AddDate(0, 0, 1) {
		if name, ok := m[d.Format(dateLayout)]; ok {
			y.Holidays = append(y.Holidays, Day{Date: d.Format(dateLayout), Name: name})
		}
	}
	return y, true
}
