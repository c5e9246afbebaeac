package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/workflows"
)

// importReport is the answer of POST /api/v1/petitions/import.
type importReport struct {
	Rows []struct {
		Row             int        `json:"row"`
		ExternalRef     string     `json:"external_ref"`
		Status          string     `json:"status"`
		CaseNo          string     `json:"case_no"`
		QueryCode       string     `json:"query_code"`
		Stage           string     `json:"stage"`
		Due             *time.Time `json:"due"`
		Overdue         bool       `json:"overdue"`
		EscalationLevel int        `json:"escalation_level"`
		Reason          string     `json:"reason"`
	} `json:"rows"`
	Totals         map[string]int `json:"totals"`
	IgnoredColumns []string       `json:"ignored_columns"`
}

// postImport sends a file to the import endpoint as staff.
func postImport(t *testing.T, staff, contentType string, file []byte) (int, importReport) {
	t.Helper()
	req, err := http.NewRequest("POST", baseURL+"/api/v1/petitions/import", bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+tokenFor(t, staff))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var rep importReport
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &rep); err != nil {
			t.Fatalf("import answer %q: %v", truncate(raw, 300), err)
		}
	} else {
		t.Logf("import: %d %s", resp.StatusCode, truncate(raw, 500))
	}
	return resp.StatusCode, rep
}

// shanghaiMidnight is 24:00 of a day, i.e. 00:00 of the next, as due instants are written.
func shanghaiMidnight(date string) time.Time {
	d, err := time.ParseInLocation(time.DateOnly, date, calendar.Location())
	if err != nil {
		panic(err)
	}
	return d.AddDate(0, 0, 1)
}

// The running cases of e2e/testdata/import-running.csv, under the default policy (acceptance 15
// calendar days from receipt, handling one calendar month from acceptance, review request window
// 30 calendar days from the service date 送达, the reply's instant at the earliest; the start day is not counted, a period ends at 24:00 of its
// last day, and a last day that is a rest day or holiday moves to the next working day) on the
// shipped 2026 calendar (国庆 1–7 October, make-up workday Saturday 10 October). Worked by hand:
var importRunning = []struct {
	ref   string
	stage workflows.Stage
	clock workflows.Clock
	// due is the last day of the running clock: the case is due at its 24:00.
	due string
}{
	// Received Fri 20 Nov: days 21 Nov … 5 Dec; Sat 5 Dec is a rest day → Mon 7 Dec.
	{"JX-2026-0101", workflows.StageRegistered, workflows.ClockAcceptance, "2026-12-07"},
	// Received Tue 20 Oct: days 21 Oct … Wed 4 Nov, a working day. Overdue before the import:
	// reminder (1 Nov) skipped, overdue, leader (+3 d) and superior unit (+7 d) all at once.
	{"JX-2026-0102", workflows.StageRegistered, workflows.ClockAcceptance, "2026-11-04"},
	// Accepted Tue 10 Nov: one month → Thu 10 Dec.
	{"JX-2026-0201", workflows.StageHandling, workflows.ClockHandling, "2026-12-10"},
	// Accepted Wed 2 Sep: one month → Fri 2 Oct, 国庆 National Day; 3–7 Oct holidays too →
	// Thu 8 Oct. Overdue since 9 Oct: the whole ladder at once.
	{"JX-2026-0202", workflows.StageHandling, workflows.ClockHandling, "2026-10-08"},
	// Accepted Mon 12 Oct (handling due Thu 12 Nov), replied Fri 13 Nov: late. Served by post
	// Mon 16 Nov (from the reply it would be 14 Nov … Sun 13 Dec → Mon 14 Dec). Window from the
	// service day: days 17 Nov … Wed 16 Dec, a working day.
	{"JX-2026-0301", workflows.StageReplied, workflows.ClockReviewRequest, "2026-12-16"},
	// Accepted Wed 12 Aug (handling due 12 Sep, a Saturday → Mon 14 Sep), replied Thu 10 Sep:
	// on time; served in person that day, so the window starts at the reply. Window: days
	// 11 Sep … 10 Oct, a Saturday but a make-up workday (调休) → 10 Oct. It ran out before the
	// import: the case closes at once.
	{"JX-2026-0302", workflows.StageReplied, workflows.ClockReviewRequest, "2026-10-10"},
}

// TestImportRunningCases imports a CSV of running cases in every stage an office brings in
// (registered, handling, replied), two of them overdue before the import, one whose review
// request window ran out and one replied without its service date (JX-2026-0303), plus two bad
// rows; then checks each case's stage, due date and
// imported history, and that importing the same file again makes nothing new.
func TestImportRunningCases(t *testing.T) {
	file, err := os.ReadFile("testdata/import-running.csv")
	if err != nil {
		t.Fatal(err)
	}
	code, rep := postImport(t, clerk, "text/csv; charset=utf-8", file)
	if code != http.StatusOK {
		t.Fatalf("import: status %d", code)
	}
	if rep.Totals["imported"] != 7 || rep.Totals["refused"] != 2 || rep.Totals["existing"] != 0 ||
		!slices.Equal(rep.IgnoredColumns, []string{"备注 note"}) {
		t.Errorf("totals %v, ignored columns %v", rep.Totals, rep.IgnoredColumns)
	}
	refusals := map[string]string{
		"JX-2026-0901": "petitioners[0].phone: is not a phone number",
		"JX-2026-0902": "handler: is required for a case in stage handling",
	}
	now := time.Now()
	cases := map[string]string{}
	for _, r := range rep.Rows {
		if want, ok := refusals[r.ExternalRef]; ok {
			if r.Status != "refused" || r.Reason != want || r.CaseNo != "" {
				t.Errorf("row %d %s: %s %q, want refused %q", r.Row, r.ExternalRef, r.Status, r.Reason, want)
			}
			continue
		}
		if r.Status != "imported" || r.CaseNo == "" || len(r.QueryCode) != 8 {
			t.Errorf("row %d %s: %+v", r.Row, r.ExternalRef, r)
		}
		cases[r.ExternalRef] = r.CaseNo
	}

	for _, w := range importRunning {
		no := cases[w.ref]
		if no == "" {
			t.Errorf("%s was not imported", w.ref)
			continue
		}
		due := shanghaiMidnight(w.due)
		stage := w.stage
		if w.clock == workflows.ClockReviewRequest && now.After(due) {
			stage = workflows.StageClosed // the petitioner's window ran out
		}
		v := waitRegister(t, no, string(stage))
		var dl struct {
			Deadline *workflows.Deadline `json:"deadline"`
		}
		if stage != workflows.StageClosed {
			if code := call(t, "GET", "/api/v1/petitions/"+no+"/deadlines", nil, &dl); code != http.StatusOK || dl.Deadline == nil {
				t.Fatalf("%s deadlines: %d %+v", no, code, dl)
			}
			if dl.Deadline.Clock != w.clock || !dl.Deadline.Due.Equal(due) {
				t.Errorf("%s (%s): %s due %s, want %s due %s (24:00 of %s)", w.ref, no, dl.Deadline.Clock,
					dl.Deadline.Due.In(calendar.Location()).Format(time.RFC3339), w.clock, due.Format(time.RFC3339), w.due)
			}
		}

		// The imported history: registered at receipt, accepted, replied at the real instants,
		// marked imported, by the importing clerk; then the ladder of a deadline already passed.
		var out struct {
			Events []workflows.Event `json:"events"`
		}
		wantImported := map[workflows.Stage]int{workflows.StageRegistered: 1, workflows.StageHandling: 2, workflows.StageReplied: 3}[w.stage]
		overdueLong := now.After(due.Add(7 * 24 * time.Hour))
		eventually(t, 20*time.Second, w.ref+" history", func() bool {
			call(t, "GET", "/api/v1/petitions/"+no+"/events", nil, &out)
			return len(out.Events) >= wantImported && (!overdueLong || w.clock == workflows.ClockReviewRequest ||
				slices.ContainsFunc(out.Events, func(e workflows.Event) bool { return e.Details["level"] == 3.0 }))
		})
		var types []string
		for i, e := range out.Events {
			types = append(types, e.Type)
			imported, _ := e.Details[workflows.DetailImported].(bool)
			if imported != (i < wantImported) || i < wantImported && e.Actor.ID != clerk {
				t.Errorf("%s event %d %s: imported %v by %s", w.ref, e.Seq, e.Type, imported, e.Actor.ID)
			}
		}
		if reg := out.Events[0]; reg.Type != workflows.EventRegistered || reg.Details["external_ref"] != w.ref {
			t.Errorf("%s first event %+v", w.ref, reg)
		}
		switch {
		case w.clock == workflows.ClockReviewRequest && now.After(due):
			want := []string{"registered", "accepted", "replied", "closed"}
			if !slices.Equal(types, want) {
				t.Errorf("%s events %v, want %v", w.ref, types, want)
			}
		case overdueLong:
			// Overdue before the import: the reminder skipped, then each ladder step once.
			want := append(types[:wantImported:wantImported], "reminder_skipped", "overdue", "escalated", "escalated")
			if !slices.Equal(types, want) {
				t.Errorf("%s events %v, want %v", w.ref, types, want)
			}
			eventually(t, 20*time.Second, w.ref+" at escalation level 3", func() bool {
				c := getCase(t, no).Case
				return c.Overdue && c.EscalationLevel == 3
			})
		case now.Before(due.Add(-3 * 24 * time.Hour)):
			if len(types) != wantImported || v.Case.Overdue {
				t.Errorf("%s events %v (overdue %v), want only the imported history", w.ref, types, v.Case.Overdue)
			}
		}
	}
	// The instants of the history are the real ones (JX-2026-0301: received 9 Oct 11:00,
	// accepted 12 Oct 10:00, replied 13 Nov 16:00; the reply was late).
	var out struct {
		Events []workflows.Event `json:"events"`
	}
	call(t, "GET", "/api/v1/petitions/"+cases["JX-2026-0301"]+"/events", nil, &out)
	for i, want := range []string{"2026-10-09T11:00:00+08:00", "2026-10-12T10:00:00+08:00", "2026-11-13T16:00:00+08:00"} {
		if i >= len(out.Events) || out.Events[i].At.Format(time.RFC3339) != want {
			t.Errorf("JX-2026-0301 event %d at %v, want %s", i+1, out.Events, want)
		}
	}
	served, _ := time.Parse(time.RFC3339, fmt.Sprint(out.Events[2].Details["served_at"]))
	if d := out.Events[2].Details; d["late"] != true || !served.Equal(shanghaiMidnight("2026-11-15")) || d["service_method"] != workflows.ServicePost {
		t.Errorf("JX-2026-0301 reply details %v: replied after its handling deadline, served by post on 16 Nov", d)
	}

	// JX-2026-0303, replied Mon 16 Nov 10:00 without its service date: no window runs until
	// it is recorded, and the service reminder, due 3 days after the reply (Thu 19 Nov 10:00,
	// counted from the reply, not the import), goes out at once.
	no0303 := cases["JX-2026-0303"]
	for _, r := range rep.Rows {
		if r.ExternalRef == "JX-2026-0303" && (r.Stage != "replied" || r.Due != nil) {
			t.Errorf("JX-2026-0303 reported %+v, want replied without a due", r)
		}
	}
	waitRegister(t, no0303, "replied")
	var dl struct {
		Deadline *workflows.Deadline `json:"deadline"`
	}
	if code := call(t, "GET", "/api/v1/petitions/"+no0303+"/deadlines", nil, &dl); code != http.StatusOK || dl.Deadline == nil ||
		!dl.Deadline.AwaitingService || dl.Deadline.Clock != workflows.ClockReviewRequest {
		t.Errorf("JX-2026-0303 deadlines: %d %+v, want the review request window awaiting service", code, dl.Deadline)
	}
	eventually(t, 20*time.Second, "JX-2026-0303's service reminder", func() bool {
		return slices.Contains(eventTypes(t, no0303), workflows.EventServiceReminderSent)
	})
	if types := eventTypes(t, no0303); !slices.Equal(types, []string{"registered", "accepted", "replied", "service_reminder_sent"}) {
		t.Errorf("JX-2026-0303 events %v", types)
	}

	// The same file again, by a supervisor: every case exists already, nothing new is made.
	code, again := postImport(t, supervisor, "text/csv", file)
	if code != http.StatusOK || again.Totals["existing"] != 7 || again.Totals["imported"] != 0 || again.Totals["refused"] != 2 {
		t.Fatalf("second import: %d %v", code, again.Totals)
	}
	for _, r := range again.Rows {
		if r.Status == "existing" && (r.CaseNo != cases[r.ExternalRef] || r.QueryCode != "") {
			t.Errorf("second import, row %d: %+v, want case %s without a query code", r.Row, r, cases[r.ExternalRef])
		}
	}
	no := cases["JX-2026-0201"]
	if types := eventTypes(t, no); strings.Count(strings.Join(types, " "), "registered") != 1 {
		t.Errorf("%s after the second import: events %v", no, types)
	}
	// A handler may not import.
	if code, _ := postImport(t, handler, "text/csv", file); code != http.StatusForbidden {
		t.Errorf("a handler imports: status %d, want 403", code)
	}
}

// TestImportFiveHundredRunningCases is the figure: 500 realistic running cases
// imported in under a minute, each with the deadline the legal calendar gives. It posts them
// as petitiond import does (batches of 100) and is skipped unless PETITIONS_IMPORT_BENCH=1
// (it adds 500 cases to the shared stack).
func TestImportFiveHundredRunningCases(t *testing.T) {
	if os.Getenv("PETITIONS_IMPORT_BENCH") == "" {
		t.Skip("set PETITIONS_IMPORT_BENCH=1 to import 500 running cases and time it")
	}
	const n, batch = 500, 100
	cal := calendar.Default()
	loc := calendar.Location()
	day0 := time.Date(2026, 8, 3, 9, 0, 0, 0, loc)
	stamp := time.Now().UnixNano() % 1e6
	type expect struct {
		clock workflows.Clock
		start time.Time
		p     workflows.Period
	}
	want := map[string]expect{}
	var b strings.Builder
	b.WriteString("external_ref,channel,category,topic,content,petitioner_name,petitioner_phone,received_at,accepted_at,replied_at,served_at,service_method,unit,handler,stage\n")
	units := []string{"construction", "health", "civil_affairs", "land", "hrss", "education"}
	for i := range n {
		ref := fmt.Sprintf("BENCH-%d-%04d", stamp, i)
		unit := units[i%len(units)]
		received := day0.Add(time.Duration(i*113%(110*24)) * time.Hour) // spread over Aug–Nov
		accepted := received.Add(time.Duration(24+i%96) * time.Hour)
		replied := accepted.Add(time.Duration(10+i%20) * 24 * time.Hour)
		stage := []string{"registered", "handling", "handling", "replied"}[i%4]
		acc, rep, served := "", "", ""
		var e expect
		switch stage {
		case "registered":
			received = time.Now().Add(-time.Duration(i%40) * 24 * time.Hour).Truncate(time.Hour)
			e = expect{workflows.ClockAcceptance, received, workflows.Period{Amount: 15, Unit: calendar.CalendarDays}}
		case "handling":
			if accepted.After(time.Now()) {
				accepted = time.Now().Add(-time.Hour).Truncate(time.Minute)
			}
			acc = accepted.Format("2006-01-02 15:04")
			e = expect{workflows.ClockHandling, accepted.Truncate(time.Minute), workflows.Period{Amount: 1, Unit: calendar.Months}}
		case "replied":
			if replied.After(time.Now()) {
				replied = time.Now().Add(-time.Hour).Truncate(time.Minute)
			}
			acc, rep = accepted.Format("2006-01-02 15:04"), replied.Format("2006-01-02 15:04")
			served = replied.Format(time.DateOnly) + ",in_person" // that day: the window starts at the reply
			e = expect{workflows.ClockReviewRequest, replied.Truncate(time.Minute), workflows.Period{Amount: 30, Unit: calendar.CalendarDays}}
		}
		want[ref] = e
		handler := "handler." + unit
		if stage == "registered" {
			handler = "" // not accepted yet: the unit it waits for, no handler
		}
		if served == "" {
			served = ","
		}
		fmt.Fprintf(&b, "%s,letter,appeal,事项%d-%d,补录测试事项 %d,信访人%d,137%08d,%s,%s,%s,%s,%s,%s,%s\n",
			ref, stamp, i, i, i, (stamp*1000+int64(i))%1e8, received.Format("2006-01-02 15:04"), acc, rep, served, unit, handler, stage)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(b.String(), "\n"), "\n")
	header, body := lines[0], lines[1:]

	start := time.Now()
	got := map[string]time.Time{}
	for from := 0; from < len(body); from += batch {
		file := header + strings.Join(body[from:min(from+batch, len(body))], "")
		code, rep := postImport(t, clerk, "text/csv", []byte(file))
		if code != http.StatusOK || rep.Totals["imported"] != min(batch, len(body)-from) {
			t.Fatalf("batch at %d: %d %v %+v", from, code, rep.Totals, rep.Rows[:min(3, len(rep.Rows))])
		}
		for _, r := range rep.Rows {
			if r.Due != nil {
				got[r.ExternalRef] = *r.Due
			}
		}
		t.Logf("imported %d/%d after %s", from+batch, n, time.Since(start).Round(time.Millisecond))
	}
	took := time.Since(start)
	t.Logf("500 running cases imported in %s", took.Round(time.Millisecond))
	if took > time.Minute {
		t.Errorf("500 cases took %s, want under a minute", took)
	}
	wrong := 0
	for ref, e := range want {
		exp, err := cal.Compute(calendar.Request{Clock: string(e.clock), Policy: "default", Start: e.start, Period: e.p})
		if err != nil {
			t.Fatal(err)
		}
		if e.clock == workflows.ClockReviewRequest && exp.Due.Before(start) {
			continue // the window ran out before the import: the case closed at once, no clock runs
		}
		if g, ok := got[ref]; !ok || !g.Equal(exp.Due) {
			if wrong++; wrong <= 5 {
				t.Errorf("%s: due %v, want %s (%s)", ref, g, exp.Due.In(loc).Format(time.RFC3339), exp.Summary)
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d cases without the deadline the calendar gives", wrong, n)
	}
}
