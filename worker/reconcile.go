package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/petitions/petitions/internal/intake"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// Reconciler makes sure no registered case stays without its workflow (and so without a clock):
// registration commits the register row, then starts the workflow; if the API crashes or
// Temporal is down in between and the client never retries, the row would wait forever, never
// overdue. Every Every, one worker process (an advisory lock in PostgreSQL elects it) starts the
// workflow of each row older than MinAge whose workflow has never reported. The start uses the
// case's one workflow ID and "use existing", so a case is never started twice.
type Reconciler struct {
	Store    *register.Store
	Temporal client.Client
	Policies map[string]workflows.Policy
	Log      *slog.Logger
	// Every is the sweep interval; MinAge leaves the API time to start the workflow itself.
	Every  time.Duration
	MinAge time.Duration
}

// Reconciler defaults.
const (
	ReconcileEvery  = 30 * time.Second
	ReconcileMinAge = time.Minute
	reconcileBatch  = 100
	reconcileLock   = "petitions: reconcile cases without a workflow"
)

// Run sweeps until ctx ends.
func (r *Reconciler) Run(ctx context.Context) {
	every := r.Every
	if every <= 0 {
		every = ReconcileEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
			r.Log.Warn("reconciler: sweep failed; trying again later", "error", err)
		} else if n > 0 {
			r.Log.Warn("reconciler: started the workflow of cases registered without one", "cases", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep starts the workflow of every case left without one and returns how many it started
// (or found running meanwhile). Another process sweeping at the same time makes it return 0.
func (r *Reconciler) Sweep(ctx context.Context) (int, error) {
	minAge := r.MinAge
	if minAge < 0 {
		minAge = 0
	} else if minAge == 0 {
		minAge = ReconcileMinAge
	}
	release, ok, err := r.Store.TryLock(ctx, reconcileLock)
	if err != nil || !ok {
		return 0, err
	}
	defer release()
	rows, err := r.Store.CasesWithoutWorkflow(ctx, minAge, reconcileBatch)
	if err != nil {
		return 0, err
	}
	started := 0
	var errs []error
	for _, row := range rows {
		policy, ok := r.Policies[row.Policy]
		if !ok {
			errs = append(errs, fmt.Errorf("case %s: policy %q is not configured", row.CaseNo, row.Policy))
			continue
		}
		clerk := workflows.Actor{ID: row.RegisteredBy, Role: workflows.RoleClerk}
		if st, err := r.Store.Staff(ctx, row.RegisteredBy); err == nil {
			clerk = workflows.Actor{ID: st.ID, Name: st.Name, Role: workflows.Role(st.Role), Unit: st.Unit}
		} else if !errors.Is(err, register.ErrNotFound) {
			return started, err
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := intake.Start(sctx, r.Temporal, row, policy, clerk)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("case %s: %w", row.CaseNo, err))
			continue
		}
		r.Log.Info("reconciler: started the workflow of a case registered without one", "case_no", row.CaseNo)
		started++
	}
	return started, errors.Join(errs...)
}
