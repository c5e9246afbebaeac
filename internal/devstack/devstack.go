// Package devstack starts the whole system on one machine with embedded defaults: a local
// PostgreSQL, the in-process Temporal server with its Web UI, migrations, the demo district,
// the worker and the API. `make run` and the end-to-end tests use it.
//
// The stack can run without its own worker (Options.NoWorker), for `petitiond worker`
// processes started with WorkerEnv; and its parts can be stopped and started again one by one
// (StopPostgres/StartPostgres, StopTemporal/StartTemporal, StopWorker/StartWorker), so tests
// can inject the faults a production office meets.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/petitions/petitions/internal/app"
	"github.com/petitions/petitions/internal/auth"
	"github.com/petitions/petitions/internal/config"
	"github.com/petitions/petitions/internal/devtemporal"
	"github.com/petitions/petitions/internal/localpg"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/sealing"
	"github.com/petitions/petitions/internal/uigate"
	"github.com/petitions/petitions/workflows"
)

// Options configures the dev stack. Port 0 picks a free port (used by tests).
type Options struct {
	// Dir keeps PostgreSQL's cluster and Temporal's database between runs; empty keeps
	// everything in a throwaway state (Temporal in memory, PostgreSQL in TempDir).
	Dir string
	// TempDir is where a throwaway PostgreSQL lives when Dir is empty.
	TempDir string
	// DatabaseURL uses an existing PostgreSQL instead of starting one.
	DatabaseURL  string
	PostgresPort int
	TemporalPort int
	UIPort       int // 0 disables the UI
	HTTPAddr     string
	// AdminAddr is where the service's admin listener serves /metrics and /debug/pprof/
	// ("" turns it off, as in tests that do not ask for it; port 0 picks a free port). It
	// replaces Config.AdminAddr, so stacks started side by side never contend for a port.
	AdminAddr string
	// Config carries the rest of the service settings (log level, policies, webhook).
	Config config.Config
	Logger *slog.Logger
	// Seed loads the demo district.
	Seed bool
	// TemporalDynamicConfig overrides settings of the embedded Temporal server (tests).
	TemporalDynamicConfig map[string]any
	// NoWorker starts the API without a worker in this process: cases wait until a worker
	// polls the task queue, e.g. `petitiond worker` processes started with WorkerEnv.
	NoWorker bool
	// DemoScreening: the monthly dispute screening round's schedule fires at once and every
	// minute (a round per month still opens once) under the seconds-scale demo policy, so a
	// round opens, reminds, turns overdue and escalates within two minutes (`make run`).
	DemoScreening bool
}

// Demo screening settings (Options.DemoScreening).
const (
	DemoScreeningSchedule = "every 1m"
	DemoScreeningPolicy   = "demo"
)

// Stack is a running dev stack.
type Stack struct {
	Postgres *localpg.Server // nil when DatabaseURL was given
	Temporal *devtemporal.Server
	// UIURL is where browsers open the Web UI: the sign-in gate in front of it ("" without UI).
	UIURL       string
	uiGate      *http.Server
	uiPool      *pgxpool.Pool
	Service     *app.Stack
	DatabaseURL string
	// Config is the service configuration the stack runs with (keys, dev mode, addresses).
	Config config.Config
	lock   *os.File
	log    *slog.Logger

	// mu serialises the fault controls (Stop…/Start… of the parts) and Stop.
	mu sync.Mutex
	// workerInService: Service runs the in-process worker beside the API (the default).
	workerInService bool
	// worker is an in-process worker started apart from the API by StartWorker.
	worker *app.Stack
}

// SearchAttributes are the contract's search attributes, for registration on the server.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	m := map[string]enumspb.IndexedValueType{}
	for _, k := range workflows.SearchAttributeKeys {
		m[k.GetName()] = k.GetValueType()
	}
	return m
}

// Start brings the stack up in order: PostgreSQL, Temporal, migrations, seed, service.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Stack{log: o.Logger}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	pgDir := filepath.Join(o.TempDir, "pg")
	tdb := ""
	if o.Dir != "" {
		// The folder holds the register, the Temporal database and the keys: owner only.
		if err := os.MkdirAll(o.Dir, 0o700); err != nil {
			return nil, err
		}
		if s.lock, err = lockDir(o.Dir); err != nil {
			return nil, err
		}
		// Others may keep traversing it (PostgreSQL runs as its own OS user under root), never
		// list or change it.
		if fi, err := os.Stat(o.Dir); err != nil {
			return nil, err
		} else if err := os.Chmod(o.Dir, fi.Mode().Perm()&^0o066); err != nil {
			return nil, err
		}
		pgDir = filepath.Join(o.Dir, "pg")
		tdb = filepath.Join(o.Dir, "temporal.db")
	}
	s.DatabaseURL = o.DatabaseURL
	if s.DatabaseURL == "" {
		o.Logger.Info("starting PostgreSQL", "dir", pgDir)
		// With a kept folder we hold its lock, so a server still running there was left by a
		// dev stack that died: take it over.
		s.Postgres, err = localpg.Start(ctx, localpg.Options{DataDir: pgDir, Port: o.PostgresPort, Logger: o.Logger,
			TakeOver: s.lock != nil})
		if err != nil {
			return nil, err
		}
		s.DatabaseURL = s.Postgres.URL()
	}
	// The Web UI server listens on an internal port; browsers reach it through the sign-in
	// gate on the public UI port, which also serves the codec server at /codec.
	var uiInternal int
	if o.UIPort != 0 {
		if !PortFree(o.UIPort) {
			return nil, fmt.Errorf("temporal UI port %d is taken (is another dev stack running?)", o.UIPort)
		}
		if uiInternal, err = devtemporal.FreePort("127.0.0.1"); err != nil {
			return nil, err
		}
		s.UIURL = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(o.UIPort))
	}
	o.Logger.Info("starting Temporal dev server", "database", tdb)
	s.Temporal, err = devtemporal.Start(ctx, devtemporal.Options{
		FrontendPort: o.TemporalPort, UIPort: uiInternal, DatabaseFile: tdb,
		UIPublicURL: s.UIURL, UICodecEndpoint: codecEndpoint(s.UIURL),
		SearchAttributes: SearchAttributes(), Logger: o.Logger, LogLevel: slog.LevelError,
		DynamicConfig: o.TemporalDynamicConfig,
	})
	if err != nil {
		return nil, err
	}
	cfg := o.Config
	cfg.DevMode = true
	if o.DemoScreening {
		cfg.ScreeningSchedule, cfg.ScreeningPolicy = DemoScreeningSchedule, DemoScreeningPolicy
	}
	if cfg.KeyFile == "" && cfg.Keys == "" {
		keyDir := o.Dir
		if keyDir == "" {
			keyDir = o.TempDir
		}
		if cfg.KeyFile, err = devKeys(keyDir); err != nil {
			return nil, err
		}
	}
	cfg.DatabaseURL = s.DatabaseURL
	cfg.TemporalAddress = s.Temporal.HostPort()
	cfg.TemporalNamespace = "default"
	cfg.HTTPAddr = o.HTTPAddr
	if cfg.TemporalUIURL == "" {
		cfg.TemporalUIURL = s.UIURL
	}
	cfg.AdminAddr = o.AdminAddr
	pool, err := app.OpenPool(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	if err := app.Migrate(ctx, pool, logWriter{o.Logger}); err != nil {
		return nil, err
	}
	if o.Seed {
		if err := register.New(pool).SeedDemo(ctx); err != nil {
			return nil, fmt.Errorf("seed demo district: %w", err)
		}
		if err := devAccounts(ctx, pool); err != nil {
			return nil, fmt.Errorf("development accounts: %w", err)
		}
	}
	s.Config = cfg
	s.Service, err = app.Start(ctx, cfg, app.Roles{API: true, Worker: !o.NoWorker}, o.Logger)
	if err != nil {
		return nil, err
	}
	s.workerInService = !o.NoWorker
	if o.UIPort != 0 {
		if err := s.startUIGate(cfg, o.UIPort, o.Logger); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func codecEndpoint(uiURL string) string {
	if uiURL == "" {
		return ""
	}
	return uiURL + "/codec"
}

// uiSessionTTL: a supervisor watching cases signs in once for the working day.
const uiSessionTTL = 10 * time.Hour

// startUIGate puts the sign-in gate in front of the Web UI: supervisors only, no write
// actions, and the codec server that decodes sealed payloads for them.
func (s *Stack) startUIGate(cfg config.Config, port int, log *slog.Logger) error {
	keys, err := app.Keys(cfg)
	if err != nil {
		return err
	}
	upstream, err := url.Parse(s.Temporal.UIAddress())
	if err != nil {
		return err
	}
	pool, err := app.OpenPool(context.Background(), cfg)
	if err != nil {
		return err
	}
	s.uiPool = pool
	codec := sealing.CodecHandler(sealing.NewCodec(keys), sealing.CodecServerOptions{
		Namespaces: []string{cfg.TemporalNamespace},
		// The gate has admitted only supervisors; check again, the codec is the door to the data.
		Authorize: func(r *http.Request) error {
			if _, role, ok := uigate.Staff(r.Context()); ok && role == string(workflows.RoleSupervisor) {
				return nil
			}
			return sealing.ErrForbidden
		},
	})
	gate, err := uigate.New(uigate.Options{
		Upstream: upstream,
		Auth:     uiSignIn{auth.New(pool, auth.Config{AccessTTL: uiSessionTTL})},
		Roles:    []string{string(workflows.RoleSupervisor)},
		Codec:    codec,
		Secure:   cfg.SecureCookies,
		Logger:   log.With("component", "ui-gate"),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("temporal UI port %d: %w", port, err)
	}
	// No write timeout: the UI long-polls.
	s.uiGate = &http.Server{Handler: gate, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.uiGate.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("Web UI gate stopped", "error", err)
		}
	}()
	return nil
}

// uiSignIn is the sign-in service as the gate sees it.
type uiSignIn struct{ svc *auth.Service }

func (u uiSignIn) SignIn(ctx context.Context, staffID, password string) (string, time.Time, error) {
	t, err := u.svc.SignIn(ctx, staffID, password)
	if err != nil {
		return "", time.Time{}, err
	}
	return t.AccessToken, t.AccessExpiresAt, nil
}

func (u uiSignIn) Authenticate(ctx context.Context, token string) (string, string, error) {
	p, err := u.svc.Authenticate(ctx, token)
	return p.StaffID, p.Role, err
}

func (u uiSignIn) SignOut(ctx context.Context, token string) error {
	p, err := u.svc.Authenticate(ctx, token)
	if err != nil {
		return nil // already invalid
	}
	return u.svc.SignOut(ctx, p)
}

// Stop shuts down in reverse order: API and worker, then Temporal, then PostgreSQL.
func (s *Stack) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.uiGate != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.uiGate.Shutdown(ctx)
		cancel()
		s.uiGate = nil
	}
	if s.uiPool != nil {
		s.uiPool.Close()
		s.uiPool = nil
	}
	if s.Service != nil {
		s.Service.Stop()
		s.Service = nil
	}
	if s.worker != nil {
		s.worker.Stop()
		s.worker = nil
	}
	if s.Temporal != nil {
		s.Temporal.Stop()
		s.Temporal = nil
	}
	if s.Postgres != nil {
		if err := s.Postgres.Stop(); err != nil {
			s.log.Error("stop PostgreSQL", "error", err)
		}
		s.Postgres = nil
	}
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}

// lockDir makes sure one dev stack at a time uses a folder, failing fast with the other's pid.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "devstack.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(f.Name())
		f.Close()
		return nil, fmt.Errorf("another dev stack is already running on %s (pid %s); stop it with Ctrl-C first",
			dir, strings.TrimSpace(string(b)))
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

// PortFree reports whether 127.0.0.1:port can be bound.
func PortFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

type logWriter struct{ l *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.Info(strings.TrimSpace(string(p)))
	return len(p), nil
}

// DevPassword is the password of every demo account in the development stack. Accounts get it
// only here (development mode); production seeds directory entries without passwords.
const DevPassword = "petitions-dev"

// devAccounts gives every staff member without a password the development password. One
// hash serves them all (hashing is deliberately slow: sixty accounts would take half a minute).
func devAccounts(ctx context.Context, pool *pgxpool.Pool) error {
	hash, err := auth.HashPassword(DevPassword)
	if err != nil {
		return err
	}
	_, err = pool.Exec(ctx, `UPDATE staff SET password_hash = $1, password_changed_at = now()
		WHERE password_hash = '' AND NOT disabled`, hash)
	return err
}

// devKeys returns the development stack's key file in dir, making it (0600) on first use.
// Production keys are made once with `petitiond keys generate` and kept in a secret store.
func devKeys(dir string) (string, error) {
	path := filepath.Join(dir, "keys.json")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	k, err := sealing.GenerateKeyring("dev1")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := k.WriteFile(path); err != nil {
		return "", fmt.Errorf("write development keys: %w", err)
	}
	return path, nil
}
