package console

import "net/http"

// noticePage: to be built.
func (c *Console) noticePage(w http.ResponseWriter, r *http.Request, v *view) {
	c.problem(w, v, &apiError{Status: http.StatusNotImplemented, Message: "not built yet"})
}
