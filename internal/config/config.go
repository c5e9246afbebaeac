// Package config reads petitiond's settings from environment variables, overridable by flags.
package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	// Embedded zone data: the office zone must load where the host has no tz database.
	_ "time/tzdata"

	"github.com/petitions/petitions/internal/calendar"
)

// Config holds every setting of the service. The environment variable of each field is
// named in its flag's help text.
type Config struct {
	TemporalAddress    string
	TemporalNamespace  string
	TemporalTLSCert    string
	TemporalTLSKey     string
	TemporalTLSCA      string
	TemporalServerName string
	DatabaseURL        string
	HTTPAddr           string
	LogLevel           string
	LogFormat          string
	PolicyFile         string
	// WarningRulesFile: the office's early-warning rule table (预警), replacing the built-in one.
	WarningRulesFile  string
	NotifyWebhookURL  string
	WorkerConcurrency int
	// Worker tuning (docs: README "Configuration"): pollers per task kind, workflow task slots,
	// the sticky queue's schedule-to-start timeout, and the workflow cache size.
	WorkerWorkflowPollers int
	WorkerActivityPollers int
	WorkerWorkflowSlots   int
	WorkerStickyTimeout   time.Duration
	WorkerCacheSize       int
	// KeyFile / Keys: the office's keys (internal/sealing): a file, or its JSON text.
	KeyFile string
	Keys    string
	// DevMode: a development stack (demo policy, development accounts). Never in production.
	DevMode bool
	// CodecCORSOrigins: Web UI origins allowed to call the codec server (comma-separated).
	CodecCORSOrigins []string
	// OIDC single sign-on; off while OIDCIssuer is empty.
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	OIDCRedirectURL  string
	OIDCStaffClaim   string
	// SecureCookies marks browser session cookies Secure (behind TLS).
	SecureCookies bool
	// SelfServicePerClient / SelfServicePerCase: the petitioner self-service rate limits.
	SelfServicePerClient Rate
	SelfServicePerCase   Rate
	// OfficeZone is the zone the API writes every instant in (PETITIONS_OFFICE_TIME_ZONE, an
	// IANA name; the legal calendar's, Asia/Shanghai, by default). Day boundaries of deadlines
	// and reports stay the legal calendar's.
	OfficeZone *time.Location
	// OfficeName is the petition office's name (console, receipts, notices).
	OfficeName string
	// TemporalUIURL is the Web UI's address for the console's links (empty: none).
	TemporalUIURL string
	// AdminAddr is where the admin listener serves /metrics (Prometheus) and /debug/pprof/
	// (PETITIONS_ADMIN_ADDR; "" when set to off). It has no sign-in: an internal address only.
	// Port 0 picks a free port (tests).
	AdminAddr string
	// ScreeningSchedule is when the monthly dispute screening round opens (the Temporal Schedule
	// screening-monthly, Asia/Shanghai): a cron spec, "every <duration>", or "off".
	ScreeningSchedule string
	// ScreeningPolicy names the screening round's time limits (internal/policy: default, demo).
	ScreeningPolicy string
}

// Rate is a request rate written "N/min" (also /s, /h): N requests at once, then one every
// interval/N.
type Rate struct {
	N   int
	Per time.Duration
}

func parseRate(name, v string) (Rate, error) {
	n, unit, ok := strings.Cut(strings.TrimSpace(v), "/")
	var r Rate
	if _, err := fmt.Sscan(n, &r.N); err != nil || !ok || r.N < 1 {
		return Rate{}, fmt.Errorf("%s must look like 20/min, not %q", name, v)
	}
	switch unit {
	case "s":
		r.Per = time.Second
	case "min":
		r.Per = time.Minute
	case "h":
		r.Per = time.Hour
	default:
		return Rate{}, fmt.Errorf("%s: unit must be s, min or h, not %q", name, unit)
	}
	return r, nil
}

// Setting describes one setting, for --help and the README's table.
type Setting struct {
	Flag, Env, Default, Help string
}

// Settings lists every setting in the order --help shows them.
var Settings = []Setting{
	{"temporal-address", "TEMPORAL_ADDRESS", "127.0.0.1:7233", "Temporal frontend host:port"},
	{"temporal-namespace", "TEMPORAL_NAMESPACE", "default", "Temporal namespace"},
	{"temporal-tls-cert", "TEMPORAL_TLS_CERT", "", "client certificate file (PEM) for mTLS to Temporal"},
	{"temporal-tls-key", "TEMPORAL_TLS_KEY", "", "client key file (PEM) for mTLS to Temporal"},
	{"temporal-tls-ca", "TEMPORAL_TLS_CA", "", "CA bundle (PEM) to verify the Temporal server; enables TLS"},
	{"temporal-server-name", "TEMPORAL_TLS_SERVER_NAME", "", "TLS server name of the Temporal frontend, if not its host"},
	{"database-url", "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/petitions?sslmode=disable", "PostgreSQL connection URL of the register"},
	{"http-addr", "HTTP_ADDR", "127.0.0.1:8080", "address the HTTP API listens on"},
	{"admin-addr", "PETITIONS_ADMIN_ADDR", "127.0.0.1:9090", "internal address serving /metrics (Prometheus) and /debug/pprof/ without sign-in; off (or empty): none"},
	{"log-level", "LOG_LEVEL", "info", "debug, info, warn or error"},
	{"log-format", "LOG_FORMAT", "text", "text or json"},
	{"policy-file", "PETITIONS_POLICY_FILE", "", "JSON file of deadline policies replacing the built-in ones"},
	{"warning-rules", "PETITIONS_WARNING_RULES", "", "JSON file of early-warning rules (预警) replacing the built-in ones"},
	{"notify-webhook", "NOTIFY_WEBHOOK_URL", "", "URL that receives reminders and escalations as JSON POSTs; empty logs them"},
	{"worker-concurrency", "WORKER_CONCURRENCY", "0", "max concurrent activities per worker (0: SDK default)"},
	{"worker-workflow-pollers", "WORKER_WORKFLOW_POLLERS", "8", "workflow task pollers per worker (the SDK's 2 leave tasks queued under load)"},
	{"worker-activity-pollers", "WORKER_ACTIVITY_POLLERS", "4", "activity task pollers per worker"},
	{"worker-workflow-slots", "WORKER_WORKFLOW_SLOTS", "0", "max concurrent workflow tasks per worker (0: SDK default)"},
	{"worker-sticky-timeout", "WORKER_STICKY_TIMEOUT", "5s", "how long a case's next workflow task waits for the worker that holds it in cache before any worker takes it"},
	{"worker-cache-size", "WORKER_CACHE_SIZE", "10000", "cases kept in a worker's workflow cache (each a few tens of kB)"},
	{"key-file", "PETITIONS_KEY_FILE", "", "file of the office's keys (petitiond keys generate); mode 0600"},
	{"keys", "PETITIONS_KEYS", "", "the keys file's JSON itself, for secret stores (instead of key-file)"},
	{"dev", "PETITIONS_DEV_MODE", "false", "development mode: allows the seconds-scale demo policy; never in production"},
	{"codec-cors-origins", "PETITIONS_CODEC_CORS_ORIGINS", "", "Web UI origins allowed to call /codec (comma-separated, e.g. https://temporal-ui.office)"},
	{"oidc-issuer", "PETITIONS_OIDC_ISSUER", "", "OpenID Connect issuer URL for single sign-on (empty: off)"},
	{"oidc-client-id", "PETITIONS_OIDC_CLIENT_ID", "", "OIDC client ID"},
	{"oidc-client-secret", "PETITIONS_OIDC_CLIENT_SECRET", "", "OIDC client secret"},
	{"oidc-redirect-url", "PETITIONS_OIDC_REDIRECT_URL", "", "OIDC redirect URL: <API base>/api/v1/auth/oidc/callback"},
	{"oidc-staff-claim", "PETITIONS_OIDC_STAFF_CLAIM", "preferred_username", "ID token claim holding the staff ID"},
	{"secure-cookies", "PETITIONS_SECURE_COOKIES", "false", "mark browser session cookies Secure (set when served over TLS)"},
	{"self-service-per-client", "PETITIONS_SELF_SERVICE_PER_CLIENT", "20/min", "petitioner self-service requests allowed per client address"},
	{"self-service-per-case", "PETITIONS_SELF_SERVICE_PER_CASE", "10/min", "petitioner self-service requests allowed per case"},
	{"office-time-zone", "PETITIONS_OFFICE_TIME_ZONE", calendar.Location().String(), "IANA time zone every instant in the API's answers is written in"},
	{"office-name", "PETITIONS_OFFICE_NAME", "信访局", "the petition office's name, on the staff console, receipts and written notices"},
	{"temporal-ui-url", "PETITIONS_TEMPORAL_UI_URL", "", "the Temporal Web UI's address as browsers reach it; the console links supervisors to each case there (empty: no link)"},
	{"screening-schedule", "PETITIONS_SCREENING_SCHEDULE", "0 8 1 * *", "when the monthly dispute screening round (矛盾纠纷排查) opens, Asia/Shanghai: a cron spec, \"every <duration>\" (fires once at creation, then every interval; demos), or off"},
	{"screening-policy", "PETITIONS_SCREENING_POLICY", "default", "time limits of a screening round: default (due by the 25th) or demo (seconds; development mode only)"},
}

// Parse reads the environment through getenv, then the flags in args. It returns the
// arguments left after the flags. --help prints the settings and returns flag.ErrHelp.
func Parse(name string, args []string, getenv func(string) string, out io.Writer) (Config, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	vals := make(map[string]*string, len(Settings))
	for _, s := range Settings {
		def := s.Default
		if v := getenv(s.Env); v != "" {
			def = v
		}
		vals[s.Flag] = fs.String(s.Flag, def, fmt.Sprintf("%s (env %s)", s.Help, s.Env))
	}
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: petitiond %s [flags]\n\nFlags (each also read from its environment variable):\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, nil, err
	}
	c := Config{
		TemporalAddress:    *vals["temporal-address"],
		TemporalNamespace:  *vals["temporal-namespace"],
		TemporalTLSCert:    *vals["temporal-tls-cert"],
		TemporalTLSKey:     *vals["temporal-tls-key"],
		TemporalTLSCA:      *vals["temporal-tls-ca"],
		TemporalServerName: *vals["temporal-server-name"],
		DatabaseURL:        *vals["database-url"],
		HTTPAddr:           *vals["http-addr"],
		LogLevel:           *vals["log-level"],
		LogFormat:          *vals["log-format"],
		PolicyFile:         *vals["policy-file"],
		WarningRulesFile:   *vals["warning-rules"],
		NotifyWebhookURL:   *vals["notify-webhook"],
		KeyFile:            *vals["key-file"],
		OfficeName:         strings.TrimSpace(*vals["office-name"]),
		TemporalUIURL:      strings.TrimRight(strings.TrimSpace(*vals["temporal-ui-url"]), "/"),
		Keys:               *vals["keys"],
		OIDCIssuer:         *vals["oidc-issuer"],
		OIDCClientID:       *vals["oidc-client-id"],
		OIDCClientSecret:   *vals["oidc-client-secret"],
		OIDCRedirectURL:    *vals["oidc-redirect-url"],
		OIDCStaffClaim:     *vals["oidc-staff-claim"],
		AdminAddr:          strings.TrimSpace(*vals["admin-addr"]),
		ScreeningSchedule:  strings.TrimSpace(*vals["screening-schedule"]),
		ScreeningPolicy:    strings.TrimSpace(*vals["screening-policy"]),
	}
	if strings.EqualFold(c.AdminAddr, "off") {
		c.AdminAddr = ""
	}
	for _, o := range strings.Split(*vals["codec-cors-origins"], ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CodecCORSOrigins = append(c.CodecCORSOrigins, o)
		}
	}
	var err error
	if c.DevMode, err = parseBool("dev", *vals["dev"]); err != nil {
		return Config{}, nil, err
	}
	if c.SecureCookies, err = parseBool("secure-cookies", *vals["secure-cookies"]); err != nil {
		return Config{}, nil, err
	}
	if c.SelfServicePerClient, err = parseRate("self-service-per-client", *vals["self-service-per-client"]); err != nil {
		return Config{}, nil, err
	}
	if c.SelfServicePerCase, err = parseRate("self-service-per-case", *vals["self-service-per-case"]); err != nil {
		return Config{}, nil, err
	}
	if c.OfficeZone, err = parseZone("office-time-zone", *vals["office-time-zone"]); err != nil {
		return Config{}, nil, err
	}
	for flagName, dst := range map[string]*int{
		"worker-concurrency": &c.WorkerConcurrency, "worker-workflow-pollers": &c.WorkerWorkflowPollers,
		"worker-activity-pollers": &c.WorkerActivityPollers, "worker-workflow-slots": &c.WorkerWorkflowSlots,
		"worker-cache-size": &c.WorkerCacheSize,
	} {
		n, err := strconv.Atoi(strings.TrimSpace(*vals[flagName]))
		if err != nil || n < 0 {
			return Config{}, nil, fmt.Errorf("%s: not a number of at least 0: %q", flagName, *vals[flagName])
		}
		*dst = n
	}
	if c.WorkerStickyTimeout, err = time.ParseDuration(*vals["worker-sticky-timeout"]); err != nil || c.WorkerStickyTimeout <= 0 {
		return Config{}, nil, fmt.Errorf("worker-sticky-timeout: not a positive duration: %q", *vals["worker-sticky-timeout"])
	}
	return c, fs.Args(), c.validate()
}

// parseZone loads an IANA time zone by name ("Asia/Shanghai"). "Local" and the empty name are
// refused: the office's zone must not depend on the host's settings.
func parseZone(name, v string) (*time.Location, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "Local" {
		return nil, fmt.Errorf("%s must name an IANA time zone such as Asia/Shanghai, not %q", name, v)
	}
	loc, err := time.LoadLocation(v)
	if err != nil {
		return nil, fmt.Errorf("%s: unknown time zone %q (an IANA name such as Asia/Shanghai)", name, v)
	}
	return loc, nil
}

func parseBool(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "0", "no":
		return false, nil
	case "true", "1", "yes":
		return true, nil
	}
	return false, fmt.Errorf("%s must be true or false, not %q", name, v)
}

func (c Config) validate() error {
	var errs []error
	if _, err := c.level(); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log-format must be text or json, not %q", c.LogFormat))
	}
	if c.OIDCIssuer != "" && (c.OIDCClientID == "" || c.OIDCRedirectURL == "") {
		errs = append(errs, errors.New("oidc-issuer needs oidc-client-id and oidc-redirect-url"))
	}
	if c.AdminAddr != "" {
		if _, port, err := net.SplitHostPort(c.AdminAddr); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("admin-addr must be host:port (e.g. 127.0.0.1:9090) or off, not %q", c.AdminAddr))
		} else if port != "0" && c.AdminAddr == c.HTTPAddr {
			errs = append(errs, fmt.Errorf("admin-addr %s is the API's address: metrics and pprof are never served on the API's port", c.AdminAddr))
		}
	}
	if err := checkScreeningSchedule(c.ScreeningSchedule); err != nil {
		errs = append(errs, err)
	}
	if c.ScreeningPolicy == "demo" && !c.DevMode {
		errs = append(errs, errors.New("screening-policy demo runs in seconds: development mode only"))
	}
	if (c.TemporalTLSCert == "") != (c.TemporalTLSKey == "") {
		errs = append(errs, errors.New("temporal-tls-cert and temporal-tls-key go together"))
	}
	return errors.Join(errs...)
}

func (c Config) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(c.LogLevel))); err != nil {
		return 0, fmt.Errorf("log-level must be debug, info, warn or error, not %q", c.LogLevel)
	}
	return l, nil
}

// Logger builds the structured logger the settings ask for.
func (c Config) Logger(w io.Writer) *slog.Logger {
	l, _ := c.level()
	opts := &slog.HandlerOptions{Level: l}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// TLS returns the TLS settings for the Temporal client, or nil for plaintext.
func (c Config) TLS() (*tls.Config, error) {
	if c.TemporalTLSCA == "" && c.TemporalTLSCert == "" {
		return nil, nil
	}
	t := &tls.Config{ServerName: c.TemporalServerName, MinVersion: tls.VersionTLS12}
	if c.TemporalTLSCert != "" {
		cert, err := tls.LoadX509KeyPair(c.TemporalTLSCert, c.TemporalTLSKey)
		if err != nil {
			return nil, fmt.Errorf("temporal TLS client certificate: %w", err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	if c.TemporalTLSCA != "" {
		pem, err := os.ReadFile(c.TemporalTLSCA)
		if err != nil {
			return nil, fmt.Errorf("temporal TLS CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("temporal TLS CA: no certificate in %s", c.TemporalTLSCA)
		}
		t.RootCAs = pool
	}
	return t, nil
}

// checkScreeningSchedule accepts "off", "every <duration>" (at least a second) or a cron spec
// of five fields (minute hour day-of-month month day-of-week); the Temporal server checks the
// fields themselves when the schedule is created.
func checkScreeningSchedule(v string) error {
	switch {
	case strings.EqualFold(v, "off"):
		return nil
	case strings.HasPrefix(v, "every "):
		d, err := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(v, "every ")))
		if err != nil || d < time.Second {
			return fmt.Errorf("screening-schedule: %q is not \"every <duration>\" of at least 1s", v)
		}
		return nil
	case len(strings.Fields(v)) == 5:
		return nil
	}
	return fmt.Errorf("screening-schedule must be a cron spec of five fields (e.g. \"0 8 1 * *\"), \"every <duration>\" or off, not %q", v)
}
