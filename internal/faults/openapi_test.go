//go:build faults

package faults

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/hookd/hookd/api"
)

// methods are the methods a route may take; the others are not probed.
var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// spec is the part of api/openapi.yaml the probes are generated from.
type spec struct {
	Paths      map[string]map[string]yaml.RawMessage `yaml:"paths"`
	Components struct {
		Parameters map[string]parameter `yaml:"parameters"`
		Schemas    map[string]schema    `yaml:"schemas"`
	} `yaml:"components"`
}

type parameter struct {
	Ref    string `yaml:"$ref"`
	Name   string `yaml:"name"`
	In     string `yaml:"in"`
	Schema schema `yaml:"schema"`
}

type schema struct {
	Ref        string            `yaml:"$ref"`
	Type       any               `yaml:"type"` // a name, or a list of names (OpenAPI 3.1)
	Format     string            `yaml:"format"`
	Enum       []any             `yaml:"enum"`
	Pattern    string            `yaml:"pattern"`
	Properties map[string]schema `yaml:"properties"`
}

type operation struct {
	ID          string      `yaml:"operationId"`
	Description string      `yaml:"description"`
	Parameters  []parameter `yaml:"parameters"`
	Security    *[]any      `yaml:"security"` // nil: the document's (bearer key); empty: none
	RequestBody *struct {
		Required bool `yaml:"required"`
		Content  map[string]struct {
			Schema schema `yaml:"schema"`
		} `yaml:"content"`
	} `yaml:"requestBody"`
	Responses map[string]yaml.RawMessage `yaml:"responses"`
}

// route is one operation of the document, its parameters resolved (the path item's and
// its own).
type route struct {
	Path, Method string
	Op           operation
	Params       []parameter
	Body         *schema // the JSON request body's schema, resolved; nil without one
}

func (r route) String() string { return r.Method + " " + r.Path }

// authenticated reports whether the route takes an API key.
func (r route) authenticated() bool { return r.Op.Security == nil || len(*r.Op.Security) > 0 }

// documents reports whether the route lists status among its answers.
func (r route) documents(status int) bool {
	_, ok := r.Op.Responses[fmt.Sprint(status)]
	return ok
}

// pathParams are the route's path parameters.
func (r route) pathParams() []parameter { return r.paramsIn("path") }

func (r route) paramsIn(in string) []parameter {
	var out []parameter
	for _, p := range r.Params {
		if p.In == in {
			out = append(out, p)
		}
	}
	return out
}

var rolesRe = regexp.MustCompile(`\bRoles? ([a-z]+(?:, [a-z]+)*)\.`)

// roles are the key roles the route's description allows ("Role admin.", "Roles admin,
// viewer."); nil when it says none.
func (r route) roles() []string {
	m := rolesRe.FindStringSubmatch(r.Op.Description)
	if m == nil {
		return nil
	}
	return strings.Split(m[1], ", ")
}

// apiSpec reads the OpenAPI document hookd serves and returns its routes, sorted, and the
// methods each path takes.
func apiSpec() ([]route, map[string][]string, error) {
	var doc spec
	if err := yaml.Unmarshal(api.OpenAPI(), &doc); err != nil {
		return nil, nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	var routes []route
	allowed := map[string][]string{}
	for path, item := range doc.Paths {
		var common []parameter
		if raw, ok := item["parameters"]; ok {
			if err := yaml.Unmarshal(raw, &common); err != nil {
				return nil, nil, fmt.Errorf("parameters of %s: %w", path, err)
			}
		}
		for _, method := range methods {
			raw, ok := item[strings.ToLower(method)]
			if !ok {
				continue
			}
			var op operation
			if err := yaml.Unmarshal(raw, &op); err != nil {
				return nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
			}
			r := route{Path: path, Method: method, Op: op}
			for _, p := range append(append([]parameter{}, common...), op.Parameters...) {
				r.Params = append(r.Params, doc.parameter(p))
			}
			if op.RequestBody != nil {
				if c, ok := op.RequestBody.Content["application/json"]; ok {
					s := doc.schema(c.Schema)
					r.Body = &s
				}
			}
			routes = append(routes, r)
			allowed[path] = append(allowed[path], method)
		}
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].String() < routes[j].String() })
	return routes, allowed, nil
}

// parameter resolves a $ref to components/parameters.
func (d *spec) parameter(p parameter) parameter {
	if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
		p = d.Components.Parameters[name]
	}
	p.Schema = d.schema(p.Schema)
	return p
}

// schema resolves a $ref to components/schemas (a chain of them too, bounded).
func (d *spec) schema(s schema) schema {
	for i := 0; i < 10 && s.Ref != ""; i++ {
		name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/")
		if !ok {
			break
		}
		s = d.Components.Schemas[name]
	}
	return s
}

// typeName is the schema's type, the first that is not "null" of a list.
func (s schema) typeName() string {
	switch t := s.Type.(type) {
	case string:
		return t
	case []any:
		for _, v := range t {
			if name, ok := v.(string); ok && name != "null" {
				return name
			}
		}
	}
	if len(s.Properties) > 0 {
		return "object"
	}
	return ""
}
