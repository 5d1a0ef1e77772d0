package schema

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/validation"
)

// twoPaths reaches property x of every level by two paths and recurses there: 2^depth.
const twoPaths = `{"type":"object","properties":{"x":{"$ref":"#"}},"allOf":[{"properties":{"x":{"$ref":"#"}}}]}`

func nestedX(depth int) string {
	return strings.Repeat(`{"x":`, depth) + `{}` + strings.Repeat(`}`, depth)
}

func TestWork(t *testing.T) {
	t.Parallel()
	tests := []struct {
		schema, data string
		want         int
	}{
		{`{"properties":{"a":{}}}`, `{"a":1,"b":2}`, 2},
		{`{"properties":{"a":{}},"additionalProperties":{"type":"string"}}`, `{"a":1,"b":2,"c":3}`, 4},
		{`{"patternProperties":{"^a":{},"b$":{}}}`, `{"ab":1}`, 5}, // 3 applications + 2 name matches
		{`{"propertyNames":{"maxLength":3},"additionalProperties":false}`, `{"ab":1}`, 2},
		{`{"prefixItems":[{},{}],"items":{"$ref":"#/$defs/s"},"contains":{},"$defs":{"s":{"type":"string"}}}`, `[1,2,3]`, 1 + 2 + 2 + 3},
		{`{"allOf":[{},{"anyOf":[{},{}]}]}`, `1`, 5},
		// Root: itself and allOf/0. Level k: 2^k paths, each the $ref, the root and
		// allOf/0: 2 + 3·(2+4) for two levels.
		{twoPaths, nestedX(2), 20},
		// A pattern counts its program's steps over the string: short strings cost 1.
		{`{"pattern":"^a"}`, `"abc"`, 2},
		{`{"pattern":"(?:a*){1000}z"}`, `"` + strings.Repeat("a", 8_000) + `"`, 1 + 125*patternSteps("(?:a*){1000}z")},
	}
	for _, tt := range tests {
		sch, verr := Compile(json.RawMessage(tt.schema), "schema")
		if verr != nil {
			t.Fatal(verr)
		}
		var doc any
		if err := json.Unmarshal([]byte(tt.data), &doc); err != nil {
			t.Fatal(err)
		}
		if got := work(sch, doc, MaxWork); got != tt.want {
			t.Errorf("work(%s, %s) = %d, want %d", tt.schema, tt.data, got, tt.want)
		}
	}
}

func TestValidateRefusesCostlyData(t *testing.T) {
	t.Parallel()
	sch, verr := Compile(json.RawMessage(twoPaths), "schema")
	if verr != nil {
		t.Fatal(verr)
	}
	if err := Validate(sch, json.RawMessage(nestedX(5)), "data"); err != nil {
		t.Errorf("shallow data refused: %v", err)
	}
	// 2^40 paths: the validator would run for days.
	err := Validate(sch, json.RawMessage(nestedX(40)), "data")
	var v *validation.Errors
	if !errors.As(err, &v) || !v.Has("data") || !strings.Contains(err.Error(), "would take more than 1048576 schema checks") {
		t.Fatalf("Validate = %v, want data refused as too costly", err)
	}
}

// TestWorkOfRealisticEvent keeps the bound far from real events: an order of 500 lines
// (its schema's most) costs a small fraction of MaxWork and validates.
func TestWorkOfRealisticEvent(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/order.json")
	if err != nil {
		t.Fatal(err)
	}
	sch, verr := Compile(raw, "schema")
	if verr != nil {
		t.Fatal(verr)
	}
	line := `{"sku":"A1","quantity":2,"unitPrice":{"amount":1999,"currency":"EUR"},
		"discounts":[{"code":"X","percent":10}],"category":{"name":"shoes","parent":{"name":"clothing"}},
		"attributes":{"size":"42","color":"red"}}`
	data := `{"id":"ord_0123456789abcdef","createdAt":"2026-01-02T03:04:05Z","status":"paid",
		"customer":{"id":"c1","email":"a@example.com","shippingAddress":{"line1":"1 Main St","city":"Berlin","country":"DE"}},
		"lines":[` + strings.TrimSuffix(strings.Repeat(line+",", 500), ",") + `],
		"total":{"amount":999500,"currency":"EUR"},"shipping":null,"metadata":{"source":"web"}}`
	var doc any
	if err := json.Unmarshal([]byte(data), &doc); err != nil {
		t.Fatal(err)
	}
	if n := work(sch, doc, MaxWork); n > CostlyWork {
		t.Errorf("work = %d: a realistic 500-line order would be a costly validation (over %d)", n, CostlyWork)
	}
	if err := Validate(sch, json.RawMessage(data), "data"); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestNumberTooCostly(t *testing.T) {
	t.Parallel()
	for n, want := range map[string]bool{
		"1": false, "-0.5": false, "1e400": false, "1E-400": false, "1e+400": false,
		"1.7976931348623157e308": false,
		"1e401":                  true, "1e-401": true, "1e999999": true, "1e99999999999999999999": true,
		strings.Repeat("9", MaxNumberLength): false, strings.Repeat("9", MaxNumberLength+1): true,
	} {
		if got := numberTooCostly(n); got != want {
			t.Errorf("numberTooCostly(%.20s…) = %v, want %v", n, got, want)
		}
	}
}

func TestValidationMessagesAreShort(t *testing.T) {
	t.Parallel()
	sch, verr := Compile(json.RawMessage(`{"properties":{"s":{"pattern":"^b"}}}`), "schema")
	if verr != nil {
		t.Fatal(verr)
	}
	err := Validate(sch, json.RawMessage(`{"s":"`+strings.Repeat("a", 10_000)+`"}`), "data")
	var v *validation.Errors
	if !errors.As(err, &v) || len(v.Errors) != 1 || v.Errors[0].Field != "data.s" {
		t.Fatalf("Validate = %v, want one problem at data.s", err)
	}
	if n := len([]rune(v.Errors[0].Message)); n > maxMessage || !strings.HasSuffix(v.Errors[0].Message, "…") {
		t.Fatalf("message of %d runes: %.80q…", n, v.Errors[0].Message)
	}
}

// TestCostlyValidationsRunOneAtATime: data whose validation is costly waits for the one
// costly slot and is refused with ErrBusy while another holds it; cheap data does not wait.
func TestCostlyValidationsRunOneAtATime(t *testing.T) {
	sch, verr := Compile(json.RawMessage(`{"$defs":{"d":{"type":"array","items":{"anyOf":[{"$ref":"#/$defs/d"},{"$ref":"#/$defs/d"},{"$ref":"#/$defs/d"},{"$ref":"#/$defs/d"}]}}},"$ref":"#/$defs/d"}`), "schema")
	if verr != nil {
		t.Fatal(verr)
	}
	var data json.RawMessage
	for depth := 1; ; depth++ {
		data = json.RawMessage(strings.Repeat("[", depth) + strings.Repeat("]", depth))
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		if w := work(sch, doc, MaxWork); w > CostlyWork {
			if w > MaxWork {
				t.Fatalf("no depth between CostlyWork and MaxWork (depth %d: %d)", depth, w)
			}
			break
		}
	}
	if !costly.TryAcquire(1) {
		t.Fatal("the costly slot is taken")
	}
	if err := Validate(sch, json.RawMessage(`[]`), "data"); err != nil {
		t.Fatalf("cheap data while the slot is taken: %v", err)
	}
	if err := Validate(sch, data, "data"); !errors.Is(err, ErrBusy) {
		t.Fatalf("costly data while the slot is taken: %v, want ErrBusy", err)
	}
	costly.Release(1)
	if err := Validate(sch, data, "data"); err != nil {
		t.Fatalf("costly data with the slot free: %v", err)
	}
}
