package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/petitions/petitions/internal/labels"
	"github.com/petitions/petitions/internal/register"
	"github.com/petitions/petitions/workflows"
)

// Monthly dispute screening (矛盾纠纷排查, seed 002). The round runs in its workflow
// (workflows/screening.go, screening-<YYYY-MM>), which the monthly schedule opens; the
// register holds its projection, which every read here comes from:
//
//	GET  /api/v1/screening/rounds                       rounds, newest first, with their figures
//	GET  /api/v1/screening/rounds/{month}               who filed, who filed zero, who is late (with the level), the lines
//	POST /api/v1/screening/rounds/{month}/reports       the signed-in unit's form or zero report (Idempotency-Key)
//	GET  /api/v1/screening/rounds/{month}/ledger.csv    the month's ledger (台账); also .xlsx
//	POST /api/v1/screening/disputes/{id}/case           a listed dispute becomes a case (registration's own path)
//
// Scope (authz.go): the petition office (clerks, supervisors) sees every unit; a handler sees
// their unit's report, a leader their unit's and those below it.

// screeningStore is the register's screening part (internal/register/screening.go).
type screeningStore interface {
	ScreeningRounds(ctx context.Context, units []string) ([]register.ScreeningRound, error)
	ScreeningRoundOf(ctx context.Context, month string, units []string) (register.ScreeningRound, error)
	ScreeningReports(ctx context.Context, month string, units []string) ([]register.ScreeningReport, error)
	ScreeningDisputes(ctx context.Context, month string, units []string) ([]register.ScreeningDispute, error)
	ScreeningDisputeByID(ctx context.Context, id int64) (register.ScreeningDispute, error)
	LinkScreeningDispute(ctx context.Context, id int64, caseNo, by string, at time.Time) (register.ScreeningDispute, error)
	ScreeningEvents(ctx context.Context, month string, units []string) ([]register.ScreeningEvent, error)
}

// screening is the register's screening part, or errNotConfigured. Its calls go through
// screeningCall, which puts the register's deadline on each.
func (s *Server) screening() (screeningStore, error) {
	r := s.reg
	if t, ok := r.(timedRegister); ok {
		r = t.r
	}
	st, ok := r.(screeningStore)
	if !ok {
		return nil, errNotConfigured
	}
	return st, nil
}

func screeningCall[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	return within(ctx, registerWait, f)
}

var monthPattern = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

func monthParam(c *gin.Context) (string, error) {
	m := c.Param("month")
	if !monthPattern.MatchString(m) {
		return "", fieldErrors{"month": "must be a month written YYYY-MM, e.g. 2026-05"}
	}
	return m, nil
}

// screeningUnits are the units whose reports p sees (nil: every unit).
func (s *Server) screeningUnits(ctx context.Context, p Principal) ([]string, error) {
	sc, err := s.caseScope(ctx, p)
	if err != nil || sc == nil {
		return nil, err
	}
	if sc.LedgerUnits == nil {
		return []string{}, nil
	}
	return sc.LedgerUnits, nil
}

func (s *Server) unitNames(ctx context.Context) map[string]string {
	names := map[string]string{}
	if units, err := s.reg.Units(ctx); err == nil {
		for _, u := range units {
			names[u.Code] = u.Name
		}
	}
	return names
}

// listScreeningRounds is GET /api/v1/screening/rounds.
func (s *Server) listScreeningRounds(c *gin.Context) {
	ctx := c.Request.Context()
	st, err := s.screening()
	if err != nil {
		s.fail(c, err)
		return
	}
	units, err := s.screeningUnits(ctx, principal(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	rounds, err := screeningCall(ctx, func(ctx context.Context) ([]register.ScreeningRound, error) { return st.ScreeningRounds(ctx, units) })
	if err != nil {
		s.fail(c, err)
		return
	}
	if rounds == nil {
		rounds = []register.ScreeningRound{}
	}
	s.answer(c, http.StatusOK, gin.H{"rounds": rounds})
}

// screeningView is one round as the reader may see it.
type screeningView struct {
	Round    register.ScreeningRound     `json:"round"`
	Reports  []screeningReportView       `json:"reports"`
	Disputes []register.ScreeningDispute `json:"disputes"`
	// Who filed a form, who filed zero, who has not filed (late: past the due instant, with
	// the escalation level), who missed the round (closed without a report).
	Filed   []string          `json:"filed"`
	Zero    []string          `json:"zero"`
	Pending []string          `json:"pending"`
	Late    []screeningLateAt `json:"late"`
	Missed  []string          `json:"missed"`
}

type screeningReportView struct {
	register.ScreeningReport
	UnitName    string `json:"unit_name,omitempty"`
	StatusLabel string `json:"status_label"`
}

type screeningLateAt struct {
	Unit            string `json:"unit"`
	UnitName        string `json:"unit_name,omitempty"`
	EscalationLevel int    `json:"escalation_level"`
	// Filed: a late report that has come in meanwhile (filed after the due instant).
	Filed bool `json:"filed"`
}

func (s *Server) screeningView(c *gin.Context) (screeningView, string, bool) {
	ctx := c.Request.Context()
	month, err := monthParam(c)
	if err != nil {
		s.fail(c, err)
		return screeningView{}, "", false
	}
	st, err := s.screening()
	if err != nil {
		s.fail(c, err)
		return screeningView{}, "", false
	}
	units, err := s.screeningUnits(ctx, principal(c))
	if err != nil {
		s.fail(c, err)
		return screeningView{}, "", false
	}
	v := screeningView{Filed: []string{}, Zero: []string{}, Pending: []string{}, Late: []screeningLateAt{}, Missed: []string{}}
	v.Round, err = screeningCall(ctx, func(ctx context.Context) (register.ScreeningRound, error) {
		return st.ScreeningRoundOf(ctx, month, units)
	})
	if errors.Is(err, register.ErrNotFound) {
		err = &notFoundError{what: "screening round " + month}
	}
	if err != nil {
		s.fail(c, err)
		return screeningView{}, "", false
	}
	reports, err := screeningCall(ctx, func(ctx context.Context) ([]register.ScreeningReport, error) {
		return st.ScreeningReports(ctx, month, units)
	})
	if err != nil {
		s.fail(c, err)
		return screeningView{}, "", false
	}
	v.Disputes, err = screeningCall(ctx, func(ctx context.Context) ([]register.ScreeningDispute, error) {
		return st.ScreeningDisputes(ctx, month, units)
	})
	if err != nil {
		s.fail(c, err)
		return screeningView{}, "", false
	}
	if v.Disputes == nil {
		v.Disputes = []register.ScreeningDispute{}
	}
	names := s.unitNames(ctx)
	v.Reports = make([]screeningReportView, 0, len(reports))
	for _, r := range reports {
		v.Reports = append(v.Reports, screeningReportView{ScreeningReport: r, UnitName: names[r.Unit],
			StatusLabel: labels.Zh(labels.KindScreeningStatus, r.Status)})
		switch r.Status {
		case workflows.ReportFiled:
			v.Filed = append(v.Filed, r.Unit)
		case workflows.ReportZero:
			v.Zero = append(v.Zero, r.Unit)
		case workflows.ReportMissed:
			v.Missed = append(v.Missed, r.Unit)
		default:
			v.Pending = append(v.Pending, r.Unit)
		}
		if r.Overdue || r.Late || r.Status == workflows.ReportMissed {
			v.Late = append(v.Late, screeningLateAt{Unit: r.Unit, UnitName: names[r.Unit], EscalationLevel: r.EscalationLevel,
				Filed: r.Status == workflows.ReportFiled || r.Status == workflows.ReportZero})
		}
	}
	return v, month, true
}

// getScreeningRound is GET /api/v1/screening/rounds/{month}.
func (s *Server) getScreeningRound(c *gin.Context) {
	v, _, ok := s.screeningView(c)
	if !ok {
		return
	}
	s.answer(c, http.StatusOK, v)
}

// screeningReportRequest is the body of POST /api/v1/screening/rounds/{month}/reports.
type screeningReportRequest struct {
	// Unit: the filing unit; the signed-in person's own by default (a leader may name a unit
	// below theirs).
	Unit     string                       `json:"unit"`
	Zero     bool                         `json:"zero"`
	Disputes []workflows.ScreeningDispute `json:"disputes"`
	Note     string                       `json:"note"`
}

func (r *screeningReportRequest) validate(key string) error {
	f := fieldErrors{}
	r.Unit = strings.TrimSpace(r.Unit)
	if len(r.Unit) > 64 || !validText(r.Unit) {
		f["unit"] = "must be a unit code of at most 64 characters"
	}
	r.Note = strings.TrimSpace(r.Note)
	if msg := textProblem(r.Note, 5000); msg != "" {
		f["note"] = msg
	}
	switch {
	case r.Zero && len(r.Disputes) > 0:
		f["disputes"] = "a zero report (零报告) lists no disputes: leave them out or set zero to false"
	case !r.Zero && len(r.Disputes) == 0:
		f["disputes"] = "list the disputes and petition signs found, or file a zero report (\"zero\": true)"
	case len(r.Disputes) > workflows.MaxScreeningDisputes:
		f["disputes"] = "at most " + strconv.Itoa(workflows.MaxScreeningDisputes) + " lines per report"
	}
	for i := range r.Disputes {
		if len(r.Disputes) > workflows.MaxScreeningDisputes {
			break
		}
		d := &r.Disputes[i]
		for _, p := range []*string{&d.Kind, &d.Summary, &d.Leader, &d.Plan, &d.TimeLimit} {
			*p = strings.TrimSpace(*p)
		}
		at := fmt.Sprintf("disputes[%d]", i)
		for field, v := range map[string]string{"summary": d.Summary, "leader": d.Leader, "plan": d.Plan} {
			if msg := textProblem(v, 5000); msg != "" {
				f[at+"."+field] = msg
			}
		}
		if msg := workflows.ScreeningDisputeProblem(*d); msg != "" && f[at] == "" {
			f[at] = msg
		}
	}
	checkIdempotencyKey(key, f)
	if len(f) > 0 {
		return f
	}
	return nil
}

// fileScreeningReport is POST /api/v1/screening/rounds/{month}/reports: the filing is the
// round's update (its validator checks role, unit and the round); the answer is the unit's
// report as the register then holds it, and the round's state.
func (s *Server) fileScreeningReport(c *gin.Context) {
	month, err := monthParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var req screeningReportRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	key := c.GetHeader(headerIdempotencyKey)
	if err := req.validate(key); err != nil {
		s.fail(c, err)
		return
	}
	if key == "" {
		s.fail(c, errKeyRequired("a screening report", "report", "a retry after a timeout files it once"))
		return
	}
	if s.temporal == nil {
		s.fail(c, errNotConfigured)
		return
	}
	ctx := c.Request.Context()
	p := principal(c)
	actor, err := s.actorOf(ctx, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	in := workflows.ScreeningFiling{Actor: actor, Unit: req.Unit, Zero: req.Zero, Disputes: req.Disputes, Note: req.Note}
	if in.Unit == "" {
		in.Unit = actor.Unit
	}
	uctx, cancel := context.WithTimeout(ctx, s.updateWait)
	defer cancel()
	uctx, unwatch := s.watchTemporal(uctx)
	h, err := s.temporal.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflows.ScreeningRoundID(month),
		UpdateName:   workflows.UpdateFileScreening,
		UpdateID:     "screening-" + in.Unit + "-" + p.StaffID + "-" + key,
		Args:         []any{in},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var state workflows.ScreeningState
	if err == nil {
		err = h.Get(uctx, &state)
	}
	err = unwatch(err)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		err = s.explainMissingRound(ctx, month)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	var report *workflows.ScreeningUnit
	for _, u := range state.Units {
		if u.Unit == in.Unit {
			report = &u
		}
	}
	s.answer(c, http.StatusOK, gin.H{"month": month, "report": report, "round": state})
}

// explainMissingRound: a filing for a month without a running round is a 404 when the
// register has no such round either, and a 422 when the round has closed.
func (s *Server) explainMissingRound(ctx context.Context, month string) error {
	st, err := s.screening()
	if err != nil {
		return err
	}
	_, err = screeningCall(ctx, func(ctx context.Context) (register.ScreeningRound, error) {
		return st.ScreeningRoundOf(ctx, month, []string{})
	})
	switch {
	case errors.Is(err, register.ErrNotFound):
		return &notFoundError{what: "screening round " + month}
	case err != nil:
		return err
	}
	return &unprocessableError{msg: "the screening round of " + month + " has closed; reports are no longer taken"}
}

// disputeCaseRequest is the body of POST /api/v1/screening/disputes/{id}/case: what the
// registration needs besides the form's line (the petitioners above all). Left out: channel
// visit, category appeal, the line's summary as topic, the line itself as content.
type disputeCaseRequest struct {
	Channel     string                `json:"channel"`
	Category    string                `json:"category"`
	Topic       string                `json:"topic"`
	Content     string                `json:"content"`
	Petitioners []register.Petitioner `json:"petitioners"`
	GroupSize   *int                  `json:"group_size,omitempty"`
	Location    string                `json:"location"`
	Policy      string                `json:"policy"`
	ReceivedAt  string                `json:"received_at"`
}

// disputeCase is POST /api/v1/screening/disputes/{id}/case: a line of a unit's form becomes
// a case. The petition is registered by the registration endpoint itself (POST
// /api/v1/petitions, served in-process with the caller's own credentials and an
// Idempotency-Key of the line), so it goes through the same validation, repeat detection,
// routing and workflow start; the line is then linked to the case. Repeated, it answers the
// same case.
func (s *Server) disputeCase(c *gin.Context) {
	ctx := c.Request.Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		s.fail(c, fieldErrors{"id": "must be the number of a screening form's line"})
		return
	}
	var req disputeCaseRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	st, err := s.screening()
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := screeningCall(ctx, func(ctx context.Context) (register.ScreeningDispute, error) { return st.ScreeningDisputeByID(ctx, id) })
	if errors.Is(err, register.ErrNotFound) {
		err = &notFoundError{what: "screening dispute " + strconv.FormatInt(id, 10)}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if d.CaseNo != "" {
		s.answer(c, http.StatusOK, gin.H{"dispute": d, "case_no": d.CaseNo, "linked": "already"})
		return
	}
	body := map[string]any{
		"channel":     firstOf(req.Channel, "visit"),
		"category":    firstOf(req.Category, "appeal"),
		"topic":       firstOf(req.Topic, truncateRunes(d.Summary, maxTopic)),
		"content":     firstOf(req.Content, disputeContent(d)),
		"petitioners": req.Petitioners,
		"location":    req.Location,
		"policy":      req.Policy,
		"received_at": req.ReceivedAt,
	}
	if req.GroupSize != nil {
		body["group_size"] = *req.GroupSize
	}
	raw, _ := json.Marshal(body)
	// The registration, exactly as a client would send it, signed in as the caller.
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, "/api/v1/petitions", bytes.NewReader(raw))
	if err != nil {
		s.fail(c, err)
		return
	}
	for k, vs := range c.Request.Header {
		if k != "Content-Length" && k != headerIdempotencyKey {
			r.Header[k] = vs
		}
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(headerIdempotencyKey, "screening-dispute-"+strconv.FormatInt(id, 10))
	r.RemoteAddr = c.Request.RemoteAddr
	w := httptest.NewRecorder()
	s.engine.ServeHTTP(w, r)
	var reg map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &reg)
	caseNo, _ := reg["case_no"].(string)
	if w.Code >= 300 || caseNo == "" {
		// The registration's own answer (field errors, a terminated matter, an outage).
		for _, h := range []string{"Retry-After", "Cache-Control"} {
			if v := w.Header().Get(h); v != "" {
				c.Header(h, v)
			}
		}
		c.Data(w.Code, "application/json; charset=utf-8", w.Body.Bytes())
		return
	}
	p := principal(c)
	d, err = screeningCall(ctx, func(ctx context.Context) (register.ScreeningDispute, error) {
		return st.LinkScreeningDispute(ctx, id, caseNo, p.StaffID, s.now())
	})
	if errors.Is(err, register.ErrDisputeLinked) {
		err = fmt.Errorf("%w: %s", register.ErrConflict, err.Error())
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store") // the registration's answer carries the query code
	s.answer(c, w.Code, gin.H{"dispute": d, "case_no": caseNo, "registration": reg})
}

func firstOf(v, def string) string {
	if strings.TrimSpace(v) != "" {
		return v
	}
	return def
}

func truncateRunes(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) > n {
		return string(r[:n])
	}
	return string(r)
}

// disputeContent is a case's content made from a form's line.
func disputeContent(d register.ScreeningDispute) string {
	return fmt.Sprintf("矛盾纠纷排查 %s · %s 第%d项（%s）\n事由：%s\n包案领导：%s\n化解方案：%s\n化解时限：%s",
		d.Month, d.Unit, d.Item, labels.Zh(labels.KindDisputeKind, d.Kind), d.Summary, d.Leader, d.Plan, d.TimeLimit)
}

// screeningLedgerHeader: the month's ledger (矛盾纠纷排查台账), one row per line of a form,
// and one row for each unit with none (zero report, not filed).
var screeningLedgerHeader = []string{
	"月份", "单位", "报送情况", "报送时间", "报送人", "是否逾期报送", "督办级别",
	"序号", "类型", "事由", "包案领导", "化解方案", "化解时限", "转为信访事项编号",
}

// screeningLedger is GET /api/v1/screening/rounds/{month}/ledger.csv and .xlsx.
func (s *Server) screeningLedger(format string) gin.HandlerFunc {
	return func(c *gin.Context) {
		v, month, ok := s.screeningView(c)
		if !ok {
			return
		}
		names := s.unitNames(c.Request.Context())
		byUnit := map[string][]register.ScreeningDispute{}
		for _, d := range v.Disputes {
			byUnit[d.Unit] = append(byUnit[d.Unit], d)
		}
		yes := func(b bool) string {
			if b {
				return "是"
			}
			return "否"
		}
		rows := [][]exportCell{}
		for _, r := range v.Reports {
			unit := firstOf(names[r.Unit], r.Unit)
			filedAt, by := "", firstOf(r.FiledByName, r.FiledBy)
			if r.FiledAt != nil {
				filedAt = r.FiledAt.In(s.zone).Format(exportTimeLayout)
			}
			head := []exportCell{textCell(month), textCell(unit), textCell(labels.Zh(labels.KindScreeningStatus, r.Status)),
				textCell(filedAt), textCell(by), textCell(yes(r.Late || r.Overdue || r.Status == workflows.ReportMissed)), numCell(r.EscalationLevel)}
			lines := byUnit[r.Unit]
			if len(lines) == 0 {
				rows = append(rows, append(head, textCell(""), textCell(""), textCell(""), textCell(""), textCell(""), textCell(""), textCell("")))
				continue
			}
			for _, d := range lines {
				rows = append(rows, append(append([]exportCell{}, head...), numCell(d.Item),
					textCell(labels.Zh(labels.KindDisputeKind, d.Kind)), textCell(d.Summary), textCell(d.Leader),
					textCell(d.Plan), textCell(d.TimeLimit), textCell(d.CaseNo)))
			}
		}
		var body []byte
		var err error
		if format == formatXLSX {
			body, err = xlsxFile("矛盾纠纷排查台账", screeningLedgerHeader, rows)
		} else {
			body, err = csvFile(screeningLedgerHeader, rows)
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		s.sendFile(c, "矛盾纠纷排查台账-"+month, "screening-"+month, format, body)
	}
}
