package localpg_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/petitions/petitions/internal/localpg"
)

// A stopped cluster comes back with its data, and a second server on the same folder is refused.
func TestStartStopKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "pg")
	s, err := localpg.Start(ctx, localpg.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	exec(t, s.URL(), "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")
	if _, err := localpg.Start(ctx, localpg.Options{DataDir: dir}); err == nil {
		t.Fatal("second server on the same data folder started")
	}
	// The owner of the folder takes over a server left running there (its process died).
	s, err = localpg.Start(ctx, localpg.Options{DataDir: dir, TakeOver: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	s, err = localpg.Start(ctx, localpg.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	conn, err := pgx.Connect(ctx, s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v int
	if err := conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != 42 {
		t.Fatalf("v = %d, err = %v", v, err)
	}
}

func exec(t *testing.T, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}

// A server stopped and started again through the same Server keeps its port and data, and a
// pool opened before the outage works again afterwards by itself.
func TestStopStartSameServer(t *testing.T) {
	ctx := context.Background()
	s, err := localpg.Start(ctx, localpg.Options{DataDir: filepath.Join(t.TempDir(), "pg")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	exec(t, s.URL(), "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)")
	port := s.Port()
	pool, err := pgxpool.New(ctx, s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("stopping a stopped server: %v", err)
	}
	if s.Running() {
		t.Fatal("Running after Stop")
	}
	if _, err := pgx.Connect(ctx, s.URL()); err == nil {
		t.Fatal("connected to a stopped server")
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatalf("restarting a running server: %v", err)
	}
	if s.Port() != port || !s.Running() {
		t.Fatalf("port %d after restart, want %d; running %t", s.Port(), port, s.Running())
	}
	// The pool's connections died with the server: a stale one may fail its next query once
	// (57P01, admin shutdown), then the pool opens new ones by itself.
	var v int
	for range 3 {
		if err = pool.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err == nil {
			break
		}
	}
	if err != nil || v != 7 {
		t.Fatalf("v = %d, err = %v", v, err)
	}
}
