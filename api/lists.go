package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/petitions/petitions/internal/register"
)

const (
	defaultListLimit = 50
	maxListLimit     = 500
)

// listParams are the query parameters GET /api/v1/petitions understands. Others are refused:
// a misspelt filter ("overdu=true") would otherwise silently list every case.
var listParams = []string{
	"stage", "unit", "category", "channel", "overdue", "due_before", "due_after",
	"escalation_level", "q", "limit", "cursor",
}

// listFilter reads and checks the query; every error names its parameter.
func listFilter(c *gin.Context) (register.ListFilter, error) {
	q := c.Request.URL.Query()
	f := fieldErrors{}
	for name := range q {
		if !contains(listParams, name) {
			f[name] = "unknown parameter; known: " + strings.Join(listParams, ", ")
		}
	}
	lf := register.ListFilter{
		Stage:    q.Get("stage"),
		Unit:     q.Get("unit"),
		Category: q.Get("category"),
		Channel:  q.Get("channel"),
		Text:     strings.TrimSpace(q.Get("q")),
		Cursor:   q.Get("cursor"),
		Limit:    defaultListLimit,
	}
	if lf.Stage != "" && !contains(stages, lf.Stage) {
		f["stage"] = oneOf(stages)
	}
	if lf.Category != "" && !contains(categories, lf.Category) {
		f["category"] = oneOf(categories)
	}
	if lf.Channel != "" && !contains(channels, lf.Channel) {
		f["channel"] = oneOf(channels)
	}
	if msg := textProblem(lf.Text, 200); msg != "" {
		f["q"] = msg
	}
	if len(lf.Unit) > 64 || !validText(lf.Unit) {
		f["unit"] = "is not a unit code"
	}
	if len(lf.Cursor) > 1024 {
		f["cursor"] = "is not a cursor from a previous page"
	}
	if v := q.Get("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f["overdue"] = "must be true or false"
		} else {
			lf.Overdue = &b
		}
	}
	if v := q.Get("due_before"); v != "" {
		if t, err := parseInstant(v, false); err != nil {
			f["due_before"] = err.Error()
		} else {
			lf.DueBefore = &t
		}
	}
	if v := q.Get("due_after"); v != "" {
		if t, err := parseInstant(v, false); err != nil {
			f["due_after"] = err.Error()
		} else {
			lf.DueAfter = &t
		}
	}
	if lf.DueBefore != nil && lf.DueAfter != nil && !lf.DueAfter.Before(*lf.DueBefore) {
		f["due_after"] = "must be before due_before"
	}
	if v := q.Get("escalation_level"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 3 {
			f["escalation_level"] = "must be an integer from 0 to 3"
		} else {
			lf.EscalationLevel = &n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			f["limit"] = "must be an integer from 1 to " + strconv.Itoa(maxListLimit)
		} else {
			lf.Limit = n
		}
	}
	if len(f) > 0 {
		return lf, f
	}
	return lf, nil
}

func (s *Server) listPetitions(c *gin.Context) {
	lf, err := listFilter(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if lf.Scope, err = s.caseScope(ctx, principal(c)); err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.reg.List(ctx, lf)
	if err != nil {
		s.fail(c, err)
		return
	}
	if page.Cases == nil {
		page.Cases = []register.Case{} // clients iterate; [] rather than null
	}
	s.answer(c, http.StatusOK, gin.H{"cases": page.Cases, "next_cursor": page.NextCursor})
}

func (s *Server) listUnits(c *gin.Context) {
	units, err := s.reg.Units(c.Request.Context())
	answerList(s, c, "units", units, err)
}

func (s *Server) listRoutingRules(c *gin.Context) {
	rules, err := s.reg.RoutingRules(c.Request.Context())
	answerList(s, c, "rules", rules, err)
}

// answerList answers {key: list}, with [] rather than null (clients iterate), or the error.
func answerList[T any](s *Server, c *gin.Context, key string, list []T, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	if list == nil {
		list = []T{}
	}
	s.answer(c, http.StatusOK, gin.H{key: list})
}
