// Command devstack runs the whole petitions system on one machine for development: a local
// PostgreSQL, the in-process Temporal server with its Web UI, the worker and the API.
// `make run` starts it. It is the only binary that links the Temporal server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/petitions/petitions/internal/config"
	"github.com/petitions/petitions/internal/devstack"
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
	noSeed := fs.Bool("no-seed", false, "do not load the demo district")
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
		TemporalPort: *tPort, UIPort: *uiPort, HTTPAddr: *httpAddr,
		Config: cfg, Logger: logger, Seed: !*noSeed,
	})
	if err != nil {
		return err
	}
	ui := stack.UIURL
	if ui == "" {
		ui = "(off)"
	}
	fmt.Fprintf(stdout, `
petitions dev stack is up (development mode: demo policy and development accounts):
  HTTP API         http://%[1]s   (try: curl http://%[1]s/readyz)
  Temporal Web UI  %[2]s   (sign in as supervisor.zhao; only supervisors look)
  Temporal gRPC    %[3]s
  PostgreSQL       %[4]s
  Keys             %[5]s   (seal payloads and personal data; keep them with the data)

Sign in: every demo staff ID (internal/register/SEED.md: clerk.li, handler.construction,
supervisor.zhao, reviewer.district, admin.office, …) has the password %[6]s, e.g.
  curl -s -X POST http://%[1]s/api/v1/auth/sign-in -H 'Content-Type: application/json' \
       -d '{"staff_id":"clerk.li","password":"%[6]s"}'
and send the access_token as "Authorization: Bearer …". Production accounts never get it.

`, stack.Service.Addr(), ui, stack.Temporal.HostPort(), stack.DatabaseURL, stack.Config.KeyFile, devstack.DevPassword)
	err = stack.Service.Wait(ctx)
	fmt.Fprintln(stdout, "stopping: API, worker and Temporal client, then the Temporal server, then PostgreSQL")
	stack.Stop()
	return err
}
