package deploylint

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

const composeFile = "../../deploy/compose.yaml"

// passwords are what deploy/.env must set.
var passwords = []string{"POSTGRES_PASSWORD=pg", "TEMPORAL_DB_PASSWORD=tp", "PETITIONS_DB_PASSWORD=pp"}

// loadCompose loads the file as `docker compose config` does (schema, interpolation,
// normalisation, consistency of references), with env in place of deploy/.env.
func loadCompose(t *testing.T, env []string, profiles ...string) (*types.Project, error) {
	t.Helper()
	abs, err := filepath.Abs(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{abs},
		cli.WithWorkingDirectory(filepath.Dir(abs)),
		cli.WithEnv(env),
		cli.WithProfiles(profiles),
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

func TestComposeNeedsThePasswords(t *testing.T) {
	_, err := loadCompose(t, nil)
	if err == nil {
		t.Fatal("the Compose file loads without passwords")
	}
	if !strings.Contains(err.Error(), "deploy/.env") {
		t.Errorf("error %q does not say where to set the password", err)
	}
}

func TestComposeLoads(t *testing.T) {
	p, err := loadCompose(t, passwords)
	if err != nil {
		t.Fatalf("docker compose config would fail: %v", err)
	}
	if p.Name != "petitions" {
		t.Errorf("project name %q", p.Name)
	}
	names := p.ServiceNames()
	slices.Sort(names)
	want := []string{"api", "migrate", "postgres", "proxy", "temporal", "temporal-namespace", "temporal-schema",
		"temporal-search-attributes", "temporal-ui", "worker"}
	if !slices.Equal(names, want) {
		t.Errorf("services started by `up`: %v, want %v", names, want)
	}

	deployDir := filepath.Dir(mustAbs(t, composeFile))
	for _, name := range []string{"worker", "api"} {
		s := p.Services[name]
		if s.Deploy == nil || s.Deploy.Replicas == nil || *s.Deploy.Replicas != 2 {
			t.Errorf("%s: want 2 replicas, got %+v", name, s.Deploy)
		}
		if s.Restart != types.RestartPolicyUnlessStopped {
			t.Errorf("%s: restart %q", name, s.Restart)
		}
		for dep, cond := range map[string]string{
			"migrate": types.ServiceConditionCompletedSuccessfully, "temporal-search-attributes": types.ServiceConditionCompletedSuccessfully,
		} {
			if d, ok := s.DependsOn[dep]; !ok || d.Condition != cond {
				t.Errorf("%s: depends on %s %+v, want %s", name, dep, d, cond)
			}
		}
	}
	for _, name := range []string{"migrate", "worker", "api"} {
		s := p.Services[name]
		if s.Build == nil || s.Build.Context != filepath.Dir(deployDir) || s.Build.Dockerfile != "Dockerfile" {
			t.Errorf("%s: build %+v, want the repository root's Dockerfile", name, s.Build)
		}
		if !s.ReadOnly || !slices.Equal(s.CapDrop, []string{"ALL"}) || s.User != "65532:65532" {
			t.Errorf("%s: read_only %v cap_drop %v user %q", name, s.ReadOnly, s.CapDrop, s.User)
		}
		if v := s.Environment["DATABASE_URL"]; v == nil || !strings.Contains(*v, ":pp@postgres:5432/petitions") {
			t.Errorf("%s: DATABASE_URL %v", name, v)
		}
		if len(s.Secrets) != 1 || s.Secrets[0].Source != "petitions-keys" {
			t.Errorf("%s: secrets %+v", name, s.Secrets)
		}
	}
	if got := p.Secrets["petitions-keys"].File; got != filepath.Join(deployDir, "secrets", "keys.json") {
		t.Errorf("keys secret from %s", got)
	}
	for _, c := range []string{"temporal-dynamicconfig", "proxy-conf"} {
		if f := p.Configs[c].File; f == "" {
			t.Errorf("config %s has no file", c)
		} else if _, err := os.Stat(f); err != nil {
			t.Errorf("config %s: %v", c, err)
		}
	}
	if init := p.Services["postgres"].Volumes[1].Source; filepath.Base(init) != "postgres-init.sh" {
		t.Errorf("postgres init script mount %s", init)
	} else if fi, err := os.Stat(init); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("postgres init script %s must exist and be executable: %v", init, err)
	}
	// The API's one address is the proxy's; of petitiond only the admin listeners (metrics,
	// pprof; no sign-in) are published, and on loopback only.
	if len(p.Services["migrate"].Ports) != 0 {
		t.Error("migrate publishes ports")
	}
	for _, name := range []string{"worker", "api"} {
		s := p.Services[name]
		if v := s.Environment["PETITIONS_ADMIN_ADDR"]; v == nil || *v != "0.0.0.0:9090" {
			t.Errorf("%s: PETITIONS_ADMIN_ADDR %v, want 0.0.0.0:9090 inside the container", name, v)
		}
		for _, port := range s.Ports {
			if port.Target != 9090 || port.HostIP != "127.0.0.1" {
				t.Errorf("%s publishes %+v: only the admin port 9090, on 127.0.0.1", name, port)
			}
		}
		if len(s.Ports) == 0 {
			t.Errorf("%s: admin port not published on loopback", name)
		}
	}
	if ports := p.Services["proxy"].Ports; len(ports) != 1 || ports[0].HostIP != "127.0.0.1" || ports[0].Published != "8080" {
		t.Errorf("proxy ports %+v, want 127.0.0.1:8080 by default", ports)
	}
	ui := p.Services["temporal-ui"]
	for _, k := range []string{"TEMPORAL_DISABLE_WRITE_ACTIONS", "TEMPORAL_WORKFLOW_TERMINATE_DISABLED", "TEMPORAL_WORKFLOW_CANCEL_DISABLED",
		"TEMPORAL_WORKFLOW_SIGNAL_DISABLED", "TEMPORAL_WORKFLOW_RESET_DISABLED", "TEMPORAL_BATCH_ACTIONS_DISABLED", "TEMPORAL_START_WORKFLOW_DISABLED"} {
		if v := ui.Environment[k]; v == nil || *v != "true" {
			t.Errorf("temporal-ui: %s not true", k)
		}
	}
	if v := ui.Environment["TEMPORAL_CODEC_ENDPOINT"]; v == nil || *v != "http://localhost:8080/codec" {
		t.Errorf("temporal-ui codec endpoint %v", v)
	}
	if v := p.Services["api"].Environment["PETITIONS_CODEC_CORS_ORIGINS"]; v == nil || *v != "http://localhost:8233" {
		t.Errorf("api codec origins %v: want the UI's origin", v)
	}
}

// The admin commands' service is only there with its profile.
func TestComposeAdminProfile(t *testing.T) {
	p, err := loadCompose(t, passwords, "admin")
	if err != nil {
		t.Fatal(err)
	}
	s, ok := p.Services["petitiond"]
	if !ok {
		t.Fatal("no petitiond service with profile admin")
	}
	if len(s.Secrets) != 1 || s.Environment["DATABASE_URL"] == nil {
		t.Errorf("the admin service lacks the keys or the database: %+v", s)
	}
}

// Settings from deploy/.env reach the services.
func TestComposeSettings(t *testing.T) {
	p, err := loadCompose(t, append(slices.Clone(passwords), "PETITIOND_WORKERS=4", "TEMPORAL_NAMESPACE=office",
		"PETITIONS_HTTP_BIND=0.0.0.0:80", "PETITIOND_IMAGE=registry.office/petitiond:2026.1"))
	if err != nil {
		t.Fatal(err)
	}
	if r := p.Services["worker"].Deploy.Replicas; r == nil || *r != 4 {
		t.Errorf("PETITIOND_WORKERS=4: %v replicas", r)
	}
	if v := p.Services["worker"].Environment["TEMPORAL_NAMESPACE"]; v == nil || *v != "office" {
		t.Errorf("TEMPORAL_NAMESPACE not passed to the worker")
	}
	cmd := p.Services["temporal-search-attributes"].Command
	if i := slices.Index(cmd, "--namespace"); i < 0 || cmd[i+1] != "office" {
		t.Errorf("search attributes registered on %v", cmd)
	}
	if ports := p.Services["proxy"].Ports; ports[0].HostIP != "0.0.0.0" || ports[0].Published != "80" {
		t.Errorf("proxy ports %+v", ports)
	}
	if img := p.Services["api"].Image; img != "registry.office/petitiond:2026.1" {
		t.Errorf("api image %s", img)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
