package calendar

import (
	"fmt"
	"maps"
	"slices"
	"time"

	// Embedded zone data: containers often lack /usr/share/zoneinfo, and day boundaries must be
	// Shanghai's wherever the service runs.
	_ "time/tzdata"
)

// shanghai is the zone of every day boundary. China has had no DST since 1991, so the fixed
// +08:00 fallback gives the same answers for any date this service handles.
var shanghai = loadShanghai()

func loadShanghai() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*60*60)
}

// Location returns the zone in which days begin and end (Asia/Shanghai).
func Location() *time.Location { return shanghai }

// dateOf returns the civil date of an instant in Asia/Shanghai, as UTC midnight (the package's
// civil-date representation, which makes date arithmetic immune to zone offsets).
func dateOf(t time.Time) time.Time {
	y, m, d := t.In(shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// endOfDay returns 24:00 of a civil date, i.e. 00:00 of the next day in Asia/Shanghai.
func endOfDay(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, shanghai)
}

func isWeekend(d time.Time) bool {
	wd := d.Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// Calendar answers which days are worked. It is immutable once built, so one value can be shared
// by concurrent workflows; use With to derive an updated one.
type Calendar struct {
	years    map[int]Year
	holidays map[string]string // date → name
	workdays map[string]string // date → name
}

// New builds a calendar from validated years. Years not given are not "covered": for them the
// provisional calendar (ProvisionalYear: the statutory holidays, no make-up workdays) and the
// weekends are the rest days, or the weekends alone outside ProvisionalFirst..ProvisionalLast
// (see Compute). A year may be given only once.
func New(years ...Year) (*Calendar, error) {
	c := &Calendar{
		years:    make(map[int]Year, len(years)),
		holidays: map[string]string{},
		workdays: map[string]string{},
	}
	for _, y := range years {
		if err := y.Validate(); err != nil {
			return nil, err
		}
		if _, dup := c.years[y.Year]; dup {
			return nil, fmt.Errorf("calendar %d given twice", y.Year)
		}
		c.years[y.Year] = y.clone()
	}
	for _, y := range c.years {
		c.index(y)
	}
	return c, nil
}

func (c *Calendar) index(y Year) {
	for _, d := range y.Holidays {
		c.holidays[d.Date] = d.Name
	}
	for _, d := range y.Workdays {
		c.workdays[d.Date] = d.Name
	}
}

// Default returns a calendar of the Builtin years. The embedded data is validated by the tests,
// so a failure here is a build defect and panics.
func Default() *Calendar {
	c, err := New(Builtin()...)
	if err != nil {
		panic(err)
	}
	return c
}

// With returns a new calendar in which year y replaces (or adds) its year; the receiver is left
// unchanged, so running computations keep a consistent view while an import is applied.
func (c *Calendar) With(y Year) (*Calendar, error) {
	if err := y.Validate(); err != nil {
		return nil, err
	}
	years := make([]Year, 0, len(c.yearsMap())+1)
	for _, old := range c.yearsMap() {
		if old.Year != y.Year {
			years = append(years, old)
		}
	}
	return New(append(years, y)...)
}

// yearsMap tolerates a nil *Calendar, which behaves as a calendar covering no year.
func (c *Calendar) yearsMap() map[int]Year {
	if c == nil {
		return nil
	}
	return c.years
}

// Years returns copies of the years the calendar covers, in year order.
func (c *Calendar) Years() []Year {
	keys := slices.Sorted(maps.Keys(c.yearsMap()))
	out := make([]Year, len(keys))
	for i, k := range keys {
		out[i] = c.years[k].clone()
	}
	return out
}

// Covers reports whether the holiday arrangement of the year is known (its notice is loaded).
func (c *Calendar) Covers(year int) bool {
	_, ok := c.yearsMap()[year]
	return ok
}

// Provisional reports whether the year is counted on its provisional calendar: its notice is
// not loaded, and the statutory holidays are known (ProvisionalYear).
func (c *Calendar) Provisional(year int) bool {
	return !c.Covers(year) && provisionalHolidays(year) != nil
}

// dayKind classifies a civil date.
type dayKind int

const (
	kindWorking dayKind = iota // an ordinary Monday–Friday
	kindMakeUp                 // a weekend day worked (调休)
	kindWeekend                // an ordinary Saturday or Sunday
	kindHoliday                // a public holiday
)

// dayInfo is the classification of one civil date.
type dayInfo struct {
	kind dayKind
	// name is the holiday or make-up workday name from the calendar.
	name string
	// covered is false when the year's notice is not loaded.
	covered bool
	// provisional is true when the year is not covered and its statutory holidays are known
	// (ProvisionalYear): they are holidays, but no bridging day or make-up workday is known.
	provisional bool
}

func (i dayInfo) working() bool { return i.kind == kindWorking || i.kind == kindMakeUp }

func (c *Calendar) classify(d time.Time) dayInfo {
	info := dayInfo{covered: c.Covers(d.Year())}
	key := d.Format(dateLayout)
	if !info.covered {
		if m := provisionalHolidays(d.Year()); m != nil {
			info.provisional = true
			if name, ok := m[key]; ok {
				info.kind, info.name = kindHoliday, name
				return info
			}
		}
	}
	if c != nil {
		if name, ok := c.holidays[key]; ok {
			info.kind, info.name = kindHoliday, orDefault(name, "public holiday")
			return info
		}
		if name, ok := c.workdays[key]; ok {
			info.kind, info.name = kindMakeUp, orDefault(name, "make-up workday")
			return info
		}
	}
	if isWeekend(d) {
		info.kind = kindWeekend
	}
	return info
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// IsWorkingDay reports whether the civil date of t in Asia/Shanghai is a working day, with a
// reason a clerk can read, e.g. "holiday: 春节 Spring Festival" or "make-up workday: 春节调休 …".
// For a year whose notice is not loaded the provisional calendar's statutory holidays and the
// weekends are rest days (the weekends alone outside ProvisionalFirst..ProvisionalLast), and the
// reason says so.
func (c *Calendar) IsWorkingDay(t time.Time) (bool, string) {
	d := dateOf(t)
	info := c.classify(d)
	var reason string
	switch info.kind {
	case kindWorking:
		reason = "working day (" + d.Weekday().String() + ")"
	case kindMakeUp:
		reason = "make-up workday: " + info.name + " (" + d.Weekday().String() + ")"
	case kindWeekend:
		reason = "weekend (" + d.Weekday().String() + ")"
	case kindHoliday:
		reason = "holiday: " + info.name
		if info.provisional {
			reason = holidayNote(d, info)
		}
	}
	switch {
	case info.provisional && info.kind != kindHoliday:
		reason += fmt.Sprintf("; the State Council's notice for %d is not loaded: provisional calendar (statutory holidays only)", d.Year())
	case !info.covered && !info.provisional:
		reason += fmt.Sprintf("; no holiday calendar for %d: only weekends known", d.Year())
	}
	return info.working(), reason
}

// holidayNote reads a holiday for a step or a reason; a provisional one says so, e.g.
// "provisional holiday: 国庆节 National Day (statutory; the State Council's notice for 2027 is
// not loaded)".
func holidayNote(d time.Time, info dayInfo) string {
	if !info.provisional {
		return info.name
	}
	return fmt.Sprintf("provisional holiday: %s (statutory; the State Council's notice for %d is not loaded)", info.name, d.Year())
}
