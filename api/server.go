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

	"go.temporal.io/sdk/converter"

	"github.com/petitions/petitions/internal/auth"
	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/internal/metrics"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/sealing"
	"github.com/petitions/petitions/workflows"
)

// Register is the part of the register store the API uses. The store in internal/register
// satisfies it; tests pass fakes or nil.
type Register interface {
	Ping(ctx context.Context) error
	Register(ctx context.Context, c register.NewCase) (register.Case, bool, error)
	FindRepeat(ctx context.Context, petitioners []register.Petitioner, category, topic string) (register.Case, bool, error)
	CaseByIdempotencyKey(ctx context.Context, key string) (register.Case, error)
	AddRepeatSubmission(ctx context.Context, caseNo string, nc register.NewCase) error
	RepeatSubmissions(ctx context.Context, caseNo string) ([]register.RepeatSubmission, error)
	// Warnings are a case's early warnings (预警) and the level it was lodged at.
	Warnings(ctx context.Context, caseNo string) (register.CaseWarnings, error)
	Get(ctx context.Context, caseNo string) (register.Case, error)
	Events(ctx context.Context, caseNo string) ([]workflows.Event, error)
	List(ctx context.Context, f register.ListFilter) (register.Page, error)
	Count(ctx context.Context, f register.ListFilter, limit int) (int, bool, error)
	Export(ctx context.Context, f register.ListFilter, max int) ([]register.Case, bool, error)
	PetitionerCases(ctx context.Context, q register.PetitionerQuery) ([]register.Case, error)
	StaffDirectory(ctx context.Context, unit, role string) ([]register.Staff, error)
	// IsPetitionOffice: a unit with clerks or supervisors, whose leaders see every case.
	IsPetitionOffice(ctx context.Context, unit string) (bool, error)
	Units(ctx context.Context) ([]register.Unit, error)
	Staff(ctx context.Context, id string) (register.Staff, error)
	Unit(ctx context.Context, code string) (register.Unit, error)
	RoutingRules(ctx context.Context) ([]register.RoutingRule, error)
	RoutingRule(ctx context.Context, id int64) (register.RoutingRule, error)
	Route(ctx context.Context, category, topic string) (string, error)
	Stats(ctx context.Context, from, to time.Time, unit string) (register.Stats, error)
	MonthlyReport(ctx context.Context, month time.Time) ([]register.MonthlyRow, error)
	PutCalendarYear(ctx context.Context, y calendar.Year) error
	CalendarYear(ctx context.Context, year int) (calendar.Year, error)
	OpenCaseNumbers(ctx context.Context) ([]string, error)
	GetByQueryCode(ctx context.Context, caseNo, code string) (register.Case, error)

	// Administration and its records (admin.go).
	ReissueQueryCodeAudited(ctx context.Context, caseNo, by string) (string, error)
	RecordPersonalDataRead(ctx context.Context, staffID, caseNo, purpose string) error
	PersonalDataReads(ctx context.Context, caseNo, staffID string, before int64, limit int) ([]register.PersonalDataRead, error)
	Audit(ctx context.Context, actorID, action, target string, details map[string]any) error
	AuditLog(ctx context.Context, before int64, limit int) ([]register.AuditEntry, error)
	CreateUnit(ctx context.Context, u register.Unit, by string) error
	UpdateUnit(ctx context.Context, u register.Unit, by string) error
	CreateRoutingRule(ctx context.Context, r register.RoutingRule, by string) (register.RoutingRule, error)
	UpdateRoutingRule(ctx context.Context, r register.RoutingRule, by string) error
	PolicySettings(ctx context.Context) ([]register.PolicySetting, error)
	PolicyAllowed(ctx context.Context, name string) (bool, error)
	SetPolicyAllowed(ctx context.Context, name string, allowed bool, by string) error
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

	// Auth signs staff in and checks every request's token; Accounts manages staff and API
	// tokens for the admin (both internal/auth.Service).
	Auth     Authenticator
	Accounts Accounts
	// OIDC enables single sign-on through the office's identity provider (nil: off).
	OIDC *auth.OIDC
	// DevMode: a development stack. Policies the office's allow-list does not mention are
	// usable only in development mode.
	DevMode bool
	// SecureCookies marks browser session cookies Secure (served over TLS).
	SecureCookies bool
	// Codec is the payload codec the codec server at /codec uses (nil: no codec server);
	// CodecOrigins are the Web UI origins allowed to call it from a browser.
	Codec        converter.PayloadCodec
	CodecOrigins []string
	// Namespace is the Temporal namespace the codec server serves.
	Namespace string
	// SelfServicePerClient / SelfServicePerCase bound the petitioner's public endpoints:
	// Burst requests at once, then one per Every (zero: 20 a minute per client address, 10 a
	// minute per case).
	SelfServicePerClient, SelfServicePerCase RateLimit
	// OfficeZone is the zone every instant in an answer is written in (nil: the legal
	// calendar's, Asia/Shanghai). Dates in parameters and reports stay civil dates of the
	// legal calendar whatever it is.
	OfficeZone *time.Location
	// Metrics counts registrations and actions and times requests (nil: none); they are
	// served on the admin listener, never on the API's port.
	Metrics *metrics.Metrics
}

// RateLimit is Burst requests at once, then one per Every.
type RateLimit struct {
	Every time.Duration
	Burst int
}

func (r RateLimit) or(def RateLimit) RateLimit {
	if r.Burst < 1 || r.Every <= 0 {
		return def
	}
	return r
}

// Timeouts on calls to other services. An update waits for the workflow to run its handler,
// which may include activities (recording the transition, computing deadlines), hence longer;
// it stays well under the 30 s a reverse proxy or a clerk's browser commonly waits, so the API
// answers (504 with what to do) before anyone in front of it gives up. A read queries the
// live state briefly and otherwise answers from the register at once.
const (
	updateTimeout = 20 * time.Second
	queryTimeout  = 2 * time.Second
	signalTimeout = 10 * time.Second
	// describeTimeout bounds the look at a workflow that did not answer (workflowTrouble).
	describeTimeout = time.Second
	readyTimeout    = 2 * time.Second
	// maxBody bounds request bodies: registrations carry attachment metadata, never files.
	maxBody = 1 << 20
)

// shanghai is the civil time zone of dates in parameters and reports: the legal calendar's,
// where days begin and end (internal/calendar embeds the zone data).
var shanghai = calendar.Location()

// Server is the HTTP API.
type Server struct {
	reg      Register
	temporal client.Client
	policies map[string]workflows.Policy
	log      *slog.Logger
	now      func() time.Time
	engine   *gin.Engine
	// zone: instants in answers (OfficeZone). updateWait and queryWait bound the workflow
	// calls (updateTimeout, queryTimeout); tests shorten them.
	zone        *time.Location
	updateWait  time.Duration
	queryWait   time.Duration
	healthEvery time.Duration // how often a waiting update checks the workflow service

	auth           Authenticator
	accounts       Accounts
	oidc           *auth.OIDC
	devMode        bool
	secureCookies  bool
	codec          http.Handler
	loginLimit     *rateLimiter // sign-in attempts per client address and staff ID
	loginLimitAddr *rateLimiter // sign-in attempts per client address
	publicClient   *rateLimiter // self-service requests per client address
	publicCase     *rateLimiter // self-service requests per case
	metrics        *metrics.Metrics
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	// Gin's debug mode prints every route on start; keep logs to our own structured lines
	// unless the operator asks for debug output explicitly.
	if os.Getenv(gin.EnvGinMode) == "" {
		gin.SetMode(gin.ReleaseMode)
	}
	s := &Server{
		reg:         cfg.Register,
		temporal:    cfg.Temporal,
		policies:    cfg.Policies,
		log:         cfg.Logger,
		now:         cfg.Now,
		zone:        cfg.OfficeZone,
		updateWait:  updateTimeout,
		queryWait:   queryTimeout,
		healthEvery: healthEvery,

		auth:           cfg.Auth,
		accounts:       cfg.Accounts,
		oidc:           cfg.OIDC,
		devMode:        cfg.DevMode,
		secureCookies:  cfg.SecureCookies,
		metrics:        cfg.Metrics,
		loginLimit:     newRateLimiter("signing in to this account from this address", 6*time.Second, 10),
		loginLimitAddr: newRateLimiter("signing in from this address", time.Second, 60),
	}
	pc := cfg.SelfServicePerClient.or(RateLimit{Every: 3 * time.Second, Burst: 20})
	pk := cfg.SelfServicePerCase.or(RateLimit{Every: 6 * time.Second, Burst: 10})
	s.publicClient = newRateLimiter("from this address", pc.Every, pc.Burst)
	s.publicCase = newRateLimiter("for this case", pk.Every, pk.Burst)
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.zone == nil {
		s.zone = defaultZone()
	}
	// Every call to PostgreSQL has its deadline (backends.go).
	if s.reg != nil {
		s.reg = timedRegister{r: s.reg}
	}
	if s.auth != nil {
		s.auth = timedAuth{a: s.auth}
	}
	if s.accounts != nil {
		s.accounts = timedAccounts{acc: s.accounts}
	}
	if cfg.Codec != nil {
		ns := []string{}
		if cfg.Namespace != "" {
			ns = append(ns, cfg.Namespace)
		}
		s.codec = sealing.CodecHandler(cfg.Codec, sealing.CodecServerOptions{
			Authorize: s.authorizeCodec, AllowedOrigins: cfg.CodecOrigins, Namespaces: ns,
		})
	}
	s.engine = s.routes()
	return s
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

func (s *Server) routes() *gin.Engine {
	e := gin.New()
	// The client address (rate limits, logs) is the TCP peer's: X-Forwarded-For is trusted from
	// no one, or a client could pick a new address per request and escape its limits.
	_ = e.SetTrustedProxies(nil)
	e.HandleMethodNotAllowed = true
	e.Use(requestID(), s.logRequests(), s.observe(), s.recoverJSON(), limitBody(maxBody))
	e.NoRoute(func(c *gin.Context) { s.answer(c, http.StatusNotFound, gin.H{"error": "no such route"}) })
	e.NoMethod(func(c *gin.Context) {
		s.answer(c, http.StatusMethodNotAllowed, gin.H{"error": "method not allowed"})
	})

	// Public: probes, the API description, signing in, the petitioner's self-service and the
	// schedule of leader reception days.
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/openapi.yaml", serveOpenAPI)
	v1 := e.Group("/api/v1")
	v1.POST("/auth/sign-in", s.signIn)
	v1.POST("/auth/refresh", s.refresh)
	v1.GET("/auth/oidc/login", s.oidcLogin)
	v1.GET("/auth/oidc/callback", s.oidcCallback)
	pub := v1.Group("/public/petitions/:no")
	pub.GET("", s.publicCaseView)
	pub.POST("/:action", s.publicAction)
	// The published schedule of leader reception days (领导接访日, reception.go).
	v1.GET("/public/reception-days", s.publicReceptionDays)
	if s.codec != nil {
		// The codec server authenticates itself (bearer or cookie, supervisors only) and
		// answers CORS preflights, which carry no credentials.
		codec := gin.WrapH(http.StripPrefix("/codec", s.codec))
		for _, op := range []string{"/codec/encode", "/codec/decode"} {
			e.POST(op, codec)
			e.OPTIONS(op, codec)
		}
	}

	// Everything else: signed in, and allowed by the table in authz.go.
	a := v1.Group("", s.authenticate())
	a.POST("/auth/sign-out", s.signOut)
	a.GET("/auth/me", s.me)

	a.POST("/petitions", s.require(permRegister), s.createPetition)
	a.POST("/petitions/import", s.require(permImport), s.importPetitions)
	a.GET("/petitions", s.require(permReadCases), s.listPetitions)
	a.GET("/petitions/:no", s.require(permReadCases), s.getPetition)
	a.GET("/petitions/:no/events", s.require(permReadCases), s.petitionEvents)
	a.GET("/petitions/:no/deadlines", s.require(permReadCases), s.petitionDeadlines)
	a.POST("/petitions/:no/query-code", s.require(permReissueCode), s.reissueQueryCode)
	a.POST("/petitions/:no/:action", s.require(permAct), s.petitionAction)
	a.GET("/stats", s.require(permStats), s.stats)
	a.GET("/reports/monthly", s.require(permStats), s.monthlyReportJSON)
	a.GET("/reports/monthly.csv", s.require(permStats), s.monthlyReport)
	a.GET("/reports/monthly.xlsx", s.require(permStats), s.monthlyReportXLSX)
	// The registration form asks whether the person has petitioned before (clerks only).
	a.GET("/petitioners/lookup", s.require(permRegister), s.lookupPetitioner)
	// Monthly dispute screening (screening.go).
	a.GET("/screening/rounds", s.require(permScreeningRead), s.listScreeningRounds)
	a.GET("/screening/rounds/:month", s.require(permScreeningRead), s.getScreeningRound)
	a.GET("/screening/rounds/:month/ledger.csv", s.require(permScreeningRead), s.screeningLedger(formatCSV))
	a.GET("/screening/rounds/:month/ledger.xlsx", s.require(permScreeningRead), s.screeningLedger(formatXLSX))
	a.POST("/screening/rounds/:month/reports", s.require(permScreeningFile), s.fileScreeningReport)
	a.POST("/screening/disputes/:id/case", s.require(permScreeningCase), s.disputeCase)
	// Leader reception days and appointments (reception.go); the schedule is public too.
	a.GET("/reception-days", s.require(permReceptionRead), s.listReceptionDays)
	a.POST("/reception-days", s.require(permReceptionManage), s.createReceptionDay)
	a.POST("/reception-days/:id/cancel", s.require(permReceptionManage), s.cancelReceptionDay)
	a.GET("/reception-days/:id/appointments", s.require(permReceptionRecord), s.listAppointments)
	a.POST("/reception-days/:id/appointments", s.require(permReceptionManage), s.bookAppointment)
	a.POST("/appointments/:id/receive", s.require(permReceptionReceive), s.receiveAppointment)
	a.POST("/appointments/:id/no-show", s.require(permReceptionReceive), s.noShowAppointment)
	a.GET("/reception-record", s.require(permReceptionRecord), s.receptionRecord)

	a.GET("/units", s.require(permDirectory), s.listUnits)
	a.GET("/routing-rules", s.require(permDirectory), s.listRoutingRules)
	a.GET("/routing/suggestion", s.require(permDirectory), s.routingSuggestion)
	a.GET("/staff", s.require(permDirectory), s.staffDirectory)
	a.GET("/calendars/:year", s.require(permDirectory), s.getCalendar)
	a.GET("/policies", s.require(permDirectory), s.listPolicies)

	ad := a.Group("", s.require(permAdminister))
	ad.PUT("/calendars/:year", s.putCalendar)
	ad.POST("/units", s.createUnit)
	ad.PUT("/units/:code", s.updateUnit)
	ad.POST("/routing-rules", s.createRoutingRule)
	ad.PUT("/routing-rules/:id", s.updateRoutingRule)
	ad.PUT("/policies/:name", s.setPolicy)
	ad.GET("/admin/staff", s.listStaff)
	ad.POST("/admin/staff", s.addStaff)
	ad.PATCH("/admin/staff/:id", s.updateStaff)
	ad.PUT("/admin/staff/:id/password", s.setStaffPassword)
	ad.GET("/admin/tokens", s.listTokens)
	ad.POST("/admin/tokens", s.createToken)
	ad.DELETE("/admin/tokens/:id", s.revokeToken)
	ad.GET("/admin/audit", s.auditLog)
	ad.GET("/admin/personal-data-reads", s.personalDataReads)
	return e
}

func (s *Server) healthz(c *gin.Context) { s.answer(c, http.StatusOK, gin.H{"status": "ok"}) }

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
		s.answer(c, http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reasons": reasons})
		return
	}
	s.answer(c, http.StatusOK, gin.H{"status": "ok"})
}
