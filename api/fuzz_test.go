package api

// Hostile input. Each target throws arbitrary bytes at one endpoint of a server whose
// register and workflow service are fakes that record what reaches them, and checks that
//
//   - the answer is a 4xx, or the 503 of a backing service that is missing — and then the
//     request passed validation, and what reached the fake is storable and serialisable
//     (valid UTF-8 without control characters, within the length limits, instants within
//     the years 1900–9999);
//   - a 200 answer is well-formed (JSON that decodes, a CSV with its header);
//   - the handler returns within handlerBound, and never panics.
//
// `go test` runs the seeds (f.Add below and testdata/fuzz/<Target>/); fuzz with e.g.
//
//	go test ./api -run '^$' -fuzz FuzzRegistrationBody -fuzztime 60s

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// fuzzing reports whether inputs are being mutated (-fuzz), not just the seeds run.
func fuzzing() bool {
	fl := flag.Lookup("test.fuzz")
	return fl != nil && fl.Value.String() != ""
}

// handlerBound is how long one request may take; validation of a 1 MiB body takes
// milliseconds, so this only catches hangs and runaway work.
const handlerBound = 5 * time.Second

// fuzzQueryCode is the one query code the fake register knows.
const fuzzQueryCode = "K7QX2M9P"

// fuzzRegister answers like a register holding one open case in the petition office, and
// records what the API hands it. Register itself fails ("not configured"), so a
// registration that gets that far answers 503.
type fuzzRegister struct {
	offlineRegister
	mu      sync.Mutex
	newCase *register.NewCase
	filter  *register.ListFilter
	from    time.Time
	to      time.Time
	month   time.Time
	called  bool
}

func (r *fuzzRegister) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.newCase, r.filter, r.from, r.to, r.month, r.called = nil, nil, time.Time{}, time.Time{}, time.Time{}, false
}

func (r *fuzzRegister) PolicyAllowed(context.Context, string) (bool, error) { return true, nil }
func (r *fuzzRegister) Route(context.Context, string, string) (string, error) {
	return "", register.ErrNotFound
}
func (r *fuzzRegister) FindRepeat(context.Context, []register.Petitioner, string, string) (register.Case, bool, error) {
	return register.Case{}, false, nil
}
func (r *fuzzRegister) Register(_ context.Context, nc register.NewCase) (register.Case, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.newCase = &nc
	return register.Case{}, false, errNotConfigured
}
func (r *fuzzRegister) Get(_ context.Context, no string) (register.Case, error) {
	return register.Case{CaseNo: no, Stage: string(workflows.StageHandling), Category: "appeal", Unit: testUnit}, nil
}
func (r *fuzzRegister) Unit(_ context.Context, code string) (register.Unit, error) {
	return register.Unit{Code: code, Name: "单位"}, nil
}
func (r *fuzzRegister) Staff(_ context.Context, id string) (register.Staff, error) {
	return register.Staff{ID: id, Name: "员工", Role: "handler", Unit: testUnit}, nil
}
func (r *fuzzRegister) Units(context.Context) ([]register.Unit, error) {
	return []register.Unit{{Code: testUnit, Name: "信访办"}}, nil
}
func (r *fuzzRegister) GetByQueryCode(_ context.Context, no, code string) (register.Case, error) {
	if code != fuzzQueryCode {
		return register.Case{}, register.ErrNotFound
	}
	return register.Case{CaseNo: no, Stage: string(workflows.StageReplied), Category: "appeal", Unit: testUnit}, nil
}
func (r *fuzzRegister) List(_ context.Context, f register.ListFilter) (register.Page, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.filter = &f
	return register.Page{}, nil
}
func (r *fuzzRegister) Count(_ context.Context, f register.ListFilter, _ int) (int, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.filter = &f
	return 0, false, nil
}
func (r *fuzzRegister) Export(_ context.Context, f register.ListFilter, _ int) ([]register.Case, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.filter = &f
	return []register.Case{}, false, nil
}
func (r *fuzzRegister) Stats(_ context.Context, from, to time.Time, unit string) (register.Stats, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.from, r.to, r.called = from, to, true
	return register.Stats{From: from, To: to, Unit: unit, ByChannel: map[string]int{}, ByCategory: map[string]int{}}, nil
}

// MonthlyReport labels its row the way the store does (internal/register/stats.go).
func (r *fuzzRegister) MonthlyReport(_ context.Context, month time.Time) ([]register.MonthlyRow, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.month, r.called = month, true
	m := month.In(shanghai)
	from := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, shanghai)
	return []register.MonthlyRow{{Month: from.Format("2006-01"), Unit: testUnit, UnitName: "信访办", Received: 3}}, nil
}

// captureTemporal is a workflow service that records the update it is asked for, checks
// that its arguments serialise (the SDK's converter is JSON), and fails it as unavailable.
type captureTemporal struct {
	client.Client // nil: any other call panics, which the fuzz targets report
	mu            sync.Mutex
	input         *workflows.ActionInput
	marshalErr    error
}

func (c *captureTemporal) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.input, c.marshalErr = nil, nil
}

func (c *captureTemporal) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(o.Args) == 1 {
		if in, ok := o.Args[0].(workflows.ActionInput); ok {
			c.input = &in
		}
	}
	_, c.marshalErr = json.Marshal(o.Args)
	return nil, errNotConfigured
}

// QueryWorkflow fails like an unconfigured service: reads then answer from the register.
func (c *captureTemporal) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	return nil, errNotConfigured
}

type fuzzEnv struct {
	s   *Server
	reg *fuzzRegister
	tc  *captureTemporal
}

func newFuzzEnv() *fuzzEnv {
	reg, tc := &fuzzRegister{}, &captureTemporal{}
	unlimited := RateLimit{Every: time.Nanosecond, Burst: 1 << 30}
	s := New(Config{
		Policies: testPolicies, Now: func() time.Time { return fixedNow }, Logger: quietLog,
		Register: reg, Temporal: tc, Auth: fakeAuth{}, Accounts: fakeAuth{},
		SelfServicePerClient: unlimited, SelfServicePerCase: unlimited,
	})
	return &fuzzEnv{s: s, reg: reg, tc: tc}
}

func (e *fuzzEnv) reset() {
	e.reg.reset()
	e.tc.reset()
}

// serveWithin runs one request and fails the test if it takes longer than handlerBound.
func serveWithin(t *testing.T, s *Server, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Handler().ServeHTTP(w, req)
	}()
	select {
	case <-done:
	case <-time.After(handlerBound):
		t.Fatalf("%s %s: no answer within %v", req.Method, req.URL, handlerBound)
	}
	return w
}

func postRequest(path string, body []byte, header ...string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

// checkStatus fails on a 5xx other than "not configured", and on "not configured" when
// nothing passed validation (reached says whether a fake recorded a validated request). Every
// answer is JSON (jsonBody has decoded it) or the monthly CSV.
func checkStatus(t *testing.T, what string, w *httptest.ResponseRecorder, body map[string]any, reached bool) {
	t.Helper()
	ct := w.Header().Get("Content-Type")
	switch {
	case !strings.HasPrefix(ct, "application/json") && !(w.Code == http.StatusOK && strings.HasPrefix(ct, "text/csv")):
		t.Fatalf("%s: status %d with content type %q: %.200q", what, w.Code, ct, w.Body.String())
	case strings.HasPrefix(ct, "application/json") && body == nil:
		t.Fatalf("%s: status %d with a JSON body that is not an object: %.200q", what, w.Code, w.Body.String())
	case w.Code >= 500 && !isNotConfigured(w.Code, body):
		t.Fatalf("%s: status %d %v", what, w.Code, body)
	case w.Code >= 500 && !reached:
		t.Fatalf("%s: 503 before the request reached the register or workflow service: %v", what, body)
	case w.Code < 400 && w.Code >= 300, w.Code < 200:
		t.Fatalf("%s: status %d", what, w.Code)
	case w.Code >= 400 && w.Code < 500 && body["error"] == nil:
		t.Fatalf("%s: status %d without an error message: %q", what, w.Code, w.Body.String())
	}
}

// storable reports what is wrong with a string the register would store, or "".
func storable(field, v string, maxRunes int) string {
	if msg := textProblem(v, maxRunes); msg != "" {
		return field + " " + msg + fmt.Sprintf(": %.40q", v)
	}
	return ""
}

// newCaseProblems lists what makes a validated registration unfit to store.
func newCaseProblems(nc register.NewCase) []string {
	var p []string
	add := func(msg string) {
		if msg != "" {
			p = append(p, msg)
		}
	}
	add(storable("channel", nc.Channel, 20))
	add(storable("category", nc.Category, 20))
	add(storable("topic", nc.Topic, maxTopic))
	add(storable("content", nc.Content, maxContent))
	add(storable("location", nc.Location, maxLocation))
	add(storable("policy", nc.Policy, maxPolicyLength))
	add(storable("registered_by", nc.RegisteredBy, 64))
	add(storable("idempotency_key", nc.IdempotencyKey, 200))
	if !contains(channels, nc.Channel) || !contains(categories, nc.Category) {
		add("channel or category outside the enumeration")
	}
	if nc.Topic == "" || nc.Content == "" {
		add("empty topic or content")
	}
	if _, ok := testPolicies[nc.Policy]; !ok {
		add("unknown policy " + nc.Policy)
	}
	if nc.RegisteredBy != "clerk-1" {
		add("registered by " + nc.RegisteredBy + ", not the signed-in clerk")
	}
	if n := len(nc.Petitioners); n < 1 || n > maxPetitioners {
		add(fmt.Sprintf("%d petitioners", n))
	}
	for i, pt := range nc.Petitioners {
		at := fmt.Sprintf("petitioners[%d].", i)
		add(storable(at+"name", pt.Name, maxName))
		add(storable(at+"id_number", pt.IDNumber, 18))
		add(storable(at+"phone", pt.Phone, maxPhone))
		add(storable(at+"address", pt.Address, maxAddress))
		if pt.Name == "" || pt.IDNumber == "" && pt.Phone == "" {
			add(at + " lacks a name, or both ID number and phone")
		}
	}
	if nc.GroupSize < len(nc.Petitioners) || nc.GroupSize > maxGroupSize {
		add(fmt.Sprintf("group size %d", nc.GroupSize))
	}
	if len(nc.Attachments) > maxAttachments {
		add(fmt.Sprintf("%d attachments", len(nc.Attachments)))
	}
	for i, a := range nc.Attachments {
		at := fmt.Sprintf("attachments[%d].", i)
		add(storable(at+"name", a.Name, maxAttachName))
		add(storable(at+"content_type", a.ContentType, maxAttachType))
		add(storable(at+"ref", a.Ref, maxAttachRef))
		if strings.TrimSpace(a.Name) == "" || a.Size < 0 {
			add(at + " lacks a name or has a negative size")
		}
	}
	if !inYearRange(nc.ReceivedAt) || nc.ReceivedAt.After(fixedNow.Add(receivedSkew)) {
		add("received_at " + nc.ReceivedAt.String())
	}
	if _, err := json.Marshal(nc); err != nil {
		add("does not serialise: " + err.Error())
	}
	return p
}

// actionInputProblems lists what makes a validated action unfit for the workflow.
func actionInputProblems(in workflows.ActionInput, actor string, marshalErr error) []string {
	var p []string
	add := func(msg string) {
		if msg != "" {
			p = append(p, msg)
		}
	}
	add(storable("unit", in.Unit, 64))
	add(storable("handler", in.Handler, 64))
	add(storable("leader", in.Leader, 64))
	add(storable("reason", in.Reason, 10000))
	add(storable("opinion", in.Opinion, 50000))
	for _, v := range []string{in.Unit, in.Handler, in.Leader} {
		if len(v) > 64 {
			add("a code longer than 64 bytes")
		}
	}
	if in.Outcome != "" && !contains(outcomes, in.Outcome) {
		add("outcome " + in.Outcome)
	}
	if in.Evaluation != "" && !contains(evaluations, in.Evaluation) {
		add("evaluation " + in.Evaluation)
	}
	if in.Days < 0 || in.Days > 366 {
		add(fmt.Sprintf("days %d", in.Days))
	}
	if in.NewDueAt != nil && !inYearRange(*in.NewDueAt) {
		add("new_due_at " + in.NewDueAt.String())
	}
	if in.Actor.ID != actor {
		add("acts as " + in.Actor.ID + ", not " + actor)
	}
	if marshalErr != nil {
		add("does not serialise: " + marshalErr.Error())
	}
	return p
}

// Seeds shared by the body targets: hostile shapes that are not about one endpoint.
var hostileBodies = []string{
	``,
	`null`,
	`{}`,
	`[]`,
	`"string"`,
	`{"a":1}`,
	`{} {}`,
	`{"reason": "x"} trailing`,
	`{"reason": "\ud800"}`,       // a lone surrogate: decoded as U+FFFD
	"{\"reason\": \"\xff\xfe\"}", // invalid UTF-8 in the raw body
	`{"reason": "a\u0000b"}`,
	`{"reason": 1e999}`,
	`{"days": 1e2}`,
	`{"days": "5"}`,
	`{"days": 99999999999999999999999}`,
	`{"days": -0}`,
	`{"approved": "true"}`,
	`{"reason": null}`,
	strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001),
	`{"reason":` + strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat(`}`, 5000) + `}`,
}

func validPetitionJSON(mutate func(m map[string]any)) []byte {
	m := validPetition()
	if mutate != nil {
		mutate(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func FuzzRegistrationBody(f *testing.F) {
	for _, b := range hostileBodies {
		f.Add([]byte(b))
	}
	f.Add(validPetitionJSON(nil))
	f.Add(validPetitionJSON(func(m map[string]any) { delete(m, "actor") }))
	f.Add(validPetitionJSON(func(m map[string]any) {
		m["received_at"], m["group_size"], m["location"] = "2026-05-01T09:30:00+08:00", 7, "北京市西城区"
		m["attachments"] = []map[string]any{{"name": "信.pdf", "content_type": "application/pdf", "size": 1024, "ref": "s3://b/k"}}
	}))
	// Big inputs are generated here rather than committed as files, and only for the seed
	// run: mutating megabyte inputs slows the fuzzing engine to a crawl.
	if !fuzzing() {
		f.Add(validPetitionJSON(func(m map[string]any) { m["content"] = strings.Repeat("a", 1<<20) })) // over the body limit
		f.Add(validPetitionJSON(func(m map[string]any) { m["content"] = strings.Repeat("字", 1<<18) })) // 786 KB, over maxContent
		f.Add(validPetitionJSON(func(m map[string]any) { m["content"] = strings.Repeat("\u0000", 1<<17) }))
		f.Add(validPetitionJSON(func(m map[string]any) {
			ps := make([]map[string]any, 10000)
			for i := range ps {
				ps[i] = map[string]any{"name": "张三", "phone": "12345"}
			}
			m["petitioners"] = ps
		}))
		f.Add(validPetitionJSON(func(m map[string]any) {
			as := make([]map[string]any, 10000)
			for i := range as {
				as[i] = map[string]any{"name": "a"}
			}
			m["attachments"] = as
		}))
	}

	env := newFuzzEnv()
	f.Fuzz(func(t *testing.T, body []byte) {
		env.reset()
		w := serveWithin(t, env.s, postRequest("/api/v1/petitions", body, "Authorization", bearer("clerk")))
		answer := jsonBody(t, "POST /api/v1/petitions", w)
		nc := env.reg.newCase
		checkStatus(t, "POST /api/v1/petitions", w, answer, nc != nil)
		if nc == nil {
			return
		}
		if problems := newCaseProblems(*nc); len(problems) > 0 {
			t.Fatalf("a registration passed validation but cannot be stored: %v\nbody: %.300q", problems, body)
		}
		// Re-decoding the body as the handler did yields the same petitioners.
		var req petitionRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || len(req.Petitioners) != len(nc.Petitioners) {
			t.Fatalf("accepted body does not re-decode alike: %v", err)
		}
	})
}

func FuzzActionBody(f *testing.F) {
	for _, b := range hostileBodies {
		f.Add([]byte(b))
	}
	for _, b := range []string{
		`{"unit": "construction", "handler": "handler-1", "leader": "leader-1"}`,
		`{"reason": "不属于本机关职责范围"}`,
		`{"opinion": "已责成施工单位于5月30日前支付全部欠薪。"}`,
		`{"days": 30, "reason": "需要现场调查"}`,
		`{"approved": true}`,
		`{"outcome": "uphold", "opinion": "维持原处理意见"}`,
		`{"evaluation": "satisfied"}`,
		`{"new_due_at": "2026-06-01"}`,
		`{"new_due_at": "2026-06-01T17:00:00+08:00"}`,
		`{"actor": "clerk-1"}`,
		`{"actor": "someone-else"}`,
		`{"query_code": "K7QX2M9P"}`,
	} {
		f.Add([]byte(b))
	}
	if !fuzzing() {
		f.Add([]byte(`{"opinion": "` + strings.Repeat("意", 50001) + `"}`))
	}

	env := newFuzzEnv()
	names := actionNames()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, name := range names {
			env.reset()
			path := "/api/v1/petitions/2026-000001/" + name
			// With a key, so that a valid body reaches the workflow (without one it is 428).
			w := serveWithin(t, env.s, postRequest(path, body, "Authorization", bearer("clerk"), headerIdempotencyKey, "fuzz-1"))
			answer := jsonBody(t, "POST "+path, w)
			in := env.tc.input
			checkStatus(t, "POST "+path, w, answer, in != nil)
			if in == nil {
				continue
			}
			if problems := actionInputProblems(*in, "clerk-1", env.tc.marshalErr); len(problems) > 0 {
				t.Fatalf("POST %s passed validation with an unfit input: %v\nbody: %.300q", path, problems, body)
			}
		}
	})
}

func FuzzPublicAction(f *testing.F) {
	for _, b := range hostileBodies {
		f.Add([]byte(b), fuzzQueryCode)
	}
	for _, tc := range []struct{ body, code string }{
		{`{"evaluation": "satisfied"}`, fuzzQueryCode},
		{`{"evaluation": "dissatisfied", "reason": "欠薪仍未支付"}`, fuzzQueryCode},
		{`{"reason": "问题已解决，申请撤回"}`, fuzzQueryCode},
		{`{"query_code": "K7QX2M9P", "evaluation": "basic_satisfied"}`, ""},
		{`{"query_code": "WRONG"}`, ""},
		{`{}`, ""},
		{`{}`, "wrong"},
		{`{}`, " " + fuzzQueryCode + " "},
		{`{}`, "K7QX2M9P\x00"},
		{`{}`, "\xff\xfe"},
		{`{}`, strings.Repeat("K", 33)},
		{`{"reason": "` + strings.Repeat("理", 2001) + `"}`, fuzzQueryCode},
	} {
		f.Add([]byte(tc.body), tc.code)
	}

	env := newFuzzEnv()
	names := append(slices.Sorted(maps.Keys(publicActions)), "accept") // a staff action is no petitioner's
	f.Fuzz(func(t *testing.T, body []byte, code string) {
		for _, name := range names {
			env.reset()
			path := "/api/v1/public/petitions/2026-000001/" + name
			req := postRequest(path, body, headerIdempotencyKey, "fuzz-1")
			if code != "" {
				req.Header[http.CanonicalHeaderKey(headerQueryCode)] = []string{code}
			}
			w := serveWithin(t, env.s, req)
			answer := jsonBody(t, "POST "+path, w)
			in := env.tc.input
			checkStatus(t, "POST "+path, w, answer, in != nil)
			if in == nil {
				continue
			}
			if _, ok := publicActions[name]; !ok {
				t.Fatalf("POST %s reached the workflow", path)
			}
			problems := actionInputProblems(*in, "petitioner", env.tc.marshalErr)
			if in.Unit != "" || in.Handler != "" || in.Leader != "" || in.Opinion != "" || in.Days != 0 || in.NewDueAt != nil {
				problems = append(problems, "a petitioner set a staff field")
			}
			if utf8.RuneCountInString(in.Reason) > 2000 {
				problems = append(problems, "reason longer than 2000 characters")
			}
			if len(problems) > 0 {
				t.Fatalf("POST %s passed validation with an unfit input: %v\nbody: %.300q code %q", path, problems, body, code)
			}
		}
	})
}

var (
	csvMonth    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}$`)
	csvFilename = regexp.MustCompile(`^attachment; filename="petitions-[0-9]{4}-[0-9]{2}\.csv"$`)
)

func FuzzListQuery(f *testing.F) {
	for _, q := range []string{
		"",
		"limit=10&stage=handling&overdue=true",
		"q=%E6%AC%A0%E8%96%AA&unit=construction",
		"due_before=2026-06-01&due_after=2026-05-01",
		"due_before=2026-06-01T00:00:00%2B08:00",
		"from=2026-05-01&to=2026-05-31&unit=construction",
		"month=2026-05",
		"q=%00", "q=%ff", "q=%C0%AF", "unit=%00", "cursor=%00", "stage=%ff",
		"limit=99999999999999999999999", "limit=-1", "escalation_level=1e3",
		"due_before=0000-01-01", "due_after=99999-01-01", "due_before=9999-12-31",
		"due_after=2026-05-01T00:00:00%2B24:00", "due_after=2026-05-01T00:00:00-23:59",
		"from=0001-01-01&to=9999-12-31", "from=0000-01-01T00:00:00%2B01:00", "to=9999-12-31T23:59:59-01:00",
		"from=1900-01-01&to=9999-12-30", "from=1901-01-01&to=9999-12-30", "due_before=1900-12-31T23:59:59-08:00",
		"month=0000-01", "month=99999-01", "month=9999-12", "month=1900-01", "month=2026-00", "month=2026-13",
		"month=%00", "month=2026-05&month=2026-06", "month=",
		"%zz", "&&&", "=", "a=b=c", ";", "q=a;b", "%", "unit=" + strings.Repeat("u", 100),
		"q=" + strings.Repeat("%E5%AD%97", 201),
		"count=true&q=11010519491231002X", "format=csv&handler=h.1&registered_after=2026-05-01",
		"format=xlsx&leader=%ff", "registered_before=9999-12-31&registered_by=clerk.li", "format=csv&cursor=x",
	} {
		f.Add(q)
	}

	env := newFuzzEnv()
	f.Fuzz(func(t *testing.T, rawQuery string) {
		for _, path := range []string{"/api/v1/petitions", "/api/v1/stats", "/api/v1/reports/monthly.csv"} {
			env.reset()
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.URL.RawQuery = rawQuery // as it comes: httptest.NewRequest would refuse some
			req.Header.Set("Authorization", bearer("clerk"))
			w := serveWithin(t, env.s, req)
			what := "GET " + path + "?" + rawQuery
			answer := jsonBody(t, what, w)
			checkStatus(t, what, w, answer, false) // nothing here answers "not configured"
			if w.Code != http.StatusOK {
				continue
			}
			switch path {
			case "/api/v1/petitions":
				checkListFilter(t, what, env.reg.filter, answer)
			case "/api/v1/stats":
				if !inYearRange(env.reg.from) || !inYearRange(env.reg.to) || !env.reg.from.Before(env.reg.to) {
					t.Fatalf("%s: statistics asked for %v … %v", what, env.reg.from, env.reg.to)
				}
				var st register.Stats
				if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil || !st.From.Equal(env.reg.from) || !st.To.Equal(env.reg.to) {
					t.Fatalf("%s: answer %v does not carry the period: %q", what, err, w.Body.String())
				}
			case "/api/v1/reports/monthly.csv":
				checkMonthlyCSV(t, what, w, env.reg.month)
			}
		}
	})
}

func checkListFilter(t *testing.T, what string, lf *register.ListFilter, answer map[string]any) {
	t.Helper()
	if lf == nil {
		t.Fatalf("%s: 200 without asking the register", what)
	}
	var problems []string
	add := func(msg string) {
		if msg != "" {
			problems = append(problems, msg)
		}
	}
	add(storable("q", lf.Text, 200))
	add(storable("unit", lf.Unit, 64))
	for _, v := range []struct{ field, v string }{{"stage", lf.Stage}, {"category", lf.Category}, {"channel", lf.Channel}} {
		if v.v != "" && !contains(append(append(slices.Clone(stages), categories...), channels...), v.v) {
			add(v.field + " outside its enumeration")
		}
	}
	for _, d := range []*time.Time{lf.DueBefore, lf.DueAfter} {
		if d != nil && !inYearRange(*d) {
			add("due date " + d.String())
		}
	}
	if lf.Limit < 1 || lf.Limit > maxListLimit || len(lf.Cursor) > 1024 {
		add(fmt.Sprintf("limit %d or a cursor of %d bytes", lf.Limit, len(lf.Cursor)))
	}
	if lf.EscalationLevel != nil && (*lf.EscalationLevel < 0 || *lf.EscalationLevel > 3) {
		add("escalation level out of range")
	}
	for _, v := range []struct{ field, v string }{{"handler", lf.Handler}, {"leader", lf.Leader}, {"registered_by", lf.RegisteredBy}} {
		add(storable(v.field, v.v, 64))
	}
	for _, d := range []*time.Time{lf.RegisteredBefore, lf.RegisteredAfter} {
		if d != nil && !inYearRange(*d) {
			add("registration date " + d.String())
		}
	}
	// An export answers a file, not JSON.
	if cases, ok := answer["cases"].([]any); answer != nil && (!ok || cases == nil) {
		add("cases is not a list")
	}
	if len(problems) > 0 {
		t.Fatalf("%s: the register was asked for %v", what, problems)
	}
}

func checkMonthlyCSV(t *testing.T, what string, w *httptest.ResponseRecorder, month time.Time) {
	t.Helper()
	if !inYearRange(month) {
		t.Fatalf("%s: monthly report for %v", what, month)
	}
	if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") || !csvFilename.MatchString(w.Header().Get("Content-Disposition")) {
		t.Fatalf("%s: headers %v", what, w.Header())
	}
	body, ok := strings.CutPrefix(w.Body.String(), utf8BOM)
	if !ok {
		t.Fatalf("%s: no byte order mark", what)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) < 1 || !slices.Equal(rows[0], csvHeader) {
		t.Fatalf("%s: CSV %v: %q", what, err, body)
	}
	for _, r := range rows[1:] {
		if !csvMonth.MatchString(r[0]) {
			t.Fatalf("%s: row labelled %q", what, r[0])
		}
	}
}
