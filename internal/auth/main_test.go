package auth_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/petitions/petitions/internal/auth"
	"github.com/petitions/petitions/internal/pgtest"
	"github.com/petitions/petitions/internal/register"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// clock is a settable clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const password = "correct horse battery"

type fixture struct {
	svc   *auth.Service
	pool  *pgxpool.Pool
	clock *clock
}

// newFixture returns a service on a fresh register with two units and clerk.li, whose
// password is password.
func newFixture(t *testing.T, cfg auth.Config) fixture {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := register.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO units (code, name) VALUES
		('petition_office', '区信访局'), ('construction', '区住房和城乡建设局')`); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))}
	cfg.Now = c.Now
	svc := auth.New(pool, cfg)
	if err := svc.AddStaff(ctx, auth.Account{ID: "clerk.li", Name: "李娜", Role: "clerk", Unit: "petition_office"}, password); err != nil {
		t.Fatal(err)
	}
	return fixture{svc: svc, pool: pool, clock: c}
}

func (f fixture) signIn(t *testing.T, id, pw string) auth.Tokens {
	t.Helper()
	tok, err := f.svc.SignIn(context.Background(), id, pw)
	if err != nil {
		t.Fatalf("SignIn(%s): %v", id, err)
	}
	return tok
}

// mustAuth asserts that secret authenticates.
func (f fixture) mustAuth(t *testing.T, secret string) auth.Principal {
	t.Helper()
	p, err := f.svc.Authenticate(context.Background(), secret)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	return p
}

// mustNotAuth asserts that secret no longer authenticates.
func (f fixture) mustNotAuth(t *testing.T, secret, why string) {
	t.Helper()
	if p, err := f.svc.Authenticate(context.Background(), secret); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("%s: Authenticate = %+v, %v; want ErrUnauthenticated", why, p, err)
	}
}

func (f fixture) account(t *testing.T, id string) auth.AccountInfo {
	t.Helper()
	a, err := f.svc.GetStaff(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// samePrincipal compares principals, their expiry as an instant.
func samePrincipal(a, b auth.Principal) bool {
	if !a.ExpiresAt.Equal(b.ExpiresAt) {
		return false
	}
	a.ExpiresAt = b.ExpiresAt
	return a == b
}
