package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/petitions/petitions/internal/auth"
)

// Petitiond runs `petitiond` commands and processes against the cluster, configured through
// the environment as an operator would (the settings of internal/config).
type Petitiond struct {
	// Env is every process's configuration: DATABASE_URL, TEMPORAL_ADDRESS, keys, policies, ….
	Env []string
	// LogDir receives one log file per process.
	LogDir string
}

// Run runs a command of bin (migrate, seed, keys generate, …) to its end.
func (p Petitiond) Run(ctx context.Context, bin string, args ...string) (string, error) {
	return run(ctx, p.LogDir, p.Env, bin, args...)
}

// StartWorker starts `petitiond worker` from bin and waits until the worker polls (it logs
// "worker started" once its pollers run).
func (p Petitiond) StartWorker(ctx context.Context, name, bin string) (*Proc, error) {
	env, err := p.procEnv()
	if err != nil {
		return nil, err
	}
	w, err := startProc(name, filepath.Join(p.LogDir, name+".log"), env, bin, "worker")
	if err != nil {
		return nil, err
	}
	if err := w.waitLog(ctx, "worker started", time.Minute); err != nil {
		w.Stop(5 * time.Second)
		return nil, err
	}
	return w, nil
}

// StartAPI starts `petitiond api` from bin listening on addr and waits until /readyz answers 200
// (PostgreSQL and Temporal reachable).
func (p Petitiond) StartAPI(ctx context.Context, name, bin, addr string) (*Proc, error) {
	env, err := p.procEnv()
	if err != nil {
		return nil, err
	}
	a, err := startProc(name, filepath.Join(p.LogDir, name+".log"), append(env, "HTTP_ADDR="+addr), bin, "api")
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(time.Minute)
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := hc.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return a, nil
			}
		}
		if !a.Running() || time.Now().After(deadline) || ctx.Err() != nil {
			a.Stop(5 * time.Second)
			return nil, fmt.Errorf("%s at %s is not ready (%v, running %t):\n%s", name, addr, err, a.Running(), a.Tail(30))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// procEnv is a long-running process's environment: the cluster's, and an admin address
// (metrics, pprof) of its own, since several processes share the machine.
func (p Petitiond) procEnv() ([]string, error) {
	admin, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	return append(p.Env[:len(p.Env):len(p.Env)], "PETITIONS_ADMIN_ADDR="+admin), nil
}

// SetPasswords gives every enabled staff member without a password the password, as the dev
// stack does for its demo accounts (one hash for all: hashing is deliberately slow).
// Production accounts get theirs from `petitiond staff passwd`.
func SetPasswords(ctx context.Context, databaseURL, password string) (int64, error) {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return 0, err
	}
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	tag, err := conn.Exec(ctx, `UPDATE staff SET password_hash = $1, password_changed_at = now()
		WHERE password_hash = '' AND NOT disabled`, hash)
	if err != nil {
		return 0, fmt.Errorf("staff passwords: %w", err)
	}
	return tag.RowsAffected(), nil
}

// FreeAddr is 127.0.0.1 with a free port.
func FreeAddr() (string, error) {
	p, err := FreePort()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), nil
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
