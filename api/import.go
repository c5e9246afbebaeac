package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/petitions/petitions/internal/intake"
	"github.com/petitions/petitions/internal/labels"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// Back-entry of running cases (补录): POST /api/v1/petitions/import takes an office's open cases
// from its earlier system, as CSV (a header row, Chinese or English column names) or JSON (an
// array of objects), and brings each in: a register row made like a registration (case number,
// query code, the same validation and repeat detection) that keeps the earlier system's number
// (external_ref, the import's idempotency key), and a workflow started in the case's real stage
// with its clocks computed from the real dates (workflows/import.go). The answer reports every
// row: imported (with the query code, shown here once), existing (the reference was imported
// before: the same case, never a second one) or refused (with the field and the reason, in
// registration's words). Bad rows never stop good ones; only a file that cannot be read at
// all, or has more than maxImportRows cases, is refused as a whole (400).

const (
	// maxImportRows bounds one request; petitiond import sends larger files in batches.
	maxImportRows = 1000
	// importParallel bounds the rows brought in at once (register transactions and workflow
	// starts): enough to import 500 cases in seconds, few enough not to crowd out the clerks.
	importParallel = 16
	maxStaffIDLen  = 64
)

// Import statuses of a row.
const (
	importImported = "imported"
	importExisting = "existing"
	importRefused  = "refused"
)

// caseImporter is the register's import (internal/register/import.go).
type caseImporter interface {
	Import(ctx context.Context, nc register.NewCase, ref string) (register.Case, bool, error)
}

// importer is the register's import, behind the deadline decorator like every register call.
func (s *Server) importer() (caseImporter, bool) {
	r := s.reg
	if t, ok := r.(timedRegister); ok {
		r = t.r
	}
	imp, ok := r.(caseImporter)
	return imp, ok
}

// importColumns: each field of a row and the header names that mean it (matched without case;
// a header cell may hold several words, e.g. "原编号 external_ref", and the first known word
// names the column).
var importColumns = []struct {
	field   string
	names   []string
	require bool
}{
	{"external_ref", []string{"external_ref", "原编号", "原系统编号", "外部编号"}, true},
	{"channel", []string{"channel", "渠道", "来源"}, true},
	{"category", []string{"category", "类别"}, true},
	{"topic", []string{"topic", "事由", "主题"}, true},
	{"content", []string{"content", "内容", "信访内容"}, true},
	{"location", []string{"location", "地点", "发生地"}, false},
	{"petitioner_name", []string{"petitioner_name", "name", "信访人", "姓名"}, true},
	{"petitioner_id_number", []string{"petitioner_id_number", "id_number", "身份证号", "身份证号码"}, false},
	{"petitioner_phone", []string{"petitioner_phone", "phone", "电话", "联系电话", "手机"}, false},
	{"petitioner_address", []string{"petitioner_address", "address", "地址", "住址"}, false},
	{"received_at", []string{"received_at", "收件时间", "来信来访时间", "收到时间"}, true},
	{"accepted_at", []string{"accepted_at", "受理时间"}, false},
	{"replied_at", []string{"replied_at", "答复时间"}, false},
	{"served_at", []string{"served_at", "送达日期", "送达时间"}, false},
	{"service_method", []string{"service_method", "送达方式"}, false},
	{"unit", []string{"unit", "承办单位", "责任单位"}, false},
	{"handler", []string{"handler", "承办人"}, false},
	{"leader", []string{"leader", "包案领导"}, false},
	{"stage", []string{"stage", "阶段", "办理状态"}, true},
	{"policy", []string{"policy", "时限规则"}, false},
}

// importRow is one case of the file, as written.
type importRow struct {
	ExternalRef string                `json:"external_ref"`
	Channel     string                `json:"channel"`
	Category    string                `json:"category"`
	Topic       string                `json:"topic"`
	Content     string                `json:"content"`
	Location    string                `json:"location"`
	Petitioners []register.Petitioner `json:"petitioners"`
	// The flat petitioner fields of a CSV row, also accepted in JSON (one petitioner, or
	// several separated by ";").
	PetitionerName     string `json:"petitioner_name"`
	PetitionerIDNumber string `json:"petitioner_id_number"`
	PetitionerPhone    string `json:"petitioner_phone"`
	PetitionerAddress  string `json:"petitioner_address"`
	ReceivedAt         string `json:"received_at"`
	AcceptedAt         string `json:"accepted_at"`
	RepliedAt          string `json:"replied_at"`
	ServedAt           string `json:"served_at"`
	ServiceMethod      string `json:"service_method"`
	Unit               string `json:"unit"`
	Handler            string `json:"handler"`
	Leader             string `json:"leader"`
	Stage              string `json:"stage"`
	Policy             string `json:"policy"`

	// unreadable: the row itself could not be read (a JSON element that is no such object, a
	// CSV line with too many fields); the row is refused with this reason.
	unreadable string
}

// importResult is one row of the report.
type importResult struct {
	Row         int    `json:"row"`
	ExternalRef string `json:"external_ref"`
	Status      string `json:"status"`
	CaseNo      string `json:"case_no,omitempty"`
	QueryCode   string `json:"query_code,omitempty"`
	// Stage and Due: where the case stands and its running clock's due instant (overdue when
	// it has passed), as the workflow answered the start or the register holds it.
	Stage           string     `json:"stage,omitempty"`
	Due             *time.Time `json:"due,omitempty"`
	Overdue         bool       `json:"overdue,omitempty"`
	EscalationLevel int        `json:"escalation_level,omitempty"`
	// Reason: why a row was refused (fields and what is wrong with them, as registration
	// words it), or what is left to do for a case whose workflow did not confirm in time.
	Reason string `json:"reason,omitempty"`
}

// importPetitions is POST /api/v1/petitions/import.
func (s *Server) importPetitions(c *gin.Context) {
	ctx := c.Request.Context()
	imp, ok := s.importer()
	if !ok || s.temporal == nil {
		s.fail(c, errNotConfigured)
		return
	}
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.fail(c, &badRequestError{fmt.Sprintf("the file is larger than %d bytes: send it in parts (petitiond import sends batches)", tooBig.Limit)})
			return
		}
		s.fail(c, &badRequestError{"the request body could not be read"})
		return
	}
	rows, ignored, err := parseImport(c.ContentType(), raw)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := principal(c)
	clerk, err := s.actorOf(ctx, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	results := make([]importResult, len(rows))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(importParallel, len(rows)) {
		wg.Go(func() {
			for i := range next {
				results[i] = s.importOne(ctx, imp, rows[i], clerk)
				results[i].Row = i + 1
			}
		})
	}
	for i := range rows {
		next <- i
	}
	close(next)
	wg.Wait()

	totals := map[string]int{"rows": len(rows), importImported: 0, importExisting: 0, importRefused: 0}
	for _, r := range results {
		totals[r.Status]++
	}
	s.log.InfoContext(ctx, "running cases imported", "staff_id", p.StaffID, "rows", len(rows),
		"imported", totals[importImported], "existing", totals[importExisting], "refused", totals[importRefused])
	body := gin.H{"rows": results, "totals": totals}
	if len(ignored) > 0 {
		body["ignored_columns"] = ignored
	}
	c.Header("Cache-Control", "no-store") // query codes
	s.answer(c, http.StatusOK, body)
}

// parseImport reads the file: JSON when the content type says so or the body starts with '[',
// CSV otherwise. It fails (400) only when the file cannot be read at all.
func parseImport(contentType string, raw []byte) (rows []importRow, ignored []string, err error) {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")) // Excel's UTF-8 byte order mark
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil, &badRequestError{"the file is empty; expected CSV with a header row, or a JSON array of cases"}
	}
	if !utf8.Valid(raw) {
		return nil, nil, &badRequestError{"the file must be UTF-8 text (from Excel: save as \"CSV UTF-8\")"}
	}
	isJSON := strings.Contains(contentType, "json") ||
		(!strings.Contains(contentType, "csv") && bytes.TrimSpace(raw)[0] == '[')
	if isJSON {
		rows, err = parseImportJSON(raw)
	} else {
		rows, ignored, err = parseImportCSV(raw)
	}
	if err != nil {
		return nil, nil, err
	}
	if len(rows) == 0 {
		return nil, nil, &badRequestError{"the file holds no cases"}
	}
	if len(rows) > maxImportRows {
		return nil, nil, &badRequestError{fmt.Sprintf("the file holds more than %d cases, the most imported per request: send it in parts (petitiond import sends batches)", maxImportRows)}
	}
	return rows, ignored, nil
}

func parseImportJSON(raw []byte) ([]importRow, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, &badRequestError{"the file is not a JSON array of cases: " + jsonError(err).Error()}
	}
	if len(elems) > maxImportRows {
		return make([]importRow, len(elems)), nil // refused as a whole by the caller
	}
	rows := make([]importRow, len(elems))
	for i, e := range elems {
		dec := json.NewDecoder(bytes.NewReader(e))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rows[i]); err != nil {
			rows[i] = importRow{unreadable: jsonError(err).Error()}
			var ref struct {
				ExternalRef any `json:"external_ref"`
			}
			if json.Unmarshal(e, &ref) == nil {
				if s, ok := ref.ExternalRef.(string); ok {
					rows[i].ExternalRef = s
				}
			}
		}
	}
	return rows, nil
}

func parseImportCSV(raw []byte) ([]importRow, []string, error) {
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1 // a short or long line refuses that row, not the file
	r.LazyQuotes = true
	header, err := r.Read()
	if err != nil {
		return nil, nil, &badRequestError{"the file is not CSV with a header row: " + err.Error()}
	}
	col := map[string]int{}
	var ignored []string
	for i, cell := range header {
		field := importField(cell)
		switch {
		case field == "":
			if strings.TrimSpace(cell) != "" {
				ignored = append(ignored, strings.TrimSpace(cell))
			}
		case col[field] > 0:
			return nil, nil, &badRequestError{fmt.Sprintf("the header names %s twice (columns %d and %d)", field, col[field], i+1)}
		default:
			col[field] = i + 1
		}
	}
	var missing []string
	for _, c := range importColumns {
		if c.require && col[c.field] == 0 {
			missing = append(missing, c.field+" ("+c.names[1]+")")
		}
	}
	if col["petitioner_id_number"] == 0 && col["petitioner_phone"] == 0 {
		missing = append(missing, "petitioner_id_number (身份证号) or petitioner_phone (电话)")
	}
	if len(missing) > 0 {
		return nil, nil, &badRequestError{"the header lacks the columns " + strings.Join(missing, ", ") +
			" (the columns are listed in the README, \"Bringing running cases in\")"}
	}
	var rows []importRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, &badRequestError{"the file is not valid CSV: " + err.Error()}
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		get := func(field string) string {
			if i := col[field]; i > 0 && i <= len(rec) {
				return strings.TrimSpace(rec[i-1])
			}
			return ""
		}
		row := importRow{
			ExternalRef: get("external_ref"), Channel: get("channel"), Category: get("category"),
			Topic: get("topic"), Content: get("content"), Location: get("location"),
			PetitionerName: get("petitioner_name"), PetitionerIDNumber: get("petitioner_id_number"),
			PetitionerPhone: get("petitioner_phone"), PetitionerAddress: get("petitioner_address"),
			ReceivedAt: get("received_at"), AcceptedAt: get("accepted_at"), RepliedAt: get("replied_at"),
			ServedAt: get("served_at"), ServiceMethod: get("service_method"),
			Unit: get("unit"), Handler: get("handler"), Leader: get("leader"), Stage: get("stage"),
			Policy: get("policy"),
		}
		if len(rec) > len(header) {
			row.unreadable = fmt.Sprintf("the line has %d fields, the header %d", len(rec), len(header))
		}
		rows = append(rows, row)
		if len(rows) > maxImportRows {
			break // refused as a whole by the caller
		}
	}
	return rows, ignored, nil
}

// importField names the field a header cell stands for ("" if none).
func importField(cell string) string {
	for _, word := range strings.Fields(strings.ToLower(cell)) {
		for _, c := range importColumns {
			if slices.Contains(c.names, word) {
				return c.field
			}
		}
	}
	return ""
}

// importCode reads a code written as the code or its Chinese or English label.
func importCode(kind, v string, extra map[string]string) string {
	v = strings.TrimSpace(v)
	if code, ok := extra[v]; ok {
		return code
	}
	for _, code := range labels.Codes(kind) {
		if strings.EqualFold(v, code) || v == labels.Zh(kind, code) || strings.EqualFold(v, labels.Of(labels.English, kind, code)) {
			return code
		}
	}
	return v
}

var stageWords = map[string]string{"登记": "registered", "待受理": "registered", "办理": "handling", "答复": "replied"}

// serviceWords are the service methods (送达方式) as a clerk writes them in Chinese.
var serviceWords = map[string]string{
	"当面送达": workflows.ServiceInPerson, "当面": workflows.ServiceInPerson, "直接送达": workflows.ServiceInPerson,
	"邮寄送达": workflows.ServicePost, "邮寄": workflows.ServicePost,
	"短信送达": workflows.ServiceSMS, "短信": workflows.ServiceSMS,
	"网上送达": workflows.ServiceOnline, "网上": workflows.ServiceOnline,
}

// importTimeLayouts are the forms of a date a clerk's export may hold besides RFC 3339, read in
// the office's legal time zone; a date alone is the start of that day.
var importTimeLayouts = []string{
	"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04",
	"2006/1/2 15:04:05", "2006/1/2 15:04", "2006-01-02", "2006/1/2", "2006年1月2日",
}

const errImportTime = "must be a date and time, e.g. 2026-05-01 09:30 (Asia/Shanghai) or RFC 3339 2026-05-01T09:30:00+08:00"

func parseImportTime(v string) (time.Time, bool) {
	if t, ok := parseRFC3339(v); ok {
		// As every instant the API takes: a year the register or a workflow payload (JSON)
		// cannot hold is refused here, not by PostgreSQL or a failing activity later.
		return t, inYearRange(t)
	}
	for _, l := range importTimeLayouts {
		if t, err := time.ParseInLocation(l, v, shanghai); err == nil {
			return t, inYearRange(t)
		}
	}
	return time.Time{}, false
}

// splitList splits a cell listing several petitioners ("张三;李四").
func splitList(v string) []string {
	if v == "" {
		return nil
	}
	// Positions are kept: "11010519491231002X;" is the first petitioner's ID and none for the second.
	parts := strings.Split(strings.ReplaceAll(v, "；", ";"), ";")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func (r importRow) petitioners() []register.Petitioner {
	if len(r.Petitioners) > 0 {
		return r.Petitioners
	}
	names, ids, phones, addrs := splitList(r.PetitionerName), splitList(r.PetitionerIDNumber),
		splitList(r.PetitionerPhone), splitList(r.PetitionerAddress)
	at := func(l []string, i int) string {
		if i < len(l) {
			return l[i]
		}
		return ""
	}
	var out []register.Petitioner
	for i := range max(len(names), len(ids), len(phones)) {
		out = append(out, register.Petitioner{Name: at(names, i), IDNumber: at(ids, i), Phone: at(phones, i), Address: at(addrs, i)})
	}
	return out
}

// importCheck is a row checked and turned into what the register and the workflow take.
type importCheck struct {
	nc  register.NewCase
	ref string
	im  workflows.ImportedCase
}

// checkImport validates a row without leaving the process: registration's own validation
// (validate) for the petition, and the import's fields (reference, stage, dates, people).
func (s *Server) checkImport(r importRow) (importCheck, fieldErrors) {
	f := fieldErrors{}
	now := s.now()
	ref := strings.TrimSpace(r.ExternalRef)
	switch {
	case ref == "":
		f["external_ref"] = "is required (the case's number in the earlier system)"
	case utf8.RuneCountInString(ref) > register.MaxExternalRef || !validText(ref):
		f["external_ref"] = textProblem(ref, register.MaxExternalRef)
	}
	times := map[string]*time.Time{}
	for _, d := range []struct{ field, v string }{
		{"received_at", r.ReceivedAt}, {"accepted_at", r.AcceptedAt}, {"replied_at", r.RepliedAt},
	} {
		v := strings.TrimSpace(d.v)
		if v == "" {
			continue
		}
		t, ok := parseImportTime(v)
		switch {
		case !ok:
			f[d.field] = errImportTime
		case !inYearRange(t):
			f[d.field] = errYearRange.Error()
		case t.After(now.Add(receivedSkew)):
			f[d.field] = "must not be in the future"
		default:
			times[d.field] = &t
		}
	}
	req := petitionRequest{
		Channel:  importCode(labels.KindChannel, r.Channel, nil),
		Category: importCode(labels.KindCategory, r.Category, nil),
		Topic:    r.Topic, Content: r.Content, Location: r.Location,
		Petitioners: r.petitioners(), Policy: r.Policy,
	}
	if t := times["received_at"]; t != nil {
		req.ReceivedAt = t.Format(time.RFC3339Nano)
	}
	nc, err := s.validate(&req, "")
	var verr fieldErrors
	if errors.As(err, &verr) {
		for k, v := range verr {
			if _, ok := f[k]; !ok {
				f[k] = v
			}
		}
	}
	if strings.TrimSpace(r.ReceivedAt) == "" {
		f["received_at"] = "is required (when the petition was received)"
	}

	stage := workflows.Stage(importCode(labels.KindStage, r.Stage, stageWords))
	im := workflows.ImportedCase{
		ExternalRef: ref, Stage: stage, AcceptedAt: times["accepted_at"], RepliedAt: times["replied_at"],
		Unit: strings.TrimSpace(r.Unit), Handler: strings.TrimSpace(r.Handler), Leader: strings.TrimSpace(r.Leader),
	}
	for _, p := range []struct{ field, v string }{{"unit", im.Unit}, {"handler", im.Handler}, {"leader", im.Leader}} {
		if msg := textProblem(p.v, maxStaffIDLen); msg != "" {
			f[p.field] = msg
		}
	}
	accepted := stage == workflows.StageHandling || stage == workflows.StageReplied
	switch {
	case !slices.Contains(workflows.ImportStages, stage):
		f["stage"] = "must be registered (已登记待受理), handling (办理中) or replied (已答复): the stages a running case is imported in"
	case accepted:
		for _, need := range []struct{ field, v string }{{"unit", im.Unit}, {"handler", im.Handler}, {"accepted_at", strings.TrimSpace(r.AcceptedAt)}} {
			if need.v == "" && f[need.field] == "" {
				f[need.field] = "is required for a case in stage " + string(stage)
			}
		}
		if stage == workflows.StageReplied && strings.TrimSpace(r.RepliedAt) == "" {
			f["replied_at"] = "is required for a case in stage replied"
		}
		if stage == workflows.StageHandling && strings.TrimSpace(r.RepliedAt) != "" && f["replied_at"] == "" {
			f["replied_at"] = "a case in stage handling has not been replied to: leave it empty, or give stage replied"
		}
	default: // registered
		for _, p := range []struct{ field, v string }{{"accepted_at", r.AcceptedAt}, {"replied_at", r.RepliedAt}, {"handler", im.Handler}} {
			if strings.TrimSpace(p.v) != "" && f[p.field] == "" {
				f[p.field] = "a case in stage registered has not been accepted: leave it empty, or give stage handling"
			}
		}
	}
	f.addService(r, &im, now)
	// The dates in their order, compared as days: the earlier system may have kept only dates.
	day := func(t *time.Time) string { return t.In(shanghai).Format(time.DateOnly) }
	if rcv, acc := times["received_at"], times["accepted_at"]; rcv != nil && acc != nil && day(acc) < day(rcv) {
		f["accepted_at"] = "must not be before received_at"
	}
	if acc, rep := times["accepted_at"], times["replied_at"]; acc != nil && rep != nil && day(rep) < day(acc) {
		f["replied_at"] = "must not be before accepted_at"
	}
	if r.unreadable != "" {
		f["row"] = r.unreadable
	}
	if len(f) > 0 {
		return importCheck{}, f
	}
	nc.SuggestedUnit = im.Unit
	return importCheck{nc: nc, ref: ref, im: im}, nil
}

// addService reads a row's service date and method (送达; optional, both or neither) into im
// and checks them with the reply action's own check (workflows.CheckImportedService), whose
// words the refusal keeps. A date alone is the start of that day, as the action reads it.
func (f fieldErrors) addService(r importRow, im *workflows.ImportedCase, now time.Time) {
	served, method := strings.TrimSpace(r.ServedAt), strings.TrimSpace(r.ServiceMethod)
	if code, ok := serviceWords[method]; ok {
		method = code
	} else {
		method = strings.ToLower(method)
	}
	im.ServiceMethod = method
	if served != "" {
		t, ok := parseImportTime(served)
		switch {
		case !ok:
			f["served_at"] = errImportTime
			return
		case !inYearRange(t):
			f["served_at"] = errYearRange.Error()
			return
		}
		im.ServedAt = &t
	}
	if im.ServedAt == nil && method == "" {
		return
	}
	if im.Stage != workflows.StageReplied {
		for _, p := range []struct{ field, v string }{{"served_at", served}, {"service_method", method}} {
			if p.v != "" && f[p.field] == "" && f["stage"] == "" {
				f[p.field] = "only a replied case has been served its answer (送达): leave it empty, or give stage replied"
			}
		}
		return
	}
	if im.RepliedAt == nil {
		return // replied_at is missing or wrong, and said so
	}
	err := workflows.CheckImportedService(now, *im)
	if err == nil {
		return
	}
	msg := err.Error()
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		msg = app.Message()
	}
	field := "served_at"
	if im.ServedAt != nil && !slices.Contains(serviceMethods, method) {
		field = "service_method"
	}
	f[field] = msg
}

// reasonOf words a refusal: each field and what is wrong with it, as registration words it.
func reasonOf(f fieldErrors) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + f[k]
	}
	return strings.Join(parts, "; ")
}

// importOne brings one row in.
func (s *Server) importOne(ctx context.Context, imp caseImporter, r importRow, clerk workflows.Actor) importResult {
	res := importResult{ExternalRef: strings.TrimSpace(r.ExternalRef), Status: importRefused}
	chk, f := s.checkImport(r)
	if f != nil {
		res.Reason = reasonOf(f)
		return res
	}
	// What needs the register: the policy allowed here, the units and people named.
	if err := s.checkPolicyAllowed(ctx, chk.nc.Policy); err != nil {
		res.Reason = refusalReason(err)
		return res
	}
	if f, err := s.checkImportDirectory(ctx, chk.im); err != nil {
		res.Reason = refusalReason(err)
		return res
	} else if len(f) > 0 {
		res.Reason = reasonOf(f)
		return res
	}
	if chk.nc.SuggestedUnit == "" {
		unit, err := s.reg.Route(ctx, chk.nc.Category, chk.nc.Topic)
		if err != nil && !errors.Is(err, register.ErrNotFound) {
			res.Reason = refusalReason(err)
			return res
		}
		chk.nc.SuggestedUnit = unit
	}
	chk.nc.RegisteredBy = clerk.ID
	chk.nc.RegisteredAt = s.now()
	var created bool
	row, err := within(ctx, registerWait, func(ctx context.Context) (register.Case, error) {
		c, made, err := imp.Import(ctx, chk.nc, chk.ref)
		created = made
		return c, err
	})
	var repeat *register.RepeatError
	switch {
	case errors.As(err, &repeat):
		what := "an open case: register this submission there as a repeat petition (重复信访), or merge the two in the earlier system first"
		if repeat.Case.Stage == string(workflows.StageTerminated) {
			what = "a matter terminated after re-review (三级终结), which is not accepted again"
		}
		res.Reason = "petitioners: the same petitioner and topic as case " + repeat.Case.CaseNo + ", " + what
		res.CaseNo = repeat.Case.CaseNo
		return res
	case errors.Is(err, register.ErrConflict):
		res.Reason = "external_ref: " + strings.TrimPrefix(err.Error(), register.ErrConflict.Error()+": ")
		return res
	case err != nil:
		res.Reason = refusalReason(err)
		return res
	}
	res.CaseNo = row.CaseNo
	if created {
		res.Status, res.QueryCode = importImported, row.QueryCode
	} else {
		res.Status = importExisting
		res.Stage, res.Due, res.Overdue, res.EscalationLevel = row.Stage, row.DueAt, row.Overdue, row.EscalationLevel
		if row.Seq != register.ImportedSeq {
			return res
		}
		// Imported before, but its workflow never reported: start it now (below).
	}
	state, err := s.startImported(ctx, row, clerk, chk.im)
	if err != nil {
		s.log.WarnContext(ctx, "imported case's workflow not confirmed", "case_no", row.CaseNo, "error", err)
		_, body := classify(err)
		msg, _ := body["error"].(string)
		res.Reason = "the case is in the register, but its workflow has not confirmed (" + msg + "): import the file again to finish it"
		return res
	}
	res.Stage, res.Overdue, res.EscalationLevel = string(state.Stage), state.Overdue, state.EscalationLevel
	if d := state.Deadline; d != nil && !d.AwaitingService {
		due := d.Due
		res.Due = &due
	}
	return res
}

// refusalReason words an error for a refused row: the client's mistakes as classify says them;
// an outage as such, without internals.
func refusalReason(err error) string {
	status, body := classify(err)
	msg, _ := body["error"].(string)
	if fields, ok := body["fields"].(map[string]string); ok && len(fields) > 0 {
		return reasonOf(fields)
	}
	if status >= 500 {
		return "not imported now: " + msg + " (import the file again later; imported rows answer \"existing\")"
	}
	return msg
}

// checkImportDirectory checks the unit and people a row names against the directory.
func (s *Server) checkImportDirectory(ctx context.Context, im workflows.ImportedCase) (fieldErrors, error) {
	f := fieldErrors{}
	if im.Unit != "" {
		if _, err := s.reg.Unit(ctx, im.Unit); errors.Is(err, register.ErrNotFound) {
			f["unit"] = "unknown unit " + strconv.Quote(im.Unit) + " (GET /api/v1/units lists them)"
		} else if err != nil {
			return nil, err
		}
	}
	for _, p := range []struct{ field, id string }{{"handler", im.Handler}, {"leader", im.Leader}} {
		if p.id == "" {
			continue
		}
		if _, err := s.reg.Staff(ctx, p.id); errors.Is(err, register.ErrNotFound) {
			f[p.field] = "no staff member with ID " + strconv.Quote(p.id)
		} else if err != nil {
			return nil, err
		}
	}
	return f, nil
}

// startImported starts an imported case's workflow (or attaches to it) and waits until it has
// recorded the imported history and set its clock, not for the ladder it may climb next.
func (s *Server) startImported(ctx context.Context, row register.Case, clerk workflows.Actor, im workflows.ImportedCase) (workflows.CaseState, error) {
	policy, clerk, err := s.startingWith(ctx, row, clerk)
	if err != nil {
		return workflows.CaseState{}, err
	}
	op := s.temporal.NewWithStartWorkflowOperation(intake.StartOptions(row, policy), workflows.WorkflowName,
		intake.Imported(row, policy, clerk, im))
	uctx, cancel := context.WithTimeout(ctx, s.updateWait)
	defer cancel()
	h, err := s.temporal.UpdateWithStartWorkflow(uctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{
			WorkflowID:   workflows.WorkflowID(row.CaseNo),
			UpdateName:   workflows.UpdateAwaitRegistration,
			UpdateID:     "register-" + row.CaseNo,
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	var state workflows.CaseState
	if err == nil {
		err = h.Get(uctx, &state)
	}
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		// Finished already (e.g. a window that had run out before the import): as it stands.
		return s.queryState(ctx, row.CaseNo, s.updateWait)
	}
	return state, err
}
