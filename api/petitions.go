package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

const (
	headerIdempotencyKey = "Idempotency-Key"
	defaultPolicy        = "default"
	// groupPetitionSize: 5 or more people make a group petition (集体访).
	groupPetitionSize = 5
	// receivedSkew tolerates a clerk's PC clock running a little ahead of the server's.
	receivedSkew = 2 * time.Minute
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
	Actor      string `json:"actor"`
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

	if !contains(channels, r.Channel) {
		f["channel"] = oneOf(channels)
	}
	if !contains(categories, r.Category) {
		f["category"] = oneOf(categories)
	}
	switch n := utf8.RuneCountInString(r.Topic); {
	case n == 0:
		f["topic"] = "is required"
	case n > 200:
		f["topic"] = "must be at most 200 characters"
	}
	if r.Content == "" {
		f["content"] = "is required"
	}
	if utf8.RuneCountInString(r.Location) > 500 {
		f["location"] = "must be at most 500 characters"
	}
	if r.Actor == "" {
		f["actor"] = "is required: the staff ID of the registering clerk (首问负责制)"
	}
	switch {
	case len(r.Petitioners) == 0:
		f["petitioners"] = "at least one petitioner is required"
	case len(r.Petitioners) > 100:
		f["petitioners"] = "at most 100 petitioners may be listed"
	}
	for i := range r.Petitioners {
		p := &r.Petitioners[i]
		trim(&p.Name)
		trim(&p.IDNumber)
		trim(&p.Phone)
		trim(&p.Address)
		p.IDNumber = strings.ToUpper(p.IDNumber)
		at := fmt.Sprintf("petitioners[%d].", i)
		if p.Name == "" {
			f[at+"name"] = "is required"
		}
		if p.IDNumber == "" && p.Phone == "" {
			f[at+"id_number"] = "an ID number or a phone number is required"
		}
		if p.IDNumber != "" {
			if msg := validIDNumber(p.IDNumber, now.In(shanghai)); msg != "" {
				f[at+"id_number"] = msg
			}
		}
		if p.Phone != "" && !validPhone(p.Phone) {
			f[at+"phone"] = "is not a phone number"
		}
	}
	groupSize := len(r.Petitioners)
	if r.GroupSize != nil {
		groupSize = *r.GroupSize
		if groupSize < len(r.Petitioners) || groupSize < 1 {
			f["group_size"] = "must be at least the number of petitioners listed"
		}
	}
	for i, a := range r.Attachments {
		at := fmt.Sprintf("attachments[%d].", i)
		if strings.TrimSpace(a.Name) == "" {
			f[at+"name"] = "is required"
		}
		if a.Size < 0 {
			f[at+"size"] = "must not be negative"
		}
	}
	if r.Policy == "" {
		r.Policy = defaultPolicy
	}
	if _, ok := s.policies[r.Policy]; !ok {
		f["policy"] = "unknown policy " + strconv.Quote(r.Policy)
	}
	received := now
	if r.ReceivedAt != "" {
		t, err := time.Parse(time.RFC3339, r.ReceivedAt)
		switch {
		case err != nil:
			f["received_at"] = "must be RFC 3339, e.g. 2026-05-01T09:30:00+08:00"
		case t.After(now.Add(receivedSkew)):
			f["received_at"] = "must not be in the future"
		default:
			received = t
		}
	}
	if key != "" && !saneToken(key, 200) {
		f[headerIdempotencyKey] = "must be 1–200 printable ASCII characters without spaces"
	}
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
	ctx := c.Request.Context()
	clerk, err := s.staffActor(ctx, nc.RegisteredBy)
	if err != nil {
		s.fail(c, err)
		return
	}
	unit, err := s.reg.Route(ctx, nc.Category, nc.Topic)
	if err != nil && !errors.Is(err, register.ErrNotFound) {
		s.fail(c, err)
		return
	}
	nc.SuggestedUnit = unit // no matching rule: the clerk picks the unit at acceptance

	prior, found, err := s.reg.FindRepeat(ctx, nc.Petitioners, nc.Topic)
	if err != nil {
		s.fail(c, err)
		return
	}
	if found && s.answeredAsRepeat(c, prior, &nc, clerk) {
		return
	}
	row, created, err := s.reg.Register(ctx, nc)
	var repeat *register.RepeatError
	if errors.As(err, &repeat) {
		// Another clerk registered the same matter a moment ago.
		if s.answeredAsRepeat(c, repeat.Case, &nc, clerk) {
			return
		}
		row, created, err = s.reg.Register(ctx, nc)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	state, err := s.startOrAttach(ctx, row, clerk)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if !created && errors.As(err, &started) {
		// A retry of a registration whose case has already finished (e.g. rejected at once):
		// the same key answers the same case, as it stands now.
		state, err = s.queryState(ctx, row.CaseNo)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK // idempotent retry: same case, same body
	}
	c.JSON(status, registrationBody(row, state))
}

// answeredAsRepeat deals with an earlier case of the same petitioner and matter: a terminated
// one refuses the petition (不再受理), an open one takes it as a repeat (重复信访). It reports
// whether the request has been answered; if not, the petition becomes a new case (the earlier
// one is closed, or it ended after the register last heard of it, or this is a retry of the
// very registration that made it).
func (s *Server) answeredAsRepeat(c *gin.Context, prior register.Case, nc *register.NewCase, clerk workflows.Actor) bool {
	ctx := c.Request.Context()
	stage := workflows.Stage(prior.Stage)
	switch {
	case stage == workflows.StageTerminated:
		s.fail(c, &terminatedError{caseNo: prior.CaseNo})
		return true
	case stage.Final(), s.isRetryOf(ctx, prior, *nc):
		return false
	}
	linked, err := s.linkRepeat(ctx, prior, *nc, clerk)
	switch {
	case err == nil:
		c.JSON(http.StatusOK, linked)
		return true
	case errors.Is(err, errCaseEnded):
		nc.NotRepeatOf = prior.CaseNo
		return false
	default:
		s.fail(c, err)
		return true
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
	updateID := "repeat-" + randomID()
	if nc.IdempotencyKey != "" {
		updateID = "repeat-" + nc.IdempotencyKey
	}
	in := workflows.ActionInput{Actor: clerk, Channel: nc.Channel, ReceivedAt: nc.ReceivedAt}
	state, err := s.update(ctx, prior.CaseNo, workflows.UpdateLinkRepeat, updateID, in)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if _, serr := s.startOrAttach(ctx, prior, clerk); errors.As(serr, &started) {
			return nil, errCaseEnded
		} else if serr != nil {
			return nil, serr
		}
		state, err = s.update(ctx, prior.CaseNo, workflows.UpdateLinkRepeat, updateID, in)
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
	body["linked_to"] = prior.CaseNo
	body["query_code"] = prior.QueryCode
	return body, nil
}

// startOrAttach starts the case's workflow, or attaches to it when it already runs, and waits
// until it has set its first deadline. Update-with-start makes this safe to repeat: a
// registration retried after a crash between the register commit and the workflow start
// starts the workflow; one retried after success just reads the state again.
func (s *Server) startOrAttach(ctx context.Context, row register.Case, clerk workflows.Actor) (workflows.CaseState, error) {
	if s.temporal == nil {
		return workflows.CaseState{}, errNotConfigured
	}
	policy, ok := s.policies[row.Policy]
	if !ok {
		return workflows.CaseState{}, fmt.Errorf("case %s: policy %q is not configured", row.CaseNo, row.Policy)
	}
	if policy.Name == "" {
		policy.Name = row.Policy
	}
	if row.RegisteredBy != "" && row.RegisteredBy != clerk.ID {
		// A retry by another clerk: the case keeps its first-contact clerk.
		if a, err := s.staffActor(ctx, row.RegisteredBy); err == nil {
			clerk = a
		} else {
			clerk = workflows.Actor{ID: row.RegisteredBy, Role: workflows.RoleClerk}
		}
	}
	input := workflows.PetitionInput{
		CaseNo:        row.CaseNo,
		Channel:       row.Channel,
		Category:      row.Category,
		Topic:         row.Topic,
		SuggestedUnit: row.SuggestedUnit,
		GroupSize:     row.GroupSize,
		ReceivedAt:    row.ReceivedAt,
		RegisteredAt:  row.RegisteredAt,
		RegisteredBy:  clerk,
		Policy:        policy,
	}
	wfID := workflows.WorkflowID(row.CaseNo)
	op := s.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       wfID,
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// A finished case is never restarted by a late retry; only a run that failed (it
		// should not, see the workflow's setup) may be started again, so no case is stranded.
		WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		StaticSummary:         staticSummary(row),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SearchCaseNo.ValueSet(row.CaseNo),
			workflows.SearchStage.ValueSet(string(workflows.StageRegistered)),
			workflows.SearchCategory.ValueSet(row.Category),
			workflows.SearchChannel.ValueSet(row.Channel),
			workflows.SearchPolicy.ValueSet(policy.Name),
		),
	}, workflows.WorkflowName, input)

	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	h, err := s.temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{
			WorkflowID:   wfID,
			UpdateName:   workflows.UpdateAwaitRegistration,
			UpdateID:     "register-" + row.CaseNo,
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return workflows.CaseState{}, err
	}
	var state workflows.CaseState
	if err := h.Get(ctx, &state); err != nil {
		return workflows.CaseState{}, err
	}
	return state, nil
}

// staticSummary is the one line the Temporal UI shows for the workflow. It carries no
// personal data (no names, ID numbers or content): supervisors browse the UI freely.
func staticSummary(row register.Case) string {
	topic := row.Topic
	if utf8.RuneCountInString(topic) > 60 {
		topic = string([]rune(topic)[:60]) + "…"
	}
	return fmt.Sprintf("%s · %s · %s · %s", row.CaseNo, row.Category, topic, row.Channel)
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
// source for the row; when Temporal cannot answer, the row is still served with state null
// and the reason, because a clerk on the phone needs the case more than the clock.
func (s *Server) getPetition(c *gin.Context) {
	no, err := caseNoParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	row, err := s.getCase(ctx, no)
	if err != nil {
		s.fail(c, err)
		return
	}
	repeats, err := s.reg.RepeatSubmissions(ctx, no)
	if err != nil {
		s.fail(c, err)
		return
	}
	body := gin.H{"case": row, "state": nil, "deadlines": row.Deadline, "repeat_submissions": repeats}
	state, err := s.queryState(ctx, no)
	if err != nil {
		body["state_error"] = s.stateErrorReason(ctx, no, err)
	} else {
		body["state"] = state
		body["deadlines"] = state.Deadline
	}
	c.JSON(http.StatusOK, body)
}

func (s *Server) petitionEvents(c *gin.Context) {
	no, err := caseNoParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	events, err := s.reg.Events(ctx, no)
	if errors.Is(err, register.ErrNotFound) {
		err = &notFoundError{what: "case " + no}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if len(events) == 0 {
		// An empty trail may mean an unknown case: answer 404 for those.
		if _, err := s.getCase(ctx, no); err != nil {
			s.fail(c, err)
			return
		}
		events = []workflows.Event{}
	}
	c.JSON(http.StatusOK, gin.H{"events": events})
}

// petitionDeadlines explains the running clock. The live state is preferred; the register's
// last projection is the fallback, marked by "source".
func (s *Server) petitionDeadlines(c *gin.Context) {
	no, err := caseNoParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	state, qerr := s.queryState(ctx, no)
	if qerr == nil {
		c.JSON(http.StatusOK, gin.H{"case_no": no, "stage": state.Stage, "deadline": state.Deadline, "source": "workflow"})
		return
	}
	row, err := s.getCase(ctx, no)
	if err != nil {
		s.fail(c, err)
		return
	}
	var deadline any
	if len(row.Deadline) > 0 {
		deadline = row.Deadline
	}
	c.JSON(http.StatusOK, gin.H{
		"case_no": no, "stage": row.Stage, "deadline": deadline, "source": "register",
		"state_error": s.stateErrorReason(ctx, no, qerr),
	})
}

func (s *Server) getCase(ctx context.Context, no string) (register.Case, error) {
	row, err := s.reg.Get(ctx, no)
	if errors.Is(err, register.ErrNotFound) {
		return row, &notFoundError{what: "case " + no}
	}
	return row, err
}

func (s *Server) queryState(ctx context.Context, no string) (workflows.CaseState, error) {
	var state workflows.CaseState
	if s.temporal == nil {
		return state, errNotConfigured
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	v, err := s.temporal.QueryWorkflow(ctx, workflows.WorkflowID(no), "", workflows.QueryState)
	if err != nil {
		return state, err
	}
	err = v.Get(&state)
	return state, err
}

// stateErrorReason reads a failed state query for the client without internals.
func (s *Server) stateErrorReason(ctx context.Context, no string, err error) string {
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return "the case's workflow was not found (not started yet, or past retention)"
	case errors.Is(err, context.DeadlineExceeded):
		return "the workflow service did not answer within " + queryTimeout.String()
	case errors.Is(err, errNotConfigured):
		return "the workflow service is not configured"
	default:
		s.log.WarnContext(ctx, "state query failed", "case_no", no, "error", err)
		return "the workflow service is unavailable"
	}
}
