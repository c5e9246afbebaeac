package console

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/petitions/petitions/workflows"
)

// Monthly dispute screening (矛盾纠纷排查): the month's round as GET
// /api/v1/screening/rounds/{month} answers it — every unit's report (filed, zero report,
// pending, late with its escalation level, missed), the lines filed, the ledger downloads —
// and for the units' staff the form that files their report (POST …/reports). Which units a
// reader sees, and whether they may file, is the API's business (its permissions and scope,
// the round's validator); the form is offered to readers with the API's "file screening
// reports" permission while a unit they see has not filed.

// The API's permissions (api/authz.go) the console's navigation and forms follow (GET
// /api/v1/auth/me lists the reader's).
const (
	permReadCases     = "read cases"
	permScreeningRead = "read screening rounds"
	permScreeningFile = "file screening reports"
)

// May reports whether the API gives the reader this permission (for showing links and forms;
// the API decides every request again).
func (v *view) May(perm string) bool {
	if v.Me == nil {
		return false
	}
	for _, p := range v.Me.Permissions {
		if p == perm {
			return true
		}
	}
	return false
}

// scRound is a round as GET /api/v1/screening/rounds lists it.
type scRound struct {
	Month    string     `json:"month"`
	Policy   string     `json:"policy"`
	OpenedAt time.Time  `json:"opened_at"`
	DueAt    time.Time  `json:"due_at"`
	ClosesAt time.Time  `json:"closes_at"`
	ClosedAt *time.Time `json:"closed_at"`
	Units    int        `json:"units"`
	Filed    int        `json:"filed"`
	Zero     int        `json:"zero"`
	Pending  int        `json:"pending"`
	Missed   int        `json:"missed"`
	Overdue  int        `json:"overdue"`
	Late     int        `json:"late"`
	Disputes int        `json:"disputes"`
}

// scReport is one unit's report in a round.
type scReport struct {
	Unit            string     `json:"unit"`
	UnitName        string     `json:"unit_name"`
	Status          string     `json:"status"`
	FiledAt         *time.Time `json:"filed_at"`
	FiledBy         string     `json:"filed_by"`
	FiledByName     string     `json:"filed_by_name"`
	Late            bool       `json:"late"`
	Overdue         bool       `json:"overdue"`
	EscalationLevel int        `json:"escalation_level"`
	Disputes        int        `json:"disputes"`
	Note            string     `json:"note"`
}

// Pending reports a unit that has not filed (and may still).
func (r scReport) Pending() bool { return r.Status == workflows.ReportPending }

// scDispute is one line of a filed form.
type scDispute struct {
	ID        int64  `json:"id"`
	Unit      string `json:"unit"`
	Item      int    `json:"item"`
	Kind      string `json:"kind"`
	Summary   string `json:"summary"`
	Leader    string `json:"leader"`
	Plan      string `json:"plan"`
	TimeLimit string `json:"time_limit"`
	CaseNo    string `json:"case_no"`
}

// scRoundView is GET /api/v1/screening/rounds/{month}.
type scRoundView struct {
	Round    scRound     `json:"round"`
	Reports  []scReport  `json:"reports"`
	Disputes []scDispute `json:"disputes"`
}

// scLine is one line of the filing form as typed.
type scLine struct {
	Kind, Summary, Leader, Plan, TimeLimit string
	Err                                    string // the API's complaint about this line
}

func (l scLine) empty() bool {
	return strings.TrimSpace(l.Summary+l.Leader+l.Plan+l.TimeLimit) == ""
}

// scForm is the filing form: a zero report (零报告) or the lines found.
type scForm struct {
	Key   string
	Unit  string
	Mode  string // "zero" or "lines"
	Note  string
	Lines []scLine
}

// Form sizes: three lines to start with, three more per click, at most the round's maximum.
const (
	scLinesStart = 3
	scLinesMore  = 3
)

// scPage is the screening page's data.
type scPage struct {
	Month   string
	Current bool // the office's current month
	Rounds  []scRound
	View    *scRoundView
	Missing bool   // no round for the month (yet)
	Err     string // the round could not be read
	// Filing: the units the reader sees that have not filed (the form's choice), and the form.
	Fileable []scReport
	CanFile  bool
	Form     scForm
	Error    string            // the API's refusal of the form
	Fields   map[string]string // its field errors other than the lines'
	// Turning a listed line into a case (screening_case.go): offered by the API's permission,
	// per line not yet a case; caseForm is the refused one, as typed.
	CanCase  bool
	caseForm *scCaseForm
}

// Kinds are the kinds of a form's line (矛盾纠纷, 信访苗头).
func (p *scPage) Kinds() []string {
	return []string{workflows.DisputeKindDispute, workflows.DisputeKindPetitionSign}
}

// Closed reports a round that no longer takes reports.
func (p *scPage) Closed() bool { return p.View != nil && p.View.Round.ClosedAt != nil }

var scMonth = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

// scMonthOf is the month asked for, or the office's current month; ok is false for a month
// written otherwise.
func scMonthOf(v *view, raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return v.Now.Format("2006-01"), true
	}
	return raw, scMonth.MatchString(raw)
}

// MonthText words a month ("2026年5月", "May 2026").
func (v *view) MonthText(month string) string {
	t, err := time.ParseInLocation("2006-01", month, v.c.cfg.Zone)
	if err != nil {
		return month
	}
	if v.Lang == "en" {
		return t.Format("January 2006")
	}
	return strconv.Itoa(t.Year()) + "年" + strconv.Itoa(int(t.Month())) + "月"
}

// load reads the rounds and the month's round side by side.
func (c *Console) scLoad(r *http.Request, v *view, month string) *scPage {
	p := &scPage{Month: month, Current: month == v.Now.Format("2006-01"), Fields: map[string]string{}}
	var (
		wg     sync.WaitGroup
		rounds struct {
			Rounds []scRound `json:"rounds"`
		}
		view   scRoundView
		rErr   error
		vErr   error
		status int
	)
	wg.Go(func() { rErr = c.get(r, "/api/v1/screening/rounds", nil).decode(&rounds) })
	wg.Go(func() {
		res := c.get(r, "/api/v1/screening/rounds/"+month, nil)
		status, vErr = res.Status, res.decode(&view)
	})
	wg.Wait()
	if rErr == nil {
		p.Rounds = rounds.Rounds
	}
	switch {
	case vErr == nil:
		p.View = &view
		for _, rep := range view.Reports {
			if rep.Pending() {
				p.Fileable = append(p.Fileable, rep)
			}
		}
	case status == http.StatusNotFound:
		p.Missing = true
	default:
		p.Err = vErr.Error()
	}
	p.CanFile = v.May(permScreeningFile) && p.View != nil && !p.Closed() && len(p.Fileable) > 0
	p.CanCase = v.May(permScreeningCase)
	p.Form = scForm{Key: newKey(), Mode: "lines", Lines: make([]scLine, scLinesStart)}
	if v.Me != nil {
		for _, rep := range p.Fileable {
			if rep.Unit == v.Me.Unit {
				p.Form.Unit = rep.Unit
			}
		}
	}
	if p.Form.Unit == "" && len(p.Fileable) > 0 {
		p.Form.Unit = p.Fileable[0].Unit
	}
	return p
}

func (c *Console) screeningPage(w http.ResponseWriter, r *http.Request, v *view) {
	month, ok := scMonthOf(v, r.URL.Query().Get("month"))
	if !ok {
		c.problem(w, v, &apiError{Status: http.StatusBadRequest, Message: v.T("sc.bad_month")})
		return
	}
	p := c.scLoad(r, v, month)
	c.scRender(w, v, http.StatusOK, p)
}

func (c *Console) scRender(w http.ResponseWriter, v *view, status int, p *scPage) {
	v.Title = v.Tf("sc.title_of", v.MonthText(p.Month))
	v.Nav = "screening"
	v.Data = p
	c.render(w, status, "screening", v)
}

// scFormOf reads the submitted form.
func scFormOf(f url.Values) scForm {
	form := scForm{Key: strings.TrimSpace(f.Get("key")), Unit: strings.TrimSpace(f.Get("unit")),
		Mode: f.Get("mode"), Note: f.Get("note")}
	n, err := strconv.Atoi(f.Get("rows"))
	if err != nil || n < 1 {
		n = scLinesStart
	}
	n = min(n, workflows.MaxScreeningDisputes)
	for i := range n {
		at := strconv.Itoa(i)
		form.Lines = append(form.Lines, scLine{Kind: f.Get("kind-" + at), Summary: f.Get("summary-" + at),
			Leader: f.Get("leader-" + at), Plan: f.Get("plan-" + at), TimeLimit: f.Get("time_limit-" + at)})
	}
	return form
}

// scLineField reads the API's field name of a line, "disputes[2]" or "disputes[2].summary".
var scLineField = regexp.MustCompile(`^disputes\[([0-9]+)\]`)

// screeningFile files the unit's report: POST /api/v1/screening/rounds/{month}/reports with the
// form's Idempotency-Key (a double click files once). "More lines" re-renders the form with
// what was typed and three more lines, without calling the API.
func (c *Console) screeningFile(w http.ResponseWriter, r *http.Request, v *view) {
	month := r.PathValue("month")
	if err := checkForm(r); err != nil {
		c.problem(w, v, err)
		return
	}
	if !scMonth.MatchString(month) {
		c.problem(w, v, &apiError{Status: http.StatusBadRequest, Message: v.T("sc.bad_month")})
		return
	}
	form := scFormOf(r.PostForm)
	if r.PostForm.Get("more") != "" {
		p := c.scLoad(r, v, month)
		form.Lines = append(form.Lines, make([]scLine, min(scLinesMore, max(workflows.MaxScreeningDisputes-len(form.Lines), 0)))...)
		form.Mode = "lines"
		p.Form = form
		c.scRender(w, v, http.StatusOK, p)
		return
	}
	body := map[string]any{"unit": form.Unit, "note": strings.TrimSpace(form.Note)}
	var rows []int // the form's line of each line sent
	if form.Mode == "zero" {
		body["zero"] = true
	} else {
		var lines []workflows.ScreeningDispute
		for i, l := range form.Lines {
			if l.empty() {
				continue
			}
			lines = append(lines, workflows.ScreeningDispute{Kind: l.Kind, Summary: strings.TrimSpace(l.Summary),
				Leader: strings.TrimSpace(l.Leader), Plan: strings.TrimSpace(l.Plan), TimeLimit: strings.TrimSpace(l.TimeLimit)})
			rows = append(rows, i)
		}
		body["zero"], body["disputes"] = false, lines
	}
	if form.Key == "" {
		form.Key = newKey()
	}
	res := c.call(r, http.MethodPost, "/api/v1/screening/rounds/"+month+"/reports", nil, body,
		http.Header{"Idempotency-Key": {form.Key}})
	back := "/screening?month=" + month
	switch {
	case res.OK():
		done := "sc.done"
		if form.Mode == "zero" {
			done = "sc.done_zero"
		}
		setFlash(w, "ok", v.T(done))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	case res.Status == http.StatusUnauthorized:
		c.needSignIn(w, r)
		return
	}
	// Refused: the form again with what was typed and why.
	ae := res.err()
	p := c.scLoad(r, v, month)
	p.Form, p.Error = form, ae.Message
	for field, msgText := range ae.Fields {
		if m := scLineField.FindStringSubmatch(field); m != nil {
			if i, err := strconv.Atoi(m[1]); err == nil && i < len(rows) {
				l := &p.Form.Lines[rows[i]]
				l.Err = strings.TrimSpace(l.Err + " " + strings.TrimPrefix(field, m[0]) + " " + msgText)
				continue
			}
		}
		p.Fields[field] = msgText
	}
	status := ae.Status
	if status < 400 {
		status = http.StatusBadGateway
	}
	c.scRender(w, v, status, p)
}

// screeningLedger passes a round's ledger (CSV or Excel) through from the API.
func (c *Console) screeningLedger(w http.ResponseWriter, r *http.Request, v *view) {
	month, format := r.PathValue("month"), r.PathValue("format")
	if !scMonth.MatchString(month) || (format != "csv" && format != "xlsx") {
		c.problem(w, v, &apiError{Status: http.StatusNotFound, Message: v.T("sc.no_ledger")})
		return
	}
	res := c.get(r, "/api/v1/screening/rounds/"+month+"/ledger."+format, nil)
	if !res.OK() {
		c.problem(w, v, res.err())
		return
	}
	passThrough(w, res)
}
