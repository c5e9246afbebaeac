package auth

import (
	"context"
	"encoding/json"
	"fmt"
)

// Account and token changes are audited (admin_audit) in the same transaction as the change,
// so no change stands without its record. Who made it travels in the context: the API puts the
// signed-in admin there, the command line "cli:<OS user>".

type actorKey struct{}

// AsActor returns a context whose account and token changes are recorded as made by actorID.
func AsActor(ctx context.Context, actorID string) context.Context {
	return context.WithValue(ctx, actorKey{}, actorID)
}

// audit records one change when ctx names who made it. Changes without an actor — tests, the
// development stack's demo accounts — are not audited.
func audit(ctx context.Context, q querier, action, target string, details map[string]any) error {
	actor, ok := ctx.Value(actorKey{}).(string)
	if !ok || actor == "" {
		return nil
	}
	if details == nil {
		details = map[string]any{}
	}
	b, err := json.Marshal(details)
	if err != nil {
		return err
	}
	if _, err := q.Exec(ctx, `INSERT INTO admin_audit (actor_id, action, target, details) VALUES ($1, $2, $3, $4)`,
		actor, action, target, b); err != nil {
		return fmt.Errorf("auth: audit %s %s: %w", action, target, err)
	}
	return nil
}
