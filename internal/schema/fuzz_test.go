package schema_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/schema"
)

// fuzzInstances are the event data each accepted schema is tried on.
var fuzzInstances = []string{`null`, `true`, `0`, `1.5`, `"abc"`, `[]`, `{}`, `[[{}],"x",2]`,
	`{"a":{"a":[1]},"b":"c","children":[{"name":"x"}],"x":1}`}

// FuzzCompile feeds Compile arbitrary bytes and Validate arbitrary data: they must not
// panic, and a schema Compile accepts must never refuse an event because of a reference
// cycle (the checker must see every cycle the validator can run into).
func FuzzCompile(f *testing.F) {
	for _, raw := range recursive {
		f.Add(raw, `{"name":"a","children":[{"name":"b"}]}`)
	}
	for _, raw := range []string{`{"$ref":"#"}`, `{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`,
		`{"not":{"not":{"$ref":"#"}}}`, `{"$dynamicAnchor":"n","allOf":[{"$dynamicRef":"#n"}]}`, `{"if":true,"then":{"$ref":"#"}}`,
		`{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"a":{"$ref":"#/definitions/a"}},"$ref":"#/definitions/a"}`,
		`{"$schema":"https://json-schema.org/draft/2019-09/schema","$recursiveAnchor":true,"allOf":[{"$recursiveRef":"#"}]}`,
		`{"$id":"https://x.example/a","$defs":{"b":{"$id":"b","$ref":"a"}},"$ref":"b"}`,
		`{"dependentSchemas":{"a":{"$ref":"#"}}}`, anyOfChain(3), nested(3), `{"items":[{"$ref":"#"}]}`,
		`{"properties":{"x":{"$ref":"#"}},"allOf":[{"properties":{"x":{"$ref":"#"}}}]}`} {
		f.Add(raw, `{"x":{"x":[1,{"x":{}}]}}`)
	}
	f.Fuzz(func(t *testing.T, raw, data string) {
		sch, verr := schema.Compile(json.RawMessage(raw), "schema")
		if verr != nil {
			for _, fe := range verr.Errors {
				if fe.Field != "schema" && !strings.HasPrefix(fe.Field, "schema.") && !strings.HasPrefix(fe.Field, "schema[") {
					t.Fatalf("error names %q, not the schema", fe.Field)
				}
			}
			return
		}
		for _, inst := range append(fuzzInstances, data) {
			err := schema.Validate(sch, json.RawMessage(inst), "data")
			if err != nil && strings.Contains(err.Error(), "reference cycle") {
				t.Fatalf("accepted schema %s refuses %s with %v", raw, inst, err)
			}
		}
	})
}
