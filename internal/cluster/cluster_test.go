package cluster

import (
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

// The server's configuration as written: PostgreSQL for both stores, every service on
// 127.0.0.1 with ports of its own below 32768 (membership ports are smallints in PostgreSQL),
// and the dynamic configuration file next to it.
func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	tm := &Temporal{opts: TemporalOptions{Dir: dir, PostgresPort: 5432, HistoryShards: 4, LogLevel: "warn",
		DynamicConfig: map[string]any{"limit.historyCount.suggestContinueAsNew": 60}}, ports: map[string][2]int{}}
	seen := map[int]bool{}
	for _, svc := range TemporalServices {
		var p [2]int
		for i := range p {
			for p[i] == 0 || seen[p[i]] {
				var err error
				if p[i], err = freeLowPort(); err != nil {
					t.Fatal(err)
				}
			}
			seen[p[i]] = true
			if p[i] >= 32768 || p[i] < 20000 {
				t.Errorf("port %d outside 20000-32767", p[i])
			}
		}
		tm.ports[svc] = p
	}
	tm.FrontendAddr = "127.0.0.1:7233"
	if err := tm.writeConfig(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(tm.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		Persistence struct {
			DefaultStore, VisibilityStore string
			NumHistoryShards              int `yaml:"numHistoryShards"`
			Datastores                    map[string]struct {
				SQL struct {
					PluginName   string `yaml:"pluginName"`
					DatabaseName string `yaml:"databaseName"`
					ConnectAddr  string `yaml:"connectAddr"`
				} `yaml:"sql"`
			} `yaml:"datastores"`
		} `yaml:"persistence"`
		Services map[string]struct {
			RPC struct {
				GRPCPort       int    `yaml:"grpcPort"`
				MembershipPort int    `yaml:"membershipPort"`
				BindOnIP       string `yaml:"bindOnIP"`
			} `yaml:"rpc"`
		} `yaml:"services"`
		DynamicConfigClient struct {
			Filepath string `yaml:"filepath"`
		} `yaml:"dynamicConfigClient"`
	}
	if err := yaml.Unmarshal(b, &conf); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if conf.Persistence.NumHistoryShards != 4 || len(conf.Services) != 4 {
		t.Errorf("shards %d, services %d", conf.Persistence.NumHistoryShards, len(conf.Services))
	}
	for _, store := range []string{"postgres-default", "postgres-visibility"} {
		ds := conf.Persistence.Datastores[store].SQL
		if ds.PluginName != "postgres12" || ds.ConnectAddr != "127.0.0.1:5432" || ds.DatabaseName == "" {
			t.Errorf("store %s: %+v", store, ds)
		}
	}
	for _, svc := range TemporalServices {
		rpc := conf.Services[svc].RPC
		if rpc.GRPCPort != tm.ports[svc][0] || rpc.MembershipPort != tm.ports[svc][1] || rpc.BindOnIP != "127.0.0.1" {
			t.Errorf("service %s: %+v", svc, rpc)
		}
	}
	var dyn map[string][]struct{ Value any }
	db, err := os.ReadFile(conf.DynamicConfigClient.Filepath)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(db, &dyn); err != nil {
		t.Fatalf("%v\n%s", err, db)
	}
	if v := dyn["limit.historyCount.suggestContinueAsNew"]; len(v) != 1 || v[0].Value != 60 {
		t.Errorf("dynamic config: %v", dyn)
	}
	if v := dyn["frontend.enableUpdateWorkflowExecution"]; len(v) != 1 || v[0].Value != true {
		t.Errorf("dynamic config: %v", dyn)
	}
	if filepath.Dir(conf.DynamicConfigClient.Filepath) != dir {
		t.Errorf("dynamic config file %s not in %s", conf.DynamicConfigClient.Filepath, dir)
	}
}
