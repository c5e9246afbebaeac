package api

// More hostile input, one target per input the earlier targets do not cover: the headers that
// make an action repeatable (Idempotency-Key, If-Match), the path parameters, the
// administrator's bodies and query parameters, and the sign-in bodies. Each asserts what
// fuzz_test.go's targets do: never a 5xx but a missing backing service's 503, always a JSON
// body, an answer within handlerBound.

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzPreconditionHeaders: any Idempotency-Key and If-Match on a staff and a petitioner's
// action. What reaches the workflow names a usable update ID and, with If-Match, the seq the
// header holds.
func FuzzPreconditionHeaders(f *testing.F) {
	for _, tc := range []struct{ key, ifMatch string }{
		{"", ""}, {"k1", ""}, {"", `"7"`}, {"k1", `"7"`}, {"", `W/"7"`}, {"", "*"}, {"", `"7", "8"`},
		{"", `"-1"`}, {"", `"99999999999999999999"`}, {"", `""`}, {"", `"7`}, {"", "7"}, {"", "\"\x00\""},
		{"k\x00", ""}, {"k 1", ""}, {"\xff", ""}, {strings.Repeat("k", 201), ""}, {"", " \"3\" "},
		{"", `"0"`}, {"", `"000000000000000001"`}, {"", `"9223372036854775807"`}, {"", `"9223372036854775808"`},
	} {
		f.Add(tc.key, tc.ifMatch)
	}
	env := newFuzzEnv()
	f.Fuzz(func(t *testing.T, key, ifMatch string) {
		for _, path := range []string{"/api/v1/petitions/2026-000001/supervise", "/api/v1/public/petitions/2026-000001/evaluate"} {
			env.reset()
			body := `{"opinion":"请加快办理"}`
			if strings.Contains(path, "/public/") {
				body = `{"evaluation":"satisfied"}`
			}
			req := postRequest(path, []byte(body), "Authorization", bearer("supervisor"))
			req.Header[http.CanonicalHeaderKey(headerQueryCode)] = []string{fuzzQueryCode}
			if key != "" {
				req.Header[headerIdempotencyKey] = []string{key}
			}
			if ifMatch != "" {
				req.Header[headerIfMatch] = []string{ifMatch}
			}
			w := serveWithin(t, env.s, req)
			answer := jsonBody(t, "POST "+path, w)
			in := env.tc.input
			checkStatus(t, "POST "+path, w, answer, in != nil)
			if in == nil {
				continue
			}
			if key == "" && in.IfSeq == nil {
				t.Fatalf("POST %s reached the workflow without a key or If-Match", path)
			}
			if ifMatch != "" && (in.IfSeq == nil || etag(*in.IfSeq) != strings.TrimSpace(ifMatch)) {
				t.Fatalf("If-Match %q reached the workflow as %v", ifMatch, in.IfSeq)
			}
		}
	})
}

// FuzzPathParams: any path segment where a case number, unit code, staff ID, token ID, policy
// name or year goes.
func FuzzPathParams(f *testing.F) {
	for _, seg := range []string{"2026-000001", "", "x", "..", "%", "a/b", "\x00", "\xff", "\xc0\xaf", strings.Repeat("9", 100),
		"2026-000001\x00", "-1", "0", "99999", "default", "clerk-1", " ", "..%2F", "%00"} {
		f.Add(seg)
	}
	env := newFuzzEnv()
	f.Fuzz(func(t *testing.T, seg string) {
		p := url.PathEscape(seg)
		for _, r := range []struct{ role, method, path, body string }{
			{"clerk", "GET", "/api/v1/petitions/" + p, ""},
			{"clerk", "GET", "/api/v1/petitions/" + p + "/events", ""},
			{"clerk", "GET", "/api/v1/petitions/" + p + "/deadlines", ""},
			{"clerk", "POST", "/api/v1/petitions/" + p + "/accept", `{"unit":"construction"}`},
			{"clerk", "POST", "/api/v1/petitions/2026-000001/" + p, `{}`},
			{"clerk", "POST", "/api/v1/petitions/" + p + "/query-code", ""},
			{"clerk", "GET", "/api/v1/calendars/" + p, ""},
			{"", "GET", "/api/v1/public/petitions/" + p, ""},
			{"", "POST", "/api/v1/public/petitions/" + p + "/withdraw", `{}`},
			{"admin", "PUT", "/api/v1/units/" + p, `{"name":"单位"}`},
			{"admin", "PUT", "/api/v1/routing-rules/" + p, `{"keyword":"k","unit":"u"}`},
			{"admin", "PUT", "/api/v1/policies/" + p, `{"allowed":true}`},
			{"admin", "PATCH", "/api/v1/admin/staff/" + p, `{"disabled":true}`},
			{"admin", "PUT", "/api/v1/admin/staff/" + p + "/password", `{"password":"a long enough password"}`},
			{"admin", "DELETE", "/api/v1/admin/tokens/" + p, ""},
		} {
			env.reset()
			var req *http.Request
			if r.body != "" {
				req = postRequest("/", []byte(r.body), headerIdempotencyKey, "k1", headerQueryCode, fuzzQueryCode)
				req.Method = r.method
			} else {
				req = httptest.NewRequest(r.method, "/", nil)
				req.Header.Set(headerQueryCode, fuzzQueryCode)
			}
			req.URL.Path, req.URL.RawPath = "", ""
			u, err := url.Parse(r.path)
			if err != nil {
				continue // not a URL a client could send
			}
			req.URL.Path, req.URL.RawPath = u.Path, u.RawPath
			if r.role != "" {
				req.Header.Set("Authorization", bearer(r.role))
			}
			w := serveWithin(t, env.s, req)
			what := r.method + " " + r.path
			if w.Code == http.StatusNoContent || w.Code == http.StatusMovedPermanently || w.Code == http.StatusTemporaryRedirect {
				continue // gin cleans and redirects odd paths; a revoked token answers no body
			}
			answer := jsonBody(t, what, w)
			checkStatus(t, what, w, answer, true) // reaching a fake that is not configured is fine here
		}
	})
}

// adminBodyRoutes are the administrator's (and sign-in's) routes that take a body.
var adminBodyRoutes = []struct{ method, path string }{
	{"POST", "/api/v1/units"}, {"PUT", "/api/v1/units/water"}, {"POST", "/api/v1/routing-rules"},
	{"PUT", "/api/v1/routing-rules/1"}, {"PUT", "/api/v1/policies/default"}, {"POST", "/api/v1/admin/staff"},
	{"PATCH", "/api/v1/admin/staff/clerk-2"}, {"PUT", "/api/v1/admin/staff/clerk-2/password"},
	{"POST", "/api/v1/admin/tokens"}, {"PUT", "/api/v1/calendars/2026"},
}

// FuzzAdminBody: any body on the administrator's routes. What gets past validation meets a
// register or sign-in service that is not configured (503), never a 500.
func FuzzAdminBody(f *testing.F) {
	for _, b := range hostileBodies {
		f.Add([]byte(b))
	}
	for _, b := range []string{
		`{"code":"water","name":"区水务局","parent":"district","head":"head-1","leader":"leader-1","email":"w@example.cn"}`,
		`{"code":"water\u0000","name":"x"}`, `{"name":"` + "\xff" + `"}`, `{"keyword":"欠薪","unit":"construction","priority":50}`,
		`{"keyword":"","unit":"x"}`, `{"priority":1e99}`, `{"allowed":"yes"}`, `{"allowed":true}`,
		`{"id":"clerk-9","name":"新来的","role":"clerk","unit":"petition_office","password":"a long enough password"}`,
		`{"role":"root"}`, `{"disabled":true}`, `{"password":"short"}`, `{"password":"` + strings.Repeat("p", 2000) + `"}`,
		`{"staff":"feed","name":"12345 hotline","ttl":"720h"}`, `{"ttl":"-1h"}`, `{"ttl":"99999999h"}`,
		`{"year":2026,"holidays":[{"date":"2026-01-01","name":"元旦"}],"workdays":[],"source":"通知"}`,
		`{"year":2026,"holidays":[{"date":"2026-02-30","name":"x"}]}`,
	} {
		f.Add([]byte(b))
	}
	env := newFuzzEnv()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, r := range adminBodyRoutes {
			env.reset()
			req := postRequest(r.path, body, "Authorization", bearer("admin"))
			req.Method = r.method
			w := serveWithin(t, env.s, req)
			what := r.method + " " + r.path
			checkStatus(t, what, w, jsonBody(t, what, w), true)
		}
	})
}

// FuzzAdminQuery: any query string on the administrator's lists.
func FuzzAdminQuery(f *testing.F) {
	for _, q := range []string{"", "limit=10", "before=5&limit=1000", "limit=0", "limit=1001", "before=-1", "before=1e3",
		"limit=99999999999999999999", "case_no=2026-000001", "case_no=%00", "staff=%ff", "staff=%C0%AF",
		"staff=" + strings.Repeat("s", 65), "%zz", "&&", "before=9223372036854775808"} {
		f.Add(q)
	}
	env := newFuzzEnv()
	f.Fuzz(func(t *testing.T, rawQuery string) {
		for _, path := range []string{"/api/v1/admin/audit", "/api/v1/admin/personal-data-reads", "/api/v1/admin/tokens", "/api/v1/admin/staff"} {
			env.reset()
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.URL.RawQuery = rawQuery
			req.Header.Set("Authorization", bearer("admin"))
			w := serveWithin(t, env.s, req)
			what := "GET " + path + "?" + rawQuery
			checkStatus(t, what, w, jsonBody(t, what, w), true)
		}
	})
}

// FuzzSignInBody: any body on sign-in and refresh; the sign-in service refuses every
// credential, and an unreadable body is a 400, never a 500.
func FuzzSignInBody(f *testing.F) {
	for _, b := range hostileBodies {
		f.Add([]byte(b))
	}
	for _, b := range []string{`{"staff_id":"clerk.li","password":"petitions-dev"}`, `{"staff_id":"\u0000","password":"x"}`,
		`{"staff_id":"` + "\xff" + `","password":"x"}`, `{"staff_id":"a","password":"` + strings.Repeat("p", 5000) + `"}`,
		`{"staff_id":"a","password":"x","session":"cookie"}`, `{"session":"jar"}`, `{"refresh_token":"x"}`, `{"refresh_token":""}`} {
		f.Add([]byte(b))
	}
	env := newFuzzEnv()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range []string{"/api/v1/auth/sign-in", "/api/v1/auth/refresh"} {
			w := serveWithin(t, env.s, postRequest(path, body))
			answer := jsonBody(t, "POST "+path, w)
			checkStatus(t, "POST "+path, w, answer, true)
			if w.Code == http.StatusOK {
				t.Fatalf("POST %s signed someone in: %q", path, body)
			}
			if msg, _ := answer["error"].(string); !utf8.ValidString(msg) {
				t.Fatalf("POST %s: error message is not UTF-8", path)
			}
		}
	})
}
