package workflows

import (
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Back-entry of running cases (补录): a case brought in from the office's earlier system starts
// in its real stage instead of registering (PetitionInput.Import, ImportedCase). Its clocks come
// from ComputeDeadline like every clock, from the real dates; the history it had is recorded as
// events marked imported at the instants it happened; then the main loop takes over, so a
// deadline that passed before the import fires its ladder at once, each step once, with a
// reminder already too late recorded as reminder_skipped (remind, clock.go).

// importVersion marks histories of imported cases, so that later changes to their setup can
// branch on it (workflow.GetVersion). Cases started before imports existed never reach it: an
// import is an input only new runs carry.
const importVersion = "import"

// setupImported is setup for an imported case: it computes the running clock from the real
// dates, records the imported history (registered at receipt, accepted at acceptance, replied
// at the reply) and installs the clock. Every computation runs before the state changes.
func (p *petition) setupImported(ctx workflow.Context) error {
	workflow.GetVersion(ctx, importVersion, workflow.DefaultVersion, 1)
	if err := p.mu.Lock(ctx); err != nil {
		return err
	}
	defer p.mu.Unlock()
	im := *p.Input.Import
	if err := validImport(p.Input, im); err != nil {
		return err
	}
	// The reply takes the service-date decision the reply action takes (a new run records
	// the latest version; a history imported before it keeps its window from the reply).
	if err := CheckImportedService(workflow.Now(ctx), im); err != nil {
		return err
	}
	served := false
	if im.Stage == StageReplied {
		served = workflow.GetVersion(ctx, versionService, workflow.DefaultVersion, 1) == 1
	}
	// Unknown units must not leave a running case without its clock: the ladder then falls
	// back to the importing clerk (the API checks the units before it imports).
	for _, unit := range []string{p.State.Unit, im.Unit} {
		if unit == "" {
			continue
		}
		if err := p.learnUnit(ctx, unit); err != nil {
			p.logger.Warn("imported case's unit unknown; notices go to the importing clerk", "unit", unit, "error", err)
		}
	}
	clock := func(c Clock, start time.Time) (Deadline, error) {
		exp, err := computeDeadlineDurable(ctx, p.request(Deadline{Clock: c, Start: start}, nil))
		return Deadline{Clock: c, Start: start, Due: exp.Due, Explanation: exp}, err
	}
	var acceptance, handling, window Deadline
	var err error
	if im.Stage == StageRegistered {
		acceptance, err = clock(ClockAcceptance, p.Input.ReceivedAt)
	} else {
		handling, err = clock(ClockHandling, *im.AcceptedAt)
	}
	switch {
	case err != nil || im.Stage != StageReplied:
	case !served:
		window, err = clock(ClockReviewRequest, *im.RepliedAt)
	case im.ServedAt == nil:
		// No window before service; the service reminder counts from the reply (AnsweredAt), so
		// an answer unserved for longer than the policy's delay reminds staff at once.
		window = p.awaitingService(ClockReviewRequest)
	default:
		// As openWindow: from the service date, the answer's instant at the earliest.
		window, err = clock(ClockReviewRequest, laterOf(*im.ServedAt, *im.RepliedAt))
	}
	if err != nil {
		return err
	}

	actor := p.Input.RegisteredBy
	if actor.ID == "" {
		actor = systemActor
	}
	imported := func(d map[string]any) map[string]any {
		d[DetailImported] = true
		return d
	}
	registered := imported(map[string]any{
		"channel": p.State.Channel, "category": p.State.Category,
		"external_ref": im.ExternalRef, "imported_at": workflow.Now(ctx),
	})
	if p.State.Unit != "" {
		registered["unit"] = p.State.Unit
	}
	if p.Input.GroupSize > 0 {
		registered["group_size"] = p.Input.GroupSize
	}
	if im.Stage == StageRegistered {
		p.install(acceptance)
		registered["due"] = acceptance.Due
	}
	if err := p.recordAt(ctx, p.Input.ReceivedAt, EventRegistered, actor, registered); err != nil {
		return err
	}
	if im.Stage != StageRegistered {
		p.State.Stage = StageHandling
		p.State.Unit, p.State.Handler, p.State.Leader = im.Unit, im.Handler, im.Leader
		accepted := *im.AcceptedAt
		p.State.AcceptedAt = &accepted
		p.install(handling)
		details := imported(map[string]any{"unit": im.Unit, "handler": im.Handler, "due": handling.Due})
		if im.Leader != "" {
			details["leader"] = im.Leader
		}
		if err := p.recordAt(ctx, accepted, EventAccepted, actor, details); err != nil {
			return err
		}
	}
	if im.Stage == StageReplied {
		replied := *im.RepliedAt
		p.State.RepliedLate = replied.After(handling.Due)
		p.State.Stage = StageReplied
		p.State.RepliedAt = &replied
		p.install(window)
		details := imported(map[string]any{"late": p.State.RepliedLate})
		switch {
		case !served:
			details["due"] = window.Due
		case im.ServedAt == nil:
			details["awaiting_service"] = true
		default:
			details["served_at"], details["service_method"], details["due"] = *im.ServedAt, im.ServiceMethod, window.Due
		}
		if served {
			p.served(replied, ActionInput{ServedAt: im.ServedAt, ServiceMethod: im.ServiceMethod})
		}
		if err := p.recordAt(ctx, replied, EventReplied, actor, details); err != nil {
			return err
		}
	}
	p.Ready = true
	return p.publish(ctx)
}

// validImport refuses an import the workflow cannot start from (the API checks it first, with
// the words a clerk needs).
func validImport(in PetitionInput, im ImportedCase) error {
	refuse := func(msg string) error {
		return temporal.NewNonRetryableApplicationError("imported case: "+msg, ErrorInvalidInput, nil)
	}
	switch {
	case !slices.Contains(ImportStages, im.Stage):
		return refuse("stage " + string(im.Stage) + " cannot be imported")
	case im.Stage != StageRegistered && (im.AcceptedAt == nil || im.Unit == "" || im.Handler == ""):
		return refuse("an accepted case needs its acceptance date, unit and handler")
	case im.Stage == StageReplied && im.RepliedAt == nil:
		return refuse("a replied case needs its reply date")
	}
	return nil
}

// CheckImportedService checks an imported case's service date and method with the reply
// action's own check (checkService, in its words): both or neither, a known method, not in the
// future, not before the reply; and only for a replied case.
func CheckImportedService(now time.Time, im ImportedCase) error {
	in := ActionInput{ServedAt: im.ServedAt, ServiceMethod: im.ServiceMethod}
	if im.Stage != StageReplied || im.RepliedAt == nil {
		if in.ServedAt != nil || in.ServiceMethod != "" {
			return invalidInput("imported case: a service date (送达) belongs to a replied case with its reply date")
		}
		return nil
	}
	return checkService(UpdateReply, now, *im.RepliedAt, in)
}

// recordAt records an event of the imported history at the instant it happened (record dates
// events now). It hands the register the transition like record, but leaves the Web UI's view
// and the search attributes to setupImported, which publishes them once for the whole history:
// every upsert is a write on the Temporal server, and an office imports hundreds of cases.
// Imported cases always project through the outbox (they start on this code).
func (p *petition) recordAt(ctx workflow.Context, at time.Time, typ string, actor Actor, details map[string]any) error {
	if !p.outbox {
		return p.record(ctx, typ, actor, details)
	}
	if recordHook != nil {
		recordHook(ctx, typ, details)
	}
	p.State.Seq++
	p.gen++
	ev := Event{Seq: p.State.Seq, Type: typ, At: at, Actor: actor, Details: details}
	p.Outbox = append(p.Outbox, Transition{Event: ev, State: p.snapshot()})
	return nil
}
