// Package warning holds the early-warning rules (预警) as data and evaluates them: which signs
// of a case (a group petition, a skip-level petition, repeat petitions, a petitioner with
// several open cases, a sensitive period) raise a warning to the petition office. The rules
// are a table (rules.json, built in; an office may replace it with a file of its own, see
// Parse); evaluation is pure Go over Facts the register provides, so it is the same wherever
// it runs and carries no personal data.
package warning

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// GroupPetitionSize: 5 or more people make a group petition (集体访). It is the one definition
// of the system: registration, statistics and the group rule all use it.
const GroupPetitionSize = 5

// Rule codes, as stored with a raised warning, in search attributes and list filters.
const (
	RuleGroup         = "group"          // 集体访: group_size ≥ GroupPetitionSize
	RuleSkipLevel     = "skip_level"     // 越级访: lodged above the competent unit's level
	RuleRepeat        = "repeat"         // 重复访: repeat petitions ≥ threshold
	RuleOpenCases     = "open_cases"     // the petitioner has ≥ threshold open cases
	RuleSensitiveDate = "sensitive_date" // registered or changed within a sensitive period
)

// Codes are the rule codes in the order rules are evaluated and shown.
var Codes = []string{RuleGroup, RuleSkipLevel, RuleRepeat, RuleOpenCases, RuleSensitiveDate}

// Administrative levels a petition can be lodged at (and a unit can stand at), lowest first.
const (
	LevelTownship = "township" // 乡镇、街道
	LevelDistrict = "district" // 县、区
	LevelCity     = "city"     // 市
	LevelProvince = "province" // 省
	LevelNational = "national" // 国家 (国家信访局)
)

// Levels are the administrative levels, lowest first.
var Levels = []string{LevelTownship, LevelDistrict, LevelCity, LevelProvince, LevelNational}

// LevelRank is a level's place in Levels, -1 for an unknown one.
func LevelRank(level string) int { return slices.Index(Levels, level) }

// Rules is the rule table.
type Rules struct {
	Rules []Rule `json:"rules"`
}

// Rule is one row of the table. A rule absent from the table is off.
type Rule struct {
	Code string `json:"code"`
	// Threshold: repeat (repeat petitions ≥) and open_cases (open cases ≥). The group rule
	// takes none: GroupPetitionSize is the definition.
	Threshold int `json:"threshold,omitempty"`
	// Periods: sensitive_date.
	Periods []Period `json:"periods,omitempty"`
}

// Period is a sensitive period (敏感时期) that recurs every year, From and To "MM-DD" in the
// Asia/Shanghai calendar, both days included; a period may run over the new year
// ("12-25" to "01-05").
type Period struct {
	Name string `json:"name"`
	From string `json:"from"`
	To   string `json:"to"`
}

//go:embed rules.json
var builtin []byte

// Default returns the built-in rule table (rules.json).
func Default() Rules {
	r, err := Parse(builtin)
	if err != nil {
		panic("warning: built-in rules: " + err.Error())
	}
	return r
}

// Parse reads and checks a rule table (the built-in one, or an office's file replacing it).
func Parse(b []byte) (Rules, error) {
	var r Rules
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Rules{}, fmt.Errorf("warning rules: %w", err)
	}
	return r, r.Check()
}

// Check reports the first problem of the table: an unknown or repeated code, a threshold
// missing or out of place, a period that does not parse.
func (r Rules) Check() error {
	seen := map[string]bool{}
	for i, rule := range r.Rules {
		at := fmt.Sprintf("warning rules: rule %d (%s)", i, rule.Code)
		if !slices.Contains(Codes, rule.Code) {
			return fmt.Errorf("%s: unknown code; known: %s", at, strings.Join(Codes, ", "))
		}
		if seen[rule.Code] {
			return fmt.Errorf("%s: listed twice", at)
		}
		seen[rule.Code] = true
		switch rule.Code {
		case RuleRepeat, RuleOpenCases:
			if rule.Threshold < 1 {
				return fmt.Errorf("%s: threshold must be 1 or more", at)
			}
		default:
			if rule.Threshold != 0 {
				return fmt.Errorf("%s: takes no threshold", at)
			}
		}
		if rule.Code != RuleSensitiveDate && len(rule.Periods) > 0 {
			return fmt.Errorf("%s: takes no periods", at)
		}
		for _, p := range rule.Periods {
			if strings.TrimSpace(p.Name) == "" {
				return fmt.Errorf("%s: a period needs a name", at)
			}
			if _, err := monthDay(p.From); err != nil {
				return fmt.Errorf("%s: period %s: from: %w", at, p.Name, err)
			}
			if _, err := monthDay(p.To); err != nil {
				return fmt.Errorf("%s: period %s: to: %w", at, p.Name, err)
			}
		}
	}
	return nil
}

// Rule returns the table's rule of a code.
func (r Rules) Rule(code string) (Rule, bool) {
	i := slices.IndexFunc(r.Rules, func(x Rule) bool { return x.Code == code })
	if i < 0 {
		return Rule{}, false
	}
	return r.Rules[i], true
}

// Facts are what the rules look at, for one case at one instant. They carry no personal data:
// the register counts the petitioner's open cases by keyed hash and answers a number.
type Facts struct {
	GroupSize int
	// LodgedLevel is the level the petition was lodged at; CompetentLevel the level of the
	// unit responsible for it. Either "" when unknown: the skip-level rule then stays silent.
	LodgedLevel    string
	CompetentLevel string
	RepeatCount    int
	// OpenCases: open cases of the petitioner (by ID number or phone), this one included.
	OpenCases int
	// At is the instant of the registration or change.
	At time.Time
}

// Warning is a rule that fired, with a reason a supervisor reads (no personal data).
type Warning struct {
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// shanghai is the civil time of sensitive periods (China keeps UTC+8 all year).
var shanghai = time.FixedZone("CST", 8*60*60)

// Evaluate returns the warnings the facts raise, in the table's order.
func (r Rules) Evaluate(f Facts) []Warning {
	var out []Warning
	for _, rule := range r.Rules {
		if reason, ok := rule.fires(f); ok {
			out = append(out, Warning{Rule: rule.Code, Reason: reason})
		}
	}
	return out
}

func (rule Rule) fires(f Facts) (string, bool) {
	switch rule.Code {
	case RuleGroup:
		if f.GroupSize >= GroupPetitionSize {
			return fmt.Sprintf("group petition of %d people (%d or more)", f.GroupSize, GroupPetitionSize), true
		}
	case RuleSkipLevel:
		lodged, competent := LevelRank(f.LodgedLevel), LevelRank(f.CompetentLevel)
		if lodged >= 0 && competent >= 0 && lodged > competent {
			return fmt.Sprintf("lodged at %s level, above the competent unit's %s level", f.LodgedLevel, f.CompetentLevel), true
		}
	case RuleRepeat:
		if f.RepeatCount >= rule.Threshold {
			return fmt.Sprintf("%d repeat petitions (%d or more)", f.RepeatCount, rule.Threshold), true
		}
	case RuleOpenCases:
		if f.OpenCases >= rule.Threshold {
			return fmt.Sprintf("the petitioner has %d open cases (%d or more)", f.OpenCases, rule.Threshold), true
		}
	case RuleSensitiveDate:
		if f.At.IsZero() {
			return "", false
		}
		for _, p := range rule.Periods {
			if p.contains(f.At) {
				return fmt.Sprintf("within the sensitive period %s (%s to %s)", p.Name, p.From, p.To), true
			}
		}
	}
	return "", false
}

// contains reports whether t falls on a day of the period (Asia/Shanghai).
func (p Period) contains(t time.Time) bool {
	from, err1 := monthDay(p.From)
	to, err2 := monthDay(p.To)
	if err1 != nil || err2 != nil {
		return false
	}
	d := t.In(shanghai)
	day := int(d.Month())*100 + d.Day()
	if from <= to {
		return from <= day && day <= to
	}
	return day >= from || day <= to // over the new year
}

var errMonthDay = errors.New(`must be "MM-DD", e.g. "03-01"`)

// monthDay parses "MM-DD" into MM*100+DD.
func monthDay(s string) (int, error) {
	t, err := time.Parse("01-02", s)
	if err != nil || t.Format("01-02") != s {
		return 0, errMonthDay
	}
	return int(t.Month())*100 + t.Day(), nil
}

// EvaluateNew is Evaluate without the rules in raised: a warning is raised once per case and
// rule, so the rules that raised one already are not raised again.
func (r Rules) EvaluateNew(f Facts, raised []string) []Warning {
	var out []Warning
	for _, w := range r.Evaluate(f) {
		if !slices.Contains(raised, w.Rule) {
			out = append(out, w)
		}
	}
	return out
}

// Load reads an office's rule table from a file (the worker's PETITIONS_WARNING_RULES); an
// empty path answers nil: the built-in table.
func Load(path string) (*Rules, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("warning rules: %w", err)
	}
	r, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}
