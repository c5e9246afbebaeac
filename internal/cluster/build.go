package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// goEnv is the environment of every go command run here: the installed toolchain only.
var goEnv = []string{"GOTOOLCHAIN=local", "GOWORK=off"}

// GoTool is the go command: $GO, else the one on PATH, else the one this binary was built by.
func GoTool() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// TemporalModule is the go.temporal.io/server module the project requires, as the go command
// resolves it (in the module cache).
type TemporalModule struct {
	Version string
	Dir     string
}

// SchemaDir is the module's PostgreSQL (v12 plugin) schema folder, holding temporal/versioned
// and visibility/versioned.
func (m TemporalModule) SchemaDir() string {
	return filepath.Join(m.Dir, "schema", "postgresql", "v12")
}

// FindTemporalModule asks the go command, in repoRoot, where the Temporal server module is.
func FindTemporalModule(ctx context.Context, repoRoot string) (TemporalModule, error) {
	out, err := run(ctx, repoRoot, goEnv, GoTool(), "list", "-m", "-json", "go.temporal.io/server")
	if err != nil {
		return TemporalModule{}, err
	}
	var m TemporalModule
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		return TemporalModule{}, fmt.Errorf("go list -m go.temporal.io/server: %w", err)
	}
	if m.Dir == "" {
		// Not downloaded yet: the build below downloads it through the module proxy.
		if _, err := run(ctx, repoRoot, goEnv, GoTool(), "mod", "download", "go.temporal.io/server"); err != nil {
			return TemporalModule{}, err
		}
		return FindTemporalModule(ctx, repoRoot)
	}
	return m, nil
}

// TemporalBinaries are the Temporal server and its SQL schema tool, built from the module the
// project requires.
type TemporalBinaries struct {
	Module  TemporalModule
	Server  string // temporal-server
	SQLTool string // temporal-sql-tool
	// Built is set when this call built them (Took); otherwise they came from the cache.
	Built bool
	Took  time.Duration
}

// BuildTemporal returns the server and the SQL tool of the project's Temporal version, built
// once per version, Go version and platform into cacheDir and reused afterwards.
//
// They are built in the project's module graph (the versions go.mod selects, mostly compiled
// already for the dev stack), from a throwaway copy of go.mod and go.sum: the server's command
// packages import a few modules (urfave/cli and its helpers) whose checksums the project's
// go.sum lacks, and adding them must not touch the project's files. The go command fetches
// those few through the module proxy when the module cache lacks them; nothing else goes to
// the network.
func BuildTemporal(ctx context.Context, repoRoot, cacheDir string, logf func(string, ...any)) (TemporalBinaries, error) {
	mod, err := FindTemporalModule(ctx, repoRoot)
	if err != nil {
		return TemporalBinaries{}, err
	}
	goVersion, err := run(ctx, repoRoot, goEnv, GoTool(), "env", "GOVERSION")
	if err != nil {
		return TemporalBinaries{}, err
	}
	key := fmt.Sprintf("temporal-%s-%s-%s-%s", mod.Version, strings.TrimSpace(goVersion), runtime.GOOS, runtime.GOARCH)
	dir := filepath.Join(cacheDir, key)
	b := TemporalBinaries{Module: mod, Server: filepath.Join(dir, "temporal-server"), SQLTool: filepath.Join(dir, "temporal-sql-tool")}
	if exists(b.Server) && exists(b.SQLTool) {
		return b, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return b, err
	}
	// One build at a time per cache entry (two test runs at once wait for each other).
	lock, err := os.OpenFile(filepath.Join(cacheDir, key+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return b, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return b, err
	}
	if exists(b.Server) && exists(b.SQLTool) {
		return b, nil
	}
	tmp, err := os.MkdirTemp("", "petitions-temporal-build-")
	if err != nil {
		return b, err
	}
	defer os.RemoveAll(tmp)
	goMod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		return b, err
	}
	goSum, err := os.ReadFile(filepath.Join(repoRoot, "go.sum"))
	if err != nil {
		return b, err
	}
	// The server module's own go.sum has the checksums the project's lacks, so the go command
	// needs no checksum database: with the modules in the cache the build works offline.
	if serverSum, err := os.ReadFile(filepath.Join(mod.Dir, "go.sum")); err == nil {
		goSum = append(append(goSum, '\n'), serverSum...)
	}
	// Same requirements, another module path; relative replace directives point back home.
	goMod = regexp.MustCompile(`(?m)^module\s+\S+`).ReplaceAll(goMod, []byte("module petitions.local/temporalbuild"))
	goMod = regexp.MustCompile(`(?m)(=>\s*)(\.\.?/)`).ReplaceAll(goMod, []byte("${1}"+repoRoot+"/${2}"))
	if err := os.WriteFile(filepath.Join(tmp, "go.mod"), goMod, 0o644); err != nil {
		return b, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "go.sum"), goSum, 0o644); err != nil {
		return b, err
	}
	env := append(goEnv[:len(goEnv):len(goEnv)], strings.TrimSpace("GOFLAGS="+os.Getenv("GOFLAGS")+" -mod=mod"))
	began := time.Now()
	for _, t := range []struct{ pkg, out string }{
		{"go.temporal.io/server/cmd/server", b.Server},
		{"go.temporal.io/server/cmd/tools/sql", b.SQLTool},
	} {
		logf("building %s@%s (a first build compiles the server: about 10 minutes on 2 cores)", t.pkg, mod.Version)
		if _, err := run(ctx, tmp, env, GoTool(), "build", "-o", t.out+".tmp", t.pkg); err != nil {
			return b, err
		}
		if err := os.Rename(t.out+".tmp", t.out); err != nil {
			return b, err
		}
	}
	b.Built, b.Took = true, time.Since(began)
	return b, nil
}

// BuildPetitiond builds ./cmd/petitiond of repoRoot into out, with the build tags given.
func BuildPetitiond(ctx context.Context, repoRoot, out string, tags ...string) (time.Duration, error) {
	began := time.Now()
	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	args = append(args, "./cmd/petitiond")
	if _, err := run(ctx, repoRoot, goEnv, GoTool(), args...); err != nil {
		return 0, err
	}
	return time.Since(began), nil
}

// DefaultCacheDir is where built Temporal binaries are kept: $PETITIONS_CLUSTER_CACHE, else
// the user's cache folder.
func DefaultCacheDir() string {
	if d := os.Getenv("PETITIONS_CLUSTER_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "petitions-cluster")
	}
	return filepath.Join(os.TempDir(), "petitions-cluster-cache")
}

func exists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
