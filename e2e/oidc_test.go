package e2e

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/petitions/petitions/internal/app"
	"github.com/petitions/petitions/internal/devtemporal"
)

// Single sign-on through the office's identity provider (an in-test OpenID Connect provider):
// the browser goes to /api/v1/auth/oidc/login, signs in at the provider, comes back to the
// callback and holds a session of the staff member the ID token's claim names; a provider
// account that is not a staff member gets none.
func TestSingleSignOn(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	port, err := devtemporal.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cfg := stack.Config
	oc := m.Config()
	cfg.HTTPAddr = addr
	cfg.OIDCIssuer, cfg.OIDCClientID, cfg.OIDCClientSecret = oc.Issuer, oc.ClientID, oc.ClientSecret
	cfg.OIDCRedirectURL = "http://" + addr + "/api/v1/auth/oidc/callback"
	api, err := app.Start(context.Background(), cfg, app.Roles{API: true}, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer api.Stop()

	signOn := func(username string) (*http.Client, int) {
		m.QueueUser(&mockoidc.MockUser{Subject: "sub-" + username, PreferredUsername: username})
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar}
		resp, err := browser.Get("http://" + addr + "/api/v1/auth/oidc/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return browser, resp.StatusCode
	}
	browser, code := signOn(supervisor)
	if code != http.StatusOK {
		t.Fatalf("single sign-on as %s: %d", supervisor, code)
	}
	u, _ := url.Parse("http://" + addr)
	if len(browser.Jar.Cookies(u)) == 0 {
		t.Fatal("no session cookie after single sign-on")
	}
	resp, err := browser.Get("http://" + addr + "/api/v1/auth/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("session after single sign-on: %d", resp.StatusCode)
	}
	if _, code := signOn("visitor.unknown"); code != http.StatusForbidden {
		t.Errorf("a provider account that is no staff member: %d, want 403", code)
	}
}
