package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRateLimiterTripsAndRecovers(t *testing.T) {
	const every = 40 * time.Millisecond
	l := newRateLimiter("for the test", every, 3)
	for i := range 3 {
		if err := l.take("a"); err != nil {
			t.Fatalf("request %d within the burst: %v", i+1, err)
		}
	}
	err := l.take("a")
	var tm *tooManyError
	if !errors.As(err, &tm) {
		t.Fatalf("request after the burst: %v, want tooManyError", err)
	}
	if tm.retryAfter <= 0 || tm.retryAfter > every {
		t.Errorf("retryAfter = %v, want within (0, %v]", tm.retryAfter, every)
	}
	if status, body := classify(err); status != http.StatusTooManyRequests || !strings.Contains(body["error"].(string), "for the test") {
		t.Errorf("classify: %d %v", status, body)
	}
	// A refused request spends nothing: the next one is allowed right after retryAfter.
	if err := l.take("b"); err != nil {
		t.Errorf("another key shares the bucket: %v", err)
	}
	time.Sleep(tm.retryAfter + 5*time.Millisecond)
	if err := l.take("a"); err != nil {
		t.Errorf("after retryAfter: %v", err)
	}
	if err := l.take("a"); err == nil {
		t.Errorf("the recovered bucket holds more than one request")
	}
	var nilLimiter *rateLimiter
	if err := nilLimiter.take("a"); err != nil {
		t.Errorf("nil limiter: %v", err)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "1", time.Millisecond: "1", time.Second: "1", 1001 * time.Millisecond: "2",
		time.Hour: "3600", -time.Second: "1",
	} {
		if got := retryAfterSeconds(d); got != want {
			t.Errorf("retryAfterSeconds(%v) = %s, want %s", d, got, want)
		}
	}
}

// publicServer is nilServer with self-service limits small enough to trip in a test.
func publicServer(perClient, perCase RateLimit) *Server {
	return New(Config{
		Policies: testPolicies, Now: func() time.Time { return fixedNow }, Logger: quietLog,
		Register: offlineRegister{}, Auth: fakeAuth{}, Accounts: fakeAuth{},
		SelfServicePerClient: perClient, SelfServicePerCase: perCase,
	})
}

func publicRequest(s *Server, no, clientAddr string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/api/v1/public/petitions/"+no, nil)
	req.RemoteAddr = clientAddr + ":40000"
	req.Header.Set(headerQueryCode, "K7QX2M9P")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	return w
}

func TestSelfServiceRateLimits(t *testing.T) {
	big := RateLimit{Every: time.Millisecond, Burst: 1000}
	// Per client address: the third request from one address is refused, another address
	// is not.
	s := publicServer(RateLimit{Every: time.Hour, Burst: 2}, big)
	for i := range 2 {
		if w := publicRequest(s, "2026-000001", "192.0.2.1"); w.Code == http.StatusTooManyRequests {
			t.Fatalf("request %d: 429 within the burst", i+1)
		}
	}
	w := publicRequest(s, "2026-000002", "192.0.2.1")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("third request from one address: status %d, want 429", w.Code)
	}
	if ra, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || ra < 3500 || ra > 3600 {
		t.Errorf("Retry-After = %q, want about 3600", w.Header().Get("Retry-After"))
	}
	if w := publicRequest(s, "2026-000001", "192.0.2.2"); w.Code == http.StatusTooManyRequests {
		t.Errorf("another address: 429")
	}

	// Per case: guessing one case's code from many addresses is refused all the same.
	s = publicServer(big, RateLimit{Every: time.Hour, Burst: 3})
	for i := range 3 {
		if w := publicRequest(s, "2026-000001", "198.51.100."+strconv.Itoa(i+1)); w.Code == http.StatusTooManyRequests {
			t.Fatalf("request %d: 429 within the burst", i+1)
		}
	}
	w = publicRequest(s, "2026-000001", "198.51.100.9")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Errorf("fourth request for one case: status %d Retry-After %q, want 429 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	if w := publicRequest(s, "2026-000002", "198.51.100.9"); w.Code == http.StatusTooManyRequests {
		t.Errorf("another case: 429")
	}
}

// TestSignInRateLimit: sign-in attempts per address and account trip after ten.
func TestSignInRateLimit(t *testing.T) {
	s := nilServer()
	for i := range 10 {
		w, body := do(t, s, http.MethodPost, "/api/v1/auth/sign-in", `{"staff_id":"clerk-1","password":"guess"}`, "Authorization", "")
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d %v, want 401", i+1, w.Code, body)
		}
	}
	w, body := do(t, s, http.MethodPost, "/api/v1/auth/sign-in", `{"staff_id":"clerk-1","password":"guess"}`, "Authorization", "")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Errorf("eleventh attempt: status %d %v Retry-After %q, want 429", w.Code, body, w.Header().Get("Retry-After"))
	}
	w, _ = do(t, s, http.MethodPost, "/api/v1/auth/sign-in", `{"staff_id":"clerk-2","password":"guess"}`, "Authorization", "")
	if w.Code != http.StatusUnauthorized {
		t.Errorf("another account: status %d, want 401", w.Code)
	}
}

// TestRateLimitIgnoresForwardedFor: a client must not escape the per-address limit by
// sending a new X-Forwarded-For with every request.
func TestRateLimitIgnoresForwardedFor(t *testing.T) {
	s := publicServer(RateLimit{Every: time.Hour, Burst: 2}, RateLimit{Every: time.Millisecond, Burst: 1000})
	for i := range 5 {
		w := publicRequest(s, "2026-00000"+strconv.Itoa(i+1), "192.0.2.1", "X-Forwarded-For", "203.0.113."+strconv.Itoa(i+1))
		if i >= 2 && w.Code != http.StatusTooManyRequests {
			t.Fatalf("request %d with a forged X-Forwarded-For: status %d, want 429", i+1, w.Code)
		}
	}
}

// TestSignInLimiterKeysAreBounded: the sign-in limiter keeps one bucket per address and
// staff ID for a minute or more, so its keys must not grow with what a client sends.
func TestSignInLimiterKeysAreBounded(t *testing.T) {
	s := nilServer()
	do(t, s, http.MethodPost, "/api/v1/auth/sign-in",
		`{"staff_id":"`+strings.Repeat("x", 1<<19)+`","password":"guess"}`, "Authorization", "")
	s.loginLimit.mu.Lock()
	defer s.loginLimit.mu.Unlock()
	for k := range s.loginLimit.buckets {
		if len(k) > 200 {
			t.Errorf("a limiter key of %d bytes", len(k))
		}
	}
}

func TestValidText(t *testing.T) {
	for s, ok := range map[string]bool{
		"":                       true,
		"unpaid wages":           true,
		"拖欠工资三个月":                true,
		"第一行\n第二行\r\n\t缩进":       true,
		"emoji 🙂 and ½":          true,
		"\u00a0nbsp and \u2028":  true,
		"nul \x00":               false,
		"\x00":                   false,
		"bell \a":                false,
		"escape \x1b[31m":        false,
		"delete \x7f":            false,
		"vertical tab \v":        false,
		"form feed \f":           false,
		"\x1f unit separator":    false,
		"invalid \xff utf-8":     false,
		"overlong \xc0\xaf":      false,
		"surrogate \xed\xa0\x80": false,
		"truncated \xe6\x8b":     false,
	} {
		if got := validText(s); got != ok {
			t.Errorf("validText(%q) = %v, want %v", s, got, ok)
		}
		if msg := textProblem(s, 100); (msg == "") != ok {
			t.Errorf("textProblem(%q) = %q, want ok=%v", s, msg, ok)
		}
	}
	if msg := textProblem(strings.Repeat("字", 10), 10); msg != "" {
		t.Errorf("10 characters of 3 bytes each counted as more than 10: %q", msg)
	}
	if msg := textProblem(strings.Repeat("字", 11), 10); !strings.Contains(msg, "at most 10 characters") {
		t.Errorf("11 characters: %q", msg)
	}
}
