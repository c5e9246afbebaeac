package activities

import (
	"context"

	"go.temporal.io/sdk/temporal"

	"github.com/petitions/petitions/internal/policy"
	"github.com/petitions/petitions/workflows"
)

// OfficeTime answers when a reminder or notice is delivered: a working-day reminder offset and
// office hours, on the register's holiday calendar (workflows.ActivityOfficeTime).
func (a *Activities) OfficeTime(ctx context.Context, req workflows.OfficeTimeRequest) (workflows.OfficeTime, error) {
	cal, err := a.calendar(ctx)
	if err != nil {
		return workflows.OfficeTime{}, err
	}
	ans, err := policy.OfficeTime(cal, req)
	if err != nil {
		// A malformed request (office hours that do not parse) will not get better by retrying.
		return workflows.OfficeTime{}, temporal.NewNonRetryableApplicationError(err.Error(), "InvalidOfficeTime", err)
	}
	return ans, nil
}
