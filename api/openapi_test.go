package api

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestOpenAPICoversRoutes fails when a route registered on the engine is missing from
// openapi.yaml or the document describes a route that does not exist (method and path).
func TestOpenAPICoversRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Errorf("openapi = %q, want 3.0.x", doc.OpenAPI)
	}
	param := regexp.MustCompile(`:([A-Za-z_]+)`)
	routes := map[string]bool{}
	for _, r := range codecServer().engine.Routes() { // every route, the codec server's too
		routes[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	documented := map[string]bool{}
	methods := map[string]bool{"get": true, "put": true, "post": true, "delete": true, "patch": true, "head": true, "options": true}
	for path, item := range doc.Paths {
		for m := range item {
			if methods[m] {
				documented[strings.ToUpper(m)+" "+path] = true
			}
		}
	}
	var missing, extra []string
	for r := range routes {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for d := range documented {
		if !routes[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from openapi.yaml: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("openapi.yaml documents routes that do not exist: %v", extra)
	}
	if len(routes) < 15 {
		t.Errorf("only %d routes registered; the engine looks wrong", len(routes))
	}
}

// TestOpenAPIActions keeps the documented action enum equal to the actions the API accepts.
func TestOpenAPIActions(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string `yaml:"name"`
				Schema struct {
					Enum []string `yaml:"enum"`
				} `yaml:"schema"`
			} `yaml:"parameters"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	var enum []string
	for _, p := range doc.Paths["/api/v1/petitions/{no}/{action}"]["post"].Parameters {
		if p.Name == "action" {
			enum = p.Schema.Enum
		}
	}
	sort.Strings(enum)
	if got, want := strings.Join(enum, ","), strings.Join(actionNames(), ","); got != want {
		t.Errorf("documented actions %s\nwant %s", got, want)
	}
}

func TestServeOpenAPI(t *testing.T) {
	w, _ := do(t, nilServer(), http.MethodGet, "/openapi.yaml", nil)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Body.String(), "openapi: 3.0") {
		t.Errorf("status %d body %.40q", w.Code, w.Body.String())
	}
}
