package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	"github.com/jackc/pgx/v5"
)

// maxPasswordBytes bounds the work an attacker can make one sign-in cost.
const maxPasswordBytes = 1024

// dummy returns a hash of the current parameters that no password matches, compared against
// when there is no real hash, so that unknown IDs cost as much time as wrong passwords.
func (s *Service) dummy() string {
	s.dummyOnce.Do(func() {
		h, err := argon2id.CreateHash(RandomState(), s.params)
		if err != nil {
			panic("auth: argon2id: " + err.Error()) // only crypto/rand failing gets here
		}
		s.dummyHash = h
	})
	return s.dummyHash
}

// burn spends the time of one password check and fails.
func (s *Service) burn(ctx context.Context, password string) error {
	dummy := s.dummy()
	_ = s.hashing(ctx, func() { _, _ = argon2id.ComparePasswordAndHash(password, dummy) })
	return ErrBadCredentials
}

// SignIn checks a password and opens a session: an access token and a refresh token of a new
// family. Unknown IDs, wrong passwords, disabled accounts and accounts without a password all
// get ErrBadCredentials after the same work. MaxFailures failures in a row lock the account
// (the failure that locks it already answers *LockedError); while locked, every attempt gets
// *LockedError without the password being looked at.
func (s *Service) SignIn(ctx context.Context, staffID, password string) (Tokens, error) {
	now := s.now()
	var (
		hash, name, role, unit string
		disabled               bool
		lockedUntil            *time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT password_hash, disabled, locked_until, name, role, unit
		FROM staff WHERE id = $1`, staffID).Scan(&hash, &disabled, &lockedUntil, &name, &role, &unit)
	if errors.Is(err, pgx.ErrNoRows) {
		return Tokens{}, s.burn(ctx, password)
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("auth: sign in: %w", err)
	}
	if disabled || hash == "" || len(password) > maxPasswordBytes {
		return Tokens{}, s.burn(ctx, password)
	}
	if lockedUntil != nil && lockedUntil.After(now) {
		return Tokens{}, &LockedError{Until: *lockedUntil}
	}
	var (
		ok       bool
		params   *argon2id.Params
		checkErr error
	)
	if err := s.hashing(ctx, func() { ok, params, checkErr = argon2id.CheckHash(password, hash) }); err != nil {
		return Tokens{}, err
	}
	if checkErr != nil {
		return Tokens{}, fmt.Errorf("auth: stored password hash of %s unreadable: %w", staffID, checkErr)
	}
	if !ok {
		return Tokens{}, s.failed(ctx, staffID, now)
	}
	newHash := hash
	if *params != *s.params {
		// Parameters were raised since the password was set: upgrade the hash now that the
		// password is at hand. Failing to is no reason to refuse the sign-in.
		var (
			h         string
			createErr error
		)
		if s.hashing(ctx, func() { h, createErr = argon2id.CreateHash(password, s.params) }) == nil && createErr == nil {
			newHash = h
		}
	}

	var t Tokens
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// One statement decides: not locked meanwhile by a concurrent failure, not disabled,
		// password not changed since it was read.
		tag, err := tx.Exec(ctx, `UPDATE staff SET failed_sign_ins = 0, locked_until = NULL, password_hash = $4
			WHERE id = $1 AND password_hash = $3 AND NOT disabled
			  AND (locked_until IS NULL OR locked_until <= $2)`, staffID, now, hash, newHash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errRaced
		}
		p := Principal{StaffID: staffID, Name: name, Role: role, Unit: unit, Via: ViaPassword}
		t, err = s.openSession(ctx, tx, p, now)
		return err
	})
	if errors.Is(err, errRaced) {
		var until *time.Time
		if s.pool.QueryRow(ctx, "SELECT locked_until FROM staff WHERE id = $1", staffID).Scan(&until) == nil &&
			until != nil && until.After(now) {
			return Tokens{}, &LockedError{Until: *until}
		}
		return Tokens{}, ErrBadCredentials
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("auth: sign in: %w", err)
	}
	return t, nil
}

// errRaced: the account changed between reading and signing in.
var errRaced = errors.New("auth: account changed during sign-in")

// failed counts a failed sign-in and, from MaxFailures on, locks the account for
// LockBase·2^(failures−MaxFailures), at most LockMax. Counting and locking are one UPDATE, so
// concurrent failures each count and the last one sets the longest lock.
func (s *Service) failed(ctx context.Context, staffID string, now time.Time) error {
	var lockedUntil *time.Time
	err := s.pool.QueryRow(ctx, `UPDATE staff SET
			failed_sign_ins = failed_sign_ins + 1,
			locked_until = CASE WHEN failed_sign_ins + 1 >= $2 THEN
				$3::timestamptz + make_interval(secs => least(
					$4::float8 * power(2::float8, least(failed_sign_ins + 1 - $2, 40)), $5::float8))
				ELSE locked_until END
		WHERE id = $1
		RETURNING locked_until`,
		staffID, s.cfg.MaxFailures, now, s.cfg.LockBase.Seconds(), s.cfg.LockMax.Seconds()).Scan(&lockedUntil)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("auth: count failed sign-in: %w", err)
	}
	if lockedUntil != nil && lockedUntil.After(now) {
		return &LockedError{Until: *lockedUntil}
	}
	return ErrBadCredentials
}

// hashPassword checks a new password against the rules and hashes it.
func (s *Service) hashPassword(ctx context.Context, staffID, password string) (string, error) {
	switch {
	case utf8.RuneCountInString(password) < s.cfg.MinPasswordLen:
		return "", &InvalidError{"password", fmt.Sprintf("must be at least %d characters", s.cfg.MinPasswordLen)}
	case len(password) > maxPasswordBytes:
		return "", &InvalidError{"password", fmt.Sprintf("must be at most %d bytes", maxPasswordBytes)}
	case strings.TrimSpace(password) == "":
		return "", &InvalidError{"password", "must not be blank"}
	case strings.EqualFold(strings.TrimSpace(password), staffID):
		return "", &InvalidError{"password", "must not be the staff ID"}
	}
	var (
		h         string
		createErr error
	)
	if err := s.hashing(ctx, func() { h, createErr = argon2id.CreateHash(password, s.params) }); err != nil {
		return "", err
	}
	if createErr != nil {
		return "", fmt.Errorf("auth: hash password: %w", createErr)
	}
	return h, nil
}
