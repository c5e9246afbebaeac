package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The admin manages the office through the API, every change audited: a unit, a routing rule
// switched off, an account that signs in, an API token that works until revoked, and the
// policy allow-list that registration obeys.
func TestAdministration(t *testing.T) {
	adm := bearer(t, adminStaff)
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e9)
	unit := "water" + suffix
	if code := callRaw(t, "POST", "/api/v1/units", map[string]any{"code": unit, "name": "区水务局", "parent": "district"}, nil, adm...); code != http.StatusCreated {
		t.Fatalf("create unit: %d", code)
	}
	if code := callRaw(t, "POST", "/api/v1/units", map[string]any{"code": unit, "name": "again"}, nil, adm...); code != http.StatusConflict {
		t.Errorf("duplicate unit: %d", code)
	}
	if code := callRaw(t, "PUT", "/api/v1/units/"+unit, map[string]any{"name": "区水务局（更名）", "parent": unit}, nil, adm...); code != http.StatusBadRequest {
		t.Errorf("a unit under itself: %d", code)
	}
	var rule struct {
		ID int64 `json:"id"`
	}
	keyword := "burst pipe " + suffix
	if code := callRaw(t, "POST", "/api/v1/routing-rules", map[string]any{"keyword": keyword, "unit": unit, "priority": 50}, &rule, adm...); code != http.StatusCreated || rule.ID == 0 {
		t.Fatalf("create routing rule: %d", code)
	}
	r := registerCase(t, "default", petitioner(), "a "+keyword+" floods the street")
	if r.SuggestedUnit != unit {
		t.Errorf("routed to %q, want the new unit %q", r.SuggestedUnit, unit)
	}
	if code := callRaw(t, "PUT", fmt.Sprintf("/api/v1/routing-rules/%d", rule.ID), map[string]any{"keyword": keyword, "unit": unit, "priority": 50, "disabled": true}, nil, adm...); code != http.StatusOK {
		t.Fatalf("disable routing rule: %d", code)
	}
	if r2 := registerCase(t, "default", petitioner(), "another "+keyword); r2.SuggestedUnit == unit {
		t.Errorf("a disabled rule still routes")
	}
	// Only the admin administers.
	if code := callRaw(t, "POST", "/api/v1/units", map[string]any{"code": "x" + suffix, "name": "x"}, nil, bearer(t, supervisor)...); code != http.StatusForbidden {
		t.Errorf("supervisor creating a unit: %d", code)
	}

	// A new account signs in once it has a password; disabling it ends its session.
	staffID := "clerk.new" + suffix
	if code := callRaw(t, "POST", "/api/v1/admin/staff", map[string]any{"id": staffID, "name": "新来的", "role": "clerk", "unit": "petition_office", "password": "a long enough password"}, nil, adm...); code != http.StatusCreated {
		t.Fatalf("add staff: %d", code)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if code := callRaw(t, "POST", "/api/v1/auth/sign-in", map[string]any{"staff_id": staffID, "password": "a long enough password"}, &tok); code != 200 {
		t.Fatalf("new account signs in: %d", code)
	}
	if code := callRaw(t, "PATCH", "/api/v1/admin/staff/"+staffID, map[string]any{"disabled": true}, nil, adm...); code != 200 {
		t.Fatalf("disable: %d", code)
	}
	if code := callRaw(t, "GET", "/api/v1/petitions", nil, nil, "Authorization", "Bearer "+tok.AccessToken); code != http.StatusUnauthorized {
		t.Errorf("a disabled account's token: %d", code)
	}

	// The last enabled admin cannot be disabled or demoted.
	if code := callRaw(t, "PATCH", "/api/v1/admin/staff/"+adminStaff, map[string]any{"disabled": true}, nil, adm...); code != http.StatusUnprocessableEntity {
		t.Errorf("disabling the last admin: %d, want 422", code)
	}

	// An API token for an integration: shown once, works, stops when revoked.
	var created struct {
		Token string `json:"token"`
		Info  struct {
			ID string `json:"id"`
		} `json:"info"`
	}
	// Not for a person's account (one with a password): the admin must not act as a clerk.
	if code := callRaw(t, "POST", "/api/v1/admin/tokens", map[string]any{"staff": clerk, "name": "as a clerk"}, nil, adm...); code != http.StatusUnprocessableEntity {
		t.Errorf("API token for a person's account: %d, want 422", code)
	}
	feed := "hotline.feed" + suffix
	if code := callRaw(t, "POST", "/api/v1/admin/staff", map[string]any{"id": feed, "name": "12345热线接口", "role": "clerk", "unit": "petition_office"}, nil, adm...); code != http.StatusCreated {
		t.Fatalf("add service account: %d", code)
	}
	if code := callRaw(t, "POST", "/api/v1/admin/tokens", map[string]any{"staff": feed, "name": "12345 hotline feed", "ttl": "720h"}, &created, adm...); code != http.StatusCreated || created.Token == "" {
		t.Fatalf("create API token: %d", code)
	}
	if code := callRaw(t, "GET", "/api/v1/petitions?limit=1", nil, nil, "Authorization", "Bearer "+created.Token); code != 200 {
		t.Errorf("API token: %d", code)
	}
	if code := callRaw(t, "DELETE", "/api/v1/admin/tokens/"+created.Info.ID, nil, nil, adm...); code != http.StatusNoContent {
		t.Fatalf("revoke: %d", code)
	}
	if code := callRaw(t, "GET", "/api/v1/petitions?limit=1", nil, nil, "Authorization", "Bearer "+created.Token); code != http.StatusUnauthorized {
		t.Errorf("revoked API token: %d", code)
	}

	// The policy allow-list: a forbidden policy cannot be used for registration.
	if code := callRaw(t, "PUT", "/api/v1/policies/statute", map[string]any{"allowed": false}, nil, adm...); code != 200 {
		t.Fatalf("forbid statute: %d", code)
	}
	var refused map[string]any
	code := call(t, "POST", "/api/v1/petitions", map[string]any{
		"channel": "letter", "category": "appeal", "topic": "policy allow-list " + suffix, "content": "x",
		"petitioners": []any{petitioner()}, "policy": "statute", "actor": clerk}, &refused)
	if code != http.StatusUnprocessableEntity {
		t.Errorf("registration under a forbidden policy: %d %v", code, refused)
	}
	if code := callRaw(t, "PUT", "/api/v1/policies/statute", map[string]any{"allowed": true}, nil, adm...); code != 200 {
		t.Fatalf("allow statute: %d", code)
	}

	// Every change above is in the audit log, with who made it.
	var audit struct {
		Entries []struct {
			ActorID string `json:"actor_id"`
			Action  string `json:"action"`
		} `json:"entries"`
	}
	if code := callRaw(t, "GET", "/api/v1/admin/audit?limit=50", nil, &audit, adm...); code != 200 {
		t.Fatalf("audit: %d", code)
	}
	var actions []string
	for _, e := range audit.Entries {
		if e.ActorID == adminStaff {
			actions = append(actions, e.Action)
		}
	}
	for _, want := range []string{"unit.create", "routing_rule.create", "routing_rule.update", "staff.add", "staff.disable", "token.create", "token.revoke", "policy.set"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
}
