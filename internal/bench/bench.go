// Package bench measures the service against a running stack, beside a yardstick: the least
// the same Temporal server does for a workflow of the same shape.
//
//   - RunIntake: the HTTP intake cycle (register a petition, accept it) against a bare workflow
//     started with update-with-start and given one update that runs one activity, in
//     alternating time slices, so that noise on the machine hits both alike.
//   - RunStorm: N cases on a seconds-scale policy all due at the same instant (a deadline
//     storm) against N bare workflows each with one timer to one instant: how long the ladder
//     takes to drain into the register, and whether every step was recorded once.
//
// `petitiond bench` runs both and prints the figures; the end-to-end tests run a tiny bench.
// The bare workflows run on the bench's own task queue, on a worker the bench starts itself.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
)

// Config says where the stack is and who the bench signs in as.
type Config struct {
	// APIURL is the API's base URL, e.g. http://127.0.0.1:8080.
	APIURL string
	// Temporal is a client of the stack's Temporal server with the service's data converter
	// (app.DialTemporal), so the bare workflows pay for the same payload sealing.
	Temporal client.Client
	// TaskQueue of the bench's worker (DefaultTaskQueue when empty).
	TaskQueue string
	// Worker tunes the bench's worker; keep it as the service's worker is tuned.
	Worker sdkworker.Options
	// Password of the demo accounts (the development password when empty).
	Password string
	// Clerk registers and accepts (clerk.li); Supervisor reads the audit trails
	// (supervisor.zhao); cases are accepted into Unit with Handler (construction,
	// handler.construction).
	Clerk, Supervisor, Unit, Handler string
	// Progress receives a line every ProgressEvery (5 s) on long runs; nil: none.
	Progress      io.Writer
	ProgressEvery time.Duration
	// HTTP is the HTTP client (one with a large connection pool when nil).
	HTTP *http.Client
}

// DevPassword is the development stack's password of every demo account.
const DevPassword = "petitions-dev"

func (c Config) withDefaults() (Config, error) {
	if c.APIURL == "" {
		return c, errors.New("bench: no API URL")
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	if c.Temporal == nil {
		return c, errors.New("bench: no Temporal client")
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.TaskQueue, DefaultTaskQueue)
	def(&c.Password, DevPassword)
	def(&c.Clerk, "clerk.li")
	def(&c.Supervisor, "supervisor.zhao")
	def(&c.Unit, "construction")
	def(&c.Handler, "handler.construction")
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 5 * time.Second
	}
	if c.HTTP == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 256, 256
		c.HTTP = &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	}
	return c, nil
}

func (c Config) progressf(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}

// runIDs makes the names of one process's cases, petitioners and workflows unique across runs.
var (
	processNum = time.Now().UnixMilli() % 1e7
	processTag = strconv.FormatInt(processNum, 36)
	seq        atomic.Int64
)

func nextSeq() int64 { return seq.Add(1) }

// phone is a petitioner's phone number unique to this process and sequence number, so a bench
// case is never taken for a repeat petition.
func phone(n int64) string { return fmt.Sprintf("199%07d%07d", processNum, n%1e7) }

// apiClient is one signed-in staff member talking to the API. The clients of one staff
// member share one session: the API limits sign-ins per account and address, so sixteen
// clients signing in at once would be refused.
type apiClient struct {
	cfg   Config
	staff string
	sess  *session
}

// session is a staff member's token, shared by every client of the process that acts as them.
type session struct {
	mu    sync.Mutex
	token string
}

var (
	sessionsMu sync.Mutex
	sessions   = map[string]*session{}
)

func newAPIClient(ctx context.Context, cfg Config, staff string) (*apiClient, error) {
	sessionsMu.Lock()
	key := cfg.APIURL + "|" + staff
	sess, ok := sessions[key]
	if !ok {
		sess = &session{}
		sessions[key] = sess
	}
	sessionsMu.Unlock()
	a := &apiClient{cfg: cfg, staff: staff, sess: sess}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.token == "" {
		if err := a.signIn(ctx); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// renew signs in again unless another client already did since stale was handed out.
func (a *apiClient) renew(ctx context.Context, stale string) error {
	a.sess.mu.Lock()
	defer a.sess.mu.Unlock()
	if a.sess.token != stale {
		return nil
	}
	return a.signIn(ctx)
}

// signIn gets a token (the session's lock held); a sign-in refused for its rate (429) is
// tried again after the time the API asks for.
func (a *apiClient) signIn(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		var out struct {
			AccessToken string `json:"access_token"`
		}
		code, raw, err := a.raw(ctx, "POST", "/api/v1/auth/sign-in", map[string]any{
			"staff_id": a.staff, "password": a.cfg.Password}, nil)
		if err != nil {
			return err
		}
		if code == http.StatusTooManyRequests && attempt < 10 {
			if err := sleepCtx(ctx, 3*time.Second); err != nil {
				return err
			}
			continue
		}
		if code != http.StatusOK || json.Unmarshal(raw, &out) != nil || out.AccessToken == "" {
			return fmt.Errorf("sign in as %s: status %d %s", a.staff, code, short(raw))
		}
		a.sess.token = out.AccessToken
		return nil
	}
}

// HTTPError is an answer other than the one expected.
type HTTPError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s %s: status %d %s", e.Method, e.Path, e.Status, e.Body)
}

// call sends a JSON request as the signed-in staff member and decodes an answer with one of
// the wanted statuses into out. An expired token is renewed once.
func (a *apiClient) call(ctx context.Context, method, path string, body any, want []int, out any, headers ...string) error {
	for attempt := 0; ; attempt++ {
		a.sess.mu.Lock()
		tok := a.sess.token
		a.sess.mu.Unlock()
		code, raw, err := a.raw(ctx, method, path, body, append([]string{"Authorization", "Bearer " + tok}, headers...))
		if err != nil {
			return err
		}
		if code == http.StatusUnauthorized && attempt == 0 {
			if err := a.renew(ctx, tok); err != nil {
				return err
			}
			continue
		}
		if !slices.Contains(want, code) {
			return &HTTPError{Method: method, Path: path, Status: code, Body: short(raw)}
		}
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("%s %s: %w", method, path, err)
			}
		}
		return nil
	}
}

func (a *apiClient) raw(ctx context.Context, method, path string, body any, headers []string) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.cfg.APIURL+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := a.cfg.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

func short(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// registration is the part of a registration answer the bench reads.
type registration struct {
	CaseNo string `json:"case_no"`
	State  struct {
		Deadline *struct {
			Due time.Time `json:"due"`
		} `json:"deadline"`
	} `json:"state"`
}

// register registers one petition of a fresh petitioner under policy; receivedAt may be zero.
// An answer that the service is overloaded (503, 504) is retried up to retries times with the
// same Idempotency-Key, as the API asks: the retry finishes the same case.
func (a *apiClient) register(ctx context.Context, tag string, n int64, policy string, receivedAt time.Time, retries int) (registration, error) {
	body := map[string]any{
		"channel": "letter", "category": "appeal",
		"topic":   "拖欠工资 unpaid wages " + tag,
		"content": "工地拖欠农民工工资三个月 three months of wages unpaid at a construction site (" + tag + ")",
		"petitioners": []map[string]any{{
			"name": "王某", "phone": phone(n), "address": "XX路" + strconv.FormatInt(n, 10) + "号"}},
		"policy": policy,
	}
	if !receivedAt.IsZero() {
		body["received_at"] = receivedAt.Format(time.RFC3339Nano)
	}
	var r registration
	for attempt := 0; ; attempt++ {
		// 200: a retry answered with the case the first try registered.
		err := a.call(ctx, "POST", "/api/v1/petitions", body, []int{http.StatusCreated, http.StatusOK}, &r,
			"Idempotency-Key", "bench-"+processTag+"-reg-"+strconv.FormatInt(n, 10))
		var he *HTTPError
		if errors.As(err, &he) && (he.Status == http.StatusServiceUnavailable || he.Status == http.StatusGatewayTimeout) && attempt < retries {
			if err := sleepCtx(ctx, time.Second); err != nil {
				return r, err
			}
			continue
		}
		if err == nil && r.CaseNo == "" {
			err = errors.New("registration answered without a case number")
		}
		return r, err
	}
}

// Latencies summarises a set of durations.
type Latencies struct {
	N             int
	P50, P99, Max time.Duration
}

func summarize(ds []time.Duration) Latencies {
	if len(ds) == 0 {
		return Latencies{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return Latencies{N: len(s), P50: quantile(s, 0.50), P99: quantile(s, 0.99), Max: s[len(s)-1]}
}

// quantile of sorted durations, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// ratio is a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// ms formats a duration for the tables: 812ms, 2.31s.
func ms(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < 100*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 0, 64) + "s"
}

// forEach runs fn for 0..n-1 on at most workers goroutines, stopping at the first error.
func forEach(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(workers, n)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}
