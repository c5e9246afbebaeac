// Package app wires the API and the worker to their dependencies and runs them until asked
// to stop. petitiond, the dev stack and the end-to-end tests all start the service this way.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/petitions/petitions/activities"
	"github.com/petitions/petitions/api"
	"github.com/petitions/petitions/internal/auth"
	"github.com/petitions/petitions/internal/config"
	"github.com/petitions/petitions/internal/console"
	"github.com/petitions/petitions/internal/metrics"
	"github.com/petitions/petitions/internal/notify"
	"github.com/petitions/petitions/internal/policy"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/sealing"
	"github.com/petitions/petitions/internal/warning"
	"github.com/petitions/petitions/worker"
	"github.com/petitions/petitions/workflows"
)

// Roles says which parts of the service this process runs.
type Roles struct {
	API    bool
	Worker bool
}

// Stack is a running service: the HTTP API and/or the worker with their connections.
type Stack struct {
	log      *slog.Logger
	pool     *pgxpool.Pool
	temporal client.Client
	worker   sdkworker.Worker
	http     *http.Server
	listener net.Listener
	errc     chan error
	// stopReconciler ends the worker's reconciler loop.
	stopReconciler context.CancelFunc
	// metrics is this service's registry (app and Temporal SDK metrics); admin serves it and
	// pprof on the admin listener (nil when PETITIONS_ADMIN_ADDR is off). One per process
	// role set: a process running API and worker has one listener for both.
	metrics *metrics.Metrics
	admin   *metrics.Admin
}

// Start connects to PostgreSQL and Temporal and starts what roles asks for. The HTTP listener
// is bound before Start returns, so the address is usable at once.
func Start(ctx context.Context, cfg config.Config, roles Roles, logger *slog.Logger) (*Stack, error) {
	s := &Stack{log: logger, errc: make(chan error, 2)}
	ok := false
	defer func() {
		if !ok {
			s.Stop()
		}
	}()
	policies, err := Policies(cfg)
	if err != nil {
		return nil, err
	}
	if s.metrics, err = metrics.New(logger.With("component", "metrics")); err != nil {
		return nil, err
	}
	if cfg.AdminAddr != "" {
		// Bound first: a taken port stops the process before it connects to anything.
		if s.admin, err = metrics.ListenAdmin(cfg.AdminAddr, s.metrics, logger, s.report); err != nil {
			return nil, err
		}
	}
	if s.pool, err = OpenPool(ctx, cfg); err != nil {
		return nil, err
	}
	if s.temporal, err = DialTemporal(cfg, logger, WithMetrics(s.metrics.TemporalHandler())); err != nil {
		return nil, err
	}
	keys, err := Keys(cfg)
	if err != nil {
		return nil, err
	}
	store := register.New(s.pool).WithSealer(sealing.NewFields(keys))
	// Rows written before personal data was sealed are sealed now (idempotent, cheap when
	// there is nothing to do).
	if n, err := store.SealPlaintext(ctx); err != nil {
		return nil, fmt.Errorf("seal personal data in the register: %w", err)
	} else if n > 0 {
		logger.Info("sealed personal data written before sealing existed", "rows", n)
	}
	// Open and overdue cases by unit and escalation level, read from the register on scrape.
	if err := s.metrics.WatchCases(openCaseCounts(store), metrics.CaseOptions{}); err != nil {
		return nil, err
	}
	if roles.Worker {
		if err := checkSearchAttributes(ctx, s.temporal, cfg.TemporalNamespace, logger); err != nil {
			return nil, err
		}
		var n notify.Notifier = notify.Log{Logger: logger.With("component", "notifier")}
		if cfg.NotifyWebhookURL != "" {
			n = notify.Webhook{URL: cfg.NotifyWebhookURL}
		}
		if cfg.WorkerCacheSize > 0 {
			// Process-wide in the SDK: the cache of cases whose state a worker keeps between
			// workflow tasks (a miss replays the history).
			sdkworker.SetStickyWorkflowCacheSize(cfg.WorkerCacheSize)
		}
		acts := activities.New(store, n)
		if acts.WarningRules, err = warning.Load(cfg.WarningRulesFile); err != nil {
			return nil, err
		}
		acts.Temporal = s.temporal
		acts.Metrics = s.metrics
		s.worker = worker.New(s.temporal, acts, worker.Options{
			MaxConcurrentActivities: cfg.WorkerConcurrency,
			WorkflowPollers:         cfg.WorkerWorkflowPollers,
			ActivityPollers:         cfg.WorkerActivityPollers,
			WorkflowTaskSlots:       cfg.WorkerWorkflowSlots,
			StickyScheduleToStart:   cfg.WorkerStickyTimeout,
			// A worker that died must take the process down, not leave an API whose every
			// action times out.
			OnFatalError: func(err error) { s.report(fmt.Errorf("worker stopped: %w", err)) },
		})
		if err := s.worker.Start(); err != nil {
			return nil, fmt.Errorf("start worker on %s (task queue %s): %w", cfg.TemporalAddress, workflows.TaskQueue, err)
		}
		logger.Info("worker started", "task_queue", workflows.TaskQueue, "temporal", cfg.TemporalAddress)
		// The schedule that opens the monthly dispute screening round (worker/schedule.go).
		spol, err := policy.Screening(cfg.ScreeningPolicy)
		if err != nil {
			return nil, fmt.Errorf("screening-policy: %w", err)
		}
		sctx, scancel := context.WithTimeout(ctx, 15*time.Second)
		if err := worker.EnsureScreeningSchedule(sctx, s.temporal, cfg.ScreeningSchedule, spol, logger.With("component", "screening")); err != nil {
			logger.Error("the monthly screening schedule is not in place; the next worker start tries again", "error", err)
		}
		scancel()
		// No registered case stays without its workflow (one worker process sweeps at a time).
		rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		rec := &worker.Reconciler{Store: store, Temporal: s.temporal, Policies: policies, Log: logger.With("component", "reconciler")}
		done := make(chan struct{})
		s.stopReconciler = func() { cancel(); <-done }
		go func() { defer close(done); rec.Run(rctx) }()
	}
	if roles.API {
		signIn := auth.New(s.pool, auth.Config{})
		var sso *auth.OIDC
		if cfg.OIDCIssuer != "" {
			sso, err = auth.NewOIDC(ctx, auth.OIDCConfig{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID,
				ClientSecret: cfg.OIDCClientSecret, RedirectURL: cfg.OIDCRedirectURL, StaffClaim: cfg.OIDCStaffClaim})
			if err != nil {
				return nil, fmt.Errorf("single sign-on (%s): %w", cfg.OIDCIssuer, err)
			}
		}
		srv := api.New(api.Config{
			Register: store, Temporal: s.temporal, Policies: policies, Logger: logger,
			Auth: signIn, Accounts: signIn, OIDC: sso, DevMode: cfg.DevMode, SecureCookies: cfg.SecureCookies,
			Codec: sealing.NewCodec(keys), CodecOrigins: cfg.CodecCORSOrigins, Namespace: cfg.TemporalNamespace,
			SelfServicePerClient: rateLimit(cfg.SelfServicePerClient),
			SelfServicePerCase:   rateLimit(cfg.SelfServicePerCase),
			OfficeZone:           cfg.OfficeZone,
			Metrics:              s.metrics,
		})
		s.listener, err = net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return nil, fmt.Errorf("HTTP API cannot listen on %s (is another instance running?): %w", cfg.HTTPAddr, err)
		}
		// The staff console shares the listener: /api/… is the API, everything else the console,
		// which calls the API in-process as the signed-in reader.
		con, err := console.New(console.Config{API: srv.Handler(), Office: cfg.OfficeName, Zone: cfg.OfficeZone,
			TemporalUI: cfg.TemporalUIURL, Namespace: cfg.TemporalNamespace, SingleSignOn: sso != nil,
			Logger: logger.With("component", "console")})
		if err != nil {
			return nil, err
		}
		httpServer, listener := &http.Server{Handler: console.Mount(srv.Handler(), con), ReadHeaderTimeout: 10 * time.Second}, s.listener
		s.http = httpServer
		// The goroutine keeps its own references: Stop clears the fields, possibly before it runs.
		go func() {
			if err := httpServer.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.report(fmt.Errorf("HTTP API: %w", err))
			}
		}()
		logger.Info("HTTP API listening", "addr", "http://"+s.listener.Addr().String())
	}
	ok = true
	return s, nil
}

// report hands a component's failure to Wait; the first failures are enough to stop on.
func (s *Stack) report(err error) {
	select {
	case s.errc <- err:
	default:
	}
}

// Addr is the HTTP API's address ("" without the API role).
func (s *Stack) Addr() string {
	if s.listener == nil {
		return ""
	}
	return s.listener.Addr().String()
}

// AdminAddr is the admin listener's address, serving /metrics and /debug/pprof/ ("" when
// PETITIONS_ADMIN_ADDR is off).
func (s *Stack) AdminAddr() string { return s.admin.Addr() }

// Metrics is the stack's registry of app and Temporal SDK metrics.
func (s *Stack) Metrics() *metrics.Metrics { return s.metrics }

// Temporal is the stack's Temporal client.
func (s *Stack) Temporal() client.Client { return s.temporal }

// Pool is the stack's PostgreSQL pool.
func (s *Stack) Pool() *pgxpool.Pool { return s.pool }

// Wait blocks until ctx ends (nil) or a component fails (its error).
func (s *Stack) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-s.errc:
		return err
	}
}

// Stop shuts down in dependency order: first the HTTP API (its requests in flight may wait
// for workflow tasks this process's worker runs), then the worker, then the connections.
func (s *Stack) Stop() {
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		if err := s.http.Shutdown(ctx); err != nil {
			s.log.Warn("HTTP shutdown", "error", err)
		}
		cancel()
		s.http = nil
	}
	if s.stopReconciler != nil {
		s.stopReconciler()
		s.stopReconciler = nil
	}
	if s.worker != nil {
		s.worker.Stop()
		s.worker = nil
	}
	if s.temporal != nil {
		s.temporal.Close()
		s.temporal = nil
	}
	if s.pool != nil {
		s.pool.Close()
		s.pool = nil
	}
	if s.admin != nil {
		s.admin.Close()
		s.admin = nil
	}
	if s.metrics != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.metrics.Close(ctx); err != nil {
			s.log.Warn("metrics shutdown", "error", err)
		}
		cancel()
		s.metrics = nil
	}
}

// openCaseCounts adapts the register's open-case counts to the metrics' collector.
func openCaseCounts(store *register.Store) metrics.CaseCountsFunc {
	return func(ctx context.Context) ([]metrics.CaseCount, error) {
		rows, err := store.OpenCaseCounts(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]metrics.CaseCount, len(rows))
		for i, r := range rows {
			out[i] = metrics.CaseCount{Unit: r.Unit, Level: r.EscalationLevel, Open: r.Open, Overdue: r.Overdue}
		}
		return out, nil
	}
}

// Policies are the built-in deadline policies, or those of the configured policy file. The
// seconds-scale demo policy exists only in development mode.
func Policies(cfg config.Config) (map[string]workflows.Policy, error) {
	p := policy.Builtin()
	if cfg.PolicyFile != "" {
		var err error
		if p, err = policy.Load(cfg.PolicyFile); err != nil {
			return nil, fmt.Errorf("policy file %s: %w", cfg.PolicyFile, err)
		}
	}
	if !cfg.DevMode {
		delete(p, DemoPolicy)
	}
	return p, nil
}

// DemoPolicy is the seconds-scale policy of the walkthrough; development mode only.
const DemoPolicy = "demo"

// Keys loads the office's keys (PETITIONS_KEY_FILE or PETITIONS_KEYS): every Temporal client
// and worker seals payloads with them, and the register seals identity numbers and phones.
func Keys(cfg config.Config) (*sealing.Keyring, error) {
	k, err := sealing.LoadKeyring(cfg.KeyFile, cfg.Keys)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return k, nil
}

// OpenPool connects to the register and checks the connection.
func OpenPool(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach PostgreSQL (DATABASE_URL): %w", err)
	}
	return pool, nil
}

// DialOption adjusts the Temporal client's options.
type DialOption func(*client.Options)

// WithMetrics reports the client's and its workers' SDK metrics (workflow and activity task
// latencies, pollers, task slots, the sticky cache, requests) to h: Start gives the handler of
// its registry (internal/metrics), which the admin listener serves at /metrics.
func WithMetrics(h client.MetricsHandler) DialOption {
	return func(o *client.Options) { o.MetricsHandler = h }
}

// DialTemporal returns a lazy client: the API starts (and /readyz says why) even while
// Temporal is still coming up.
func DialTemporal(cfg config.Config, logger *slog.Logger, opts ...DialOption) (client.Client, error) {
	tlsConf, err := cfg.TLS()
	if err != nil {
		return nil, err
	}
	keys, err := Keys(cfg)
	if err != nil {
		return nil, err
	}
	// Payloads (inputs, results, update arguments, memo, summaries) and failure messages are
	// sealed before they leave the process: the Temporal database never holds personal data
	// or petition content in plain text.
	o := client.Options{
		HostPort:          cfg.TemporalAddress,
		Namespace:         cfg.TemporalNamespace,
		ConnectionOptions: client.ConnectionOptions{TLS: tlsConf},
		Logger:            sdklog.NewStructuredLogger(logger.With("component", "temporal-sdk")),
		DataConverter:     sealing.DataConverter(keys),
		FailureConverter:  sealing.FailureConverter(keys),
	}
	for _, opt := range opts {
		opt(&o)
	}
	return client.NewLazyClient(o)
}

func rateLimit(r config.Rate) api.RateLimit {
	if r.N < 1 {
		return api.RateLimit{}
	}
	return api.RateLimit{Every: r.Per / time.Duration(r.N), Burst: r.N}
}

// checkSearchAttributes refuses to run a worker on a namespace that lacks one of the cases'
// search attributes: the first case to set it would fail its workflow tasks until someone
// registers it. A cluster that does not let this client list them is trusted, with a warning.
func checkSearchAttributes(ctx context.Context, c client.Client, namespace string, logger *slog.Logger) error {
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	have, err := c.OperatorService().ListSearchAttributes(lctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		logger.Warn("cannot list the namespace's search attributes; make sure every Petition* attribute is registered (README)", "error", err)
		return nil
	}
	var missing []string
	for _, k := range workflows.SearchAttributeKeys {
		if _, ok := have.GetCustomAttributes()[k.GetName()]; !ok {
			missing = append(missing, fmt.Sprintf("--name %s --type %s", k.GetName(), k.GetValueType()))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("namespace %s lacks search attributes the cases set; register them once: temporal operator search-attribute create --namespace %s %s",
			namespace, namespace, strings.Join(missing, " "))
	}
	return nil
}
