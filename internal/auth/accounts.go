package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// Account is a staff member's directory entry.
type Account struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	Unit  string `json:"unit"`
	Phone string `json:"phone"`
}

// AccountInfo is an account with its sign-in state. LockedUntil is set only while the
// account is locked.
type AccountInfo struct {
	Account
	Disabled      bool       `json:"disabled"`
	HasPassword   bool       `json:"has_password"`
	LockedUntil   *time.Time `json:"locked_until,omitempty"`
	FailedSignIns int        `json:"failed_sign_ins"`
}

// check validates and normalises an account's fields other than the ID.
func (s *Service) check(ctx context.Context, q querier, a *Account) error {
	a.Name = strings.TrimSpace(a.Name)
	a.Phone = strings.TrimSpace(a.Phone)
	a.Unit = strings.TrimSpace(a.Unit)
	switch {
	case a.Name == "":
		return &InvalidError{"name", "is required"}
	case utf8.RuneCountInString(a.Name) > 100:
		return &InvalidError{"name", "must be at most 100 characters"}
	case !slices.Contains(roles, a.Role):
		return &InvalidError{"role", fmt.Sprintf("%q is not one of %s", a.Role, strings.Join(roles, ", "))}
	case utf8.RuneCountInString(a.Phone) > 32:
		return &InvalidError{"phone", "must be at most 32 characters"}
	case a.Unit == "":
		return &InvalidError{"unit", "is required"}
	}
	var exists bool
	if err := q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM units WHERE code = $1)", a.Unit).Scan(&exists); err != nil {
		return fmt.Errorf("auth: look up unit: %w", err)
	}
	if !exists {
		return &InvalidError{"unit", fmt.Sprintf("no unit %q", a.Unit)}
	}
	return nil
}

// AddStaff adds a staff member. With password "" the account exists (it can be named as
// handler, leader…, and sign in through single sign-on) but cannot sign in with a password
// until SetPassword.
func (s *Service) AddStaff(ctx context.Context, a Account, password string) error {
	if !staffIDPattern.MatchString(a.ID) {
		return &InvalidError{"id", "must be lower-case letters, digits, '.', '_' or '-', starting with a letter or digit, at most 64 characters (e.g. clerk.wang)"}
	}
	if err := s.check(ctx, s.pool, &a); err != nil {
		return err
	}
	var hash string
	var changedAt *time.Time
	if password != "" {
		h, err := s.hashPassword(ctx, a.ID, password)
		if err != nil {
			return err
		}
		now := s.now()
		hash, changedAt = h, &now
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO staff (id, name, role, unit, phone, password_hash, password_changed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, a.ID, a.Name, a.Role, a.Unit, a.Phone, hash, changedAt); err != nil {
			return err
		}
		return audit(ctx, tx, "staff.add", a.ID, map[string]any{"role": a.Role, "unit": a.Unit, "password_set": password != ""})
	})
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("%w: staff %q", ErrExists, a.ID)
	case isForeignKeyViolation(err): // the unit went away since check
		return &InvalidError{"unit", fmt.Sprintf("no unit %q", a.Unit)}
	case err != nil:
		return fmt.Errorf("auth: add staff: %w", err)
	}
	return nil
}

// UpdateStaff changes a staff member's name, role, unit and phone. A new role or unit revokes
// all the member's tokens, API tokens included: they were issued for what the member was.
func (s *Service) UpdateStaff(ctx context.Context, a Account) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var oldRole, oldUnit string
		err := tx.QueryRow(ctx, "SELECT role, unit FROM staff WHERE id = $1 FOR UPDATE", a.ID).Scan(&oldRole, &oldUnit)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: staff %q", ErrNotFound, a.ID)
		}
		if err != nil {
			return fmt.Errorf("auth: update staff: %w", err)
		}
		if err := s.check(ctx, tx, &a); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE staff SET name = $2, role = $3, unit = $4, phone = $5 WHERE id = $1",
			a.ID, a.Name, a.Role, a.Unit, a.Phone); err != nil {
			return fmt.Errorf("auth: update staff: %w", err)
		}
		if err := audit(ctx, tx, "staff.update", a.ID, map[string]any{"role": a.Role, "unit": a.Unit}); err != nil {
			return err
		}
		if a.Role != oldRole || a.Unit != oldUnit {
			return revokeStaff(ctx, tx, a.ID, s.now(), true)
		}
		return nil
	})
}

// SetPassword sets a staff member's password, clears any lock-out and ends the member's
// sessions (whoever knew the old password is signed out). API tokens stay valid: they do not
// derive from the password.
func (s *Service) SetPassword(ctx context.Context, staffID, password string) error {
	hash, err := s.hashPassword(ctx, staffID, password)
	if err != nil {
		return err
	}
	now := s.now()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE staff SET password_hash = $2, password_changed_at = $3,
			failed_sign_ins = 0, locked_until = NULL WHERE id = $1`, staffID, hash, now)
		if err != nil {
			return fmt.Errorf("auth: set password: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: staff %q", ErrNotFound, staffID)
		}
		if err := audit(ctx, tx, "staff.passwd", staffID, nil); err != nil {
			return err
		}
		return revokeStaff(ctx, tx, staffID, now, false)
	})
}

// SetDisabled disables or re-enables an account. Disabling revokes every token the member
// holds; re-enabling brings none back.
func (s *Service) SetDisabled(ctx context.Context, staffID string, disabled bool) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE staff SET disabled = $2 WHERE id = $1", staffID, disabled)
		if err != nil {
			return fmt.Errorf("auth: disable staff: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: staff %q", ErrNotFound, staffID)
		}
		action := "staff.enable"
		if disabled {
			action = "staff.disable"
		}
		if err := audit(ctx, tx, action, staffID, nil); err != nil {
			return err
		}
		if !disabled {
			return nil
		}
		return revokeStaff(ctx, tx, staffID, s.now(), true)
	})
}

const accountColumns = `id, name, role, unit, phone, disabled, password_hash <> '',
	CASE WHEN locked_until > $1 THEN locked_until END, failed_sign_ins`

func scanAccount(row pgx.CollectableRow) (AccountInfo, error) {
	var a AccountInfo
	err := row.Scan(&a.ID, &a.Name, &a.Role, &a.Unit, &a.Phone, &a.Disabled, &a.HasPassword, &a.LockedUntil, &a.FailedSignIns)
	return a, err
}

// ListStaff lists every account by ID, without password hashes.
func (s *Service) ListStaff(ctx context.Context) ([]AccountInfo, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+accountColumns+" FROM staff ORDER BY id", s.now())
	list, err := pgx.CollectRows(rows, scanAccount)
	if err != nil {
		return nil, fmt.Errorf("auth: list staff: %w", err)
	}
	return list, nil
}

// GetStaff returns one account.
func (s *Service) GetStaff(ctx context.Context, staffID string) (AccountInfo, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+accountColumns+" FROM staff WHERE id = $2", s.now(), staffID)
	a, err := pgx.CollectExactlyOneRow(rows, scanAccount)
	if errors.Is(err, pgx.ErrNoRows) {
		return AccountInfo{}, fmt.Errorf("%w: staff %q", ErrNotFound, staffID)
	}
	if err != nil {
		return AccountInfo{}, fmt.Errorf("auth: get staff: %w", err)
	}
	return a, nil
}
