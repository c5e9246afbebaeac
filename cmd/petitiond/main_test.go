package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/petitions/petitions/internal/pgtest"
	"github.com/petitions/petitions/internal/sealing"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestUsageAndUnknownCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, env(nil), &out); err != nil || !strings.Contains(out.String(), "migrate") {
		t.Fatalf("help: %v\n%s", err, out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, env(nil), &out); err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Fatalf("unknown command: %v", err)
	}
	if err := run(context.Background(), nil, env(nil), &out); err == nil {
		t.Fatal("no command: want an error")
	}
	out.Reset()
	if err := run(context.Background(), []string{"api", "--help"}, env(nil), &out); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "DATABASE_URL") {
		t.Fatalf("api --help: %v\n%s", err, out.String())
	}
	if err := run(context.Background(), []string{"api", "--log-level", "loud"}, env(nil), &out); err == nil {
		t.Fatal("bad log level accepted")
	}
}

func TestPolicies(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"policies"}, env(nil), &out); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"default", "statute", "statute_workdays"} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("policy %s not listed:\n%s", name, out.String())
		}
	}
	// The seconds-scale demo policy exists only in development mode.
	if strings.Contains(out.String(), "demo") {
		t.Errorf("demo policy listed outside development mode:\n%s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"policies", "--dev=true"}, env(nil), &out); err != nil || !strings.Contains(out.String(), "demo") {
		t.Errorf("demo policy not listed in development mode (%v):\n%s", err, out.String())
	}
	if err := run(context.Background(), []string{"policies"}, env(map[string]string{"PETITIONS_POLICY_FILE": "/no/such/file.json"}), &out); err == nil {
		t.Error("missing policy file accepted")
	}
}

// migrate, seed and calendar show against a real database; migrate and seed twice.
func TestMigrateSeedCalendar(t *testing.T) {
	ctx := context.Background()
	e := env(map[string]string{"DATABASE_URL": pgtest.NewDatabase(t)})
	for range 2 {
		var out bytes.Buffer
		if err := run(ctx, []string{"migrate"}, e, &out); err != nil {
			t.Fatalf("migrate: %v\n%s", err, out.String())
		}
		if err := run(ctx, []string{"seed"}, e, &out); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"calendar", "show", "2026"}, e, &out); err != nil || !strings.Contains(out.String(), "2026-02-17") {
		t.Fatalf("calendar show: %v\n%s", err, out.String())
	}
	if err := run(ctx, []string{"calendar", "show", "1999"}, e, &out); err == nil {
		t.Fatal("calendar show of a missing year: want an error")
	}
	if err := run(ctx, []string{"calendar", "import"}, e, &out); err == nil {
		t.Fatal("calendar import without a file: want usage")
	}
	bad := env(map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"})
	if err := run(ctx, []string{"migrate"}, bad, &out); err == nil || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("unreachable database: %v", err)
	}
}

func TestKeysGenerateAndRotate(t *testing.T) {
	path := t.TempDir() + "/keys.json"
	var out bytes.Buffer
	if err := run(context.Background(), []string{"keys", "generate", path}, env(nil), &out); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v mode %v", err, fi.Mode())
	}
	if err := run(context.Background(), []string{"keys", "generate", path}, env(nil), &out); err == nil {
		t.Error("generate overwrote an existing key file")
	}
	if err := run(context.Background(), []string{"keys", "rotate", path, "k2"}, env(nil), &out); err != nil {
		t.Fatal(err)
	}
	k, err := sealing.LoadKeyring(path, "")
	if err != nil || k.ActiveID() != "k2" || len(k.IDs()) != 2 {
		t.Fatalf("after rotate: %v %v", err, k)
	}
}
