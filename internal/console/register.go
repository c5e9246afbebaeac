package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/petitions/petitions/internal/labels"
	"github.com/petitions/petitions/workflows"
)

// Registration (登记): the form is the API's POST /api/v1/petitions body as inputs named after
// its fields ("topic", "petitioners[0].id_number"), so the API's field errors land next to the
// input they are about. The console checks nothing itself: the API decides what a valid
// petition is, whether it repeats an earlier one and where it is routed.

const (
	// datetimeLocal is the value of an <input type=datetime-local> (office zone).
	datetimeLocal = "2006-01-02T15:04"
	// Rows shown: petitioners and attachments (more come back when a form had more).
	petitionerRows = 3
	attachmentRows = 2
	// maxFormRow bounds the row index read from a form (the API allows 100 of each).
	maxFormRow = 1000
)

// Display order of the pickers; the API says which codes it takes.
var (
	channelDisplayOrder  = []string{"visit", "letter", "phone", "online", "hotline", "email"}
	categoryDisplayOrder = []string{"appeal", "suggestion", "inquiry", "accusation"}
	stageDisplayOrder    = []string{"registered", "handling", "replied", "review", "reviewed", "re_review", "closed", "terminated", "rejected", "withdrawn"}
)

// orderedCodes lists a kind's labelledCounts codes in the display order, unknown ones after.
func orderedCodes(kind string, order []string) []string {
	all := labels.Codes(kind)
	sort.Strings(all)
	out := make([]string, 0, len(all))
	for _, c := range order {
		if slices.Contains(all, c) {
			out = append(out, c)
		}
	}
	for _, c := range all {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// regTopFields are the form's single inputs, named as the API's fields.
var regTopFields = []string{"channel", "category", "topic", "content", "location", "received_at", "policy", "group_size"}

// Row fields the form has (the API's petitioner and attachment fields).
var (
	petitionerFields = []string{"name", "id_number", "phone", "address"}
	attachmentFields = []string{"name", "ref"}
)

// regRequest is the API's registration body (api/petitions.go petitionRequest).
type regRequest struct {
	Channel     string       `json:"channel"`
	Category    string       `json:"category"`
	Topic       string       `json:"topic"`
	Content     string       `json:"content"`
	Petitioners []petitioner `json:"petitioners"`
	GroupSize   *int         `json:"group_size,omitempty"`
	Location    string       `json:"location,omitempty"`
	Attachments []regAttach  `json:"attachments,omitempty"`
	Policy      string       `json:"policy,omitempty"`
	ReceivedAt  string       `json:"received_at,omitempty"`
}

type regAttach struct {
	Name string `json:"name"`
	Ref  string `json:"ref,omitempty"`
}

// regBuilt is a form turned into the request, with the form row of each listed row (empty rows
// are not sent, so the API's petitioners[1] may be the form's third row).
type regBuilt struct {
	Req        regRequest
	PetRows    []int
	AttRows    []int
	FormErrors map[string]string // inputs the console could not even put into JSON
}

var rowKey = regexp.MustCompile(`^(petitioners|attachments)\[(\d{1,4})\]\.([a-z_]+)$`)

// formRows lists the row indexes of group ("petitioners") present in the form, in order.
func formRows(form url.Values, group string) []int {
	seen := map[int]bool{}
	for k := range form {
		m := rowKey.FindStringSubmatch(k)
		if m == nil || m[1] != group {
			continue
		}
		if i, err := strconv.Atoi(m[2]); err == nil && i < maxFormRow {
			seen[i] = true
		}
	}
	out := make([]int, 0, len(seen))
	for i := range seen {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

func rowName(group string, i int, field string) string {
	return fmt.Sprintf("%s[%d].%s", group, i, field)
}

// buildRegistration turns the posted form into the API's body. Values go as typed (the API
// trims and checks them); rows whose fields are all empty are left out; received_at, a
// datetime-local in the office zone, becomes RFC 3339 with the zone's offset.
func buildRegistration(form url.Values, zone *time.Location) regBuilt {
	b := regBuilt{FormErrors: map[string]string{}}
	r := &b.Req
	r.Channel = form.Get("channel")
	r.Category = form.Get("category")
	r.Topic = form.Get("topic")
	r.Content = form.Get("content")
	r.Location = form.Get("location")
	r.Policy = form.Get("policy")
	r.ReceivedAt = receivedAt(form.Get("received_at"), zone)
	if v := strings.TrimSpace(form.Get("group_size")); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			r.GroupSize = &n
		} else {
			b.FormErrors["group_size"] = "reg.bad_number"
		}
	}
	r.Petitioners = []petitioner{}
	for _, i := range formRows(form, "petitioners") {
		get := func(f string) string { return form.Get(rowName("petitioners", i, f)) }
		p := petitioner{Name: get("name"), IDNumber: get("id_number"), Phone: get("phone"), Address: get("address")}
		if strings.TrimSpace(p.Name+p.IDNumber+p.Phone+p.Address) == "" {
			continue
		}
		r.Petitioners = append(r.Petitioners, p)
		b.PetRows = append(b.PetRows, i)
	}
	for _, i := range formRows(form, "attachments") {
		get := func(f string) string { return form.Get(rowName("attachments", i, f)) }
		a := regAttach{Name: get("name"), Ref: get("ref")}
		if strings.TrimSpace(a.Name+a.Ref) == "" {
			continue
		}
		r.Attachments = append(r.Attachments, a)
		b.AttRows = append(b.AttRows, i)
	}
	return b
}

// receivedAt is a datetime-local value as RFC 3339 in the office zone; anything else goes to
// the API as typed, which names the field.
func receivedAt(v string, zone *time.Location) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	for _, layout := range []string{datetimeLocal, "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, zone); err == nil {
			return t.Format(time.RFC3339)
		}
	}
	return v
}

// placeErrors maps the API's field names to the form's inputs: petitioners[k] is the k-th
// row sent, which is form row rows[k]. Errors of fields without an input stay under their
// API name (shown in the summary only).
func placeErrors(fields map[string]string, petRows, attRows []int) map[string]string {
	out := map[string]string{}
	for k, msg := range fields {
		if m := rowKey.FindStringSubmatch(k); m != nil {
			n, _ := strconv.Atoi(m[2])
			rows := petRows
			if m[1] == "attachments" {
				rows = attRows
			}
			if n < len(rows) {
				k = rowName(m[1], rows[n], m[3])
			}
		}
		out[k] = msg
	}
	return out
}

// inputID is an input's id: its name with brackets and dots as dashes
// ("petitioners[0].name" → "petitioners-0-name").
func inputID(name string) string {
	return strings.NewReplacer("[", "-", "].", "-", "]", "", ".", "-").Replace(name)
}

// regField is one input as the template draws it.
type regField struct {
	Name, ID, Value, Error string
}

// regSummary is one line of the error summary.
type regSummary struct {
	ID, Label, Text string
}

type policyOption struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Allowed     bool   `json:"allowed"`
	Listed      bool   `json:"listed"`
}

// regPage is the form page's data.
type regPage struct {
	v          *view
	Values     url.Values
	Errors     map[string]string
	Summary    []regSummary
	Message    string
	Warn       string // a registration left unconfirmed (503/504): its number and code
	Key        string
	PetRows    int
	AttRows    int
	Policies   []policyOption
	Channels   []string
	Categories []string
	Suggestion *suggestionView
	CanSubmit  bool
	Retry      bool
}

// F is a single input.
func (p *regPage) F(name string) regField {
	return regField{Name: name, ID: inputID(name), Value: p.Values.Get(name), Error: p.Errors[name]}
}

// Row is an input of a row ("petitioners", 0, "name").
func (p *regPage) Row(group string, i int, field string) regField {
	return p.F(rowName(group, i, field))
}

// errorText is an API field error in the reader's words: the API's detail, with the usual
// "is required" said in the reader's language and a bad ID number named.
func errorText(v *view, field, detail string) string {
	if strings.HasPrefix(detail, "reg.") {
		return v.T(detail)
	}
	if detail == "is required" {
		return v.T("reg.err.required")
	}
	if strings.HasSuffix(field, "id_number") && v.Lang == labels.Chinese {
		return v.T("reg.bad_id") + "：" + detail
	}
	return detail
}

// fieldLabel names an input in the summary.
func fieldLabel(v *view, name string) string {
	if m := rowKey.FindStringSubmatch(name); m != nil {
		n, _ := strconv.Atoi(m[2])
		if m[1] == "petitioners" {
			return v.T("reg.petitioners") + " " + v.Tf("reg.row", n+1) + " · " + v.T("reg.p."+m[3])
		}
		return v.T("reg.attachments") + " " + v.Tf("reg.arow", n+1) + " · " + v.T("reg.a."+m[3])
	}
	if slices.Contains(regTopFields, name) || name == "petitioners" || name == "attachments" {
		return v.T("reg." + name)
	}
	return v.T("reg.field_general") + " (" + name + ")"
}

// summaryTarget is the id a summary line links to.
func summaryTarget(name string) string {
	switch {
	case rowKey.MatchString(name), slices.Contains(regTopFields, name):
		return inputID(name)
	case name == "petitioners", name == "attachments":
		return "fs-" + name
	}
	return "register-form"
}

func (c *Console) newRegPage(r *http.Request, v *view, values url.Values) *regPage {
	p := &regPage{v: v, Values: values, Errors: map[string]string{}, Key: newKey(),
		PetRows: petitionerRows, AttRows: attachmentRows,
		Channels: orderedCodes(labels.KindChannel, channelDisplayOrder), Categories: orderedCodes(labels.KindCategory, categoryDisplayOrder),
		CanSubmit: v.Can(string(workflows.RoleClerk))}
	for _, i := range formRows(values, "petitioners") {
		p.PetRows = max(p.PetRows, i+1)
	}
	for _, i := range formRows(values, "attachments") {
		p.AttRows = max(p.AttRows, i+1)
	}
	var pol struct {
		Policies []policyOption `json:"policies"`
	}
	if err := c.get(r, "/api/v1/policies", nil).decode(&pol); err == nil {
		for _, o := range pol.Policies {
			if o.Allowed {
				p.Policies = append(p.Policies, o)
			}
		}
	}
	if len(p.Policies) == 0 {
		p.Policies = []policyOption{{Name: "default", Allowed: true}}
	}
	if values.Get("policy") == "" {
		def := p.Policies[0].Name
		for _, o := range p.Policies {
			if o.Name == "default" {
				def = o.Name
			}
		}
		values.Set("policy", def)
	}
	if values.Get("received_at") == "" {
		values.Set("received_at", v.Now.Format(datetimeLocal))
	}
	return p
}

func (c *Console) registerPage(w http.ResponseWriter, r *http.Request, v *view) {
	p := c.newRegPage(r, v, url.Values{})
	v.Title, v.Nav, v.Data = v.T("reg.title"), "register", p
	c.render(w, http.StatusOK, "register", v)
}

// regAnswer is what POST /api/v1/petitions answers: a new case (registrationBody) or, for a
// repeat petition of an open case, that case's state with "linked_to".
type regAnswer struct {
	CaseNo        string `json:"case_no"`
	QueryCode     string `json:"query_code"`
	SuggestedUnit string `json:"suggested_unit"`
	GroupPetition bool   `json:"group_petition"`
	Stage         string `json:"stage"`
	Deadlines     map[string]struct {
		Due         time.Time `json:"due"`
		Explanation string    `json:"explanation"`
	} `json:"deadlines"`
	State       *workflows.CaseState `json:"state"`
	LinkedTo    string               `json:"linked_to"`
	RepeatCount int                  `json:"repeat_count"`
	ReceivedAt  time.Time            `json:"received_at"`
	Topic       string               `json:"topic"`
}

// receiptView is the receipt page's data.
type receiptView struct {
	Answer      regAnswer
	Linked      bool
	CaseNo      string
	QueryCode   string
	ReceivedAt  time.Time
	Topic       string
	Due         *time.Time
	DueText     string
	QueryURL    string
	RegisteredB string
	// Back is where the receipt leads on from a registration made elsewhere (a screening
	// dispute's page) instead of another registration; BackText its words' key.
	Back, BackText string
}

func (c *Console) registerSubmit(w http.ResponseWriter, r *http.Request, v *view) {
	if err := checkForm(r); err != nil {
		c.problem(w, v, err)
		return
	}
	built := buildRegistration(r.PostForm, c.cfg.Zone)
	key := r.PostForm.Get("idempotency_key")
	if key == "" {
		key = newKey()
	}
	values := url.Values{}
	for k, vs := range r.PostForm {
		if k != "csrf" && k != "idempotency_key" {
			values[k] = vs
		}
	}
	v.Title, v.Nav = v.T("reg.title"), "register"
	if len(built.FormErrors) > 0 {
		p := c.newRegPage(r, v, values)
		p.Key = key // nothing was sent
		c.showRegErrors(p, v, built.FormErrors, "")
		v.Data = p
		c.render(w, http.StatusBadRequest, "register", v)
		return
	}
	res := c.call(r, http.MethodPost, "/api/v1/petitions", nil, built.Req, http.Header{"Idempotency-Key": {key}})
	if res.OK() {
		var a regAnswer
		if err := json.Unmarshal(res.Body, &a); err != nil {
			c.problem(w, v, fmt.Errorf("the API answered something the console cannot read: %w", err))
			return
		}
		c.renderReceipt(w, r, v, a, built.Req)
		return
	}
	ae := res.err()
	p := c.newRegPage(r, v, values)
	switch {
	case res.Status >= 500:
		// The case may exist: the same key finishes it rather than registering it twice.
		p.Key, p.Retry = key, true
		var extra struct {
			CaseNo    string `json:"case_no"`
			QueryCode string `json:"query_code"`
		}
		_ = json.Unmarshal(res.Body, &extra)
		if extra.CaseNo != "" {
			p.Warn = v.Tf("reg.unconfirmed", extra.CaseNo, extra.QueryCode)
		} else {
			p.Warn = v.T("reg.unavailable")
		}
		p.Message = ae.Message
	case res.Status == http.StatusConflict:
		var term struct {
			CaseNo string `json:"case_no"`
		}
		_ = json.Unmarshal(res.Body, &term)
		if term.CaseNo != "" {
			p.Message = v.Tf("reg.terminated", term.CaseNo)
		} else {
			p.Message = v.T("reg.conflict") + " (" + ae.Message + ")"
		}
	default:
		c.showRegErrors(p, v, placeErrors(ae.Fields, built.PetRows, built.AttRows), ae.Message)
	}
	p.Suggestion = c.suggestion(r, values.Get("topic"), values.Get("category"))
	v.Data = p
	c.render(w, res.Status, "register", v)
}

// showRegErrors puts field errors next to their inputs and in the summary.
func (c *Console) showRegErrors(p *regPage, v *view, placed map[string]string, message string) {
	names := make([]string, 0, len(placed))
	for k := range placed {
		names = append(names, k)
	}
	// The summary follows the form's order.
	order := func(n string) string {
		if i := slices.Index(regTopFields, n); i >= 0 {
			return fmt.Sprintf("0%02d", i)
		}
		if m := rowKey.FindStringSubmatch(n); m != nil {
			i, _ := strconv.Atoi(m[2])
			return fmt.Sprintf("1%s%04d%s", m[1], i, m[3])
		}
		return "2" + n
	}
	sort.Slice(names, func(i, j int) bool { return order(names[i]) < order(names[j]) })
	for _, n := range names {
		text := errorText(v, n, placed[n])
		p.Errors[n] = text
		p.Summary = append(p.Summary, regSummary{ID: summaryTarget(n), Label: fieldLabel(v, n), Text: text})
	}
	if len(placed) == 0 {
		p.Message = message
	}
}

func (c *Console) renderReceipt(w http.ResponseWriter, r *http.Request, v *view, a regAnswer, req regRequest) {
	c.showReceipt(w, r, v, a, receiptView{Topic: req.Topic}, "register")
}

// showReceipt draws the receipt of a registration's answer a (the receipt, or the repeat's
// linked case) under the navigation entry nav; rv brings the topic sent and where to go back.
func (c *Console) showReceipt(w http.ResponseWriter, r *http.Request, v *view, a regAnswer, rv receiptView, nav string) {
	rv.Answer, rv.CaseNo, rv.QueryCode, rv.RegisteredB = a, a.CaseNo, a.QueryCode, v.Me.Name
	if a.LinkedTo != "" {
		rv.Linked, rv.CaseNo = true, a.LinkedTo
		v.Title, v.Nav, v.Data = v.T("reg.linked.title"), nav, rv
		c.render(w, http.StatusOK, "receipt", v)
		return
	}
	if a.State != nil {
		rv.ReceivedAt = a.State.ReceivedAt
		if rv.Topic == "" {
			rv.Topic = a.State.Topic
		}
	}
	if d, ok := a.Deadlines[string(workflows.ClockAcceptance)]; ok && !d.Due.IsZero() {
		due := d.Due
		rv.Due, rv.DueText = &due, d.Explanation
	} else if a.State != nil && a.State.Deadline != nil && a.State.Deadline.Clock == workflows.ClockAcceptance {
		due := a.State.Deadline.Due
		rv.Due = &due
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	rv.QueryURL = scheme + "://" + r.Host + "/query"
	v.Title, v.Nav, v.Data = v.T("reg.receipt.title"), nav, rv
	c.render(w, http.StatusCreated, "receipt", v)
}

// suggestionView is the routing suggestion fragment's data.
type suggestionView struct {
	Asked    bool
	Unit     string
	UnitName string
	Failed   bool
}

// suggestion asks the API where a topic would be routed (nil when there is no topic).
func (c *Console) suggestion(r *http.Request, topic, category string) *suggestionView {
	if strings.TrimSpace(topic) == "" {
		return nil
	}
	q := url.Values{"topic": {topic}}
	if category != "" {
		q.Set("category", category)
	}
	var ans struct {
		Unit     *string `json:"unit"`
		UnitName string  `json:"unit_name"`
	}
	s := &suggestionView{Asked: true}
	if err := c.get(r, "/api/v1/routing/suggestion", q).decode(&ans); err != nil {
		s.Failed = true
		return s
	}
	if ans.Unit != nil {
		s.Unit, s.UnitName = *ans.Unit, ans.UnitName
		if s.UnitName == "" {
			s.UnitName = s.Unit
		}
	}
	return s
}

func (c *Console) registerSuggestion(w http.ResponseWriter, r *http.Request, v *view) {
	q := r.URL.Query()
	v.Data = c.suggestion(r, q.Get("topic"), q.Get("category"))
	c.fragment(w, "register", "suggestion", v)
}

// lookupView is the "has this person petitioned before?" fragment's data.
type lookupView struct {
	Name     string
	Cases    []lookupCase
	RepeatOf string
	BadID    string // the API's detail about a bad ID number
	Failed   bool
}

type lookupCase struct {
	CaseNo       string    `json:"case_no"`
	Stage        string    `json:"stage"`
	Category     string    `json:"category"`
	Topic        string    `json:"topic"`
	Unit         string    `json:"unit"`
	RegisteredAt time.Time `json:"registered_at"`
}

// lookupParams is the API query of a lookup: the row's inputs (?row=N with the row's fields
// as the form names them) or plain id_number/phone/name, with the matter's category and topic.
func lookupParams(q url.Values) url.Values {
	get := func(f string) string { return strings.TrimSpace(q.Get(f)) }
	out := url.Values{}
	if row := q.Get("row"); row != "" {
		if i, err := strconv.Atoi(row); err == nil && i >= 0 && i < maxFormRow {
			for _, f := range []string{"name", "id_number", "phone"} {
				if x := strings.TrimSpace(q.Get(rowName("petitioners", i, f))); x != "" {
					out.Set(f, x)
				}
			}
		}
	}
	for _, f := range []string{"name", "id_number", "phone", "category", "topic"} {
		if x := get(f); x != "" && out.Get(f) == "" {
			out.Set(f, x)
		}
	}
	return out
}

func (c *Console) registerLookup(w http.ResponseWriter, r *http.Request, v *view) {
	q := lookupParams(r.URL.Query())
	lv := &lookupView{Name: q.Get("name")}
	v.Data = lv
	if q.Get("id_number") == "" && q.Get("phone") == "" {
		v.Data = nil
		c.fragment(w, "register", "lookup", v)
		return
	}
	res := c.get(r, "/api/v1/petitioners/lookup", q)
	var ans struct {
		Cases    []lookupCase `json:"cases"`
		RepeatOf *string      `json:"repeat_of"`
	}
	if err := res.decode(&ans); err != nil {
		if ae, ok := err.(*apiError); ok && ae.Status == http.StatusBadRequest && ae.Fields["id_number"] != "" {
			lv.BadID = ae.Fields["id_number"]
		} else {
			lv.Failed = true
		}
	} else {
		lv.Cases = ans.Cases
		if ans.RepeatOf != nil {
			lv.RepeatOf = *ans.RepeatOf
		}
	}
	c.fragment(w, "register", "lookup", v)
}
