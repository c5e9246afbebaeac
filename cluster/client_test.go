package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ic "github.com/petitions/petitions/internal/cluster"
	"github.com/petitions/petitions/workflows"
)

// The cluster test's HTTP client: it talks to every API process of the cluster, each request
// to the one its caller prefers; a request that gets no answer (the process is gone) or a
// "try again" (502, 503, 504) goes again to the next API with the same headers, so with the
// same Idempotency-Key, as a load balancer in front of the APIs would retry it.

// Demo staff (internal/register/SEED.md).
const (
	clerk      = "clerk.li"
	handler    = "handler.construction"
	supervisor = "supervisor.zhao"
)

type apiClient struct {
	t     *testing.T
	bases []string // http://host:port of each API process
	hc    *http.Client

	mu     sync.Mutex
	tokens map[string]string
	keyN   atomic.Int64
	// failovers counts requests answered by another API than the one first asked.
	failovers atomic.Int64
	// retries counts requests sent again (to any API) after no answer or a "try again".
	retries atomic.Int64
}

func newAPIClient(t *testing.T, addrs []string) *apiClient {
	a := &apiClient{t: t, tokens: map[string]string{},
		// Outwaits the API's own deadlines (20 s for an update): what it answers is the test's.
		hc: &http.Client{Timeout: 45 * time.Second}}
	for _, addr := range addrs {
		a.bases = append(a.bases, "http://"+addr)
	}
	return a
}

// key is a fresh Idempotency-Key.
func (a *apiClient) key(what string) string {
	return fmt.Sprintf("cluster-%s-%d-%d", what, time.Now().UnixNano(), a.keyN.Add(1))
}

// reply is an API's answer, or why there was none.
type reply struct {
	code     int
	body     string
	took     time.Duration
	via      int // the API that answered (index)
	attempts int
	err      error
}

func (r reply) String() string {
	if r.err != nil {
		return fmt.Sprintf("no answer after %d attempts, %s: %v", r.attempts, r.took.Round(time.Millisecond), r.err)
	}
	return fmt.Sprintf("status %d from api%d after %d attempts, %s: %.300s", r.code, r.via+1, r.attempts,
		r.took.Round(time.Millisecond), r.body)
}

func (r reply) ok(codes ...int) bool { return r.err == nil && slices.Contains(codes, r.code) }

// maxAttempts bounds the retries of one request over all APIs.
const maxAttempts = 8

// do sends a request as staff ("" for none) to API prefer first, failing over as described
// above, and decodes a 2xx JSON answer into out.
func (a *apiClient) do(prefer int, method, path, staff string, body, out any, headers ...string) reply {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			a.t.Fatal(err)
		}
	}
	began := time.Now()
	var r reply
	for attempt := 1; ; attempt++ {
		i := (prefer + attempt - 1) % len(a.bases)
		r = a.once(i, method, path, staff, raw, out, headers)
		r.attempts, r.took = attempt, time.Since(began)
		retry := r.err != nil || r.code == http.StatusBadGateway || r.code == http.StatusServiceUnavailable ||
			r.code == http.StatusGatewayTimeout
		if !retry || attempt == maxAttempts {
			if r.via != prefer%len(a.bases) {
				a.failovers.Add(1)
			}
			return r
		}
		a.retries.Add(1)
		if attempt%len(a.bases) == 0 {
			time.Sleep(time.Second) // every API asked once: give them a moment
		}
	}
}

func (a *apiClient) once(i int, method, path, staff string, raw []byte, out any, headers []string) reply {
	r := reply{via: i}
	req, err := http.NewRequest(method, a.bases[i]+path, bytes.NewReader(raw))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if staff != "" {
		req.Header.Set("Authorization", "Bearer "+a.token(staff))
	}
	for j := 0; j+1 < len(headers); j += 2 {
		req.Header.Set(headers[j], headers[j+1])
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		r.err = err
		return r
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	r.code, r.body, r.err = resp.StatusCode, string(b), err
	if err == nil && out != nil && len(b) > 0 && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			r.err = fmt.Errorf("cannot decode the answer: %w", err)
		}
	}
	return r
}

// token signs staff in once (sessions live in the register, so every API accepts the token).
func (a *apiClient) token(staff string) string {
	a.mu.Lock()
	tok, ok := a.tokens[staff]
	a.mu.Unlock()
	if ok {
		return tok
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	r := a.do(0, "POST", "/api/v1/auth/sign-in", "", map[string]any{"staff_id": staff, "password": ic.Password}, &out)
	if !r.ok(http.StatusOK) || out.AccessToken == "" {
		a.t.Fatalf("sign in as %s: %s", staff, r)
	}
	a.mu.Lock()
	a.tokens[staff] = out.AccessToken
	a.mu.Unlock()
	return out.AccessToken
}

// ---- cases ----

// tcase is one case the test registered, and the actions answered 200 on it, in order.
type tcase struct {
	no    string
	group string
	// acted cases are accepted and supervised with a deadline seconds ahead: their handling
	// ladder runs; the others run their acceptance ladder.
	acted        bool
	registeredAt time.Time
	mu           sync.Mutex
	actions      []sentAction
}

type sentAction struct {
	action  string // URL segment
	event   string // the event type it records
	opinion string
}

var phoneSeq atomic.Int64

// registration is a registration on the seconds-scale policy e2e_fast, of a petitioner of its
// own (never a repeat petition).
func registration(topic string) map[string]any {
	n := phoneSeq.Add(1)
	return map[string]any{
		"channel": "letter", "category": "appeal", "topic": topic,
		"content":     "拖欠工资 wages unpaid, " + topic,
		"petitioners": []any{map[string]any{"name": "王某", "phone": fmt.Sprintf("137%04d%04d", time.Now().Unix()%1e4, n), "address": "XX路1号"}},
		"policy":      "e2e_fast",
	}
}

// register registers a case through API prefer (failing over with the same key).
func (a *apiClient) register(prefer int, group, topic string, acted bool) (*tcase, error) {
	var out struct {
		CaseNo string `json:"case_no"`
	}
	r := a.do(prefer, "POST", "/api/v1/petitions", clerk, registration(topic), &out, "Idempotency-Key", a.key("register"))
	// 201, or 200 when a retry finds the first attempt's case by its key.
	if !r.ok(http.StatusCreated, http.StatusOK) || out.CaseNo == "" {
		return nil, fmt.Errorf("register %q: %s", topic, r)
	}
	if r.attempts > 1 {
		a.t.Logf("registration of %s answered at attempt %d by api%d: %s", out.CaseNo, r.attempts, r.via+1, r)
	}
	return &tcase{no: out.CaseNo, group: group, acted: acted, registeredAt: time.Now()}, nil
}

// act posts an action with an Idempotency-Key and notes it on the case when answered 200.
func (a *apiClient) act(prefer int, c *tcase, staff, action, event string, body map[string]any) error {
	var st workflows.CaseState
	r := a.do(prefer, "POST", "/api/v1/petitions/"+c.no+"/"+action, staff, body, &st, "Idempotency-Key", a.key(action))
	if !r.ok(http.StatusOK) {
		return fmt.Errorf("%s on %s: %s", action, c.no, r)
	}
	if r.attempts > 1 {
		a.t.Logf("%s on %s answered at attempt %d by api%d", action, c.no, r.attempts, r.via+1)
	}
	opinion, _ := body["opinion"].(string)
	c.mu.Lock()
	c.actions = append(c.actions, sentAction{action: action, event: event, opinion: opinion})
	c.mu.Unlock()
	return nil
}

func (a *apiClient) accept(prefer int, c *tcase) error {
	return a.act(prefer, c, clerk, "accept", workflows.EventAccepted, map[string]any{"unit": "construction", "handler": handler})
}

// supervise sets the handling deadline dueIn ahead: the handling ladder (reminder 3 s before,
// overdue, leader 3 s and superior 6 s after) runs within seconds.
func (a *apiClient) supervise(prefer int, c *tcase, dueIn time.Duration) error {
	return a.act(prefer, c, supervisor, "supervise", workflows.EventSupervised, map[string]any{
		"opinion":    fmt.Sprintf("督办 cluster test, case %s, %s", c.no, time.Now().Format(time.RFC3339Nano)),
		"new_due_at": time.Now().Add(dueIn).Format(time.RFC3339Nano),
	})
}

// events is the case's audit trail as the register holds it.
func (a *apiClient) events(no string) ([]workflows.Event, error) {
	var ev struct {
		Events []workflows.Event `json:"events"`
	}
	if r := a.do(0, "GET", "/api/v1/petitions/"+no+"/events", clerk, nil, &ev); !r.ok(http.StatusOK) {
		return nil, fmt.Errorf("GET events of %s: %s", no, r)
	}
	return ev.Events, nil
}
