package console

import (
	"net/http"
	"net/url"

	"github.com/petitions/petitions/internal/warning"
)

// The early warnings page (预警): for each warning rule, the cases in the reader's scope on
// which it fired (GET /api/v1/petitions?warning=<rule>), counted, with the first of them and a
// link to the whole list. The rules and their thresholds are the office's (the worker's rule
// table); the console only lists.

// warningRows is how many cases each rule shows here.
const warningRows = 10

func (c *Console) warningsPage(w http.ResponseWriter, r *http.Request, v *view) {
	qs := make([]*queue, 0, len(warning.Codes))
	for _, rule := range warning.Codes {
		qs = append(qs, &queue{Key: rule, Filter: url.Values{"warning": {rule}}, Rows: warningRows})
	}
	c.loadQueues(r, qs)
	v.Title, v.Nav = v.T("warn.title"), "warnings"
	v.Data = map[string]any{"Rules": qs}
	c.render(w, http.StatusOK, "warnings", v)
}
