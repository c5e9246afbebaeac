package e2e

import (
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/workflows"
)

type deadlineView struct {
	CaseNo   string              `json:"case_no"`
	Stage    string              `json:"stage"`
	Deadline *workflows.Deadline `json:"deadline"`
}

func deadlines(t *testing.T, caseNo string) deadlineView {
	t.Helper()
	var d deadlineView
	if code := call(t, "GET", "/api/v1/petitions/"+caseNo+"/deadlines", nil, &d); code != http.StatusOK || d.Deadline == nil {
		t.Fatalf("deadlines of %s: status %d, %+v", caseNo, code, d)
	}
	return d
}

// A letter received on the Friday before the 2026 Spring Festival, counted in working days:
// the acceptance deadline is the one a clerk with a paper calendar finds, and the explanation
// names every skipped and make-up day.
func TestSpringFestivalAcceptanceDeadline(t *testing.T) {
	var r registered
	code := call(t, "POST", "/api/v1/petitions", map[string]any{
		"channel": "letter", "category": "appeal", "topic": "unpaid wages before the Spring Festival",
		"content": "春节前讨薪", "petitioners": []any{petitioner()}, "actor": clerk,
		"policy": "statute_workdays", "received_at": "2026-02-13T09:30:00+08:00",
	}, &r)
	if code != http.StatusCreated {
		t.Fatalf("register: %d", code)
	}
	d := deadlines(t, r.CaseNo)
	want := time.Date(2026, 3, 13, 0, 0, 0, 0, calendar.Location()) // 2026-03-12 24:00
	if !d.Deadline.Due.Equal(want) {
		t.Fatalf("acceptance due %s, want %s (explanation: %s)", d.Deadline.Due, want, d.Deadline.Explanation.Summary)
	}
	var holidays, makeUp []string
	for _, s := range d.Deadline.Explanation.Steps {
		switch s.Kind {
		case calendar.StepHoliday:
			holidays = append(holidays, s.Date)
		case calendar.StepMakeUpWorkday:
			makeUp = append(makeUp, s.Date)
		}
	}
	if len(holidays) != 9 || holidays[0] != "2026-02-15" || holidays[8] != "2026-02-23" {
		t.Errorf("skipped holidays %v, want 2026-02-15 … 2026-02-23", holidays)
	}
	if !slices.Equal(makeUp, []string{"2026-02-14", "2026-02-28"}) {
		t.Errorf("make-up workdays %v", makeUp)
	}
	if !strings.Contains(d.Deadline.Explanation.Summary, "15 working days") {
		t.Errorf("summary %q", d.Deadline.Explanation.Summary)
	}
}

// A calendar import reaches running cases: their deadlines are recomputed, the change is an
// event, and importing the old calendar back restores the deadline.
func TestCalendarImportMovesRunningDeadline(t *testing.T) {
	r := registerCase(t, "statute_workdays", petitioner(), "street flooding after rain")
	before := deadlines(t, r.CaseNo).Deadline.Due

	// The next two working days become holidays.
	cal := calendar.Default()
	loc := calendar.Location()
	day := time.Now().In(loc)
	var added []time.Time
	for len(added) < 2 {
		day = day.AddDate(0, 0, 1)
		if ok, _ := cal.IsWorkingDay(day); ok {
			added = append(added, day)
		}
	}
	year := added[0].Year()
	var orig calendar.Year
	if code := call(t, "GET", "/api/v1/calendars/"+strconv.Itoa(year), nil, &orig); code != http.StatusOK {
		orig = calendar.Year{Year: year, Source: "e2e test"}
	}
	// A year without a notice answers its provisional calendar; what is put back is a notice.
	orig.Provisional = false
	changed := orig
	changed.Holidays = slices.Clone(orig.Holidays)
	for _, d := range added {
		if d.Year() == year {
			changed.Holidays = append(changed.Holidays, calendar.Day{Date: d.Format("2006-01-02"), Name: "e2e test holiday"})
		}
	}
	var put map[string]any
	if code := call(t, "PUT", "/api/v1/calendars/"+strconv.Itoa(year), changed, &put); code != http.StatusOK {
		t.Fatalf("PUT calendar: %d %v", code, put)
	}
	t.Cleanup(func() { call(t, "PUT", "/api/v1/calendars/"+strconv.Itoa(year), orig, nil) })
	var after time.Time
	eventually(t, 20*time.Second, "the deadline to move", func() bool {
		after = deadlines(t, r.CaseNo).Deadline.Due
		return after.After(before)
	})
	wantEvents(t, r.CaseNo, "deadline_changed")

	if code := call(t, "PUT", "/api/v1/calendars/"+strconv.Itoa(year), orig, nil); code != http.StatusOK {
		t.Fatalf("restore calendar: %d", code)
	}
	eventually(t, 20*time.Second, "the deadline to come back", func() bool {
		return deadlines(t, r.CaseNo).Deadline.Due.Equal(before)
	})
}

// educationStats are the figures the test reads from /stats.
type educationStats struct {
	Received          int     `json:"received"`
	Accepted          int     `json:"accepted"`
	Closed            int     `json:"closed"`
	ClosedOnTime      int     `json:"closed_on_time"`
	OnTimeRate        float64 `json:"on_time_rate"`
	Evaluated         int     `json:"evaluated"`
	Satisfied         int     `json:"satisfied"`
	SatisfactionRate  float64 `json:"satisfaction_rate"`
	ParticipationRate float64 `json:"participation_rate"`
}

func stats(t *testing.T, query string) educationStats {
	t.Helper()
	var st educationStats
	if code := call(t, "GET", "/api/v1/stats?"+query, nil, &st); code != http.StatusOK {
		t.Fatalf("stats: %d", code)
	}
	return st
}

// Statistics over a known set of cases of one unit, and the monthly ledger. Only this test
// uses the education bureau, so the figures move by exactly what it does (also when the test
// is repeated against the same stack).
func TestStatsAndMonthlyReport(t *testing.T) {
	loc := calendar.Location()
	now := time.Now().In(loc)
	window := "unit=education&from=" + now.AddDate(0, 0, -1).Format("2006-01-02") + "&to=" + now.AddDate(0, 0, 1).Format("2006-01-02")
	before := stats(t, window)

	var nos, codes []string
	for range 3 {
		r := registerCase(t, "default", petitioner(), "school fees charged twice")
		if r.SuggestedUnit != "education" {
			t.Fatalf("routing: %q, want education", r.SuggestedUnit)
		}
		act(t, r.CaseNo, "accept", map[string]any{"actor": clerk, "unit": "education", "handler": "handler.education"}, http.StatusOK)
		nos, codes = append(nos, r.CaseNo), append(codes, r.QueryCode)
	}
	for _, no := range nos[:2] {
		act(t, no, "reply", map[string]any{"actor": "handler.education", "opinion": "已退还 refunded"}, http.StatusOK)
	}
	act(t, nos[0], "evaluate", map[string]any{"actor": "petitioner", "query_code": codes[0], "evaluation": "satisfied"}, http.StatusOK)
	act(t, nos[1], "evaluate", map[string]any{"actor": "petitioner", "query_code": codes[1], "evaluation": "dissatisfied"}, http.StatusOK)
	waitRegister(t, nos[0], "closed")

	var st educationStats
	eventually(t, 20*time.Second, "statistics", func() bool {
		st = stats(t, window)
		return st.Evaluated == before.Evaluated+2
	})
	if st.Received-before.Received != 3 || st.Accepted-before.Accepted != 3 || st.Closed-before.Closed != 1 ||
		st.ClosedOnTime-before.ClosedOnTime != 1 || st.Satisfied-before.Satisfied != 1 {
		t.Errorf("stats for education moved from %+v to %+v", before, st)
	}
	if st.OnTimeRate != float64(st.ClosedOnTime)/float64(st.Closed) ||
		st.SatisfactionRate != float64(st.Satisfied)/float64(st.Evaluated) {
		t.Errorf("rates do not follow their definitions: %+v", st)
	}
	if before.Received == 0 && (st.OnTimeRate != 1 || st.SatisfactionRate != 0.5 || st.ParticipationRate != 1) {
		t.Errorf("rates for the three cases: %+v", st)
	}

	month := now.Format("2006-01")
	monthStats := stats(t, "unit=education&from="+month+"-01&to="+now.AddDate(0, 1, -now.Day()).Format("2006-01-02"))
	req, _ := http.NewRequest("GET", baseURL+"/api/v1/reports/monthly.csv?month="+month, nil)
	req.Header.Set("Authorization", "Bearer "+tokenFor(t, clerk))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("monthly.csv: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var row []string
	for _, line := range strings.Split(string(body), "\n") {
		if cells := strings.Split(strings.TrimSpace(line), ","); len(cells) > 3 && cells[1] == "education" {
			row = cells
		}
	}
	if row == nil || row[0] != month || row[3] != strconv.Itoa(monthStats.Received) {
		t.Errorf("education row of the monthly ledger %q, want %d received (as /stats for the month)", row, monthStats.Received)
	}
}

func TestDirectoryAndOpenAPI(t *testing.T) {
	var units struct {
		Units []struct{ Code, Parent string } `json:"units"`
	}
	if code := call(t, "GET", "/api/v1/units", nil, &units); code != http.StatusOK {
		t.Fatalf("units: %d", code)
	}
	parents := map[string]string{}
	for _, u := range units.Units {
		parents[u.Code] = u.Parent
	}
	if parents["construction"] != "district" || parents["district"] != "city" {
		t.Errorf("review chain: %v", parents)
	}
	var rules struct {
		Rules []struct{ Keyword, Unit string } `json:"rules"`
	}
	if code := call(t, "GET", "/api/v1/routing-rules", nil, &rules); code != http.StatusOK || len(rules.Rules) == 0 {
		t.Fatalf("routing rules: %d, %d rules", code, len(rules.Rules))
	}
	resp, err := http.Get(baseURL + "/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("openapi.yaml: %d", resp.StatusCode)
	}
}
