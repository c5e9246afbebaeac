package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeImportAPI answers POST /api/v1/petitions/import like the API: every case imported,
// except references starting with "BAD", refused; it records the batches it was sent.
type fakeImportAPI struct {
	mu      sync.Mutex
	batches []int
	fail    int // answer 503 this many times first
}

func (f *fakeImportAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/petitions/import" || r.Header.Get("Authorization") != "Bearer tok" {
		http.Error(w, `{"error":"no"}`, http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":"the register is unavailable"}`)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var refs []string
	if strings.Contains(r.Header.Get("Content-Type"), "json") {
		var rows []map[string]any
		_ = json.Unmarshal(body, &rows)
		for _, row := range rows {
			refs = append(refs, fmt.Sprint(row["external_ref"]))
		}
	} else {
		recs, _ := csv.NewReader(bytes.NewReader(body)).ReadAll()
		for _, rec := range recs[1:] {
			refs = append(refs, rec[0])
		}
	}
	f.batches = append(f.batches, len(refs))
	var rows []map[string]any
	totals := map[string]int{"rows": len(refs)}
	for i, ref := range refs {
		row := map[string]any{"row": i + 1, "external_ref": ref, "status": "imported", "case_no": "2026-" + ref, "query_code": "12345678"}
		if strings.HasPrefix(ref, "BAD") {
			row = map[string]any{"row": i + 1, "external_ref": ref, "status": "refused", "reason": "petitioners[0].phone: is not a phone number"}
		}
		totals[row["status"].(string)]++
		rows = append(rows, row)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"rows": rows, "totals": totals})
}

func TestImportSendsBatchesAndReportsRefusals(t *testing.T) {
	api := &fakeImportAPI{fail: 1}
	srv := httptest.NewServer(api)
	defer srv.Close()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("external_ref,content\n")
	for i := range 250 {
		ref := fmt.Sprintf("R%03d", i)
		if i == 120 {
			ref = "BAD120"
		}
		fmt.Fprintf(&b, "%s,\"two\nlines\"\n", ref) // a quoted line break stays in its record
	}
	file := filepath.Join(dir, "cases.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	e := env(map[string]string{"PETITIONS_API_URL": srv.URL, "PETITIONS_API_TOKEN": "tok"})
	err := run(context.Background(), []string{"import", file}, e, &out)
	if err == nil || !strings.Contains(err.Error(), "1 of 250 rows refused") {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	if fmt.Sprint(api.batches) != "[100 100 50]" {
		t.Errorf("batches %v, want [100 100 50] (the first retried after a 503)", api.batches)
	}
	for _, want := range []string{"imported 100/250", "imported 250/250", "249 imported, 0 existing, 1 refused",
		"row 121 (BAD120): petitioners[0].phone: is not a phone number"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	rep, err := os.ReadFile(filepath.Join(dir, "cases-report.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := csv.NewReader(bytes.NewReader(rep)).ReadAll()
	if len(recs) != 251 || recs[1][1] != "R000" || recs[1][4] != "12345678" || recs[121][0] != "121" || recs[121][2] != "refused" {
		t.Errorf("report: %d records, %v … %v", len(recs), recs[1], recs[121])
	}

	// JSON, all good: exits 0.
	js := filepath.Join(dir, "cases.json")
	_ = os.WriteFile(js, []byte(`[{"external_ref":"J1"},{"external_ref":"J2"},{"external_ref":"J3"}]`), 0o600)
	out.Reset()
	if err := run(context.Background(), []string{"import", "--batch", "2", "--report", filepath.Join(dir, "r.csv"), js}, e, &out); err != nil {
		t.Fatalf("json import: %v\n%s", err, out.String())
	}
	if fmt.Sprint(api.batches[3:]) != "[2 1]" {
		t.Errorf("json batches %v", api.batches)
	}
}

func TestImportUsage(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{{"import"}, {"import", "a.csv", "b.csv"}} {
		if err := run(context.Background(), args, env(map[string]string{"PETITIONS_API_TOKEN": "t"}), &out); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("%v: %v", args, err)
		}
	}
	if err := run(context.Background(), []string{"import", "a.csv"}, env(nil), &out); err == nil || !strings.Contains(err.Error(), "no token") {
		t.Errorf("without a token: %v", err)
	}
	srv := httptest.NewServer(&fakeImportAPI{})
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "x.csv")
	_ = os.WriteFile(file, []byte("external_ref\nA\n"), 0o600)
	err := run(context.Background(), []string{"import", "--api-url", srv.URL, "--token", "wrong", file}, env(nil), &out)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a wrong token: %v", err)
	}
}
