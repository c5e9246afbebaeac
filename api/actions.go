package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// actions maps the URL's action segment (dashes) to the workflow's update name.
var actions = map[string]string{
	"accept":             workflows.UpdateAccept,
	"reject":             workflows.UpdateReject,
	"forward":            workflows.UpdateForward,
	"reply":              workflows.UpdateReply,
	"request-extension":  workflows.UpdateRequestExtension,
	"decide-extension":   workflows.UpdateDecideExtension,
	"reassign":           workflows.UpdateReassign,
	"pause":              workflows.UpdatePause,
	"resume":             workflows.UpdateResume,
	"supervise":          workflows.UpdateSupervise,
	"review-decision":    workflows.UpdateReviewDecision,
	"re-review-decision": workflows.UpdateReReviewDecision,
	"withdraw":           workflows.UpdateWithdraw,
	"record-service":     workflows.UpdateRecordService,
	// The bureau's routines (交办, 回访, 成员单位, 联查, 包案).
	"assign":                     workflows.UpdateAssign,
	"report-result":              workflows.UpdateReportResult,
	"review-result":              workflows.UpdateReviewResult,
	"add-co-unit":                workflows.UpdateAddCoUnit,
	"co-reply":                   workflows.UpdateCoReply,
	"record-call-back":           workflows.UpdateRecordCallBack,
	"flag-joint-investigation":   workflows.UpdateFlagJoint,
	"decide-joint-investigation": workflows.UpdateDecideJoint,
	"record-joint-findings":      workflows.UpdateRecordJointFindings,
	"assign-leader":              workflows.UpdateAssignLeader,
}

// actionSegments maps an update name back to its URL segment.
var actionSegments = func() map[string]string {
	m := make(map[string]string, len(actions))
	for segment, update := range actions {
		m[update] = segment
	}
	return m
}()

// actionRequest is the body of POST /api/v1/petitions/{no}/{action}. Fields an action does not
// use are ignored by the workflow; which are required is the validators' business, so the
// rules live in one place. The API only checks shapes and enumerations.
type actionRequest struct {
	// Actor is deprecated: the acting person is the signed-in one; a value naming anyone
	// else is refused. QueryCode is refused: petitioners act through the public endpoints.
	Actor      string `json:"actor"`
	QueryCode  string `json:"query_code"`
	Unit       string `json:"unit"`
	Handler    string `json:"handler"`
	Leader     string `json:"leader"`
	Reason     string `json:"reason"`
	Opinion    string `json:"opinion"`
	Days       *int   `json:"days"`
	Approved   *bool  `json:"approved"`
	Outcome    string `json:"outcome"`
	Evaluation string `json:"evaluation"`
	NewDueAt   string `json:"new_due_at"`
	// ServedAt and ServiceMethod: when and how the written answer reached the petitioner
	// (送达): reply, review-decision, re-review-decision and record-service.
	ServedAt      string `json:"served_at"`
	ServiceMethod string `json:"service_method"`
	// ReportDue: assign and review-result (交办): when the unit's result report is due.
	ReportDue string `json:"report_due"`
	// Reached: record-call-back (回访).
	Reached *bool `json:"reached"`
	// Criterion: flag-joint-investigation; Units: decide-joint-investigation's team (联查).
	Criterion string   `json:"criterion"`
	Units     []string `json:"units"`
}

func (r *actionRequest) validate(key string) (workflows.ActionInput, error) {
	f := fieldErrors{}
	r.Actor = strings.TrimSpace(r.Actor)
	if len(r.Actor) > 64 || !validText(r.Actor) {
		f["actor"] = "must be your staff ID (or left out) of at most 64 characters"
	}
	if r.QueryCode != "" {
		f["query_code"] = "petitioners act through POST /api/v1/public/petitions/{no}/{action}; staff act as themselves"
	}
	for field, v := range map[string]*string{"unit": &r.Unit, "handler": &r.Handler, "leader": &r.Leader} {
		if len(*v) > 64 || !validText(*v) {
			f[field] = "must be a code or staff ID of at most 64 characters"
		}
	}
	in := workflows.ActionInput{
		Unit: strings.TrimSpace(r.Unit), Handler: strings.TrimSpace(r.Handler),
		Leader: strings.TrimSpace(r.Leader), Reason: strings.TrimSpace(r.Reason),
		Opinion: strings.TrimSpace(r.Opinion), Approved: r.Approved,
		Outcome: r.Outcome, Evaluation: r.Evaluation,
	}
	if msg := textProblem(in.Reason, 10000); msg != "" {
		f["reason"] = msg
	}
	if msg := textProblem(in.Opinion, 50000); msg != "" {
		f["opinion"] = msg
	}
	if r.Days != nil {
		if *r.Days < 1 || *r.Days > 366 {
			f["days"] = "must be between 1 and 366"
		}
		in.Days = *r.Days
	}
	if r.Outcome != "" && !contains(outcomes, r.Outcome) {
		f["outcome"] = oneOf(outcomes)
	}
	if r.Evaluation != "" && !contains(evaluations, r.Evaluation) {
		f["evaluation"] = oneOf(evaluations)
	}
	if r.NewDueAt != "" {
		// A date names the last day: the new deadline is the end of it.
		t, err := parseInstant(r.NewDueAt, true)
		if err != nil {
			f["new_due_at"] = err.Error()
		} else {
			in.NewDueAt = &t
		}
	}
	if r.ServedAt != "" {
		// A date names the day of service: the start of that day (the window starts there).
		t, err := parseInstant(r.ServedAt, false)
		if err != nil {
			f["served_at"] = err.Error()
		} else {
			in.ServedAt = &t
		}
	}
	if r.ServiceMethod != "" {
		if !contains(serviceMethods, r.ServiceMethod) {
			f["service_method"] = oneOf(serviceMethods)
		}
		in.ServiceMethod = r.ServiceMethod
	}
	if r.ReportDue != "" {
		// A date names the last day: the report is due by the end of it.
		t, err := parseInstant(r.ReportDue, true)
		if err != nil {
			f["report_due"] = err.Error()
		} else {
			in.ReportDue = &t
		}
	}
	in.Reached = r.Reached
	if r.Criterion != "" {
		if !slices.ContainsFunc(workflows.JointCriteria, func(c workflows.JointCriterion) bool { return c.Code == r.Criterion }) {
			f["criterion"] = oneOf(jointCriteria())
		}
		in.Criterion = r.Criterion
	}
	if len(r.Units) > 20 {
		f["units"] = "at most 20 units"
	}
	for _, u := range r.Units {
		u = strings.TrimSpace(u)
		if u == "" || len(u) > 64 || !validText(u) {
			f["units"] = "must be unit codes of at most 64 characters"
			break
		}
		in.Units = append(in.Units, u)
	}
	checkIdempotencyKey(key, f)
	if len(f) > 0 {
		return in, f
	}
	return in, nil
}

// jointCriteria are the codes of the joint investigation criteria (联查), in seed 002's order.
func jointCriteria() []string {
	out := make([]string, len(workflows.JointCriteria))
	for i, c := range workflows.JointCriteria {
		out[i] = c.Code
	}
	return out
}

// petitionAction runs one staff or petitioner action as a workflow update and answers the
// state after it. A refused action comes back from the validator and is mapped by classify.
func (s *Server) petitionAction(c *gin.Context) {
	name := c.Param("action")
	update, ok := actions[name]
	if !ok {
		s.fail(c, &notFoundError{what: "action " + strconv.Quote(name)})
		return
	}
	no, err := caseNoParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var req actionRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	key := c.GetHeader(headerIdempotencyKey)
	in, err := req.validate(key)
	ifSeq, conditional, herr := ifMatchSeq(c)
	if err = mergeFieldErrors(err, herr); err != nil {
		s.fail(c, err)
		return
	}
	if conditional {
		in.IfSeq = &ifSeq
	}
	p := principal(c)
	if err := checkActorField(p, req.Actor); err != nil {
		s.fail(c, err)
		return
	}
	// After the scope check, so that a case outside it answers 404 whatever the headers.
	if _, err := s.scopedCase(c); err != nil {
		s.fail(c, err)
		return
	}
	if key == "" && !conditional {
		s.fail(c, errPreconditionRequired("GET /api/v1/petitions/"+no))
		return
	}
	ctx := c.Request.Context()
	if in.Actor, err = s.actorOf(ctx, p); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.checkReferences(ctx, in); err != nil {
		s.fail(c, err)
		return
	}
	// The action is part of the update ID: a key reused for another action on the same case
	// must not return the first action's result.
	state, err := s.update(ctx, no, update, actionUpdateID(name, key, p.StaffID, in), in)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		err = s.explainMissingWorkflow(ctx, no, err)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	setETag(c, state.Seq)
	s.answer(c, http.StatusOK, state)
}

// explainMissingWorkflow: an update on a case whose workflow has finished fails with
// NotFound. For a case the register knows, that is an action on a closed case (422), not an
// unknown URL.
func (s *Server) explainMissingWorkflow(ctx context.Context, no string, err error) error {
	row, gerr := s.getCase(ctx, no)
	if gerr != nil {
		if errors.Is(gerr, register.ErrNotFound) {
			return gerr
		}
		return err
	}
	return &unprocessableError{msg: "the case is no longer running (stage " + row.Stage + "); no further action is possible"}
}

// checkReferences refuses units and staff the register does not know before the action
// reaches the workflow, so a typo is a field error and leaves no trace in the case's history.
func (s *Server) checkReferences(ctx context.Context, in workflows.ActionInput) error {
	f := map[string]string{}
	if in.Unit != "" {
		if _, err := s.reg.Unit(ctx, in.Unit); errors.Is(err, register.ErrNotFound) {
			f["unit"] = "no unit with code " + strconv.Quote(in.Unit)
		} else if err != nil {
			return err
		}
	}
	for _, u := range in.Units {
		if _, err := s.reg.Unit(ctx, u); errors.Is(err, register.ErrNotFound) {
			f["units"] = "no unit with code " + strconv.Quote(u)
			break
		} else if err != nil {
			return err
		}
	}
	for field, id := range map[string]string{"handler": in.Handler, "leader": in.Leader} {
		if id == "" {
			continue
		}
		if _, err := s.reg.Staff(ctx, id); errors.Is(err, register.ErrNotFound) {
			f[field] = "no staff member with ID " + strconv.Quote(id)
		} else if err != nil {
			return err
		}
	}
	if len(f) > 0 {
		return &unprocessableError{msg: "unknown unit or staff member", fields: f}
	}
	return nil
}

// staffActor looks a staff member up by ID (for a case's first-contact clerk, who may not be
// the person signed in now).
func (s *Server) staffActor(ctx context.Context, id string) (workflows.Actor, error) {
	if s.reg == nil {
		return workflows.Actor{}, errNotConfigured
	}
	st, err := s.reg.Staff(ctx, id)
	if errors.Is(err, register.ErrNotFound) {
		return workflows.Actor{}, &unprocessableError{
			msg:    "unknown actor",
			fields: map[string]string{"actor": "no staff member with ID " + strconv.Quote(id)},
		}
	}
	if err != nil {
		return workflows.Actor{}, err
	}
	return workflows.Actor{ID: st.ID, Name: st.Name, Role: workflows.Role(st.Role), Unit: st.Unit}, nil
}

// update sends a workflow update and waits for its result, for at most updateWait. Temporal
// deduplicates by update ID, so a retried HTTP request with the same Idempotency-Key (or the
// same If-Match) gets the same outcome. When the wait runs out, a look at the workflow tells a
// plain timeout (504) from a workflow that is failing on the worker or that no worker picks up.
func (s *Server) update(ctx context.Context, no, name, updateID string, in workflows.ActionInput) (workflows.CaseState, error) {
	var state workflows.CaseState
	if s.temporal == nil {
		return state, errNotConfigured
	}
	uctx, cancel := context.WithTimeout(ctx, s.updateWait)
	defer cancel()
	uctx, unwatch := s.watchTemporal(uctx)
	h, err := s.temporal.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflows.WorkflowID(no),
		UpdateName:   name,
		UpdateID:     updateID,
		Args:         []any{in},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(uctx, &state)
	}
	err = unwatch(err)
	var down *temporalDownError
	if err != nil && !errors.As(err, &down) && timedOut(err) && ctx.Err() == nil {
		if stuck := s.workflowTrouble(ctx, no, err); stuck != nil {
			var w *workflowStuckError
			if errors.As(stuck, &w) {
				w.action = true
			}
			return state, stuck
		}
	}
	return state, err
}

// actionNames lists the URL actions, sorted, for the OpenAPI test and error messages.
func actionNames() []string {
	names := make([]string, 0, len(actions))
	for k := range actions {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// structToMap flattens a value's JSON into a map so fields can be added beside it.
func structToMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	return m, json.Unmarshal(b, &m)
}
