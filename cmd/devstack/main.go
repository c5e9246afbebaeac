// Command devstack runs the whole petitions system on one machine for development: a local
// PostgreSQL, the in-process Temporal server with its Web UI, the worker and the API.
// `make run` starts it; `make run WORKER=false` (--worker=false) leaves the worker out, for
// separate `petitiond worker` processes (`make run-worker`). It is the only binary that links
// the Temporal server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/petitions/petitions/internal/config"
	"github.com/petitions/petitions/internal/devstack"
	"github.com/petitions/petitions/workflows"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("devstack", flag.ContinueOnError)
	fs.SetOutput(stdout)
	dir := fs.String("dir", ".dev", "folder keeping PostgreSQL's and Temporal's data between runs")
	pgPort := fs.Int("postgres-port", 55432, "port of the local PostgreSQL (ignored with DATABASE_URL)")
	tPort := fs.Int("temporal-port", 7233, "Temporal frontend port")
	uiPort := fs.Int("ui-port", 8233, "Temporal Web UI port")
	httpAddr := fs.String("http-addr", "127.0.0.1:8080", "HTTP API address")
	defAdmin := "127.0.0.1:9090"
	if v := getenv("PETITIONS_ADMIN_ADDR"); v != "" {
		defAdmin = v
	}
	adminAddr := fs.String("admin-addr", defAdmin, "admin listener: /metrics and /debug/pprof/, no sign-in (off: none)")
	noSeed := fs.Bool("no-seed", false, "do not load the demo district")
	withWorker := fs.Bool("worker", true, "run the worker in this process; false: start `petitiond worker` processes yourself (the banner says how)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The service's own settings (log level, policy file, webhook) come from the environment.
	cfg, _, err := config.Parse("devstack", nil, getenv, io.Discard)
	if err != nil {
		return err
	}
	logger := cfg.Logger(stdout)
	fmt.Fprintln(stdout, "starting the petitions dev stack (Ctrl-C stops it; data is kept in "+*dir+")")
	stack, err := devstack.Start(ctx, devstack.Options{
		Dir: *dir, DatabaseURL: getenv("DATABASE_URL"), PostgresPort: *pgPort,
		TemporalPort: *tPort, UIPort: *uiPort, HTTPAddr: *httpAddr, AdminAddr: adminOrOff(*adminAddr),
		Config: cfg, Logger: logger, Seed: !*noSeed, NoWorker: !*withWorker,
		// The screening round in seconds, unless the environment names a schedule or policy.
		DemoScreening: getenv("PETITIONS_SCREENING_SCHEDULE") == "" && getenv("PETITIONS_SCREENING_POLICY") == "",
	})
	if err != nil {
		return err
	}
	ui := stack.UIURL
	if ui == "" {
		ui = "(off)"
	}
	admin := "(off)"
	if a := stack.Service.AdminAddr(); a != "" {
		admin = "http://" + a + "/metrics   (and /debug/pprof/; no sign-in: local only)"
	}
	fmt.Fprintf(stdout, `
petitions dev stack is up (development mode: demo policy and development accounts):
  Staff console    http://%[1]s/   (sign in as clerk.li; petitioners: http://%[1]s/query)
  HTTP API         http://%[1]s/api/v1   (try: curl http://%[1]s/readyz)
  Temporal Web UI  %[2]s   (sign in as supervisor.zhao; only supervisors look)
  Temporal gRPC    %[3]s
  PostgreSQL       %[4]s
  Keys             %[5]s   (seal payloads and personal data; keep them with the data)
  Metrics          %[7]s

Sign in: every demo staff ID (internal/register/SEED.md: clerk.li, handler.construction,
supervisor.zhao, reviewer.district, admin.office, …) has the password %[6]s, e.g.
  curl -s -X POST http://%[1]s/api/v1/auth/sign-in -H 'Content-Type: application/json' \
       -d '{"staff_id":"clerk.li","password":"%[6]s"}'
and send the access_token as "Authorization: Bearer …". Production accounts never get it.

`, stack.Service.Addr(), ui, stack.Temporal.HostPort(), stack.DatabaseURL, stack.Config.KeyFile, devstack.DevPassword, admin)
	envFile, err := writeWorkerEnv(*dir, stack.WorkerEnv())
	if err != nil {
		stack.Stop()
		return err
	}
	makeArgs := ""
	if *dir != ".dev" {
		makeArgs = " DEV_DIR=" + shellQuote(*dir)
	}
	how := fmt.Sprintf("  make run-worker%s   (reads %s)\nor by hand:\n  %s go run ./cmd/petitiond worker",
		makeArgs, envFile, workerCommand(stack.WorkerEnv()))
	if *withWorker {
		fmt.Fprintf(stdout, "Worker: one runs in this process. More may join the task queue %q:\n%s\n\n", workflows.TaskQueue, how)
	} else {
		fmt.Fprintf(stdout, "Worker: none in this process (--worker=false); cases wait until a worker polls the task queue %q.\nStart one or more in other terminals:\n%s\n\n", workflows.TaskQueue, how)
	}
	err = stack.Wait(ctx)
	fmt.Fprintln(stdout, "stopping: API, worker and Temporal client, then the Temporal server, then PostgreSQL")
	stack.Stop()
	return err
}

// writeWorkerEnv writes the worker's environment, one shell assignment a line, to worker.env
// in the stack's folder (owner only, like the keys it names), for `make run-worker`.
func writeWorkerEnv(dir string, env []string) (string, error) {
	var b strings.Builder
	b.WriteString("# Written by the dev stack at each start: the environment of a `petitiond worker` for it.\n")
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if k == "PETITIONS_KEYS" {
			continue // key material stays in the environment it came from
		}
		b.WriteString(k + "=" + shellQuote(v) + "\n")
	}
	path := filepath.Join(dir, "worker.env")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return "", fmt.Errorf("worker environment: %w", err)
	}
	return path, nil
}

// workerCommand is the environment of a worker process as shell assignments; key material
// given in PETITIONS_KEYS is not printed.
func workerCommand(env []string) string {
	parts := make([]string, 0, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "LOG_LEVEL", "LOG_FORMAT", "TEMPORAL_NAMESPACE":
			if v == "info" || v == "text" || v == "default" {
				continue // the worker's defaults
			}
		case "PETITIONS_KEYS":
			parts = append(parts, `PETITIONS_KEYS="$PETITIONS_KEYS"`)
			continue
		}
		parts = append(parts, k+"="+shellQuote(v))
	}
	return strings.Join(parts, " ")
}

func shellQuote(v string) string {
	if v != "" && strings.IndexFunc(v, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@,+=", r))
	}) < 0 {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// adminOrOff maps the admin flag's "off" to "" (no admin listener).
func adminOrOff(v string) string {
	if v = strings.TrimSpace(v); strings.EqualFold(v, "off") {
		return ""
	}
	return v
}
