package auth_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/petitions/petitions/internal/auth"
)

func TestSignInAndAuthenticate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, auth.Config{})
	tok := f.signIn(t, "clerk.li", password)

	for _, s := range []string{tok.AccessToken, tok.RefreshToken} {
		if !strings.HasPrefix(s, "pt_") || len(s) != 3+43 {
			t.Errorf("secret %q: want pt_ and 43 base64url characters", s)
		}
	}
	now := f.clock.Now()
	if !tok.AccessExpiresAt.Equal(now.Add(15*time.Minute)) || !tok.RefreshExpiresAt.Equal(now.Add(12*time.Hour)) {
		t.Errorf("expiries %v, %v; want 15m and 12h after %v", tok.AccessExpiresAt, tok.RefreshExpiresAt, now)
	}
	want := auth.Principal{StaffID: "clerk.li", Name: "李娜", Role: "clerk", Unit: "petition_office", Via: auth.ViaPassword,
		TokenID: tok.Principal.TokenID, Family: tok.Principal.Family, ExpiresAt: tok.AccessExpiresAt}
	if !samePrincipal(tok.Principal, want) || !strings.HasPrefix(want.TokenID, "tok_") || want.Family == "" {
		t.Errorf("SignIn principal %+v, want %+v", tok.Principal, want)
	}
	if p := f.mustAuth(t, tok.AccessToken); !samePrincipal(p, want) {
		t.Errorf("Authenticate = %+v, want %+v", p, want)
	}

	// Only hashes are stored: the SHA-256 finds the row, the secret does not.
	var n int
	sum := sha256.Sum256([]byte(tok.AccessToken))
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM auth_tokens WHERE secret_hash = $1 AND id = $2",
		sum[:], tok.Principal.TokenID).Scan(&n); err != nil || n != 1 {
		t.Errorf("access token row by SHA-256: %d, %v", n, err)
	}
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM auth_tokens t WHERE t::text LIKE '%' || $1 || '%'",
		tok.AccessToken[3:]).Scan(&n); err != nil || n != 0 {
		t.Errorf("secret found in the register: %d, %v", n, err)
	}

	// A refresh token is no access token; garbage is nothing.
	f.mustNotAuth(t, tok.RefreshToken, "refresh token")
	f.mustNotAuth(t, "pt_"+strings.Repeat("A", 43), "unknown token")
	f.mustNotAuth(t, "", "empty")
	f.mustNotAuth(t, tok.Principal.TokenID, "token ID")

	// The principal follows the directory.
	if err := f.svc.UpdateStaff(ctx, auth.Account{ID: "clerk.li", Name: "李娜娜", Role: "clerk", Unit: "petition_office", Phone: "12345"}); err != nil {
		t.Fatal(err)
	}
	if p := f.mustAuth(t, tok.AccessToken); p.Name != "李娜娜" {
		t.Errorf("renamed: principal name %q", p.Name)
	}
}

// Every way of failing looks alike, and none counts against an unknown ID.
func TestSignInFailuresLookAlike(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, auth.Config{})
	if err := f.svc.AddStaff(ctx, auth.Account{ID: "handler.construction", Name: "刘洋", Role: "handler", Unit: "construction"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AddStaff(ctx, auth.Account{ID: "clerk.gone", Name: "离职", Role: "clerk", Unit: "petition_office"}, password); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetDisabled(ctx, "clerk.gone", true); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ id, pw, what string }{
		{"nobody", password, "unknown ID"},
		{"NOT AN ID", password, "malformed ID"},
		{"clerk.li", "wrong password!", "wrong password"},
		{"clerk.li", "", "empty password"},
		{"clerk.li", strings.Repeat("x", 5000), "huge password"},
		{"handler.construction", "", "no password set"},
		{"handler.construction", password, "no password set"},
		{"clerk.gone", password, "disabled, right password"},
	} {
		if _, err := f.svc.SignIn(ctx, c.id, c.pw); err != auth.ErrBadCredentials {
			t.Errorf("%s: err = %v, want exactly ErrBadCredentials", c.what, err)
		}
	}
	for range 10 {
		if _, err := f.svc.SignIn(ctx, "nobody", "guess"); err != auth.ErrBadCredentials {
			t.Fatalf("unknown ID never locks: %v", err)
		}
	}
	f.signIn(t, "clerk.li", password) // two earlier failures, not yet locked
}

func TestLockOutBacksOffAndExpires(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, auth.Config{MaxFailures: 3, LockBase: time.Minute, LockMax: 4 * time.Minute})
	fail := func(wantLock time.Duration) {
		t.Helper()
		_, err := f.svc.SignIn(ctx, "clerk.li", "not the password")
		var locked *auth.LockedError
		switch {
		case wantLock == 0 && err != auth.ErrBadCredentials:
			t.Fatalf("failure: %v, want ErrBadCredentials", err)
		case wantLock > 0 && (!errors.As(err, &locked) || !locked.Until.Equal(f.clock.Now().Add(wantLock))):
			t.Fatalf("failure: %v, want locked for %v", err, wantLock)
		}
	}
	fail(0)
	fail(0)
	fail(time.Minute) // the third failure locks
	var locked *auth.LockedError
	if _, err := f.svc.SignIn(ctx, "clerk.li", password); !errors.As(err, &locked) {
		t.Fatalf("right password while locked: %v", err)
	}
	if a := f.account(t, "clerk.li"); a.FailedSignIns != 3 || a.LockedUntil == nil || !a.LockedUntil.Equal(locked.Until) {
		t.Errorf("account while locked: %+v", a)
	}
	f.clock.Advance(time.Minute)
	fail(2 * time.Minute) // lock expired; the next failure doubles it
	f.clock.Advance(2 * time.Minute)
	fail(4 * time.Minute)
	f.clock.Advance(4 * time.Minute)
	fail(4 * time.Minute) // capped at LockMax
	f.clock.Advance(4*time.Minute + time.Second)
	if a := f.account(t, "clerk.li"); a.LockedUntil != nil {
		t.Errorf("lock expired, still listed until %v", a.LockedUntil)
	}
	f.signIn(t, "clerk.li", password)
	if a := f.account(t, "clerk.li"); a.FailedSignIns != 0 || a.LockedUntil != nil {
		t.Errorf("after success: %+v", a)
	}
	fail(0) // counting starts over
}

// Concurrent failures each count: the counter and the lock are one UPDATE.
func TestConcurrentFailuresAllCount(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, auth.Config{MaxFailures: 100})
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() { _, _ = f.svc.SignIn(ctx, "clerk.li", "guess") })
	}
	wg.Wait()
	if a := f.account(t, "clerk.li"); a.FailedSignIns != 12 {
		t.Errorf("failed_sign_ins = %d after 12 concurrent failures", a.FailedSignIns)
	}
}

// A hash made with older parameters is replaced on the next successful sign-in.
func TestSignInUpgradesHash(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, auth.Config{})
	restore := auth.SetHashParams(&argon2id.Params{Memory: 128, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	defer restore()
	svc := auth.New(f.pool, auth.Config{Now: f.clock.Now})
	if _, err := svc.SignIn(ctx, "clerk.li", password); err != nil {
		t.Fatal(err)
	}
	var hash string
	if err := f.pool.QueryRow(ctx, "SELECT password_hash FROM staff WHERE id = 'clerk.li'").Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(hash, "m=128,t=2,p=1") {
		t.Errorf("hash not upgraded: %s", hash)
	}
	if _, err := svc.SignIn(ctx, "clerk.li", password); err != nil {
		t.Errorf("sign in with the upgraded hash: %v", err)
	}
}
