package api

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// validPetition is a request that passes validation; tests break one thing at a time.
func validPetition() map[string]any {
	return map[string]any{
		"channel":  "letter",
		"category": "appeal",
		"topic":    "unpaid wages",
		"content":  "The contractor has not paid three months of wages.",
		"petitioners": []map[string]any{
			{"name": "张三", "id_number": idNumber("11010519491231002"), "phone": "138 0013 8000"},
		},
		"actor": "clerk-1",
	}
}

// nilServer has no dependencies: validation must answer before any of them is called.
func nilServer() *Server {
	return New(Config{Policies: testPolicies, Now: func() time.Time { return fixedNow }})
}

func TestRegistrationValidation(t *testing.T) {
	s := nilServer()
	cases := []struct {
		name   string
		mutate func(m map[string]any)
		field  string
		want   string
	}{
		{"bad channel", func(m map[string]any) { m["channel"] = "pigeon" }, "channel", "must be one of letter, visit"},
		{"missing channel", func(m map[string]any) { delete(m, "channel") }, "channel", "must be one of"},
		{"bad category", func(m map[string]any) { m["category"] = "complaint" }, "category", "must be one of accusation"},
		{"missing petitioners", func(m map[string]any) { delete(m, "petitioners") }, "petitioners", "at least one"},
		{"empty petitioners", func(m map[string]any) { m["petitioners"] = []any{} }, "petitioners", "at least one"},
		{"petitioner without name", func(m map[string]any) {
			m["petitioners"] = []map[string]any{{"phone": "12345"}}
		}, "petitioners[0].name", "is required"},
		{"petitioner without id or phone", func(m map[string]any) {
			m["petitioners"] = []map[string]any{{"name": "李四"}}
		}, "petitioners[0].id_number", "ID number or a phone"},
		{"bad ID checksum", func(m map[string]any) {
			id := idNumber("11010519491231002")
			wrong := id[:17] + map[bool]string{true: "1", false: "0"}[id[17] == '0']
			m["petitioners"] = []map[string]any{{"name": "王五", "id_number": wrong}}
		}, "petitioners[0].id_number", "checksum"},
		{"ID too short", func(m map[string]any) {
			m["petitioners"] = []map[string]any{{"name": "王五", "id_number": "1101051949"}}
		}, "petitioners[0].id_number", "18 characters"},
		{"ID birth date impossible", func(m map[string]any) {
			m["petitioners"] = []map[string]any{{"name": "王五", "id_number": idNumber("11010519491331002")}}
		}, "petitioners[0].id_number", "birth date"},
		{"bad phone", func(m map[string]any) {
			m["petitioners"] = []map[string]any{{"name": "王五", "phone": "call me"}}
		}, "petitioners[0].phone", "not a phone"},
		{"group size below petitioners", func(m map[string]any) { m["group_size"] = 0 }, "group_size", "at least"},
		{"received in future", func(m map[string]any) {
			m["received_at"] = fixedNow.Add(time.Hour).Format(time.RFC3339)
		}, "received_at", "future"},
		{"received not RFC 3339", func(m map[string]any) { m["received_at"] = "yesterday" }, "received_at", "RFC 3339"},
		{"unknown policy", func(m map[string]any) { m["policy"] = "lenient" }, "policy", "unknown policy"},
		{"missing actor", func(m map[string]any) { delete(m, "actor") }, "actor", "is required"},
		{"missing topic", func(m map[string]any) { m["topic"] = "  " }, "topic", "is required"},
		{"attachment without name", func(m map[string]any) {
			m["attachments"] = []map[string]any{{"size": 10}}
		}, "attachments[0].name", "is required"},
		{"wrong type", func(m map[string]any) { m["group_size"] = "five" }, "group_size", "must be an integer"},
		{"unknown field", func(m map[string]any) { m["channell"] = "letter" }, "channell", "unknown field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := validPetition()
			tc.mutate(m)
			w, body := do(t, s, http.MethodPost, "/api/v1/petitions", m)
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", w.Code, w.Body)
			}
			if body["error"] != "validation failed" {
				t.Errorf("error = %v", body["error"])
			}
			fields, _ := body["fields"].(map[string]any)
			got, _ := fields[tc.field].(string)
			if !strings.Contains(got, tc.want) {
				t.Errorf("fields[%q] = %q, want it to contain %q (all: %v)", tc.field, got, tc.want, fields)
			}
		})
	}
}

func TestRegistrationReportsAllFieldsAtOnce(t *testing.T) {
	m := validPetition()
	m["channel"], m["category"] = "x", "y"
	delete(m, "petitioners")
	_, body := do(t, nilServer(), http.MethodPost, "/api/v1/petitions", m)
	fields, _ := body["fields"].(map[string]any)
	for _, f := range []string{"channel", "category", "petitioners"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("field %s not reported: %v", f, fields)
		}
	}
}

func TestMalformedJSON(t *testing.T) {
	s := nilServer()
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPost, "/api/v1/petitions", `{"channel": "letter",`},
		{http.MethodPost, "/api/v1/petitions", `not json`},
		{http.MethodPost, "/api/v1/petitions", ``},
		{http.MethodPost, "/api/v1/petitions", `[1,2]`},
		{http.MethodPost, "/api/v1/petitions", `{} {}`},
		{http.MethodPost, "/api/v1/petitions/2026-000001/accept", `{"actor":`},
		{http.MethodPut, "/api/v1/calendars/2026", `{"year": 2026,,}`},
	} {
		w, body := do(t, s, tc.method, tc.path, tc.body)
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s %s %q: status %d, want 400: %s", tc.method, tc.path, tc.body, w.Code, w.Body)
			continue
		}
		if msg, _ := body["error"].(string); msg == "" || strings.Contains(msg, "Go struct") {
			t.Errorf("%q: unhelpful or leaking error %q", tc.body, msg)
		}
	}
}

func TestActionValidationWithoutDependencies(t *testing.T) {
	s := nilServer()
	w, _ := do(t, s, http.MethodPost, "/api/v1/petitions/2026-000001/dance", `{"actor":"x"}`)
	if w.Code != http.StatusNotFound {
		t.Errorf("unknown action: status %d, want 404", w.Code)
	}
	for _, tc := range []struct {
		body  string
		field string
	}{
		{`{}`, "actor"},
		{`{"actor":"h1","days":0}`, "days"},
		{`{"actor":"h1","outcome":"maybe"}`, "outcome"},
		{`{"actor":"h1","evaluation":"meh"}`, "evaluation"},
		{`{"actor":"h1","new_due_at":"soon"}`, "new_due_at"},
		{`{"actor":"h1","query_code":"X"}`, "query_code"},
		{`{"actor":"h1","approved":"yes"}`, "approved"},
		{`{"actor":"h1","handeler":"h2"}`, "handeler"},
	} {
		w, body := do(t, s, http.MethodPost, "/api/v1/petitions/2026-000001/reply", tc.body)
		fields, _ := body["fields"].(map[string]any)
		if w.Code != http.StatusBadRequest || fields[tc.field] == nil {
			t.Errorf("%s: status %d fields %v, want 400 naming %s", tc.body, w.Code, fields, tc.field)
		}
	}
	w, _ = do(t, s, http.MethodGet, "/api/v1/petitions/bad%20no", nil)
	if w.Code != http.StatusBadRequest {
		t.Errorf("bad case number: status %d, want 400", w.Code)
	}
}

func TestQueryParamValidation(t *testing.T) {
	s := nilServer()
	for _, tc := range []struct{ path, param string }{
		{"/api/v1/petitions?limit=0", "limit"},
		{"/api/v1/petitions?limit=abc", "limit"},
		{"/api/v1/petitions?overdue=perhaps", "overdue"},
		{"/api/v1/petitions?due_before=tomorrow", "due_before"},
		{"/api/v1/petitions?due_after=2026-13-01", "due_after"},
		{"/api/v1/petitions?escalation_level=9", "escalation_level"},
		{"/api/v1/petitions?stage=lost", "stage"},
		{"/api/v1/petitions?channel=fax", "channel"},
		{"/api/v1/petitions?overdu=true", "overdu"},
		{"/api/v1/stats?from=May", "from"},
		{"/api/v1/stats?from=2026-05-10&to=2026-05-01", "to"},
		{"/api/v1/reports/monthly.csv?month=2026-5-1", "month"},
		{"/api/v1/calendars/26", "year"},
	} {
		w, body := do(t, s, http.MethodGet, tc.path, nil)
		fields, _ := body["fields"].(map[string]any)
		if w.Code != http.StatusBadRequest || fields[tc.param] == nil {
			t.Errorf("%s: status %d body %v, want 400 naming %s", tc.path, w.Code, body, tc.param)
		}
	}
}

func TestCalendarYearMismatch(t *testing.T) {
	w, body := do(t, nilServer(), http.MethodPut, "/api/v1/calendars/2026", `{"year": 2027}`)
	fields, _ := body["fields"].(map[string]any)
	if w.Code != http.StatusBadRequest || fields["year"] == nil {
		t.Errorf("status %d body %v, want 400 naming year", w.Code, body)
	}
}

func TestValidIDNumber(t *testing.T) {
	today := fixedNow
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"11010519491231002X", true}, // the standard's own example
		{"11010519491231002x", true},
		{"110105194912310021", false},
		{idNumber("44030420000229123"), true},  // 29 Feb of a leap year
		{idNumber("44030420010229123"), false}, // not a leap year
		{idNumber("44030430000101123"), false}, // born in the future
		{idNumber("04030419900101123"), false}, // region code
		{"1101051949123100XX", false},
	} {
		if got := validIDNumber(tc.id, today) == ""; got != tc.ok {
			t.Errorf("validIDNumber(%s) ok = %v, want %v (%s)", tc.id, got, tc.ok, validIDNumber(tc.id, today))
		}
	}
}
