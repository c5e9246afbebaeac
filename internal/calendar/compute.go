package calendar

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Upper bounds on amounts. Statutory limits are tens of days; the bounds only stop a mistyped
// amount from looping for long or producing an explanation nobody can read.
const (
	maxSeconds = 10 * 366 * 24 * 60 * 60
	maxDays    = 3660
	maxMonths  = 120
)

// Compute returns the due instant of a clock with the steps that lead to it.
//
// Each period is counted on its own (Civil Code art. 203): the base period is counted first and,
// if its last day is a rest day or holiday, it ends on the next working day; each extension then
// counts from that (rolled) end in its own unit, and rolls forward at its own end in the same
// way. An extension is granted on the period as it stands, so it never loses the days the base
// period's roll-forward gave. Same-unit additions are therefore additive only when the base
// period does not roll: 60 calendar days ending on 1 October 2025 (a holiday to 8 October) end on
// 9 October, and a 30-day extension runs to 8 November (a Saturday), so 10 November, where 90
// calendar days counted at once would end on 31 October. The explanation shows every end with its
// roll-forward step.
//
// Finished pauses are added after the last extension, converted to the base period's unit,
// without a roll-forward of their own; the final last day then rolls forward as above.
//
// Pauses are converted as follows:
//   - Seconds: the exact paused duration.
//   - CalendarDays and Months: the paused duration rounded up to whole days (any part of a day
//     counts as a day, at least 1 for a non-zero pause), added as calendar days. Rounding the
//     duration rather than counting dates touched means an overnight 16-hour pause gives 1 day,
//     not 2.
//   - WorkingDays: the number of working days the pause touches (a day partly paused is a day the
//     handler could not fully use), added as working days. A pause spent wholly in a holiday
//     therefore adds nothing: those days were not being counted anyway.
//   - For day units, time paused on the start day itself is disregarded, as that day is not
//     counted anyway.
//   - A running pause (To zero) is ignored for the due instant, because the package has no clock
//     to know when it will end; a step says that the due instant will move on resume.
//
// Years whose State Council notice is not loaded are counted on their provisional calendar
// (ProvisionalYear): the statutory holidays of 《全国年节及纪念日放假办法》 are holidays, with no
// bridging days and no make-up workdays; a "note" step says the year's calendar is provisional
// until its notice is imported, each such holiday's step says "provisional holiday", and so does
// the summary. Outside ProvisionalFirst..ProvisionalLast only weekends are rest days, and the
// note says that. Compute never fails for a missing year: a deadline must always exist, and the
// clerk sees that it should be checked.
func (c *Calendar) Compute(req Request) (Explanation, error) {
	if err := validateRequest(req); err != nil {
		return Explanation{}, err
	}
	ex := Explanation{
		Clock:  req.Clock,
		Policy: req.Policy,
		Start:  req.Start,
		Period: req.Period,
		Rule:   rule(req),
	}
	w := &walker{cal: c, noted: map[int]bool{}}
	cur := cursor{atStart: true, instant: req.Start}

	startDay := dateOf(req.Start)
	if req.Period.Unit == Seconds {
		w.step(StepStart, startDay, "started "+fmtInstant(req.Start)+" (Asia/Shanghai)")
	} else {
		w.step(StepStart, startDay, fmt.Sprintf("started %s (%s, Asia/Shanghai); the start day is not counted (Civil Code art. 201)",
			fmtInstant(req.Start), startDay.Weekday()))
	}

	// A single segment reads as "the period"; with extensions or pauses each end is named.
	single := len(req.Extensions) == 0 && len(req.Pauses) == 0
	var rolls []string
	roll := func(label, what string) {
		if !cur.dayEnd {
			return
		}
		if single {
			what = "the period"
		}
		if r := w.rollForward(&cur, what); r != "" {
			if !single {
				r = label + " " + r + ", to " + cur.day.Format(dateLayout)
			}
			rolls = append(rolls, r)
		}
	}

	w.add(&cur, req.Period, "base period")
	roll("base period", "the base period")

	var extParts []string
	prev := "the base period"
	for i, e := range req.Extensions {
		label := fmt.Sprintf("extension %d", i+1)
		w.step(StepExtension, cur.lastDate(), fmt.Sprintf("%s: +%s after %s, the end of %s", label, describe(e), cur.endText(), prev))
		w.add(&cur, e, label)
		roll(label, label)
		extParts = append(extParts, "+ "+describe(e)+" extension")
		prev = label
	}

	// Pauses in time order, so steps read chronologically whatever order the caller kept; they
	// keep the caller's numbering, as validation errors do.
	order := make([]int, len(req.Pauses))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return req.Pauses[a].From.Compare(req.Pauses[b].From) })
	var pausedDays int
	var pausedTime time.Duration
	var running []string
	for _, i := range order {
		p := req.Pauses[i]
		span := fmtInstant(p.From) + " – " + fmtInstant(p.To)
		reason := ""
		if p.Reason != "" {
			reason = " (" + p.Reason + ")"
		}
		if p.To.IsZero() {
			w.step(StepPause, dateOf(p.From), fmt.Sprintf("pause running since %s%s; not counted yet; due will move on resume",
				fmtInstant(p.From), reason))
			running = append(running, "pause running since "+fmtInstant(p.From))
			continue
		}
		if p.To.Equal(p.From) {
			w.step(StepPause, dateOf(p.From), "paused "+span+reason+": zero length, no effect")
			continue
		}
		label := fmt.Sprintf("pause %d", i+1)
		if req.Period.Unit == Seconds {
			d := p.To.Sub(p.From)
			w.step(StepPause, dateOf(p.From), fmt.Sprintf("paused %s%s: +%s", span, reason, fmtDuration(d)))
			cur.setInstant(cur.due().Add(d))
			pausedTime += d
			continue
		}
		// For day units the start day is not counted, so time paused on it took nothing from
		// the period: only the part from the next day's 00:00 on counts.
		from := p.From
		if firstCounted := endOfDay(startDay); from.Before(firstCounted) {
			from = firstCounted
		}
		if !p.To.After(from) {
			w.step(StepPause, dateOf(p.From), "paused "+span+reason+": only on the start day, which is not counted; no effect")
			continue
		}
		switch req.Period.Unit {
		case CalendarDays, Months:
			d := p.To.Sub(from)
			n := int((d + 24*time.Hour - 1) / (24 * time.Hour))
			w.step(StepPause, dateOf(p.From), fmt.Sprintf("paused %s%s: %s, counted as %s (any part of a day counts as a whole day)",
				span, reason, fmtDuration(d), plural(n, "calendar day")))
			w.add(&cur, Period{Amount: n, Unit: CalendarDays}, label)
			pausedDays += n
		case WorkingDays:
			touched := w.workingDaysTouched(from, p.To)
			note := fmt.Sprintf("paused %s%s: touched %s", span, reason, plural(len(touched), "working day"))
			if len(touched) > 0 {
				note += " (" + listDates(touched) + ")"
			} else {
				note += "; no effect"
			}
			w.step(StepPause, dateOf(p.From), note)
			if len(touched) > 0 {
				w.add(&cur, Period{Amount: len(touched), Unit: WorkingDays}, label)
			}
			pausedDays += len(touched)
		}
	}

	// The paused time moved the end; the final last day rolls forward too (a no-op when no
	// pause moved it, as the last segment already rolled).
	roll("period with the paused time", "the period with the paused time")

	ex.Due = cur.due().In(shanghai)
	if cur.dayEnd {
		w.step(StepDue, cur.day, fmt.Sprintf("due at 24:00 of %s (%s), i.e. %s Asia/Shanghai",
			cur.day.Format(dateLayout), cur.day.Weekday(), ex.Due.Format("2006-01-02 15:04")))
	} else {
		w.step(StepDue, dateOf(ex.Due), "due "+fmtInstant(ex.Due)+" Asia/Shanghai")
	}
	ex.Steps = w.steps

	// Summary: one line for the Temporal UI.
	head := describe(req.Period)
	if len(extParts) > 0 {
		head += " " + strings.Join(extParts, " ")
	}
	switch {
	case pausedTime > 0:
		head += " + " + fmtDuration(pausedTime) + " paused"
	case pausedDays > 0 && req.Period.Unit == WorkingDays:
		head += " + " + plural(pausedDays, "working day") + " paused"
	case pausedDays > 0:
		head += " + " + plural(pausedDays, "calendar day") + " paused"
	}
	parts := []string{head}
	var skipped []string
	if w.holidays > 0 {
		skipped = append(skipped, fmt.Sprintf("%d holiday", w.holidays))
	}
	if w.weekends > 0 {
		skipped = append(skipped, fmt.Sprintf("%d weekend", w.weekends))
	}
	if len(skipped) > 0 {
		days := " days"
		if w.holidays+w.weekends == 1 {
			days = " day"
		}
		parts = append(parts, "skipped "+strings.Join(skipped, " and ")+days)
	}
	if w.makeups > 0 {
		parts = append(parts, plural(w.makeups, "make-up workday"))
	}
	parts = append(parts, rolls...)
	parts = append(parts, running...)
	for _, y := range slices.Sorted(maps.Keys(w.noted)) {
		if w.noted[y] {
			parts = append(parts, fmt.Sprintf("provisional calendar for %d: no State Council notice loaded", y))
		} else {
			parts = append(parts, fmt.Sprintf("no holiday calendar for %d", y))
		}
	}
	ex.Summary = "due " + cur.endText() + " (" + strings.Join(parts, "; ") + ")"
	return ex, nil
}

// cursor is the end of the period computed so far: either the last counted day (the period ends
// at its 24:00) or, after a Seconds segment, an exact instant.
type cursor struct {
	atStart bool      // nothing added yet: the anchor is the start day itself
	instant time.Time // meaningful when !dayEnd
	day     time.Time // the last day, a civil date; meaningful when dayEnd
	dayEnd  bool
}

func (c *cursor) setDay(d time.Time) { c.day, c.dayEnd, c.atStart = d, true, false }

func (c *cursor) setInstant(t time.Time) { c.instant, c.dayEnd, c.atStart = t, false, false }

func (c cursor) due() time.Time {
	if c.dayEnd {
		return endOfDay(c.day)
	}
	return c.instant
}

// anchor is the day after which day-based counting starts (the day itself is not counted).
func (c cursor) anchor() time.Time {
	switch {
	case c.dayEnd:
		return c.day
	case c.atStart:
		return dateOf(c.instant)
	default:
		// After a Seconds segment an end at exactly 00:00 is 24:00 of the previous day, whose
		// successor is the first day to count.
		return dateOf(c.instant.Add(-time.Nanosecond))
	}
}

// lastDate is the civil date the period currently ends on, for step dates.
func (c cursor) lastDate() time.Time { return c.anchor() }

// endText reads the current end for clerks: "2026-03-12 24:00" or "2026-02-13 10:00:30".
func (c cursor) endText() string {
	if c.dayEnd {
		return c.day.Format(dateLayout) + " 24:00"
	}
	return fmtInstant(c.instant)
}

// walker accumulates steps and counts while walking days.
type walker struct {
	cal                         *Calendar
	steps                       []Step
	holidays, weekends, makeups int
	noted                       map[int]bool // uncovered years already noted: true if provisional
}

func (w *walker) step(kind StepKind, d time.Time, note string) {
	s := Step{Kind: kind, Note: note}
	if !d.IsZero() {
		s.Date = d.Format(dateLayout)
	}
	w.steps = append(w.steps, s)
}

// classify classifies a day and notes, once per year, that a year's notice is not loaded: its
// calendar is provisional, or, outside the provisional years, only weekends are known.
func (w *walker) classify(d time.Time) dayInfo {
	info := w.cal.classify(d)
	if _, done := w.noted[d.Year()]; !info.covered && !done {
		w.noted[d.Year()] = info.provisional
		if info.provisional {
			w.step(StepNote, d, fmt.Sprintf("the State Council's notice for %d is not loaded: the year's calendar is provisional until its notice is imported "+
				"(the statutory holidays of 《全国年节及纪念日放假办法》 are skipped; bridging days and make-up workdays are not known)", d.Year()))
		} else {
			w.step(StepNote, d, fmt.Sprintf("no holiday calendar for %d: only weekends skipped", d.Year()))
		}
	}
	return info
}

// add counts one segment (base period, extension or pause) from the cursor.
func (w *walker) add(cur *cursor, p Period, label string) {
	switch p.Unit {
	case Seconds:
		cur.setInstant(cur.due().Add(time.Duration(p.Amount) * time.Second))
	case CalendarDays:
		last := cur.anchor().AddDate(0, 0, p.Amount)
		cur.setDay(last)
		w.step(StepCounted, last, fmt.Sprintf("calendar day %d of %d: %s ends", p.Amount, p.Amount, label))
	case Months:
		from := cur.anchor()
		last, clipped := addMonths(from, p.Amount)
		cur.setDay(last)
		note := fmt.Sprintf("day corresponding to %s, %s later: %s ends", from.Format(dateLayout), plural(p.Amount, "month"), label)
		if clipped {
			note = fmt.Sprintf("%s %d has no day %d (%s after %s), so its last day: %s ends (Civil Code art. 202)",
				last.Month(), last.Year(), from.Day(), plural(p.Amount, "month"), from.Format(dateLayout), label)
		}
		w.step(StepCounted, last, note)
	case WorkingDays:
		d := cur.anchor()
		for n := 0; n < p.Amount; {
			d = d.AddDate(0, 0, 1)
			info := w.classify(d)
			switch info.kind {
			case kindWorking:
				n++
			case kindMakeUp:
				n++
				w.makeups++
				w.step(StepMakeUpWorkday, d, fmt.Sprintf("%s (%s), counted", info.name, d.Weekday()))
			case kindWeekend:
				w.weekends++
				w.step(StepWeekend, d, d.Weekday().String())
			case kindHoliday:
				w.holidays++
				w.step(StepHoliday, d, holidayNote(d, info))
			}
		}
		cur.setDay(d)
		w.step(StepCounted, d, fmt.Sprintf("working day %d of %d: %s ends", p.Amount, p.Amount, label))
	}
}

// rollForward moves a last day that is a rest day to the next working day (Civil Code art. 203)
// and returns a summary phrase, or "" if nothing moved; what names the period that ends, e.g.
// "the base period".
func (w *walker) rollForward(cur *cursor, what string) string {
	first := cur.day
	info := w.classify(first)
	if info.working() {
		return ""
	}
	// The step names the day in full; the summary's phrase stays short.
	firstReason, shortReason := holidayNote(first, info), info.name
	if info.provisional && info.kind == kindHoliday {
		shortReason = "provisional holiday " + info.name
	}
	if info.kind == kindWeekend {
		firstReason, shortReason = first.Weekday().String(), first.Weekday().String()
	}
	d := first
	for !info.working() {
		if info.kind == kindHoliday {
			w.step(StepHoliday, d, holidayNote(d, info))
		} else {
			w.step(StepWeekend, d, d.Weekday().String())
		}
		d = d.AddDate(0, 0, 1)
		info = w.classify(d)
	}
	cur.setDay(d)
	w.step(StepRolledForward, d, fmt.Sprintf("last day %s (%s) is a rest day; %s ends on the next working day %s (Civil Code art. 203)",
		first.Format(dateLayout), firstReason, what, d.Format(dateLayout)))
	return fmt.Sprintf("rolled forward from %s, %s", first.Format(dateLayout), shortReason)
}

// workingDaysTouched lists the working days of which any part lies in [from, to).
func (w *walker) workingDaysTouched(from, to time.Time) []time.Time {
	var out []time.Time
	last := dateOf(to.Add(-time.Nanosecond))
	for d := dateOf(from); !d.After(last); d = d.AddDate(0, 0, 1) {
		if w.classify(d).working() {
			out = append(out, d)
		}
	}
	return out
}

// addMonths returns the day corresponding to d n months later, or that month's last day when it
// has no such day (Civil Code art. 202); clipped reports the latter.
func addMonths(d time.Time, n int) (time.Time, bool) {
	first := time.Date(d.Year(), d.Month()+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	lastDay := first.AddDate(0, 1, -1).Day()
	if d.Day() > lastDay {
		return time.Date(first.Year(), first.Month(), lastDay, 0, 0, 0, 0, time.UTC), true
	}
	return time.Date(first.Year(), first.Month(), d.Day(), 0, 0, 0, 0, time.UTC), false
}

func validatePeriod(what string, p Period) error {
	if p.Amount <= 0 {
		return fmt.Errorf("%s: amount must be positive, got %d", what, p.Amount)
	}
	var limit int
	switch p.Unit {
	case Seconds:
		limit = maxSeconds
	case CalendarDays, WorkingDays:
		limit = maxDays
	case Months:
		limit = maxMonths
	default:
		return fmt.Errorf("%s: unknown unit %q (want %s, %s, %s or %s)", what, p.Unit, Seconds, CalendarDays, WorkingDays, Months)
	}
	if p.Amount > limit {
		return fmt.Errorf("%s: %d %s is more than the maximum of %d", what, p.Amount, p.Unit, limit)
	}
	return nil
}

func validateRequest(req Request) error {
	var errs []error
	if req.Start.IsZero() {
		errs = append(errs, errors.New("start is missing"))
	}
	if err := validatePeriod("period", req.Period); err != nil {
		errs = append(errs, err)
	}
	for i, e := range req.Extensions {
		if err := validatePeriod(fmt.Sprintf("extension %d", i+1), e); err != nil {
			errs = append(errs, err)
		}
	}
	type indexed struct {
		n int
		p Pause
	}
	var ok []indexed
	for i, p := range req.Pauses {
		n := i + 1
		switch {
		case p.From.IsZero():
			errs = append(errs, fmt.Errorf("pause %d: from is missing", n))
		case !req.Start.IsZero() && p.From.Before(req.Start):
			errs = append(errs, fmt.Errorf("pause %d starts %s, before the clock started %s", n, fmtInstant(p.From), fmtInstant(req.Start)))
		case !p.To.IsZero() && p.To.Before(p.From):
			errs = append(errs, fmt.Errorf("pause %d ends %s, before it starts %s", n, fmtInstant(p.To), fmtInstant(p.From)))
		case p.To.Sub(p.From) > maxDays*24*time.Hour:
			errs = append(errs, fmt.Errorf("pause %d lasts more than %d days", n, maxDays))
		default:
			ok = append(ok, indexed{n, p})
		}
	}
	// Overlapping pauses would count the same time twice; they mean the caller's record is wrong.
	slices.SortStableFunc(ok, func(a, b indexed) int { return a.p.From.Compare(b.p.From) })
	for i := 1; i < len(ok); i++ {
		a, b := ok[i-1], ok[i]
		if a.p.To.IsZero() || b.p.From.Before(a.p.To) {
			errs = append(errs, fmt.Errorf("pauses %d and %d overlap", min(a.n, b.n), max(a.n, b.n)))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid deadline request: %w", err)
	}
	return nil
}

// rule is the one-line reading of the rule applied.
func rule(req Request) string {
	p := req.Period
	from := dateOf(req.Start).Format(dateLayout)
	switch p.Unit {
	case Seconds:
		return describe(p) + " from " + fmtInstant(req.Start) + " (exact elapsed time)"
	case CalendarDays:
		return describe(p) + " from " + from + " (start day not counted; ends 24:00 of the last day; a last day on a rest day moves to the next working day)"
	case WorkingDays:
		return describe(p) + " from " + from + " (start day not counted; weekends and public holidays skipped, make-up workdays counted; ends 24:00 of the last working day)"
	default:
		return describe(p) + " from " + from + " (ends 24:00 of the corresponding day, or of the month's last day if there is none; a last day on a rest day moves to the next working day)"
	}
}

// describe reads a period, e.g. "15 working days", "1 month".
func describe(p Period) string {
	switch p.Unit {
	case Seconds:
		return plural(p.Amount, "second")
	case CalendarDays:
		return plural(p.Amount, "calendar day")
	case WorkingDays:
		return plural(p.Amount, "working day")
	case Months:
		return plural(p.Amount, "month")
	}
	return fmt.Sprintf("%d %s", p.Amount, p.Unit)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// fmtInstant shows an instant in Asia/Shanghai, with seconds only when they matter.
func fmtInstant(t time.Time) string {
	if t.IsZero() {
		return "(none)"
	}
	t = t.In(shanghai)
	if t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format("2006-01-02 15:04")
	}
	return t.Format("2006-01-02 15:04:05")
}

// listDates lists civil dates, abbreviated after ten so a long pause stays readable.
func listDates(ds []time.Time) string {
	const show = 10
	var b strings.Builder
	for i, d := range ds {
		if i == show {
			fmt.Fprintf(&b, ", … %d more", len(ds)-show)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Format(dateLayout))
	}
	return b.String()
}

// fmtDuration reads a pause length compactly, e.g. "2d8h", "16h30m", "5s".
func fmtDuration(d time.Duration) string {
	var b strings.Builder
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	if days > 0 {
		fmt.Fprintf(&b, "%dd", days)
	}
	for _, u := range []struct {
		unit time.Duration
		sym  string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.sym)
			d -= n * u.unit
		}
	}
	if d > 0 || b.Len() == 0 {
		fmt.Fprintf(&b, "%s", d)
	}
	return b.String()
}
