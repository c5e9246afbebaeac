package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/petitions/petitions/internal/calendar"
	"github.com/petitions/petitions/workflows"
)

// These tests exercise what the API decides on its own — parsing, validation, error mapping —
// with no dependencies at all. Everything that reaches PostgreSQL or Temporal is tested
// against the real servers in the e2e package.

// fixedNow is the tests' clock: Thursday 2026-05-14 10:00 in Beijing.
var fixedNow = time.Date(2026, 5, 14, 10, 0, 0, 0, shanghai)

var testPolicies = map[string]workflows.Policy{
	"default": {Acceptance: workflows.Period{Amount: 15, Unit: calendar.CalendarDays}},
}

// do sends a request; body may be a string (sent as is) or a value (sent as JSON).
func do(t *testing.T, s *Server, method, path string, body any, headers ...string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = bytes.NewBufferString(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(js)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	var m map[string]any
	if ct := w.Header().Get("Content-Type"); len(ct) >= 16 && ct[:16] == "application/json" {
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v\n%s", method, path, err, w.Body.String())
		}
	}
	return w, m
}

// idNumber completes 17 digits with their GB 11643 check character.
func idNumber(first17 string) string {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return first17 + string(idCheck[sum%11])
}
