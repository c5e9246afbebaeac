package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is one child process of the cluster: a Temporal service, a petitiond worker or API. Its
// output (stdout and stderr) goes to a log file of its own, kept after it ends.
type Proc struct {
	Name    string
	LogPath string

	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}

	mu  sync.Mutex
	err error // from Wait, once done is closed
}

// startProc starts bin with args and env (appended to this process's environment; later
// entries win), its output appended to logPath.
func startProc(name, logPath string, env []string, bin string, args ...string) (*Proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	// A child must not outlive the test binary that started it (a panic or a timeout kills the
	// test without running its clean-up).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, LogPath: logPath, cmd: cmd, log: f, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process ID.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has ended.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Running reports whether the process has not ended yet.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Err is how the process ended (nil while it runs, or after a clean exit).
func (p *Proc) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Kill sends SIGKILL (no graceful stop: work in flight is lost with the process) and waits
// for the process to end. It fails if the process had ended already.
func (p *Proc) Kill() error {
	if !p.Running() {
		return fmt.Errorf("%s (pid %d) had ended already: %v", p.Name, p.Pid(), p.Err())
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill %s: %w", p.Name, err)
	}
	<-p.done
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		return fmt.Errorf("%s ended by %v, not by SIGKILL", p.Name, p.cmd.ProcessState)
	}
	return nil
}

// Stop asks the process to stop (SIGTERM) and waits up to timeout, then kills it. It reports
// how long the process took and whether it had to be killed.
func (p *Proc) Stop(timeout time.Duration) (took time.Duration, killed bool) {
	began := time.Now()
	if !p.Running() {
		return 0, false
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return time.Since(began), false
	case <-time.After(timeout):
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	return time.Since(began), true
}

// Output is the process's log so far.
func (p *Proc) Output() []byte {
	b, _ := os.ReadFile(p.LogPath)
	return b
}

// Tail is the last n lines of the log, long lines shortened.
func (p *Proc) Tail(n int) string { return LastLines(p.Output(), n) }

// waitLog waits until the log holds want, failing early when the process ends.
func (p *Proc) waitLog(ctx context.Context, want string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if bytes.Contains(p.Output(), []byte(want)) {
			return nil
		}
		if !p.Running() {
			return fmt.Errorf("%s ended (%v) before it logged %q:\n%s", p.Name, p.Err(), want, p.Tail(30))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s (pid %d) has not logged %q after %s:\n%s", p.Name, p.Pid(), want, timeout, p.Tail(30))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// LastLines is the last n lines of b, each cut at 400 bytes.
func LastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		if len(l) > 400 {
			lines[i] = l[:400] + "…"
		}
	}
	return strings.Join(lines, "\n")
}

// run runs a command to its end and returns its combined output.
func run(ctx context.Context, dir string, env []string, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) || ctx.Err() != nil {
			return out.String(), fmt.Errorf("%s %s: %w\n%s", bin, strings.Join(args, " "), err, LastLines(out.Bytes(), 40))
		}
		return out.String(), fmt.Errorf("%s: %w", bin, err)
	}
	return out.String(), nil
}
