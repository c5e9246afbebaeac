// Package cluster runs petitions the way production does, on one machine, for the cluster
// test (`make cluster-test`): a PostgreSQL (internal/localpg) holding the register and
// Temporal's databases, whose schemas Temporal's own temporal-sql-tool sets up; the Temporal
// server as separate frontend, history, matching and worker processes, built from the module
// the project requires; and `petitiond worker` and `petitiond api` processes configured by
// their environment.
//
// Nothing here links the Temporal server: it is built with the go command and run as a program
// (the binaries are cached per version, so only a first run pays the server's build).
package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/petitions/petitions/internal/localpg"
	"github.com/petitions/petitions/workflows"
)

// ProbeTag is the build tag of the petitiond whose workflow logic changed behind GetVersion
// (workflows/probe_clusterprobe.go), the build a rolling upgrade rolls out.
const ProbeTag = "clusterprobe"

// What the probe build changes (kept in step with workflows/probe_clusterprobe.go): every
// ladder step it records (reminder sent or skipped, overdue, escalated) carries the detail
// ProbeDetail = 1, behind workflow.GetVersion(ctx, ProbeChangeID, DefaultVersion, 1) == 1. A
// case whose first ladder step the old build recorded keeps the old rule for good; one that
// reaches its first ladder step on the new build takes the new one.
const (
	ProbeChangeID = "cluster-test-probe"
	ProbeDetail   = "upgrade_probe"
)

// Password is the password the cluster gives every seeded staff account (the dev stack's).
const Password = "petitions-dev"

// Options configures a cluster.
type Options struct {
	// Dir holds everything of the cluster: PostgreSQL's data, configuration, keys, logs and
	// the petitiond builds.
	Dir string
	// RepoRoot is the module's root folder (go.mod), where petitiond is built from.
	RepoRoot string
	// CacheDir keeps the Temporal binaries between runs (DefaultCacheDir when empty).
	CacheDir string
	// PolicyFile is PETITIONS_POLICY_FILE of every petitiond process (absolute path).
	PolicyFile string
	// Workers and APIs: how many `petitiond worker` and `petitiond api` processes to start
	// (2 each when 0).
	Workers, APIs int
	// UpgradeBuild also builds petitiond with ProbeTag (Cluster.UpgradeBin); its failure is
	// kept in Cluster.UpgradeErr, not returned.
	UpgradeBuild bool
	// TemporalLogLevel of the server's services ("warn" when empty).
	TemporalLogLevel string
	// Env is added to every petitiond process's environment (after the cluster's own).
	Env []string
	// Logf reports progress (default: nothing).
	Logf func(format string, args ...any)
}

// Timing is how long one step of the bring-up took.
type Timing struct {
	What string
	Took time.Duration
}

// Cluster is a running cluster.
type Cluster struct {
	opts     Options
	Postgres *localpg.Server
	Temporal *Temporal
	// TemporalBins are the server and SQL tool; Bin the petitiond build; UpgradeBin the one
	// with ProbeTag ("" with UpgradeErr saying why).
	TemporalBins TemporalBinaries
	Bin          string
	UpgradeBin   string
	UpgradeErr   error
	// Petitiond runs commands and processes with the cluster's environment.
	Petitiond   Petitiond
	DatabaseURL string
	KeyFile     string
	// Workers and APIs started by Start (and later by StartWorker/StartAPI), in order.
	Workers  []*Proc
	APIs     []*Proc
	APIAddrs []string
	Timings  []Timing

	mu sync.Mutex
}

// SearchAttributes are the cases' search attributes with their types.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	m := map[string]enumspb.IndexedValueType{}
	for _, k := range workflows.SearchAttributeKeys {
		m[k.GetName()] = k.GetValueType()
	}
	return m
}

// Start brings the cluster up: PostgreSQL; Temporal's schemas; the Temporal services; the
// namespace and search attributes; petitiond migrate, seed and the staff passwords; the
// workers; the APIs. petitiond is built meanwhile. On failure everything started is stopped.
func Start(ctx context.Context, o Options) (_ *Cluster, err error) {
	if o.Workers == 0 {
		o.Workers = 2
	}
	if o.APIs == 0 {
		o.APIs = 2
	}
	if o.CacheDir == "" {
		o.CacheDir = DefaultCacheDir()
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	c := &Cluster{opts: o}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	step := func(what string, began time.Time) {
		took := time.Since(began)
		c.Timings = append(c.Timings, Timing{what, took})
		o.Logf("%-44s %s", what, took.Round(10*time.Millisecond))
	}

	began := time.Now()
	if c.TemporalBins, err = BuildTemporal(ctx, o.RepoRoot, o.CacheDir, o.Logf); err != nil {
		return nil, fmt.Errorf("build the Temporal server: %w", err)
	}
	if c.TemporalBins.Built {
		step("build temporal-server and temporal-sql-tool", began)
	} else {
		step("temporal binaries from the cache", began)
		o.Logf("  %s", filepath.Dir(c.TemporalBins.Server))
	}

	// petitiond builds while PostgreSQL and Temporal come up.
	type built struct {
		what string
		took time.Duration
		err  error
	}
	builds := make(chan built, 2)
	c.Bin = filepath.Join(o.Dir, "bin", "petitiond")
	go func() {
		took, err := BuildPetitiond(ctx, o.RepoRoot, c.Bin)
		builds <- built{"build petitiond", took, err}
		if o.UpgradeBuild {
			bin := filepath.Join(o.Dir, "bin", "petitiond-"+ProbeTag)
			took, err := BuildPetitiond(ctx, o.RepoRoot, bin, ProbeTag)
			if err == nil {
				c.UpgradeBin = bin
			}
			builds <- built{"build petitiond -tags " + ProbeTag, took, err}
		}
		close(builds)
	}()
	defer func() {
		for range builds { // never leave the build behind
		}
	}()

	began = time.Now()
	c.Postgres, err = localpg.Start(ctx, localpg.Options{DataDir: filepath.Join(o.Dir, "pg"), Database: "petitions"})
	if err != nil {
		return nil, err
	}
	c.DatabaseURL = c.Postgres.URL()
	step("PostgreSQL", began)

	began = time.Now()
	if err := SetupSchema(ctx, c.TemporalBins.SQLTool, c.TemporalBins.Module.SchemaDir(), c.Postgres.Port(), o.Dir); err != nil {
		return nil, err
	}
	step("Temporal schemas (temporal-sql-tool)", began)

	began = time.Now()
	c.Temporal, err = StartTemporal(ctx, TemporalOptions{
		Dir: o.Dir, Server: c.TemporalBins.Server, PostgresPort: c.Postgres.Port(),
		LogLevel: o.TemporalLogLevel, SearchAttributes: SearchAttributes(),
	})
	if err != nil {
		return nil, err
	}
	step("Temporal services up, namespace registered", began)

	for b := range builds {
		if b.err != nil && strings.Contains(b.what, ProbeTag) {
			c.UpgradeErr = b.err
			o.Logf("%-44s failed: %v", b.what, firstLine(b.err))
			continue
		}
		if b.err != nil {
			return nil, b.err
		}
		c.Timings = append(c.Timings, Timing{b.what, b.took})
		o.Logf("%-44s %s (beside the above)", b.what, b.took.Round(10*time.Millisecond))
	}

	began = time.Now()
	c.KeyFile = filepath.Join(o.Dir, "keys.json")
	c.Petitiond = Petitiond{LogDir: o.Dir, Env: append([]string{
		"DATABASE_URL=" + c.DatabaseURL,
		"TEMPORAL_ADDRESS=" + c.Temporal.FrontendAddr,
		"TEMPORAL_NAMESPACE=default",
		"PETITIONS_KEY_FILE=" + c.KeyFile,
		"PETITIONS_DEV_MODE=true",
		"PETITIONS_POLICY_FILE=" + o.PolicyFile,
		"PETITIONS_SELF_SERVICE_PER_CLIENT=10000/min",
		"LOG_LEVEL=info",
		"LOG_FORMAT=text",
		// One-off commands listen nowhere; workers and APIs get an address each (procEnv).
		"PETITIONS_ADMIN_ADDR=off",
	}, o.Env...)}
	for _, args := range [][]string{{"keys", "generate", c.KeyFile}, {"migrate"}, {"seed"}} {
		if _, err := c.Petitiond.Run(ctx, c.Bin, args...); err != nil {
			return nil, err
		}
	}
	if _, err := SetPasswords(ctx, c.DatabaseURL, Password); err != nil {
		return nil, err
	}
	step("petitiond keys, migrate, seed, passwords", began)

	began = time.Now()
	for i := range o.Workers {
		if _, err := c.StartWorker(ctx, fmt.Sprintf("worker%d", i+1), c.Bin); err != nil {
			return nil, err
		}
	}
	for i := range o.APIs {
		addr, err := FreeAddr()
		if err != nil {
			return nil, err
		}
		if _, err := c.StartAPI(ctx, fmt.Sprintf("api%d", i+1), addr); err != nil {
			return nil, err
		}
	}
	step(fmt.Sprintf("%d workers and %d APIs up", o.Workers, o.APIs), began)
	return c, nil
}

// StartWorker starts one more `petitiond worker` process from bin.
func (c *Cluster) StartWorker(ctx context.Context, name, bin string) (*Proc, error) {
	w, err := c.Petitiond.StartWorker(ctx, name, bin)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.Workers = append(c.Workers, w)
	c.mu.Unlock()
	return w, nil
}

// StartAPI starts one more `petitiond api` process (of Bin) on addr.
func (c *Cluster) StartAPI(ctx context.Context, name, addr string) (*Proc, error) {
	a, err := c.Petitiond.StartAPI(ctx, name, c.Bin, addr)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.APIs = append(c.APIs, a)
	c.APIAddrs = append(c.APIAddrs, addr)
	c.mu.Unlock()
	return a, nil
}

// Stop stops everything in reverse order: APIs, workers, Temporal, PostgreSQL.
func (c *Cluster) Stop() {
	var wg sync.WaitGroup
	c.mu.Lock()
	procs := append(append([]*Proc{}, c.APIs...), c.Workers...)
	c.mu.Unlock()
	for _, p := range procs {
		wg.Go(func() { p.Stop(20 * time.Second) })
	}
	wg.Wait()
	if c.Temporal != nil {
		c.Temporal.Stop()
	}
	if c.Postgres != nil {
		if err := c.Postgres.Stop(); err != nil {
			c.opts.Logf("stop PostgreSQL: %v", err)
		}
	}
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
