package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// A bilingual header as an office's export writes it, an extra column, a byte order mark,
// two petitioners in one row.
const importCSV = "\xef\xbb\xbf原编号 external_ref,渠道,类别,事由,内容,信访人,身份证号,电话,收件时间,受理时间,答复时间,承办单位,承办人,包案领导,阶段,备注\n" +
	"OLD-1,来信,申诉求决,拖欠工资,工地拖欠工资三个月,张三;李四,11010519491231002X;,;13900001111,2026-04-01 09:30,2026-04-03,,construction,handler.construction,,办理中,旧系统备注\n" +
	"OLD-2,visit,appeal,小区噪音,夜间施工噪音,王五,,13900002222,2026-05-10T09:00:00+08:00,,,,,,registered,\n"

func TestImportParsesCSVWithChineseOrEnglishHeaders(t *testing.T) {
	rows, ignored, err := parseImport("text/csv", []byte(importCSV))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || len(ignored) != 1 || ignored[0] != "备注" {
		t.Fatalf("rows %d, ignored %v", len(rows), ignored)
	}
	r := rows[0]
	if r.ExternalRef != "OLD-1" || r.Channel != "来信" || r.Stage != "办理中" || r.AcceptedAt != "2026-04-03" || r.Handler != "handler.construction" {
		t.Errorf("row 1 %+v", r)
	}
	want := []register.Petitioner{{Name: "张三", IDNumber: "11010519491231002X"}, {Name: "李四", Phone: "13900001111"}}
	if got := r.petitioners(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("petitioners %+v, want %+v", got, want)
	}
	chk, f := nilServer().checkImport(r)
	if f != nil {
		t.Fatalf("row 1 refused: %v", f)
	}
	if chk.nc.Channel != "letter" || chk.nc.Category != "appeal" || chk.im.Stage != workflows.StageHandling ||
		!chk.nc.ReceivedAt.Equal(time.Date(2026, 4, 1, 9, 30, 0, 0, shanghai)) ||
		chk.im.AcceptedAt == nil || !chk.im.AcceptedAt.Equal(time.Date(2026, 4, 3, 0, 0, 0, 0, shanghai)) || chk.nc.SuggestedUnit != "construction" {
		t.Errorf("row 1 checked as %+v / %+v", chk.nc, chk.im)
	}
}

// The service date and method (送达) of a replied case: bilingual headers, the method as its
// code or in Chinese, a date alone the start of that day; JSON fields likewise.
func TestImportParsesTheServiceColumns(t *testing.T) {
	const file = "external_ref,channel,category,topic,content,petitioner_name,petitioner_phone,received_at,accepted_at,replied_at,unit,handler,stage,送达日期 served_at,送达方式 service_method\n" +
		"S-1,letter,appeal,t,c,张三,13900007777,2026-04-01 09:00,2026-04-02 10:00,2026-05-08 16:00,construction,h,replied,2026-05-11,邮寄送达\n" +
		"S-2,letter,appeal,t,c,李四,13900008888,2026-04-01 09:00,2026-04-02 10:00,2026-05-08 16:00,construction,h,replied,,\n"
	rows, ignored, err := parseImport("text/csv", []byte(file))
	if err != nil || len(rows) != 2 || len(ignored) != 0 {
		t.Fatalf("rows %+v, ignored %v: %v", rows, ignored, err)
	}
	if rows[0].ServedAt != "2026-05-11" || rows[0].ServiceMethod != "邮寄送达" {
		t.Errorf("row 1 %+v", rows[0])
	}
	chk, f := nilServer().checkImport(rows[0])
	if f != nil {
		t.Fatalf("row 1 refused: %v", f)
	}
	if im := chk.im; im.ServedAt == nil || !im.ServedAt.Equal(time.Date(2026, 5, 11, 0, 0, 0, 0, shanghai)) || im.ServiceMethod != workflows.ServicePost {
		t.Errorf("row 1 checked as %+v", im)
	}
	// Without a service date the case waits for it (the workflow's part): not refused.
	if chk, f := nilServer().checkImport(rows[1]); f != nil || chk.im.ServedAt != nil || chk.im.ServiceMethod != "" {
		t.Errorf("row 2: %+v, %v", chk.im, f)
	}

	js := `[{"external_ref": "S-3", "channel": "letter", "category": "appeal", "topic": "t", "content": "c",
	  "petitioner_name": "王五", "petitioner_phone": "13900009999", "received_at": "2026-04-01 09:00",
	  "accepted_at": "2026-04-02 10:00", "replied_at": "2026-05-08 16:00", "unit": "construction", "handler": "h",
	  "stage": "replied", "served_at": "2026-05-08T17:00:00+08:00", "service_method": "in_person"}]`
	rows, _, err = parseImport("application/json", []byte(js))
	if err != nil || len(rows) != 1 || rows[0].unreadable != "" {
		t.Fatalf("JSON rows %+v: %v", rows, err)
	}
	if chk, f := nilServer().checkImport(rows[0]); f != nil || chk.im.ServedAt == nil ||
		!chk.im.ServedAt.Equal(time.Date(2026, 5, 8, 17, 0, 0, 0, shanghai)) || chk.im.ServiceMethod != workflows.ServiceInPerson {
		t.Errorf("JSON row: %+v, %v", chk.im, f)
	}
}

func TestImportParsesJSON(t *testing.T) {
	body := `[
	 {"external_ref": "J-1", "channel": "letter", "category": "appeal", "topic": "t", "content": "c",
	  "petitioners": [{"name": "张三", "phone": "13900003333"}], "received_at": "2026-05-01T09:00:00+08:00",
	  "accepted_at": "2026-05-02 10:00", "replied_at": "2026-05-12 10:00", "unit": "construction",
	  "handler": "handler.construction", "stage": "replied"},
	 {"external_ref": "J-2", "channel": "letter", "handeler": "x"},
	 42
	]`
	rows, _, err := parseImport("application/json", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].unreadable != "" || rows[1].unreadable == "" || rows[1].ExternalRef != "J-2" || rows[2].unreadable == "" {
		t.Fatalf("rows %+v", rows)
	}
	if _, f := nilServer().checkImport(rows[0]); f != nil {
		t.Errorf("row 1 refused: %v", f)
	}
	if _, f := nilServer().checkImport(rows[1]); f["row"] == "" || !strings.Contains(f["row"], "handeler") {
		t.Errorf("row 2 (misspelt field) refused with %v, want the field named", f)
	}
}

func TestImportRefusesUnreadableFilesAsAWhole(t *testing.T) {
	many := "[" + strings.TrimSuffix(strings.Repeat(`{},`, maxImportRows+1), ",") + "]"
	for name, c := range map[string]struct{ ct, body, want string }{
		"empty":           {"text/csv", " \n", "empty"},
		"not UTF-8":       {"text/csv", "external_ref\n\xb2\xe2\n", "UTF-8"},
		"not an array":    {"application/json", `{"cases": []}`, "JSON array"},
		"missing columns": {"text/csv", "external_ref,channel\nA,letter\n", "lacks the columns"},
		"column twice":    {"text/csv", "external_ref,原编号\n", "twice"},
		"no cases":        {"text/csv", importCSV[:strings.Index(importCSV, "\n")+1], "no cases"},
		"too many":        {"application/json", many, "more than 1000 cases"},
	} {
		_, _, err := parseImport(c.ct, []byte(c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
	}
}

func TestImportRowRefusalsSayWhy(t *testing.T) {
	s := nilServer()
	good := importRow{
		ExternalRef: "R-1", Channel: "letter", Category: "appeal", Topic: "t", Content: "c",
		PetitionerName: "张三", PetitionerPhone: "13900004444", ReceivedAt: "2026-05-01 09:00",
		AcceptedAt: "2026-05-02", Unit: "construction", Handler: "h", Stage: "handling",
	}
	if _, f := s.checkImport(good); f != nil {
		t.Fatalf("good row refused: %v", f)
	}
	replied := func(served, method string) func(*importRow) {
		return func(r *importRow) {
			r.Stage, r.RepliedAt, r.ServedAt, r.ServiceMethod = "replied", "2026-05-10 15:00", served, method
		}
	}
	served := good
	replied("2026-05-12", "短信送达")(&served)
	if chk, f := s.checkImport(served); f != nil || chk.im.ServiceMethod != workflows.ServiceSMS {
		t.Fatalf("replied row with its service refused: %v", f)
	}
	for name, c := range map[string]struct {
		edit  func(*importRow)
		field string
		want  string
	}{
		"no reference":         {func(r *importRow) { r.ExternalRef = " " }, "external_ref", "required"},
		"bad phone":            {func(r *importRow) { r.PetitionerPhone = "call me" }, "petitioners[0].phone", "not a phone number"},
		"no identity":          {func(r *importRow) { r.PetitionerPhone = "" }, "petitioners[0].id_number", "ID number or a phone"},
		"bad channel":          {func(r *importRow) { r.Channel = "pigeon" }, "channel", "must be one of"},
		"no receipt":           {func(r *importRow) { r.ReceivedAt = "" }, "received_at", "required"},
		"bad date":             {func(r *importRow) { r.ReceivedAt = "first of May" }, "received_at", "date and time"},
		"year 0 in UTC":        {func(r *importRow) { r.ReceivedAt = "0000-01-01T05:00:00+08:00" }, "received_at", "date and time"},
		"NUL in a name":        {func(r *importRow) { r.PetitionerName = "张\x00三" }, "petitioners[0].name", ""},
		"future":               {func(r *importRow) { r.AcceptedAt = "2026-06-01" }, "accepted_at", "future"},
		"accepted before":      {func(r *importRow) { r.AcceptedAt = "2026-04-30" }, "accepted_at", "before received_at"},
		"handling, no handler": {func(r *importRow) { r.Handler = "" }, "handler", "required for a case in stage handling"},
		"handling, no date":    {func(r *importRow) { r.AcceptedAt = "" }, "accepted_at", "required"},
		"replied, no date":     {func(r *importRow) { r.Stage = "已答复" }, "replied_at", "required"},
		"review stage":         {func(r *importRow) { r.Stage = "review" }, "stage", "registered (已登记待受理), handling (办理中) or replied"},
		"registered, accepted": {func(r *importRow) { r.Stage = "registered" }, "accepted_at", "not been accepted"},
		"unknown policy":       {func(r *importRow) { r.Policy = "lenient" }, "policy", "unknown policy"},
		// The service (送达) of a replied case, refused in the reply action's words.
		"served, no method": {replied("2026-05-12", ""), "service_method", "reply: served_at needs service_method (in_person 当面送达"},
		"method, no date":   {replied("", "post"), "served_at", "reply: service_method needs served_at"},
		"bad method":        {replied("2026-05-12", "pigeon"), "service_method", "reply: service_method must be one of in_person"},
		"served before":     {replied("2026-05-09", "post"), "served_at", "reply: served_at 2026-05-09 is before the answer was recorded (2026-05-10)"},
		"served in future":  {replied("2026-05-20", "post"), "served_at", "reply: served_at 2026-05-20 00:00:00 (Asia/Shanghai) is in the future"},
		"served, bad date":  {replied("soon", "post"), "served_at", "date and time"},
		"served, handling":  {func(r *importRow) { r.ServedAt, r.ServiceMethod = "2026-05-12", "post" }, "served_at", "only a replied case"},
	} {
		r := good
		c.edit(&r)
		_, f := s.checkImport(r)
		if !strings.Contains(f[c.field], c.want) {
			t.Errorf("%s: refused with %v, want %s: …%s…", name, f, c.field, c.want)
		}
	}
}

// importRegister imports into memory: a reference answers its case, the topic "repeat" is a
// repeat of an open case, the unit "nowhere" and the staff ID "nobody" do not exist.
type importRegister struct {
	fuzzRegister
	imu   sync.Mutex
	byRef map[string]register.Case
}

func (r *importRegister) Unit(_ context.Context, code string) (register.Unit, error) {
	if code == "nowhere" {
		return register.Unit{}, register.ErrNotFound
	}
	return register.Unit{Code: code}, nil
}

func (r *importRegister) Staff(_ context.Context, id string) (register.Staff, error) {
	if id == "nobody" {
		return register.Staff{}, register.ErrNotFound
	}
	return register.Staff{ID: id, Role: "handler"}, nil
}

func (r *importRegister) Import(_ context.Context, nc register.NewCase, ref string) (register.Case, bool, error) {
	r.imu.Lock()
	defer r.imu.Unlock()
	if c, ok := r.byRef[ref]; ok {
		return c, false, nil
	}
	if nc.Topic == "repeat" {
		return register.Case{}, false, &register.RepeatError{Case: register.Case{CaseNo: "2026-000099", Stage: "handling"}}
	}
	c := register.Case{
		CaseNo: fmt.Sprintf("2026-%06d", len(r.byRef)+1), QueryCode: "12345678", Policy: nc.Policy,
		Stage: "registered", Seq: register.ImportedSeq, RegisteredBy: nc.RegisteredBy, ReceivedAt: nc.ReceivedAt,
	}
	stored := c
	stored.Seq = 3 // its workflow has reported since
	r.byRef[ref] = stored
	return c, true, nil
}

// importTemporal starts imported workflows: each answers its imported stage, due in a day.
type importTemporal struct {
	client.Client
	mu     sync.Mutex
	inputs []workflows.PetitionInput
}

type fakeStartOp struct{ args []any }

func (*fakeStartOp) Get(context.Context) (client.WorkflowRun, error) { return nil, nil }

func (t *importTemporal) NewWithStartWorkflowOperation(_ client.StartWorkflowOptions, _ any, args ...any) client.WithStartWorkflowOperation {
	return &fakeStartOp{args: args}
}

func (t *importTemporal) UpdateWithStartWorkflow(_ context.Context, o client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	in := o.StartWorkflowOperation.(*fakeStartOp).args[0].(workflows.PetitionInput)
	t.mu.Lock()
	t.inputs = append(t.inputs, in)
	t.mu.Unlock()
	return fakeHandle{state: workflows.CaseState{CaseNo: in.CaseNo, Stage: in.Import.Stage,
		Deadline: &workflows.Deadline{Due: fixedNow.Add(24 * time.Hour)}}}, nil
}

// Through HTTP: good rows are imported (query code shown), bad ones refused with the field
// and the reason, none stopping another; the same file again creates nothing.
func TestImportEndpointReportsEveryRow(t *testing.T) {
	reg := &importRegister{byRef: map[string]register.Case{}}
	tc := &importTemporal{}
	s := New(Config{
		Policies: testPolicies, Now: func() time.Time { return fixedNow }, Logger: quietLog,
		Register: reg, Temporal: tc, Auth: fakeAuth{}, Accounts: fakeAuth{},
	})
	csv := importCSV +
		"OLD-3,letter,appeal,repeat,c,赵六,,13900005555,2026-05-01 09:00,,,,,,registered,\n" +
		"OLD-4,letter,appeal,t,c,钱七,,13900006666,2026-05-01 09:00,2026-05-02,,nowhere,nobody,,handling,\n" +
		"OLD-5,letter,appeal,t,c,孙八,,not-a-phone,2026-05-01 09:00,,,,,,registered,\n"
	send := func(role string) (int, map[string]any) {
		w, body := do(t, s, "POST", "/api/v1/petitions/import", csv, "Content-Type", "text/csv", "Authorization", bearer(role))
		return w.Code, body
	}
	code, body := send("clerk")
	if code != http.StatusOK {
		t.Fatalf("status %d %v", code, body)
	}
	rows := body["rows"].([]any)
	want := []struct{ status, reason string }{
		{importImported, ""}, {importImported, ""},
		{importRefused, "petitioners: the same petitioner and topic as case 2026-000099"},
		{importRefused, "handler: no staff member with ID \"nobody\"; unit: unknown unit \"nowhere\""},
		{importRefused, "petitioners[0].phone: is not a phone number"},
	}
	for i, w := range want {
		r := rows[i].(map[string]any)
		if r["row"] != float64(i+1) || r["status"] != w.status || !strings.HasPrefix(fmt.Sprint(r["reason"]), w.reason) ||
			(w.status == importImported) != (r["query_code"] == "12345678") {
			t.Errorf("row %d: %v, want %s %q", i+1, r, w.status, w.reason)
		}
	}
	if tot := body["totals"].(map[string]any); tot["imported"] != 2.0 || tot["refused"] != 3.0 || tot["rows"] != 5.0 {
		t.Errorf("totals %v", tot)
	}
	if len(tc.inputs) != 2 {
		t.Fatalf("%d workflows started, want 2", len(tc.inputs))
	}
	for _, in := range tc.inputs {
		if in.Import == nil || in.RegisteredBy.ID != "clerk-1" || in.Import.ExternalRef == "" {
			t.Errorf("workflow input %+v", in)
		}
		if in.Import.ExternalRef == "OLD-1" && (in.Import.Stage != workflows.StageHandling || in.Import.AcceptedAt == nil ||
			in.Import.Handler != "handler.construction" || !in.ReceivedAt.Equal(time.Date(2026, 4, 1, 9, 30, 0, 0, shanghai))) {
			t.Errorf("OLD-1 started as %+v / %+v", in, in.Import)
		}
	}

	// Again, by a supervisor: the same cases, nothing new, no query codes.
	code, body = send("supervisor")
	rows = body["rows"].([]any)
	if code != http.StatusOK || rows[0].(map[string]any)["status"] != importExisting || rows[1].(map[string]any)["status"] != importExisting ||
		rows[0].(map[string]any)["query_code"] != nil || len(tc.inputs) != 2 {
		t.Errorf("second import: %d %v; %d workflows started", code, rows[:2], len(tc.inputs))
	}
	if code, _ := send("handler"); code != http.StatusForbidden {
		t.Errorf("a handler imports: status %d, want 403", code)
	}
}
