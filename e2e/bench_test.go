package e2e

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/app"
	"github.com/petitions/petitions/internal/bench"
)

// The load benchmark (`petitiond bench`, internal/bench) runs against a real stack: a few
// intake cycles beside the bare workflow, and a deadline storm of five cases on the
// seconds-scale e2e_fast policy beside five bare timers. The figures mean little at this
// size; the test holds the bench's working and the storm's bookkeeping: every ladder step
// recorded once, none doubled.
func TestLoadBenchTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("the load benchmark runs for about half a minute")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tc, err := app.DialTemporal(stack.Config, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	cfg := bench.Config{APIURL: baseURL, Temporal: tc, Progress: testLog{t}}

	start := time.Now()
	in, err := bench.RunIntake(ctx, cfg, bench.IntakeOptions{Clients: 2, Cycles: 4, Slice: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	in.Print(&out)
	t.Logf("intake after %s:\n%s", time.Since(start).Round(time.Millisecond), out.String())
	for _, k := range []bench.KindStats{in.Intake, in.Bare} {
		if k.Cycles != 4 || k.Errors != 0 || k.Rate <= 0 || k.Action.P99 <= 0 || k.Cycle.P99 < k.Action.P99 {
			t.Errorf("%s: %+v", k.Kind, k)
		}
	}
	if in.RateRatio() <= 0 || in.ActionP99Ratio() <= 0 {
		t.Errorf("ratios: rate %v, action p99 %v", in.RateRatio(), in.ActionP99Ratio())
	}
	if in.IntakeHistory == 0 || in.BareHistory == 0 {
		t.Errorf("history lengths: intake %d, bare %d", in.IntakeHistory, in.BareHistory)
	}

	policies, err := app.Policies(stack.Config)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	st, err := bench.RunStorm(ctx, cfg, bench.StormOptions{N: 5, Clients: 2, Policy: policies["e2e_fast"]})
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	st.Print(&out)
	t.Logf("storm after %s:\n%s", time.Since(start).Round(time.Millisecond), out.String())
	// Reminder, overdue, leader, superior for each case; a reminder the machine was too
	// slow to send in time is recorded as skipped, and counts as recorded.
	if st.Expected != 20 || st.Recorded != 20 || st.Duplicated != 0 || st.Missing != 0 {
		t.Errorf("ladder steps: %d recorded of %d, %d duplicated, %d missing", st.Recorded, st.Expected, st.Duplicated, st.Missing)
	}
	if st.CaseDrain < 0 || st.Drained != 5 || st.DrainRatio() <= 0 {
		t.Errorf("drain: cases %s (%d drained), bare %s", st.CaseDrain, st.Drained, st.BareDrain())
	}
	if len(st.Bare) != 2 {
		t.Errorf("bare storms: %+v, want one before and one after the cases", st.Bare)
	}
	for _, b := range st.Bare {
		if b.Fired != 5 || b.Drain < 0 {
			t.Errorf("bare storm %s: %+v", b.When, b)
		}
	}
	if len(st.Steps) != 4 || st.LastStep != bench.StepSuperior {
		t.Errorf("steps: %+v, last %s", st.Steps, st.LastStep)
	}
}

// testLog writes the bench's progress lines to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
