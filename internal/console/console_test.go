package console

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/workflows"
)

// The vendored browser libraries are the ones `make vendor-assets` fetched: their SHA-256 sums
// match the recorded ones and the recorded versions match the Makefile's pins.
func TestVendoredAssetsMatchTheirPins(t *testing.T) {
	sums, err := fs.ReadFile(assetFS, "assets/vendor/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.Lines(string(sums)) {
		sum, name, ok := strings.Cut(strings.TrimSpace(line), "  ")
		if !ok {
			continue
		}
		b, err := fs.ReadFile(assetFS, "assets/vendor/"+name)
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s does not match SHA256SUMS: run make vendor-assets", name)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("SHA256SUMS lists %d files, want htmx and echarts", n)
	}
	versions, err := fs.ReadFile(assetFS, "assets/vendor/VERSIONS")
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for pkg, pin := range map[string]string{"htmx.org": "HTMX_VERSION", "echarts": "ECHARTS_VERSION"} {
		m := regexp.MustCompile(`(?m)^` + pin + ` \?= (\S+)$`).FindStringSubmatch(string(makefile))
		if m == nil || !strings.Contains(string(versions), pkg+" "+m[1]+"\n") {
			t.Errorf("VERSIONS %q does not have %s at the Makefile's %s", versions, pkg, pin)
		}
	}
}

// Every word a template or Go file asks for exists, in both languages.
func TestEveryMessageKeyExists(t *testing.T) {
	key := regexp.MustCompile(`\b(?:T|Tf|msg\([a-zA-Z.]+,) ?"([a-z_]+\.[a-z0-9_.]+)"`)
	check := func(name string, b []byte) {
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			v, ok := messages[m[1]]
			if !ok {
				t.Errorf("%s: no message %q", name, m[1])
			} else if v[0] == "" || v[1] == "" {
				t.Errorf("%s: message %q lacks a language", name, m[1])
			}
		}
	}
	_ = fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(templateFS, p)
			check(p, b)
		}
		return nil
	})
	for _, q := range append(append(queuesFor(&staffMember{Role: "clerk"}, time.Now()), queuesFor(&staffMember{Role: "handler"}, time.Now())...),
		append(append(queuesFor(&staffMember{Role: "leader"}, time.Now()), queuesFor(&staffMember{Role: "supervisor"}, time.Now())...),
			queuesFor(&staffMember{Role: "reviewer"}, time.Now())...)...) {
		if _, ok := messages[q.Key]; !ok {
			t.Errorf("queue %s has no title", q.Key)
		}
	}
}

// Each staff role has its queues; the week ends on Sunday night in the office's zone.
func TestQueuesPerRole(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	wed := time.Date(2026, 11, 25, 15, 0, 0, 0, loc)
	for _, r := range []workflows.Role{workflows.RoleClerk, workflows.RoleHandler, workflows.RoleLeader, workflows.RoleSupervisor, workflows.RoleReviewer} {
		if qs := queuesFor(&staffMember{ID: "x", Role: string(r)}, wed); len(qs) == 0 {
			t.Errorf("%s has no queues", r)
		}
	}
	if qs := queuesFor(&staffMember{Role: string(workflows.RoleAdmin)}, wed); len(qs) != 0 {
		t.Errorf("the administrator reads no cases, got queues %v", qs)
	}
	for _, q := range queuesFor(&staffMember{ID: "h", Role: "handler"}, wed) {
		if q.Key == "q.mine_week" && q.Filter.Get("due_before") != "2026-11-30T00:00:00+08:00" {
			t.Errorf("this week ends %s, want Monday 30 November 00:00", q.Filter.Get("due_before"))
		}
	}
}

// The API's paths go to the API, everything else to the console.
func TestMount(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	con := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
	h := Mount(api, con)
	for path, want := range map[string]int{
		"/api/v1/petitions": http.StatusTeapot, "/healthz": http.StatusTeapot, "/readyz": http.StatusTeapot,
		"/openapi.yaml": http.StatusTeapot, "/codec/decode": http.StatusTeapot,
		"/": http.StatusAccepted, "/cases/2026-000001": http.StatusAccepted, "/assets/console.css": http.StatusAccepted,
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != want {
			t.Errorf("%s: %d, want %d", path, w.Code, want)
		}
	}
}

// Redirects after sign-in stay on this site.
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", "/cases?q=1": "/cases?q=1", "//evil.example/": "/", "https://evil.example/": "/", "/\\evil": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
