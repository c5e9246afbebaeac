package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

func yearParam(c *gin.Context) (int, error) {
	y, err := strconv.Atoi(c.Param("year"))
	if err != nil || y < 1900 || y > 2200 {
		return 0, fieldErrors{"year": "must be a year between 1900 and 2200"}
	}
	return y, nil
}

// calendarText checks what Validate does not: the lists' lengths (a year has at most 366
// days) and the free text stored as given, the notice cited and the days' names.
func calendarText(y calendar.Year) error {
	f := fieldErrors{}
	if msg := textProblem(y.Source, 500); msg != "" {
		f["source"] = msg
	}
	for field, days := range map[string][]calendar.Day{"holidays": y.Holidays, "workdays": y.Workdays} {
		if len(days) > 366 {
			f[field] = "a year has at most 366 days"
			continue
		}
		for i, d := range days {
			if msg := textProblem(d.Name, 100); msg != "" {
				f[field+"["+strconv.Itoa(i)+"].name"] = msg
			}
		}
	}
	if len(f) > 0 {
		return f
	}
	return nil
}

// putCalendar stores a year's holidays and make-up workdays and tells every open case, which
// recomputes its future deadlines. The State Council announces next year's arrangement each
// winter, after cases running into that year already have deadlines.
func (s *Server) putCalendar(c *gin.Context) {
	year, err := yearParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var y calendar.Year
	if err := decodeJSON(c, &y); err != nil {
		s.fail(c, err)
		return
	}
	switch y.Year {
	case 0:
		y.Year = year
	case year:
	default:
		s.fail(c, fieldErrors{"year": "the body's year " + strconv.Itoa(y.Year) + " differs from the path's " + strconv.Itoa(year)})
		return
	}
	if err := calendarText(y); err != nil {
		s.fail(c, err)
		return
	}
	if err := y.Validate(); err != nil {
		// Validate's messages name the offending dates; they are written for the clerk.
		s.fail(c, &badRequestError{err.Error()})
		return
	}
	ctx := c.Request.Context()
	if err := s.reg.PutCalendarYear(ctx, y); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.audit(c, "calendar.put", strconv.Itoa(y.Year), map[string]any{
		"holidays": len(y.Holidays), "workdays": len(y.Workdays), "source": y.Source}); err != nil {
		s.fail(c, err)
		return
	}
	// The calendar is stored; a durable job tells the open cases (it survives a crash of
	// this process). The answer waits a little, so a small office sees the job finished.
	if s.temporal == nil {
		s.fail(c, errNotConfigured)
		return
	}
	id, err := StartCalendarBroadcast(context.WithoutCancel(ctx), s.temporal, y.Year, s.now())
	if err != nil {
		s.fail(c, err)
		return
	}
	wctx, cancel := context.WithTimeout(ctx, broadcastWait)
	defer cancel()
	progress, done := WaitCalendarBroadcast(wctx, s.temporal, id)
	s.answer(c, http.StatusOK, gin.H{"year": y.Year, "broadcast": gin.H{
		"workflow_id": id, "done": done, "signalled": progress.Signalled, "ended": progress.Ended}})
}

// broadcastWait is how long PUT /calendars waits for the broadcast before answering with its
// progress so far.
const broadcastWait = 5 * time.Second

// StartCalendarBroadcast starts the durable job that tells every open case the holiday
// calendar changed (workflows.CalendarBroadcast) and returns its workflow ID. The API's PUT
// and `petitiond calendar import` both start it; each import gets its own job.
func StartCalendarBroadcast(ctx context.Context, c client.Client, year int, at time.Time) (string, error) {
	id := workflows.CalendarBroadcastID(year, at)
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            "holiday calendar " + strconv.Itoa(year) + " changed: telling every open case",
	}, workflows.CalendarBroadcastWorkflow, workflows.BroadcastInput{
		Reason: "holiday calendar " + strconv.Itoa(year) + " changed",
	})
	return id, err
}

// WaitCalendarBroadcast waits until the broadcast ends or ctx does, and returns its progress
// (from the result, or else from a query) and whether it is done.
func WaitCalendarBroadcast(ctx context.Context, c client.Client, id string) (workflows.BroadcastProgress, bool) {
	var p workflows.BroadcastProgress
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, &p); err == nil {
		return p, p.Done
	}
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if v, err := c.QueryWorkflow(qctx, id, "", workflows.QueryBroadcastProgress); err == nil {
		_ = v.Get(&p)
	}
	return p, p.Done
}

// getCalendar answers a stored year (its State Council notice, "provisional": false) or, for a
// year whose notice is not loaded, the provisional calendar the deadlines are counted on: the
// statutory holidays of 《全国年节及纪念日放假办法》 alone, "provisional": true, until the notice
// is imported (calendar.ProvisionalYear). A year before 2025 without a notice is not found.
func (s *Server) getCalendar(c *gin.Context) {
	year, err := yearParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	y, err := s.reg.CalendarYear(c.Request.Context(), year)
	if errors.Is(err, register.ErrNotFound) {
		if p, ok := calendar.ProvisionalYear(year); ok {
			s.answer(c, http.StatusOK, p)
			return
		}
		err = &notFoundError{what: "calendar year " + strconv.Itoa(year)}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answer(c, http.StatusOK, y)
}
