package warning

import (
	"os"
	"strings"
	"testing"
	"time"
)

var quiet = time.Date(2026, 5, 20, 10, 0, 0, 0, shanghai) // no sensitive period

func rules(t *testing.T) Rules {
	t.Helper()
	r := Default()
	if len(r.Rules) != len(Codes) {
		t.Fatalf("built-in rules: %d, want one per code (%d)", len(r.Rules), len(Codes))
	}
	return r
}

// only evaluates the facts and returns the codes that fired.
func fired(r Rules, f Facts) []string {
	var codes []string
	for _, w := range r.Evaluate(f) {
		if w.Reason == "" {
			panic("a warning without a reason: " + w.Rule)
		}
		codes = append(codes, w.Rule)
	}
	return codes
}

func want(t *testing.T, got []string, codes ...string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(codes, ",") {
		t.Errorf("fired %v, want %v", got, codes)
	}
}

func TestGroupRule(t *testing.T) {
	r := rules(t)
	want(t, fired(r, Facts{GroupSize: GroupPetitionSize - 1, OpenCases: 1, At: quiet}))
	want(t, fired(r, Facts{GroupSize: GroupPetitionSize, OpenCases: 1, At: quiet}), RuleGroup)
	w := r.Evaluate(Facts{GroupSize: 7, At: quiet})
	if len(w) != 1 || w[0].Reason != "group petition of 7 people (5 or more)" {
		t.Errorf("reason: %+v", w)
	}
}

func TestSkipLevelRule(t *testing.T) {
	r := rules(t)
	want(t, fired(r, Facts{LodgedLevel: LevelCity, CompetentLevel: LevelDistrict, At: quiet}), RuleSkipLevel)
	want(t, fired(r, Facts{LodgedLevel: LevelNational, CompetentLevel: LevelProvince, At: quiet}), RuleSkipLevel)
	want(t, fired(r, Facts{LodgedLevel: LevelDistrict, CompetentLevel: LevelDistrict, At: quiet}))
	want(t, fired(r, Facts{LodgedLevel: LevelTownship, CompetentLevel: LevelDistrict, At: quiet}))
	// Unknown levels say nothing.
	want(t, fired(r, Facts{LodgedLevel: LevelCity, At: quiet}))
	want(t, fired(r, Facts{CompetentLevel: LevelDistrict, At: quiet}))
	want(t, fired(r, Facts{LodgedLevel: "galaxy", CompetentLevel: LevelDistrict, At: quiet}))
}

func TestRepeatRule(t *testing.T) {
	r := rules(t)
	rule, _ := r.Rule(RuleRepeat)
	want(t, fired(r, Facts{RepeatCount: rule.Threshold - 1, At: quiet}))
	want(t, fired(r, Facts{RepeatCount: rule.Threshold, At: quiet}), RuleRepeat)
}

func TestOpenCasesRule(t *testing.T) {
	r := rules(t)
	rule, _ := r.Rule(RuleOpenCases)
	want(t, fired(r, Facts{OpenCases: rule.Threshold - 1, At: quiet}))
	want(t, fired(r, Facts{OpenCases: rule.Threshold, At: quiet}), RuleOpenCases)
}

func TestSensitiveDateRule(t *testing.T) {
	r := rules(t)
	for _, c := range []struct {
		at   time.Time
		fire bool
	}{
		{time.Date(2027, 3, 5, 9, 0, 0, 0, shanghai), true},    // 全国两会
		{time.Date(2027, 3, 1, 0, 0, 0, 0, shanghai), true},    // first day
		{time.Date(2027, 3, 15, 23, 59, 0, 0, shanghai), true}, // last day
		{time.Date(2027, 3, 16, 0, 0, 0, 0, shanghai), false},  // after
		{time.Date(2026, 9, 30, 16, 30, 0, 0, time.UTC), true}, // 10-01 00:30 in Beijing
		{time.Date(2026, 10, 8, 9, 0, 0, 0, shanghai), false},  // after National Day
		{quiet, false},
	} {
		got := fired(r, Facts{At: c.at})
		if (len(got) == 1 && got[0] == RuleSensitiveDate) != c.fire {
			t.Errorf("%s: fired %v, want sensitive_date %t", c.at, got, c.fire)
		}
	}
	// A period over the new year.
	r = Rules{Rules: []Rule{{Code: RuleSensitiveDate, Periods: []Period{{Name: "year end", From: "12-25", To: "01-05"}}}}}
	want(t, fired(r, Facts{At: time.Date(2026, 12, 31, 9, 0, 0, 0, shanghai)}), RuleSensitiveDate)
	want(t, fired(r, Facts{At: time.Date(2027, 1, 5, 9, 0, 0, 0, shanghai)}), RuleSensitiveDate)
	want(t, fired(r, Facts{At: time.Date(2027, 1, 6, 9, 0, 0, 0, shanghai)}))
}

func TestEveryRuleAtOnceInTableOrder(t *testing.T) {
	r := rules(t)
	got := fired(r, Facts{GroupSize: 9, LodgedLevel: LevelProvince, CompetentLevel: LevelDistrict,
		RepeatCount: 5, OpenCases: 4, At: time.Date(2026, 10, 2, 9, 0, 0, 0, shanghai)})
	want(t, got, Codes...)
}

func TestOfficeTableReplacesTheBuiltIn(t *testing.T) {
	r, err := Parse([]byte(`{"rules": [{"code": "repeat", "threshold": 2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	// Only the rules listed are on.
	want(t, fired(r, Facts{GroupSize: 50, RepeatCount: 2, OpenCases: 9, At: time.Date(2026, 10, 2, 9, 0, 0, 0, shanghai)}), RuleRepeat)
}

func TestParseRefusesBadTables(t *testing.T) {
	for _, bad := range []string{
		`{"rules": [{"code": "weather"}]}`,
		`{"rules": [{"code": "repeat"}]}`,
		`{"rules": [{"code": "group", "threshold": 6}]}`,
		`{"rules": [{"code": "repeat", "threshold": 2}, {"code": "repeat", "threshold": 3}]}`,
		`{"rules": [{"code": "sensitive_date", "periods": [{"name": "x", "from": "3-1", "to": "03-15"}]}]}`,
		`{"rules": [{"code": "sensitive_date", "periods": [{"name": "x", "from": "02-30", "to": "03-15"}]}]}`,
		`{"rules": [{"code": "sensitive_date", "periods": [{"from": "03-01", "to": "03-15"}]}]}`,
		`{"rules": [{"code": "group", "periods": [{"name": "x", "from": "03-01", "to": "03-15"}]}]}`,
		`{"rules": [], "extra": 1}`,
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestLoad(t *testing.T) {
	if r, err := Load(""); r != nil || err != nil {
		t.Errorf("no file: %v %v", r, err)
	}
	path := t.TempDir() + "/rules.json"
	if err := os.WriteFile(path, []byte(`{"rules": [{"code": "group"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Load(path)
	if err != nil || len(r.Rules) != 1 {
		t.Errorf("file: %+v %v", r, err)
	}
	if err := os.WriteFile(path, []byte(`{"rules": [{"code": "weather"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("bad file: %v", err)
	}
}
