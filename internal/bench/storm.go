package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/workflows"
)

// StormOptions shapes a deadline storm.
type StormOptions struct {
	// N cases, and N bare timers (200 when 0).
	N int
	// Clients register the cases and start the bare workflows concurrently (4 when 0).
	Clients int
	// Policy the cases run under: a seconds-scale one (acceptance in seconds), as the
	// development stack's "demo" or the end-to-end tests' "e2e_fast". It must be the policy
	// the server has under that name; the bench checks the due instants it answers.
	Policy workflows.Policy
	// Lead is the time from the start of the registrations to the common due instant; 0 picks
	// it from a measured registration rate. A case's received_at may be at most two minutes
	// ahead of the server's clock, so the lead is at most 115 s + the acceptance period.
	Lead time.Duration
	// Timeout: how long after the last ladder step's due instant to wait for the register,
	// and after the bare timers' instant for them (2 min + 100 ms per case when 0).
	Timeout time.Duration
	// Poll is how often the register is asked how many cases have their last step (250 ms).
	Poll time.Duration
}

// Ladder steps, in the order they fire.
const (
	StepReminder = "reminder"
	StepOverdue  = "overdue"
	StepLeader   = "leader"
	StepSuperior = "superior"
)

// StepStats is one ladder step over every case of the storm.
type StepStats struct {
	Step string
	// Due is the step's instant (the same for every case).
	Due time.Time
	// Recorded cases have the step in their audit trail (a skipped reminder included).
	Recorded int
	// Lateness is the step's event time (when the workflow fired it) after Due.
	Lateness Latencies
}

// StormResult is a deadline storm's outcome.
type StormResult struct {
	N       int
	Clients int
	Policy  string
	Ladder  workflows.Ladder
	// Due is the common due instant of the cases' acceptance clocks; Lead the time from the
	// first registration to it.
	Due  time.Time
	Lead time.Duration
	// Registering took this long for the N cases; Late of them were answered after their
	// reminder's instant (their reminder fired at registration, outside the storm).
	Registering time.Duration
	Late        int
	Steps       []StepStats
	// LastStep is the ladder's last step, due at LastDue.
	LastStep string
	LastDue  time.Time
	// CaseDrain: from LastDue until the register showed every case at the last step (polled,
	// so up to one poll interval late); -1 if it did not within the timeout.
	CaseDrain time.Duration
	// CaseDrainEvents: from LastDue until the last case fired its last step (event time).
	CaseDrainEvents time.Duration
	// Drained cases showed their last step in the register when the wait ended.
	Drained int
	// Bare are the bare timer storms, one before the cases and one after, so that a change
	// in the machine's load during the run shows (and weighs half on the ratio).
	Bare []BareRun
	// Ladder steps in the audit trails: Expected = N × steps per clock; Recorded of them
	// (a reminder_skipped counts, it is recorded); Skipped reminders; Duplicated steps (the
	// same step twice for one clock); Missing steps.
	Expected, Recorded, Skipped, Duplicated, Missing int
	Poll                                             time.Duration
	// LoadAtDue is the machine's load average when the cases' last step was due ("" where
	// the system does not say).
	LoadAtDue string
}

// BareRun is one storm of N bare timers due at one instant.
type BareRun struct {
	// When: "before" or "after" the cases.
	When string
	Due  time.Time
	// Starting the N workflows took this long.
	Starting time.Duration
	// Fired timers; Drain from Due until the last fired (-1: not every timer fired within the
	// timeout); P50 the median lateness.
	Fired int
	Drain time.Duration
	P50   time.Duration
	// Load is the machine's load average at Due.
	Load string
}

// BareDrain is the mean drain of the bare storms that drained (-1 if none did).
func (r *StormResult) BareDrain() time.Duration {
	var sum time.Duration
	n := 0
	for _, b := range r.Bare {
		if b.Drain >= 0 {
			sum += b.Drain
			n++
		}
	}
	if n == 0 {
		return -1
	}
	return sum / time.Duration(n)
}

// DrainRatio is the cases' drain (into the register) over the bare timers' mean drain (+Inf
// when the cases did not drain within the timeout, 0 when the bare timers did not).
func (r *StormResult) DrainRatio() float64 {
	if r.CaseDrain < 0 {
		return math.Inf(1)
	}
	if r.BareDrain() < 0 {
		return 0
	}
	return ratio(float64(r.CaseDrain), float64(r.BareDrain()))
}

// WorstStep is the step whose last case fired latest after its instant: every step is a
// storm of N timers due together.
func (r *StormResult) WorstStep() StepStats {
	var w StepStats
	for _, s := range r.Steps {
		if s.Lateness.Max > w.Lateness.Max || w.Step == "" {
			w = s
		}
	}
	return w
}

// Print writes the storm's figures.
func (r *StormResult) Print(w io.Writer) {
	l := r.Ladder
	fmt.Fprintf(w, "deadline storm: %d cases on policy %s (reminder -%s, overdue 0, leader +%s, superior +%s) vs %d bare timers\n",
		r.N, r.Policy, l.ReminderBefore.Std(), l.LeaderAfter.Std(), l.SuperiorAfter.Std(), r.N)
	rate := 0.0
	if r.Registering > 0 {
		rate = float64(r.N) / r.Registering.Seconds()
	}
	fmt.Fprintf(w, "  cases registered in %s (%.1f/s, %d clients), all due at %s (lead %s); %d answered after their reminder's instant\n",
		ms(r.Registering), rate, r.Clients, r.Due.Format("15:04:05"), r.Lead.Round(time.Second), r.Late)
	fmt.Fprintf(w, "  %-9s %9s %8s %13s %13s\n", "step", "due", "recorded", "late p50", "late max")
	for _, s := range r.Steps {
		fmt.Fprintf(w, "  %-9s %9s %8d %13s %13s\n", s.Step, s.Due.Format("15:04:05"), s.Recorded,
			ms(s.Lateness.P50), ms(s.Lateness.Max))
	}
	caseDrain := "not drained within the timeout (" + strconv.Itoa(r.Drained) + " of " + strconv.Itoa(r.N) + ")"
	if r.CaseDrain >= 0 {
		caseDrain = ms(r.CaseDrain)
	}
	fmt.Fprintf(w, "  cases: last step (%s, due %s) of the last case in the register after %s (fired by %s; register polled every %s)\n",
		r.LastStep, r.LastDue.Format("15:04:05"), caseDrain, ms(r.CaseDrainEvents), r.Poll)
	for _, b := range r.Bare {
		drain := ms(b.Drain)
		if b.Drain < 0 {
			drain = "not drained within the timeout (" + strconv.Itoa(b.Fired) + " of " + strconv.Itoa(r.N) + ")"
		}
		fmt.Fprintf(w, "  bare %-6s %d timers started in %s, due %s; %d fired, the last after %s (p50 %s)\n",
			b.When+":", r.N, ms(b.Starting), b.Due.Format("15:04:05"), b.Fired, drain, ms(b.P50))
	}
	bare := r.BareDrain()
	bareDrain := ms(bare) + " (mean of the bare storms)"
	if bare < 0 {
		bareDrain = "not drained"
	}
	fmt.Fprintf(w, "  drain cases/bare: %s / %s = %.2f×\n", caseDrain, bareDrain, r.DrainRatio())
	if worst := r.WorstStep(); worst.Step != "" && bare > 0 {
		fmt.Fprintf(w, "  slowest step to fire (event time): %s, the last after %s = %.2f× the bare drain\n",
			worst.Step, ms(worst.Lateness.Max), ratio(float64(worst.Lateness.Max), float64(bare)))
	}
	fmt.Fprintf(w, "  ladder steps: %d recorded of %d, %d skipped (recorded as reminder_skipped), %d duplicated, %d missing\n",
		r.Recorded, r.Expected, r.Skipped, r.Duplicated, r.Missing)
	if r.LoadAtDue != "" {
		loads := "cases' last step " + r.LoadAtDue
		for _, b := range r.Bare {
			loads += "; bare " + b.When + " " + b.Load
		}
		fmt.Fprintf(w, "  load average when due: %s\n", loads)
	}
}

// registerRetries: a storm's registration answered 503 or 504 (the service overloaded) is
// tried again, so that every case of the storm exists.
const registerRetries = 10

// stormCase is one registered case of the storm.
type stormCase struct {
	no       string
	answered time.Time
}

// RunStorm runs N bare workflows with one timer each to one instant, then registers N cases
// due at one instant and waits for their ladders to drain into the register, reads every
// case's audit trail to count the ladder steps, and runs the bare timers once more.
func RunStorm(ctx context.Context, cfg Config, o StormOptions) (*StormResult, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.N <= 0 {
		o.N = 200
	}
	if o.Clients <= 0 {
		o.Clients = 4
	}
	if o.Timeout <= 0 {
		o.Timeout = 2*time.Minute + time.Duration(o.N)*100*time.Millisecond
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	pol := o.Policy
	if pol.Name == "" || pol.Acceptance.Unit != calendar.Seconds || pol.Acceptance.Amount <= 0 {
		return nil, fmt.Errorf("bench: the storm needs a seconds-scale policy (acceptance in seconds), not %q (%d %s)",
			pol.Name, pol.Acceptance.Amount, pol.Acceptance.Unit)
	}
	acceptance := time.Duration(pol.Acceptance.Amount) * time.Second
	ladder := pol.Ladder
	maxLead := 115*time.Second + acceptance

	stop, err := startWorker(cfg.Temporal, cfg.TaskQueue, cfg.Worker)
	if err != nil {
		return nil, fmt.Errorf("bench worker on task queue %s: %w", cfg.TaskQueue, err)
	}
	defer stop()

	clerks := make([]*apiClient, o.Clients)
	for i := range clerks {
		if clerks[i], err = newAPIClient(ctx, cfg, cfg.Clerk); err != nil {
			return nil, err
		}
	}
	sup, err := newAPIClient(ctx, cfg, cfg.Supervisor)
	if err != nil {
		return nil, err
	}
	tag := "[storm-" + processTag + "-" + strconv.FormatInt(nextSeq(), 10) + "]"

	// The registration rate decides the lead: every case must be registered before the
	// storm's first step (the reminders) is due.
	n := min(max(2*o.Clients, o.N/10), 50)
	cfg.progressf("storm: measuring the registration rate (%d cases on policy default)", n)
	t0 := time.Now()
	if err := forEach(ctx, n, o.Clients, func(ctx context.Context, i int) error {
		_, err := clerks[i%o.Clients].register(ctx, tag+"-calibration", nextSeq(), "default", time.Time{}, registerRetries)
		return err
	}); err != nil {
		return nil, fmt.Errorf("storm calibration: %w", err)
	}
	per := time.Since(t0) / time.Duration(n)
	registering := per * time.Duration(o.N)
	lead := o.Lead
	if lead <= 0 {
		// Without the margin it must fit; with it, it should (late registrations are counted).
		if ladder.ReminderBefore.Std()+5*time.Second+registering > maxLead {
			return nil, fmt.Errorf("bench: registering %d cases at the measured %.1f/s takes about %s, more than the %s a case's received_at may run ahead (policy %s); lower the storm's N, raise the clients, or give the stack a policy file with a longer seconds-scale acceptance period",
				o.N, float64(time.Second)/float64(per), registering.Round(time.Second), maxLead, pol.Name)
		}
		lead = ladder.ReminderBefore.Std() + 5*time.Second + 2*registering
	}
	res := &StormResult{N: o.N, Clients: o.Clients, Policy: pol.Name, Ladder: ladder, Poll: o.Poll, CaseDrain: -1}

	// The first bare storm, on the server as it is before the cases.
	before, err := bareStorm(ctx, cfg, o, "before", 3*time.Second+registering/2)
	if err != nil {
		return nil, err
	}
	res.Bare = append(res.Bare, before)

	lead = min(lead, maxLead)
	start := time.Now()
	due := start.Add(lead).Truncate(time.Second).Add(time.Second)
	received := due.Add(-acceptance)
	res.Due, res.Lead = due, due.Sub(start)

	steps := []stepDef{}
	if ladder.ReminderBefore > 0 {
		steps = append(steps, stepDef{StepReminder, due.Add(-ladder.ReminderBefore.Std()), 0})
	}
	steps = append(steps, stepDef{StepOverdue, due, 1})
	if ladder.LeaderAfter > 0 {
		steps = append(steps, stepDef{StepLeader, due.Add(ladder.LeaderAfter.Std()), 2})
	}
	if ladder.SuperiorAfter > 0 {
		steps = append(steps, stepDef{StepSuperior, due.Add(ladder.SuperiorAfter.Std()), 3})
	}
	last := steps[len(steps)-1]
	res.LastStep, res.LastDue = last.name, last.at
	firstStep := steps[0].at

	cfg.progressf("storm: registering %d cases on policy %s, all due at %s (in %s)",
		o.N, pol.Name, due.Format("15:04:05"), time.Until(due).Round(time.Second))
	cases := make([]stormCase, o.N)
	var regMu sync.Mutex
	registered := 0
	stopProgress := cfg.ticker(func() string {
		regMu.Lock()
		defer regMu.Unlock()
		if d := time.Until(firstStep).Round(time.Second); d < 0 {
			return fmt.Sprintf("  registered %d of %d; the first step was due %s ago", registered, o.N, -d)
		}
		return fmt.Sprintf("  registered %d of %d; the first step is due in %s", registered, o.N,
			time.Until(firstStep).Round(time.Second))
	})
	err = forEach(ctx, o.N, o.Clients, func(ctx context.Context, i int) error {
		r, err := clerks[i%o.Clients].register(ctx, tag, nextSeq(), pol.Name, received, registerRetries)
		if err != nil {
			return err
		}
		if d := r.State.Deadline; d == nil || d.Due.Sub(due).Abs() > time.Second {
			return fmt.Errorf("bench: case %s answered a due instant other than %s (%+v): the server's policy %s differs from the bench's",
				r.CaseNo, due.Format(time.RFC3339), d, pol.Name)
		}
		cases[i] = stormCase{no: r.CaseNo, answered: time.Now()}
		regMu.Lock()
		registered++
		regMu.Unlock()
		return nil
	})
	stopProgress()
	if err != nil {
		return nil, fmt.Errorf("storm registration: %w", err)
	}
	res.Registering = time.Since(start)
	for _, c := range cases {
		if c.answered.After(firstStep) {
			res.Late++
		}
	}
	if res.Late > 0 {
		cfg.progressf("storm: %d cases were registered after the first step's instant (registration slower than measured)", res.Late)
	}

	// Wait for the last step, then ask the register until every case shows it.
	cfg.progressf("storm: waiting for the ladder (%s) and the register", stepList(steps))
	if err := sleepUntil(ctx, res.LastDue); err != nil {
		return nil, err
	}
	res.LoadAtDue = loadAverage()
	deadline := res.LastDue.Add(o.Timeout)
	lastProgress := time.Now()
	for {
		n, err := countAtLevel(ctx, sup, tag, last.level)
		if err != nil {
			return nil, fmt.Errorf("storm: list the register: %w", err)
		}
		res.Drained = n
		now := time.Now()
		if n >= o.N {
			res.CaseDrain = now.Sub(res.LastDue)
			break
		}
		if now.After(deadline) {
			break
		}
		if now.Sub(lastProgress) >= cfg.ProgressEvery {
			cfg.progressf("  +%s: %d of %d cases show their %s step in the register", now.Sub(res.LastDue).Round(time.Second), n, o.N, last.name)
			lastProgress = now
		}
		if err := sleepCtx(ctx, o.Poll); err != nil {
			return nil, err
		}
	}

	// Every audit trail: steps recorded, skipped, doubled; when each fired.
	cfg.progressf("storm: reading %d audit trails", o.N)
	late := map[string][]time.Duration{}
	var trailMu sync.Mutex
	err = forEach(ctx, o.N, o.Clients, func(ctx context.Context, i int) error {
		var out struct {
			Events []workflows.Event `json:"events"`
		}
		if err := sup.call(ctx, "GET", "/api/v1/petitions/"+cases[i].no+"/events", nil, []int{http.StatusOK}, &out); err != nil {
			return err
		}
		a := analyzeLadder(out.Events, string(workflows.ClockAcceptance), ladder)
		trailMu.Lock()
		defer trailMu.Unlock()
		res.Expected += a.expected
		res.Recorded += a.recorded
		res.Skipped += a.skipped
		res.Duplicated += a.duplicated
		res.Missing += a.missing
		for _, s := range steps {
			if at, ok := a.first[s.name]; ok {
				late[s.name] = append(late[s.name], at.Sub(s.at))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storm: read the audit trails: %w", err)
	}
	for _, s := range steps {
		ls := summarize(late[s.name])
		res.Steps = append(res.Steps, StepStats{Step: s.name, Due: s.at, Recorded: ls.N, Lateness: ls})
	}
	res.CaseDrainEvents = res.Steps[len(res.Steps)-1].Lateness.Max

	// The second bare storm, on the server as the cases left it.
	after, err := bareStorm(ctx, cfg, o, "after", 3*time.Second+before.Starting*3/2)
	if err != nil {
		return nil, err
	}
	res.Bare = append(res.Bare, after)
	return res, nil
}

// stepDef is a ladder step of the storm: its name, instant and the escalation level it brings.
type stepDef struct {
	name  string
	at    time.Time
	level int
}

func stepList(steps []stepDef) string {
	s := ""
	for i, st := range steps {
		if i > 0 {
			s += ", "
		}
		s += st.name + " " + st.at.Format("15:04:05")
	}
	return s
}

// bareStorm starts N bare timer workflows due at one instant, lead from now, and waits for
// them to fire. If starting them takes longer than the lead, the storm is run again with a
// lead from the measured start time.
func bareStorm(ctx context.Context, cfg Config, o StormOptions, when string, lead time.Duration) (BareRun, error) {
	workers := 2 * o.Clients
	for attempt := 0; ; attempt++ {
		tag := processTag + "-" + strconv.FormatInt(nextSeq(), 10)
		start := time.Now()
		at := start.Add(lead).Truncate(time.Second).Add(time.Second)
		cfg.progressf("storm: starting %d bare timers due at %s (%s the cases)", o.N, at.Format("15:04:05"), when)
		runs := make([]client.WorkflowRun, o.N)
		err := forEach(ctx, o.N, workers, func(ctx context.Context, i int) error {
			run, err := cfg.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID: "bench-timer-" + tag + "-" + strconv.Itoa(i), TaskQueue: cfg.TaskQueue,
			}, BareTimerWorkflow, at)
			runs[i] = run
			return err
		})
		if err != nil {
			return BareRun{}, fmt.Errorf("storm: start the bare timers: %w", err)
		}
		started := time.Since(start)
		var (
			firedMu sync.Mutex
			fired   []time.Duration
			load    string
		)
		wctx, cancel := context.WithDeadline(ctx, at.Add(o.Timeout))
		err = func() error {
			defer cancel()
			if err := sleepUntil(wctx, at); err != nil {
				return err
			}
			load = loadAverage()
			return forEach(wctx, o.N, workers, func(ctx context.Context, i int) error {
				var t time.Time
				if err := runs[i].Get(ctx, &t); err != nil {
					if wctx.Err() != nil {
						return nil // not fired within the timeout
					}
					return err
				}
				firedMu.Lock()
				fired = append(fired, t.Sub(at))
				firedMu.Unlock()
				return nil
			})
		}()
		if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
			return BareRun{}, fmt.Errorf("storm: wait for the bare timers: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return BareRun{}, err
		}
		if start.Add(started).After(at) && attempt == 0 {
			// Some timers were started after their instant: not one storm. Once more, with
			// time enough.
			cfg.progressf("storm: starting the bare timers took %s, past their instant; again with a longer lead", ms(started))
			lead = 3*time.Second + 2*started
			continue
		}
		s := summarize(fired)
		b := BareRun{When: when, Due: at, Starting: started, Fired: s.N, Drain: max(s.Max, 0), P50: max(s.P50, 0), Load: load}
		if s.N < o.N {
			b.Drain = -1
		}
		return b, nil
	}
}

// countAtLevel counts the storm's cases (tagged in their topic) that the register shows at
// an escalation level.
func countAtLevel(ctx context.Context, api *apiClient, tag string, level int) (int, error) {
	n, cursor := 0, ""
	for {
		q := url.Values{"q": {tag}, "escalation_level": {strconv.Itoa(level)}, "limit": {"500"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Cases      []struct{} `json:"cases"`
			NextCursor string     `json:"next_cursor"`
		}
		if err := api.call(ctx, "GET", "/api/v1/petitions?"+q.Encode(), nil, []int{http.StatusOK}, &page); err != nil {
			return 0, err
		}
		n += len(page.Cases)
		if page.NextCursor == "" {
			return n, nil
		}
		cursor = page.NextCursor
	}
}

// ladderAnalysis is what one case's audit trail says about one clock's ladder.
type ladderAnalysis struct {
	expected, recorded, skipped, duplicated, missing int
	// first is when each step was first recorded (its event time).
	first map[string]time.Time
}

// analyzeLadder counts the ladder steps of one clock in a case's audit trail: each step
// expected once (a reminder either sent or recorded as skipped).
func analyzeLadder(events []workflows.Event, clock string, l workflows.Ladder) ladderAnalysis {
	a := ladderAnalysis{first: map[string]time.Time{}}
	want := []string{StepOverdue}
	if l.ReminderBefore > 0 {
		want = append(want, StepReminder)
	}
	if l.LeaderAfter > 0 {
		want = append(want, StepLeader)
	}
	if l.SuperiorAfter > 0 {
		want = append(want, StepSuperior)
	}
	a.expected = len(want)
	seen := map[string]int{}
	for _, e := range events {
		if c, _ := e.Details["clock"].(string); c != clock {
			continue
		}
		step := ""
		switch e.Type {
		case workflows.EventReminderSent:
			step = StepReminder
		case workflows.EventReminderSkipped:
			step = StepReminder
			a.skipped++
		case workflows.EventOverdue:
			step = StepOverdue
		case workflows.EventEscalated:
			switch lv, _ := e.Details["level"].(float64); lv {
			case 2:
				step = StepLeader
			case 3:
				step = StepSuperior
			default:
				step = "escalated level " + strconv.FormatFloat(lv, 'f', -1, 64)
			}
		default:
			continue
		}
		a.recorded++
		seen[step]++
		if seen[step] > 1 {
			a.duplicated++
		} else {
			a.first[step] = e.At
		}
	}
	for _, s := range want {
		if seen[s] == 0 {
			a.missing++
		}
	}
	return a
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func sleepUntil(ctx context.Context, t time.Time) error {
	if d := time.Until(t); d > 0 {
		return sleepCtx(ctx, d)
	}
	return nil
}

// ticker prints line() every ProgressEvery until the returned stop is called.
func (c Config) ticker(line func() string) (stop func()) {
	if c.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(c.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				c.progressf("%s", line())
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}
