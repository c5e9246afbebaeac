package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// petitiond import FILE brings an office's running cases in (补录) through the API's
// POST /api/v1/petitions/import, the one implementation of the import: the file is sent in
// batches, progress is printed after each, and the refused rows with their reasons at the end.
// Importing is idempotent by external reference, so a batch that failed on the way is simply
// sent again, and so is the whole file after fixing the refused rows.

const importSynopsis = `import [--api-url URL] [--token TOKEN] [--batch N] [--report FILE] FILE.csv|FILE.json

Brings running cases in from the office's earlier system (补录) through the HTTP API
(POST /api/v1/petitions/import; columns in the README, "Bringing running cases in").
The token is a clerk's or supervisor's: an access token from POST /api/v1/auth/sign-in, or an
API token of a service account with one of those roles (petitiond token create). Every row's
outcome goes to the report (CSV; it holds the petitioners' query codes: keep it safe). Exits
non-zero when a row was refused; fix those rows and import the file again (rows imported
before answer "existing").`

const (
	importBatchDefault = 100
	importBatchMax     = 1000 // the API's limit per request
	importAttempts     = 3
)

// importReport is the API's answer.
type importReport struct {
	Rows []struct {
		Row         int        `json:"row"`
		ExternalRef string     `json:"external_ref"`
		Status      string     `json:"status"`
		CaseNo      string     `json:"case_no"`
		QueryCode   string     `json:"query_code"`
		Stage       string     `json:"stage"`
		Due         *time.Time `json:"due"`
		Overdue     bool       `json:"overdue"`
		Reason      string     `json:"reason"`
	} `json:"rows"`
	Totals         map[string]int `json:"totals"`
	IgnoredColumns []string       `json:"ignored_columns"`
}

func importCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var apiURL, token, report string
	var batch int
	cmd, err := parse("import", importSynopsis, args, getenv, stdout, func(fs *flag.FlagSet) {
		fs.StringVar(&apiURL, "api-url", orEnv(getenv, "PETITIONS_API_URL", "http://127.0.0.1:8080"), "the API's address (env PETITIONS_API_URL)")
		fs.StringVar(&token, "token", getenv("PETITIONS_API_TOKEN"), "a clerk's or supervisor's token (env PETITIONS_API_TOKEN)")
		fs.IntVar(&batch, "batch", importBatchDefault, "cases per request (at most 1000)")
		fs.StringVar(&report, "report", "", "where to write every row's outcome as CSV (default FILE-report.csv)")
	})
	if err != nil {
		return err
	}
	file, err := cmd.oneArg("FILE.csv|FILE.json")
	if err != nil {
		return err
	}
	if token == "" {
		return errors.New("import: no token: give --token or PETITIONS_API_TOKEN (a clerk's or supervisor's)")
	}
	if batch < 1 || batch > importBatchMax {
		return fmt.Errorf("import: --batch must be 1 to %d", importBatchMax)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	parts, contentType, total, err := splitImport(file, raw, batch)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if report == "" {
		report = strings.TrimSuffix(file, filepath.Ext(file)) + "-report.csv"
	}
	out, err := os.OpenFile(report, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // query codes
	if err != nil {
		return err
	}
	defer out.Close()
	rep := csv.NewWriter(out)
	_ = rep.Write([]string{"row", "external_ref", "status", "case_no", "query_code", "stage", "due", "overdue", "reason"})

	client := &http.Client{Timeout: 10 * time.Minute}
	endpoint := strings.TrimRight(apiURL, "/") + "/api/v1/petitions/import"
	counts := map[string]int{}
	var refused []string
	start, done := time.Now(), 0
	for i, part := range parts {
		r, err := postImportBatch(ctx, client, endpoint, token, contentType, part.body)
		if err != nil {
			return fmt.Errorf("import: rows %d–%d: %w (rows before them are in; import the file again to go on)", done+1, done+part.rows, err)
		}
		if i == 0 && len(r.IgnoredColumns) > 0 {
			fmt.Fprintf(stdout, "ignored columns: %s\n", strings.Join(r.IgnoredColumns, ", "))
		}
		for _, row := range r.Rows {
			n := done + row.Row
			counts[row.Status]++
			due := ""
			if row.Due != nil {
				due = row.Due.Format(time.RFC3339)
			}
			_ = rep.Write([]string{strconv.Itoa(n), row.ExternalRef, row.Status, row.CaseNo, row.QueryCode, row.Stage, due,
				strconv.FormatBool(row.Overdue), row.Reason})
			if row.Status == "refused" {
				refused = append(refused, fmt.Sprintf("  row %d (%s): %s", n, row.ExternalRef, row.Reason))
			}
		}
		done += part.rows
		fmt.Fprintf(stdout, "imported %d/%d … (%d new, %d existing, %d refused; %s)\n", done, total,
			counts["imported"], counts["existing"], counts["refused"], time.Since(start).Round(100*time.Millisecond))
	}
	rep.Flush()
	if err := rep.Error(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d cases in %s: %d imported, %d existing, %d refused; report in %s (it holds query codes: keep it safe)\n",
		total, time.Since(start).Round(100*time.Millisecond), counts["imported"], counts["existing"], counts["refused"], report)
	if len(refused) > 0 {
		fmt.Fprintln(stdout, "refused:")
		for _, l := range refused {
			fmt.Fprintln(stdout, l)
		}
		return fmt.Errorf("import: %d of %d rows refused; fix them and import the file again", len(refused), total)
	}
	return nil
}

func orEnv(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// importPart is one request's share of the file.
type importPart struct {
	body []byte
	rows int
}

// splitImport cuts the file into requests of at most batch cases: a JSON array into arrays, a
// CSV into CSVs each with the header row (records, not lines: a quoted cell may hold a line
// break). It reads the file only as far as that; the API checks everything else.
func splitImport(name string, raw []byte, batch int) (parts []importPart, contentType string, total int, err error) {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(raw)
	if strings.EqualFold(filepath.Ext(name), ".json") || len(trimmed) > 0 && trimmed[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, "", 0, fmt.Errorf("not a JSON array of cases: %w", err)
		}
		for from := 0; from < len(elems); from += batch {
			chunk := elems[from:min(from+batch, len(elems))]
			b, err := json.Marshal(chunk)
			if err != nil {
				return nil, "", 0, err
			}
			parts = append(parts, importPart{body: b, rows: len(chunk)})
		}
		return parts, "application/json", len(elems), nil
	}
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	records, err := r.ReadAll()
	if err != nil {
		return nil, "", 0, fmt.Errorf("not CSV: %w", err)
	}
	if len(records) < 2 {
		return nil, "", 0, errors.New("no cases: expected a header row and one case per line")
	}
	header, rows := records[0], records[1:]
	for from := 0; from < len(rows); from += batch {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		_ = w.Write(header)
		chunk := rows[from:min(from+batch, len(rows))]
		_ = w.WriteAll(chunk)
		parts = append(parts, importPart{body: b.Bytes(), rows: len(chunk)})
	}
	return parts, "text/csv; charset=utf-8", len(rows), nil
}

// postImportBatch sends one batch, again after a failure on the way or of the service (the
// import is idempotent by external reference, so a batch sent twice imports each case once).
func postImportBatch(ctx context.Context, c *http.Client, endpoint, token, contentType string, body []byte) (importReport, error) {
	var last error
	for attempt := range importAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return importReport{}, ctx.Err()
			case <-time.After(time.Duration(attempt) * 2 * time.Second):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err != nil {
			return importReport{}, err
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			last = err
			continue
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			last = err
			continue
		}
		var answer struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(raw, &answer)
		switch {
		case resp.StatusCode == http.StatusOK:
			var r importReport
			if err := json.Unmarshal(raw, &r); err != nil {
				return importReport{}, fmt.Errorf("unreadable answer: %w", err)
			}
			return r, nil
		case resp.StatusCode >= 500:
			last = fmt.Errorf("the API answered %d: %s", resp.StatusCode, answer.Error)
			continue
		case resp.StatusCode == http.StatusUnauthorized:
			return importReport{}, errors.New("the token was refused (401): sign in again or check PETITIONS_API_TOKEN")
		default:
			return importReport{}, fmt.Errorf("the API refused the file (%d): %s", resp.StatusCode, answer.Error)
		}
	}
	return importReport{}, last
}
