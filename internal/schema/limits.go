package schema

import "fmt"

// Limits on an event type's schema. Compiling a schema takes time that grows faster than
// its size (jsonschema/v6 compiles a 4,000-level schema in about a minute) and the
// library takes no context, so these limits are what bounds the work of Compile: within
// them a schema compiles in well under a second (see BenchmarkCompile*). The numbers were
// measured on real schemas: the deepest of the Kubernetes CRD schemas shipped with
// kube-openapi nests 30 levels, and typical event schemas are a few KiB.
const (
	// MaxBytes is the largest schema, in bytes of compact JSON (whitespace between tokens
	// is not counted; it is also not stored): 64 KiB.
	MaxBytes = 64 << 10
	// MaxDepth is the deepest nesting of JSON objects and arrays in a schema: 64 (the
	// schema itself is level 1; {"properties":{"a":{}}} nests 3 levels).
	MaxDepth = 64
	// MaxApplications bounds how many subschemas apply to one value without descending
	// into it ($ref, allOf, anyOf, oneOf, not, if/then/else, dependentSchemas, counted
	// along every path): 256. The validator does not share work between paths, so a short
	// schema whose anyOf branches $ref the same definition, nested n times, costs 2^n per
	// value; the bound keeps each value's cost small.
	MaxApplications = 256
)

// depthOver reports whether the decoded JSON value doc nests objects and arrays more than
// max levels, walking it without recursion. A scalar is 0 levels deep, so any value is
// over a negative max.
func depthOver(doc any, max int) bool {
	if max < 0 {
		return true
	}
	type item struct {
		v     any
		depth int
	}
	stack := []item{{doc, 1}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		var children []any
		switch v := it.v.(type) {
		case map[string]any:
			for _, c := range v {
				children = append(children, c)
			}
		case []any:
			children = v
		default:
			continue
		}
		if it.depth > max {
			return true
		}
		for _, c := range children {
			stack = append(stack, item{c, it.depth + 1})
		}
	}
	return false
}

// sizeMessage and depthMessage are the field errors for a schema over the limits.
var (
	sizeMessage  = fmt.Sprintf("must be at most %d bytes (%d KiB) of JSON", MaxBytes, MaxBytes>>10)
	depthMessage = fmt.Sprintf("must nest objects and arrays at most %d levels deep", MaxDepth)
)
