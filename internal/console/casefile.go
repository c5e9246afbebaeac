package console

import "net/http"

// casePage: to be built.
func (c *Console) casePage(w http.ResponseWriter, r *http.Request, v *view) {
	c.problem(w, v, &apiError{Status: http.StatusNotImplemented, Message: "not built yet"})
}

// caseAction: to be built.
func (c *Console) caseAction(w http.ResponseWriter, r *http.Request, v *view) {
	c.problem(w, v, &apiError{Status: http.StatusNotImplemented, Message: "not built yet"})
}
