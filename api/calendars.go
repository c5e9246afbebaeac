package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// signalWorkers bounds concurrent signals in a calendar broadcast: enough to get through a
// few thousand open cases quickly without flooding the frontend service.
const signalWorkers = 8

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
	// The calendar is stored: finish telling the cases even if the client hangs up, or some
	// would keep deadlines computed on the old calendar until their next transition.
	signalled, failed, err := s.broadcastCalendarChange(context.WithoutCancel(ctx))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"year": y.Year, "signalled": signalled, "failed": failed})
}

// broadcastCalendarChange tells every open case that the calendar changed.
func (s *Server) broadcastCalendarChange(ctx context.Context) (signalled, failed int, err error) {
	if s.temporal == nil {
		return 0, 0, errNotConfigured
	}
	numbers, err := s.reg.OpenCaseNumbers(ctx)
	if err != nil {
		return 0, 0, err
	}
	signalled, failed = SignalCalendarChanged(ctx, s.temporal, numbers, s.log)
	return signalled, failed, nil
}

// SignalCalendarChanged signals SignalCalendarChanged to the given cases, a few at a time. A
// case whose workflow has just ended (NotFound) is skipped; other failures are logged and
// counted so the caller can repeat the import, which is harmless. The API's PUT and
// `petitiond calendar import` both broadcast through it.
func SignalCalendarChanged(ctx context.Context, c client.Client, numbers []string, log *slog.Logger) (signalled, failed int) {
	var ok, bad atomic.Int64
	work := make(chan string)
	var wg sync.WaitGroup
	for range min(signalWorkers, len(numbers)) {
		wg.Go(func() {
			for no := range work {
				sctx, cancel := context.WithTimeout(ctx, signalTimeout)
				err := c.SignalWorkflow(sctx, workflows.WorkflowID(no), "", workflows.SignalCalendarChanged, nil)
				cancel()
				var nf *serviceerror.NotFound
				switch {
				case err == nil:
					ok.Add(1)
				case errors.As(err, &nf):
				default:
					bad.Add(1)
					log.WarnContext(ctx, "calendar signal failed", "case_no", no, "error", err)
				}
			}
		})
	}
	for _, no := range numbers {
		work <- no
	}
	close(work)
	wg.Wait()
	return int(ok.Load()), int(bad.Load())
}

func (s *Server) getCalendar(c *gin.Context) {
	year, err := yearParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	y, err := s.reg.CalendarYear(c.Request.Context(), year)
	if errors.Is(err, register.ErrNotFound) {
		err = &notFoundError{what: "calendar year " + strconv.Itoa(year)}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, y)
}
