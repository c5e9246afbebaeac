package api

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"
)

// rateLimiter keeps one token bucket per key (a client address, a case number). Buckets idle
// for longer than it takes to refill are dropped, so the map stays as small as the traffic.
// Limits are per API process: several replicas behind a load balancer each count their own.
type rateLimiter struct {
	mu      sync.Mutex
	every   time.Duration
	burst   int
	buckets map[string]*bucket
	swept   time.Time
	what    string
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// newRateLimiter allows burst requests at once and then one per every, per key.
func newRateLimiter(what string, every time.Duration, burst int) *rateLimiter {
	return &rateLimiter{every: every, burst: burst, buckets: map[string]*bucket{}, what: what}
}

// tooManyError: a rate limit tripped; Retry-After says when to come back.
type tooManyError struct {
	what       string
	retryAfter time.Duration
}

func (e *tooManyError) Error() string { return "too many requests " + e.what }

// take spends one request of key, or says when the next one is allowed.
func (l *rateLimiter) take(key string) error {
	if l == nil {
		return nil
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		full := l.every * time.Duration(l.burst)
		for k, b := range l.buckets {
			if now.Sub(b.seen) > full {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return &tooManyError{what: l.what, retryAfter: d}
	}
	return nil
}

// retryAfterSeconds is a Retry-After value: whole seconds, at least one.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// validText reports whether s can be stored and shown: valid UTF-8 without NUL or other C0
// control characters except tab, newline and carriage return. PostgreSQL refuses NUL in text
// and jsonb, so letting one through would fail a case's projection later, not this request.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return false
		}
	}
	return true
}

// textProblem describes what is wrong with a free-text field, or "" when it is fine.
func textProblem(s string, maxRunes int) string {
	if !validText(s) {
		return "must be valid UTF-8 text without control characters"
	}
	if utf8.RuneCountInString(s) > maxRunes {
		return "must be at most " + strconv.Itoa(maxRunes) + " characters"
	}
	return ""
}

// trimAll trims every string pointed to.
func trimAll(ps ...*string) {
	for _, p := range ps {
		*p = strings.TrimSpace(*p)
	}
}
