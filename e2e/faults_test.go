package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// Fault injection, end to end on real PostgreSQL and Temporal: a batch of cases on the
// seconds-scale policy, their ladders due while a part of the system is down, staff actions
// before and after; afterwards nothing is lost and nothing happened twice (faultStack.verify).
// Each test runs a stack of its own, so the shared one is not disturbed. The whole dev stack
// killed and restarted is TestDevStackRestartKeepsCases.

// The batch: cases left alone run their acceptance ladder into the fault; accepted ones are
// supervised with a deadline seconds ahead, so their handling ladder runs into it too, and
// supervised again after it.
const (
	faultLadderCases = 6
	faultActedCases  = 3
)

// A worker process dies without warning (SIGKILL) while another shares the task queue: the
// other carries on, also with the cases the dead one had cached. Then the last worker dies and
// ladder steps come due with no worker at all; a worker started again catches up.
func TestFaultWorkerKilled(t *testing.T) {
	f := startFaultStack(t, true)
	f.petitiond()
	w1 := f.startWorker("w1")
	w2 := f.startWorker("w2")
	began := time.Now()
	cases := f.batch(faultLadderCases, faultActedCases)

	f.superviseAll(cases, "before the faults", 6*time.Second)

	// One of two workers is killed; the actions sent now are served by the other (after the
	// server gives up on the dead one's sticky queue, 5 s), and the ladders go on.
	f.faultBegins(cases)
	w1.kill(t)
	f.superviseAll(cases, "with one worker left", 0)
	time.Sleep(time.Until(began.Add(8 * time.Second)))
	w2.alive(t)
	if n := f.ladderSteps(cases); n <= f.stepsBefore {
		t.Errorf("no ladder step recorded while w2 ran alone (%d before, %d now)", f.stepsBefore, n)
	} else {
		t.Logf("w2 alone recorded %d ladder steps", n-f.stepsBefore)
	}

	// The last worker is killed: the leader and superior steps, and the handling ladders, come
	// due while no worker runs.
	w2.kill(t)
	down := time.Now()
	time.Sleep(10 * time.Second)
	w3 := f.startWorker("w3")
	t.Logf("no worker for %s", time.Since(down).Round(100*time.Millisecond))

	f.superviseAll(cases, "after the faults", 0)
	f.verify(cases, 90*time.Second)
	w3.alive(t)
}

// PostgreSQL stops for longer than an activity's first retries, while ladders come due. The API
// answers 503 within a few seconds all along (sign-in checks, lists, registrations, actions),
// nothing is half-done, and once PostgreSQL is back the register catches up with every case.
func TestFaultPostgresDown(t *testing.T) {
	f := startFaultStack(t, false)
	cases := f.batch(faultLadderCases, faultActedCases)
	f.superviseAll(cases, "before the outage", 6*time.Second)
	var acted *faultCase
	for _, c := range cases {
		if c.acted {
			acted = c
		}
	}

	f.faultBegins(cases)
	if err := f.s.StopPostgres(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	unavailable := []int{http.StatusServiceUnavailable}
	fast := 5 * time.Second
	probeDuring(t, 16*time.Second, 3*time.Second,
		&outageProbe{name: "GET /api/v1/petitions", want: unavailable, fast: fast, call: func() faultReply {
			return f.do("GET", "/api/v1/petitions", clerk, nil, nil)
		}},
		&outageProbe{name: "GET /api/v1/petitions/{no}", want: unavailable, fast: fast, call: func() faultReply {
			return f.do("GET", "/api/v1/petitions/"+acted.no, clerk, nil, nil)
		}},
		&outageProbe{name: "POST /api/v1/petitions", want: unavailable, fast: fast, call: func() faultReply {
			_, r := f.register(f.key("register"), faultRegistration(fmt.Sprintf("%s during the outage %d", t.Name(), time.Now().UnixNano())))
			return r
		}},
		&outageProbe{name: "POST /api/v1/petitions/{no}/supervise", want: unavailable, fast: fast, call: func() faultReply {
			return f.do("POST", "/api/v1/petitions/"+acted.no+"/supervise", supervisor,
				map[string]any{"opinion": "督办 during the outage, refused"}, nil, "Idempotency-Key", f.key("supervise"))
		}},
	)
	if err := f.s.StartPostgres(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL down for %s", time.Since(down).Round(100*time.Millisecond))

	f.superviseAll(cases, "after the outage", 0)
	f.verify(cases, 120*time.Second)
}

// The Temporal server stops while ladders come due and starts again on the same database. The
// register stays readable meanwhile; a registration answers "try again" and, retried with its
// Idempotency-Key once Temporal is back, makes one case with its workflow; the clients of the
// API and the worker reconnect by themselves and every timer due during the outage fires once.
func TestFaultTemporalDown(t *testing.T) {
	f := startFaultStack(t, false)
	cases := f.batch(faultLadderCases, faultActedCases)
	f.superviseAll(cases, "before the outage", 6*time.Second)

	f.faultBegins(cases)
	f.s.StopTemporal()
	down := time.Now()
	// A registration while Temporal is down: the register may keep its row, the workflow cannot
	// start. It must say so (503, or 504 "may still complete"), never 500, within
	// faultHTTPTimeout; the client waits longer, so that the test reports what comes when.
	regKey, regBody := f.key("register"), faultRegistration(t.Name()+" registered during the outage")
	var firstNo string
	registered := make(chan faultReply, 1)
	go func() {
		no, r := f.registerWith(&http.Client{Timeout: 40 * time.Second}, regKey, regBody)
		firstNo = no
		if no == "" { // an error answer may name the case the register keeps
			var b struct {
				CaseNo string `json:"case_no"`
			}
			_ = json.Unmarshal([]byte(r.body), &b)
			firstNo = b.CaseNo
		}
		registered <- r
	}()
	ok := []int{http.StatusOK}
	fast := 5 * time.Second
	probeDuring(t, 12*time.Second, 2*time.Second,
		&outageProbe{name: "GET /api/v1/petitions", want: ok, fast: fast, call: func() faultReply {
			return f.do("GET", "/api/v1/petitions", clerk, nil, nil)
		}},
		&outageProbe{name: "GET /api/v1/petitions/{no}/events", want: ok, fast: fast, call: func() faultReply {
			return f.do("GET", "/api/v1/petitions/"+cases[0].no+"/events", clerk, nil, nil)
		}},
		&outageProbe{name: "GET /api/v1/petitions/{no}", want: ok, fast: fast, call: func() faultReply {
			return f.do("GET", "/api/v1/petitions/"+cases[0].no, clerk, nil, nil)
		}},
	)
	if err := f.s.StartTemporal(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("Temporal down for %s", time.Since(down).Round(100*time.Millisecond))
	r := <-registered
	t.Logf("registration while Temporal is down: %s", r)
	if r.err != nil || (r.code != http.StatusServiceUnavailable && r.code != http.StatusGatewayTimeout) || r.took > faultHTTPTimeout {
		t.Errorf("registration while Temporal is down: %s; want 503 or 504 within %s", r, faultHTTPTimeout)
	}

	// The clerk retries the registration with the same key: one case, now with its workflow.
	var no string
	for attempt := 1; ; attempt++ {
		// 201, or 200 when the first attempt's register row is found again by its key. The
		// clients reconnect to the restarted server lazily (up to ~10 s), so the clerk waits
		// as long as the API promises to answer within, and retries a timeout like a 503.
		no, r = f.registerWith(f.patient, regKey, regBody)
		if r.err == nil && (r.code == http.StatusCreated || r.code == http.StatusOK) && no != "" {
			t.Logf("registration retried after the outage: %s", r)
			break
		}
		if attempt == 10 || (r.err == nil && r.code != http.StatusServiceUnavailable && r.code != http.StatusGatewayTimeout) {
			t.Fatalf("registration retried after the outage: %s", r)
		}
		t.Logf("registration retried after the outage: %s; again", r)
		time.Sleep(2 * time.Second)
	}
	if firstNo != "" && no != firstNo {
		t.Errorf("the retried registration made case %s, the first attempt answered %s", no, firstNo)
	}
	t.Logf("the registration made during the outage is case %s (the first answer named %q)", no, firstNo)
	cases = append(cases, &faultCase{no: no})

	f.superviseAll(cases, "after the outage", 0)
	f.verify(cases, 90*time.Second)
}

// The dev stack's own worker is stopped (gracefully, devstack.StopWorker) while ladders come
// due, and started again in the process: nothing moves meanwhile, everything catches up after.
// The API stays up throughout, at the same address.
func TestFaultInProcessWorkerStopped(t *testing.T) {
	f := startFaultStack(t, false)
	cases := f.batch(2, 1)
	f.superviseAll(cases, "before the stop", 6*time.Second)
	f.faultBegins(cases)
	addr := f.s.Service.Addr()
	if err := f.s.StopWorker(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	if f.s.WorkerRunning() || f.s.Service.Addr() != addr {
		t.Fatalf("after StopWorker: worker running %t, API at %s (was %s)", f.s.WorkerRunning(), f.s.Service.Addr(), addr)
	}
	probeDuring(t, 13*time.Second, 3*time.Second,
		&outageProbe{name: "GET /api/v1/petitions", want: []int{http.StatusOK}, fast: 5 * time.Second, call: func() faultReply {
			return f.do("GET", "/api/v1/petitions", clerk, nil, nil)
		}},
	)
	// Without a worker no step can have been recorded since.
	for _, c := range cases {
		var ev struct {
			Events []struct{ Type string } `json:"events"`
		}
		if r := f.do("GET", "/api/v1/petitions/"+c.no+"/events", clerk, nil, &ev); r.err != nil || r.code != http.StatusOK {
			t.Fatalf("events of %s: %s", c.no, r)
		}
		t.Logf("case %s while no worker ran: %d events", c.no, len(ev.Events))
	}
	if err := f.s.StartWorker(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !f.s.WorkerRunning() {
		t.Fatal("StartWorker: no worker running")
	}
	t.Logf("no worker for %s", time.Since(down).Round(100*time.Millisecond))
	f.superviseAll(cases, "after the stop", 0)
	f.verify(cases, 60*time.Second)
}
