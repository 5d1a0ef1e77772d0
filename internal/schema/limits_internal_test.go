package schema

import (
	"encoding/json"
	"testing"
)

// depthOf is the plain recursive measure depthOver must agree with.
func depthOf(v any) int {
	d := 0
	switch v := v.(type) {
	case map[string]any:
		for _, c := range v {
			d = max(d, depthOf(c))
		}
	case []any:
		for _, c := range v {
			d = max(d, depthOf(c))
		}
	default:
		return 0
	}
	return d + 1
}

func TestDepthOver(t *testing.T) {
	t.Parallel()
	tests := []struct {
		doc  string
		over int // the largest max it is over; -1: none
	}{
		{`1`, -1}, {`{}`, 0}, {`[]`, 0}, {`{"a":[1,{"b":{}}]}`, 3}, {`[[[[]]],[]]`, 3},
	}
	for _, tt := range tests {
		var doc any
		if err := json.Unmarshal([]byte(tt.doc), &doc); err != nil {
			t.Fatal(err)
		}
		for max := 0; max < 6; max++ {
			if got, want := depthOver(doc, max), max <= tt.over; got != want {
				t.Errorf("depthOver(%s, %d) = %v, want %v", tt.doc, max, got, want)
			}
		}
	}
}

// FuzzDepthOver checks the stack-based depth walk against the recursive measure on
// arbitrary JSON.
func FuzzDepthOver(f *testing.F) {
	for _, s := range []string{`1`, `{}`, `{"a":[1,{"b":{}}]}`, `[[[[]]],[]]`, `{"a":{"b":{"c":[]}},"d":[[[[[1]]]]]}`} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		var doc any
		if json.Unmarshal([]byte(s), &doc) != nil {
			return
		}
		if got, want := depthOver(doc, max), depthOf(doc) > max; got != want {
			t.Fatalf("depthOver(%s, %d) = %v; depth is %d", s, max, got, depthOf(doc))
		}
	})
}
