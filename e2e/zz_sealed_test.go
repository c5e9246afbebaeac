package e2e

// This file's name sorts last: its test reads what every earlier test left in Temporal's
// database and in the logs.

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var (
	secretsMu sync.Mutex
	secrets   = map[string]bool{}
)

// collectSecrets remembers what petitioners and staff wrote in a request — names, ID numbers,
// phones, addresses, topics, contents, opinions, reasons — so the last test can check none of
// it reached Temporal's database or the logs in plain text. Short strings are skipped: they
// could occur by chance in binary data.
func collectSecrets(method, path string, body any) {
	m, ok := body.(map[string]any)
	if !ok || method != "POST" {
		return
	}
	add := func(v any) {
		if s, ok := v.(string); ok && len(s) >= 8 {
			secretsMu.Lock()
			secrets[s] = true
			secretsMu.Unlock()
		}
	}
	for _, k := range []string{"topic", "content", "opinion", "reason", "location"} {
		add(m[k])
	}
	if pets, ok := m["petitioners"].([]any); ok {
		for _, p := range pets {
			if pm, ok := p.(map[string]any); ok {
				for _, k := range []string{"name", "id_number", "phone", "address"} {
					add(pm[k])
				}
			}
		}
	}
	_ = path
}

// After the whole end-to-end run, neither the Temporal database (SQLite file and its WAL) nor
// the captured logs hold any petitioner's name, ID number or phone, any topic or content, or
// any opinion or reason typed by staff: payloads are sealed by the codec, summaries and search
// attributes carry none of it. The dev stack's data files are readable by their owner only.
func TestZZNothingPlainInTemporalOrLogs(t *testing.T) {
	dir := devDir
	files, _ := filepath.Glob(filepath.Join(dir, "temporal.db*"))
	if len(files) == 0 {
		t.Fatalf("no Temporal database file in %s", dir)
	}
	var blobs = map[string][]byte{"logs": capturedLogs.Bytes()}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		blobs[filepath.Base(f)] = b
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode&0o077 != 0 {
			t.Errorf("%s has mode %v; want readable by its owner only", f, mode)
		}
	}
	// The folder may let others traverse it (PostgreSQL runs as its own OS user when the stack
	// runs as root), never list or change it.
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o066 != 0 {
		t.Errorf("%s has mode %v; want no read or write for others", dir, fi.Mode().Perm())
	}
	secretsMu.Lock()
	defer secretsMu.Unlock()
	if len(secrets) < 20 {
		t.Skipf("only %d strings collected: run the whole e2e package for this check", len(secrets))
	}
	found := 0
	for s := range secrets {
		for name, b := range blobs {
			if bytes.Contains(b, []byte(s)) {
				found++
				t.Errorf("%s holds %q in plain text", name, truncateStr(s, 40))
			}
		}
	}
	sizes := []string{}
	for name, b := range blobs {
		sizes = append(sizes, name+" "+strconv.Itoa(len(b))+" bytes")
	}
	t.Logf("checked %d strings against %s: %d found", len(secrets), strings.Join(sizes, ", "), found)
}

func truncateStr(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
