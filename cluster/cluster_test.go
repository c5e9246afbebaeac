// Package cluster is the cluster test (`make cluster-test`): petitions as production runs it,
// on one machine. PostgreSQL (internal/localpg) holds the register and Temporal's databases,
// set up with Temporal's own temporal-sql-tool; the Temporal server runs as separate frontend,
// history, matching and worker processes; two `petitiond worker` and two `petitiond api`
// processes serve the cases. The test drives cases through both APIs, kills a worker and an
// API mid-run, rolls the workers over to a build whose workflow logic changed behind
// GetVersion while cases are mid-ladder, checks that nothing was lost, doubled or decided by
// the wrong rule, and runs the load benchmark against the cluster.
//
// It links no Temporal server (internal/cluster builds and runs it as a program), and runs only
// when PETITIONS_CLUSTER_TEST is set: it takes minutes, and its first run builds the server.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	ic "github.com/petitions/petitions/internal/cluster"
	"github.com/petitions/petitions/internal/localpg"
)

// The batch of the fault phase: cases registered through both APIs (every other one accepted
// and supervised, so its handling ladder runs too); worker1 and api1 are killed once killAfter
// of them are registered.
const (
	faultCases    = 20
	faultPace     = 400 * time.Millisecond
	killAfter     = 8
	killNotBefore = 5 * time.Second
	clients       = 4
	// upgradeOverlap: how long each new worker runs beside the old one it replaces;
	// restartGap: how long a new worker restarted mid-rollout is away (well over the sticky
	// schedule-to-start timeout, 5 s, so the tasks of the cases it held move to the old worker).
	upgradeOverlap = 4 * time.Second
	restartGap     = 12 * time.Second
)

func TestClusterFaultsAndRollingUpgrade(t *testing.T) {
	if testing.Short() {
		t.Skip("the cluster test runs a multi-process Temporal cluster for minutes")
	}
	if os.Getenv("PETITIONS_CLUSTER_TEST") == "" {
		t.Skip("the cluster test runs with make cluster-test (PETITIONS_CLUSTER_TEST=1)")
	}
	if _, err := localpg.FindBinaries(); err != nil {
		t.Skip(err)
	}
	began := time.Now()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// PETITIONS_CLUSTER_DIR keeps the run's files (logs, configuration, data) for a look
	// afterwards, in a new folder of its own; by default they go with the test.
	dir := t.TempDir()
	if keep := os.Getenv("PETITIONS_CLUSTER_DIR"); keep != "" {
		if dir, err = filepath.Abs(filepath.Join(keep, "run-"+time.Now().Format("20060102-150405"))); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	c, err := ic.Start(ctx, ic.Options{
		Dir: dir, RepoRoot: root, PolicyFile: filepath.Join(root, "e2e", "testdata", "policies.json"),
		UpgradeBuild: true, Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, svc := range ic.TemporalServices {
				p := c.Temporal.Services[svc]
				t.Logf("%s (running %t), last lines:\n%s", p.Name, p.Running(), p.Tail(15))
			}
			for _, p := range append(append([]*ic.Proc{}, c.Workers...), c.APIs...) {
				t.Logf("%s (pid %d, running %t), last lines:\n%s", p.Name, p.Pid(), p.Running(), p.Tail(25))
			}
		}
		c.Stop()
	})
	upTook := time.Since(began)
	t.Logf("cluster up in %s: Temporal frontend %s, APIs %v, PostgreSQL port %d, files in %s",
		upTook.Round(100*time.Millisecond), c.Temporal.FrontendAddr, c.APIAddrs, c.Postgres.Port(), dir)

	a := newAPIClient(t, c.APIAddrs)
	for _, s := range []string{clerk, supervisor} {
		a.token(s)
	}
	worker1, worker2 := c.Workers[0], c.Workers[1]
	api1 := c.APIs[0]
	var cases []*tcase
	var mu sync.Mutex
	add := func(cs *tcase) {
		mu.Lock()
		cases = append(cases, cs)
		mu.Unlock()
	}

	// ---- Faults: a worker and an API die without warning mid-run. ----
	faultsBegan := time.Now()
	t.Logf("== faults: %d cases through both APIs by %d clients; worker1 and api1 killed (SIGKILL) once %d are registered and %s have passed",
		faultCases, clients, killAfter, killNotBefore)
	var registered atomic.Int64
	killed := make(chan error, 1)
	stepsAtKill := make(chan int, 1)
	go func() {
		// Mid-run: killAfter cases registered, and the first ones' ladders (3 s, 6 s, …) firing.
		for (registered.Load() < killAfter || time.Since(faultsBegan) < killNotBefore) && time.Since(faultsBegan) < time.Minute {
			time.Sleep(50 * time.Millisecond)
		}
		stepsAtKill <- ladderStepsRecorded(t, c.DatabaseURL)
		var wg sync.WaitGroup
		var errW, errA error
		wg.Go(func() { errW = worker1.Kill() })
		wg.Go(func() { errA = api1.Kill() })
		wg.Wait()
		if errW == nil && errA == nil {
			t.Logf("worker1 (pid %d) and api1 (pid %d) killed with SIGKILL, %d cases registered", worker1.Pid(), api1.Pid(), registered.Load())
		}
		killed <- errors.Join(errW, errA)
	}()
	jobs := make(chan int)
	errs := make(chan error, faultCases*3)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := range jobs {
				acted := i%2 == 1
				cs, err := a.register(i%2, "faults", fmt.Sprintf("cluster faults case %d %d", i, time.Now().UnixNano()), acted)
				if err != nil {
					errs <- err
					continue
				}
				add(cs)
				registered.Add(1)
				if acted {
					if err := a.accept(i%2, cs); err != nil {
						errs <- err
						continue
					}
					if err := a.supervise((i+1)%2, cs, 6*time.Second); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	for i := range faultCases {
		jobs <- i
		time.Sleep(faultPace) // spread the ladders over the kill
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := <-killed; err != nil {
		t.Fatal(err)
	}
	before := <-stepsAtKill
	t.Logf("faults: the register held %d ladder steps when worker1 and api1 were killed", before)
	if before == 0 {
		t.Error("no ladder step had fired when worker1 and api1 were killed: the kill missed the ladders")
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("faults: %d cases registered in %s; requests sent again %d times, %d answered by the other API than the one first asked",
		len(cases), time.Since(faultsBegan).Round(100*time.Millisecond), a.retries.Load(), a.failovers.Load())
	if a.failovers.Load() == 0 {
		t.Error("no request failed over to the other API after api1 was killed")
	}
	if !worker2.Running() {
		t.Fatalf("worker2 ended: %v\n%s", worker2.Err(), worker2.Tail(20))
	}
	// Back to two of each: api1 again on its address, a worker of the old build.
	worker1b, err := c.StartWorker(ctx, "worker1b", c.Bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartAPI(ctx, "api1b", c.APIAddrs[0]); err != nil {
		t.Fatal(err)
	}

	// ---- Rolling upgrade: workers replaced one by one by the probe build, cases mid-ladder. ----
	upgradeBin, probe := c.UpgradeBin, c.UpgradeBin != ""
	if !probe {
		t.Errorf("no upgrade build, so the rolling upgrade rolls the same build and its rule is not checked: %v", c.UpgradeErr)
		upgradeBin = c.Bin
	}
	upgradeBegan := time.Now()
	t.Logf("== rolling upgrade to %s", filepath.Base(upgradeBin))
	// "old, past": their first ladder step (the acceptance reminder, 3 s) comes under the old
	// build; accepted then, and supervised after the upgrade, their handling ladder runs on the
	// new build and must keep the old rule.
	// "old, before": accepted before their first step; supervised after the upgrade, their first
	// step comes on the new build and takes the new rule.
	var oldPast, oldBefore []*tcase
	for i := range 3 {
		cs, err := a.register(i%2, "old, past", fmt.Sprintf("cluster upgrade old-past %d %d", i, time.Now().UnixNano()), true)
		if err != nil {
			t.Fatal(err)
		}
		add(cs)
		oldPast = append(oldPast, cs)
	}
	for i := range 3 {
		cs, err := a.register(i%2, "old, before", fmt.Sprintf("cluster upgrade old-before %d %d", i, time.Now().UnixNano()), true)
		if err != nil {
			t.Fatal(err)
		}
		add(cs)
		if err := a.accept(i%2, cs); err != nil {
			t.Fatal(err)
		}
		oldBefore = append(oldBefore, cs)
	}
	for i, cs := range oldPast {
		waitStep(t, a, cs, 30*time.Second)
		if err := a.accept(i%2, cs); err != nil {
			t.Fatal(err)
		}
	}
	// Cases keep coming through the whole upgrade, each running its acceptance ladder.
	stopReg, regDone := make(chan struct{}), make(chan struct{})
	var stopOnce sync.Once
	stopRegistrations := func() {
		stopOnce.Do(func() { close(stopReg) })
		<-regDone
	}
	defer stopRegistrations() // also when the test stops early
	var regErrs []error
	go func() {
		defer close(regDone)
		for i := 0; ; i++ {
			select {
			case <-stopReg:
				return
			default:
			}
			cs, err := a.register(i%2, "during", fmt.Sprintf("cluster upgrade during %d %d", i, time.Now().UnixNano()), false)
			if err != nil {
				regErrs = append(regErrs, err)
			} else {
				add(cs)
			}
			time.Sleep(1500 * time.Millisecond)
		}
	}()
	time.Sleep(6 * time.Second)
	window := upgradeWindow{From: time.Now(), probe: probe}
	stop := func(w *ic.Proc) {
		took, forced := w.Stop(30 * time.Second)
		t.Logf("%s stopped with SIGTERM in %s (killed after the grace period: %t)", w.Name, took.Round(time.Millisecond), forced)
	}
	startNew := func(name string) *ic.Proc {
		w, err := c.StartWorker(ctx, name, upgradeBin)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s (%s, pid %d) polls", name, filepath.Base(upgradeBin), w.Pid())
		return w
	}
	// Old and new side by side for a while, as a rolling update runs them: either takes the
	// next workflow task of a case the other does not hold.
	worker1n := startNew("worker1-new")
	time.Sleep(upgradeOverlap)
	stop(worker1b)
	time.Sleep(upgradeOverlap)
	// The new worker is restarted while the old one still runs (a pod moved mid-rollout): the
	// cases it held, some already marked with the new version, go to the old build for a while,
	// which replays their histories with a marker its code never asks for.
	stop(worker1n)
	time.Sleep(restartGap)
	worker1n2 := startNew("worker1-new2")
	worker2n := startNew("worker2-new")
	time.Sleep(upgradeOverlap)
	stop(worker2)
	window.To = time.Now()
	t.Logf("workers replaced one by one in %s (old and new builds side by side from %s to %s)",
		window.To.Sub(window.From).Round(100*time.Millisecond), window.From.Format("15:04:05.000"), window.To.Format("15:04:05.000"))
	for i, cs := range append(append([]*tcase{}, oldPast...), oldBefore...) {
		if err := a.supervise(i%2, cs, 5*time.Second); err != nil {
			t.Error(err)
		}
	}
	for i := range 4 {
		acted := i%2 == 1
		cs, err := a.register(i%2, "new", fmt.Sprintf("cluster upgrade new %d %d", i, time.Now().UnixNano()), acted)
		if err != nil {
			t.Fatal(err)
		}
		add(cs)
		if acted {
			if err := a.accept(i%2, cs); err != nil {
				t.Error(err)
			} else if err := a.supervise(i%2, cs, 6*time.Second); err != nil {
				t.Error(err)
			}
		}
	}
	time.Sleep(time.Until(window.To.Add(5 * time.Second)))
	stopRegistrations()
	for _, err := range regErrs {
		t.Error(err)
	}
	t.Logf("upgrade phase: %d cases in all, %s", len(cases), time.Since(upgradeBegan).Round(100*time.Millisecond))

	// ---- Verification. ----
	verifyBegan := time.Now()
	snaps := a.settle(t, cases, 90*time.Second)
	var n counts
	n.cases = len(cases)
	for _, cs := range cases {
		checkCase(t, cs, snaps[cs.no], window, &n)
	}
	n.registerRows = checkRegister(t, c.DatabaseURL, cases)
	tc, err := c.Temporal.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	oldBuild := map[int]bool{}
	for _, w := range []*ic.Proc{worker1, worker2, worker1b} {
		oldBuild[w.Pid()] = true
	}
	checkTemporal(t, tc, cases, snaps, window, oldBuild, &n)
	checkLogs(t, c.Workers)
	for _, p := range []*ic.Proc{worker1n2, worker2n, c.APIs[1], c.APIs[2]} {
		if !p.Running() {
			t.Errorf("%s ended by itself: %v\n%s", p.Name, p.Err(), p.Tail(20))
		}
	}
	for _, svc := range ic.TemporalServices {
		if p := c.Temporal.Services[svc]; !p.Running() {
			t.Errorf("temporal %s ended: %v\n%s", svc, p.Err(), p.Tail(20))
		}
	}
	t.Logf("verified in %s: %s", time.Since(verifyBegan).Round(100*time.Millisecond), n)
	t.Logf("workers: %d cases had workflow tasks completed by more than one worker process", n.moved)
	if probe {
		t.Logf("workers: old-build workers completed %d workflow tasks of cases the new build had already marked with %s-1",
			n.oldOnNew, ic.ProbeChangeID)
	}
	if probe {
		t.Logf("upgrade: first ladder step before the window %d, within %d, after %d cases; %d cases on the new rule; "+
			"%d old cases kept the old rule for steps after the upgrade; %d cases registered before it took the new rule at their first step after it",
			n.firstBefore, n.firstWithin, n.firstAfter, n.newRule, n.keptOld, n.oldTookNew)
		if n.keptOld == 0 {
			t.Error("no old case recorded a step after the upgrade: the upgrade did not catch a case mid-ladder")
		}
		if n.oldTookNew == 0 {
			t.Error("no case registered before the upgrade reached its first step after it")
		}
		if n.firstAfter == 0 {
			t.Error("no case began its ladder after the upgrade")
		}
		if n.oldOnNew == 0 {
			// Which worker takes which task is the server's choice: usually some marked case's
			// task falls into the restart gap, not always.
			t.Log("NOTE: this run's old build completed no workflow task of a case the new build had marked")
		}
	}

	// ---- The load benchmark against the cluster. ----
	if !t.Failed() {
		runBench(t, c)
	}

	t.Logf("timings: cluster up %s; faults phase %s; upgrade phase %s; whole test %s",
		upTook.Round(100*time.Millisecond), upgradeBegan.Sub(faultsBegan).Round(100*time.Millisecond),
		verifyBegan.Sub(upgradeBegan).Round(100*time.Millisecond), time.Since(began).Round(100*time.Millisecond))
	for _, tm := range c.Timings {
		t.Logf("  %-44s %s", tm.What, tm.Took.Round(10*time.Millisecond))
	}
}

// waitStep waits until the case's register holds a ladder step.
func waitStep(t *testing.T, a *apiClient, cs *tcase, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ev, err := a.events(cs.no)
		if err == nil {
			for _, e := range ev {
				if isStep(e) {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("case %s: no ladder step within %s (%v)", cs.no, d, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// runBench runs `petitiond bench` (internal/bench) against the cluster when the build has it:
// the HTTP intake cycle against a bare workflow of the same shape, and a deadline storm.
// PETITIONS_CLUSTER_BENCH=off skips it; any other value replaces the default arguments.
func runBench(t *testing.T, c *ic.Cluster) {
	t.Helper()
	spec := os.Getenv("PETITIONS_CLUSTER_BENCH")
	if spec == "off" {
		t.Log("bench: skipped (PETITIONS_CLUSTER_BENCH=off)")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := c.Petitiond.Run(ctx, c.Bin, "bench", "--help"); err != nil || !strings.Contains(out, "storm") {
		t.Logf("bench: this petitiond has no bench command yet (internal/bench); skipped")
		return
	}
	args := []string{"-c", "4", "-duration", "20s", "-slice", "5s", "-storm-n", "100", "-storm-policy", "e2e_fast", "-progress", "0"}
	if spec != "" {
		args = strings.Fields(spec)
	}
	args = append([]string{"bench", "-api", "http://" + c.APIAddrs[len(c.APIAddrs)-1]}, args...)
	began := time.Now()
	out, err := c.Petitiond.Run(ctx, c.Bin, args...)
	_ = os.WriteFile(filepath.Join(filepath.Dir(c.Bin), "..", "bench.txt"), []byte(out), 0o600)
	t.Logf("bench against the cluster (petitiond %s), %s:\n%s", strings.Join(args, " "), time.Since(began).Round(100*time.Millisecond), out)
	if err != nil {
		t.Errorf("bench: %v", err)
	}
}

// ladderStepsRecorded counts the ladder steps in the register.
func ladderStepsRecorded(t *testing.T, databaseURL string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Errorf("register: %v", err)
		return -1
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM case_events WHERE type = ANY($1)`, ladderKinds).Scan(&n); err != nil {
		t.Errorf("register: %v", err)
		return -1
	}
	return n
}
