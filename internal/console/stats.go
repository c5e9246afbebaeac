package console

import "net/http"

// statsPage: to be built.
func (c *Console) statsPage(w http.ResponseWriter, r *http.Request, v *view) {
	c.problem(w, v, &apiError{Status: http.StatusNotImplemented, Message: "not built yet"})
}

// ledgerDownload: to be built.
func (c *Console) ledgerDownload(w http.ResponseWriter, r *http.Request, v *view) {
	c.problem(w, v, &apiError{Status: http.StatusNotImplemented, Message: "not built yet"})
}
