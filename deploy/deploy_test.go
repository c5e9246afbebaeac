// Package deploy_test holds the deployment artefacts (Dockerfile, Compose file, Helm chart) to
// the code they deploy: the search attributes the workflows set, the settings petitiond reads,
// the Go release it is built with. These checks need no tool beyond Go; rendering the chart
// with Helm and loading the Compose file with the Compose loader are in tools/deploylint
// (make test-deploy), and `docker compose config` runs here when Docker Compose is installed.
package deploy_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"gopkg.in/yaml.v3"

	"github.com/petitions/petitions/internal/config"
	"github.com/petitions/petitions/workflows"
)

// attribute is a search attribute as the temporal CLI names it.
type attribute struct{ Name, Type string }

// contractAttributes are workflows.SearchAttributeKeys with the CLI's type names.
func contractAttributes(t *testing.T) []attribute {
	t.Helper()
	short := map[int32]string{}
	for name, v := range enumspb.IndexedValueType_shorthandValue {
		short[v] = name
	}
	var out []attribute
	for _, k := range workflows.SearchAttributeKeys {
		typ, ok := short[int32(k.GetValueType())]
		if !ok {
			t.Fatalf("search attribute %s: no CLI name for type %v", k.GetName(), k.GetValueType())
		}
		out = append(out, attribute{k.GetName(), typ})
	}
	return out
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// composeFile is the part of deploy/compose.yaml the checks read.
type composeFile struct {
	Services map[string]struct {
		Image       string `yaml:"image"`
		Build       *struct{ Context, Dockerfile string }
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Secrets     []struct{ Source string }
		Deploy      *struct {
			Replicas string `yaml:"replicas"`
		} `yaml:"deploy"`
		Profiles []string `yaml:"profiles"`
	} `yaml:"services"`
	Secrets map[string]struct{ File string } `yaml:"secrets"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	if err := yaml.Unmarshal(readFile(t, "compose.yaml"), &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c
}

// defaultOf returns the default of a "${VAR:-default}" value, or the value itself.
func defaultOf(v string) string {
	if m := regexp.MustCompile(`^\$\{[A-Z0-9_]+:-(.*)\}$`).FindStringSubmatch(v); m != nil {
		return m[1]
	}
	return v
}

// The one-shot service registers exactly the attributes the workflows set, with their types:
// an attribute missing on the server fails every upsert of it.
func TestComposeRegistersTheContractsSearchAttributes(t *testing.T) {
	svc, ok := loadCompose(t).Services["temporal-search-attributes"]
	if !ok {
		t.Fatal("compose.yaml: no temporal-search-attributes service")
	}
	cmd := svc.Command
	if len(cmd) < 4 || strings.Join(cmd[:4], " ") != "temporal operator search-attribute create" {
		t.Fatalf("temporal-search-attributes runs %q, want temporal operator search-attribute create …", cmd)
	}
	var got []attribute
	for i := 4; i < len(cmd); i++ {
		switch cmd[i] {
		case "--namespace":
			i++
		case "--name":
			if i+3 >= len(cmd) || cmd[i+2] != "--type" {
				t.Fatalf("--name %s is not followed by --type", cmd[i+1])
			}
			got = append(got, attribute{cmd[i+1], cmd[i+3]})
			i += 3
		default:
			t.Fatalf("unexpected argument %q", cmd[i])
		}
	}
	if want := contractAttributes(t); !slices.Equal(got, want) {
		t.Errorf("compose.yaml registers\n  %v\nthe workflows set (workflows.SearchAttributeKeys)\n  %v", got, want)
	}
}

func TestChartRegistersTheContractsSearchAttributes(t *testing.T) {
	var got []attribute
	if err := yaml.Unmarshal(readFile(t, "helm/petitiond/files/search-attributes.yaml"), &got); err != nil {
		t.Fatal(err)
	}
	if want := contractAttributes(t); !slices.Equal(got, want) {
		t.Errorf("helm/petitiond/files/search-attributes.yaml lists\n  %v\nthe workflows set (workflows.SearchAttributeKeys)\n  %v", got, want)
	}
}

// settingEnv is every environment variable petitiond reads.
func settingEnv() map[string]bool {
	m := map[string]bool{}
	for _, s := range config.Settings {
		m[s.Env] = true
	}
	return m
}

// Every variable the Compose file, the chart and the env example give petitiond is one it
// reads: a misspelt name would be ignored without a word.
func TestDeploymentsSetOnlyRealSettings(t *testing.T) {
	known := settingEnv()
	// Read by the Go runtime, not by petitiond's settings.
	known["GOMEMLIMIT"] = true

	c := loadCompose(t)
	for _, name := range []string{"migrate", "worker", "api", "petitiond"} {
		svc, ok := c.Services[name]
		if !ok {
			t.Errorf("compose.yaml: no %s service", name)
			continue
		}
		for env := range svc.Environment {
			if !known[env] {
				t.Errorf("compose.yaml: service %s sets %s, which petitiond does not read", name, env)
			}
		}
	}

	for _, line := range strings.Split(string(readFile(t, "petitiond.env.example")), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		if m := regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=`).FindStringSubmatch(line); m != nil && !known[m[1]] {
			t.Errorf("petitiond.env.example sets %s, which petitiond does not read", m[1])
		}
	}

	// The chart: the ConfigMap's keys and the env names of the petitiond containers.
	dir := "helm/petitiond/templates"
	cm := string(readFile(t, filepath.Join(dir, "configmap.yaml")))
	keys := regexp.MustCompile(`(?m)^  ([A-Z][A-Z0-9_]*): `).FindAllStringSubmatch(cm, -1)
	if len(keys) < 5 {
		t.Fatalf("configmap.yaml: found only %d keys", len(keys))
	}
	for _, m := range keys {
		if !known[m[1]] {
			t.Errorf("chart ConfigMap sets %s, which petitiond does not read", m[1])
		}
	}
	envName := regexp.MustCompile(`(?m)^\s*- name: ([A-Z][A-Z0-9_]*)\s*$`)
	for _, f := range []string{"_helpers.tpl", "api-deployment.yaml", "worker-deployment.yaml", "migrate-job.yaml"} {
		text := string(readFile(t, filepath.Join(dir, f)))
		if f == "_helpers.tpl" {
			// The admin tools' environment is the temporal CLI's, not petitiond's.
			text, _, _ = strings.Cut(text, `define "petitiond.adminToolsEnv"`)
		}
		for _, m := range envName.FindAllStringSubmatch(text, -1) {
			if !known[m[1]] {
				t.Errorf("chart %s sets %s, which petitiond does not read", f, m[1])
			}
		}
	}
}

// The Compose file runs what the issue asks for: official Temporal images set up with the
// server's own SQL tool (no auto-setup), two workers and two API replicas built from the
// Dockerfile, the keys as a secret, every image pinned.
func TestComposeServices(t *testing.T) {
	c := loadCompose(t)
	for name, svc := range c.Services {
		img := defaultOf(svc.Image)
		if img == "" {
			t.Errorf("service %s has no image", name)
			continue
		}
		repo, tag, ok := strings.Cut(img, ":")
		if !ok || tag == "" || tag == "latest" || strings.Contains(tag, "$") {
			t.Errorf("service %s: image %q is not pinned to a tag", name, img)
		}
		if strings.HasSuffix(repo, "temporalio/auto-setup") {
			t.Errorf("service %s uses %s: set the schema up with admin-tools' temporal-sql-tool", name, repo)
		}
	}
	for name, want := range map[string]string{
		"postgres": "postgres", "temporal": "temporalio/server", "temporal-schema": "temporalio/admin-tools",
		"temporal-search-attributes": "temporalio/admin-tools", "temporal-ui": "temporalio/ui",
	} {
		if got, _, _ := strings.Cut(defaultOf(c.Services[name].Image), ":"); got != want {
			t.Errorf("service %s runs %q, want the official %s", name, got, want)
		}
	}
	if !strings.Contains(strings.Join(c.Services["temporal-schema"].Command, " "), "temporal-sql-tool") {
		t.Error("temporal-schema does not run temporal-sql-tool")
	}
	// The schema the admin tools set up is the one their server release expects.
	_, server, _ := strings.Cut(defaultOf(c.Services["temporal"].Image), ":")
	for _, name := range []string{"temporal-schema", "temporal-namespace", "temporal-search-attributes"} {
		if _, tools, _ := strings.Cut(defaultOf(c.Services[name].Image), ":"); tools != server {
			t.Errorf("service %s runs admin-tools %s beside server %s: keep them the same release", name, tools, server)
		}
	}
	var chart struct {
		Temporal struct {
			SearchAttributes struct {
				Image struct{ Tag string }
			} `yaml:"searchAttributes"`
		}
	}
	if err := yaml.Unmarshal(readFile(t, "helm/petitiond/values.yaml"), &chart); err != nil {
		t.Fatal(err)
	}
	if tag := chart.Temporal.SearchAttributes.Image.Tag; tag != server {
		t.Errorf("the chart's admin-tools %s and Compose's server %s differ: bump them together", tag, server)
	}
	for _, name := range []string{"migrate", "worker", "api", "petitiond"} {
		svc := c.Services[name]
		if svc.Build == nil || svc.Build.Context != ".." || svc.Build.Dockerfile != "Dockerfile" {
			t.Errorf("service %s is not built from ../Dockerfile", name)
		}
		if !slices.ContainsFunc(svc.Secrets, func(s struct{ Source string }) bool { return s.Source == "petitions-keys" }) {
			t.Errorf("service %s does not mount the petitions-keys secret", name)
		}
		if svc.Environment["PETITIONS_KEY_FILE"] != "/run/secrets/petitions-keys" {
			t.Errorf("service %s: PETITIONS_KEY_FILE=%q, want the secret's path", name, svc.Environment["PETITIONS_KEY_FILE"])
		}
	}
	for name, want := range map[string][]string{"migrate": {"migrate"}, "worker": {"worker"}, "api": {"api"}} {
		if got := c.Services[name].Command; !slices.Equal(got, want) {
			t.Errorf("service %s runs %q, want %q", name, got, want)
		}
	}
	for _, name := range []string{"worker", "api"} {
		if d := c.Services[name].Deploy; d == nil || defaultOf(d.Replicas) != "2" {
			t.Errorf("service %s: want two replicas by default", name)
		}
	}
	if !slices.Equal(c.Services["petitiond"].Profiles, []string{"admin"}) {
		t.Error("the admin service petitiond must be in profile admin, so that `up` does not start it")
	}
	if f := c.Secrets["petitions-keys"].File; f != "./secrets/keys.json" {
		t.Errorf("secret petitions-keys comes from %q", f)
	}
	gitignore := string(readFile(t, ".gitignore"))
	for _, p := range []string{"/secrets/", "/.env"} {
		if !strings.Contains(gitignore, p) {
			t.Errorf("deploy/.gitignore does not keep %s out of git", p)
		}
	}
}

// The image: built with the project's Go release, static, on a base without a shell, as a
// user other than root.
func TestDockerfile(t *testing.T) {
	df := string(readFile(t, "../Dockerfile"))
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(string(readFile(t, "../go.mod")))
	if goVersion == nil {
		t.Fatal("go.mod has no go line")
	}
	var froms []string
	for _, m := range regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(df, -1) {
		froms = append(froms, m[1])
	}
	if len(froms) != 2 {
		t.Fatalf("want a builder and a final stage, got FROM %q", froms)
	}
	if want := "golang:" + goVersion[1] + "-"; !strings.HasPrefix(froms[0], want) {
		t.Errorf("builder %s: want %s… (go.mod's Go)", froms[0], want)
	}
	if final := froms[1]; !(strings.HasPrefix(final, "gcr.io/distroless/static") && strings.HasSuffix(final, ":nonroot")) && final != "scratch" {
		t.Errorf("final stage %s: want distroless static nonroot or scratch", final)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "GOTOOLCHAIN=local", `ENTRYPOINT ["/petitiond"]`, "EXPOSE 8080", "./cmd/petitiond"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
	user := regexp.MustCompile(`(?m)^USER\s+(\d+)(?::(\d+))?\s*$`).FindStringSubmatch(df)
	if user == nil || user[1] == "0" {
		t.Errorf("Dockerfile: want a numeric non-root USER, got %v", user)
	}
	ignore := string(readFile(t, "../.dockerignore"))
	for _, p := range []string{".dev", "deploy/secrets", "deploy/.env"} {
		if !strings.Contains(ignore, p) {
			t.Errorf(".dockerignore does not keep %s out of the build context", p)
		}
	}
}

// `docker compose config` validates the file as Docker Compose itself reads it.
func TestDockerComposeConfig(t *testing.T) {
	if err := exec.Command("docker", "compose", "version").Run(); err != nil {
		t.Skip("docker compose is not installed here (tools/deploylint loads the file with the Compose loader instead)")
	}
	dir := t.TempDir()
	env := filepath.Join(dir, "test.env")
	if err := os.WriteFile(env, []byte("POSTGRES_PASSWORD=a\nTEMPORAL_DB_PASSWORD=b\nPETITIONS_DB_PASSWORD=c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("docker", "compose", "--file", "compose.yaml", "--env-file", env, "config", "--quiet")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("docker compose config: %v\n%s", err, out.String())
	}
}
