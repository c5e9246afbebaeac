package calendar

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// dateLayout is the civil date format used in the JSON calendars and in explanations.
const dateLayout = "2006-01-02"

// Day is one civil date with its reading, e.g. {"2026-02-15", "春节 Spring Festival"}.
type Day struct {
	// Date is the civil date, YYYY-MM-DD.
	Date string `json:"date"`
	// Name is shown to clerks in explanations; bilingual by convention ("春节 Spring Festival").
	Name string `json:"name"`
}

// Year is the holiday arrangement of one year as the State Council announces it each winter.
// The same JSON shape is what PUT /api/v1/calendars/{year} accepts, so a clerk can load next
// year's arrangement the day the notice comes out.
type Year struct {
	// Year is the calendar year, e.g. 2026.
	Year int `json:"year"`
	// Holidays lists every day off, one entry per date, including those that fall on a weekend:
	// a weekend inside a festival is named after the festival in explanations.
	Holidays []Day `json:"holidays"`
	// Workdays lists the make-up workdays (调休): weekend days that are worked.
	Workdays []Day `json:"workdays"`
	// Source cites the notice, e.g. "国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）".
	Source string `json:"source"`
	// Provisional is true for a year whose notice is not loaded: its calendar is the statutory
	// holidays of 《全国年节及纪念日放假办法》 alone (ProvisionalYear), with no bridging days and no
	// make-up workdays. A loaded year is never provisional, and Validate refuses one that says so.
	Provisional bool `json:"provisional"`
}

// Validate checks that a year can be trusted for deadlines: every date parses, belongs to the
// year, is listed once, and every make-up workday is a Saturday or Sunday that is not also a
// holiday (a weekday "make-up" or a worked holiday would silently shift every deadline), and
// the year is not marked provisional (only a notice is loaded).
// All problems are reported together, each naming the bad date.
func (y Year) Validate() error {
	if y.Year < 1 || y.Year > 9999 {
		return fmt.Errorf("calendar year %d: year must be between 1 and 9999", y.Year)
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("calendar %d: "+format, append([]any{y.Year}, args...)...))
	}
	if y.Provisional {
		bad("a provisional calendar (the statutory holidays alone) cannot be loaded as the year's arrangement; load the State Council's notice, with \"provisional\": false")
	}
	holidays := make(map[string]bool, len(y.Holidays))
	for _, d := range y.Holidays {
		t, err := parseDate(d.Date)
		if err != nil {
			bad("holiday %q: %v", d.Date, err)
			continue
		}
		if t.Year() != y.Year {
			bad("holiday %s is not in %d", d.Date, y.Year)
			continue
		}
		if holidays[d.Date] {
			bad("holiday %s is listed twice", d.Date)
			continue
		}
		holidays[d.Date] = true
	}
	workdays := make(map[string]bool, len(y.Workdays))
	for _, d := range y.Workdays {
		t, err := parseDate(d.Date)
		if err != nil {
			bad("make-up workday %q: %v", d.Date, err)
			continue
		}
		switch {
		case t.Year() != y.Year:
			bad("make-up workday %s is not in %d", d.Date, y.Year)
		case workdays[d.Date]:
			bad("make-up workday %s is listed twice", d.Date)
		case !isWeekend(t):
			bad("make-up workday %s is a %s; make-up workdays must be a Saturday or Sunday", d.Date, t.Weekday())
		case holidays[d.Date]:
			bad("make-up workday %s is also listed as a holiday", d.Date)
		}
		workdays[d.Date] = true
	}
	return errors.Join(errs...)
}

// parseDate parses a strict YYYY-MM-DD civil date (as UTC midnight, the package's civil-date
// representation).
func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil || t.Format(dateLayout) != s {
		return time.Time{}, errors.New("not a valid date of the form YYYY-MM-DD")
	}
	return t, nil
}

// clone returns a deep copy so callers cannot mutate a Calendar's or Builtin's data.
func (y Year) clone() Year {
	y.Holidays = slices.Clone(y.Holidays)
	y.Workdays = slices.Clone(y.Workdays)
	return y
}

//go:embed holidays/*.json
var builtinFS embed.FS

// builtinYears is parsed once; a broken embedded file is a build defect, caught by the tests.
var builtinYears = mustLoadBuiltin()

func mustLoadBuiltin() []Year {
	names, err := fs.Glob(builtinFS, "holidays/*.json")
	if err != nil {
		panic(err)
	}
	slices.Sort(names)
	years := make([]Year, 0, len(names))
	for _, name := range names {
		data, err := builtinFS.ReadFile(name)
		if err != nil {
			panic(err)
		}
		var y Year
		if err := json.Unmarshal(data, &y); err != nil {
			panic(fmt.Sprintf("calendar: embedded %s: %v", name, err))
		}
		if want := strings.TrimSuffix(path.Base(name), ".json"); fmt.Sprint(y.Year) != want {
			panic(fmt.Sprintf("calendar: embedded %s holds year %d", name, y.Year))
		}
		if err := y.Validate(); err != nil {
			panic(fmt.Sprintf("calendar: embedded %s: %v", name, err))
		}
		years = append(years, y)
	}
	return years
}

// Builtin returns the holiday arrangements shipped with the binary (2025 and 2026, from the
// State Council notices), in year order. Each call returns fresh copies.
func Builtin() []Year {
	out := make([]Year, len(builtinYears))
	for i, y := range builtinYears {
		out[i] = y.clone()
	}
	return out
}
