package localpg_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

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
