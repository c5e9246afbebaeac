package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/petitions/petitions/workflows"
)

// ScreeningUnits lists the units that must file this month's screening form (the register's
// units with handlers, register.Store.ScreeningUnits).
func (a *Activities) ScreeningUnits(ctx context.Context, _ workflows.ScreeningUnitsRequest) ([]string, error) {
	return a.Store.ScreeningUnits(ctx)
}

// RecordScreening projects a batch of a round's events in order, each in its own transaction;
// the register keys them by (month, unit, seq), so a retried batch changes nothing twice. A
// refusal for good (a value PostgreSQL cannot store) is not retried.
func (a *Activities) RecordScreening(ctx context.Context, ts []workflows.ScreeningTransition) error {
	for i, t := range ts {
		if err := a.Store.ApplyScreening(ctx, t); err != nil {
			return refusedForGood(fmt.Errorf("screening %s %s#%d %s: %w", t.Month, t.Unit, t.Event.Seq, t.Event.Type, err))
		}
		if i%20 == 19 {
			activity.RecordHeartbeat(ctx, i)
		}
	}
	return nil
}
