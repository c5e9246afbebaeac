// Package localpg runs a PostgreSQL server from the binaries installed on the machine (Debian's
// postgresql-15 package), for the development stack and the tests. Nothing is downloaded.
//
// As root, initdb refuses to run, so the server runs as the "postgres" OS user through runuser;
// as any other user it runs directly.
package localpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options configures a local server.
type Options struct {
	// DataDir holds the cluster; it is created with initdb when empty and kept between runs.
	DataDir string
	// Port to listen on (127.0.0.1 only); 0 picks a free port.
	Port int
	// Database to create if missing; default "petitions".
	Database string
	// Logger receives progress lines; default discards.
	Logger *slog.Logger
	// TakeOver stops a server left running on DataDir (e.g. by a dev stack that was killed)
	// instead of refusing to start. Only a caller that knows it owns the folder sets it.
	TakeOver bool
}

// Server is a local PostgreSQL. Start returns it running; Stop and Restart stop it and start
// it again on the same data folder and port, e.g. to inject an outage in a test.
type Server struct {
	opts   Options
	bin    string
	asUser string // OS user the server runs as; "" for the current user

	mu      sync.Mutex
	running bool
}

// Start initialises the cluster if needed, starts the server and creates the database.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.DataDir == "" {
		return nil, errors.New("localpg: DataDir is required")
	}
	if opts.Database == "" {
		opts.Database = "petitions"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, bin: bin}
	if os.Geteuid() == 0 {
		s.asUser = "postgres"
		if _, err := user.Lookup(s.asUser); err != nil {
			return nil, fmt.Errorf("localpg: running as root needs the %q OS user (it comes with Debian's postgresql packages): %w", s.asUser, err)
		}
	}
	abs, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, err
	}
	s.opts.DataDir = abs
	if err := s.initdb(ctx); err != nil {
		return nil, err
	}
	if pid, running := s.runningPID(); running {
		if !opts.TakeOver {
			return nil, fmt.Errorf("localpg: a PostgreSQL server (pid %d) already runs on %s; is another dev stack running? stop it first", pid, abs)
		}
		s.opts.Logger.Warn("stopping a PostgreSQL server left running on the data folder", "pid", pid, "dir", abs)
		if err := s.Stop(); err != nil {
			return nil, err
		}
	}
	if s.opts.Port == 0 {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		s.opts.Port = p
	} else if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.opts.Port))); err != nil {
		return nil, fmt.Errorf("localpg: port %d is taken (is another dev stack or PostgreSQL running?): %w", s.opts.Port, err)
	} else {
		l.Close()
	}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	s.running = true
	if err := s.createDatabase(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// Restart starts a stopped server again on the same data folder and port; its data is as the
// last Stop left it. Clients reconnect by themselves (a pool's connection from before the
// outage fails its next query once, with 57P01). Restarting a running server does nothing. It
// fails when the port has been taken meanwhile.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return nil
	}
	if pid, running := s.runningPID(); running {
		return fmt.Errorf("localpg: a PostgreSQL server (pid %d) already runs on %s", pid, s.opts.DataDir)
	}
	// The port was ours a moment ago; a client's lingering connection does not hold it, but
	// another program may have bound it.
	if err := waitPortFree(ctx, s.opts.Port, 10*time.Second); err != nil {
		return fmt.Errorf("localpg: port %d: %w", s.opts.Port, err)
	}
	if err := s.start(ctx); err != nil {
		return err
	}
	s.running = true
	return nil
}

// Running reports whether the server was started and not stopped since.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// URL is the connection string of the database.
func (s *Server) URL() string { return s.DatabaseURL(s.opts.Database) }

// DatabaseURL is the connection string of another database on the same server.
func (s *Server) DatabaseURL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.opts.Port, name)
}

// Port the server listens on.
func (s *Server) Port() int { return s.opts.Port }

// Stop shuts the server down (fast mode: open transactions roll back, data is kept); clients
// see their connections closed and new ones refused at once. Stopping a stopped server does
// nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		// Start's take-over stops a server it did not start: ask pg_ctl only when one runs.
		if _, running := s.runningPID(); !running {
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := s.run(ctx, "pg_ctl", "stop", "-D", s.opts.DataDir, "-m", "fast", "-w"); err != nil {
		return fmt.Errorf("localpg: stop: %w", err)
	}
	s.running = false
	return nil
}

// FindBinaries returns the folder holding initdb and pg_ctl: $PG_BIN, else the newest
// /usr/lib/postgresql/*/bin, else PATH.
func FindBinaries() (string, error) {
	if dir := os.Getenv("PG_BIN"); dir != "" {
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("localpg: PostgreSQL server binaries not found; install them (apt-get install postgresql) or set PG_BIN")
}

func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

func (s *Server) initdb(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(s.opts.DataDir, "PG_VERSION")); err == nil {
		return nil
	}
	s.opts.Logger.Info("initialising PostgreSQL cluster", "dir", s.opts.DataDir)
	if err := os.MkdirAll(s.opts.DataDir, 0o700); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	if err := s.chown(s.opts.DataDir); err != nil {
		return err
	}
	_, err := s.run(ctx, "initdb", "-D", s.opts.DataDir, "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
	if err != nil {
		return fmt.Errorf("localpg: initdb: %w", err)
	}
	return nil
}

func (s *Server) start(ctx context.Context) error {
	logFile := filepath.Join(s.opts.DataDir, "server.log")
	// The socket goes into the data folder: /var/run/postgresql may not exist or be writable.
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories='%s' -c fsync=on",
		s.opts.Port, s.opts.DataDir)
	s.opts.Logger.Info("starting PostgreSQL", "port", s.opts.Port, "dir", s.opts.DataDir)
	if _, err := s.run(ctx, "pg_ctl", "start", "-D", s.opts.DataDir, "-l", logFile, "-o", opts, "-w", "-t", "60"); err != nil {
		tail, _ := os.ReadFile(logFile)
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return fmt.Errorf("localpg: start: %w\n%s", err, tail)
	}
	return nil
}

func (s *Server) createDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.DatabaseURL("postgres"))
	if err != nil {
		return fmt.Errorf("localpg: connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", s.opts.Database).Scan(&exists); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{s.opts.Database}.Sanitize()); err != nil {
		return fmt.Errorf("localpg: create database: %w", err)
	}
	return nil
}

// runningPID reports a live postmaster owning the data folder.
func (s *Server) runningPID() (int, bool) {
	b, err := os.ReadFile(filepath.Join(s.opts.DataDir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil || pid <= 0 {
		return 0, false
	}
	// A stale pid file (after a crash or a reboot) may name a pid now used by another program:
	// only a live postgres process counts. pg_ctl start recovers from the stale file.
	cmd, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil || !strings.Contains(string(cmd), "postgres") {
		return 0, false
	}
	return pid, true
}

func (s *Server) run(ctx context.Context, tool string, args ...string) (string, error) {
	path := filepath.Join(s.bin, tool)
	var cmd *exec.Cmd
	if s.asUser != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", s.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	// The server must outlive neither a Ctrl-C nor the parent's process group by accident:
	// pg_ctl daemonises it, and we stop it explicitly.
	cmd.Dir = "/"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s: %w: %s", tool, err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// chown hands the data folder (and its parents up to the first existing one we created)
// to the server's OS user.
func (s *Server) chown(dir string) error {
	if s.asUser == "" {
		return nil
	}
	u, err := user.Lookup(s.asUser)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return fmt.Errorf("localpg: chown %s: %w", dir, err)
	}
	// The postgres user must be able to reach the folder: make parents traversable.
	for p := filepath.Dir(dir); p != "/" && p != "."; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			break
		}
		if fi.Mode().Perm()&0o001 == 0 {
			_ = os.Chmod(p, fi.Mode().Perm()|0o011)
		}
	}
	return nil
}

// waitPortFree waits until 127.0.0.1:port can be bound.
func waitPortFree(ctx context.Context, port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			return l.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still taken after %s: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("localpg: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
