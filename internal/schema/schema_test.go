package schema_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/schema"
	"github.com/hookd/hookd/internal/validation"
)

// nested is a schema whose properties nest n levels ({"properties":{"a": …}}), 2n+1 levels
// of JSON.
func nested(n int) string {
	return strings.Repeat(`{"properties":{"a":`, n) + `{"type":"string"}` + strings.Repeat(`}}`, n)
}

// refused asserts that Compile refuses raw with an error naming field whose message holds
// want, and returns the message.
func refused(t *testing.T, raw, field, want string) string {
	t.Helper()
	sch, verr := schema.Compile(json.RawMessage(raw), "schema")
	if verr == nil {
		t.Fatalf("Compile accepted %.200s (%v)", raw, sch)
	}
	for _, fe := range verr.Errors {
		if fe.Field == field && strings.Contains(fe.Message, want) {
			return fe.Message
		}
	}
	t.Fatalf("Compile(%.200s) = %v, want %s: …%s…", raw, verr, field, want)
	return ""
}

func accepted(t *testing.T, raw string) {
	t.Helper()
	if _, verr := schema.Compile(json.RawMessage(raw), "schema"); verr != nil {
		t.Fatalf("Compile(%.200s) = %v, want it accepted", raw, verr)
	}
}

func TestCompileLimits(t *testing.T) {
	t.Parallel()
	// The case: 4,000 levels took 54 s to compile. Written with properties it
	// is also too big; with not, it is 28 KB.
	refused(t, nested(4000), "schema", "at most 65536 bytes")
	refused(t, strings.Repeat(`{"not":`, 4000)+`{}`+strings.Repeat(`}`, 4000), "schema", "at most 64 levels deep")
	refused(t, `{"not":`+strings.Repeat(`[`, 100)+strings.Repeat(`]`, 100)+`}`, "schema", "levels deep")
	// 2n+1 levels: 31 properties is 63 levels with the leaf's object, 32 is 65.
	accepted(t, nested(31))
	refused(t, nested(32), "schema", "levels deep")

	big := `{"description":"` + strings.Repeat("x", schema.MaxBytes) + `"}`
	refused(t, big, "schema", "at most 65536 bytes (64 KiB)")
	fits := `{"description":"` + strings.Repeat("x", schema.MaxBytes-len(`{"description":""}`)) + `"}`
	accepted(t, fits)
	// Whitespace between tokens is not counted.
	accepted(t, strings.ReplaceAll(fits, `:`, strings.Repeat(" ", 1000)+`:`))

	refused(t, `{"type":`, "schema", "must be valid JSON")
	refused(t, `[]`, "schema", "must be a JSON Schema object")
}

func TestCompileRefusesCyclesWithoutInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw, field, loop string
	}{
		{"self", `{"$ref":"#"}`, "schema.$ref", "(#/$ref → #)"},
		{"self def", `{"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`, "schema.$defs.a.$ref", "#/$defs/a/$ref → #/$defs/a"},
		{"mutual", `{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"properties":{"x":{"$ref":"#/$defs/a"}}}`,
			"schema.$defs.b.$ref", "#/$defs/a/$ref → #/$defs/b/$ref → #/$defs/a"},
		{"allOf to root", `{"type":"object","allOf":[{"$ref":"#"}]}`, "schema.allOf[0].$ref", "#/allOf/0 → #/allOf/0/$ref → #"},
		{"not", `{"not":{"not":{"$ref":"#"}}}`, "schema.not.not.$ref", "cycle"},
		{"anyOf", `{"$defs":{"a":{"anyOf":[{"type":"string"},{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"}`, "schema.$defs.a.anyOf[1].$ref", "cycle"},
		{"then", `{"if":true,"then":{"$ref":"#"}}`, "schema.then.$ref", "cycle"},
		{"dependentSchemas", `{"dependentSchemas":{"a":{"$ref":"#"}}}`, "schema.dependentSchemas.a.$ref", "cycle"},
		{"anchor", `{"$defs":{"a":{"$anchor":"x","$ref":"#x"}},"$ref":"#x"}`, "schema.$defs.a.$ref", "cycle"},
		{"escaped name", `{"$defs":{"a/b":{"$ref":"#/$defs/a~1b"}},"$ref":"#/$defs/a~1b"}`, "schema.$defs.a/b.$ref", "#/$defs/a~1b/$ref"},
		{"dynamic", `{"$dynamicAnchor":"n","allOf":[{"$dynamicRef":"#n"}]}`, "schema.allOf[0].$dynamicRef", "cycle"},
		{"draft 7", `{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"a":{"$ref":"#/definitions/a"}},"properties":{"x":{"$ref":"#/definitions/a"}}}`,
			"schema.definitions.a.$ref", "cycle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg := refused(t, tt.raw, tt.field, tt.loop)
			if !strings.Contains(msg, "consumes no input") {
				t.Errorf("message %q does not say the cycle consumes no input", msg)
			}
		})
	}
}

// recursive are schemas that refer back to themselves through a property or an item: they
// recurse over the data, not forever.
var recursive = map[string]string{
	"tree": `{"$defs":{"node":{"type":"object","required":["name"],"properties":{"name":{"type":"string"},
		"children":{"type":"array","items":{"$ref":"#/$defs/node"}}}}},"$ref":"#/$defs/node"}`,
	"root tree":   `{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#"}}},"required":["name"]}`,
	"linked list": `{"type":"object","properties":{"value":{"type":"integer"},"next":{"$ref":"#"}},"required":["value"]}`,
	"map":         `{"type":["object","string"],"additionalProperties":{"$ref":"#"}}`,
	"keys":        `{"propertyNames":{"$ref":"#"},"maxLength":3}`,
	"metaschema":  `{"$ref":"https://json-schema.org/draft/2020-12/schema"}`,
	"dynamic":     `{"$dynamicAnchor":"node","type":"object","properties":{"kids":{"type":"array","items":{"$dynamicRef":"#node"}}}}`,
}

func TestCompileAcceptsRecursionThroughData(t *testing.T) {
	t.Parallel()
	for name, raw := range recursive {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			accepted(t, raw)
		})
	}
	sch, verr := schema.Compile(json.RawMessage(recursive["tree"]), "schema")
	if verr != nil {
		t.Fatal(verr)
	}
	good := `{"name":"root","children":[{"name":"a","children":[{"name":"a1"}]},{"name":"b"}]}`
	if err := schema.Validate(sch, json.RawMessage(good), "data"); err != nil {
		t.Errorf("valid tree refused: %v", err)
	}
	bad := `{"name":"root","children":[{"name":"a","children":[{"name":7}]}]}`
	var v *validation.Errors
	if err := schema.Validate(sch, json.RawMessage(bad), "data"); !errors.As(err, &v) || !v.Has("data.children[0].children[0].name") {
		t.Errorf("invalid tree: %v, want an error at data.children[0].children[0].name", err)
	}
}

// anyOfChain is a schema of n definitions, each an anyOf of two $refs to the next: 2^n
// paths to the last one.
func anyOfChain(n int) string {
	var b strings.Builder
	b.WriteString(`{"$ref":"#/$defs/a0","$defs":{`)
	for i := range n {
		fmt.Fprintf(&b, `"a%d":{"anyOf":[{"$ref":"#/$defs/a%d"},{"$ref":"#/$defs/a%d"}]},`, i, i+1, i+1)
	}
	fmt.Fprintf(&b, `"a%d":false}}`, n)
	return b.String()
}

func TestCompileBoundsApplications(t *testing.T) {
	t.Parallel()
	// Each link counts itself, its two anyOf branches and their targets: a chain of n
	// counts 3·2^n−2 applications at the root.
	accepted(t, anyOfChain(6))
	refused(t, anyOfChain(20), "schema.$defs.a13", "applies more than 256 subschemas to one value")
}

func TestCacheCompilesOncePerVersion(t *testing.T) {
	t.Parallel()
	c := schema.NewCache()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v := schema.Version{OrgID: "org", EventType: "tree.changed", UpdatedAt: at, Schema: json.RawMessage(recursive["tree"])}
	first, err := c.Get(v)
	if err != nil || first == nil {
		t.Fatalf("Get = %v, %v", first, err)
	}
	again, err := c.Get(v)
	if err != nil || again != first {
		t.Fatalf("second Get = %p, %v; want the cached %p", again, err, first)
	}
	v.UpdatedAt = at.Add(time.Second)
	if next, err := c.Get(v); err != nil || next == first {
		t.Fatalf("Get of a new version = %p, %v; want a new compilation", next, err)
	}
	if sch, err := c.Get(schema.Version{OrgID: "org", EventType: "x", Schema: json.RawMessage("null")}); sch != nil || err != nil {
		t.Fatalf("Get without a schema = %v, %v", sch, err)
	}

	// A schema stored before the limits is refused per event as a field error, not an
	// internal one.
	for _, raw := range []string{`{"$ref":"#"}`, nested(4000)} {
		_, err := c.Get(schema.Version{OrgID: "org", EventType: "old.type", UpdatedAt: at, Schema: json.RawMessage(raw)})
		var verr *validation.Errors
		if !errors.As(err, &verr) || !verr.Has("type") || !strings.Contains(verr.Error(), "PUT /v1/event-types/old.type") {
			t.Errorf("Get of a stored %.30s… = %v, want a field error naming type", raw, err)
		}
		at = at.Add(time.Second)
	}
}

func BenchmarkCompileRealistic(b *testing.B) {
	raw, err := os.ReadFile("testdata/order.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, verr := schema.Compile(raw, "schema"); verr != nil {
			b.Fatal(verr)
		}
	}
}

// BenchmarkCompileAtLimits compiles a schema as big and deep as the limits allow: 64 KiB
// of properties nested 31 levels.
func BenchmarkCompileAtLimits(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"properties":{`)
	for i := 0; sb.Len() < schema.MaxBytes-1000; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `"p%d":%s`, i, nested(30))
	}
	sb.WriteString(`}}`)
	raw := json.RawMessage(sb.String())
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, verr := schema.Compile(raw, "schema"); verr != nil {
			b.Fatal(verr)
		}
	}
}
