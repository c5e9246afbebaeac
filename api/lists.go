package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/warning"
	"github.com/petitions/petitions/workflows"
)

const (
	defaultListLimit = 50
	maxListLimit     = 500
)

// listParams are the query parameters GET /api/v1/petitions understands. Others are refused:
// a misspelt filter ("overdu=true") would otherwise silently list every case.
var listParams = []string{
	"stage", "unit", "category", "channel", "overdue", "extension_pending", "due_before", "due_after",
	"escalation_level", "handler", "leader", "registered_by", "registered_after",
	"registered_before", "q", "limit", "cursor", "count", "format", "warning",
	"joint", "assignment", "involved_unit",
}

// The bureau's routines (交办, 联查): the statuses the list filters on.
var (
	jointStatuses      = []string{workflows.JointProposed, workflows.JointApproved, workflows.JointDeclined, workflows.JointConcluded}
	assignmentStatuses = []string{workflows.AssignmentAwaiting, workflows.AssignmentReported, workflows.AssignmentAccepted}
)

// List answer formats: JSON pages, or the whole list as a download (exports.go).
const (
	formatJSON = "json"
	formatCSV  = "csv"
	formatXLSX = "xlsx"
)

var listFormats = []string{formatJSON, formatCSV, formatXLSX}

// listOptions are the parameters that shape the answer rather than select cases.
type listOptions struct {
	count  bool   // add the number of matching cases (up to register.CountCap)
	format string // formatJSON, formatCSV or formatXLSX
}

// listFilter reads and checks the query; every error names its parameter.
func listFilter(c *gin.Context) (register.ListFilter, listOptions, error) {
	q := c.Request.URL.Query()
	f := fieldErrors{}
	for name := range q {
		if !contains(listParams, name) {
			f[name] = "unknown parameter; known: " + strings.Join(listParams, ", ")
		}
	}
	lf := register.ListFilter{
		Stage:        q.Get("stage"),
		Unit:         q.Get("unit"),
		Category:     q.Get("category"),
		Channel:      q.Get("channel"),
		Handler:      q.Get("handler"),
		Leader:       q.Get("leader"),
		RegisteredBy: q.Get("registered_by"),
		Text:         strings.TrimSpace(q.Get("q")),
		Cursor:       q.Get("cursor"),
		Limit:        defaultListLimit,
	}
	opts := listOptions{format: formatJSON}
	if lf.Stage != "" && !contains(stages, lf.Stage) {
		f["stage"] = oneOf(stages)
	}
	if lf.Category != "" && !contains(categories, lf.Category) {
		f["category"] = oneOf(categories)
	}
	if lf.Channel != "" && !contains(channels, lf.Channel) {
		f["channel"] = oneOf(channels)
	}
	if lf.Warning = q.Get("warning"); lf.Warning != "" && !contains(warning.Codes, lf.Warning) {
		f["warning"] = oneOf(warning.Codes) // early warning (预警): cases with this rule's warning
	}
	// The bureau's routines: joint investigation (联查) and assignment (交办) statuses, and the
	// cases a unit co-handles or investigates jointly (its staff's queue).
	if lf.JointStatus = q.Get("joint"); lf.JointStatus != "" && !contains(jointStatuses, lf.JointStatus) {
		f["joint"] = oneOf(jointStatuses)
	}
	if lf.AssignmentStatus = q.Get("assignment"); lf.AssignmentStatus != "" && !contains(assignmentStatuses, lf.AssignmentStatus) {
		f["assignment"] = oneOf(assignmentStatuses)
	}
	if lf.InvolvedUnit = q.Get("involved_unit"); len(lf.InvolvedUnit) > 64 || !validText(lf.InvolvedUnit) {
		f["involved_unit"] = "is not a unit code"
	}
	if msg := textProblem(lf.Text, 200); msg != "" {
		f["q"] = msg
	}
	if len(lf.Unit) > 64 || !validText(lf.Unit) {
		f["unit"] = "is not a unit code"
	}
	for name, v := range map[string]string{"handler": lf.Handler, "leader": lf.Leader, "registered_by": lf.RegisteredBy} {
		if len(v) > 64 || !validText(v) {
			f[name] = "is not a staff ID"
		}
	}
	if len(lf.Cursor) > 1024 {
		f["cursor"] = "is not a cursor from a previous page"
	}
	if v := q.Get("extension_pending"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f["extension_pending"] = "must be true or false"
		} else {
			lf.ExtensionPending = &b
		}
	}
	if v := q.Get("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f["overdue"] = "must be true or false"
		} else {
			lf.Overdue = &b
		}
	}
	instant := func(name string, into **time.Time) {
		if v := q.Get(name); v != "" {
			if t, err := parseInstant(v, false); err != nil {
				f[name] = err.Error()
			} else {
				*into = &t
			}
		}
	}
	instant("due_before", &lf.DueBefore)
	instant("due_after", &lf.DueAfter)
	instant("registered_before", &lf.RegisteredBefore)
	instant("registered_after", &lf.RegisteredAfter)
	if lf.DueBefore != nil && lf.DueAfter != nil && !lf.DueAfter.Before(*lf.DueBefore) {
		f["due_after"] = "must be before due_before"
	}
	if lf.RegisteredBefore != nil && lf.RegisteredAfter != nil && !lf.RegisteredAfter.Before(*lf.RegisteredBefore) {
		f["registered_after"] = "must be before registered_before"
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
	if v := q.Get("count"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f["count"] = "must be true or false"
		}
		opts.count = b
	}
	if v := q.Get("format"); v != "" {
		if !contains(listFormats, v) {
			f["format"] = oneOf(listFormats)
		}
		opts.format = v
	}
	if opts.format != formatJSON && lf.Cursor != "" {
		f["cursor"] = "an export holds the whole list from its start: leave the cursor out"
	}
	if len(f) > 0 {
		return lf, opts, f
	}
	return lf, opts, nil
}

func (s *Server) listPetitions(c *gin.Context) {
	lf, opts, err := listFilter(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	p := principal(c)
	if lf.Scope, err = s.caseScope(ctx, p); err != nil {
		s.fail(c, err)
		return
	}
	// q matches people only on the cases whose petitioners the reader may see (seesIdentity):
	// a search by name must not reveal to the handling unit that someone accused it.
	role := workflows.Role(p.Role)
	lf.TextMatchesIdentity = seesIdentity(role, "") // "": any category but accusations
	lf.IdentityExcludesAccusations = !seesIdentity(role, categoryAccusation)
	if opts.format != formatJSON {
		s.exportPetitions(c, lf, opts.format)
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
	body := gin.H{"cases": page.Cases, "next_cursor": page.NextCursor}
	if opts.count {
		n, capped, err := s.reg.Count(ctx, lf, register.CountCap)
		if err != nil {
			s.fail(c, err)
			return
		}
		body["count"], body["count_capped"] = n, capped
	}
	s.answer(c, http.StatusOK, body)
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
