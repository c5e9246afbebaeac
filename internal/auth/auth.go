// Package auth signs staff in and tells who is calling: passwords (argon2id) with back-off
// and lock-out, short-lived access tokens with rotating refresh tokens, long-lived API tokens
// for integrations, single sign-on through the office's OpenID Connect provider, and the
// management of staff accounts.
//
// Every credential is an opaque random secret of which the register keeps only the SHA-256:
// a leaked database dump opens nothing, and revoking is a row update that takes effect on the
// next request. Nothing here logs; errors name staff IDs at most, never secrets or personal
// data.
package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// How a principal signed in (Principal.Via, TokenInfo.Via).
const (
	ViaPassword = "password"
	ViaOIDC     = "oidc"
	ViaAPIToken = "api_token"
)

// Token kinds (TokenInfo.Kind). A session is one sign-in: its access and refresh tokens.
const (
	KindAPI     = "api"
	KindSession = "session"
)

// roles are the roles the staff table accepts (its CHECK constraint is the authority).
var roles = []string{"clerk", "handler", "leader", "supervisor", "reviewer", "admin"}

// Roles returns the staff roles, in the order the directory lists them.
func Roles() []string { return slices.Clone(roles) }

var (
	// ErrNotFound: no such staff member or token.
	ErrNotFound = errors.New("auth: not found")
	// ErrExists: a staff member with that ID exists already.
	ErrExists = errors.New("auth: already exists")
	// ErrBadCredentials answers every failed password sign-in alike, so that it tells nobody
	// whether the staff ID exists, is disabled or has no password.
	ErrBadCredentials = errors.New("auth: wrong staff ID or password")
	// ErrUnauthenticated: the token is unknown, expired, revoked or of the wrong kind, or its
	// owner is disabled or has changed role.
	ErrUnauthenticated = errors.New("auth: not signed in")
	// ErrTokenReused is returned when a refresh token is presented a second time. Only the
	// client and a thief can hold it, so the whole session is revoked; it wraps
	// ErrUnauthenticated and is worth a security log line (without the token).
	ErrTokenReused = fmt.Errorf("%w: refresh token used twice, session revoked", ErrUnauthenticated)
	// ErrAPITokenSignOut: API tokens do not sign out; an administrator revokes them.
	ErrAPITokenSignOut = errors.New("auth: an API token cannot sign out; revoke it instead")
)

// LockedError refuses a sign-in while the account is locked after too many failures, even
// with the right password.
type LockedError struct {
	Until time.Time
}

func (e *LockedError) Error() string {
	return "auth: account locked after repeated failed sign-ins until " + e.Until.Format(time.RFC3339)
}

// InvalidError rejects an input field; Msg is fit to show to the administrator.
type InvalidError struct {
	Field, Msg string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Msg }

// Principal is who a request acts for. Name, Role and Unit are the staff row's at the time
// of authentication, not at sign-in.
type Principal struct {
	StaffID   string    `json:"staff_id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Unit      string    `json:"unit"`
	Via       string    `json:"via"`              // ViaPassword, ViaOIDC or ViaAPIToken
	TokenID   string    `json:"token_id"`         // the public ID of the presented token
	Family    string    `json:"family,omitempty"` // the session; empty for API tokens
	ExpiresAt time.Time `json:"expires_at"`       // when the presented token expires
}

// Config tunes the service; zero fields take their defaults.
type Config struct {
	AccessTTL      time.Duration // access token lifetime; default 15m
	RefreshTTL     time.Duration // session lifetime from sign-in (refreshing does not extend it); default 12h
	MaxFailures    int           // failed sign-ins before the account locks; default 5
	LockBase       time.Duration // first lock; doubles with every further failure; default 1m
	LockMax        time.Duration // longest lock; default 1h
	MinPasswordLen int           // in characters; default 12
	Now            func() time.Time
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.AccessTTL, 15*time.Minute)
	def(&c.RefreshTTL, 12*time.Hour)
	def(&c.LockBase, time.Minute)
	def(&c.LockMax, time.Hour)
	if c.MaxFailures <= 0 {
		c.MaxFailures = 5
	}
	if c.MinPasswordLen <= 0 {
		c.MinPasswordLen = 12
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// hashParams are the argon2id parameters of new password hashes: RFC 9106's second
// recommended option (64 MiB, 3 passes, 4 lanes), tens of milliseconds on a server. A fixed
// lane count keeps hashes identical across machines (argon2id.DefaultParams uses the CPU
// count). Tests lower it before calling New.
var hashParams = &argon2id.Params{Memory: 64 * 1024, Iterations: 3, Parallelism: 4, SaltLength: 16, KeyLength: 32}

// HashPassword returns the argon2id hash (PHC string) of a password with the parameters of new
// hashes, for tools that write many accounts at once (the development stack's demo accounts).
func HashPassword(password string) (string, error) { return argon2id.CreateHash(password, hashParams) }

// Service signs staff in and manages their accounts and tokens. It is safe for concurrent use.
type Service struct {
	pool   *pgxpool.Pool
	cfg    Config
	params *argon2id.Params

	// hashSlots bounds concurrent argon2id computations. Each holds params.Memory (64 MiB)
	// while it runs, and more of them than CPUs only wait inside the runtime holding it: a
	// burst of sign-ins queues here instead of exhausting memory.
	hashSlots chan struct{}

	dummyOnce sync.Once
	dummyHash string
}

// New returns a service on the register's pool.
func New(pool *pgxpool.Pool, cfg Config) *Service {
	return &Service{pool: pool, cfg: cfg.withDefaults(), params: hashParams,
		hashSlots: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

// hashing runs fn, an argon2id computation, when a slot is free.
func (s *Service) hashing(ctx context.Context, fn func()) error {
	select {
	case s.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.hashSlots }()
	fn()
	return nil
}

// now is the service clock at the register's precision, so that times handed out equal the
// times read back.
func (s *Service) now() time.Time { return s.cfg.Now().Truncate(time.Microsecond) }

// staffIDPattern is the shape of a staff ID: lower-case, dotted, e.g. handler.construction.
var staffIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// querier is what a pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}
