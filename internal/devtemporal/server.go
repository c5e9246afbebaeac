// Package devtemporal runs a Temporal server and its Web UI inside the current process, for
// the development stack and the end-to-end tests. It follows the Temporal CLI's dev server:
// SQLite persistence (a file, or memory), one history shard, every service on loopback.
//
// It is the only package that links go.temporal.io/server; keep its importers few, since a
// cold build of the server takes minutes.
package devtemporal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Options configures the in-process server. Zero values pick safe defaults.
type Options struct {
	// IP to bind every service to; default 127.0.0.1.
	IP string
	// FrontendPort is the gRPC port clients dial; 0 picks a free port.
	FrontendPort int
	// UIPort is the Web UI server's port; 0 disables the UI. The UI server has no sign-in of
	// its own: give it an internal port and put internal/uigate in front on the public one.
	UIPort int
	// UIBindIP is the address the Web UI server listens on; default 127.0.0.1 whatever IP
	// says, so that the UI is reachable only through the gate on the same machine.
	UIBindIP string
	// UIPublicURL is the origin browsers use to reach the UI through the gate, e.g.
	// "http://127.0.0.1:8233" or "https://ui.petitions.example". Optional: the gate serves the
	// UI, its API and the codec on one origin, so the UI's CSRF check (Sec-Fetch-Site:
	// same-origin) passes and no CORS origin is needed. It only decides whether the UI's _csrf
	// cookie is marked Secure (https) and is checked to be an http(s) origin.
	UIPublicURL string
	// UICodecEndpoint is the codec server the browser calls to decode payloads, with its
	// cookies (includeCredentials), e.g. UIPublicURL + "/codec" when the gate serves the codec.
	// Empty: no codec, encrypted payloads show as they are stored.
	UICodecEndpoint string
	// Namespace to create; default "default".
	Namespace string
	// Retention of closed workflows in the namespace; default 30 days.
	Retention time.Duration
	// DatabaseFile keeps the server's state between runs; empty keeps it in memory.
	DatabaseFile string
	// SearchAttributes are registered on a new and on an existing database.
	SearchAttributes map[string]enumspb.IndexedValueType
	// DynamicConfig overrides server settings by key, e.g. for tests
	// "limit.historyCount.suggestContinueAsNew".
	DynamicConfig map[string]any
	// Logger receives the server's log at LogLevel and above; default discards.
	Logger   *slog.Logger
	LogLevel slog.Level
}

// Server is a running in-process Temporal server.
type Server struct {
	opts     Options
	hostPort string

	mu     sync.Mutex // guards server and ui across Stop and Restart
	server temporal.Server
	ui     *uiserver.Server
}

// Start starts the server and, when asked, the UI; it returns once the frontend accepts calls
// and the namespace carries the retention and search attributes asked for.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Retention == 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.FrontendPort == 0 {
		p, err := FreePort(opts.IP)
		if err != nil {
			return nil, err
		}
		opts.FrontendPort = p
	} else if err := checkPortFree(opts.IP, opts.FrontendPort); err != nil {
		return nil, fmt.Errorf("temporal frontend port %d is taken (is another dev stack running?): %w", opts.FrontendPort, err)
	}
	if opts.UIBindIP == "" {
		opts.UIBindIP = "127.0.0.1"
	}
	if opts.UIPort != 0 {
		if err := checkPortFree(opts.UIBindIP, opts.UIPort); err != nil {
			return nil, fmt.Errorf("temporal UI port %d is taken (is another dev stack running?): %w", opts.UIPort, err)
		}
	}
	s := &Server{opts: opts, hostPort: net.JoinHostPort(opts.IP, strconv.Itoa(opts.FrontendPort))}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// start starts the server and the UI on the options' ports.
func (s *Server) start(ctx context.Context) error {
	var uiConf *uiconfig.Config
	if s.opts.UIPort != 0 {
		var err error
		if uiConf, err = uiConfig(s.opts); err != nil {
			return err
		}
	}
	conf, err := s.config()
	if err != nil {
		return err
	}
	ts, err := s.newServer(conf)
	if err != nil {
		return err
	}
	s.server = ts
	if err := ts.Start(); err != nil {
		s.server = nil
		return fmt.Errorf("start temporal server: %w", err)
	}
	if err := s.ensureNamespace(ctx); err != nil {
		s.stop()
		return err
	}
	if uiConf != nil {
		uiConf.TemporalGRPCAddress = s.hostPort
		ui := uiserver.NewServer(uiserveroptions.WithConfigProvider(uiConf))
		s.ui = ui
		log := s.opts.Logger
		go func() {
			if err := ui.Start(); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, http.ErrServerClosed) {
				log.Error("temporal UI stopped", "error", err)
			}
		}()
		if err := waitListening(ctx, s.UIAddress()); err != nil {
			s.stop()
			return fmt.Errorf("temporal UI: %w", err)
		}
	}
	return nil
}

// Restart starts a stopped server again with its options: the same frontend and UI ports and
// the same database file, so its workflows, timers and namespace are as Stop left them.
// Clients made with the SDK (lazy or dialled) reconnect by themselves on their next call; the
// SDK's workers keep polling through the outage. Restarting a running server does nothing. A
// server kept in memory has nothing to come back to: Restart refuses it.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.server != nil {
		return nil
	}
	if s.opts.DatabaseFile == "" {
		return errors.New("devtemporal: a server kept in memory cannot be restarted: its state died with it (use a DatabaseFile)")
	}
	// The listeners closed with Stop; wait out a port the kernel has not quite released.
	for _, port := range []struct {
		ip   string
		port int
	}{{s.opts.IP, s.opts.FrontendPort}, {s.opts.UIBindIP, s.opts.UIPort}} {
		if port.port == 0 {
			continue
		}
		if err := waitPortFree(ctx, port.ip, port.port, 10*time.Second); err != nil {
			return fmt.Errorf("restart temporal dev server: port %d: %w", port.port, err)
		}
	}
	return s.start(ctx)
}

// Running reports whether the server is started and not stopped.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.server != nil
}

// uiConfig is the Web UI server's configuration for the office: read-only for everyone (the
// UI's own switches; internal/uigate refuses writes again in front of it), payloads decoded by
// the codec endpoint with the browser's cookies, no news fetched from the Internet.
func uiConfig(opts Options) (*uiconfig.Config, error) {
	cookieInsecure := true
	if opts.UIPublicURL != "" {
		u, err := url.Parse(opts.UIPublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("temporal UI public URL %q: want an http(s) origin", opts.UIPublicURL)
		}
		cookieInsecure = u.Scheme == "http"
	}
	if opts.UICodecEndpoint != "" {
		u, err := url.Parse(opts.UICodecEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("temporal UI codec endpoint %q: want an absolute http(s) URL", opts.UICodecEndpoint)
		}
	}
	return &uiconfig.Config{
		Host:             opts.UIBindIP,
		Port:             opts.UIPort,
		EnableUI:         true,
		HideLogs:         true,
		DisableNewsFetch: true,
		DefaultNamespace: opts.Namespace,
		// No cross-origin access: the gate serves the UI, its API and the codec on one origin.
		CORS: uiconfig.CORS{CookieInsecure: cookieInsecure},
		Codec: uiconfig.Codec{
			Endpoint:           opts.UICodecEndpoint,
			IncludeCredentials: true,
			PassAccessToken:    false,
		},
		// Every write action off, for everyone: the Web UI is for looking at cases.
		DisableWriteActions:       true,
		WorkflowTerminateDisabled: true,
		WorkflowCancelDisabled:    true,
		WorkflowSignalDisabled:    true,
		WorkflowUpdateDisabled:    true,
		WorkflowResetDisabled:     true,
		WorkflowPauseDisabled:     true,
		BatchActionsDisabled:      true,
		StartWorkflowDisabled:     true,
		ActivityCommandsDisabled:  true,
	}, nil
}

// waitListening waits until the UI server accepts connections, so that callers (the gate)
// do not answer 502 during the first second.
func waitListening(ctx context.Context, address string) error {
	u, err := url.Parse(address)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", u.Host, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on %s: %w", u.Host, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// HostPort is the frontend address for clients.
func (s *Server) HostPort() string { return s.hostPort }

// UIAddress is the Web UI server's own (internal, unauthenticated) URL, the gate's upstream;
// "" when the UI is off. Browsers use UIPublicURL, the gate.
func (s *Server) UIAddress() string {
	if s.opts.UIPort == 0 {
		return ""
	}
	return "http://" + net.JoinHostPort(s.opts.UIBindIP, strconv.Itoa(s.opts.UIPort))
}

// Stop stops the UI, then the server; stopping again does nothing. Restart starts it again.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stop()
}

func (s *Server) stop() {
	if s.ui != nil {
		s.ui.Stop()
		s.ui = nil
	}
	if s.server != nil {
		_ = s.server.Stop()
		s.server = nil
	}
}

func (s *Server) newServer(conf *config.Config) (temporal.Server, error) {
	logger := slogLogger{log: s.opts.Logger, level: s.opts.LogLevel}
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("temporal authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("temporal claim mapper: %w", err)
	}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for name, svc := range map[primitives.ServiceName]string{
		primitives.FrontendService: "frontend", primitives.HistoryService: "history",
		primitives.MatchingService: "matching", primitives.WorkerService: "worker",
	} {
		hosts[name] = static.SingleLocalHost(net.JoinHostPort(s.opts.IP, strconv.Itoa(conf.Services[svc].RPC.GRPCPort)))
	}
	dyn := dynamicconfig.StaticClient{
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 8096,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		// Updates are how staff act on a case; make sure they are on.
		dynamicconfig.FrontendEnableUpdateWorkflowExecution.Key(): true,
		// Short visibility refresh for tests that list right after a change.
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): true,
	}
	for k, v := range s.opts.DynamicConfig {
		dyn[dynamicconfig.MakeKey(k)] = v
	}
	return temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
	)
}

func (s *Server) config() (*config.Config, error) {
	const clusterName = "active"
	httpPort, err := FreePort(s.opts.IP)
	if err != nil {
		return nil, err
	}
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = s.opts.IP
	conf.Persistence.DefaultStore = "sqlite-default"
	conf.Persistence.VisibilityStore = "sqlite-default"
	conf.Persistence.NumHistoryShards = 1
	sqlConf, err := s.sqlConfig(clusterName)
	if err != nil {
		return nil, err
	}
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite-default": {SQL: sqlConf}}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             s.hostPort,
				HTTPAddress:            net.JoinHostPort(s.opts.IP, strconv.Itoa(httpPort)),
				// The server insists on a UUID here.
				ClusterID: uuid.NewString(),
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{}
	for _, name := range []string{"frontend", "history", "matching", "worker"} {
		var svc config.Service
		svc.RPC.BindOnIP = s.opts.IP
		if name == "frontend" {
			svc.RPC.GRPCPort = s.opts.FrontendPort
			svc.RPC.HTTPPort = httpPort
		} else {
			// Fixed internal ports would collide between a dev stack and a test run.
			p, err := FreePort(s.opts.IP)
			if err != nil {
				return nil, err
			}
			svc.RPC.GRPCPort = p
		}
		conf.Services[name] = svc
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = s.hostPort
	return &conf, nil
}

func (s *Server) sqlConfig(clusterName string) (*config.SQL, error) {
	conf := config.SQL{PluginName: sqliteplugin.PluginName}
	if s.opts.DatabaseFile == "" {
		conf.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
		conf.DatabaseName = strconv.Itoa(rand.Intn(9999999))
	} else {
		conf.ConnectAttributes = map[string]string{"mode": "rwc", "_journal_mode": "wal"}
		conf.DatabaseName = s.opts.DatabaseFile
		fresh, err := prepareDatabaseFile(s.opts.DatabaseFile)
		if err != nil {
			return nil, err
		}
		if fresh {
			if err := sqliteschema.SetupSchema(&conf); err != nil {
				return nil, fmt.Errorf("temporal database schema: %w", err)
			}
		}
	}
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, s.opts.Namespace, false, s.opts.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("temporal namespace: %w", err)
	}
	ns.Detail.Config.Retention = durationpb.New(s.opts.Retention)
	// A no-op on an existing database: ensureNamespace fixes retention and attributes then.
	if err := sqliteschema.CreateNamespaces(&conf, ns); err != nil {
		return nil, fmt.Errorf("temporal namespace: %w", err)
	}
	return &conf, nil
}

// ensureNamespace brings an existing namespace up to date: retention and any search attribute
// added since its database file was created.
func (s *Server) ensureNamespace(ctx context.Context) error {
	c, err := client.DialContext(ctx, client.Options{HostPort: s.hostPort, Namespace: s.opts.Namespace,
		Logger: nopLogger{}})
	if err != nil {
		return fmt.Errorf("dial temporal dev server: %w", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ns, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: s.opts.Namespace})
	if err != nil {
		return fmt.Errorf("describe namespace %s: %w", s.opts.Namespace, err)
	}
	if ns.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration() < s.opts.Retention {
		_, err := c.WorkflowService().UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{
			Namespace: s.opts.Namespace,
			Config:    &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(s.opts.Retention)},
		})
		if err != nil {
			return fmt.Errorf("set namespace retention: %w", err)
		}
	}
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: s.opts.Namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range s.opts.SearchAttributes {
		if _, ok := have.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		}
	}
	if len(missing) > 0 {
		if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace: s.opts.Namespace, SearchAttributes: missing,
		}); err != nil {
			return fmt.Errorf("add search attributes: %w", err)
		}
	}
	return nil
}

// FreePort asks the kernel for a port nobody listens on.
func FreePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitPortFree waits until ip:port can be bound.
func waitPortFree(ctx context.Context, ip string, port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := checkPortFree(ip, port)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still taken after %s: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func checkPortFree(ip string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return l.Close()
}
