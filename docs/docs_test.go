package docs

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// openAPIMethods are the operation keys of an OpenAPI path item (OpenAPI 3.1 §4.8.9).
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// routeSpan matches a route as API.md writes it in a code span: one method or several
// joined by "|", a space, and a path, perhaps with a query ("GET|PATCH|DELETE
// /v1/webhooks/{id}", "GET /console/session?ticket=…").
var routeSpan = regexp.MustCompile("`((?:GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE)(?:\\|(?:GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE))*) (/[^`\\s?]*)")

// pathParam matches a path parameter, whatever its name: API.md and openapi.yaml may name
// one differently ({id}, {name}).
var pathParam = regexp.MustCompile(`\{[^}/]*\}`)

// route is "METHOD /path" with every path parameter written {}.
func route(method, path string) string {
	return strings.ToUpper(method) + " " + pathParam.ReplaceAllString(path, "{}")
}

// apiRoutes are the routes API.md names in code spans.
func apiRoutes(t *testing.T) []string {
	t.Helper()
	md, err := os.ReadFile("API.md")
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, m := range routeSpan.FindAllStringSubmatch(string(md), -1) {
		for _, method := range strings.Split(m[1], "|") {
			routes = append(routes, route(method, m[2]))
		}
	}
	slices.Sort(routes)
	return slices.Compact(routes)
}

// openAPIRoutes are the operations of the OpenAPI document hookd serves.
func openAPIRoutes(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("api/openapi.yaml: %v", err)
	}
	var routes []string
	for path, item := range doc.Paths {
		for key := range item {
			if slices.Contains(openAPIMethods, key) {
				routes = append(routes, route(key, path))
			}
		}
	}
	slices.Sort(routes)
	return routes
}

// TestAPIMatchesOpenAPI checks that API.md names every route of api/openapi.yaml and no
// other, so the reference in the repository cannot drift from the document hookd serves
// at GET /openapi.yaml (issue 11, item 8).
func TestAPIMatchesOpenAPI(t *testing.T) {
	md, spec := apiRoutes(t), openAPIRoutes(t)
	if len(spec) == 0 {
		t.Fatal("api/openapi.yaml has no operations")
	}
	for _, r := range spec {
		if !slices.Contains(md, r) {
			t.Errorf("api/openapi.yaml has %s, which docs/API.md does not name", r)
		}
	}
	for _, r := range md {
		if !slices.Contains(spec, r) {
			t.Errorf("docs/API.md names %s, which api/openapi.yaml does not have", r)
		}
	}
}
