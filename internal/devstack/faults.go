package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"

	"github.com/petitions/petitions/internal/app"
)

// The fault controls stop one part of a running stack and start it again as it was: same
// ports, same data. The other parts are not told; they must ride the outage out by themselves
// (pgxpool and the Temporal SDK reconnect on their own), which is what the fault tests check.

// errExternalPostgres: the stack did not start the PostgreSQL it uses, so it cannot stop it.
var errExternalPostgres = errors.New("devstack: PostgreSQL was given by DatabaseURL, not started by the stack")

// StopPostgres stops the stack's PostgreSQL (fast shutdown: open transactions roll back, data
// is kept). The API answers 503 while it is down; activities retry. Stopping it twice does
// nothing.
func (s *Stack) StopPostgres() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Postgres == nil {
		return errExternalPostgres
	}
	return s.Postgres.Stop()
}

// StartPostgres starts the stack's PostgreSQL again on the same data folder and port.
func (s *Stack) StartPostgres(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Postgres == nil {
		return errExternalPostgres
	}
	return s.Postgres.Restart(ctx)
}

// StopTemporal stops the embedded Temporal server and its Web UI. Timers due meanwhile fire
// when it is back; the API's and the workers' clients keep their configuration and reconnect
// by themselves (the SDK backs off up to 10 s between attempts).
func (s *Stack) StopTemporal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Temporal != nil {
		s.Temporal.Stop()
	}
}

// StartTemporal starts the embedded Temporal server again on the same port and database file.
// A stack without Dir keeps Temporal in memory, which has nothing to come back to: refused.
func (s *Stack) StartTemporal(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Temporal == nil {
		return errors.New("devstack: the stack is stopped")
	}
	return s.Temporal.Restart(ctx)
}

// WorkerRunning reports whether a worker runs in this process (beside the API or apart).
func (s *Stack) WorkerRunning() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.workerInService || s.worker != nil
}

// StopWorker stops this process's worker, gracefully (the SDK lets running activities finish
// within its stop timeout); to kill a worker without warning, run it as a `petitiond worker`
// process (WorkerEnv) and send it SIGKILL. When the worker runs beside the API in Service,
// Service is restarted as the API alone on the same address: requests in flight at that
// moment are finished first, new connections are refused for the moment it takes.
func (s *Stack) StopWorker() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.worker != nil {
		s.worker.Stop()
		s.worker = nil
	}
	if !s.workerInService || s.Service == nil {
		return nil
	}
	cfg := s.Config
	cfg.HTTPAddr = s.Service.Addr()
	if cfg.AdminAddr != "" {
		cfg.AdminAddr = s.Service.AdminAddr() // the same admin port as before
	}
	s.Service.Stop()
	s.Service = nil
	s.workerInService = false
	svc, err := app.Start(context.Background(), cfg, app.Roles{API: true}, s.log)
	if err != nil {
		return fmt.Errorf("devstack: restart the API without its worker: %w", err)
	}
	s.Service = svc
	return nil
}

// StartWorker starts a worker in this process, apart from the API, if none runs here.
func (s *Stack) StartWorker(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.workerInService || s.worker != nil {
		return nil
	}
	// A second service in this process: its admin listener, if any, on a port of its own.
	cfg := s.Config
	cfg.AdminAddr = freePortOf(cfg.AdminAddr)
	w, err := app.Start(ctx, cfg, app.Roles{Worker: true}, s.log)
	if err != nil {
		return fmt.Errorf("devstack: start a worker: %w", err)
	}
	s.worker = w
	return nil
}

// Wait blocks until ctx ends (nil) or a part of the service this process runs fails: the API,
// the worker beside it, or a worker started apart before Wait was called.
func (s *Stack) Wait(ctx context.Context) error {
	s.mu.Lock()
	var parts []*app.Stack
	for _, p := range []*app.Stack{s.Service, s.worker} {
		if p != nil {
			parts = append(parts, p)
		}
	}
	s.mu.Unlock()
	if len(parts) == 0 {
		<-ctx.Done()
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(parts))
	for _, p := range parts {
		go func() { errc <- p.Wait(ctx) }()
	}
	return <-errc
}

// WorkerEnv is the environment of a `petitiond worker` process serving this stack's task queue:
// the register's URL, the Temporal address and namespace, the keys (payloads are sealed with
// them: a worker without them cannot read a case), development mode, and the policy file and
// notifier if set. Paths are absolute, so the worker may run from any folder. PETITIONS_KEYS,
// when the stack was given the keys themselves, carries secret key material: do not print it.
// The worker's admin listener (metrics, pprof) takes a free port on the stack's admin host
// (its log says which), or is off when the stack's is: several workers never contend.
func (s *Stack) WorkerEnv() []string {
	cfg := s.Config
	env := []string{
		"DATABASE_URL=" + s.DatabaseURL,
		"TEMPORAL_ADDRESS=" + cfg.TemporalAddress,
		"TEMPORAL_NAMESPACE=" + cfg.TemporalNamespace,
		"PETITIONS_DEV_MODE=true",
	}
	if a := freePortOf(cfg.AdminAddr); a != "" {
		env = append(env, "PETITIONS_ADMIN_ADDR="+a)
	} else {
		env = append(env, "PETITIONS_ADMIN_ADDR=off")
	}
	if cfg.KeyFile != "" {
		env = append(env, "PETITIONS_KEY_FILE="+absPath(cfg.KeyFile))
	} else if cfg.Keys != "" {
		env = append(env, "PETITIONS_KEYS="+cfg.Keys)
	}
	if cfg.PolicyFile != "" {
		env = append(env, "PETITIONS_POLICY_FILE="+absPath(cfg.PolicyFile))
	}
	if cfg.NotifyWebhookURL != "" {
		env = append(env, "NOTIFY_WEBHOOK_URL="+cfg.NotifyWebhookURL)
	}
	// The same screening schedule and policy, so a joining worker keeps the stack's schedule.
	if cfg.ScreeningSchedule != "" {
		env = append(env, "PETITIONS_SCREENING_SCHEDULE="+cfg.ScreeningSchedule)
	}
	if cfg.ScreeningPolicy != "" {
		env = append(env, "PETITIONS_SCREENING_POLICY="+cfg.ScreeningPolicy)
	}
	if cfg.WorkerConcurrency > 0 {
		env = append(env, fmt.Sprintf("WORKER_CONCURRENCY=%d", cfg.WorkerConcurrency))
	}
	if cfg.LogLevel != "" {
		env = append(env, "LOG_LEVEL="+cfg.LogLevel)
	}
	if cfg.LogFormat != "" {
		env = append(env, "LOG_FORMAT="+cfg.LogFormat)
	}
	return env
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// freePortOf is addr's host with port 0 (a free port when bound), or "" for "" (off).
func freePortOf(addr string) string {
	if addr == "" {
		return ""
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, "0")
}
