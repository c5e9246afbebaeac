package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/xuri/excelize/v2"
	"go.temporal.io/sdk/converter"
	"gopkg.in/yaml.v3"

	"github.com/petitions/petitions/internal/pgtest"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/internal/sealing"
	"github.com/petitions/petitions/workflows"
)

// The endpoints a staff client needs beyond registering and acting: queues and searches,
// counts and exports of the list, the registration form's look-ups, pickers, the ledger as
// JSON and Excel, and what the reader may do on a case.

// pgServer is a server on a fresh, migrated register with the demo district (SEED.md).
func pgServer(t *testing.T) (*Server, *register.Store) {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := register.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store := register.New(pool).WithSealer(sealing.NewFields(sealing.TestKeyring()))
	if err := store.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	s := New(Config{
		Policies: testPolicies, Now: func() time.Time { return fixedNow }, Logger: quietLog,
		Register: store, Auth: fakeAuth{}, Accounts: fakeAuth{},
	})
	return s, store
}

// as is the Authorization header of a member of staff (fakeAuth's token form).
func as(role, unit, id string) string { return "Bearer test-" + role + "-" + unit + "-" + id }

var (
	asClerk       = as("clerk", "petition_office", "clerk.li")
	asHandler     = as("handler", "construction", "handler.construction")
	asLeader      = as("leader", "construction", "leader.construction")
	asOtherLeader = as("leader", "health", "leader.health")
)

// The people of the fixture.
var (
	zhang = register.Petitioner{Name: "张三", IDNumber: "11010519491231002X", Phone: "13800001111"}
	li    = register.Petitioner{Name: "李四", Phone: "139-0000-2222"}
)

// fixture registers, in the demo district:
//
//	appeal      张三, construction, handling by handler.construction, leader.construction in charge
//	accusation  张三, construction, handling by handler.construction
//	routed      李四, routed to health, waiting for acceptance, registered by clerk.wang
//
// and answers their case numbers by name.
func fixture(t *testing.T, store *register.Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	add := func(key string, nc register.NewCase, handler, leader string, due time.Time) {
		nc.Channel, nc.Policy = "letter", "default"
		if nc.RegisteredBy == "" {
			nc.RegisteredBy = "clerk.li"
		}
		c, _, err := store.Register(ctx, nc)
		if err != nil {
			t.Fatal(err)
		}
		st := workflows.CaseState{CaseNo: c.CaseNo, Stage: workflows.StageRegistered, Policy: c.Policy, Channel: c.Channel,
			Category: c.Category, Topic: c.Topic, SuggestedUnit: c.SuggestedUnit, ReceivedAt: c.ReceivedAt,
			RegisteredAt: c.RegisteredAt, Seq: 1,
			Deadline: &workflows.Deadline{Clock: workflows.ClockAcceptance, Due: due}}
		if handler != "" {
			accepted := c.RegisteredAt.Add(time.Hour)
			st.Stage, st.Unit, st.Handler, st.Leader, st.AcceptedAt = workflows.StageHandling, c.SuggestedUnit, handler, leader, &accepted
			st.Deadline.Clock = workflows.ClockHandling
		}
		if err := store.ApplyTransition(ctx, workflows.Transition{State: st, Event: workflows.Event{Seq: 1,
			Type: workflows.EventAccepted, At: c.RegisteredAt, Actor: workflows.Actor{ID: "clerk.li", Role: workflows.RoleClerk}}}); err != nil {
			t.Fatal(err)
		}
		out[key] = c.CaseNo
	}
	day := func(d int) time.Time { return time.Date(2026, 5, d, 10, 0, 0, 0, shanghai) }
	add("appeal", register.NewCase{Category: "appeal", Topic: "=拖欠工资", Content: "某工地欠薪三个月", SuggestedUnit: "construction",
		Location: "某小区", RegisteredAt: day(4), Petitioners: []register.Petitioner{zhang}}, "handler.construction", "leader.construction", day(20))
	add("accusation", register.NewCase{Category: "accusation", Topic: "检举某局干部", Content: "收受好处", SuggestedUnit: "construction",
		RegisteredAt: day(6), Petitioners: []register.Petitioner{{Name: "张三", IDNumber: zhang.IDNumber}}}, "handler.construction", "", day(18))
	add("routed", register.NewCase{Category: "appeal", Topic: "医疗纠纷", Content: "医院收费", SuggestedUnit: "health",
		RegisteredAt: day(8), RegisteredBy: "clerk.wang", Petitioners: []register.Petitioner{li}}, "", "", day(9))
	return out
}

// listed is the case numbers of a list answer.
func listed(t *testing.T, body map[string]any) []string {
	t.Helper()
	cases, ok := body["cases"].([]any)
	if !ok {
		t.Fatalf("no cases in %v", body)
	}
	out := []string{}
	for _, c := range cases {
		out = append(out, c.(map[string]any)["case_no"].(string))
	}
	return out
}

func TestListQueuesSearchesAndCounts(t *testing.T) {
	s, store := pgServer(t)
	no := fixture(t, store)
	appeal, acc, routed := no["appeal"], no["accusation"], no["routed"]
	for _, tc := range []struct {
		name, query, auth string
		want              []string
	}{
		{"a handler's queue", "handler=handler.construction", asClerk, []string{acc, appeal}},
		{"a leader's cases", "leader=leader.construction", asClerk, []string{appeal}},
		{"a clerk's registrations", "registered_by=clerk.wang", asClerk, []string{routed}},
		{"registered in a window", "registered_after=2026-05-05&registered_before=2026-05-08", asClerk, []string{acc}},
		{"registered from an instant", "registered_after=2026-05-06T10:00:00%2B08:00", asClerk, []string{routed, acc}},
		{"q: a case number", "q=" + routed, asClerk, []string{routed}},
		{"q: a name, the petition office sees accusers", "q=张三", asClerk, []string{acc, appeal}},
		{"q: a name, the handling unit does not", "q=张三", asHandler, []string{appeal}},
		{"q: an ID number, the unit's leader does not either", "q=11010519491231002x", asLeader, []string{appeal}},
		{"q: an ID number, the petition office", "q=+11010519491231002X+", asClerk, []string{acc, appeal}},
		{"q: a phone however typed", "q=" + url.QueryEscape("+86 139 0000 2222"), asClerk, []string{routed}},
		{"q: a phone out of scope", "q=13900002222", asHandler, []string{}},
		{"q: topic text still", "q=医疗", asClerk, []string{routed}},
		{"scope: another unit's leader", "", asOtherLeader, []string{routed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, body := do(t, s, http.MethodGet, "/api/v1/petitions?count=true&"+tc.query, nil, "Authorization", tc.auth)
			if w.Code != http.StatusOK {
				t.Fatalf("%d %v", w.Code, body)
			}
			if got := listed(t, body); !slices.Equal(got, tc.want) {
				t.Errorf("cases %v, want %v", got, tc.want)
			}
			if body["count"] != float64(len(tc.want)) || body["count_capped"] != false {
				t.Errorf("count %v capped %v, want %d", body["count"], body["count_capped"], len(tc.want))
			}
		})
	}
	w, body := do(t, s, http.MethodGet, "/api/v1/petitions", nil, "Authorization", asClerk)
	if _, has := body["count"]; w.Code != http.StatusOK || has {
		t.Errorf("without count=true: %d, count %v", w.Code, body["count"])
	}
	// A search for a person never reveals an accusation to the unit it accuses, in its count
	// neither.
	w, body = do(t, s, http.MethodGet, "/api/v1/petitions?count=true&q=11010519491231002X&category=accusation", nil, "Authorization", asHandler)
	if w.Code != http.StatusOK || len(listed(t, body)) != 0 || body["count"] != float64(0) {
		t.Errorf("an accuser searched by the accused unit: %d %v", w.Code, body)
	}
}

func TestListParameterErrors(t *testing.T) {
	s := nilServer()
	for _, tc := range []struct{ query, param string }{
		{"handler=%00", "handler"},
		{"leader=" + strings.Repeat("l", 65), "leader"},
		{"registered_by=%ff", "registered_by"},
		{"registered_after=yesterday", "registered_after"},
		{"registered_before=2026-13-01", "registered_before"},
		{"registered_after=2026-05-02&registered_before=2026-05-01", "registered_after"},
		{"count=maybe", "count"},
		{"format=pdf", "format"},
		{"format=csv&cursor=abc", "cursor"},
		{"extension_pending=perhaps", "extension_pending"},
		{"handlr=x", "handlr"},
	} {
		w, body := do(t, s, http.MethodGet, "/api/v1/petitions?"+tc.query, nil)
		fields, _ := body["fields"].(map[string]any)
		if w.Code != http.StatusBadRequest || fields[tc.param] == nil {
			t.Errorf("%s: %d %v, want 400 naming %s", tc.query, w.Code, body, tc.param)
		}
	}
}

// exportFilename checks an attachment's Content-Disposition: an ASCII name and the Chinese
// one in RFC 5987 form.
func exportFilename(t *testing.T, w interface{ Header() http.Header }, ascii, name string) {
	t.Helper()
	got := w.Header().Get("Content-Disposition")
	want := `attachment; filename="` + ascii + `"; filename*=UTF-8''` + url.PathEscape(name)
	if got != want {
		t.Errorf("Content-Disposition %q\nwant %q", got, want)
	}
}

func TestListExportCSV(t *testing.T) {
	s, store := pgServer(t)
	no := fixture(t, store)
	w, _ := do(t, s, http.MethodGet, "/api/v1/petitions?format=csv&unit=construction&limit=1", nil, "Authorization", asClerk)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != mimeCSV {
		t.Fatalf("%d %s %q", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
	exportFilename(t, w, "petitions-20260514.csv", "信访事项-20260514.csv")
	if w.Header().Get(headerExportRows) != "2" || w.Header().Get(headerExportCapped) != "false" {
		t.Errorf("export headers %v", w.Header())
	}
	text, ok := strings.CutPrefix(w.Body.String(), utf8BOM)
	if !ok {
		t.Fatal("no byte-order mark")
	}
	for _, personal := range []string{"张三", zhang.IDNumber, "13800001111", "某工地欠薪", "某小区"} {
		if strings.Contains(text, personal) {
			t.Errorf("the export holds %q", personal)
		}
	}
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || !slices.Equal(rows[0], caseExportHeader) {
		t.Fatalf("rows %q", rows)
	}
	col := func(row []string, name string) string { return row[slices.Index(caseExportHeader, name)] }
	acc, appeal := rows[1], rows[2] // list order: the accusation is due first
	for _, check := range []struct{ got, want string }{
		{col(acc, "编号"), no["accusation"]},
		{col(appeal, "编号"), no["appeal"]},
		{col(appeal, "事项"), "'=拖欠工资"}, // a formula defused
		{col(appeal, "阶段"), "办理中"},
		{col(appeal, "类别"), "申诉求决"},
		{col(acc, "类别"), "检举控告"},
		{col(appeal, "渠道"), "来信"},
		{col(appeal, "承办单位"), "区住房和城乡建设局"},
		{col(appeal, "承办人"), "handler.construction"},
		{col(appeal, "包案领导"), "leader.construction"},
		{col(appeal, "登记时间"), "2026-05-04 10:00"},
		{col(appeal, "受理时间"), "2026-05-04 11:00"},
		{col(appeal, "办理期限"), "2026-05-20 10:00"},
		{col(appeal, "答复时间"), ""},
		{col(appeal, "是否逾期"), "否"},
		{col(appeal, "督办级别"), "0"},
	} {
		if check.got != check.want {
			t.Errorf("cell %q, want %q", check.got, check.want)
		}
	}
	// Scoped like the list: another unit's leader exports only theirs.
	w, _ = do(t, s, http.MethodGet, "/api/v1/petitions?format=csv", nil, "Authorization", asOtherLeader)
	rows, _ = csv.NewReader(strings.NewReader(strings.TrimPrefix(w.Body.String(), utf8BOM))).ReadAll()
	if len(rows) != 2 || rows[1][0] != no["routed"] {
		t.Errorf("health's leader exported %q", rows)
	}
}

func TestListExportXLSX(t *testing.T) {
	s, store := pgServer(t)
	no := fixture(t, store)
	w, _ := do(t, s, http.MethodGet, "/api/v1/petitions?format=xlsx", nil, "Authorization", asClerk)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != mimeXLSX {
		t.Fatalf("%d %s", w.Code, w.Header().Get("Content-Type"))
	}
	exportFilename(t, w, "petitions-20260514.xlsx", "信访事项-20260514.xlsx")
	f, err := excelize.OpenReader(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("信访事项")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !slices.Equal(rows[0], caseExportHeader) {
		t.Fatalf("rows %q", rows)
	}
	var nos []string
	for _, r := range rows[1:] {
		nos = append(nos, r[0])
	}
	if !slices.Equal(nos, []string{no["routed"], no["accusation"], no["appeal"]}) {
		t.Errorf("rows in order %v", nos)
	}
	appeal := rows[3]
	topic := appeal[slices.Index(caseExportHeader, "事项")]
	stage := appeal[slices.Index(caseExportHeader, "阶段")]
	if topic != "=拖欠工资" || stage != "办理中" || appeal[slices.Index(caseExportHeader, "登记时间")] != "2026-05-04 10:00" {
		t.Errorf("appeal row %q", appeal)
	}
	// Text is text, never a formula.
	cell, _ := excelize.CoordinatesToCellName(slices.Index(caseExportHeader, "事项")+1, 4)
	if formula, err := f.GetCellFormula("信访事项", cell); err != nil || formula != "" {
		t.Errorf("%s holds the formula %q (%v)", cell, formula, err)
	}
	for _, r := range rows {
		for _, v := range r {
			if strings.Contains(v, "张三") || strings.Contains(v, "欠薪三个月") {
				t.Errorf("personal data exported: %q", v)
			}
		}
	}
}

// More matching cases than an export holds: the first register.ExportCap, and a last line
// and a header that say so.
func TestListExportCapped(t *testing.T) {
	s, store := pgServer(t)
	if _, err := store.Pool().Exec(context.Background(), `
		INSERT INTO cases (case_no, channel, category, topic, stage, received_at, registered_at, seq)
		SELECT '2026-' || lpad(i::text, 6, '0'), 'letter', 'appeal', 'topic', 'registered',
			timestamptz '2026-05-01 09:00+08', timestamptz '2026-05-01 09:00+08', 1
		FROM generate_series(1, $1::int) AS i`, register.ExportCap+1); err != nil {
		t.Fatal(err)
	}
	w, _ := do(t, s, http.MethodGet, "/api/v1/petitions?format=csv", nil, "Authorization", asClerk)
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(w.Body.String(), utf8BOM)))
	r.FieldsPerRecord = -1 // the closing note is one cell
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusOK || len(rows) != register.ExportCap+2 || rows[len(rows)-1][0] != cappedNote ||
		rows[len(rows)-2][0] != "2026-010000" {
		t.Fatalf("%d: %d rows, last %q", w.Code, len(rows), rows[len(rows)-1])
	}
	if w.Header().Get(headerExportCapped) != "true" || w.Header().Get(headerExportRows) != strconv.Itoa(register.ExportCap) {
		t.Errorf("headers %v", w.Header())
	}
	_, body := do(t, s, http.MethodGet, "/api/v1/petitions?count=true&limit=1", nil, "Authorization", asClerk)
	if body["count"] != float64(register.CountCap) || body["count_capped"] != true {
		t.Errorf("count %v capped %v", body["count"], body["count_capped"])
	}
}

func TestPetitionerLookup(t *testing.T) {
	s, store := pgServer(t)
	no := fixture(t, store)
	ctx := context.Background()
	const path = "/api/v1/petitioners/lookup?"
	for _, tc := range []struct{ query, param string }{
		{"", "id_number"},
		{"name=张三", "id_number"},
		{"id_number=110105194912310021", "id_number"}, // checksum
		{"phone=call-me", "phone"},
		{"phone=13800001111&category=visit", "category"},
		{"phone=13800001111&topic=拖欠工资", "category"},
		{"phone=13800001111&name=%00", "name"},
		{"phone=13800001111&id=1", "id"},
	} {
		w, body := do(t, s, http.MethodGet, path+tc.query, nil, "Authorization", asClerk)
		fields, _ := body["fields"].(map[string]any)
		if w.Code != http.StatusBadRequest || fields[tc.param] == nil {
			t.Errorf("%q: %d %v, want 400 naming %s", tc.query, w.Code, body, tc.param)
		}
	}
	if w, _ := do(t, s, http.MethodGet, path+"phone=13800001111", nil, "Authorization", asHandler); w.Code != http.StatusForbidden {
		t.Errorf("a handler looked a person up: %d", w.Code)
	}

	// Nobody known: nothing found, nothing recorded.
	w, body := do(t, s, http.MethodGet, path+"phone=13999999999&name=王五", nil, "Authorization", asClerk)
	if w.Code != http.StatusOK || len(body["cases"].([]any)) != 0 || body["repeat_of"] != nil {
		t.Fatalf("unknown person: %d %v", w.Code, body)
	}
	reads, _ := store.PersonalDataReads(ctx, "", "clerk.li", 0, 100)
	if len(reads) != 0 {
		t.Errorf("a look-up that found nothing was recorded: %v", reads)
	}

	// 张三 by ID number (lower-case x): both cases, newest first, with the open appeal as the
	// case a registration on its topic would repeat.
	q := url.Values{"id_number": {strings.ToLower(zhang.IDNumber)}, "name": {"张三"}, "category": {"appeal"}, "topic": {" =拖欠工资 "}}
	w, body = do(t, s, http.MethodGet, path+q.Encode(), nil, "Authorization", asClerk)
	if w.Code != http.StatusOK {
		t.Fatalf("%d %v", w.Code, body)
	}
	if strings.Contains(w.Body.String(), zhang.IDNumber) || strings.Contains(strings.ToUpper(w.Body.String()), zhang.IDNumber) ||
		w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("the answer echoes the ID number or may be cached: %s", w.Body.String())
	}
	if got := listed(t, body); !slices.Equal(got, []string{no["accusation"], no["appeal"]}) {
		t.Errorf("cases %v", got)
	}
	first := body["cases"].([]any)[1].(map[string]any)
	if first["stage"] != "handling" || first["category"] != "appeal" || first["topic"] != "=拖欠工资" ||
		first["unit"] != "construction" || first["registered_at"] != "2026-05-04T10:00:00+08:00" || len(first) != 6 {
		t.Errorf("case %v", first)
	}
	if body["repeat_of"] != no["appeal"] {
		t.Errorf("repeat_of %v, want %s", body["repeat_of"], no["appeal"])
	}
	reads, _ = store.PersonalDataReads(ctx, "", "clerk.li", 0, 100)
	if len(reads) != 2 || reads[0].Purpose != lookupPurpose {
		t.Errorf("personal-data reads %+v, want one per case found", reads)
	}
	// Another topic is no repeat; an accusation is no repeat of an appeal.
	for _, q := range []url.Values{
		{"phone": {"13800001111"}, "category": {"appeal"}, "topic": {"道路维修"}},
		{"phone": {"13800001111"}, "category": {"accusation"}, "topic": {"=拖欠工资"}},
	} {
		w, body = do(t, s, http.MethodGet, path+q.Encode(), nil, "Authorization", asClerk)
		if w.Code != http.StatusOK || body["repeat_of"] != nil || len(body["cases"].([]any)) != 1 {
			t.Errorf("%v: %d %v", q, w.Code, body)
		}
	}
}

func TestRoutingSuggestion(t *testing.T) {
	s, _ := pgServer(t)
	w, body := do(t, s, http.MethodGet, "/api/v1/routing/suggestion?topic="+url.QueryEscape("unpaid construction wages")+"&category=appeal",
		nil, "Authorization", asHandler)
	if w.Code != http.StatusOK || body["unit"] != "construction" || body["unit_name"] != "区住房和城乡建设局" {
		t.Errorf("construction: %d %v", w.Code, body)
	}
	w, body = do(t, s, http.MethodGet, "/api/v1/routing/suggestion?topic=nothing+matches+this", nil, "Authorization", asHandler)
	if _, has := body["unit"]; w.Code != http.StatusOK || !has || body["unit"] != nil || len(body) != 1 {
		t.Errorf("no rule: %d %v, want {\"unit\": null}", w.Code, body)
	}
	for _, tc := range []struct{ query, param string }{
		{"", "topic"}, {"topic=%00", "topic"}, {"topic=x&category=bribe", "category"}, {"topic=x&unit=y", "unit"},
	} {
		w, body := do(t, s, http.MethodGet, "/api/v1/routing/suggestion?"+tc.query, nil)
		fields, _ := body["fields"].(map[string]any)
		if w.Code != http.StatusBadRequest || fields[tc.param] == nil {
			t.Errorf("%q: %d %v, want 400 naming %s", tc.query, w.Code, body, tc.param)
		}
	}
}

func TestStaffDirectoryEndpoint(t *testing.T) {
	s, store := pgServer(t)
	if _, err := store.Pool().Exec(context.Background(), `UPDATE staff SET phone = '13900000000'`); err != nil {
		t.Fatal(err)
	}
	w, body := do(t, s, http.MethodGet, "/api/v1/staff?unit=construction", nil, "Authorization", asHandler)
	staff, _ := body["staff"].([]any)
	if w.Code != http.StatusOK || len(staff) != 3 || strings.Contains(w.Body.String(), "13900000000") {
		t.Fatalf("%d %v", w.Code, body)
	}
	if first := staff[0].(map[string]any); first["id"] != "handler.construction" || first["role"] != "handler" ||
		first["unit"] != "construction" || first["name"] == "" || len(first) != 4 {
		t.Errorf("entry %v", first)
	}
	w, body = do(t, s, http.MethodGet, "/api/v1/staff?role=reviewer", nil, "Authorization", as("admin", "petition_office", "admin.office"))
	if staff, _ := body["staff"].([]any); w.Code != http.StatusOK || len(staff) != 3 {
		t.Errorf("reviewers: %d %v", w.Code, body)
	}
	for _, tc := range []struct{ query, param string }{{"role=boss", "role"}, {"unit=%00", "unit"}, {"name=x", "name"}} {
		w, body := do(t, s, http.MethodGet, "/api/v1/staff?"+tc.query, nil)
		fields, _ := body["fields"].(map[string]any)
		if w.Code != http.StatusBadRequest || fields[tc.param] == nil {
			t.Errorf("%q: %d %v, want 400 naming %s", tc.query, w.Code, body, tc.param)
		}
	}
}

// The ledger's three forms hold the same rows: JSON by field, CSV and Excel with one header.
func TestMonthlyReportForms(t *testing.T) {
	s, store := pgServer(t)
	fixture(t, store)
	w, body := do(t, s, http.MethodGet, "/api/v1/reports/monthly?month=2026-05", nil, "Authorization", asClerk)
	if w.Code != http.StatusOK || body["month"] != "2026-05" {
		t.Fatalf("%d %v", w.Code, body)
	}
	rows := body["rows"].([]any)
	units, _ := store.Units(context.Background())
	if len(rows) != len(units) {
		t.Fatalf("%d rows for %d units", len(rows), len(units))
	}
	var construction map[string]any
	for _, r := range rows {
		if r.(map[string]any)["unit"] == "construction" {
			construction = r.(map[string]any)
		}
	}
	if construction["received"] != float64(2) || construction["accepted"] != float64(2) || construction["answered"] != float64(0) ||
		construction["participation_rate"] != float64(0) || construction["satisfaction_rate"] != float64(0) {
		t.Errorf("construction %v", construction)
	}

	w, _ = do(t, s, http.MethodGet, "/api/v1/reports/monthly.csv?month=2026-05", nil, "Authorization", asClerk)
	csvRows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(w.Body.String(), utf8BOM))).ReadAll()
	if err != nil || len(csvRows) != len(rows)+1 || !slices.Equal(csvRows[0], csvHeader) {
		t.Fatalf("CSV %v: %q", err, csvRows)
	}
	w, _ = do(t, s, http.MethodGet, "/api/v1/reports/monthly.xlsx?month=2026-05", nil, "Authorization", asClerk)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != mimeXLSX {
		t.Fatalf("xlsx: %d", w.Code)
	}
	exportFilename(t, w, "petitions-2026-05.xlsx", "信访台账-2026-05.xlsx")
	f, err := excelize.OpenReader(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	xRows, err := f.GetRows("月度台账")
	if err != nil || !slices.Equal(xRows[0], csvHeader) {
		t.Fatalf("xlsx header %v %q", err, xRows)
	}
	// Row by row, the JSON's fields in the header's order are the CSV's and Excel's cells.
	keys := make([]string, len(csvHeader))
	for i, h := range csvHeader {
		keys[i] = h[strings.LastIndex(h, " ")+1:]
	}
	for i, r := range rows {
		m := r.(map[string]any)
		for j, k := range keys {
			want := ""
			switch v := m[k].(type) {
			case string:
				want = v
			case float64:
				if strings.HasSuffix(k, "_rate") {
					want = strconv.FormatFloat(v, 'f', 4, 64)
				} else {
					want = strconv.Itoa(int(v))
				}
			}
			if csvRows[i+1][j] != want {
				t.Errorf("row %d %s: CSV %q, JSON %q", i, k, csvRows[i+1][j], want)
			}
			if got := cellOf(xRows, i+1, j); got != strings.TrimSuffix(strings.TrimRight(want, "0"), ".") && got != want {
				t.Errorf("row %d %s: Excel %q, JSON %q", i, k, got, want)
			}
		}
	}

	// Scoped like the CSV: a unit's leader gets their units' rows only.
	w, body = do(t, s, http.MethodGet, "/api/v1/reports/monthly?month=2026-05", nil, "Authorization", asLeader)
	if rows := body["rows"].([]any); w.Code != http.StatusOK || len(rows) != 1 || rows[0].(map[string]any)["unit"] != "construction" {
		t.Errorf("construction's leader: %d %v", w.Code, body)
	}
	for _, path := range []string{"/api/v1/reports/monthly?month=May", "/api/v1/reports/monthly.xlsx?month=2026-5", "/api/v1/reports/monthly?unit=x"} {
		if w, _ := do(t, s, http.MethodGet, path, nil); w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d", path, w.Code)
		}
	}
}

// cellOf is a cell of GetRows' answer, "" past a row's end (excelize trims empty cells).
func cellOf(rows [][]string, r, c int) string {
	if r >= len(rows) || c >= len(rows[r]) {
		return ""
	}
	return rows[r][c]
}

// allowedTemporal answers the state query like fakeTemporal and the allowed-actions query
// with its own answer, recording the actor it was asked for.
type allowedTemporal struct {
	*fakeTemporal
	allowed    []string
	allowedErr error
	asked      []workflows.Actor
}

func (a *allowedTemporal) QueryWorkflow(ctx context.Context, id, run, query string, args ...any) (converter.EncodedValue, error) {
	if query != workflows.QueryAllowedActions {
		return a.fakeTemporal.QueryWorkflow(ctx, id, run, query, args...)
	}
	a.fakeTemporal.mu.Lock()
	a.asked = append(a.asked, args[0].(workflows.Actor))
	a.fakeTemporal.mu.Unlock()
	if a.allowedErr != nil {
		return nil, a.allowedErr
	}
	return fakeValue{a.allowed}, nil
}

func TestCaseFileAllowedActions(t *testing.T) {
	env := newRobustEnv(t, openCase("2026-000001", workflows.StageHandling), openCase("2026-000002", workflows.StageClosed))
	at := &allowedTemporal{fakeTemporal: env.tc, allowed: []string{workflows.UpdateReply, workflows.UpdateRequestExtension, "new_action"}}
	env.s.temporal = at
	read := func(no string) map[string]any {
		w, body := do(t, env.s, http.MethodGet, "/api/v1/petitions/"+no, nil, "Authorization", bearer("leader"))
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %v", no, w.Code, body)
		}
		return body
	}
	body := read("2026-000001")
	if got := body["allowed_actions"]; !slices.Equal(anyStrings(got), []string{"reply", "request-extension"}) || body["source"] != sourceWorkflow {
		t.Errorf("allowed_actions %v (source %v), want the URL segments the workflow named", got, body["source"])
	}
	if len(at.asked) != 1 || at.asked[0].ID != "leader-1" || at.asked[0].Role != workflows.RoleLeader || at.asked[0].Unit != testUnit {
		t.Errorf("asked for %+v, want the signed-in leader", at.asked)
	}

	// A worker older than the query: the read goes on, with nothing allowed.
	at.allowedErr = errors.New(`unknown queryType allowed_actions. KnownQueryTypes=[state]`)
	body = read("2026-000001")
	if got, ok := body["allowed_actions"].([]any); !ok || len(got) != 0 || body["source"] != sourceWorkflow {
		t.Errorf("old worker: allowed_actions %v source %v", body["allowed_actions"], body["source"])
	}
	// A final case is not queried; a state that cannot be read allows nothing.
	at.asked = nil
	if got, ok := read("2026-000002")["allowed_actions"].([]any); !ok || len(got) != 0 || len(at.asked) != 0 {
		t.Errorf("closed case: %v, %d queries", got, len(at.asked))
	}
	at.allowedErr = nil
	env.tc.queryErr = errors.New("boom")
	body = read("2026-000001")
	if got, ok := body["allowed_actions"].([]any); !ok || len(got) != 0 || body["state_error"] == nil {
		t.Errorf("state unreadable: %v", body)
	}
	// Both queries share the 2 s: a workflow that answers neither holds the read that long only.
	env.tc.queryErr, env.tc.hang = nil, true
	env.s.queryWait = 200 * time.Millisecond
	start := time.Now()
	body = read("2026-000001")
	if took := time.Since(start); took > 2*env.s.queryWait+500*time.Millisecond || body["source"] != sourceRegister {
		t.Errorf("hanging workflow: %v, source %v", took, body["source"])
	}
}

func anyStrings(v any) []string {
	list, _ := v.([]any)
	out := []string{}
	for _, e := range list {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

// The document's StaffAction (what allowed_actions holds) is the set of staff actions.
func TestOpenAPIStaffAction(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Enum []string `yaml:"enum"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(slices.Values(doc.Components.Schemas["StaffAction"].Enum))
	if want := actionNames(); !slices.Equal(got, want) {
		t.Errorf("StaffAction %v, want %v", got, want)
	}
}
