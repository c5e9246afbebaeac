package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/petitions/petitions/workflows"
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

// nilServer has no register and no Temporal (offlineRegister answers "not configured"):
// validation must answer before either is called. Its sign-in service is fakeAuth.
func nilServer() *Server {
	return New(Config{
		Policies: testPolicies, Now: func() time.Time { return fixedNow }, Logger: quietLog,
		Register: offlineRegister{}, Auth: fakeAuth{}, Accounts: fakeAuth{},
	})
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
		{"missing topic", func(m map[string]any) { m["topic"] = "  " }, "topic", "is required"},
		{"attachment without name", func(m map[string]any) {
			m["attachments"] = []map[string]any{{"size": 10}}
		}, "attachments[0].name", "is required"},
		{"wrong type", func(m map[string]any) { m["group_size"] = "five" }, "group_size", "must be an integer"},
		{"unknown field", func(m map[string]any) { m["channell"] = "letter" }, "channell", "unknown field"},

		// Hostile text: PostgreSQL refuses NUL in text and jsonb, so it must be a 400 here
		// rather than a failed insert (500) later.
		{"NUL in topic", func(m map[string]any) { m["topic"] = "wages\x00" }, "topic", "control characters"},
		{"NUL in content", func(m map[string]any) { m["content"] = "a\x00b" }, "content", "control characters"},
		{"escape in location", func(m map[string]any) { m["location"] = "\x1b[2J" }, "location", "control characters"},
		{"NUL in name", func(m map[string]any) {
			m["petitioners"] = []map[string]any{{"name": "张\x00三", "phone": "12345"}}
		}, "petitioners[0].name", "control characters"},
		{"DEL in address", func(m map[string]any) {
			m["petitioners"] = []map[string]any{{"name": "张三", "phone": "12345", "address": "x\x7f"}}
		}, "petitioners[0].address", "control characters"},
		{"NUL in attachment name", func(m map[string]any) {
			m["attachments"] = []map[string]any{{"name": "a\x00.pdf"}}
		}, "attachments[0].name", "control characters"},
		{"NUL in attachment ref", func(m map[string]any) {
			m["attachments"] = []map[string]any{{"name": "a.pdf", "ref": "s3://x\x00"}}
		}, "attachments[0].ref", "control characters"},
		{"NUL in policy", func(m map[string]any) { m["policy"] = "default\x00" }, "policy", "not a policy name"},
		{"topic too long", func(m map[string]any) { m["topic"] = strings.Repeat("字", 201) }, "topic", "at most 200"},
		{"content too long", func(m map[string]any) { m["content"] = strings.Repeat("x", maxContent+1) }, "content", "at most"},
		{"name too long", func(m map[string]any) {
			m["petitioners"] = []map[string]any{{"name": strings.Repeat("名", 101), "phone": "12345"}}
		}, "petitioners[0].name", "at most 100"},
		{"phone padded with spaces", func(m map[string]any) {
			m["petitioners"] = []map[string]any{{"name": "张三", "phone": "1" + strings.Repeat(" ", 100) + "2345"}}
		}, "petitioners[0].phone", "not a phone"},
		{"too many petitioners", func(m map[string]any) {
			ps := make([]map[string]any, 10000)
			for i := range ps {
				ps[i] = map[string]any{"name": "x"} // each also lacks a phone: not reported one by one
			}
			m["petitioners"] = ps
		}, "petitioners", "at most 100"},
		{"too many attachments", func(m map[string]any) {
			as := make([]map[string]any, maxAttachments+1)
			for i := range as {
				as[i] = map[string]any{"name": "a.pdf"}
			}
			m["attachments"] = as
		}, "attachments", "at most 100"},
		{"huge group", func(m map[string]any) { m["group_size"] = 1 << 40 }, "group_size", "at most"},
		{"received with offset +24:00", func(m map[string]any) { m["received_at"] = "2026-05-01T09:00:00+24:00" }, "received_at", "RFC 3339"},
		{"received with offset minutes 60", func(m map[string]any) { m["received_at"] = "2026-05-01T09:00:00+08:60" }, "received_at", "RFC 3339"},
		{"received in year 0", func(m map[string]any) { m["received_at"] = "0000-01-01T00:00:00Z" }, "received_at", "years 1901 to 9999"},
		{"received in year 10000", func(m map[string]any) { m["received_at"] = "10000-01-01T00:00:00Z" }, "received_at", "RFC 3339"},
		{"number as string", func(m map[string]any) { m["group_size"] = "5" }, "group_size", "must be an integer"},
		{"string as number", func(m map[string]any) { m["topic"] = 5 }, "topic", "must be a string"},
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

// A valid registration passes validation and needs the register: with none it answers 503.
// Tabs, newlines and Chinese text are ordinary content.
func TestValidRegistrationReachesTheRegister(t *testing.T) {
	s := nilServer()
	for name, mutate := range map[string]func(map[string]any){
		"as given":           func(map[string]any) {},
		"without actor":      func(m map[string]any) { delete(m, "actor") },
		"tabs and newlines":  func(m map[string]any) { m["content"] = "第一段\t说明\r\n第二段\n" },
		"received in 1901":   func(m map[string]any) { m["received_at"] = "1901-01-01T00:00:00Z" },
		"100 petitioners":    func(m map[string]any) { m["petitioners"] = manyPetitioners(100) },
		"group of 100000":    func(m map[string]any) { m["group_size"] = maxGroupSize },
		"attachment size 0":  func(m map[string]any) { m["attachments"] = []map[string]any{{"name": "信.pdf", "size": 0}} },
		"content at the max": func(m map[string]any) { m["content"] = strings.Repeat("字", maxContent) },
	} {
		m := validPetition()
		mutate(m)
		w, body := do(t, s, http.MethodPost, "/api/v1/petitions", m)
		if !isNotConfigured(w.Code, body) {
			t.Errorf("%s: status %d %v, want 503 (validation passed, no register)", name, w.Code, body)
		}
	}
}

func manyPetitioners(n int) []map[string]any {
	ps := make([]map[string]any, n)
	for i := range ps {
		ps[i] = map[string]any{"name": "张三", "phone": "138 0013 8000"}
	}
	return ps
}

func TestMalformedJSON(t *testing.T) {
	s := nilServer()
	for _, tc := range []struct{ method, path, body, role string }{
		{http.MethodPost, "/api/v1/petitions", `{"channel": "letter",`, "clerk"},
		{http.MethodPost, "/api/v1/petitions", `not json`, "clerk"},
		{http.MethodPost, "/api/v1/petitions", ``, "clerk"},
		{http.MethodPost, "/api/v1/petitions", `[1,2]`, "clerk"},
		{http.MethodPost, "/api/v1/petitions", `{} {}`, "clerk"},
		{http.MethodPost, "/api/v1/petitions/2026-000001/accept", `{"actor":`, "clerk"},
		{http.MethodPost, "/api/v1/petitions/2026-000001/accept", `{"unit":`, "handler"},
		{http.MethodPut, "/api/v1/calendars/2026", `{"year": 2026,,}`, "admin"},
		{http.MethodPost, "/api/v1/auth/sign-in", `{"staff_id":`, ""},
		{http.MethodPost, "/api/v1/public/petitions/2026-000001/evaluate", `{"evaluation":`, ""},
	} {
		auth := ""
		if tc.role != "" {
			auth = bearer(tc.role)
		}
		w, body := do(t, s, tc.method, tc.path, tc.body, "Authorization", auth)
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
	w, _ := do(t, s, http.MethodPost, "/api/v1/petitions/2026-000001/dance", `{}`)
	if w.Code != http.StatusNotFound {
		t.Errorf("unknown action: status %d, want 404", w.Code)
	}
	for _, tc := range []struct {
		body  string
		field string
	}{
		{`{"days":0}`, "days"},
		{`{"days":367}`, "days"},
		{`{"outcome":"maybe"}`, "outcome"},
		{`{"evaluation":"meh"}`, "evaluation"},
		{`{"new_due_at":"soon"}`, "new_due_at"},
		{`{"new_due_at":"2026-06-01T00:00:00+24:00"}`, "new_due_at"},
		{`{"new_due_at":"0000-06-01"}`, "new_due_at"},
		{`{"served_at":"yesterday"}`, "served_at"},
		{`{"served_at":"2026-06-01","service_method":"pigeon"}`, "service_method"},
		{`{"query_code":"X"}`, "query_code"},
		{`{"approved":"yes"}`, "approved"},
		{`{"handeler":"h2"}`, "handeler"},
		{`{"handler":"h\u00002"}`, "handler"},
		{`{"reason":"nul \u0000 byte"}`, "reason"},
		{`{"opinion":"bell \u0007"}`, "opinion"},
		{`{"actor":"clerk-1","days":0}`, "days"}, // the signed-in clerk's own ID is fine
		// The routines' fields (交办, 回访, 联查).
		{`{"report_due":"10000-01-01"}`, "report_due"},
		{`{"report_due":"next week"}`, "report_due"},
		{`{"reached":"yes"}`, "reached"},
		{`{"criterion":"gut feeling"}`, "criterion"},
		{`{"units":["construction","he\u0000alth"]}`, "units"},
		{`{"units":["construction",""]}`, "units"},
		{`{"units":"construction"}`, "units"},
		{`{"units":["u1","u2","u3","u4","u5","u6","u7","u8","u9","u10","u11","u12","u13","u14","u15","u16","u17","u18","u19","u20","u21"]}`, "units"},
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
		{"/api/v1/petitions?due_before=0000-01-01", "due_before"},
		{"/api/v1/petitions?due_after=2026-05-01T00:00:00%2B24:00", "due_after"},
		{"/api/v1/petitions?q=%00", "q"},
		{"/api/v1/petitions?q=%ff", "q"},
		{"/api/v1/petitions?unit=%C0%AF", "unit"},
		{"/api/v1/stats?from=0001-01-01&to=9999-12-31", "from"},
		{"/api/v1/stats?from=2026-01-01&to=9999-12-31", "to"},
		{"/api/v1/stats?to=10000-01-01", "to"},
		{"/api/v1/reports/monthly.csv?month=0000-01", "month"},
		{"/api/v1/reports/monthly.csv?month=1900-12", "month"},
		{"/api/v1/stats?from=1900-01-01", "from"},
	} {
		w, body := do(t, s, http.MethodGet, tc.path, nil)
		fields, _ := body["fields"].(map[string]any)
		if w.Code != http.StatusBadRequest || fields[tc.param] == nil {
			t.Errorf("%s: status %d body %v, want 400 naming %s", tc.path, w.Code, body, tc.param)
		}
	}
}

func TestCalendarYearMismatch(t *testing.T) {
	w, body := do(t, nilServer(), http.MethodPut, "/api/v1/calendars/2026", `{"year": 2027}`, "Authorization", bearer("admin"))
	fields, _ := body["fields"].(map[string]any)
	if w.Code != http.StatusBadRequest || fields["year"] == nil {
		t.Errorf("status %d body %v, want 400 naming year", w.Code, body)
	}
}

func TestCalendarText(t *testing.T) {
	s := nilServer()
	for body, field := range map[string]string{
		`{"source": "国办发明电\u0000"}`:                                                                    "source",
		`{"holidays": [{"date": "2026-01-01", "name": "元旦\u001b"}]}`:                                   "holidays[0].name",
		`{"workdays": [{"date": "2026-01-04", "name": "` + strings.Repeat("班", 101) + `"}]}`:           "workdays[0].name",
		`{"holidays": [` + strings.Repeat(`{"date": "2026-01-01"},`, 366) + `{"date": "2026-01-01"}]}`: "holidays",
	} {
		w, resp := do(t, s, http.MethodPut, "/api/v1/calendars/2026", body, "Authorization", bearer("admin"))
		fields, _ := resp["fields"].(map[string]any)
		if w.Code != http.StatusBadRequest || fields[field] == nil {
			t.Errorf("%.60s: status %d %v, want 400 naming %s", body, w.Code, resp, field)
		}
	}
	w, resp := do(t, s, http.MethodPut, "/api/v1/calendars/2026",
		`{"source": "通知", "holidays": [{"date": "2026-01-01", "name": "元旦 New Year"}]}`, "Authorization", bearer("admin"))
	if !isNotConfigured(w.Code, resp) {
		t.Errorf("a valid year: status %d %v, want 503 (no register)", w.Code, resp)
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

// served_at takes a date (the start of that day in Asia/Shanghai) or an instant.
func TestActionServiceFields(t *testing.T) {
	r := actionRequest{ServedAt: "2026-06-01", ServiceMethod: workflows.ServicePost}
	in, err := r.validate("k1")
	if err != nil {
		t.Fatal(err)
	}
	if in.ServedAt == nil || !in.ServedAt.Equal(time.Date(2026, 6, 1, 0, 0, 0, 0, shanghai)) || in.ServiceMethod != workflows.ServicePost {
		t.Errorf("validated %+v", in)
	}
	r = actionRequest{ServedAt: "2026-06-01T15:04:05+08:00", ServiceMethod: workflows.ServiceSMS}
	if in, err = r.validate("k1"); err != nil || !in.ServedAt.Equal(time.Date(2026, 6, 1, 15, 4, 5, 0, shanghai)) {
		t.Errorf("validated %+v, %v", in, err)
	}
	if actions["record-service"] != workflows.UpdateRecordService {
		t.Error("record-service is not an action")
	}
}
