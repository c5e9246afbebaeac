package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/petitions/petitions/internal/warning"
	"github.com/petitions/petitions/workflows"
)

// The case list is GET /api/v1/petitions with the filters the reader chose: the API decides
// which cases this reader may see and what a filter means; the console forwards the filters
// it knows (a link from elsewhere with other parameters does not reach the API) and shows the
// page the API answers, paged by the API's cursor.

// listFilters are the list filters forwarded to the API.
var listFilters = []string{
	"q", "stage", "unit", "category", "channel", "overdue", "handler", "leader", "registered_by",
	"registered_after", "registered_before", "due_before", "due_after", "escalation_level",
	"extension_pending", "warning", "joint", "assignment", "involved_unit",
}

// listPageSize is the number of cases on a page.
const listPageSize = 50

// caseListQuery keeps the known, non-empty filters of in (trimmed).
func caseListQuery(in url.Values) url.Values {
	out := url.Values{}
	for _, k := range listFilters {
		if v := strings.TrimSpace(in.Get(k)); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

// listView is the list page's data.
type listView struct {
	Filter     url.Values
	Units      []unit
	Stages     []string
	Categories []string
	Channels   []string
	Page       *casePage
	// The early warning rules (预警) and the routines' statuses (联查, 交办), for their pickers.
	Warnings           []string
	JointStatuses      []string
	AssignmentStatuses []string
	Err                *apiError
	Cursor             string
	Export             string // the filters as a query for the export links
	More               bool   // a filter of the "more" group is set: open it
}

// F is a filter's current value.
func (l *listView) F(name string) string { return l.Filter.Get(name) }

// ExportLink is the download of the whole list as format ("csv", "xlsx").
func (l *listView) ExportLink(format string) string {
	return linkWithQuery("/cases/export/"+format, l.Export)
}

// FirstPage is the list's first page with the same filters.
func (l *listView) FirstPage() string { return linkWithQuery("/cases", l.Export) }

func linkWithQuery(path, query string) string {
	if query == "" {
		return path
	}
	return path + "?" + query
}

// FieldLabel names a filter in an error (the API names it by its parameter).
func (l *listView) FieldLabel(v *view, name string) string {
	key := map[string]string{"q": "list.q", "stage": "list.stage", "unit": "list.unit", "category": "list.category",
		"channel": "list.channel", "overdue": "list.overdue", "handler": "list.handler", "leader": "list.leader",
		"registered_by": "list.registered_by", "due_before": "list.due_before", "escalation_level": "list.level",
		"warning": "list.warning", "joint": "list.joint", "assignment": "list.assignment", "involved_unit": "list.involved_unit"}[name]
	if key == "" {
		return name
	}
	return v.T(key)
}

// N is the API's count of the list (up to its cap).
func (l *listView) N() int {
	if l.Page == nil || l.Page.Count == nil {
		return 0
	}
	return *l.Page.Count
}

// Next is the next page's link, or "".
func (l *listView) Next() string {
	if l.Page == nil || l.Page.NextCursor == "" {
		return ""
	}
	q := url.Values{}
	for k, v := range l.Filter {
		q[k] = v
	}
	q.Set("cursor", l.Page.NextCursor)
	return "/cases?" + q.Encode()
}

func (c *Console) listPage(w http.ResponseWriter, r *http.Request, v *view) {
	in := r.URL.Query()
	filter := caseListQuery(in)
	lv := &listView{Filter: filter, Stages: stageDisplayOrder,
		Categories: orderedCodes("category", categoryDisplayOrder), Channels: orderedCodes("channel", channelDisplayOrder),
		Cursor: strings.TrimSpace(in.Get("cursor")), Export: filter.Encode()}
	lv.Warnings = warning.Codes
	lv.JointStatuses = []string{workflows.JointProposed, workflows.JointApproved, workflows.JointDeclined, workflows.JointConcluded}
	lv.AssignmentStatuses = []string{workflows.AssignmentAwaiting, workflows.AssignmentReported, workflows.AssignmentAccepted}
	for _, k := range []string{"handler", "leader", "registered_by", "due_before", "escalation_level", "channel",
		"warning", "joint", "assignment", "involved_unit"} {
		lv.More = lv.More || filter.Get(k) != ""
	}
	var units struct {
		Units []unit `json:"units"`
	}
	if c.get(r, "/api/v1/units", nil).decode(&units) == nil {
		lv.Units = units.Units
	}
	q := url.Values{}
	for k, vs := range filter {
		q[k] = vs
	}
	q.Set("count", "true")
	q.Set("limit", itoa(listPageSize))
	if lv.Cursor != "" {
		q.Set("cursor", lv.Cursor)
	}
	status := http.StatusOK
	var page casePage
	if err := c.get(r, "/api/v1/petitions", q).decode(&page); err != nil {
		ae, ok := err.(*apiError)
		if !ok {
			c.problem(w, v, err)
			return
		}
		if ae.Status == http.StatusUnauthorized {
			c.needSignIn(w, r)
			return
		}
		lv.Err, status = ae, ae.Status
	} else {
		lv.Page = &page
	}
	v.Title, v.Nav, v.Data = v.T("list.title"), "cases", lv
	c.render(w, status, "list", v)
}

// listExport downloads the whole list for the same filters (the API writes the file).
func (c *Console) listExport(w http.ResponseWriter, r *http.Request, v *view) {
	format := r.PathValue("format")
	if format != "csv" && format != "xlsx" {
		c.problem(w, v, &apiError{Status: http.StatusNotFound, Message: "no export as " + format})
		return
	}
	q := caseListQuery(r.URL.Query())
	q.Set("format", format)
	res := c.get(r, "/api/v1/petitions", q)
	if !res.OK() {
		c.problem(w, v, res.err())
		return
	}
	passThrough(w, res)
}
