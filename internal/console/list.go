package console

import "net/http"

// listPage: to be built.
func (c *Console) listPage(w http.ResponseWriter, r *http.Request, v *view) {
	c.problem(w, v, &apiError{Status: http.StatusNotImplemented, Message: "not built yet"})
}

// listExport: to be built.
func (c *Console) listExport(w http.ResponseWriter, r *http.Request, v *view) {
	c.problem(w, v, &apiError{Status: http.StatusNotImplemented, Message: "not built yet"})
}
