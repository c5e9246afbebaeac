package console

import (
	"net/http"
	"strings"
)

// Mount serves the API's paths (/api/, /codec/, probes, the OpenAPI document) with api and
// everything else with the console, on one listener: the console lives at http://host:8080/.
func Mount(api http.Handler, con http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if apiPath(r.URL.Path) {
			api.ServeHTTP(w, r)
			return
		}
		con.ServeHTTP(w, r)
	})
}

func apiPath(p string) bool {
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/codec/") ||
		p == "/healthz" || p == "/readyz" || p == "/openapi.yaml" || p == "/metrics"
}
