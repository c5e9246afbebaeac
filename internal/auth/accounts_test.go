package auth_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/petitions/petitions/internal/auth"
)

func TestAddStaffValidates(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, auth.Config{})
	ok := auth.Account{ID: "clerk.wang", Name: "王芳", Role: "clerk", Unit: "petition_office", Phone: "13800000034"}
	for _, c := range []struct {
		field string
		edit  func(*auth.Account)
		pw    string
	}{
		{"id", func(a *auth.Account) { a.ID = "Clerk.Wang" }, ""},
		{"id", func(a *auth.Account) { a.ID = ".wang" }, ""},
		{"id", func(a *auth.Account) { a.ID = "" }, ""},
		{"name", func(a *auth.Account) { a.Name = "  " }, ""},
		{"role", func(a *auth.Account) { a.Role = "root" }, ""},
		{"unit", func(a *auth.Account) { a.Unit = "atlantis" }, ""},
		{"password", func(*auth.Account) {}, "short"},
		{"password", func(*auth.Account) {}, "CLERK.WANG"},
	} {
		a := ok
		c.edit(&a)
		var inv *auth.InvalidError
		if err := f.svc.AddStaff(ctx, a, c.pw); !errors.As(err, &inv) || inv.Field != c.field {
			t.Errorf("AddStaff(%+v, %q) = %v, want invalid %s", a, c.pw, err, c.field)
		}
	}
	if err := f.svc.AddStaff(ctx, ok, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AddStaff(ctx, ok, ""); !errors.Is(err, auth.ErrExists) {
		t.Errorf("adding twice: %v", err)
	}
	if err := f.svc.AddStaff(ctx, auth.Account{ID: "admin.zhou", Name: "周", Role: "admin", Unit: "petition_office"}, "长长的管理员口令一二三四"); err != nil {
		t.Errorf("admin with a password of 12 Chinese characters: %v", err)
	}

	list, err := f.svc.ListStaff(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []auth.AccountInfo{
		{Account: auth.Account{ID: "admin.zhou", Name: "周", Role: "admin", Unit: "petition_office"}, HasPassword: true},
		{Account: auth.Account{ID: "clerk.li", Name: "李娜", Role: "clerk", Unit: "petition_office"}, HasPassword: true},
		{Account: ok},
	}
	if len(list) != len(want) {
		t.Fatalf("ListStaff = %+v", list)
	}
	for i := range want {
		if list[i] != want[i] {
			t.Errorf("ListStaff[%d] = %+v, want %+v", i, list[i], want[i])
		}
	}
}

func TestUpdateStaff(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, auth.Config{})
	tok := f.signIn(t, "clerk.li", password)
	a := auth.Account{ID: "clerk.li", Name: "李娜", Role: "clerk", Unit: "petition_office", Phone: "13800000033"}
	if err := f.svc.UpdateStaff(ctx, a); err != nil {
		t.Fatal(err)
	}
	f.mustAuth(t, tok.AccessToken) // a new phone number is no reason to sign out
	a.Unit = "construction"
	if err := f.svc.UpdateStaff(ctx, a); err != nil {
		t.Fatal(err)
	}
	f.mustNotAuth(t, tok.AccessToken, "moved to another unit")
	if got := f.account(t, "clerk.li").Account; got != a {
		t.Errorf("after update: %+v, want %+v", got, a)
	}
	var inv *auth.InvalidError
	a.Role = "boss"
	if err := f.svc.UpdateStaff(ctx, a); !errors.As(err, &inv) || inv.Field != "role" {
		t.Errorf("bad role: %v", err)
	}
	if err := f.svc.UpdateStaff(ctx, auth.Account{ID: "nobody", Name: "x", Role: "clerk", Unit: "construction"}); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("UpdateStaff(nobody): %v", err)
	}
	if _, err := f.svc.GetStaff(ctx, "nobody"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("GetStaff(nobody): %v", err)
	}
}

func TestSetPassword(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, auth.Config{MaxFailures: 2})
	tok := f.signIn(t, "clerk.li", password)
	api, _, err := f.svc.CreateAPIToken(ctx, "clerk.li", "feed", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, _ = f.svc.SignIn(ctx, "clerk.li", "guess")
	}
	var locked *auth.LockedError
	if _, err := f.svc.SignIn(ctx, "clerk.li", password); !errors.As(err, &locked) {
		t.Fatalf("not locked: %v", err)
	}

	var inv *auth.InvalidError
	for _, pw := range []string{"", "elevenchars", "clerk.li", "            "} {
		if err := f.svc.SetPassword(ctx, "clerk.li", pw); !errors.As(err, &inv) || inv.Field != "password" {
			t.Errorf("SetPassword(%q): %v", pw, err)
		}
	}
	if err := f.svc.SetPassword(ctx, "nobody", "a long enough password"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("SetPassword(nobody): %v", err)
	}
	const newPassword = "a new and long passphrase"
	if err := f.svc.SetPassword(ctx, "clerk.li", newPassword); err != nil {
		t.Fatal(err)
	}
	f.mustNotAuth(t, tok.AccessToken, "session after a password change")
	if _, err := f.svc.Refresh(ctx, tok.RefreshToken); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("refresh after a password change: %v", err)
	}
	f.mustAuth(t, api) // API tokens do not derive from the password
	if _, err := f.svc.SignIn(ctx, "clerk.li", password); err != auth.ErrBadCredentials {
		t.Errorf("old password: %v", err)
	}
	f.signIn(t, "clerk.li", newPassword) // the lock was lifted
}

// Changes made with an acting person in the context are audited in their own transaction;
// a change that fails leaves no entry, and one without an actor none either.
func TestChangesAreAuditedWithTheirActor(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, auth.Config{})
	actx := auth.AsActor(ctx, "admin.office")
	if err := f.svc.AddStaff(actx, auth.Account{ID: "clerk.audited", Name: "审计", Role: "clerk", Unit: "petition_office"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetDisabled(actx, "clerk.audited", true); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AddStaff(actx, auth.Account{ID: "clerk.audited", Name: "again", Role: "clerk", Unit: "petition_office"}, ""); err == nil {
		t.Fatal("a duplicate account was added")
	}
	if err := f.svc.SetDisabled(ctx, "clerk.audited", false); err != nil {
		t.Fatal(err)
	}
	rows, _ := f.pool.Query(ctx, `SELECT actor_id || ' ' || action || ' ' || target FROM admin_audit ORDER BY id`)
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"admin.office staff.add clerk.audited", "admin.office staff.disable clerk.audited"}
	if !slices.Equal(got, want) {
		t.Errorf("audit = %q, want %q", got, want)
	}
}
