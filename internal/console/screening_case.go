package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// A listed dispute becomes a case (矛盾纠纷转为信访事项): on the screening page, each line of a
// unit's form not yet made a case has, for readers with the API's "turn screening disputes
// into cases" permission, a form with the petitioners the clerk gives (name, ID number,
// phone; named as registration names them, "petitioners[0].phone"), posted to POST
// /api/v1/screening/disputes/{id}/case. The API registers the line by registration's own path
// (its validation, repeat detection, routing) and links it; the console draws registration's
// receipt from the answer (the case number and the query code, shown once), or the form again
// with the API's field errors next to the inputs. Nothing typed is logged or put in a redirect.

// permScreeningCase is the API's permission (api/authz.go).
const permScreeningCase = "turn screening disputes into cases"

// scCaseFields are a petitioner row's inputs (the API's petitioner fields).
var scCaseFields = []string{"name", "id_number", "phone"}

// scCaseForm is one line's form as typed, with the API's complaints about it. The template
// draws it with the reception pages' helpers (rc-field, rc-refused).
type scCaseForm struct {
	Dispute int64
	Prefix  string // the inputs' ids: Prefix + inputID(name), e.g. d2-petitioners-0-name
	Key     string
	Values  url.Values
	Errors  map[string]string // by the form's input name ("petitioners", "petitioners[1].phone")
	Message string            // the refusal as the API words it, when it names no field
	Summary []regSummary
	Warn    string // registered but not confirmed: the number and the code
	Rows    int
	Open    bool // shown unfolded (it was refused)
}

func newSCCaseForm(id int64) *scCaseForm {
	return &scCaseForm{Dispute: id, Prefix: fmt.Sprintf("d%d-", id), Key: newKey(), Values: url.Values{},
		Errors: map[string]string{}, Rows: petitionerRows}
}

// Row is a petitioner row's input (i from 0).
func (f *scCaseForm) Row(i int, field string) regField {
	name := rowName("petitioners", i, field)
	return regField{Name: name, ID: f.Prefix + inputID(name), Value: f.Values.Get(name), Error: f.Errors[name]}
}

// Failed reports a refused form.
func (f *scCaseForm) Failed() bool { return f.Message != "" || len(f.Summary) > 0 }

// refused puts the API's field errors (named as the form's inputs, see placeErrors) next to
// the inputs and in the summary, in the form's order.
func (f *scCaseForm) refused(v *view, placed map[string]string, message string) {
	f.Open = true
	names := make([]string, 0, len(placed))
	for k := range placed {
		names = append(names, k)
	}
	slices.Sort(names) // "petitioners" first, then the rows in order
	for _, k := range names {
		text := errorText(v, k, placed[k])
		line := regSummary{Label: fieldLabel(v, k), Text: text}
		if m := rowKey.FindStringSubmatch(k); m != nil && m[1] == "petitioners" && slices.Contains(scCaseFields, m[3]) {
			if n, _ := strconv.Atoi(m[2]); n < f.Rows {
				f.Errors[k], line.ID = text, f.Prefix+inputID(k)
			}
		} else if k == "petitioners" {
			f.Errors[k], line.ID = text, f.Prefix+"petitioners"
		}
		f.Summary = append(f.Summary, line)
	}
	if len(placed) == 0 {
		f.Message = message
	}
}

// CaseForm is a line's form: the refused one as typed, or a new one.
func (p *scPage) CaseForm(d scDispute) *scCaseForm {
	if p.caseForm != nil && p.caseForm.Dispute == d.ID {
		return p.caseForm
	}
	return newSCCaseForm(d.ID)
}

// listed reports whether the page lists the line.
func (p *scPage) listed(id int64) bool {
	if p.View == nil {
		return false
	}
	for _, d := range p.View.Disputes {
		if d.ID == id {
			return true
		}
	}
	return false
}

// scCaseAnswer is what POST /api/v1/screening/disputes/{id}/case answers: the line, its case
// and registration's own answer (none when the line was a case already).
type scCaseAnswer struct {
	Dispute      scDispute  `json:"dispute"`
	CaseNo       string     `json:"case_no"`
	Linked       string     `json:"linked"`
	Registration *regAnswer `json:"registration"`
}

// screeningCase turns a listed dispute into a case with the petitioners typed, and shows the
// receipt; refused, the screening page again with the line's form open and the API's errors.
func (c *Console) screeningCase(w http.ResponseWriter, r *http.Request, v *view) {
	if err := checkForm(r); err != nil {
		c.problem(w, v, err)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		c.problem(w, v, &apiError{Status: http.StatusNotFound, Message: v.T("sc.case.bad_id")})
		return
	}
	month := strings.TrimSpace(r.PostForm.Get("month"))
	if !scMonth.MatchString(month) {
		month = v.Now.Format("2006-01")
	}
	back := "/screening?month=" + month
	form := newSCCaseForm(id)
	if k := strings.TrimSpace(r.PostForm.Get("key")); k != "" {
		form.Key = k
	}
	for _, i := range formRows(r.PostForm, "petitioners") {
		for _, f := range scCaseFields {
			if vs, ok := r.PostForm[rowName("petitioners", i, f)]; ok {
				form.Values[rowName("petitioners", i, f)] = vs
			}
		}
		form.Rows = max(form.Rows, i+1)
	}
	// The petitioners as registration builds them: empty rows left out, the rest as typed.
	built := buildRegistration(form.Values, c.cfg.Zone)
	body := map[string]any{"petitioners": built.Req.Petitioners}
	res := c.call(r, http.MethodPost, "/api/v1/screening/disputes/"+strconv.FormatInt(id, 10)+"/case", nil, body,
		http.Header{"Idempotency-Key": {form.Key}})
	if res.OK() {
		var ans scCaseAnswer
		if err := json.Unmarshal(res.Body, &ans); err != nil || ans.CaseNo == "" {
			c.problem(w, v, fmt.Errorf("the API answered something the console cannot read: %v", err))
			return
		}
		if ans.Registration == nil || ans.Registration.CaseNo == "" && ans.Registration.LinkedTo == "" {
			// The line was a case already (made by another clerk, or a second click).
			setFlash(w, "ok", v.Tf("sc.case.already", ans.CaseNo))
			http.Redirect(w, r, back, http.StatusSeeOther)
			return
		}
		c.showReceipt(w, r, v, *ans.Registration, receiptView{Back: back, BackText: "sc.case.back"}, "screening")
		return
	}
	if res.Status == http.StatusUnauthorized {
		c.needSignIn(w, r)
		return
	}
	ae := res.err()
	var extra struct {
		CaseNo    string `json:"case_no"`
		QueryCode string `json:"query_code"`
	}
	_ = json.Unmarshal(res.Body, &extra)
	switch {
	case res.Status >= 500:
		// The case may exist: the same line again finishes it rather than registering it twice.
		if extra.CaseNo != "" {
			form.Warn = v.Tf("reg.unconfirmed", extra.CaseNo, extra.QueryCode)
		} else {
			form.Warn = v.T("reg.unavailable")
		}
	case res.Status == http.StatusConflict && extra.CaseNo != "":
		ae.Message = v.Tf("reg.terminated", extra.CaseNo)
	}
	form.refused(v, placeErrors(ae.Fields, built.PetRows, nil), ae.Message)
	p := c.scLoad(r, v, month)
	p.caseForm = form
	if !p.listed(id) || !p.CanCase {
		// No form on the page to show it on (the line is of another month, or gone).
		p.Err = strings.TrimSpace(v.T("sc.case.refused") + " " + ae.Error())
	}
	c.scRender(w, v, refusedStatus(ae), p)
}
