// Package api is the staff HTTP API of the petition service. It validates what clerks and
// handlers send, reads the register (PostgreSQL) for lists and reports, and drives the case
// workflows through the contract in package workflows: it never depends on workflow internals.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// Register is the part of the register store the API uses. The store in internal/register
// satisfies it; tests pass fakes or nil.
type Register interface {
	Ping(ctx context.Context) error
	Register(ctx context.Context, c register.NewCase) (register.Case, bool, error)
	FindRepeat(ctx context.Context, petitioners []register.Petitioner, topic string) (register.Case, bool, error)
	CaseByIdempotencyKey(ctx context.Context, key string) (register.Case, error)
	AddRepeatSubmission(ctx context.Context, caseNo string, nc register.NewCase) error
	RepeatSubmissions(ctx context.Context, caseNo string) ([]register.RepeatSubmission, error)
	Get(ctx context.Context, caseNo string) (register.Case, error)
	Events(ctx context.Context, caseNo string) ([]workflows.Event, error)
	List(ctx context.Context, f register.ListFilter) (register.Page, error)
	Units(ctx context.Context) ([]register.Unit, error)
	Staff(ctx context.Context, id string) (register.Staff, error)
	Unit(ctx context.Context, code string) (register.Unit, error)
	RoutingRules(ctx context.Context) ([]register.RoutingRule, error)
	Route(ctx context.Context, category, topic string) (string, error)
	Stats(ctx context.Context, from, to time.Time, unit string) (register.Stats, error)
	MonthlyReport(ctx context.Context, month time.Time) ([]register.MonthlyRow, error)
	PutCalendarYear(ctx context.Context, y calendar.Year) error
	CalendarYear(ctx context.Context, year int) (calendar.Year, error)
	OpenCaseNumbers(ctx context.Context) ([]string, error)
}

// Config holds the server's dependencies.
type Config struct {
	Register Register
	Temporal client.Client
	// Policies by name; a registration picks one (default "default") and the workflow gets a
	// copy, so later edits never change a running case.
	Policies map[string]workflows.Policy
	Logger   *slog.Logger
	// Now is the clock; tests fix it.
	Now func() time.Time
}

// Timeouts on calls to other services. An update waits for the workflow to run its handler,
// which may include activities (recording the transition, computing deadlines), hence longer.
const (
	updateTimeout = 30 * time.Second
	queryTimeout  = 10 * time.Second
	signalTimeout = 10 * time.Second
	readyTimeout  = 2 * time.Second
	// maxBody bounds request bodies: registrations carry attachment metadata, never files.
	maxBody = 1 << 20
)

// shanghai is the civil time zone of dates in parameters and reports. Falls back to a fixed
// +08:00 zone where the tz database is missing (China has no daylight saving time).
var shanghai = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*60*60)
}()

// Server is the HTTP API.
type Server struct {
	reg      Register
	temporal client.Client
	policies map[string]workflows.Policy
	log      *slog.Logger
	now      func() time.Time
	engine   *gin.Engine
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	// Gin's debug mode prints every route on start; keep logs to our own structured lines
	// unless the operator asks for debug output explicitly.
	if os.Getenv(gin.EnvGinMode) == "" {
		gin.SetMode(gin.ReleaseMode)
	}
	s := &Server{
		reg:      cfg.Register,
		temporal: cfg.Temporal,
		policies: cfg.Policies,
		log:      cfg.Logger,
		now:      cfg.Now,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.engine = s.routes()
	return s
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

func (s *Server) routes() *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.Use(requestID(), s.logRequests(), s.recoverJSON(), limitBody(maxBody))
	e.NoRoute(func(c *gin.Context) { c.JSON(http.StatusNotFound, gin.H{"error": "no such route"}) })
	e.NoMethod(func(c *gin.Context) {
		c.JSON(http.StatusMethodNotAllowed, gin.H{"error": "method not allowed"})
	})

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/openapi.yaml", serveOpenAPI)

	v1 := e.Group("/api/v1")
	v1.POST("/petitions", s.createPetition)
	v1.GET("/petitions", s.listPetitions)
	v1.GET("/petitions/:no", s.getPetition)
	v1.GET("/petitions/:no/events", s.petitionEvents)
	v1.GET("/petitions/:no/deadlines", s.petitionDeadlines)
	v1.POST("/petitions/:no/:action", s.petitionAction)
	v1.GET("/units", s.listUnits)
	v1.GET("/routing-rules", s.listRoutingRules)
	v1.GET("/stats", s.stats)
	v1.GET("/reports/monthly.csv", s.monthlyReport)
	v1.PUT("/calendars/:year", s.putCalendar)
	v1.GET("/calendars/:year", s.getCalendar)
	return e
}

func (s *Server) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

// readyz checks both dependencies in parallel, so a hung database cannot hide a dead Temporal
// and the whole check stays within readyTimeout.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	regErr, tempErr := make(chan error, 1), make(chan error, 1)
	go func() {
		if s.reg == nil {
			regErr <- errNotConfigured
			return
		}
		regErr <- s.reg.Ping(ctx)
	}()
	go func() {
		if s.temporal == nil {
			tempErr <- errNotConfigured
			return
		}
		_, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
		tempErr <- err
	}()
	reasons := []string{}
	if err := <-regErr; err != nil {
		s.log.WarnContext(ctx, "readiness: register", "error", err)
		reasons = append(reasons, "register: "+readinessReason(err))
	}
	if err := <-tempErr; err != nil {
		s.log.WarnContext(ctx, "readiness: temporal", "error", err)
		reasons = append(reasons, "temporal: "+readinessReason(err))
	}
	if len(reasons) > 0 {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reasons": reasons})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}
