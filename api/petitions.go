package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/petitions/petitions/internal/intake"
	"github.com/petitions/petitions/internal/metrics"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/warning"
	"github.com/petitions/petitions/workflows"
)

const (
	headerIdempotencyKey = "Idempotency-Key"
	defaultPolicy        = "default"
	// groupPetitionSize: 5 or more people make a group petition (集体访), as the warning rules
	// define it.
	groupPetitionSize = warning.GroupPetitionSize
	// receivedSkew tolerates a clerk's PC clock running a little ahead of the server's.
	receivedSkew = 2 * time.Minute
)

// Bounds of a registration. Every string is stored in PostgreSQL text or jsonb (which refuse
// NUL) and shown to staff, so each is checked with textProblem and has a length limit; lists
// are bounded so one request cannot make the register do unbounded work.
const (
	maxTopic        = 200
	maxContent      = 100000
	maxLocation     = 500
	maxPetitioners  = 100
	maxName         = 100
	maxPhone        = 32
	maxAddress      = 500
	maxGroupSize    = 100000 // the register's group_size is a 32-bit integer
	maxAttachments  = 100
	maxAttachName   = 255
	maxAttachType   = 255
	maxAttachRef    = 2048
	maxPolicyLength = 64
)

// petitionRequest is the body of POST /api/v1/petitions.
type petitionRequest struct {
	Channel     string                `json:"channel"`
	Category    string                `json:"category"`
	Topic       string                `json:"topic"`
	Content     string                `json:"content"`
	Petitioners []register.Petitioner `json:"petitioners"`
	GroupSize   *int                  `json:"group_size"`
	Location    string                `json:"location"`
	Attachments []register.Attachment `json:"attachments"`
	Policy      string                `json:"policy"`
	// ReceivedAt is a string so a bad value becomes a field error, not a JSON error.
	ReceivedAt string `json:"received_at"`
	// LodgedLevel is the administrative level the petition was lodged at (warning.Levels),
	// optional: a level above the competent unit's raises the skip-level warning (越级访).
	LodgedLevel string `json:"lodged_level"`
	// Actor is deprecated: the registering clerk is the signed-in one. A value naming
	// anyone else is refused.
	Actor string `json:"actor"`
}

// validate checks and normalises the request into a NewCase. It calls nothing outside the
// process, so every client mistake is answered before the register or Temporal is touched.
func (s *Server) validate(r *petitionRequest, key string) (register.NewCase, error) {
	now := s.now()
	f := fieldErrors{}
	trim := func(p *string) { *p = strings.TrimSpace(*p) }
	trim(&r.Channel)
	trim(&r.Category)
	trim(&r.Topic)
	trim(&r.Content)
	trim(&r.Location)
	trim(&r.Policy)
	trim(&r.Actor)
	trim(&r.LodgedLevel)
	if r.LodgedLevel != "" && !contains(warning.Levels, r.LodgedLevel) {
		f["lodged_level"] = oneOf(warning.Levels)
	}

	if !contains(channels, r.Channel) {
		f["channel"] = oneOf(channels)
	}
	if !contains(categories, r.Category) {
		f["category"] = oneOf(categories)
	}
	required := func(field, v string, maxRunes int) {
		if v == "" {
			f[field] = "is required"
		} else if msg := textProblem(v, maxRunes); msg != "" {
			f[field] = msg
		}
	}
	optional := func(field, v string, maxRunes int) {
		if msg := textProblem(v, maxRunes); msg != "" {
			f[field] = msg
		}
	}
	required("topic", r.Topic, maxTopic)
	required("content", r.Content, maxContent)
	optional("location", r.Location, maxLocation)
	if len(r.Actor) > 64 || !validText(r.Actor) {
		f["actor"] = "must be your staff ID (or left out) of at most 64 characters"
	}
	switch {
	case len(r.Petitioners) == 0:
		f["petitioners"] = "at least one petitioner is required"
	case len(r.Petitioners) > maxPetitioners:
		// Not checked one by one: the answer would list thousands of fields.
		f["petitioners"] = "at most " + strconv.Itoa(maxPetitioners) + " petitioners may be listed"
	}
	for i := range r.Petitioners {
		if len(r.Petitioners) > maxPetitioners {
			break
		}
		p := &r.Petitioners[i]
		trim(&p.Name)
		trim(&p.IDNumber)
		trim(&p.Phone)
		trim(&p.Address)
		p.IDNumber = strings.ToUpper(p.IDNumber)
		at := fmt.Sprintf("petitioners[%d].", i)
		required(at+"name", p.Name, maxName)
		optional(at+"address", p.Address, maxAddress)
		if p.IDNumber == "" && p.Phone == "" {
			f[at+"id_number"] = "an ID number or a phone number is required"
		}
		if p.IDNumber != "" {
			if msg := validIDNumber(p.IDNumber, now.In(shanghai)); msg != "" {
				f[at+"id_number"] = msg
			}
		}
		if p.Phone != "" && (len(p.Phone) > maxPhone || !validPhone(p.Phone)) {
			f[at+"phone"] = "is not a phone number"
		}
	}
	groupSize := len(r.Petitioners)
	if r.GroupSize != nil {
		groupSize = *r.GroupSize
		switch {
		case groupSize < len(r.Petitioners) || groupSize < 1:
			f["group_size"] = "must be at least the number of petitioners listed"
		case groupSize > maxGroupSize:
			f["group_size"] = "must be at most " + strconv.Itoa(maxGroupSize)
		}
	}
	if len(r.Attachments) > maxAttachments {
		f["attachments"] = "at most " + strconv.Itoa(maxAttachments) + " attachments may be listed"
	}
	for i, a := range r.Attachments {
		if len(r.Attachments) > maxAttachments {
			break
		}
		at := fmt.Sprintf("attachments[%d].", i)
		required(at+"name", strings.TrimSpace(a.Name), maxAttachName)
		optional(at+"content_type", a.ContentType, maxAttachType)
		optional(at+"ref", a.Ref, maxAttachRef)
		if a.Size < 0 {
			f[at+"size"] = "must not be negative"
		}
	}
	if r.Policy == "" {
		r.Policy = defaultPolicy
	}
	if len(r.Policy) > maxPolicyLength || !validText(r.Policy) {
		f["policy"] = "is not a policy name"
	} else if _, ok := s.policies[r.Policy]; !ok {
		f["policy"] = "unknown policy " + strconv.Quote(r.Policy)
	}
	received := now
	if r.ReceivedAt != "" {
		t, ok := parseRFC3339(r.ReceivedAt)
		switch {
		case !ok:
			f["received_at"] = "must be RFC 3339, e.g. 2026-05-01T09:30:00+08:00"
		case !inYearRange(t):
			f["received_at"] = errYearRange.Error()
		case t.After(now.Add(receivedSkew)):
			f["received_at"] = "must not be in the future"
		default:
			received = t
		}
	}
	checkIdempotencyKey(key, f)
	if len(f) > 0 {
		return register.NewCase{}, f
	}
	return register.NewCase{
		IdempotencyKey: key,
		Channel:        r.Channel,
		Category:       r.Category,
		Topic:          r.Topic,
		Content:        r.Content,
		Location:       r.Location,
		GroupSize:      groupSize,
		Petitioners:    r.Petitioners,
		Attachments:    r.Attachments,
		Policy:         r.Policy,
		ReceivedAt:     received,
		RegisteredAt:   now,
		RegisteredBy:   r.Actor,
		LodgedLevel:    r.LodgedLevel,
	}, nil
}

// createPetition registers a petition: a repeat of a live case is linked to it, a repeat of a
// terminated matter is refused, anything else becomes a new case with its workflow.
func (s *Server) createPetition(c *gin.Context) {
	var req petitionRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	key := c.GetHeader(headerIdempotencyKey)
	nc, err := s.validate(&req, key)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := principal(c)
	if err := checkActorField(p, req.Actor); err != nil {
		s.fail(c, err)
		return
	}
	nc.RegisteredBy = p.StaffID
	ctx := c.Request.Context()
	clerk, err := s.actorOf(ctx, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	reg, err := s.registerCase(c, nc, clerk)
	switch {
	case err != nil && reg.row.CaseNo != "":
		s.failRegistered(c, reg.row, nc.IdempotencyKey != "", err)
	case err != nil:
		s.fail(c, err)
	case reg.linked != nil:
		if seq, ok := reg.linked["seq"].(float64); ok {
			setETag(c, int64(seq))
		}
		setRegistrationOutcome(c, metrics.RegistrationRepeatLinked)
		s.answer(c, http.StatusOK, reg.linked)
	default:
		status := http.StatusCreated
		if !reg.created {
			status = http.StatusOK // idempotent retry: same case, same body
		}
		c.Header("Cache-Control", "no-store") // the query code is in it
		setETag(c, reg.state.Seq)
		s.answer(c, status, registrationBody(reg.row, reg.state))
	}
}

// registration is what registerCase made of a petition: a case (new, or on a retry with the
// same Idempotency-Key the one it made), or a repeat petition linked to the open case it
// repeats.
type registration struct {
	row     register.Case
	state   workflows.CaseState // once the workflow has set its first deadline
	created bool
	// linked is the state of the open case the petition was linked to as a repeat (重复信访),
	// with linked_to: repeatOf.
	linked   map[string]any
	repeatOf string
}

// registerCase registers a validated petition as the clerk (nc.RegisteredBy) and starts its
// case: the office's policy, routing, repeat detection (a repeat of an open case is linked to
// it, one of a terminated matter refused), the register row and the workflow start. It is the
// one path of POST /api/v1/petitions and of a visit received on a reception day
// (reception.go), which names the receiving leader as the leader in charge from the start
// (nc.Leader). An error with reg.row set: the case exists but its workflow has not confirmed
// (answer with failRegistered).
func (s *Server) registerCase(c *gin.Context, nc register.NewCase, clerk workflows.Actor) (registration, error) {
	ctx := c.Request.Context()
	if err := s.checkPolicyAllowed(ctx, nc.Policy); err != nil {
		return registration{}, err
	}
	unit, err := s.reg.Route(ctx, nc.Category, nc.Topic)
	if err != nil && !errors.Is(err, register.ErrNotFound) {
		return registration{}, err
	}
	nc.SuggestedUnit = unit // no matching rule: the clerk picks the unit at acceptance

	prior, found, err := s.reg.FindRepeat(ctx, nc.Petitioners, nc.Category, nc.Topic)
	if err != nil {
		return registration{}, err
	}
	if found {
		if reg, done, err := s.answeredAsRepeat(c, prior, &nc, clerk); done {
			return reg, err
		}
	}
	row, created, err := s.reg.Register(ctx, nc)
	var repeat *register.RepeatError
	if errors.As(err, &repeat) {
		// Another clerk registered the same matter a moment ago.
		if reg, done, err := s.answeredAsRepeat(c, repeat.Case, &nc, clerk); done {
			return reg, err
		}
		row, created, err = s.reg.Register(ctx, nc)
	}
	if err != nil {
		return registration{}, err
	}
	state, err := s.startOrAttach(ctx, row, clerk)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if !created && errors.As(err, &started) {
		// A retry of a registration whose case has already finished (e.g. rejected at once):
		// the same key answers the same case, as it stands now.
		state, err = s.queryState(ctx, row.CaseNo, s.updateWait)
	}
	return registration{row: row, state: state, created: created}, err
}

// failRegistered answers a registration whose register row exists but whose workflow did not
// start or confirm in time. The case exists, so the answer names it and carries the query code
// (the registering clerk is shown it once, at registration), so the petitioner is not sent
// away without it and nobody registers the petition a second time.
func (s *Server) failRegistered(c *gin.Context, row register.Case, keyed bool, err error) {
	status, _ := classify(err)
	if status < 500 {
		s.fail(c, err)
		return
	}
	retry := "retry with the same Idempotency-Key to finish it"
	if !keyed {
		retry = "do not register the petition again (it would be taken for a repeat of this case); " +
			"GET /api/v1/petitions/" + row.CaseNo + " shows it. Send an Idempotency-Key with registrations so that a retry finishes the first"
	}
	extra := gin.H{
		"case_no":    row.CaseNo,
		"query_code": row.QueryCode,
		"registered": "the petition is registered as case " + row.CaseNo + ", but its workflow has not confirmed: " + retry,
	}
	c.Header("Cache-Control", "no-store")
	setRegistrationOutcome(c, metrics.RegistrationUnconfirmed)
	s.failWith(c, err, extra)
}

// answeredAsRepeat deals with an earlier case of the same petitioner and matter: a
// terminated one refuses the petition (不再受理), an open one takes it as a repeat (重复信访).
// done reports whether that answers the petition (reg.linked, or the refusal in err); if
// not, the petition becomes a new case (the earlier one is closed, or it ended after the
// register last heard of it, or this is a retry of the very registration that made it).
func (s *Server) answeredAsRepeat(c *gin.Context, prior register.Case, nc *register.NewCase, clerk workflows.Actor) (reg registration, done bool, err error) {
	ctx := c.Request.Context()
	stage := workflows.Stage(prior.Stage)
	switch {
	case stage == workflows.StageTerminated:
		setRegistrationOutcome(c, metrics.RegistrationRefused)
		return reg, true, &terminatedError{caseNo: prior.CaseNo}
	case stage.Final(), s.isRetryOf(ctx, prior, *nc):
		return reg, false, nil
	}
	linked, err := s.linkRepeat(ctx, prior, *nc, clerk)
	switch {
	case err == nil:
		return registration{linked: linked, repeatOf: prior.CaseNo}, true, nil
	case errors.Is(err, errCaseEnded):
		nc.NotRepeatOf = prior.CaseNo
		return reg, false, nil
	default:
		return reg, true, err
	}
}

// isRetryOf tells a retried registration from a genuine repeat petition. Without it a client
// retrying after a timeout would find its own new case through FindRepeat and link the
// petition to itself; and a retry after a crash between the register commit and the workflow
// start would never start the workflow. Only requests with an Idempotency-Key can be retries.
func (s *Server) isRetryOf(ctx context.Context, prior register.Case, nc register.NewCase) bool {
	if nc.IdempotencyKey == "" {
		return false
	}
	c, err := s.reg.CaseByIdempotencyKey(ctx, nc.IdempotencyKey)
	return err == nil && c.CaseNo == prior.CaseNo
}

// errCaseEnded: the case a repeat would be linked to has ended meanwhile.
var errCaseEnded = errors.New("the earlier case has ended")

// linkRepeat records a repeat petition (重复信访) on the live case it repeats. A case whose
// workflow never started (the API crashed between the register commit and the start) is
// started first; one that ended after the register last heard of it gives errCaseEnded.
func (s *Server) linkRepeat(ctx context.Context, prior register.Case, nc register.NewCase, clerk workflows.Actor) (map[string]any, error) {
	in := workflows.ActionInput{Actor: clerk, Channel: nc.Channel, ReceivedAt: nc.ReceivedAt}
	id := updateID("repeat", nc.IdempotencyKey) // the same ID again if the case has to be started first
	state, err := s.update(ctx, prior.CaseNo, workflows.UpdateLinkRepeat, id, in)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if _, serr := s.startOrAttach(ctx, prior, clerk); errors.As(serr, &started) {
			return nil, errCaseEnded
		} else if serr != nil {
			return nil, serr
		}
		state, err = s.update(ctx, prior.CaseNo, workflows.UpdateLinkRepeat, id, in)
	}
	var appErr *temporal.ApplicationError
	if refusal(err, appErrInvalidAction, &appErr) {
		return nil, errCaseEnded
	}
	if err != nil {
		return nil, err
	}
	// After the link, so a submission is never kept on a case that refused it; a retry with
	// the same key repeats the (deduplicated) update and then stores the submission once.
	if err := s.reg.AddRepeatSubmission(ctx, prior.CaseNo, nc); err != nil {
		return nil, err
	}
	body, err := structToMap(state)
	if err != nil {
		return nil, err
	}
	// The earlier case's query code is not repeated here: whoever registers a repeat need not
	// be the petitioner. A clerk reissues it if the petitioner lost it (POST …/query-code).
	body["linked_to"] = prior.CaseNo
	return body, nil
}

// startingWith is what a case's workflow starts with: its policy, and the clerk who registered
// it — a retry or re-import by another clerk keeps the first-contact clerk (首问负责制).
func (s *Server) startingWith(ctx context.Context, row register.Case, clerk workflows.Actor) (workflows.Policy, workflows.Actor, error) {
	policy, ok := s.policies[row.Policy]
	if !ok {
		return workflows.Policy{}, clerk, fmt.Errorf("case %s: policy %q is not configured", row.CaseNo, row.Policy)
	}
	if policy.Name == "" {
		policy.Name = row.Policy
	}
	if row.RegisteredBy != "" && row.RegisteredBy != clerk.ID {
		if a, err := s.staffActor(ctx, row.RegisteredBy); err == nil {
			clerk = a
		} else {
			clerk = workflows.Actor{ID: row.RegisteredBy, Role: workflows.RoleClerk}
		}
	}
	return policy, clerk, nil
}

// startOrAttach starts the case's workflow, or attaches to it when it already runs, and waits
// until it has set its first deadline. Update-with-start makes this safe to repeat: a
// registration retried after a crash between the register commit and the workflow start
// starts the workflow; one retried after success just reads the state again.
func (s *Server) startOrAttach(ctx context.Context, row register.Case, clerk workflows.Actor) (workflows.CaseState, error) {
	if s.temporal == nil {
		return workflows.CaseState{}, errNotConfigured
	}
	policy, clerk, err := s.startingWith(ctx, row, clerk)
	if err != nil {
		return workflows.CaseState{}, err
	}
	// One start for every path (intake): the case's one workflow ID, an existing run used as it
	// is, a finished case never restarted by a late retry.
	wfID := workflows.WorkflowID(row.CaseNo)
	op := s.temporal.NewWithStartWorkflowOperation(intake.StartOptions(row, policy), workflows.WorkflowName,
		intake.Input(row, policy, clerk))

	uctx, cancel := context.WithTimeout(ctx, s.updateWait)
	defer cancel()
	uctx, unwatch := s.watchTemporal(uctx)
	h, err := s.temporal.UpdateWithStartWorkflow(uctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{
			WorkflowID:   wfID,
			UpdateName:   workflows.UpdateAwaitRegistration,
			UpdateID:     "register-" + row.CaseNo,
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	var state workflows.CaseState
	if err == nil {
		err = h.Get(uctx, &state)
	}
	err = unwatch(err)
	var down *temporalDownError
	if err != nil && !errors.As(err, &down) && timedOut(err) && ctx.Err() == nil {
		if stuck := s.workflowTrouble(ctx, row.CaseNo, err); stuck != nil {
			return state, stuck
		}
	}
	return state, err
}

func registrationBody(row register.Case, state workflows.CaseState) gin.H {
	deadlines := gin.H{}
	if d := state.Deadline; d != nil {
		deadlines[string(d.Clock)] = gin.H{"due": d.Due, "explanation": d.Explanation.Summary}
	}
	return gin.H{
		"case_no":        row.CaseNo,
		"query_code":     row.QueryCode,
		"suggested_unit": row.SuggestedUnit,
		"group_petition": row.GroupSize >= groupPetitionSize,
		"stage":          state.Stage,
		"deadlines":      deadlines,
		"state":          state,
	}
}

// getPetition answers the register row with the live workflow state. The register is the
// source for the row. A case in a final stage is served from the register alone (no action can
// change it, and a query would replay its whole history on a worker); an open case's live state
// is asked for briefly (queryTimeout), and when the workflow does not answer the register's
// projection is served at once with the reason ("source": "register", "state_error"), because
// a clerk on the phone needs the case more than the clock. The petitioners' identity is
// withheld where authz.go says so, and every read of it is recorded (查阅记录).
func (s *Server) getPetition(c *gin.Context) {
	row, err := s.scopedCase(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	no := row.CaseNo
	repeats, err := s.reg.RepeatSubmissions(ctx, no)
	if err != nil {
		s.fail(c, err)
		return
	}
	warned, err := s.reg.Warnings(ctx, no) // early warning (预警)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := principal(c)
	body := gin.H{"case": row, "state": nil, "deadlines": registerDeadline(row), "repeat_submissions": repeats, "source": sourceRegister,
		"warnings": warned.Warnings, "lodged_level": warned.LodgedLevel}
	if !seesIdentity(workflows.Role(p.Role), row.Category) {
		// The accuser's materials too: file names and references name people.
		row.Petitioners, row.Attachments = nil, nil
		for i := range repeats {
			repeats[i].Petitioners, repeats[i].Attachments = []register.Petitioner{}, []register.Attachment{}
		}
		body["case"] = row
		body["identity_withheld"] = "accusation (检举控告): the accuser's identity is shown only to the petition office and the reviewers"
	} else if len(row.Petitioners) > 0 {
		if err := s.reg.RecordPersonalDataRead(ctx, p.StaffID, no, "GET /api/v1/petitions/{no}"); err != nil {
			s.fail(c, err)
			return
		}
	}
	seq := row.Seq
	var actor *workflows.Actor
	if a, err := s.actorOf(ctx, p); err == nil {
		actor = &a
	} else {
		s.log.WarnContext(ctx, "no actor for the allowed actions", "case_no", no, "error", err)
	}
	state, ok, reason, allowed := s.liveRead(ctx, row, actor)
	if ok {
		body["state"], body["deadlines"], body["source"] = state, state.Deadline, sourceWorkflow
		seq = state.Seq
	} else if reason != "" {
		body["state_error"] = reason
	}
	body["allowed_actions"] = allowed
	setETag(c, seq)
	s.answer(c, http.StatusOK, body)
}

// liveRead is liveState together with what actor (nil: nobody) may do on the case now, asked
// of the workflow at the same time and within the same wait (queryWait). The actions are the
// action segments of POST /api/v1/petitions/{no}/{action}, in the workflow's order; none for a
// case in a final stage, when the state could not be read, or when the workflow could not say
// (a worker older than the query answers "unknown queryType"): the read never fails for them.
func (s *Server) liveRead(ctx context.Context, row register.Case, actor *workflows.Actor) (state workflows.CaseState, ok bool, reason string, allowed []string) {
	allowed = []string{}
	if workflows.Stage(row.Stage).Final() {
		return state, false, "", allowed
	}
	qctx, cancel := context.WithTimeout(ctx, s.queryWait)
	defer cancel()
	var (
		wg       sync.WaitGroup
		names    []string
		namesErr error
	)
	if actor != nil {
		wg.Go(func() { names, namesErr = s.queryAllowedActions(qctx, row.CaseNo, *actor) })
	}
	state, err := s.queryState(qctx, row.CaseNo, s.queryWait)
	wg.Wait()
	if err != nil {
		return state, false, s.stateErrorReason(ctx, row.CaseNo, err), allowed
	}
	if namesErr != nil {
		s.log.DebugContext(ctx, "allowed actions query failed", "case_no", row.CaseNo, "error", namesErr)
	}
	for _, n := range names {
		if segment, known := actionSegments[n]; known {
			allowed = append(allowed, segment)
		}
	}
	return state, true, "", allowed
}

// queryAllowedActions asks the case's workflow which updates actor may send now
// (workflows.QueryAllowedActions).
func (s *Server) queryAllowedActions(ctx context.Context, no string, actor workflows.Actor) ([]string, error) {
	if s.temporal == nil {
		return nil, errNotConfigured
	}
	v, err := s.temporal.QueryWorkflow(ctx, workflows.WorkflowID(no), "", workflows.QueryAllowedActions, actor)
	if err != nil {
		return nil, err
	}
	var names []string
	err = v.Get(&names)
	return names, err
}

// Where a read's state comes from.
const (
	sourceWorkflow = "workflow" // the live state, queried
	sourceRegister = "register" // the register's projection of the last recorded transition
)

// liveState queries an open case's workflow. ok is false for a case in a final stage (reason
// empty: the register has it all) and when the query failed (reason says why).
func (s *Server) liveState(ctx context.Context, row register.Case) (state workflows.CaseState, ok bool, reason string) {
	if workflows.Stage(row.Stage).Final() {
		return state, false, ""
	}
	state, err := s.queryState(ctx, row.CaseNo, s.queryWait)
	if err != nil {
		return state, false, s.stateErrorReason(ctx, row.CaseNo, err)
	}
	return state, true, ""
}

// registerDeadline is the running clock as the register last recorded it (null if none).
func registerDeadline(row register.Case) any {
	if len(row.Deadline) == 0 || string(row.Deadline) == "null" || workflows.Stage(row.Stage).Final() {
		return nil
	}
	return row.Deadline
}

// scopedCase loads the case named in the path if the signed-in person may see it; a case
// outside their scope answers 404 like an unknown one, so case numbers cannot be probed.
//
// The register follows the workflow a moment behind (transitions reach it through the case's
// outbox), so a case that has just moved to a reviewer's unit may not show it yet: an open case
// the register puts outside the scope is checked once more against its live state.
func (s *Server) scopedCase(c *gin.Context) (register.Case, error) {
	no, err := caseNoParam(c)
	if err != nil {
		return register.Case{}, err
	}
	ctx := c.Request.Context()
	row, err := s.getCase(ctx, no)
	if err != nil {
		return register.Case{}, err
	}
	sc, err := s.caseScope(ctx, principal(c))
	if err != nil {
		return register.Case{}, err
	}
	if inScope(sc, row) {
		return row, nil
	}
	if !workflows.Stage(row.Stage).Final() && s.temporal != nil {
		if state, qerr := s.queryState(ctx, no, s.queryWait); qerr == nil {
			live := row
			withState(&live, state)
			if inScope(sc, live) {
				return row, nil
			}
		}
	}
	return register.Case{}, &notFoundError{what: "case " + no}
}

// withState brings a register row up to the workflow's state where the state is newer (the
// register may lag behind it): stage, units, people and the dates an action changes.
func withState(row *register.Case, st workflows.CaseState) {
	if st.Seq <= row.Seq || st.CaseNo != "" && st.CaseNo != row.CaseNo {
		return
	}
	row.Seq, row.Stage = st.Seq, string(st.Stage)
	row.Unit, row.SuggestedUnit, row.Handler, row.Leader = st.Unit, st.SuggestedUnit, st.Handler, st.Leader
	row.ReviewUnit, row.ReReviewUnit = st.ReviewUnit, st.ReReviewUnit
	row.InvolvedUnits = st.InvolvedUnits()
	row.Overdue, row.EscalationLevel, row.Evaluation = st.Overdue, st.EscalationLevel, st.Evaluation
	row.AcceptedAt, row.RepliedAt, row.ClosedAt = st.AcceptedAt, st.RepliedAt, st.ClosedAt
	row.DueAt = nil
	if st.Deadline != nil && !st.Stage.Final() {
		due := st.Deadline.Due
		row.DueAt = &due
	}
}

func (s *Server) petitionEvents(c *gin.Context) {
	row, err := s.scopedCase(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	events, err := s.reg.Events(c.Request.Context(), row.CaseNo)
	if errors.Is(err, register.ErrNotFound) {
		err = &notFoundError{what: "case " + row.CaseNo}
	}
	answerList(s, c, "events", events, err)
}

// petitionDeadlines explains the running clock: live for an open case, from the register
// for a closed one and when the workflow does not answer at once (marked by "source").
func (s *Server) petitionDeadlines(c *gin.Context) {
	row, err := s.scopedCase(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	no := row.CaseNo
	if state, ok, reason := s.liveState(ctx, row); ok {
		setETag(c, state.Seq)
		s.answer(c, http.StatusOK, gin.H{"case_no": no, "stage": state.Stage, "deadline": state.Deadline, "source": sourceWorkflow})
		return
	} else if reason != "" {
		setETag(c, row.Seq)
		s.answer(c, http.StatusOK, gin.H{
			"case_no": no, "stage": row.Stage, "deadline": registerDeadline(row), "source": sourceRegister,
			"state_error": reason,
		})
		return
	}
	setETag(c, row.Seq)
	s.answer(c, http.StatusOK, gin.H{"case_no": no, "stage": row.Stage, "deadline": registerDeadline(row), "source": sourceRegister})
}

// reissueQueryCode gives the petitioner a new query code (the old one stops working); the
// answer shows it once, and the reissue is audited.
func (s *Server) reissueQueryCode(c *gin.Context) {
	row, err := s.scopedCase(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := principal(c)
	code, err := s.reg.ReissueQueryCodeAudited(c.Request.Context(), row.CaseNo, p.StaffID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "query code reissued", "case_no", row.CaseNo, "staff_id", p.StaffID)
	c.Header("Cache-Control", "no-store")
	s.answer(c, http.StatusOK, gin.H{"case_no": row.CaseNo, "query_code": code})
}

// checkPolicyAllowed: registration uses only the policies this office allows. A policy the
// allow-list does not mention is usable only in development mode (the seconds-scale demo
// policy, test policies); one it forbids never is.
func (s *Server) checkPolicyAllowed(ctx context.Context, name string) error {
	ok, err := s.reg.PolicyAllowed(ctx, name)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	if s.devMode {
		settings, err := s.reg.PolicySettings(ctx)
		if err != nil {
			return err
		}
		listed := false
		for _, st := range settings {
			listed = listed || st.Name == name
		}
		if !listed {
			return nil
		}
	}
	return &unprocessableError{msg: "policy not allowed", fields: map[string]string{
		"policy": "policy " + strconv.Quote(name) + " is not allowed in this office (GET /api/v1/policies lists those that are)"}}
}

func (s *Server) getCase(ctx context.Context, no string) (register.Case, error) {
	row, err := s.reg.Get(ctx, no)
	if errors.Is(err, register.ErrNotFound) {
		return row, &notFoundError{what: "case " + no}
	}
	return row, err
}

// queryState asks the case's workflow for its state, waiting at most wait.
func (s *Server) queryState(ctx context.Context, no string, wait time.Duration) (workflows.CaseState, error) {
	var state workflows.CaseState
	if s.temporal == nil {
		return state, errNotConfigured
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	v, err := s.temporal.QueryWorkflow(ctx, workflows.WorkflowID(no), "", workflows.QueryState)
	if err != nil {
		return state, err
	}
	err = v.Get(&state)
	return state, err
}

// stateErrorReason reads a failed state query for the client without internals. A workflow
// failing on the worker, or waiting for one, is said to be so (workflowTrouble).
func (s *Server) stateErrorReason(ctx context.Context, no string, err error) string {
	var (
		nf      *serviceerror.NotFound
		unavail *serviceerror.Unavailable
		stuck   *workflowStuckError
	)
	if trouble := s.workflowTrouble(ctx, no, err); errors.As(trouble, &stuck) {
		s.log.WarnContext(ctx, "state query failed", "case_no", no, "error", trouble)
		return stuck.reason
	}
	switch {
	case errors.As(err, &nf):
		return "the case's workflow was not found (not started yet, or past retention)"
	case timedOut(err):
		return "the case's workflow did not answer within " + s.queryWait.String() + "; the register's copy is shown"
	case errors.Is(err, errNotConfigured):
		return "the workflow service is not configured"
	case errors.As(err, &unavail):
		s.log.WarnContext(ctx, "state query failed", "case_no", no, "error", err)
		return "the workflow service is unavailable"
	default:
		s.log.WarnContext(ctx, "state query failed", "case_no", no, "error", err)
		return "the case's live state could not be read; the register's copy is shown"
	}
}
