package config_test

import (
	"io"
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
