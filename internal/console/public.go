package console

import "net/http"

// publicPage: to be built.
func (c *Console) publicPage(w http.ResponseWriter, r *http.Request) {
	c.problem(w, c.newView(r, nil), &apiError{Status: http.StatusNotImplemented, Message: "not built yet"})
}

// publicAction: to be built.
func (c *Console) publicAction(w http.ResponseWriter, r *http.Request) {
	c.problem(w, c.newView(r, nil), &apiError{Status: http.StatusNotImplemented, Message: "not built yet"})
}
