package render

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// testEvent is an event whose data has a value of every JSON type, nested objects and
// arrays, keys holding dots and keys named like built-ins.
func testEvent(data string) EventInput {
	return EventInput{
		ID: "evt_1", Type: "device.created",
		Timestamp: time.Date(2026, 3, 4, 10, 0, 0, 500000000, time.UTC),
		Data:      json.RawMessage(data),
	}
}

var testVars = Vars{WebhookID: "wh_1", AttemptedAt: time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC)}

const richData = `{
	"device_id": "d-1",
	"count": 42,
	"big": 123456789012345678901234567890,
	"ok": true,
	"none": null,
	"tricky": "a\"b\\c\n<p>&é\u2028",
	"device": {"id": "dev-9", "tags": ["x", "y"], "z": 1, "a": 2},
	"device.id": "flat",
	"a": {"b.c": "deep-dotted", "b": {"d": "deep"}},
	"items": [{"sku": "s0"}, {"sku": "s1"}],
	"eventId": "forged",
	"timestamp": "forged"
}`

func TestTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, tmpl, want string
	}{
		{"seed 002 example", `{"device_id": "{device_id}"}`, `{"device_id": "d-1"}`},
		{"JSON braces around a placeholder in a string", `{"a": {"b": "{eventId}"}}`, `{"a": {"b": "evt_1"}}`},
		{"empty object is structure", `{"a": {}, "b": [{}]}`, `{"a": {}, "b": [{}]}`},
		{"number outside a string", `{"n": {count}}`, `{"n": 42}`},
		{"big number kept verbatim", `[{big}]`, `[123456789012345678901234567890]`},
		{"bool and null outside a string", `[{ok}, {none}]`, `[true, null]`},
		{"string outside a string is quoted and escaped", `{"s": {tricky}}`, `{"s": "a\"b\\c\n<p>&é\u2028"}`},
		{"object outside a string, compact, order kept", `{"d": {device}}`, `{"d": {"id":"dev-9","tags":["x","y"],"z":1,"a":2}}`},
		{"whole template one placeholder", `{device}`, `{"id":"dev-9","tags":["x","y"],"z":1,"a":2}`},
		{"string inside a string, escaped for it", `{"s": "<{tricky}>"}`, `{"s": "<a\"b\\c\n<p>&é\u2028>"}`},
		{"number inside a string is its text", `{"s": "n={count}"}`, `{"s": "n=42"}`},
		{"null inside a string is its text", `{"s": "{none}"}`, `{"s": "null"}`},
		{"object inside a string is its JSON text, escaped", `{"s": "{device.tags}"}`, `{"s": "[\"x\",\"y\"]"}`},
		{"placeholder in a member name", `{"{device_id}": 1}`, `{"d-1": 1}`},
		{"built-ins", `["{eventType}", "{eventId}", "{timestamp}", "{webhookId}"]`,
			`["device.created", "evt_1", "2026-03-04T10:00:00.5Z", "wh_1"]`},
		{"built-ins shadow data keys", `[{eventId}, {timestamp}]`, `["evt_1", "2026-03-04T10:00:00.5Z"]`},
		{"key holding a dot wins over the path", `"{device.id}"`, `"flat"`},
		{"dotted path", `"{device.z}"`, `"1"`},
		{"longest key at a nested level", `["{a.b.c}", "{a.b.d}"]`, `["deep-dotted", "deep"]`},
		{"array index", `{"sku": "{items.1.sku}"}`, `{"sku": "s1"}`},
		{"no placeholder: not a valid name, kept as text", `{"s": "{} { a } {a..b} {.a} {a.} {é} {a-b} {"}`, `{"s": "{} { a } {a..b} {.a} {a.} {é} {a-b} {"}`},
		{"escaped brace is text", `{"s": "\u007BeventId}"}`, `{"s": "\u007BeventId}"}`},
		{"escaped quote keeps the string open", `{"s": "a\"{eventId}"}`, `{"s": "a\"evt_1"}`},
		{"escaped backslash then placeholder", `{"s": "\\{eventId}"}`, `{"s": "\\evt_1"}`},
		{"whitespace kept as written", "{\n  \"id\" : {count} \n}", "{\n  \"id\" : 42 \n}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Template(tt.tmpl, testEvent(richData), testVars)
			if err != nil {
				t.Fatalf("Template(%s): %v", tt.tmpl, err)
			}
			if string(got) != tt.want {
				t.Fatalf("Template(%s) =\n%s\nwant\n%s", tt.tmpl, got, tt.want)
			}
			if err := CheckTemplate(tt.tmpl); err != nil {
				t.Fatalf("CheckTemplate(%s): %v", tt.tmpl, err)
			}
			if !json.Valid(got) {
				t.Fatalf("Template(%s) = %s, not valid JSON", tt.tmpl, got)
			}
		})
	}
}

func TestTemplateMissing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, tmpl, data, missing string
	}{
		{"unknown key", `{"d": "{device_id}", "x": "{nope}"}`, richData, "nope"},
		{"unknown key outside a string", `{"x": {nope}}`, richData, "nope"},
		{"unknown nested key", `"{device.nope}"`, richData, "device.nope"},
		{"below a string", `"{device_id.x}"`, richData, "device_id.x"},
		{"below null", `"{none.x}"`, richData, "none.x"},
		{"index out of range", `"{items.2.sku}"`, richData, "items.2.sku"},
		{"index with a leading zero", `"{items.01.sku}"`, richData, "items.01.sku"},
		{"index into an object", `"{device.0}"`, richData, "device.0"},
		// No backtracking: "a.b" is not a key, so a → b is taken, and it has no c.
		{"taken key has nothing below", `"{device.id.x}"`, richData, "device.id.x"},
		{"no data", `"{device_id}"`, ``, "device_id"},
		{"null data", `"{device_id}"`, `null`, "device_id"},
		{"first missing is named", `["{one}", "{two}"]`, `{}`, "one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Template(tt.tmpl, testEvent(tt.data), testVars)
			var missing *MissingError
			if !errors.As(err, &missing) {
				t.Fatalf("Template(%s) = %s, %v; want a *MissingError", tt.tmpl, got, err)
			}
			if missing.Placeholder != tt.missing || !strings.Contains(err.Error(), "{"+tt.missing+"}") {
				t.Fatalf("error %q names %q, want %q", err, missing.Placeholder, tt.missing)
			}
		})
	}
}

func TestTemplateTooLarge(t *testing.T) {
	t.Parallel()
	half := strings.Repeat("a", MaxBody/2)
	ev := testEvent(`{"s": "` + half + `"}`)
	if got, err := Template(`["{s}"]`, ev, testVars); err != nil || len(got) != MaxBody/2+4 {
		t.Fatalf("one copy: %d bytes, %v; want it rendered", len(got), err)
	}
	if _, err := Template(`["{s}", "{s}"]`, ev, testVars); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("two copies: %v, want ErrTooLarge", err)
	}
	// Escaping counts: each quote becomes two bytes.
	quotes := testEvent(`{"s": "` + strings.Repeat(`\"`, MaxBody/2+1) + `"}`)
	if _, err := Template(`"{s}"`, quotes, testVars); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("escaped: %v, want ErrTooLarge", err)
	}
}

func TestCheckTemplate(t *testing.T) {
	t.Parallel()
	accepted := []string{
		`{"device_id": "{device_id}"}`,
		`{"n": {count}, "list": [{a}, {b}], "o": {"p": {c}}}`,
		`{device}`,
		` [ {a} ] `,
		`{}`,
		`"{a} and {b}"`,
		`{"{key}": {value}}`,
		`{"a": {"b": "{eventId}"}}`,
		`{"s": "\\{a}"}`,
		`{"s": "\u00e9{a}"}`,
		`{"s": "{not a placeholder} {} }{"}`,
		`{"n": 1, "m": {a}}`,
	}
	for _, tmpl := range accepted {
		if err := CheckTemplate(tmpl); err != nil {
			t.Errorf("CheckTemplate(%s) = %v, want nil", tmpl, err)
		}
	}
	refused := []struct {
		tmpl string
		want string // a part of the message
	}{
		{`{"a": 1 {x}}`, "placeholder {x} at character 9 stands where a JSON value cannot"},
		{`{{key}: 1}`, "placeholder {key} at character 2 stands where a JSON value cannot"},
		{`{"n": {x}5}`, "placeholder {x} at character 7"},
		{`{"n": 5{x}}`, "placeholder {x} at character 8"},
		{`{"n": -{x}}`, "placeholder {x} at character 8"},
		{`[{a}{b}]`, "placeholder {b} at character 5"},
		{`{"a": "\u00{x}"}`, "placeholder {x} at character 12 follows an incomplete escape"},
		{`{"a": }`, `is not valid JSON at character 7 (near "{\"a\": }")`},
		{`{"a": "{x}", "b": }`, `is not valid JSON at character 19`},
		{`{"a": {x}, "b" 1}`, `is not valid JSON at character 16`},
		{`{"a": 1} trailing`, "is not valid JSON at character 10"},
		{`{"a": 1`, "unexpected end of JSON input"},
		{`{ a }`, "is not valid JSON at character 3"},
		{`{"é": x}`, "is not valid JSON at character 7"},
		{`{"a": "b` + "\n" + `"}`, "is not valid JSON"},
		{``, "must not be blank"},
		{"  \n", "must not be blank"},
		{"\"\xff\"", "must be valid UTF-8"},
	}
	for _, tt := range refused {
		err := CheckTemplate(tt.tmpl)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckTemplate(%q) = %v, want an error holding %q", tt.tmpl, err, tt.want)
		}
	}
}

// TestCheckedTemplatesRenderValidJSON renders each template CheckTemplate accepts with
// values of every JSON type, and hostile strings.
func TestCheckedTemplatesRenderValidJSON(t *testing.T) {
	t.Parallel()
	templates := []string{
		`{"n": {v}, "list": [{v}, {v}], "o": {"p": {v}}, "s": "<{v}>", "{v}": {v}}`,
		`{v}`,
		`"\\{v}\"{v}"`,
	}
	values := []string{`"a\"b\\c\n\u0000\u2028<>&"`, `-1.5e300`, `0`, `true`, `null`, `{"k": [1, {"x": "y"}]}`, `[]`, `""`}
	for _, tmpl := range templates {
		if err := CheckTemplate(tmpl); err != nil {
			t.Fatalf("CheckTemplate(%s): %v", tmpl, err)
		}
		for _, v := range values {
			got, err := Template(tmpl, testEvent(`{"v": `+v+`}`), testVars)
			if err != nil || !json.Valid(got) {
				t.Errorf("Template(%s) with v=%s = %s, %v; want valid JSON", tmpl, v, got, err)
			}
		}
	}
}

func TestCheckFormTemplate(t *testing.T) {
	t.Parallel()
	for _, tmpl := range []string{`{"device": "{device_id}", "n": {count}}`, " \n{}"} {
		if err := CheckFormTemplate(tmpl); err != nil {
			t.Errorf("CheckFormTemplate(%q) = %v, want nil", tmpl, err)
		}
	}
	for _, tmpl := range []string{`{device}`, ` {device} `, `[{"a": 1}]`, `"{a}"`, `42`} {
		err := CheckFormTemplate(tmpl)
		if err == nil || !strings.Contains(err.Error(), "must render a JSON object for contentType form") {
			t.Errorf("CheckFormTemplate(%q) = %v, want the object rule", tmpl, err)
		}
	}
	if err := CheckFormTemplate(`{"a": }`); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("CheckFormTemplate of invalid JSON = %v, want CheckTemplate's error", err)
	}
}
