package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// secretPrefix marks this service's secrets, so secret scanners can find leaked ones and
// Authenticate can refuse anything else without a query.
const secretPrefix = "pt_"

const (
	// DefaultAPITokenTTL is an API token's lifetime when none is asked for.
	DefaultAPITokenTTL = 365 * 24 * time.Hour
	// MaxAPITokenTTL bounds it: an integration's secret is rotated at least every two years.
	MaxAPITokenTTL = 2 * 365 * 24 * time.Hour
)

// lastUsedEvery is how stale last_used_at may get: writing it on every request would turn
// every read into a write.
const lastUsedEvery = time.Minute

// Tokens are what a sign-in or refresh hands the client. The secrets are shown this once.
type Tokens struct {
	AccessToken      string    `json:"access_token"`
	RefreshToken     string    `json:"refresh_token"`
	AccessExpiresAt  time.Time `json:"access_expires_at"`
	RefreshExpiresAt time.Time `json:"refresh_expires_at"`
	Principal        Principal `json:"principal"`
}

// TokenInfo describes a token without its secret. Kind is KindAPI or KindSession; a
// session is listed by its current refresh token, and revoking that ID ends the session.
type TokenInfo struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	StaffID    string     `json:"staff_id"`
	Role       string     `json:"role"`
	Name       string     `json:"name"`
	Via        string     `json:"via"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program instead)
	return hex.EncodeToString(b)
}

// newSecret returns a fresh secret and the hash the register keeps of it.
func newSecret() (secret string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	secret = secretPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, hashSecret(secret)
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func newTokenID() string  { return "tok_" + randomHex(6) }
func newFamilyID() string { return "fam_" + randomHex(8) }

// insertToken stores a new token and returns its secret.
func insertToken(ctx context.Context, q querier, id, kind string, p Principal, name string, created, expires time.Time) (string, error) {
	secret, hash := newSecret()
	_, err := q.Exec(ctx, `INSERT INTO auth_tokens (id, secret_hash, kind, staff_id, role, name, family, via, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		id, hash, kind, p.StaffID, p.Role, name, p.Family, p.Via, created, expires)
	return secret, err
}

// openSession issues the first access and refresh tokens of a new family for p.
func (s *Service) openSession(ctx context.Context, q querier, p Principal, now time.Time) (Tokens, error) {
	p.Family = newFamilyID()
	return s.issuePair(ctx, q, p, now, now.Add(s.cfg.RefreshTTL))
}

// issuePair issues an access and a refresh token in p's family. The session ends at
// sessionEnd whatever happens, so no access token outlives it.
func (s *Service) issuePair(ctx context.Context, q querier, p Principal, now, sessionEnd time.Time) (Tokens, error) {
	accessEnd := now.Add(s.cfg.AccessTTL)
	if accessEnd.After(sessionEnd) {
		accessEnd = sessionEnd
	}
	p.TokenID = newTokenID()
	p.ExpiresAt = accessEnd
	access, err := insertToken(ctx, q, p.TokenID, "access", p, "", now, accessEnd)
	if err != nil {
		return Tokens{}, fmt.Errorf("auth: issue access token: %w", err)
	}
	refresh, err := insertToken(ctx, q, newTokenID(), "refresh", p, "", now, sessionEnd)
	if err != nil {
		return Tokens{}, fmt.Errorf("auth: issue refresh token: %w", err)
	}
	return Tokens{AccessToken: access, RefreshToken: refresh, AccessExpiresAt: accessEnd,
		RefreshExpiresAt: sessionEnd, Principal: p}, nil
}

// presented is a token row joined with its owner's current directory entry.
type presented struct {
	id, kind, staffID, role, family, via string
	expiresAt                            time.Time
	revokedAt, lastUsedAt                *time.Time
	name, staffRole, unit                string
	disabled                             bool
}

func (s *Service) lookup(ctx context.Context, secret string) (presented, error) {
	var t presented
	if !strings.HasPrefix(secret, secretPrefix) {
		return t, ErrUnauthenticated
	}
	err := s.pool.QueryRow(ctx, `SELECT t.id, t.kind, t.staff_id, t.role, t.family, t.via, t.expires_at,
			t.revoked_at, t.last_used_at, s.name, s.role, s.unit, s.disabled
		FROM auth_tokens t JOIN staff s ON s.id = t.staff_id
		WHERE t.secret_hash = $1`, hashSecret(secret)).Scan(&t.id, &t.kind, &t.staffID, &t.role, &t.family,
		&t.via, &t.expiresAt, &t.revokedAt, &t.lastUsedAt, &t.name, &t.staffRole, &t.unit, &t.disabled)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrUnauthenticated
	}
	if err != nil {
		return t, fmt.Errorf("auth: look up token: %w", err)
	}
	return t, nil
}

// Authenticate tells who presents an access or API token. The principal carries the staff
// member's current name, role and unit; a token issued for another role than the member now
// has does not authenticate.
func (s *Service) Authenticate(ctx context.Context, secret string) (Principal, error) {
	t, err := s.lookup(ctx, secret)
	if err != nil {
		return Principal{}, err
	}
	now := s.now()
	if (t.kind != "access" && t.kind != "api") || t.revokedAt != nil || !t.expiresAt.After(now) ||
		t.disabled || t.role != t.staffRole {
		return Principal{}, ErrUnauthenticated
	}
	if t.lastUsedAt == nil || now.Sub(*t.lastUsedAt) >= lastUsedEvery {
		// The condition is repeated so that a burst of concurrent requests writes once.
		if _, err := s.pool.Exec(ctx, `UPDATE auth_tokens SET last_used_at = $2
			WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)`,
			t.id, now, now.Add(-lastUsedEvery)); err != nil {
			return Principal{}, fmt.Errorf("auth: note token use: %w", err)
		}
	}
	return Principal{StaffID: t.staffID, Name: t.name, Role: t.staffRole, Unit: t.unit, Via: t.via,
		TokenID: t.id, Family: t.family, ExpiresAt: t.expiresAt}, nil
}

// Refresh trades a refresh token for a new access and refresh token of the same session; the
// presented one is revoked. A refresh token presented again (a copy in a thief's hands, or
// the client's after the thief's use) revokes the session and answers ErrTokenReused. So do
// two concurrent refreshes with one token: clients must serialise them. Refreshing does not
// extend the session beyond RefreshTTL from sign-in.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	t, err := s.lookup(ctx, refreshToken)
	if err != nil {
		return Tokens{}, err
	}
	if t.kind != "refresh" {
		return Tokens{}, ErrUnauthenticated
	}
	now := s.now()
	if t.revokedAt != nil {
		return Tokens{}, s.reused(ctx, t.family, now)
	}
	if !t.expiresAt.After(now) {
		return Tokens{}, ErrUnauthenticated
	}
	if t.disabled || t.role != t.staffRole {
		if _, err := s.revokeFamily(ctx, s.pool, t.family, now); err != nil {
			return Tokens{}, err
		}
		return Tokens{}, ErrUnauthenticated
	}
	var out Tokens
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE auth_tokens SET revoked_at = $2, last_used_at = $2
			WHERE id = $1 AND revoked_at IS NULL`, t.id, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errRaced // used concurrently
		}
		p := Principal{StaffID: t.staffID, Name: t.name, Role: t.staffRole, Unit: t.unit, Via: t.via, Family: t.family}
		out, err = s.issuePair(ctx, tx, p, now, t.expiresAt)
		return err
	})
	if errors.Is(err, errRaced) {
		return Tokens{}, s.reused(ctx, t.family, now)
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("auth: refresh: %w", err)
	}
	return out, nil
}

// reused handles a refresh token presented after it was spent: if its session is still
// live, someone else holds a copy, so the session ends.
func (s *Service) reused(ctx context.Context, family string, now time.Time) error {
	n, err := s.revokeFamily(ctx, s.pool, family, now)
	if err != nil {
		return err
	}
	if n > 0 {
		return ErrTokenReused
	}
	return ErrUnauthenticated // the session had ended anyway (signed out, revoked)
}

func (s *Service) revokeFamily(ctx context.Context, q querier, family string, now time.Time) (int64, error) {
	if family == "" {
		return 0, nil
	}
	tag, err := q.Exec(ctx, `UPDATE auth_tokens SET revoked_at = $2
		WHERE family = $1 AND family <> '' AND revoked_at IS NULL`, family, now)
	if err != nil {
		return 0, fmt.Errorf("auth: revoke session: %w", err)
	}
	return tag.RowsAffected(), nil
}

// revokeStaff revokes a staff member's tokens: only sessions, or API tokens too.
func revokeStaff(ctx context.Context, q querier, staffID string, now time.Time, apiTokensToo bool) error {
	_, err := q.Exec(ctx, `UPDATE auth_tokens SET revoked_at = $2
		WHERE staff_id = $1 AND revoked_at IS NULL AND (kind <> 'api' OR $3)`, staffID, now, apiTokensToo)
	if err != nil {
		return fmt.Errorf("auth: revoke tokens of %s: %w", staffID, err)
	}
	return nil
}

// SignOut ends the principal's session: its access and refresh tokens stop working. API
// tokens have no session; they get ErrAPITokenSignOut and stay valid.
func (s *Service) SignOut(ctx context.Context, p Principal) error {
	if p.Via == ViaAPIToken {
		return ErrAPITokenSignOut
	}
	if p.Family == "" {
		return ErrUnauthenticated
	}
	_, err := s.pool.Exec(ctx, `UPDATE auth_tokens SET revoked_at = $3
		WHERE family = $1 AND family <> '' AND staff_id = $2 AND revoked_at IS NULL`, p.Family, p.StaffID, s.now())
	if err != nil {
		return fmt.Errorf("auth: sign out: %w", err)
	}
	return nil
}

// IssueFor opens a session for a staff member whose identity something else vouched for: the
// single sign-on callback after OIDC.StaffID, with via ViaOIDC. The password lock-out does
// not apply; a disabled or unknown account gets ErrUnauthenticated.
func (s *Service) IssueFor(ctx context.Context, staffID, via string) (Tokens, error) {
	if via == "" || via == ViaAPIToken {
		return Tokens{}, &InvalidError{"via", fmt.Sprintf("%q is not a way to sign in", via)}
	}
	p := Principal{StaffID: staffID, Via: via}
	var disabled bool
	err := s.pool.QueryRow(ctx, "SELECT name, role, unit, disabled FROM staff WHERE id = $1", staffID).
		Scan(&p.Name, &p.Role, &p.Unit, &disabled)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && disabled {
		return Tokens{}, fmt.Errorf("%w: %q has no enabled staff account", ErrUnauthenticated, staffID)
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("auth: issue tokens: %w", err)
	}
	return s.openSession(ctx, s.pool, p, s.now())
}

// CreateAPIToken issues a long-lived token for an integration acting as a staff member (often
// a dedicated account such as hotline.feed). role "" means the member's role; any other role
// is refused, since a token must not act with more than its owner. ttl 0 means
// DefaultAPITokenTTL. The secret is returned this once.
func (s *Service) CreateAPIToken(ctx context.Context, staffID, name, role string, ttl time.Duration) (string, TokenInfo, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", TokenInfo{}, &InvalidError{"name", "say what the token is for"}
	case utf8.RuneCountInString(name) > 200:
		return "", TokenInfo{}, &InvalidError{"name", "must be at most 200 characters"}
	case ttl < 0:
		return "", TokenInfo{}, &InvalidError{"ttl", "must not be negative (0 means a year)"}
	case ttl > MaxAPITokenTTL:
		return "", TokenInfo{}, &InvalidError{"ttl", fmt.Sprintf("must be at most %s (two years)", MaxAPITokenTTL)}
	case ttl == 0:
		ttl = DefaultAPITokenTTL
	}
	var (
		staffRole string
		disabled  bool
	)
	err := s.pool.QueryRow(ctx, "SELECT role, disabled FROM staff WHERE id = $1", staffID).Scan(&staffRole, &disabled)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", TokenInfo{}, fmt.Errorf("%w: staff %q", ErrNotFound, staffID)
	}
	if err != nil {
		return "", TokenInfo{}, fmt.Errorf("auth: create API token: %w", err)
	}
	if disabled {
		return "", TokenInfo{}, &InvalidError{"staff", fmt.Sprintf("%s is disabled", staffID)}
	}
	if role == "" {
		role = staffRole
	}
	if role != staffRole {
		return "", TokenInfo{}, &InvalidError{"role", fmt.Sprintf(
			"%q is not the role of %s (%s): an API token acts in its owner's role; change the account's role first", role, staffID, staffRole)}
	}
	now := s.now()
	info := TokenInfo{ID: newTokenID(), Kind: KindAPI, StaffID: staffID, Role: role, Name: name, Via: ViaAPIToken,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	var secret string
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		secret, err = insertToken(ctx, tx, info.ID, "api", Principal{StaffID: staffID, Role: role, Via: ViaAPIToken},
			name, now, info.ExpiresAt)
		if err != nil {
			return err
		}
		return audit(ctx, tx, "token.create", info.ID, map[string]any{
			"staff": staffID, "role": role, "name": name, "expires_at": info.ExpiresAt})
	})
	if err != nil {
		return "", TokenInfo{}, fmt.Errorf("auth: create API token: %w", err)
	}
	return secret, info, nil
}

// RevokeToken revokes a token by its public ID. A session's token revokes the whole session.
// Revoking a revoked token is not an error.
func (s *Service) RevokeToken(ctx context.Context, id string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var family string
		err := tx.QueryRow(ctx, "SELECT family FROM auth_tokens WHERE id = $1", id).Scan(&family)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: token %q", ErrNotFound, id)
		}
		if err != nil {
			return fmt.Errorf("auth: revoke token: %w", err)
		}
		now := s.now()
		if _, err := tx.Exec(ctx, "UPDATE auth_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", id, now); err != nil {
			return fmt.Errorf("auth: revoke token: %w", err)
		}
		if err := audit(ctx, tx, "token.revoke", id, nil); err != nil {
			return err
		}
		_, err = s.revokeFamily(ctx, tx, family, now)
		return err
	})
}

// ListTokens lists the API tokens that have not expired (revoked ones too, marked) and the
// live sessions, of one staff member or ("") of everyone, by staff ID and age. No secrets:
// the register has none to give.
func (s *Service) ListTokens(ctx context.Context, staffID string) ([]TokenInfo, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT r.id, 'session', r.staff_id, r.role, r.name, r.via, f.started, r.expires_at, r.revoked_at, f.last_used
		FROM auth_tokens r
		CROSS JOIN LATERAL (SELECT min(created_at) AS started, max(last_used_at) AS last_used
			FROM auth_tokens WHERE family = r.family AND family <> '') f
		WHERE r.kind = 'refresh' AND r.revoked_at IS NULL AND r.expires_at > $2 AND ($1 = '' OR r.staff_id = $1)
		UNION ALL
		SELECT id, 'api', staff_id, role, name, via, created_at, expires_at, revoked_at, last_used_at
		FROM auth_tokens
		WHERE kind = 'api' AND expires_at > $2 AND ($1 = '' OR staff_id = $1)
		ORDER BY 3, 7, 1`, staffID, s.now())
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (TokenInfo, error) {
		var t TokenInfo
		err := row.Scan(&t.ID, &t.Kind, &t.StaffID, &t.Role, &t.Name, &t.Via, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt, &t.LastUsedAt)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	return list, nil
}
