package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Temporal's databases on the cluster's PostgreSQL.
const (
	TemporalDB   = "temporal"
	VisibilityDB = "temporal_visibility"
)

// TemporalServices are the server's services, each run as a process of its own.
var TemporalServices = []string{"frontend", "history", "matching", "worker"}

// SetupSchema creates Temporal's two databases and brings their schemas to the module's
// latest version with the server's own tool, as an operator does for a new cluster:
// create-database, setup-schema -v 0.0, update-schema -d <versioned folder>. Repeating it on
// set-up databases changes nothing.
func SetupSchema(ctx context.Context, sqlTool, schemaDir string, pgPort int, logDir string) error {
	base := []string{"--endpoint", "127.0.0.1", "--port", strconv.Itoa(pgPort), "--user", "postgres",
		"--plugin", "postgres12"}
	var log strings.Builder
	for _, db := range []struct{ name, dir string }{
		{TemporalDB, filepath.Join(schemaDir, "temporal", "versioned")},
		{VisibilityDB, filepath.Join(schemaDir, "visibility", "versioned")},
	} {
		if _, err := os.Stat(db.dir); err != nil {
			return fmt.Errorf("temporal schema: %w", err)
		}
		for _, step := range [][]string{
			{"create-database"},
			{"setup-schema", "--version", "0.0"},
			{"update-schema", "--schema-dir", db.dir},
		} {
			args := append(append(append([]string{}, base...), "--database", db.name), step...)
			out, err := run(ctx, "/", nil, sqlTool, args...)
			fmt.Fprintf(&log, "$ temporal-sql-tool %s\n%s\n", strings.Join(args, " "), out)
			if err != nil && !(step[0] == "create-database" && strings.Contains(out, "already exists")) {
				_ = os.WriteFile(filepath.Join(logDir, "temporal-sql-tool.log"), []byte(log.String()), 0o600)
				return fmt.Errorf("temporal schema (%s): %w", db.name, err)
			}
		}
	}
	return os.WriteFile(filepath.Join(logDir, "temporal-sql-tool.log"), []byte(log.String()), 0o600)
}

// TemporalOptions configures the server processes.
type TemporalOptions struct {
	// Dir holds the configuration files and the services' logs.
	Dir    string
	Server string // temporal-server binary
	// PostgresPort is the cluster's PostgreSQL (user postgres, no password) with the schemas
	// set up (SetupSchema).
	PostgresPort int
	// HistoryShards: 4 when 0. Fixed for the life of a cluster.
	HistoryShards int
	// LogLevel of the services: "warn" when empty.
	LogLevel string
	// Namespace to register ("default" when empty) with Retention (1 day when 0) and the
	// SearchAttributes.
	Namespace        string
	Retention        time.Duration
	SearchAttributes map[string]enumspb.IndexedValueType
	// DynamicConfig is written into the dynamic configuration file, beside the cluster's own
	// settings (key: value, for every namespace and task queue).
	DynamicConfig map[string]any
}

// Temporal is a running multi-process Temporal server.
type Temporal struct {
	opts         TemporalOptions
	FrontendAddr string
	ConfigFile   string
	// Services by name (frontend, history, matching, worker).
	Services map[string]*Proc
	ports    map[string][2]int // grpc, membership
}

// StartTemporal writes the server's configuration (PostgreSQL persistence for the default
// and the visibility store, every service on 127.0.0.1 with ports of its own, membership on
// 127.0.0.1), starts each service as a process of its own (`temporal-server --config-file …
// --allow-no-auth start --service <name>`), waits until the frontend, history and matching
// answer, and registers the namespace and its search attributes through the frontend's
// workflow and operator services.
func StartTemporal(ctx context.Context, o TemporalOptions) (_ *Temporal, err error) {
	if o.HistoryShards == 0 {
		o.HistoryShards = 4
	}
	if o.LogLevel == "" {
		o.LogLevel = "warn"
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.Retention == 0 {
		o.Retention = 24 * time.Hour
	}
	t := &Temporal{opts: o, Services: map[string]*Proc{}, ports: map[string][2]int{}}
	defer func() {
		if err != nil {
			t.Stop()
		}
	}()
	taken := map[int]bool{}
	for _, svc := range TemporalServices {
		var ports [2]int
		for i := range ports {
			for ports[i] == 0 || taken[ports[i]] {
				if ports[i], err = freeLowPort(); err != nil {
					return nil, err
				}
			}
			taken[ports[i]] = true
		}
		t.ports[svc] = ports
	}
	t.FrontendAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(t.ports["frontend"][0]))
	if err := t.writeConfig(); err != nil {
		return nil, err
	}
	// The first service to start writes the cluster's metadata; services starting together race
	// for it and the losers exit ("duplicate key value violates unique constraint
	// cluster_metadata_info_pkey"). So the frontend first, the others once it answers.
	if err := t.StartService("frontend"); err != nil {
		return nil, err
	}
	if err := t.waitFrontend(ctx, time.Minute); err != nil {
		return nil, err
	}
	for _, svc := range TemporalServices[1:] {
		if err := t.StartService(svc); err != nil {
			return nil, err
		}
	}
	if err := t.waitServing(ctx, 2*time.Minute); err != nil {
		return nil, err
	}
	if err := t.registerNamespace(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// StartService starts one service's process (again, after it was stopped).
func (t *Temporal) StartService(svc string) error {
	if p := t.Services[svc]; p != nil && p.Running() {
		return fmt.Errorf("temporal %s runs already (pid %d)", svc, p.Pid())
	}
	p, err := startProc("temporal-"+svc, filepath.Join(t.opts.Dir, "temporal-"+svc+".log"), nil, t.opts.Server,
		"--config-file", t.ConfigFile, "--allow-no-auth", "start", "--service", svc)
	if err != nil {
		return err
	}
	t.Services[svc] = p
	return nil
}

// Stop stops every service (SIGTERM, then SIGKILL after 20 s), the frontend first.
func (t *Temporal) Stop() {
	for _, svc := range TemporalServices {
		if p := t.Services[svc]; p != nil {
			p.Stop(20 * time.Second)
		}
	}
}

// Dial connects a plain client to the frontend (no data converter: for operator calls and
// for reading what is not sealed).
func (t *Temporal) Dial(ctx context.Context) (client.Client, error) {
	return client.DialContext(ctx, client.Options{HostPort: t.FrontendAddr, Namespace: t.opts.Namespace,
		Logger: sdklog.NewStructuredLogger(discardLogger())})
}

var configTemplate = template.Must(template.New("temporal").Parse(`# Written by internal/cluster: the petitions cluster test's Temporal server.
log:
  stdout: true
  level: {{.LogLevel}}
  format: json

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: {{.Shards}}
  datastores:
    postgres-default:
      sql:
        pluginName: "postgres12"
        databaseName: "{{.TemporalDB}}"
        connectAddr: "127.0.0.1:{{.PGPort}}"
        connectProtocol: "tcp"
        user: "postgres"
        password: ""
        maxConns: 8
        maxIdleConns: 8
        maxConnLifetime: "1h"
    postgres-visibility:
      sql:
        pluginName: "postgres12"
        databaseName: "{{.VisibilityDB}}"
        connectAddr: "127.0.0.1:{{.PGPort}}"
        connectProtocol: "tcp"
        user: "postgres"
        password: ""
        maxConns: 3
        maxIdleConns: 3
        maxConnLifetime: "1h"

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"

services:
{{- range .Services}}
  {{.Name}}:
    rpc:
      grpcPort: {{.GRPC}}
      membershipPort: {{.Membership}}
      bindOnIP: "127.0.0.1"
{{- end}}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "{{.Frontend}}"

dcRedirectionPolicy:
  policy: "noop"

archival:
  history:
    state: "disabled"
  visibility:
    state: "disabled"

namespaceDefaults:
  archival:
    history:
      state: "disabled"
    visibility:
      state: "disabled"

publicClient:
  hostPort: "{{.Frontend}}"

dynamicConfigClient:
  filepath: "{{.DynamicConfigFile}}"
  pollInterval: "10s"
`))

func (t *Temporal) writeConfig() error {
	type svc struct {
		Name             string
		GRPC, Membership int
	}
	var svcs []svc
	for _, name := range TemporalServices {
		svcs = append(svcs, svc{name, t.ports[name][0], t.ports[name][1]})
	}
	dynFile := filepath.Join(t.opts.Dir, "temporal-dynamicconfig.yaml")
	dyn := map[string]any{
		// Staff act on cases through Workflow Updates (update-with-start registers them).
		"frontend.enableUpdateWorkflowExecution": true,
		// Search attributes registered a moment ago are usable at once.
		"system.forceSearchAttributesCacheRefreshOnRead": true,
		// The tests and the benchmark list and count through visibility.
		"frontend.namespaceRPS.visibility": 100,
	}
	for k, v := range t.opts.DynamicConfig {
		dyn[k] = v
	}
	var b strings.Builder
	b.WriteString("# Written by internal/cluster.\n")
	for k, v := range dyn {
		fmt.Fprintf(&b, "%s:\n  - value: %v\n", k, yamlScalar(v))
	}
	if err := os.WriteFile(dynFile, []byte(b.String()), 0o600); err != nil {
		return err
	}
	var conf strings.Builder
	if err := configTemplate.Execute(&conf, map[string]any{
		"LogLevel": t.opts.LogLevel, "Shards": t.opts.HistoryShards, "TemporalDB": TemporalDB,
		"VisibilityDB": VisibilityDB, "PGPort": t.opts.PostgresPort, "Services": svcs,
		"Frontend": t.FrontendAddr, "DynamicConfigFile": dynFile,
	}); err != nil {
		return err
	}
	t.ConfigFile = filepath.Join(t.opts.Dir, "temporal.yaml")
	return os.WriteFile(t.ConfigFile, []byte(conf.String()), 0o600)
}

func yamlScalar(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

// waitFrontend waits until the frontend answers GetSystemInfo (it runs alone for now).
func (t *Temporal) waitFrontend(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	p := t.Services["frontend"]
	for {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		c, err := client.DialContext(cctx, client.Options{HostPort: t.FrontendAddr, Namespace: "temporal-system",
			Logger: sdklog.NewStructuredLogger(discardLogger())})
		cancel()
		if err == nil {
			c.Close()
			return nil
		}
		if !p.Running() {
			return fmt.Errorf("temporal frontend ended (%v):\n%s", p.Err(), p.Tail(30))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("temporal frontend does not answer after %s: %v\n%s", timeout, err, p.Tail(30))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// waitServing waits until the frontend answers and reaches history and matching: a
// DescribeTaskQueue (matching) succeeds and a DescribeWorkflowExecution of a workflow that
// does not exist answers NotFound (history) in the system namespace.
func (t *Temporal) waitServing(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		for svc, p := range t.Services {
			if !p.Running() {
				return fmt.Errorf("temporal %s ended (%v):\n%s", svc, p.Err(), p.Tail(30))
			}
		}
		last = t.probe(ctx)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the Temporal cluster does not serve after %s: %v", timeout, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (t *Temporal) probe(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := client.DialContext(cctx, client.Options{HostPort: t.FrontendAddr, Namespace: "temporal-system",
		Logger: sdklog.NewStructuredLogger(discardLogger())})
	if err != nil {
		return fmt.Errorf("frontend: %w", err)
	}
	defer c.Close()
	if _, err := c.DescribeTaskQueue(cctx, "cluster-probe", enumspb.TASK_QUEUE_TYPE_WORKFLOW); err != nil {
		return fmt.Errorf("matching: %w", err)
	}
	_, err = c.DescribeWorkflowExecution(cctx, "cluster-probe-no-such-workflow", "")
	var nf *serviceerror.NotFound
	if !errors.As(err, &nf) {
		return fmt.Errorf("history: %v", err)
	}
	return nil
}

// registerNamespace registers the namespace (kept if it exists) and adds the search
// attributes it lacks, then waits until they are listed.
func (t *Temporal) registerNamespace(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	c, err := t.Dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	for {
		_, err := c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        t.opts.Namespace,
			WorkflowExecutionRetentionPeriod: durationpb.New(t.opts.Retention),
			Description:                      "petitions cluster test",
		})
		var exists *serviceerror.NamespaceAlreadyExists
		if err == nil || errors.As(err, &exists) {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("register namespace %s: %w", t.opts.Namespace, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// The frontend learns of a new namespace with its next registry refresh (2 s).
	for {
		have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: t.opts.Namespace})
		if err == nil {
			missing := map[string]enumspb.IndexedValueType{}
			for name, typ := range t.opts.SearchAttributes {
				if got, ok := have.GetCustomAttributes()[name]; !ok {
					missing[name] = typ
				} else if got != typ {
					return fmt.Errorf("search attribute %s is registered as %s, the cases set %s", name, got, typ)
				}
			}
			if len(missing) == 0 {
				return nil
			}
			_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
				Namespace: t.opts.Namespace, SearchAttributes: missing,
			})
		}
		if ctx.Err() != nil {
			return fmt.Errorf("search attributes of %s: %w", t.opts.Namespace, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// freeLowPort is a free port below 32768: Temporal keeps each host's membership port in its
// cluster_membership table as a smallint (PostgreSQL), so a port the kernel hands out from its
// ephemeral range (32768 and up) makes the service fail at start ("out of range for type
// smallint"). It tries random ports from 20000 to 32767.
func freeLowPort() (int, error) {
	for range 200 {
		p := 20000 + rand.IntN(12768)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		return p, nil
	}
	return 0, errors.New("no free port below 32768 on 127.0.0.1")
}

// FreePort asks the kernel for a port nobody listens on (127.0.0.1).
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
