//go:build faults

package faults

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
)

// minMalformed is the least number of malformed requests the suite sends (issue 11).
const minMalformed = 500

// probe is one malformed request and the status it must get: a 4xx problem, exactly
// want when want is not 0.
type probe struct {
	kind   string // what is wrong with it, for the report
	method string
	path   string // with its query, percent-encoded as sent
	key    string
	body   []byte
	header map[string]string
	want   int
}

// malformedRequests sends requests generated from api/openapi.yaml, each wrong in one
// way, to every route, and asserts that each is a 4xx problem+json and that the database
// is the same afterwards.
func malformedRequests(t *testing.T, e *env) {
	r := record(&row{Fault: "malformed requests", Accepted: notApplicable, Delivered: notApplicable,
		Lost: notApplicable, Duplicated: notApplicable, Refused: notApplicable})
	routes, allowed, err := apiSpec()
	if err != nil {
		r.Failed = true
		t.Fatal(err)
	}
	rc := newReceiver(t)
	objs := e.seedObjects(t, e.adminKey, "malformed", rc)
	keys := map[string]string{"admin": e.adminKey}
	for _, role := range []string{"publisher", "viewer"} {
		keys[role] = e.keysCreate(t, "org_default", role)
	}
	probes, err := malformedProbes(routes, allowed, objs, keys)
	if err != nil {
		r.Failed = true
		t.Fatal(err)
	}

	before := e.fingerprint()
	rssBefore := e.rss()
	byKind := map[string]int{}
	byStatus := map[int]int{}
	var bad []string
	for _, p := range probes {
		a, err := e.send(p.method, p.path, p.key, p.body, p.header)
		byKind[p.kind]++
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s %s (%s): %v", p.method, p.path, p.kind, err))
			continue
		}
		byStatus[a.status]++
		if a.status >= 500 {
			r.Other5xx++
		}
		if why := refusedAsProblem(a, p.want); why != "" {
			bad = append(bad, fmt.Sprintf("%s %s (%s): %s: %s", p.method, clip(p.path), p.kind, why, a))
		}
	}
	changed := changedTables(before, e.fingerprint())
	r.Times = len(probes)

	r.note("%d requests generated from the %d operations of api/openapi.yaml (the document hookd serves), each wrong in one way: %s.",
		len(probes), len(routes), summarize(byKind, "%v %d"))
	r.note("Answers: %s. Each must be a 4xx `application/problem+json` whose `status` is the answer's (and exactly 405, 401, 403, 404 or 413 where the fault calls for it), never a 5xx.", summarize(byStatus, "%v ×%d"))
	r.note("Every table of hookd's schema was compared before and after (row counts, and a digest of the rows of all but api_keys, whose last use is stamped): %s. hookd's RSS %d → %d KiB.",
		orNone(changed, "nothing changed"), rssBefore, e.rss())
	if len(probes) < minMalformed {
		r.Failed = true
		t.Errorf("only %d malformed requests generated, want at least %d", len(probes), minMalformed)
	}
	r.judge(t, "malformed requests", len(probes), bad, changed)
}

// judge fails the fault, in the report and in the test, for the wrong answers among n
// requests (each described in bad) and for the tables they changed.
func (r *row) judge(t *testing.T, what string, n int, bad, changed []string) {
	t.Helper()
	if len(bad) > 0 {
		r.Failed = true
		r.note("%d answers were wrong, e.g. %s", len(bad), strings.Join(bad[:min(len(bad), 5)], "; "))
		t.Errorf("%d of %d %s were answered wrongly:\n%s", len(bad), n, what, strings.Join(bad, "\n"))
	}
	if len(changed) > 0 {
		r.Failed = true
		t.Errorf("%s changed tables %v", what, changed)
	}
}

// refusedAsProblem says what is wrong with a, or "" if it is a 4xx problem (of status
// want, if not 0).
func refusedAsProblem(a answer, want int) string {
	if a.status < 400 || a.status >= 500 {
		return "not a 4xx"
	}
	if want != 0 && a.status != want {
		return fmt.Sprintf("want %d", want)
	}
	if !a.isProblem() {
		return "not application/problem+json"
	}
	var p struct {
		Status int `json:"status"`
	}
	if err := json.Unmarshal(a.body, &p); err != nil || p.Status != a.status {
		return "problem body's status is not the answer's"
	}
	if a.status == http.StatusMethodNotAllowed && a.header.Get("Allow") == "" {
		return "405 without Allow"
	}
	return ""
}

// Bad values for path parameters (percent-encoded as sent): ids nothing has, ids
// PostgreSQL cannot store, traversal, injection, overlong.
var badIDs = []string{
	"nope", "wh_00000000000000000000000000", "dlv_zzzzzzzzzzzzzzzzzzzzzzzzzz", "%FF%FE", "%00", "a%00b",
	"..%2F..%2Fetc", "%27%20OR%20%271%27%3D%271", strings.Repeat("x", 300), "%E2%80%AE%F0%9F%92%A5",
}

// Authorization headers that authenticate nothing.
var badAuth = []string{
	"", "Bearer", "Bearer ", "Bearer hk_unknown_key", "Basic dXNlcjpwYXNz", "Token abc",
	"Bearer hk_\xff\xfe", "Bearer " + strings.Repeat("k", 4096),
}

// malformedProbes builds the probes for every route: a wrong method on every path; no,
// garbage or foreign-scheme authentication and a role it does not allow on every
// authenticated route; unknown or unstorable ids on every route with an id; bad values
// of every query parameter and bad bodies (syntax, shape, encoding, size, types of each
// property, content type) on every route that validates them (documents a 400 or 422).
func malformedProbes(routes []route, allowed map[string][]string, objs objects, keys map[string]string) ([]probe, error) {
	var out []probe
	paths := make([]string, 0, len(allowed))
	for path := range allowed {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	for _, path := range paths {
		real, err := fillAny(objs, path)
		if err != nil {
			return nil, err
		}
		for _, m := range methods {
			if !slices.Contains(allowed[path], m) {
				out = append(out, probe{kind: "wrong method", method: m, path: real, key: keys["admin"], body: []byte(`{}`), want: http.StatusMethodNotAllowed})
			}
		}
	}
	for _, rt := range routes {
		real, err := fillAny(objs, rt.Path)
		if err != nil {
			return nil, err
		}
		var body []byte
		if rt.Body != nil {
			body = []byte(`{}`)
		}
		if rt.authenticated() {
			for _, auth := range badAuth {
				out = append(out, probe{kind: "missing or bad auth", method: rt.Method, path: real, body: body,
					header: map[string]string{"Authorization": auth}, want: http.StatusUnauthorized})
			}
			if roles := rt.roles(); roles != nil {
				for _, role := range []string{"publisher", "viewer"} {
					if !slices.Contains(roles, role) {
						out = append(out, probe{kind: "role not allowed", method: rt.Method, path: real, key: keys[role], body: body, want: http.StatusForbidden})
					}
				}
			}
		}
		if pp := rt.pathParams(); len(pp) == 1 && rt.documents(http.StatusNotFound) {
			for _, id := range badIDs {
				path := strings.Replace(rt.Path, "{"+pp[0].Name+"}", id, 1)
				out = append(out, probe{kind: "unknown or unstorable id", method: rt.Method, path: path, key: keys["admin"], body: body, want: http.StatusNotFound})
			}
		}
		if !rt.documents(http.StatusBadRequest) && !rt.documents(http.StatusUnprocessableEntity) {
			continue
		}
		for _, p := range rt.paramsIn("query") {
			for _, v := range badQueryValues(p.Schema) {
				out = append(out, probe{kind: "bad query parameter", method: rt.Method, path: real + "?" + p.Name + "=" + v, key: keys["admin"], body: body})
			}
		}
		if rt.Body != nil {
			for _, b := range badBodies(*rt.Body, rt.Op.RequestBody.Required) {
				b.method, b.path, b.key = rt.Method, real, keys["admin"]
				out = append(out, b)
			}
		}
	}
	return out, nil
}

// fillAny fills path with objs' ids, or with "x" for a path parameter outside /v1 (a
// console asset's path).
func fillAny(objs objects, path string) (string, error) {
	if !strings.HasPrefix(path, "/v1/") && strings.Contains(path, "{") {
		start, end := strings.Index(path, "{"), strings.Index(path, "}")
		return path[:start] + "x" + path[end+1:], nil
	}
	return objs.fill(path)
}

// badQueryValues are values s refuses (percent-encoded as sent), from its type, format,
// enum, pattern and length, and in every case text PostgreSQL cannot store.
func badQueryValues(s schema) []string {
	out := []string{"%FF", "a%00b"}
	switch s.typeName() {
	case "integer", "number":
		out = append(out, "abc", "-1", "99999999999999999999", "1.5", "1e309", "")
	}
	if s.Format == "date-time" {
		out = append(out, "yesterday", "2025-02-30T00:00:00Z", "2025-01-01", "2025-01-01T00:00:00", "10000-01-01T00:00:00Z")
	}
	if len(s.Enum) > 0 {
		out = append(out, "bogus", "SUCCEEDED%20")
	}
	if s.Pattern != "" {
		out = append(out, "%20%21%21", "%7B%7D")
	}
	return out
}

// badBodies are bodies s refuses: not JSON, not an object, duplicate or unknown members,
// unstorable strings, too large, too deep, a wrong type for each property, another
// content type; an empty body and null too when a body is required.
func badBodies(s schema, required bool) []probe {
	raw := []struct{ kind, body string }{
		{"bad JSON", `{`}, {"bad JSON", `{"a":}`}, {"bad JSON", `{'a': 1}`}, {"bad JSON", `{"a":1,}`},
		{"bad JSON", `{} {}`}, {"bad JSON", `{}x`}, {"bad JSON", "\xef\xbb\xbf{}"},
		{"not an object", `[]`}, {"not an object", `"s"`}, {"not an object", `123`}, {"not an object", `true`},
		{"duplicate member", `{"a":1,"a":2}`}, {"unknown member", `{"bogus":1}`},
		{"invalid UTF-8", "{\"bogus\":\"\xff\xfe\"}"}, {"NUL byte", "{\"bogus\":\"a\x00b\"}"},
		{"NUL escape", `{"bogus":"a\u0000b"}`}, {"lone surrogate", `{"bogus":"\ud800"}`},
		{"too deep", strings.Repeat("[", 100000) + strings.Repeat("]", 100000)},
		{"too large", `{"bogus":"` + strings.Repeat("a", 300<<10) + `"}`},
	}
	if required {
		raw = append(raw, struct{ kind, body string }{"empty body", ""}, struct{ kind, body string }{"not an object", "null"})
	}
	var out []probe
	for _, b := range raw {
		p := probe{kind: b.kind, body: []byte(b.body)}
		if b.kind == "too large" {
			p.want = http.StatusRequestEntityTooLarge
		}
		out = append(out, p)
	}
	for _, ct := range []struct{ ctype, body string }{
		{"application/x-www-form-urlencoded", "a=b&c=d"}, {"text/plain", "hello"}, {"application/xml", "<a/>"},
		{"multipart/form-data; boundary=x", "--x\r\n\r\nhi\r\n--x--"},
	} {
		out = append(out, probe{kind: "wrong content type", body: []byte(ct.body), header: map[string]string{"Content-Type": ct.ctype}})
	}
	names := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range wrongValues(s.Properties[name]) {
			b, _ := json.Marshal(map[string]any{name: v})
			out = append(out, probe{kind: "wrong type or value", body: b})
		}
	}
	return out
}

// wrongValues are JSON values of another type than s's, and for a string a NUL escape.
func wrongValues(s schema) []any {
	switch s.typeName() {
	case "string":
		return []any{12345, []any{"a"}, "a\u0000b"}
	case "integer", "number":
		return []any{"12", 1.5e300, map[string]any{}}
	case "boolean":
		return []any{"true", 1}
	case "array":
		return []any{map[string]any{"a": 1}, "a"}
	case "object":
		return []any{[]any{1}, "a"}
	}
	return []any{map[string]any{"\x00": []any{}}}
}

// summarize lists m's counts in the order of its keys, each as format makes it of the key
// and its count ("%v %d").
func summarize[K cmp.Ordered](m map[K]int, format string) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf(format, k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func orNone(changed []string, none string) string {
	if len(changed) == 0 {
		return none
	}
	return "changed: " + strings.Join(changed, ", ")
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
