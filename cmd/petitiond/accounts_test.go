package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/petitions/petitions/internal/auth"
	"github.com/petitions/petitions/internal/pgtest"
)

// withStdin makes the commands read s as standard input.
func withStdin(t *testing.T, s string) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(s)
	t.Cleanup(func() { stdin = old })
}

func TestStaffAndTokenCommands(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	e := env(map[string]string{"DATABASE_URL": url, "USER": "ops"})
	runOK := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, args, e, &out); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	runErr := func(want string, args ...string) {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, args, e, &out); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want one saying %q", strings.Join(args, " "), err, want)
		}
	}
	runOK("migrate")
	runOK("seed")
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	svc := auth.New(pool, auth.Config{})

	// staff add, with and without a password.
	withStdin(t, "一个足够长的口令 and more\n")
	if out := runOK("staff", "add", "--id", "clerk.zhang", "--name", "张伟", "--role", "clerk", "--unit", "petition_office",
		"--phone", "13800000099", "--password-stdin"); !strings.Contains(out, "added clerk.zhang (clerk in petition_office) with a password") {
		t.Errorf("staff add: %q", out)
	}
	if _, err := svc.SignIn(ctx, "clerk.zhang", "一个足够长的口令 and more"); err != nil {
		t.Errorf("sign in with the password from stdin: %v", err)
	}
	if out := runOK("staff", "add", "--id", "admin.sun", "--name", "孙", "--role", "admin", "--unit", "district"); !strings.Contains(out, "no password yet") {
		t.Errorf("staff add without password: %q", out)
	}
	runErr("already exists", "staff", "add", "--id", "clerk.zhang", "--name", "x", "--role", "clerk", "--unit", "petition_office")
	runErr("role", "staff", "add", "--id", "x.y", "--name", "x", "--role", "boss", "--unit", "petition_office")
	runErr("no unit", "staff", "add", "--id", "x.y", "--name", "x", "--role", "clerk", "--unit", "atlantis")
	runErr("no arguments", "staff", "add", "stray", "--id", "x.y")

	// staff passwd reads stdin, and only stdin.
	withStdin(t, "the new password of li\r\n")
	if out := runOK("staff", "passwd", "clerk.li"); !strings.Contains(out, "password of clerk.li set") {
		t.Errorf("staff passwd: %q", out)
	}
	if _, err := svc.SignIn(ctx, "clerk.li", "the new password of li"); err != nil {
		t.Errorf("sign in after staff passwd: %v", err)
	}
	withStdin(t, "")
	runErr("no password", "staff", "passwd", "clerk.li")
	withStdin(t, "short\n")
	runErr("at least 12", "staff", "passwd", "clerk.li")
	withStdin(t, "long enough password\n")
	runErr("not found", "staff", "passwd", "nobody")
	runErr("usage", "staff", "passwd")
	runErr("usage", "staff", "passwd", "clerk.li", "the-password-as-an-argument")

	// disable, enable; flags may follow the ID.
	if out := runOK("staff", "disable", "clerk.zhang", "--log-level", "warn"); !strings.Contains(out, "clerk.zhang disabled") {
		t.Errorf("staff disable: %q", out)
	}
	list := runOK("staff", "list")
	if !regexp.MustCompile(`(?m)^clerk\.zhang +clerk +petition_office +yes +yes +- +张伟$`).MatchString(list) ||
		!regexp.MustCompile(`(?m)^admin\.sun +admin +district +no +no +- +孙$`).MatchString(list) ||
		!strings.HasPrefix(list, "ID ") || strings.Contains(list, "13800000099") {
		t.Errorf("staff list:\n%s", list)
	}
	if out := runOK("staff", "enable", "clerk.zhang"); !strings.Contains(out, "clerk.zhang enabled") {
		t.Errorf("staff enable: %q", out)
	}
	runErr("not found", "staff", "enable", "nobody")

	// token create shows the secret once.
	out := runOK("token", "create", "--staff", "clerk.li", "--name", "12345 hotline feed", "--ttl", "720h")
	secret := regexp.MustCompile(`(?m)^pt_[A-Za-z0-9_-]{43}$`).FindString(out)
	id := regexp.MustCompile(`tok_[0-9a-f]{12}`).FindString(out)
	if secret == "" || id == "" || !strings.Contains(out, "cannot be shown again") {
		t.Fatalf("token create:\n%s", out)
	}
	if p, err := svc.Authenticate(ctx, secret); err != nil || p.StaffID != "clerk.li" || p.Via != auth.ViaAPIToken {
		t.Errorf("authenticate with the created token: %+v, %v", p, err)
	}
	runErr("role", "token", "create", "--staff", "clerk.li", "--name", "x", "--role", "supervisor")
	runErr("--staff", "token", "create", "--name", "x")
	runErr("at most", "token", "create", "--staff", "clerk.li", "--name", "x", "--ttl", "20000h")

	tokens := runOK("token", "list")
	if !regexp.MustCompile(`(?m)^`+id+` +api +clerk\.li +clerk +api_token .* - +12345 hotline feed$`).MatchString(tokens) ||
		strings.Contains(tokens, "pt_") || !strings.Contains(tokens, " session ") {
		t.Errorf("token list:\n%s", tokens)
	}
	// clerk.zhang's session ended when the account was disabled.
	if tokens := runOK("token", "list", "--staff", "clerk.zhang"); strings.Count(tokens, "\n") != 1 {
		t.Errorf("token list --staff clerk.zhang:\n%s", tokens)
	}
	if out := runOK("token", "revoke", id); !strings.Contains(out, "token "+id+" revoked") {
		t.Errorf("token revoke: %q", out)
	}
	if _, err := svc.Authenticate(ctx, secret); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("revoked token still authenticates: %v", err)
	}
	runErr("not found", "token", "revoke", "tok_000000000000")

	// Every change is in the audit, by the operating-system user.
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM admin_audit WHERE actor_id = 'cli:ops'
		AND action IN ('staff.add', 'staff.passwd', 'staff.disable', 'staff.enable', 'token.create', 'token.revoke')`).Scan(&n); err != nil || n != 7 {
		t.Errorf("%d audit rows (%v), want 7", n, err)
	}
	var details string
	if err := pool.QueryRow(ctx, "SELECT details::text FROM admin_audit WHERE action = 'staff.add' AND target = 'clerk.zhang'").Scan(&details); err != nil ||
		strings.Contains(details, "张伟") || strings.Contains(details, "138") {
		t.Errorf("audit details carry personal data: %s, %v", details, err)
	}
}

func TestStaffAndTokenUsage(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{
		{"staff", "add", "--help"}, {"staff", "passwd", "--help"}, {"staff", "disable", "--help"},
		{"staff", "enable", "--help"}, {"staff", "list", "--help"},
		{"token", "create", "--help"}, {"token", "revoke", "--help"}, {"token", "list", "-h"},
	} {
		var out bytes.Buffer
		if err := run(ctx, args, env(nil), &out); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "DATABASE_URL") ||
			!strings.Contains(out.String(), "Usage: petitiond "+args[0]+" "+args[1]) {
			t.Errorf("%v: %v\n%s", args, err, out.String())
		}
	}
	var out bytes.Buffer
	if _ = run(ctx, []string{"staff", "add", "--help"}, env(nil), &out); !strings.Contains(out.String(), "--password-stdin") {
		t.Errorf("staff add --help lists no own flags:\n%s", out.String())
	}
	for _, args := range [][]string{{"staff"}, {"token"}, {"staff", "frobnicate"}, {"token", "mint"}} {
		out.Reset()
		if err := run(ctx, args, env(nil), &out); err == nil || !strings.Contains(out.String(), "Subcommands:") {
			t.Errorf("%v: %v\n%s", args, err, out.String())
		}
	}
	out.Reset()
	if err := run(ctx, []string{"staff", "help"}, env(nil), &out); err != nil || !strings.Contains(out.String(), "passwd") {
		t.Errorf("staff help: %v", err)
	}
	if err := run(ctx, []string{"staff", "list", "--no-such-flag"}, env(nil), io.Discard); err == nil {
		t.Error("unknown flag accepted")
	}
	if err := run(ctx, []string{"staff", "list", "--log-level", "loud"}, env(nil), io.Discard); err == nil {
		t.Error("bad setting accepted")
	}
}
