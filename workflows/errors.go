package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
)

// Error types of refused actions, as the application error's Type. A client (the API) maps
// ErrorInvalidAction to 422 Unprocessable Entity and ErrorInvalidInput to 400 Bad Request; the message is
// meant for the clerk and can be shown as it is.
const (
	// ErrorInvalidAction: the action is not allowed now, or not for this actor (stage, role, unit).
	ErrorInvalidAction = "InvalidAction"
	// ErrorInvalidInput: a field the action needs is missing or malformed.
	ErrorInvalidInput = "InvalidInput"
	// ErrorStale: the action was conditional on a Seq (ActionInput.IfSeq) and the case has
	// changed since (HTTP 412 Precondition Failed).
	ErrorStale = "StaleCase"
)

// Validator errors are non-retryable: retrying the same update cannot make it valid.
func invalidAction(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrorInvalidAction, nil)
}

func invalidInput(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrorInvalidInput, nil)
}

func stale(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrorStale, nil)
}
