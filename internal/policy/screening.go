package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/petitions/petitions/workflows"
)

// Screening policies: the time limits of the monthly dispute screening round (矛盾纠纷排查,
// seed 002). A round copies its policy when it opens, as a case does.
var screening = map[string]workflows.ScreeningPolicy{
	// Seed 002: the form is filed with the bureau's office on the 25th of each month.
	Default: {
		Name: Default, DueDay: 25,
		Ladder:     workflows.Ladder{ReminderBefore: days(3), LeaderAfter: days(2), SuperiorAfter: days(4)},
		CloseAfter: days(5),
	},
	// Seconds: reminder, overdue, leader and superior unit within 80 s; the round closes after 6 min.
	Demo: {
		Name: Demo, DueAfter: workflows.Duration(40 * time.Second),
		Ladder: workflows.Ladder{ReminderBefore: workflows.Duration(20 * time.Second),
			LeaderAfter: workflows.Duration(15 * time.Second), SuperiorAfter: workflows.Duration(30 * time.Second)},
		CloseAfter: workflows.Duration(5 * time.Minute),
	},
}

func days(n int) workflows.Duration { return workflows.Duration(time.Duration(n) * 24 * time.Hour) }

// Screening returns the built-in screening policy called name ("default" or "demo").
func Screening(name string) (workflows.ScreeningPolicy, error) {
	p, ok := screening[name]
	if !ok {
		names := make([]string, 0, len(screening))
		for n := range screening {
			names = append(names, n)
		}
		slices.Sort(names)
		return workflows.ScreeningPolicy{}, fmt.Errorf("unknown screening policy %q (known: %s)", name, strings.Join(names, ", "))
	}
	return p, nil
}
