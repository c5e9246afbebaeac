package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The petitioner's page (阳光信访): no staff sign-in; the case number and the query code are the
// credential. Both travel in POST bodies (never in a URL) and reach the API in the X-Query-Code
// header. The page shows what GET /api/v1/public/petitions/{no} answers and a form for each
// action it lists ("may"); the workflow decides whether an action is allowed.

// publicView is the petitioner's view of a case (api/selfservice.go publicView).
type publicView struct {
	CaseNo     string        `json:"case_no"`
	Stage      string        `json:"stage"`
	StageLabel string        `json:"stage_label"`
	UnitName   string        `json:"unit_name"`
	ReceivedAt *time.Time    `json:"received_at"`
	AcceptedAt *time.Time    `json:"accepted_at"`
	RepliedAt  *time.Time    `json:"replied_at"`
	ClosedAt   *time.Time    `json:"closed_at"`
	DueAt      *time.Time    `json:"due_at"`
	Evaluation string        `json:"evaluation"`
	Replies    []publicReply `json:"replies"`
	May        []string      `json:"may"`
}

type publicReply struct {
	Type    string    `json:"type"`
	Label   string    `json:"label"`
	At      time.Time `json:"at"`
	Opinion string    `json:"opinion"`
	Outcome string    `json:"outcome"`
	Reason  string    `json:"reason"`
}

// publicActionNames are the petitioner's actions (the API's URL names).
var publicActionNames = []string{"evaluate", "request-review", "request-re-review", "withdraw"}

// publicForm is the form of one petitioner action.
type publicForm struct {
	Name string
	Key  string
}

// publicData is the query page's Data.
type publicData struct {
	No    string
	Code  string
	Error string
	View  *publicView
	Forms []publicForm
	// Evaluations are the choices of the evaluate form.
	Evaluations []string
	// Due is the running deadline, worded (24:00 of its last day).
	Due string
}

const pubHeaderQueryCode = "X-Query-Code"

// publicError words a refusal of the public API for the petitioner.
func publicError(v *view, res apiResult) string {
	switch res.Status {
	case http.StatusNotFound, http.StatusBadRequest:
		return v.T("pub.wrong")
	case http.StatusTooManyRequests:
		text := v.T("pub.too_many")
		if ra := res.Header.Get("Retry-After"); ra != "" {
			text += " " + v.Tf("pub.retry_after", ra)
		}
		return text
	case http.StatusPreconditionFailed:
		return v.T("pub.stale")
	}
	if res.Status >= 500 {
		return v.T("error.unavailable")
	}
	return v.T("pub.refused") + " " + res.err().Error()
}

func publicPath(no string) string { return "/api/v1/public/petitions/" + url.PathEscape(no) }

// renderPublic shows the query page with a case view (or none) and an error (or none).
func (c *Console) renderPublic(w http.ResponseWriter, v *view, status int, no, code string, pv *publicView, errText string) {
	d := publicData{No: no, Code: code, Error: errText, View: pv,
		Evaluations: []string{"satisfied", "basic_satisfied", "dissatisfied"}}
	if pv != nil {
		if pv.DueAt != nil {
			d.Due = cfDueText(v, *pv.DueAt)
		}
		for _, a := range publicActionNames {
			if cfHas(pv.May, a) {
				d.Forms = append(d.Forms, publicForm{Name: a, Key: newKey()})
			}
		}
	}
	v.Title = v.T("pub.title")
	v.Data = d
	c.render(w, status, "public", v)
}

// lookupPublic asks the API for the petitioner's view.
func (c *Console) lookupPublic(r *http.Request, v *view, no, code string) (*publicView, int, string) {
	res := c.call(r, http.MethodGet, publicPath(no), nil, nil, http.Header{pubHeaderQueryCode: {code}})
	if !res.OK() {
		return nil, res.Status, publicError(v, res)
	}
	var pv publicView
	if err := res.decode(&pv); err != nil {
		return nil, http.StatusBadGateway, v.T("error.unavailable")
	}
	return &pv, http.StatusOK, ""
}

func (c *Console) publicPage(w http.ResponseWriter, r *http.Request) {
	v := c.newView(r, nil)
	if r.Method != http.MethodPost {
		c.renderPublic(w, v, http.StatusOK, "", "", nil, "")
		return
	}
	if err := r.ParseForm(); err != nil {
		c.renderPublic(w, v, http.StatusBadRequest, "", "", nil, v.T("pub.need"))
		return
	}
	no, code := strings.TrimSpace(r.PostForm.Get("no")), strings.TrimSpace(r.PostForm.Get("code"))
	if no == "" || code == "" {
		c.renderPublic(w, v, http.StatusBadRequest, no, "", nil, v.T("pub.need"))
		return
	}
	pv, status, errText := c.lookupPublic(r, v, no, code)
	if pv == nil {
		c.renderPublic(w, v, status, no, "", nil, errText)
		return
	}
	c.renderPublic(w, v, http.StatusOK, no, code, pv, "")
}

func (c *Console) publicAction(w http.ResponseWriter, r *http.Request) {
	v := c.newView(r, nil)
	action := r.PathValue("action")
	if err := r.ParseForm(); err != nil {
		c.renderPublic(w, v, http.StatusBadRequest, "", "", nil, v.T("pub.need"))
		return
	}
	no, code := strings.TrimSpace(r.PostForm.Get("no")), strings.TrimSpace(r.PostForm.Get("code"))
	if no == "" || code == "" {
		c.renderPublic(w, v, http.StatusBadRequest, no, "", nil, v.T("pub.need"))
		return
	}
	if !cfHas(publicActionNames, action) {
		pv, status, errText := c.lookupPublic(r, v, no, code)
		if pv == nil {
			c.renderPublic(w, v, status, no, "", nil, errText)
			return
		}
		c.renderPublic(w, v, http.StatusNotFound, no, code, pv, v.T("act.unknown"))
		return
	}
	body := map[string]string{}
	if ev := strings.TrimSpace(r.PostForm.Get("evaluation")); ev != "" {
		body["evaluation"] = ev
	}
	if reason := strings.TrimSpace(r.PostForm.Get("reason")); reason != "" {
		body["reason"] = reason
	}
	hdr := http.Header{pubHeaderQueryCode: {code}}
	if key := strings.TrimSpace(r.PostForm.Get("key")); key != "" {
		hdr.Set("Idempotency-Key", key)
	}
	res := c.call(r, http.MethodPost, publicPath(no)+"/"+action, nil, body, hdr)
	if res.OK() {
		var pv publicView
		if err := res.decode(&pv); err == nil {
			v.Flash = &flash{Kind: "ok", Text: v.T("pub.done." + action)}
			c.renderPublic(w, v, http.StatusOK, no, code, &pv, "")
			return
		}
	}
	errText := publicError(v, res)
	if res.Status == http.StatusNotFound || res.Status == http.StatusTooManyRequests {
		// A wrong code shows nothing of the case; a rate limit is not tried again at once.
		c.renderPublic(w, v, res.Status, no, "", nil, errText)
		return
	}
	pv, _, _ := c.lookupPublic(r, v, no, code)
	status := res.Status
	if status < 400 {
		status = http.StatusBadGateway
	}
	c.renderPublic(w, v, status, no, code, pv, errText)
}
