package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookd/hookd/api"
)

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// TestOpenAPIDescribesEveryRoute: the served document is OpenAPI 3.1 YAML, has an
// operation for every registered route and none for a route that does not exist, and
// every $ref in it resolves.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := e.do("GET", "/openapi.yaml", "", nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Type"), "yaml") {
		t.Fatalf("GET /openapi.yaml: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec.Body.String() != string(api.OpenAPI()) {
		t.Fatal("served document differs from api.OpenAPI()")
	}
	var doc map[string]any
	if err := yaml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("openapi.yaml is not YAML: %v", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Fatalf("openapi version %q, want 3.1.x", v)
	}
	paths, _ := doc["paths"].(map[string]any)

	param := regexp.MustCompile(`[:*]([A-Za-z]+)`)
	routes := map[string]bool{}
	for _, r := range e.engine.Routes() {
		path := param.ReplaceAllString(r.Path, "{$1}")
		method := strings.ToLower(r.Method)
		routes[method+" "+path] = true
		item, ok := paths[path].(map[string]any)
		if !ok {
			t.Errorf("route %s %s: path %s not in openapi.yaml", r.Method, r.Path, path)
			continue
		}
		op, ok := item[method].(map[string]any)
		if !ok {
			t.Errorf("route %s %s: no %s operation in openapi.yaml", r.Method, r.Path, method)
			continue
		}
		if _, ok := op["responses"].(map[string]any); !ok {
			t.Errorf("%s %s: no responses", r.Method, path)
		}
	}
	operationIDs := map[string]bool{}
	for path, item := range paths {
		for method, op := range item.(map[string]any) {
			if !slices.Contains(httpMethods, method) {
				continue
			}
			if !routes[method+" "+path] {
				t.Errorf("openapi.yaml documents %s %s, which is not a route", method, path)
			}
			id, _ := op.(map[string]any)["operationId"].(string)
			if id == "" || operationIDs[id] {
				t.Errorf("%s %s: operationId %q missing or repeated", method, path, id)
			}
			operationIDs[id] = true
		}
	}

	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if ref, ok := x.(string); ok && k == "$ref" {
					if !resolves(doc, ref) {
						t.Errorf("$ref %s does not resolve", ref)
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
}

func resolves(doc map[string]any, ref string) bool {
	if !strings.HasPrefix(ref, "#/") {
		return false
	}
	var cur any = doc
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[tok]; !ok {
			return false
		}
	}
	return true
}

var (
	openAPIOnce     sync.Once
	openAPICompiler *jsonschema.Compiler
	openAPIErr      error
)

// conforms fails unless body is valid against the named schema of openapi.yaml, so the
// document is checked against what the handlers really answer.
func conforms(t *testing.T, schema string, body []byte) {
	t.Helper()
	openAPIOnce.Do(func() {
		var doc any
		if openAPIErr = yaml.Unmarshal(api.OpenAPI(), &doc); openAPIErr != nil {
			return
		}
		j, err := json.Marshal(doc)
		if err != nil {
			openAPIErr = err
			return
		}
		parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err != nil {
			openAPIErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		openAPIErr = c.AddResource("https://hookd.invalid/openapi.json", parsed)
		openAPICompiler = c
	})
	if openAPIErr != nil {
		t.Fatalf("load openapi.yaml: %v", openAPIErr)
	}
	openAPIMu.Lock()
	sch, err := openAPICompiler.Compile("https://hookd.invalid/openapi.json#/components/schemas/" + schema)
	openAPIMu.Unlock()
	if err != nil {
		t.Fatalf("compile schema %s: %v", schema, err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("answer does not match schema %s: %v\n%s", schema, err, body)
	}
}

var openAPIMu sync.Mutex

// conformsValue is conforms for an answer already decoded.
func conformsValue(t *testing.T, schema string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	conforms(t, schema, b)
}
