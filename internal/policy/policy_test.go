package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/workflows"
)

func TestBuiltinShipsTheFourPolicies(t *testing.T) {
	set := Builtin()
	if got, want := strings.Join(Names(set), ","), "default,demo,statute,statute_workdays"; got != want {
		t.Fatalf("names = %s, want %s", got, want)
	}
	for name, p := range set {
		if p.Name != name {
			t.Errorf("%s: Name = %q", name, p.Name)
		}
		if !p.ForwardRestartsClock {
			t.Errorf("%s: forward_restarts_clock must be true", name)
		}
	}
}

func TestBuiltinFigures(t *testing.T) {
	days := func(n int) calendar.Period { return calendar.Period{Amount: n, Unit: calendar.CalendarDays} }
	work := func(n int) calendar.Period { return calendar.Period{Amount: n, Unit: calendar.WorkingDays} }
	secs := func(n int) calendar.Period { return calendar.Period{Amount: n, Unit: calendar.Seconds} }
	dayLadder := workflows.Ladder{
		ReminderBefore: workflows.Duration(72 * time.Hour),
		LeaderAfter:    workflows.Duration(72 * time.Hour),
		SuperiorAfter:  workflows.Duration(7 * 24 * time.Hour),
	}
	tests := []struct {
		name                      string
		acceptance, handling, ext calendar.Period
		window, review            calendar.Period
		reWindow, reReview        calendar.Period
		ladder                    workflows.Ladder
	}{
		{Default, days(15), calendar.Period{Amount: 1, Unit: calendar.Months}, days(30), days(30), days(30), days(30), days(30), dayLadder},
		{Statute, days(15), days(60), days(30), days(30), days(30), days(30), days(30), dayLadder},
		{StatuteWorkdays, work(15), work(60), work(30), work(30), work(30), work(30), work(30), dayLadder},
		{Demo, secs(30), secs(60), secs(60), secs(60), secs(60), secs(60), secs(60), workflows.Ladder{
			ReminderBefore: workflows.Duration(20 * time.Second),
			LeaderAfter:    workflows.Duration(20 * time.Second),
			SuperiorAfter:  workflows.Duration(40 * time.Second),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Get(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			check := func(field string, got, want calendar.Period) {
				if got != want {
					t.Errorf("%s = %+v, want %+v", field, got, want)
				}
			}
			check("acceptance", p.Acceptance, tt.acceptance)
			check("handling", p.Handling, tt.handling)
			check("max_extension", p.MaxExtension, tt.ext)
			check("review_request_window", p.ReviewRequestWindow, tt.window)
			check("review", p.Review, tt.review)
			check("re_review_request_window", p.ReReviewRequestWindow, tt.reWindow)
			check("re_review", p.ReReview, tt.reReview)
			if p.Ladder != tt.ladder {
				t.Errorf("ladder = %+v, want %+v", p.Ladder, tt.ladder)
			}
		})
	}
}

func TestBuiltinReturnsACopy(t *testing.T) {
	set := Builtin()
	delete(set, Demo)
	if _, err := Get(Demo); err != nil {
		t.Fatalf("deleting from Builtin's result changed the built-in set: %v", err)
	}
}

func TestGetUnknown(t *testing.T) {
	_, err := Get("nope")
	if err == nil || !strings.Contains(err.Error(), `unknown policy "nope"`) || !strings.Contains(err.Error(), "statute") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadRoundTripsTheEmbeddedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policies.json")
	if err := os.WriteFile(path, builtinJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(set) != 4 || set[Demo] != Builtin()[Demo] {
		t.Fatalf("loaded %v", Names(set))
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "absent.json")); err == nil {
		t.Fatal("want an error for a missing file")
	}
}

// valid is a minimal valid policy file body; cases below break one thing at a time.
const validPeriods = `
	"acceptance": {"amount": 1, "unit": "seconds"},
	"handling": {"amount": 1, "unit": "months"},
	"max_extension": {"amount": 1, "unit": "calendar_days"},
	"review_request_window": {"amount": 1, "unit": "working_days"},
	"review": {"amount": 1, "unit": "seconds"},
	"re_review_request_window": {"amount": 1, "unit": "seconds"},
	"re_review": {"amount": 1, "unit": "seconds"}`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"not json", `{`, "parse"},
		{"empty list", `[]`, "no policies"},
		{"no name", `[{` + validPeriods + `}]`, "no name"},
		{"unknown field", `[{"name": "x", "acceptence": {"amount": 1, "unit": "seconds"},` + validPeriods + `}]`, "unknown field"},
		{"zero amount", `[{"name": "x",` + strings.Replace(validPeriods, `"acceptance": {"amount": 1`, `"acceptance": {"amount": 0`, 1) + `}]`, "acceptance: amount must be positive, got 0"},
		{"negative amount", `[{"name": "x",` + strings.Replace(validPeriods, `"review": {"amount": 1`, `"review": {"amount": -3`, 1) + `}]`, "review: amount must be positive, got -3"},
		{"unknown unit", `[{"name": "x",` + strings.Replace(validPeriods, `"months"`, `"fortnights"`, 1) + `}]`, `handling: unknown unit "fortnights"`},
		{"missing period", `[{"name": "x",` + strings.Replace(validPeriods, `"re_review": {"amount": 1, "unit": "seconds"}`, `"forward_restarts_clock": true`, 1) + `}]`, "re_review: unit missing"},
		{"negative ladder", `[{"name": "x",` + validPeriods + `, "ladder": {"reminder_before": "-5s"}}]`, "ladder.reminder_before: must not be negative"},
		{"bad duration", `[{"name": "x",` + validPeriods + `, "ladder": {"leader_after": "soon"}}]`, `invalid duration "soon"`},
		{"duplicate", `[{"name": "x",` + validPeriods + `}, {"name": "x",` + validPeriods + `}]`, `policy "x" given twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	set, err := Parse([]byte(`[{"name": "x",` + validPeriods + `, "ladder": {"reminder_before": "0"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if set["x"].Handling.Unit != calendar.Months {
		t.Fatalf("parsed %+v", set["x"])
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	err := Validate(workflows.Policy{Name: "empty"})
	if err == nil {
		t.Fatal("want errors")
	}
	for _, field := range []string{"acceptance", "handling", "max_extension", "review_request_window", "review", "re_review_request_window", "re_review"} {
		if !strings.Contains(err.Error(), field+": unit missing") {
			t.Errorf("error does not mention %s: %v", field, err)
		}
	}
}
