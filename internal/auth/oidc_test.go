package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/petitions/petitions/internal/auth"
)

// startOIDC runs a mock provider and the client for it.
func startOIDC(t *testing.T) (*mockoidc.MockOIDC, *auth.OIDC) {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	cfg := m.Config()
	o, err := auth.NewOIDC(context.Background(), auth.OIDCConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID,
		ClientSecret: cfg.ClientSecret, RedirectURL: "http://127.0.0.1:1/auth/callback"})
	if err != nil {
		t.Fatal(err)
	}
	return m, o
}

// authorize plays the browser: it follows the sign-in URL up to the redirect back to us and
// returns the code, checking the state came back.
func authorize(t *testing.T, o *auth.OIDC, state, nonce string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(o.AuthCodeURL(state, nonce))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Path != "/auth/callback" {
		t.Fatalf("authorize: %s to %q (%v)", resp.Status, resp.Header.Get("Location"), err)
	}
	if got := loc.Query().Get("state"); got != state {
		t.Fatalf("state %q came back as %q", state, got)
	}
	return loc.Query().Get("code")
}

func TestOIDCSignIn(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, auth.Config{})
	m, o := startOIDC(t)

	m.QueueUser(&mockoidc.MockUser{Subject: "u-1001", PreferredUsername: "clerk.li", Email: "li@example.gov"})
	state, nonce := auth.RandomState(), auth.RandomState()
	if state == nonce || len(state) != 43 {
		t.Fatalf("RandomState: %q, %q", state, nonce)
	}
	id, err := o.StaffID(ctx, authorize(t, o, state, nonce), nonce)
	if err != nil || id != "clerk.li" {
		t.Fatalf("StaffID = %q, %v", id, err)
	}
	tok, err := f.svc.IssueFor(ctx, id, auth.ViaOIDC)
	if err != nil {
		t.Fatal(err)
	}
	if p := f.mustAuth(t, tok.AccessToken); p.StaffID != "clerk.li" || p.Via != auth.ViaOIDC || p.Role != "clerk" {
		t.Errorf("OIDC principal %+v", p)
	}
	if tok, err = f.svc.Refresh(ctx, tok.RefreshToken); err != nil || tok.Principal.Via != auth.ViaOIDC {
		t.Errorf("refresh of an OIDC session: %+v, %v", tok.Principal, err)
	}

	// The provider knows people the register does not.
	m.QueueUser(&mockoidc.MockUser{Subject: "u-1002", PreferredUsername: "visitor"})
	nonce = auth.RandomState()
	id, err = o.StaffID(ctx, authorize(t, o, auth.RandomState(), nonce), nonce)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.IssueFor(ctx, id, auth.ViaOIDC); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("IssueFor(unknown) = %v", err)
	}
	// A claim that is no staff ID.
	m.QueueUser(&mockoidc.MockUser{Subject: "u-1003", PreferredUsername: "Jane Doe"})
	nonce = auth.RandomState()
	if id, err := o.StaffID(ctx, authorize(t, o, auth.RandomState(), nonce), nonce); err == nil {
		t.Errorf("StaffID accepted %q", id)
	}
	// A code is good once.
	m.QueueUser(&mockoidc.MockUser{Subject: "u-1001", PreferredUsername: "clerk.li"})
	nonce = auth.RandomState()
	code := authorize(t, o, auth.RandomState(), nonce)
	if _, err := o.StaffID(ctx, code, nonce); err != nil {
		t.Fatal(err)
	}
	if _, err := o.StaffID(ctx, code, nonce); err == nil {
		t.Error("a code was accepted twice")
	}
}

func TestOIDCWrongNonce(t *testing.T) {
	ctx := context.Background()
	_, o := startOIDC(t)
	code := authorize(t, o, auth.RandomState(), auth.RandomState())
	if id, err := o.StaffID(ctx, code, auth.RandomState()); err == nil {
		t.Fatalf("wrong nonce accepted: %q", id)
	}
	if _, err := o.StaffID(ctx, "some-code", ""); err == nil {
		t.Error("empty nonce accepted")
	}
}

func TestOIDCConfig(t *testing.T) {
	ctx := context.Background()
	var inv *auth.InvalidError
	if _, err := auth.NewOIDC(ctx, auth.OIDCConfig{ClientID: "x", RedirectURL: "http://x"}); !errors.As(err, &inv) {
		t.Errorf("no issuer: %v", err)
	}
	if _, err := auth.NewOIDC(ctx, auth.OIDCConfig{Issuer: "http://127.0.0.1:1/none", ClientID: "x", RedirectURL: "http://x"}); err == nil {
		t.Error("unreachable issuer accepted")
	}
}
