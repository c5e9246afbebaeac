package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/auth"
)

func TestRefreshRotatesAndDetectsReuse(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, auth.Config{})
	first := f.signIn(t, "clerk.li", password)

	f.clock.Advance(10 * time.Minute)
	second, err := f.svc.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if second.Principal.Family != first.Principal.Family || second.AccessToken == first.AccessToken ||
		second.RefreshToken == first.RefreshToken {
		t.Fatalf("refresh: %+v after %+v", second.Principal, first.Principal)
	}
	// The session does not grow: it ends 12h after sign-in.
	if !second.RefreshExpiresAt.Equal(first.RefreshExpiresAt) {
		t.Errorf("refresh moved the session end from %v to %v", first.RefreshExpiresAt, second.RefreshExpiresAt)
	}
	f.mustAuth(t, second.AccessToken)
	if _, err := f.svc.Refresh(ctx, second.AccessToken); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("refresh with an access token: %v", err)
	}

	// The first refresh token again: someone holds a copy, the whole session ends.
	if _, err := f.svc.Refresh(ctx, first.RefreshToken); !errors.Is(err, auth.ErrTokenReused) || !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("reused refresh token: %v, want ErrTokenReused", err)
	}
	f.mustNotAuth(t, second.AccessToken, "access token of a session ended by reuse")
	f.mustNotAuth(t, first.AccessToken, "first access token of a session ended by reuse")
	if _, err := f.svc.Refresh(ctx, second.RefreshToken); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("current refresh token of a session ended by reuse: %v", err)
	}
	// Another session of the same person is not affected.
	other := f.signIn(t, "clerk.li", password)
	f.mustAuth(t, other.AccessToken)
}

func TestSessionAndAccessExpiry(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, auth.Config{AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour})
	tok := f.signIn(t, "clerk.li", password)
	f.clock.Advance(15*time.Minute - time.Second)
	f.mustAuth(t, tok.AccessToken)
	f.clock.Advance(time.Second)
	f.mustNotAuth(t, tok.AccessToken, "expired access token")

	tok, err := f.svc.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh after the access token expired: %v", err)
	}
	f.mustAuth(t, tok.AccessToken)
	// Near the session's end the access token is cut short to it.
	f.clock.Advance(40 * time.Minute)
	if tok, err = f.svc.Refresh(ctx, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if !tok.AccessExpiresAt.Equal(tok.RefreshExpiresAt) || !tok.Principal.ExpiresAt.Equal(tok.AccessExpiresAt) {
		t.Errorf("access token expires %v, session %v", tok.AccessExpiresAt, tok.RefreshExpiresAt)
	}
	f.clock.Advance(5 * time.Minute)
	if _, err := f.svc.Refresh(ctx, tok.RefreshToken); err != auth.ErrUnauthenticated {
		t.Errorf("refresh after the session ended: %v", err)
	}
}

func TestSignOut(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, auth.Config{})
	tok := f.signIn(t, "clerk.li", password)
	other := f.signIn(t, "clerk.li", password) // another browser
	p := f.mustAuth(t, tok.AccessToken)
	if err := f.svc.SignOut(ctx, p); err != nil {
		t.Fatal(err)
	}
	f.mustNotAuth(t, tok.AccessToken, "signed out")
	if _, err := f.svc.Refresh(ctx, tok.RefreshToken); err != auth.ErrUnauthenticated {
		t.Errorf("refresh after sign-out: %v, want plain ErrUnauthenticated", err)
	}
	f.mustAuth(t, other.AccessToken)
	if err := f.svc.SignOut(ctx, p); err != nil {
		t.Errorf("signing out twice: %v", err)
	}

	secret, _, err := f.svc.CreateAPIToken(ctx, "clerk.li", "feed", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SignOut(ctx, f.mustAuth(t, secret)); !errors.Is(err, auth.ErrAPITokenSignOut) {
		t.Errorf("API token sign-out: %v", err)
	}
	f.mustAuth(t, secret)
}

func TestDisabledStaffTokensStop(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, auth.Config{})
	tok := f.signIn(t, "clerk.li", password)
	secret, _, err := f.svc.CreateAPIToken(ctx, "clerk.li", "feed", "clerk", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetDisabled(ctx, "clerk.li", true); err != nil {
		t.Fatal(err)
	}
	f.mustNotAuth(t, tok.AccessToken, "disabled: access token")
	f.mustNotAuth(t, secret, "disabled: API token")
	if _, err := f.svc.Refresh(ctx, tok.RefreshToken); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("disabled: refresh: %v", err)
	}
	if _, err := f.svc.IssueFor(ctx, "clerk.li", auth.ViaOIDC); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("disabled: IssueFor: %v", err)
	}
	if !f.account(t, "clerk.li").Disabled {
		t.Error("account not listed as disabled")
	}
	// Enabling brings no token back, but the password works again.
	if err := f.svc.SetDisabled(ctx, "clerk.li", false); err != nil {
		t.Fatal(err)
	}
	f.mustNotAuth(t, secret, "re-enabled: old API token")
	f.mustAuth(t, f.signIn(t, "clerk.li", password).AccessToken)
	if err := f.svc.SetDisabled(ctx, "nobody", true); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("SetDisabled(nobody): %v", err)
	}

	// A disabled flag set behind the service's back (SQL) stops tokens too.
	tok = f.signIn(t, "clerk.li", password)
	if _, err := f.pool.Exec(ctx, "UPDATE staff SET disabled = true WHERE id = 'clerk.li'"); err != nil {
		t.Fatal(err)
	}
	f.mustNotAuth(t, tok.AccessToken, "disabled by SQL")
}

func TestAPITokens(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, auth.Config{})
	if err := f.svc.AddStaff(ctx, auth.Account{ID: "hotline.feed", Name: "12345 热线", Role: "clerk", Unit: "petition_office"}, ""); err != nil {
		t.Fatal(err)
	}
	_, _, err := f.svc.CreateAPIToken(ctx, "hotline.feed", "12345 hotline feed", "supervisor", 0)
	var inv *auth.InvalidError
	if !errors.As(err, &inv) || inv.Field != "role" || !strings.Contains(err.Error(), "clerk") {
		t.Fatalf("role above the owner's: %v", err)
	}
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"", 0}, {"x", -time.Hour}, {"x", 3 * 365 * 24 * time.Hour}} {
		if _, _, err := f.svc.CreateAPIToken(ctx, "hotline.feed", c.name, "", c.ttl); !errors.As(err, &inv) {
			t.Errorf("CreateAPIToken(%q, %v): %v", c.name, c.ttl, err)
		}
	}
	if _, _, err := f.svc.CreateAPIToken(ctx, "nobody", "x", "", 0); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("token for nobody: %v", err)
	}

	secret, info, err := f.svc.CreateAPIToken(ctx, "hotline.feed", " 12345 hotline feed ", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	if !strings.HasPrefix(secret, "pt_") || info.Kind != auth.KindAPI || info.Role != "clerk" || info.Name != "12345 hotline feed" ||
		!info.ExpiresAt.Equal(now.Add(365*24*time.Hour)) || !strings.HasPrefix(info.ID, "tok_") {
		t.Errorf("CreateAPIToken = %q, %+v", secret, info)
	}
	p := f.mustAuth(t, secret)
	want := auth.Principal{StaffID: "hotline.feed", Name: "12345 热线", Role: "clerk", Unit: "petition_office",
		Via: auth.ViaAPIToken, TokenID: info.ID, ExpiresAt: info.ExpiresAt}
	if !samePrincipal(p, want) {
		t.Errorf("API principal %+v, want %+v", p, want)
	}
	// A session of someone else, to see listing by staff.
	f.signIn(t, "clerk.li", password)

	list, err := f.svc.ListTokens(ctx, "hotline.feed")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != info.ID || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(now) {
		t.Fatalf("ListTokens(hotline.feed) = %+v", list)
	}
	all, err := f.svc.ListTokens(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].StaffID != "clerk.li" || all[0].Kind != auth.KindSession || all[0].Via != auth.ViaPassword {
		t.Fatalf("ListTokens() = %+v", all)
	}

	// A role change behind the service's back: the token no longer matches its owner.
	if _, err := f.pool.Exec(ctx, "UPDATE staff SET role = 'supervisor' WHERE id = 'hotline.feed'"); err != nil {
		t.Fatal(err)
	}
	f.mustNotAuth(t, secret, "owner's role changed")
	if _, err := f.pool.Exec(ctx, "UPDATE staff SET role = 'clerk' WHERE id = 'hotline.feed'"); err != nil {
		t.Fatal(err)
	}
	f.mustAuth(t, secret)

	if err := f.svc.RevokeToken(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	f.mustNotAuth(t, secret, "revoked")
	if err := f.svc.RevokeToken(ctx, info.ID); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	if err := f.svc.RevokeToken(ctx, "tok_000000000000"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("RevokeToken(unknown): %v", err)
	}
	if list, _ := f.svc.ListTokens(ctx, "hotline.feed"); len(list) != 1 || list[0].RevokedAt == nil {
		t.Errorf("revoked token listed as %+v", list)
	}

	// Through the service, a role change revokes.
	secret, _, err = f.svc.CreateAPIToken(ctx, "hotline.feed", "again", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.UpdateStaff(ctx, auth.Account{ID: "hotline.feed", Name: "12345 热线", Role: "handler", Unit: "petition_office"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.UpdateStaff(ctx, auth.Account{ID: "hotline.feed", Name: "12345 热线", Role: "clerk", Unit: "petition_office"}); err != nil {
		t.Fatal(err)
	}
	f.mustNotAuth(t, secret, "revoked by a role change and back")
	f.clock.Advance(time.Hour)
	if list, _ := f.svc.ListTokens(ctx, "hotline.feed"); len(list) != 1 {
		t.Errorf("expired API token still listed: %+v", list)
	}
}

// Revoking a listed session ends it, even after it rotated.
func TestRevokeSession(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, auth.Config{})
	tok := f.signIn(t, "clerk.li", password)
	list, err := f.svc.ListTokens(ctx, "clerk.li")
	if err != nil || len(list) != 1 || list[0].Kind != auth.KindSession {
		t.Fatalf("ListTokens = %+v, %v", list, err)
	}
	tok, err = f.svc.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RevokeToken(ctx, list[0].ID); err != nil {
		t.Fatal(err)
	}
	f.mustNotAuth(t, tok.AccessToken, "session revoked by a spent token's ID")
	if list, _ := f.svc.ListTokens(ctx, ""); len(list) != 0 {
		t.Errorf("revoked session listed: %+v", list)
	}
}

// last_used_at is written at most once a minute.
func TestLastUsedThrottled(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, auth.Config{})
	secret, info, err := f.svc.CreateAPIToken(ctx, "clerk.li", "feed", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	lastUsed := func() time.Time {
		var at time.Time
		if err := f.pool.QueryRow(ctx, "SELECT last_used_at FROM auth_tokens WHERE id = $1", info.ID).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	start := f.clock.Now()
	f.mustAuth(t, secret)
	f.clock.Advance(59 * time.Second)
	f.mustAuth(t, secret)
	if at := lastUsed(); !at.Equal(start) {
		t.Errorf("last_used_at %v, want %v", at, start)
	}
	f.clock.Advance(time.Second)
	f.mustAuth(t, secret)
	if at := lastUsed(); !at.Equal(start.Add(time.Minute)) {
		t.Errorf("last_used_at %v a minute later", at)
	}
}
