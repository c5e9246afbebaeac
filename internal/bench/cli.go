package bench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	sdkworker "go.temporal.io/sdk/worker"

	"github.com/petitions/petitions/internal/app"
	"github.com/petitions/petitions/internal/config"
)

// forwarded are the service settings the bench takes, as `petitiond worker` does: the
// Temporal client's (with the office's keys for the payload codec), the policies' and the
// worker's tuning. Every other service setting is still read from its environment variable.
var forwarded = []string{
	"temporal-address", "temporal-namespace", "temporal-tls-cert", "temporal-tls-key",
	"temporal-tls-ca", "temporal-server-name", "key-file", "keys", "policy-file", "dev",
	"http-addr", "worker-concurrency", "log-level", "log-format",
}

const cliUsage = `Usage: petitiond bench [flags]

Measures a running stack (make run) against a yardstick on the same Temporal server:

  intake  C clients register a petition and accept it through the HTTP API, against a bare
          workflow of the same shape (update-with-start, then one update running one
          activity) on the bench's own task queue and worker; the two alternate in slices.
          Prints cycles, rate, p50/p99 of the cycle and of the action, and intake/bare ratios.
  storm   N cases on a seconds-scale policy all due at one instant, against N bare workflows
          with one timer each to one instant. Prints how long the ladder took to drain into
          the register and the timers to fire, their ratio, and the ladder steps recorded,
          skipped and duplicated.

Give it the stack's Temporal address and keys as a worker gets them, e.g. for make run:
  set -a; . .dev/worker.env; set +a; petitiond bench -c 4,16 -duration 60s -storm-n 200

Flags (the service's also read from their environment variables):
`

// Command is `petitiond bench`: it parses args (the service's settings come from getenv,
// overridable by flags), runs the intake for each client count and the storm, and prints.
func Command(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stdout)
	apiURL := fs.String("api", getenv("PETITIONS_API_URL"), "API base URL (env PETITIONS_API_URL; default http://<http-addr>)")
	clients := fs.String("c", "4", "concurrent clients; a list (4,16) runs the intake once per count")
	duration := fs.Duration("duration", time.Minute, "measured time of each intake run")
	cycles := fs.Int("cycles", 0, "cycles of each kind per intake run instead of -duration")
	slice := fs.Duration("slice", 5*time.Second, "how long one kind runs before the other takes over")
	policy := fs.String("policy", "default", "policy of the intake's cases")
	intake := fs.Bool("intake", true, "run the intake benchmark")
	bareLocal := fs.Bool("bare-local-activity", false, "the bare action's activity runs as a local activity (as the service's look-ups do)")
	stormN := fs.Int("storm-n", 200, "cases (and bare timers) of the deadline storm; 0: no storm")
	stormPolicy := fs.String("storm-policy", "demo", "seconds-scale policy of the storm's cases")
	stormLead := fs.Duration("storm-lead", 0, "time from the first registration to the storm's due instant (0: from the measured registration rate)")
	stormTimeout := fs.Duration("storm-timeout", 0, "how long to wait for the ladder after its last step is due, and for the bare timers (0: 2m + 100ms per case)")
	taskQueue := fs.String("task-queue", DefaultTaskQueue, "task queue of the bench's worker for the bare workflows")
	password := fs.String("password", firstNonEmpty(getenv("PETITIONS_BENCH_PASSWORD"), DevPassword), "password of the demo accounts (env PETITIONS_BENCH_PASSWORD)")
	clerk := fs.String("clerk", "clerk.li", "staff ID that registers and accepts")
	supervisor := fs.String("supervisor", "supervisor.zhao", "staff ID that reads the audit trails")
	unit := fs.String("unit", "construction", "unit the intake accepts into")
	handler := fs.String("handler", "handler.construction", "handler the intake assigns")
	progress := fs.Duration("progress", 5*time.Second, "interval of progress lines (0: none)")
	settings := map[string]*string{}
	for _, s := range config.Settings {
		for _, name := range forwarded {
			if s.Flag == name {
				// The default shown is the built-in one: the environment's value (maybe key
				// material) is read by config.Parse, never printed.
				settings[name] = fs.String(name, s.Default, fmt.Sprintf("%s (env %s)", s.Help, s.Env))
			}
		}
	}
	fs.Usage = func() {
		fmt.Fprint(stdout, cliUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected arguments %q", fs.Args())
	}
	counts, err := parseCounts(*clients)
	if err != nil {
		return err
	}
	var fwd []string
	fs.Visit(func(f *flag.Flag) {
		if _, ok := settings[f.Name]; ok {
			fwd = append(fwd, "--"+f.Name+"="+f.Value.String())
		}
	})
	cfg, _, err := config.Parse("bench", fwd, getenv, io.Discard)
	if err != nil {
		return err
	}
	if *apiURL == "" {
		*apiURL = "http://" + cfg.HTTPAddr
	}
	if err := ready(ctx, *apiURL); err != nil {
		return err
	}
	// The SDK's own lines only when asked for (its warnings include a worker's normal
	// stop): the figures go to stdout.
	level := slog.LevelError
	if strings.EqualFold(cfg.LogLevel, "debug") {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: level}))
	tc, err := app.DialTemporal(cfg, logger)
	if err != nil {
		return err
	}
	defer tc.Close()
	bc := Config{
		APIURL: *apiURL, Temporal: tc, TaskQueue: *taskQueue, Password: *password,
		Clerk: *clerk, Supervisor: *supervisor, Unit: *unit, Handler: *handler,
		Worker:        sdkworker.Options{MaxConcurrentActivityExecutionSize: cfg.WorkerConcurrency},
		ProgressEvery: *progress,
	}
	if *progress > 0 {
		bc.Progress = stdout
	}
	fmt.Fprintf(stdout, "petitiond bench: API %s, Temporal %s/%s, bench task queue %s\n", *apiURL,
		cfg.TemporalAddress, cfg.TemporalNamespace, *taskQueue)
	fmt.Fprintf(stdout, "machine: %s\n", Machine())
	if *intake {
		for _, c := range counts {
			r, err := RunIntake(ctx, bc, IntakeOptions{Clients: c, Duration: *duration, Cycles: *cycles, Slice: *slice, Policy: *policy,
				BareLocalActivity: *bareLocal})
			if r != nil {
				fmt.Fprintln(stdout)
				r.Print(stdout)
				fmt.Fprintln(stdout)
			}
			if err != nil {
				return err
			}
		}
	}
	if *stormN > 0 {
		// The storm's policy as the service has it (the demo policy is development-only).
		pcfg := cfg
		pcfg.DevMode = true
		pols, err := app.Policies(pcfg)
		if err != nil {
			return err
		}
		pol, ok := pols[*stormPolicy]
		if !ok {
			return fmt.Errorf("bench: no policy %q (PETITIONS_POLICY_FILE must be the stack's)", *stormPolicy)
		}
		if pol.Name == "" {
			pol.Name = *stormPolicy
		}
		r, err := RunStorm(ctx, bc, StormOptions{N: *stormN, Clients: counts[0], Policy: pol, Lead: *stormLead, Timeout: *stormTimeout})
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout)
		r.Print(stdout)
	}
	fmt.Fprintf(stdout, "\nmachine at the end: %s\n", Machine())
	return nil
}

// parseCounts reads "4" or "4,16".
func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1024 {
			return nil, fmt.Errorf("bench: -c takes client counts from 1 to 1024 (e.g. 4 or 4,16), not %q", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// Machine describes the machine for the figures: CPUs and, where the system says, the load.
func Machine() string {
	s := fmt.Sprintf("%d CPUs, %s/%s, %s", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	if l := loadAverage(); l != "" {
		s += ", load average " + l
	}
	return s
}

// loadAverage is the system's 1, 5 and 15 minute load averages, where it says ("" elsewhere).
func loadAverage() string {
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			return strings.Join(f[:3], " ")
		}
	}
	return ""
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// ready checks that the API answers its readiness probe.
func ready(ctx context.Context, apiURL string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimRight(apiURL, "/")+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("bench: the API at %s does not answer (is the stack running? make run): %w", apiURL, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: the API at %s is not ready (readyz: %d)", apiURL, resp.StatusCode)
	}
	return nil
}
