package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// The petitioner's self-service (阳光信访): with the case number and the query code (查询码)
// given at registration, a petitioner sees where the case stands and the replies, and
// evaluates, asks for review or re-review, or withdraws within the windows. The code travels
// in the X-Query-Code header or the body, never in the URL, so it stays out of access logs.
// An unknown case and a wrong code answer alike (404), and requests are rate-limited per
// client address and per case, so codes cannot be guessed.

const headerQueryCode = "X-Query-Code"

// publicActions are the actions a petitioner takes (the workflow's rules say when).
var publicActions = map[string]string{
	"evaluate":          workflows.UpdateEvaluate,
	"request-review":    workflows.UpdateRequestReview,
	"request-re-review": workflows.UpdateRequestReReview,
	"withdraw":          workflows.UpdateWithdraw,
}

// errNoSuchCase is the one answer for an unknown case and a wrong query code.
var errNoSuchCase = &notFoundError{what: "a case with this number and query code was"}

// publicActionRequest is the body of POST /api/v1/public/petitions/{no}/{action}.
type publicActionRequest struct {
	QueryCode  string `json:"query_code"`
	Evaluation string `json:"evaluation"`
	Reason     string `json:"reason"`
}

// petitionerCase checks the rate limits and the query code and returns the case.
func (s *Server) petitionerCase(c *gin.Context, code string) (register.Case, error) {
	no, err := caseNoParam(c)
	if err != nil {
		return register.Case{}, err
	}
	if err := s.publicClient.take(c.ClientIP()); err != nil {
		return register.Case{}, err
	}
	if err := s.publicCase.take(no); err != nil {
		return register.Case{}, err
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return register.Case{}, fieldErrors{"query_code": "is required: send the X-Query-Code header (or query_code in a POST body)"}
	}
	if len(code) > 32 || !validText(code) {
		return register.Case{}, errNoSuchCase
	}
	row, err := s.reg.GetByQueryCode(c.Request.Context(), no, code)
	if errors.Is(err, register.ErrNotFound) {
		return register.Case{}, errNoSuchCase
	}
	return row, err
}

// publicCaseView answers what the petitioner may know: stage, key dates, the running deadline,
// the replies and decisions, and what they can do now. No staff names, no other petitioners.
func (s *Server) publicCaseView(c *gin.Context) {
	row, err := s.petitionerCase(c, c.GetHeader(headerQueryCode))
	if err != nil {
		s.fail(c, err)
		return
	}
	body, err := s.publicView(c.Request.Context(), row)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	setETag(c, row.Seq)
	s.answer(c, http.StatusOK, body)
}

func (s *Server) publicView(ctx context.Context, row register.Case) (gin.H, error) {
	events, err := s.reg.Events(ctx, row.CaseNo)
	if err != nil {
		return nil, err
	}
	replies := []gin.H{}
	for _, e := range events {
		switch e.Type {
		case workflows.EventReplied, workflows.EventReviewDecided, workflows.EventReReviewDecided,
			workflows.EventRejected, workflows.EventForwarded:
			r := gin.H{"type": e.Type, "label": publicEventLabel[e.Type], "at": e.At}
			for _, k := range []string{"opinion", "outcome", "reason"} {
				if v, ok := e.Details[k]; ok {
					r[k] = v
				}
			}
			replies = append(replies, r)
		}
	}
	unitName := ""
	if row.Unit != "" {
		if u, err := s.reg.Unit(ctx, row.Unit); err == nil {
			unitName = u.Name
		}
	}
	var due any
	if row.DueAt != nil && !workflows.Stage(row.Stage).Final() {
		due = row.DueAt
	}
	return gin.H{
		"case_no":     row.CaseNo,
		"stage":       row.Stage,
		"stage_label": stageLabels[workflows.Stage(row.Stage)],
		"unit_name":   unitName,
		"received_at": row.ReceivedAt,
		"accepted_at": row.AcceptedAt,
		"replied_at":  row.RepliedAt,
		"closed_at":   row.ClosedAt,
		"due_at":      due,
		"evaluation":  row.Evaluation,
		"replies":     replies,
		"may":         petitionerMay(workflows.Stage(row.Stage)),
	}, nil
}

// petitionerMay lists what the petitioner can do in a stage (the workflow decides finally).
func petitionerMay(st workflows.Stage) []string {
	switch st {
	case workflows.StageRegistered, workflows.StageHandling:
		return []string{"withdraw"}
	case workflows.StageReplied:
		return []string{"evaluate", "request-review"}
	case workflows.StageReviewed:
		return []string{"evaluate", "request-re-review"}
	}
	return []string{}
}

var stageLabels = map[workflows.Stage]string{
	workflows.StageRegistered: "已登记，待受理",
	workflows.StageHandling:   "办理中",
	workflows.StageReplied:    "已答复",
	workflows.StageReview:     "复查中",
	workflows.StageReviewed:   "已复查",
	workflows.StageReReview:   "复核中",
	workflows.StageClosed:     "已办结",
	workflows.StageTerminated: "已终结",
	workflows.StageRejected:   "不予受理",
	workflows.StageWithdrawn:  "已撤回",
}

var publicEventLabel = map[string]string{
	workflows.EventReplied:         "答复意见",
	workflows.EventReviewDecided:   "复查意见",
	workflows.EventReReviewDecided: "复核意见",
	workflows.EventRejected:        "不予受理告知",
	workflows.EventForwarded:       "转送告知",
}

// publicAction runs a petitioner's action as the workflow update it is.
func (s *Server) publicAction(c *gin.Context) {
	name := c.Param("action")
	update, ok := publicActions[name]
	if !ok {
		s.fail(c, &notFoundError{what: "action " + strconv.Quote(name)})
		return
	}
	var req publicActionRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	code := c.GetHeader(headerQueryCode)
	if code == "" {
		code = req.QueryCode
	}
	row, err := s.petitionerCase(c, code)
	if err != nil {
		s.fail(c, err)
		return
	}
	f := fieldErrors{}
	req.Reason = strings.TrimSpace(req.Reason)
	if msg := textProblem(req.Reason, 2000); msg != "" {
		f["reason"] = msg
	}
	if req.Evaluation != "" && !contains(evaluations, req.Evaluation) {
		f["evaluation"] = oneOf(evaluations)
	}
	key := c.GetHeader(headerIdempotencyKey)
	checkIdempotencyKey(key, f)
	ifSeq, conditional, herr := ifMatchSeq(c)
	if err := mergeFieldErrors(f, herr); err != nil {
		s.fail(c, err)
		return
	}
	if key == "" && !conditional {
		s.fail(c, errPreconditionRequired("GET /api/v1/public/petitions/"+row.CaseNo))
		return
	}
	in := workflows.ActionInput{
		Actor:      workflows.Actor{ID: "petitioner", Role: workflows.RolePetitioner},
		Evaluation: req.Evaluation, Reason: req.Reason,
	}
	if conditional {
		in.IfSeq = &ifSeq
	}
	ctx := c.Request.Context()
	state, err := s.update(ctx, row.CaseNo, update, actionUpdateID("petitioner-"+name, key, in.Actor.ID, in), in)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		err = &unprocessableError{msg: "the case is no longer running (" + stageLabels[workflows.Stage(row.Stage)] + "); no further action is possible"}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	// Answer what the petitioner sees: the register's row (and its replies) with what the
	// action changed, from the workflow's answer, since the register may not have caught up.
	if row2, err := s.reg.Get(ctx, row.CaseNo); err == nil {
		row = row2
	}
	withState(&row, state)
	body, err := s.publicView(ctx, row)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	setETag(c, state.Seq)
	s.answer(c, http.StatusOK, body)
}
