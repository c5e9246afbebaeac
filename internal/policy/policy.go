// Package policy holds the time-limit policies a petition can run under. Policies are data: the
// built-in set is a JSON file embedded in the binary, and an operator can load another file of
// the same shape. A case copies its policy when it starts (workflows.PetitionInput.Policy), so
// editing a policy never changes the rules of a running case.
package policy

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/workflows"
)

// Names of the built-in policies.
const (
	Default         = "default"          // assigned-case rule: one calendar month to handle
	Statute         = "statute"          // 信访工作条例, calendar days
	StatuteWorkdays = "statute_workdays" // 信访工作条例, working days
	Demo            = "demo"             // seconds; demos and tests
)

//go:embed policies.json
var builtinJSON []byte

// builtin parses the embedded file once. The file is checked by the tests, so a parse or
// validation failure is a build defect.
var builtin = sync.OnceValue(func() map[string]workflows.Policy {
	m, err := Parse(builtinJSON)
	if err != nil {
		panic(fmt.Sprintf("policy: embedded policies.json: %v", err))
	}
	return m
})

// Builtin returns the built-in policies by name. The map is a fresh copy; callers may change it.
func Builtin() map[string]workflows.Policy { return maps.Clone(builtin()) }

// Get returns the built-in policy called name.
func Get(name string) (workflows.Policy, error) {
	p, ok := builtin()[name]
	if !ok {
		return workflows.Policy{}, fmt.Errorf("unknown policy %q (known: %s)", name, strings.Join(Names(builtin()), ", "))
	}
	return p, nil
}

// Names returns the names of a policy set in sorted order.
func Names(set map[string]workflows.Policy) []string { return slices.Sorted(maps.Keys(set)) }

// Load reads a policy file: a JSON list of policies, the shape of the embedded policies.json.
func Load(path string) (map[string]workflows.Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policies: %w", err)
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("policies %s: %w", path, err)
	}
	return m, nil
}

// Parse reads and validates a JSON list of policies. Unknown fields are refused, so a typo in
// a hand-edited file ("acceptence") is an error rather than a silently missing limit.
func Parse(b []byte) (map[string]workflows.Policy, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var list []workflows.Policy
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if len(list) == 0 {
		return nil, errors.New("no policies")
	}
	m := make(map[string]workflows.Policy, len(list))
	for i, p := range list {
		if err := Validate(p); err != nil {
			return nil, fmt.Errorf("policy #%d: %w", i+1, err)
		}
		if _, dup := m[p.Name]; dup {
			return nil, fmt.Errorf("policy %q given twice", p.Name)
		}
		m[p.Name] = p
	}
	return m, nil
}

// Validate checks one policy: a name, every period positive in a known unit, and no negative
// ladder offset (zero disables a step).
func Validate(p workflows.Policy) error {
	if strings.TrimSpace(p.Name) == "" {
		return errors.New("policy has no name")
	}
	var errs []error
	for _, f := range []struct {
		field  string
		period calendar.Period
	}{
		{"acceptance", p.Acceptance},
		{"handling", p.Handling},
		{"max_extension", p.MaxExtension},
		{"review_request_window", p.ReviewRequestWindow},
		{"review", p.Review},
		{"re_review_request_window", p.ReReviewRequestWindow},
		{"re_review", p.ReReview},
	} {
		if err := validatePeriod(f.period); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.field, err))
		}
	}
	for _, f := range []struct {
		field string
		d     workflows.Duration
	}{
		{"reminder_before", p.Ladder.ReminderBefore},
		{"leader_after", p.Ladder.LeaderAfter},
		{"superior_after", p.Ladder.SuperiorAfter},
	} {
		if f.d < 0 {
			errs = append(errs, fmt.Errorf("ladder.%s: must not be negative, got %s", f.field, f.d))
		}
	}
	if p.ServiceReminderAfter < 0 {
		errs = append(errs, fmt.Errorf("service_reminder_after: must not be negative, got %s", p.ServiceReminderAfter))
	}
	if p.LongStandingAfter < 0 {
		errs = append(errs, fmt.Errorf("long_standing_after: must not be negative, got %s", p.LongStandingAfter))
	}
	if p.OfficeHours != nil {
		if err := ValidateOfficeHours(*p.OfficeHours); err != nil {
			errs = append(errs, fmt.Errorf("office_hours: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("policy %q: %w", p.Name, err)
	}
	return nil
}

func validatePeriod(p calendar.Period) error {
	switch p.Unit {
	case calendar.Seconds, calendar.CalendarDays, calendar.WorkingDays, calendar.Months:
	case "":
		return errors.New("unit missing")
	default:
		return fmt.Errorf("unknown unit %q (want seconds, calendar_days, working_days or months)", p.Unit)
	}
	if p.Amount <= 0 {
		return fmt.Errorf("amount must be positive, got %d", p.Amount)
	}
	return nil
}
