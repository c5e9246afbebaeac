package console

import "net/http"

// registerPage: to be built.
func (c *Console) registerPage(w http.ResponseWriter, r *http.Request, v *view) {
	c.problem(w, v, &apiError{Status: http.StatusNotImplemented, Message: "not built yet"})
}

// registerSubmit: to be built.
func (c *Console) registerSubmit(w http.ResponseWriter, r *http.Request, v *view) {
	c.problem(w, v, &apiError{Status: http.StatusNotImplemented, Message: "not built yet"})
}

// registerSuggestion: to be built.
func (c *Console) registerSuggestion(w http.ResponseWriter, r *http.Request, v *view) {
	c.problem(w, v, &apiError{Status: http.StatusNotImplemented, Message: "not built yet"})
}

// registerLookup: to be built.
func (c *Console) registerLookup(w http.ResponseWriter, r *http.Request, v *view) {
	c.problem(w, v, &apiError{Status: http.StatusNotImplemented, Message: "not built yet"})
}
