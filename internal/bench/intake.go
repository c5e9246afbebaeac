package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/petitions/petitions/workflows"
)

// IntakeOptions shapes an intake run.
type IntakeOptions struct {
	// Clients run cycles concurrently (4 when 0); each signs in once.
	Clients int
	// Duration of the measured run (60 s when 0 and Cycles is 0). With Cycles set it is a cap.
	Duration time.Duration
	// Cycles per kind; 0 runs for Duration.
	Cycles int
	// Slice is how long one kind runs before the other takes over (5 s when 0). Slices go
	// intake, bare, bare, intake, intake, bare, … so that a drift in the machine's load
	// favours neither kind.
	Slice time.Duration
	// Policy the intake cycle registers under ("default" when empty).
	Policy string
	// Warmup cycles of each kind per client before measuring (1 when 0; -1: none).
	Warmup int
	// BareLocalActivity runs the bare action's activity as a local activity: a tighter
	// yardstick, since the service's own actions use local activities where they can.
	BareLocalActivity bool
}

// KindStats are one kind's figures.
type KindStats struct {
	Kind       string
	Cycles     int
	Errors     int
	FirstError string
	// Active is the time this kind's slices took, in-flight cycles at a slice's end included.
	Active time.Duration
	// Rate is Cycles per second of Active.
	Rate float64
	// Cycle: the whole cycle; Start: the registration (update-with-start for the bare kind);
	// Action: the acceptance (the second update for the bare kind).
	Cycle, Start, Action Latencies
}

// IntakeResult is an intake run's outcome.
type IntakeResult struct {
	// BareLocalActivity: the bare action ran its activity as a local activity.
	BareLocalActivity bool
	// HistoryEvents of the last case and the last bare workflow after their cycle.
	IntakeHistory, BareHistory int64
	Clients                    int
	Slice                      time.Duration
	Slices                     int
	Elapsed                    time.Duration
	Intake, Bare               KindStats
}

// RateRatio is the intake's rate over the bare workflow's.
func (r *IntakeResult) RateRatio() float64 { return ratio(r.Intake.Rate, r.Bare.Rate) }

// CycleP99Ratio is the intake cycle's p99 over the bare cycle's.
func (r *IntakeResult) CycleP99Ratio() float64 {
	return ratio(float64(r.Intake.Cycle.P99), float64(r.Bare.Cycle.P99))
}

// ActionP99Ratio is the acceptance's p99 over the bare second update's.
func (r *IntakeResult) ActionP99Ratio() float64 {
	return ratio(float64(r.Intake.Action.P99), float64(r.Bare.Action.P99))
}

// Print writes the figures as a table with the ratios.
func (r *IntakeResult) Print(w io.Writer) {
	bare := "bare (its action's activity a regular one)"
	if r.BareLocalActivity {
		bare = "bare (its action's activity a local one)"
	}
	fmt.Fprintf(w, "intake vs %s: %d clients, %s in %d alternating slices of %s\n",
		bare, r.Clients, r.Elapsed.Round(100*time.Millisecond), r.Slices, r.Slice)
	fmt.Fprintf(w, "  %-7s %7s %6s %8s %17s %17s %17s\n",
		"kind", "cycles", "errors", "rate/s", "cycle p50/p99", "start p50/p99", "action p50/p99")
	pair := func(l Latencies) string { return ms(l.P50) + " / " + ms(l.P99) }
	for _, k := range []KindStats{r.Intake, r.Bare} {
		fmt.Fprintf(w, "  %-7s %7d %6d %8.2f %17s %17s %17s\n", k.Kind, k.Cycles, k.Errors, k.Rate,
			pair(k.Cycle), pair(k.Start), pair(k.Action))
	}
	fmt.Fprintln(w, "  (start: the registration, or the bare update-with-start; action: the acceptance, or the bare second update)")
	fmt.Fprintf(w, "  ratios intake/bare: rate %.2f×, cycle p99 %.2f×, action p99 %.2f×\n",
		r.RateRatio(), r.CycleP99Ratio(), r.ActionP99Ratio())
	if r.IntakeHistory > 0 || r.BareHistory > 0 {
		fmt.Fprintf(w, "  history events after one cycle: intake %d, bare %d\n", r.IntakeHistory, r.BareHistory)
	}
	for _, k := range []KindStats{r.Intake, r.Bare} {
		if k.FirstError != "" {
			fmt.Fprintf(w, "  first %s error: %s\n", k.Kind, k.FirstError)
		}
	}
}

// recorder collects one kind's measurements.
type recorder struct {
	kind    string
	lastID  atomic.Value // workflow ID of the last cycle
	claimed atomic.Int64
	mu      sync.Mutex
	cycle   []time.Duration
	start   []time.Duration
	action  []time.Duration
	errors  int
	first   string
	active  time.Duration
}

func (r *recorder) add(start, action time.Duration) {
	r.mu.Lock()
	r.start = append(r.start, start)
	r.action = append(r.action, action)
	r.cycle = append(r.cycle, start+action)
	r.mu.Unlock()
}

func (r *recorder) fail(err error) {
	r.mu.Lock()
	r.errors++
	if r.first == "" {
		r.first = err.Error()
	}
	r.mu.Unlock()
}

func (r *recorder) stats() KindStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := KindStats{Kind: r.kind, Cycles: len(r.cycle), Errors: r.errors, FirstError: r.first, Active: r.active,
		Cycle: summarize(r.cycle), Start: summarize(r.start), Action: summarize(r.action)}
	if r.active > 0 {
		k.Rate = float64(k.Cycles) / r.active.Seconds()
	}
	return k
}

// hopeless: a kind that has only failed so far will not get better (wrong password, no worker).
func (r *recorder) hopeless() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.errors >= 10 && len(r.cycle) == 0 {
		return fmt.Errorf("bench: every %s cycle fails; first error: %s", r.kind, r.first)
	}
	return nil
}

// cycler runs one kind's cycle for one client.
type cycler func(ctx context.Context) (start, action time.Duration, workflowID string, err error)

// intakeCycle registers a petition of a fresh petitioner and accepts it.
func intakeCycle(cfg Config, api *apiClient, policy, tag string) cycler {
	return func(ctx context.Context) (time.Duration, time.Duration, string, error) {
		n := nextSeq()
		t0 := time.Now()
		r, err := api.register(ctx, tag, n, policy, time.Time{}, 0)
		if err != nil {
			return 0, 0, "", err
		}
		t1 := time.Now()
		err = api.call(ctx, "POST", "/api/v1/petitions/"+r.CaseNo+"/accept",
			map[string]any{"unit": cfg.Unit, "handler": cfg.Handler}, []int{http.StatusOK}, nil,
			"Idempotency-Key", "bench-"+processTag+"-accept-"+strconv.FormatInt(n, 10))
		return t1.Sub(t0), time.Since(t1), workflows.WorkflowID(r.CaseNo), err
	}
}

// bareCycle starts a bare case with update-with-start and gives it its one action.
func bareCycle(cfg Config, tag string, local bool) cycler {
	c := cfg.Temporal
	return func(ctx context.Context) (time.Duration, time.Duration, string, error) {
		n := nextSeq()
		id := "bench-bare-" + tag + "-" + strconv.FormatInt(n, 10)
		t0 := time.Now()
		op := c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
			ID: id, TaskQueue: cfg.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		}, BareCaseWorkflow, BareInput{ID: id, Channel: "letter", Category: "appeal", Received: t0, Registrar: cfg.Clerk, LocalActivity: local})
		h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: op,
			UpdateOptions: client.UpdateWorkflowOptions{
				WorkflowID: id, UpdateName: BareUpdateStart, UpdateID: "start",
				WaitForStage: client.WorkflowUpdateStageCompleted,
			},
		})
		var st BareState
		if err == nil {
			err = h.Get(ctx, &st)
		}
		if err != nil {
			return 0, 0, "", fmt.Errorf("bare start %s: %w", id, err)
		}
		t1 := time.Now()
		h, err = c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: id, UpdateName: BareUpdateAct, UpdateID: "act-" + strconv.FormatInt(n, 10),
			WaitForStage: client.WorkflowUpdateStageCompleted,
			Args:         []any{BareAction{Unit: cfg.Unit, Handler: cfg.Handler}},
		})
		if err == nil {
			err = h.Get(ctx, &st)
		}
		if err != nil {
			return 0, 0, "", fmt.Errorf("bare action %s: %w", id, err)
		}
		return t1.Sub(t0), time.Since(t1), id, nil
	}
}

// historyLength is the history length of a kind's last workflow (0 if unknown).
func historyLength(ctx context.Context, c client.Client, r *recorder) int64 {
	id, _ := r.lastID.Load().(string)
	if id == "" {
		return 0
	}
	d, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return 0
	}
	return d.GetWorkflowExecutionInfo().GetHistoryLength()
}

// RunIntake runs the intake cycle and the bare cycle in alternating slices and returns both
// kinds' figures. It starts the bench's worker for the bare workflows and stops it after.
func RunIntake(ctx context.Context, cfg Config, o IntakeOptions) (*IntakeResult, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.Clients <= 0 {
		o.Clients = 4
	}
	if o.Duration <= 0 && o.Cycles <= 0 {
		o.Duration = time.Minute
	}
	if o.Slice <= 0 {
		o.Slice = 5 * time.Second
	}
	if o.Policy == "" {
		o.Policy = "default"
	}
	if o.Warmup == 0 {
		o.Warmup = 1
	}
	stop, err := startWorker(cfg.Temporal, cfg.TaskQueue, cfg.Worker)
	if err != nil {
		return nil, fmt.Errorf("bench worker on task queue %s: %w", cfg.TaskQueue, err)
	}
	defer stop()

	tag := "bench-" + processTag + "-" + strconv.FormatInt(nextSeq(), 10)
	intake, bare := &recorder{kind: "intake"}, &recorder{kind: "bare"}
	cyclers := make([][2]cycler, o.Clients)
	for i := range cyclers {
		api, err := newAPIClient(ctx, cfg, cfg.Clerk)
		if err != nil {
			return nil, err
		}
		cyclers[i] = [2]cycler{intakeCycle(cfg, api, o.Policy, tag), bareCycle(cfg, tag, o.BareLocalActivity)}
	}
	recs := [2]*recorder{intake, bare}

	if o.Warmup > 0 {
		cfg.progressf("warming up: %d cycle(s) of each kind per client", o.Warmup)
		err := forEach(ctx, o.Clients, o.Clients, func(ctx context.Context, i int) error {
			for range o.Warmup {
				for k, run := range cyclers[i] {
					if _, _, _, err := run(ctx); err != nil {
						return fmt.Errorf("warm-up %s cycle: %w", recs[k].kind, err)
					}
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}

	res := &IntakeResult{Clients: o.Clients, Slice: o.Slice, BareLocalActivity: o.BareLocalActivity}
	begin := time.Now()
	done := make(chan struct{})
	var progress sync.WaitGroup
	if cfg.Progress != nil {
		progress.Add(1)
		go func() {
			defer progress.Done()
			t := time.NewTicker(cfg.ProgressEvery)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					i, b := intake.stats(), bare.stats()
					cfg.progressf("  %5s  intake %d cycles (p99 %s, %d errors)  bare %d cycles (p99 %s, %d errors)",
						time.Since(begin).Round(time.Second), i.Cycles, ms(i.Cycle.P99), i.Errors,
						b.Cycles, ms(b.Cycle.P99), b.Errors)
				}
			}
		}()
	}
	finished := func(k int) bool { return o.Cycles > 0 && recs[k].claimed.Load() >= int64(o.Cycles) }
	for s := 0; ctx.Err() == nil; s++ {
		if s%2 == 0 && o.Duration > 0 && time.Since(begin) >= o.Duration {
			break
		}
		if finished(0) && finished(1) {
			break
		}
		k := (s + 1) / 2 % 2 // intake, bare, bare, intake, intake, bare, …
		if finished(k) {
			continue
		}
		rec, sliceStart := recs[k], time.Now()
		end := sliceStart.Add(o.Slice)
		var wg sync.WaitGroup
		for i := range cyclers {
			run := cyclers[i][k]
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil && time.Now().Before(end) {
					if o.Cycles > 0 && rec.claimed.Add(1) > int64(o.Cycles) {
						return
					}
					start, action, id, err := run(ctx)
					if err != nil {
						if ctx.Err() != nil {
							return
						}
						rec.fail(err)
						rec.claimed.Add(-1) // the cycle is owed still
						if rec.hopeless() != nil {
							return
						}
						time.Sleep(100 * time.Millisecond)
						continue
					}
					rec.add(start, action)
					rec.lastID.Store(id)
				}
			}()
		}
		wg.Wait()
		rec.mu.Lock()
		rec.active += time.Since(sliceStart)
		rec.mu.Unlock()
		res.Slices++
		if err := errors.Join(intake.hopeless(), bare.hopeless()); err != nil {
			close(done)
			progress.Wait()
			return nil, err
		}
	}
	close(done)
	progress.Wait()
	res.Elapsed = time.Since(begin)
	res.Intake, res.Bare = intake.stats(), bare.stats()
	if ctx.Err() == nil {
		res.IntakeHistory = historyLength(ctx, cfg.Temporal, intake)
		res.BareHistory = historyLength(ctx, cfg.Temporal, bare)
	}
	return res, ctx.Err()
}
