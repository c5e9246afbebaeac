package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// AdminHandler serves what operators and Prometheus read from a process: /metrics and the
// runtime profiles of net/http/pprof under /debug/pprof/. It has no sign-in, so it is only
// ever served on the admin listener (an internal address), never on the API's port.
func AdminHandler(m *Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index) // also serves the named profiles (heap, goroutine, …)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "petitiond admin listener (internal only)\n  /metrics        Prometheus metrics\n  /debug/pprof/   runtime profiles\n")
	})
	return mux
}

// Admin is a running admin listener.
type Admin struct {
	srv *http.Server
	ln  net.Listener
}

// ListenAdmin binds addr (port 0: a free port) and serves AdminHandler(m) on it until Close.
// Binding fails at once, so a process configured for a taken port does not start.
func ListenAdmin(addr string, m *Metrics, logger *slog.Logger, failed func(error)) (*Admin, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin listener (metrics, pprof) cannot listen on %s (PETITIONS_ADMIN_ADDR; off disables it): %w", addr, err)
	}
	a := &Admin{ln: ln, srv: &http.Server{
		Handler:           AdminHandler(m),
		ReadHeaderTimeout: 10 * time.Second,
		// No write timeout: a CPU profile or an execution trace takes as long as asked.
	}}
	srv := a.srv
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && failed != nil {
			failed(fmt.Errorf("admin listener: %w", err))
		}
	}()
	if logger != nil {
		logger.Info("admin listener (metrics, pprof) listening", "addr", "http://"+ln.Addr().String())
	}
	return a, nil
}

// Addr is the bound address (host:port).
func (a *Admin) Addr() string {
	if a == nil {
		return ""
	}
	return a.ln.Addr().String()
}

// Close stops the listener; a scrape or profile in flight gets a few seconds to finish.
func (a *Admin) Close() {
	if a == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := a.srv.Shutdown(ctx); err != nil {
		_ = a.srv.Close()
	}
}
