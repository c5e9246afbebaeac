package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDCConfig is the office identity provider's registration of this service.
type OIDCConfig struct {
	Issuer       string // the provider's issuer URL; discovery reads Issuer/.well-known/openid-configuration
	ClientID     string
	ClientSecret string
	RedirectURL  string   // this service's callback, as registered with the provider
	StaffClaim   string   // the ID token claim holding the staff ID; default "preferred_username"
	Scopes       []string // default openid and profile; openid is always asked for
}

// OIDC signs staff in through the office's OpenID Connect provider (authorization code
// flow). It only establishes who the person is; Service.IssueFor then checks that the staff
// ID is an enabled account and opens the session.
type OIDC struct {
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	claim    string
}

// NewOIDC discovers the provider's endpoints and keys.
func NewOIDC(ctx context.Context, cfg OIDCConfig) (*OIDC, error) {
	switch {
	case cfg.Issuer == "":
		return nil, &InvalidError{"issuer", "is required"}
	case cfg.ClientID == "":
		return nil, &InvalidError{"client_id", "is required"}
	case cfg.RedirectURL == "":
		return nil, &InvalidError{"redirect_url", "is required"}
	}
	provider, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("auth: OIDC discovery at %s: %w", cfg.Issuer, err)
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "profile"}
	} else if !slices.Contains(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	claim := cfg.StaffClaim
	if claim == "" {
		claim = "preferred_username"
	}
	return &OIDC{
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
			Endpoint: provider.Endpoint(), Scopes: scopes},
		// The verifier checks signature, issuer, expiry and that the audience is our client ID.
		verifier: provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
		claim:    claim,
	}, nil
}

// AuthCodeURL is where to send the browser to sign in. state and nonce are fresh
// RandomState values the caller keeps (e.g. in a short-lived cookie) for the callback: state
// to refuse forged callbacks, nonce to refuse replayed ID tokens.
func (o *OIDC) AuthCodeURL(state, nonce string) string {
	return o.oauth.AuthCodeURL(state, oidc.Nonce(nonce))
}

// StaffID completes the callback: it exchanges the code, verifies the ID token and its
// nonce, and returns the staff ID claim. It does not check that the staff member exists.
func (o *OIDC) StaffID(ctx context.Context, code, nonce string) (string, error) {
	if code == "" {
		return "", errors.New("auth: OIDC callback without a code")
	}
	if nonce == "" {
		return "", errors.New("auth: OIDC sign-in without a nonce")
	}
	tok, err := o.oauth.Exchange(ctx, code)
	if err != nil {
		return "", fmt.Errorf("auth: OIDC code exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", errors.New("auth: OIDC provider returned no ID token")
	}
	idt, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		return "", fmt.Errorf("auth: OIDC ID token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return "", errors.New("auth: OIDC ID token nonce does not match this sign-in")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return "", fmt.Errorf("auth: OIDC ID token claims: %w", err)
	}
	id, _ := claims[o.claim].(string)
	if !staffIDPattern.MatchString(id) {
		// The value is not shown: a misconfigured claim might hold an e-mail address or a name.
		return "", fmt.Errorf("auth: OIDC ID token claim %q holds no staff ID", o.claim)
	}
	return id, nil
}

// RandomState returns an unguessable value for an OIDC state or nonce (32 random bytes,
// base64url).
func RandomState() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
