package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/store"
)

// problemMessage returns the message the problem gives for field, failing if it names no
// such field.
func problemMessage(t *testing.T, p problem, field string) string {
	t.Helper()
	wantFields(t, p, field)
	for _, fe := range p.Errors {
		if fe.Field == field {
			return fe.Message
		}
	}
	return ""
}

func TestEventTypeSchemaLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	deepNot := strings.Repeat(`{"not":`, 4000) + `{}` + strings.Repeat(`}`, 4000)
	deepProps := strings.Repeat(`{"properties":{"a":`, 4000) + `{}` + strings.Repeat(`}}`, 4000)
	tests := []struct {
		name, schema, field, message string
	}{
		{"depth 4000", deepNot, "schema", "must nest objects and arrays at most 64 levels deep"},
		{"depth 4000 in properties", deepProps, "schema", "must be at most 65536 bytes (64 KiB) of JSON"},
		{"size", `{"description":"` + strings.Repeat("x", 70<<10) + `"}`, "schema", "must be at most 65536 bytes"},
		{"self $ref", `{"$ref":"#"}`, "schema.$ref", "is a reference cycle that consumes no input (#/$ref → #)"},
		{"self $ref in $defs", `{"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`, "schema.$defs.a.$ref", "(#/$defs/a/$ref → #/$defs/a)"},
		{"mutual $ref", `{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`, "schema.$defs.b.$ref", "#/$defs/a/$ref → #/$defs/b/$ref → #/$defs/a"},
		{"huge exponent", `{"properties":{"n":{"multipleOf":1e-999999}}}`, "schema.properties.n.multipleOf", "is a number hookd does not validate"},
	}
	e.createEventType(e.admin, "device.created", map[string]any{"type": "object"})
	before := e.counts()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := raw(`{"name":"limits.test","schema":` + tt.schema + `}`)
			p := decodeProblem(t, e.do("POST", "/v1/event-types", e.admin, body), http.StatusUnprocessableEntity)
			if msg := problemMessage(t, p, tt.field); !strings.Contains(msg, tt.message) {
				t.Errorf("POST: %s: %q, want …%s…", tt.field, msg, tt.message)
			}
			p = decodeProblem(t, e.do("PUT", "/v1/event-types/device.created", e.admin, raw(`{"schema":`+tt.schema+`}`)), http.StatusUnprocessableEntity)
			if msg := problemMessage(t, p, tt.field); !strings.Contains(msg, tt.message) {
				t.Errorf("PUT: %s: %q, want …%s…", tt.field, msg, tt.message)
			}
		})
	}
	e.assertUnchanged(before)
}

func TestRecursiveSchemaValidatesEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var tree map[string]any
	if err := json.Unmarshal([]byte(`{"$defs":{"node":{"type":"object","required":["name"],"properties":{
		"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/node"}}}}},
		"$ref":"#/$defs/node"}`), &tree); err != nil {
		t.Fatal(err)
	}
	e.createEventType(e.admin, "tree.changed", tree)

	good := map[string]any{"type": "tree.changed", "data": map[string]any{"name": "root", "children": []any{
		map[string]any{"name": "a", "children": []any{map[string]any{"name": "a1"}}},
	}}}
	e.must(http.StatusAccepted, "POST", "/v1/events", e.pub, good)
	bad := map[string]any{"type": "tree.changed", "data": map[string]any{"name": "root", "children": []any{
		map[string]any{"name": "a", "children": []any{map[string]any{"name": 7}}},
	}}}
	p := decodeProblem(t, e.do("POST", "/v1/events", e.pub, bad), http.StatusUnprocessableEntity)
	wantFields(t, p, "data.children[0].children[0].name")
}

// TestStoredCyclicSchemaRefusesEventsClearly covers a schema stored before the limits: its
// events are refused with 422 naming type, never an internal error.
func TestStoredCyclicSchemaRefusesEventsClearly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.store.CreateEventType(context.Background(), store.EventType{OrgID: e.org, Name: "old.type", Schema: json.RawMessage(`{"$ref":"#"}`)}); err != nil {
		t.Fatal(err)
	}
	p := decodeProblem(t, e.do("POST", "/v1/events", e.pub, map[string]any{"type": "old.type", "data": map[string]any{}}), http.StatusUnprocessableEntity)
	if msg := problemMessage(t, p, "type"); !strings.Contains(msg, "PUT /v1/event-types/old.type") {
		t.Errorf("type: %q", msg)
	}
}

func TestWebhookURLNumericHosts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := e.counts()
	for _, host := range []string{"127.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.000.000.001", "0", "127.0.0.1.",
		"localhost.", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::127.0.0.1]", "[fe80::1%25eth0]", "x.localhost",
		"8.8.2056", "[::ffff:8.8.8.8]", "1.2.3.4.5"} {
		t.Run(host, func(t *testing.T) {
			body := webhookBody()
			body["url"] = "https://" + host + "/hook"
			p := decodeProblem(t, e.do("POST", "/v1/webhooks", e.admin, body), http.StatusUnprocessableEntity)
			wantFields(t, p, "url")
		})
	}
	e.assertUnchanged(before)
}

// TestCostlyEventDataRefused: a schema within the limits that reaches a property by two
// paths and recurses there costs 2^depth; deep data is refused before validation.
func TestCostlyEventDataRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var twoPaths map[string]any
	if err := json.Unmarshal([]byte(`{"type":"object","properties":{"x":{"$ref":"#"}},"allOf":[{"properties":{"x":{"$ref":"#"}}}]}`), &twoPaths); err != nil {
		t.Fatal(err)
	}
	e.createEventType(e.admin, "two.paths", twoPaths)
	e.must(http.StatusAccepted, "POST", "/v1/events", e.pub, raw(`{"type":"two.paths","data":{"x":{"x":{}}}}`))
	before := e.counts()
	deep := strings.Repeat(`{"x":`, 40) + `{}` + strings.Repeat(`}`, 40)
	p := decodeProblem(t, e.do("POST", "/v1/events", e.pub, raw(`{"type":"two.paths","data":`+deep+`}`)), http.StatusUnprocessableEntity)
	if msg := problemMessage(t, p, "data"); !strings.Contains(msg, "would take more than") {
		t.Errorf("data: %q", msg)
	}
	e.assertUnchanged(before)
}

// TestCostlyNumbersAndPatternsRefused: data within the size limits that the validator
// would take seconds on (numbers read as exact fractions, patterns compiled to large
// programs against long strings) is refused naming its path, storing nothing.
func TestCostlyNumbersAndPatternsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "num.list", map[string]any{"type": "object",
		"properties": map[string]any{"a": map[string]any{"type": "array", "items": map[string]any{"type": "integer"}}}})
	e.createEventType(e.admin, "re.one", map[string]any{"type": "object",
		"properties": map[string]any{"s": map[string]any{"pattern": "(?:a*){1000}z"}}})
	var fourWays map[string]any // an array whose items may be any of four references to it
	if err := json.Unmarshal([]byte(`{"$defs":{"d":{"type":"array","minItems":1,"items":{"anyOf":[{"$ref":"#/$defs/d"},{"$ref":"#/$defs/d"},{"$ref":"#/$defs/d"},{"$ref":"#/$defs/d"}]}}},"type":"object","properties":{"a":{"$ref":"#/$defs/d"}}}`), &fourWays); err != nil {
		t.Fatal(err)
	}
	e.createEventType(e.admin, "four.ways", fourWays)
	e.must(http.StatusAccepted, "POST", "/v1/events", e.pub, raw(`{"type":"num.list","data":{"a":[1,1e400,-7]}}`))
	e.must(http.StatusAccepted, "POST", "/v1/events", e.pub, raw(`{"type":"re.one","data":{"s":"aaaz"}}`))
	before := e.counts()
	tests := []struct{ name, body, field, message string }{
		{"a huge exponent", `{"type":"num.list","data":{"a":[1,2,1e999999]}}`, "data.a[2]", "is a number hookd does not validate"},
		{"a long number", `{"type":"num.list","data":{"a":[` + strings.Repeat("9", 500) + `]}}`, "data.a[0]", "is a number hookd does not validate"},
		{"a large pattern on a long string", `{"type":"re.one","data":{"s":"` + strings.Repeat("a", 200_000) + `"}}`, "data", "would take more than"},
		// 4^11 branches for 100 bytes: took 4-6 s and 1.5 GB before MaxWork was lowered.
		{"an anyOf that recurses", `{"type":"four.ways","data":{"a":` + strings.Repeat("[", 11) + strings.Repeat("]", 11) + `}}`, "data", "would take more than"},
	}
	for _, tt := range tests {
		p := decodeProblem(t, e.do("POST", "/v1/events", e.pub, raw(tt.body)), http.StatusUnprocessableEntity)
		if msg := problemMessage(t, p, tt.field); !strings.Contains(msg, tt.message) {
			t.Errorf("%s: %s: %q, want …%s…", tt.name, tt.field, msg, tt.message)
		}
	}
	e.assertUnchanged(before)
}
