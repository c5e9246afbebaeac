package config_test

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/config"
)

func TestFlagsOverrideEnvironment(t *testing.T) {
	env := map[string]string{"HTTP_ADDR": "0.0.0.0:9000", "TEMPORAL_NAMESPACE": "petitions", "WORKER_CONCURRENCY": "8"}
	c, rest, err := config.Parse("api", []string{"--http-addr", "127.0.0.1:9001", "extra"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:9001" || c.TemporalNamespace != "petitions" || c.WorkerConcurrency != 8 || c.TemporalAddress != "127.0.0.1:7233" {
		t.Fatalf("config: %+v", c)
	}
	if len(rest) != 1 || rest[0] != "extra" {
		t.Fatalf("rest: %v", rest)
	}
}

func TestInvalidSettings(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"log level":          {"LOG_LEVEL": "loud"},
		"log format":         {"LOG_FORMAT": "xml"},
		"cert without key":   {"TEMPORAL_TLS_CERT": "c.pem"},
		"worker concurrency": {"WORKER_CONCURRENCY": "many"},
		"office time zone":   {"PETITIONS_OFFICE_TIME_ZONE": "Mars/Olympus_Mons"},
		"host's local zone":  {"PETITIONS_OFFICE_TIME_ZONE": "Local"},
	} {
		if _, _, err := config.Parse("api", nil, func(k string) string { return env[k] }, io.Discard); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestTLS(t *testing.T) {
	c, _, _ := config.Parse("api", nil, func(string) string { return "" }, io.Discard)
	if tlsConf, err := c.TLS(); err != nil || tlsConf != nil {
		t.Fatalf("plaintext by default: %v %v", tlsConf, err)
	}
	c.TemporalTLSCA = "/no/such/ca.pem"
	if _, err := c.TLS(); err == nil {
		t.Fatal("missing CA file accepted")
	}
}

// The office zone is Asia/Shanghai by default, from the embedded zone data (no host tz
// database needed), and any IANA zone by setting.
func TestOfficeZone(t *testing.T) {
	c, _, err := config.Parse("api", nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.OfficeZone == nil || c.OfficeZone.String() != "Asia/Shanghai" {
		t.Fatalf("default office zone %v, want Asia/Shanghai", c.OfficeZone)
	}
	if _, off := time.Date(2026, 5, 14, 0, 0, 0, 0, c.OfficeZone).Zone(); off != 8*3600 {
		t.Errorf("Asia/Shanghai offset %d s", off)
	}
	env := map[string]string{"PETITIONS_OFFICE_TIME_ZONE": "Asia/Urumqi"}
	c, _, err = config.Parse("api", nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.OfficeZone.String() != "Asia/Urumqi" {
		t.Fatalf("zone from the environment: %v %v", c.OfficeZone, err)
	}
	c, _, err = config.Parse("api", []string{"--office-time-zone", "UTC"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.OfficeZone != time.UTC && c.OfficeZone.String() != "UTC" {
		t.Fatalf("zone from the flag: %v %v", c.OfficeZone, err)
	}
}

// The admin listener (metrics, pprof) is on 127.0.0.1:9090 by default, moves or turns off by
// setting, and never shares the API's address.
func TestAdminAddr(t *testing.T) {
	parse := func(env map[string]string, args ...string) (config.Config, error) {
		c, _, err := config.Parse("worker", args, func(k string) string { return env[k] }, io.Discard)
		return c, err
	}
	c, err := parse(nil)
	if err != nil || c.AdminAddr != "127.0.0.1:9090" {
		t.Fatalf("default admin address %q (%v), want 127.0.0.1:9090", c.AdminAddr, err)
	}
	for env, want := range map[string]string{"0.0.0.0:9090": "0.0.0.0:9090", " 10.0.0.5:9100 ": "10.0.0.5:9100",
		"127.0.0.1:0": "127.0.0.1:0", "off": "", "OFF": ""} {
		c, err := parse(map[string]string{"PETITIONS_ADMIN_ADDR": env})
		if err != nil || c.AdminAddr != want {
			t.Errorf("PETITIONS_ADMIN_ADDR=%q: %q (%v), want %q", env, c.AdminAddr, err, want)
		}
	}
	// The flag wins over the environment; an empty flag turns the listener off.
	if c, err := parse(map[string]string{"PETITIONS_ADMIN_ADDR": "0.0.0.0:9090"}, "--admin-addr", "127.0.0.1:9191"); err != nil || c.AdminAddr != "127.0.0.1:9191" {
		t.Errorf("--admin-addr: %q (%v)", c.AdminAddr, err)
	}
	if c, err := parse(nil, "--admin-addr="); err != nil || c.AdminAddr != "" {
		t.Errorf("--admin-addr= : %q (%v), want off", c.AdminAddr, err)
	}
	for _, bad := range []string{"9090", "localhost", "http://127.0.0.1:9090", "127.0.0.1:"} {
		if _, err := parse(map[string]string{"PETITIONS_ADMIN_ADDR": bad}); err == nil {
			t.Errorf("PETITIONS_ADMIN_ADDR=%q accepted", bad)
		}
	}
	if _, err := parse(map[string]string{"PETITIONS_ADMIN_ADDR": "0.0.0.0:8080", "HTTP_ADDR": "0.0.0.0:8080"}); err == nil {
		t.Error("admin listener on the API's address accepted")
	}
	// Port 0 (a free port each, as in tests) for both is fine.
	if _, err := parse(map[string]string{"PETITIONS_ADMIN_ADDR": "127.0.0.1:0", "HTTP_ADDR": "127.0.0.1:0"}); err != nil {
		t.Errorf("port 0 for both: %v", err)
	}
}

// The README's configuration table has a row for every setting, with its flag and default.
func TestREADMEListsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "| `") {
			cells := strings.Split(line, "|")
			if len(cells) > 4 {
				for _, env := range strings.Split(cells[1], "/") {
					rows[strings.Trim(strings.TrimSpace(env), "`")] = line
				}
			}
		}
	}
	for _, s := range config.Settings {
		row, ok := rows[s.Env]
		if !ok {
			// A shared row names the others by suffix: PETITIONS_OIDC_CLIENT_ID / `_CLIENT_SECRET`.
			for env, r := range rows {
				if strings.HasPrefix(env, "_") && strings.HasSuffix(s.Env, env) {
					row, ok = r, true
				}
			}
		}
		if !ok {
			t.Errorf("README: no configuration row for %s", s.Env)
			continue
		}
		if !strings.Contains(row, "--"+s.Flag) {
			t.Errorf("README: the row of %s does not name --%s", s.Env, s.Flag)
		}
		if s.Default != "" && !strings.Contains(row, "`"+s.Default+"`") {
			t.Errorf("README: the row of %s does not give its default %s", s.Env, s.Default)
		}
	}
}
