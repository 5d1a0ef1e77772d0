package schema

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Limits on the numbers of a schema and of the data validated against one. The validator
// reads every number as an exact fraction (math/big), whose cost grows with the exponent:
// one 1e999999 takes tens of milliseconds, a thousand of them most of a minute. No
// receiver's float or decimal type holds such a number, so it is refused.
const (
	// MaxNumberLength is the longest number accepted, in characters of its JSON text.
	MaxNumberLength = 400
	// MaxNumberExponent bounds the decimal exponent of a number (±), as in 1e400.
	MaxNumberExponent = 400
)

var numberMessage = fmt.Sprintf("is a number hookd does not validate: at most %d characters and a decimal exponent from -%d to %d",
	MaxNumberLength, MaxNumberExponent, MaxNumberExponent)

// costlyNumber returns the JSON pointer tokens of the first number in doc (a value from
// jsonschema.UnmarshalJSON, whose numbers are json.Number) over MaxNumberLength or
// MaxNumberExponent, and whether there is one. Objects are walked in key order, so the
// number named is the same on every run.
func costlyNumber(doc any) ([]string, bool) {
	switch v := doc.(type) {
	case json.Number:
		return nil, numberTooCostly(string(v))
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if at, ok := costlyNumber(v[k]); ok {
				return append([]string{k}, at...), true
			}
		}
	case []any:
		for i, c := range v {
			if at, ok := costlyNumber(c); ok {
				return append([]string{strconv.Itoa(i)}, at...), true
			}
		}
	}
	return nil, false
}

// numberTooCostly reports whether the JSON number text n is over MaxNumberLength or its
// exponent (the digits after e or E) is over MaxNumberExponent in magnitude.
func numberTooCostly(n string) bool {
	if len(n) > MaxNumberLength {
		return true
	}
	i := strings.IndexAny(n, "eE")
	if i < 0 {
		return false
	}
	exp, err := strconv.Atoi(n[i+1:])
	return err != nil || exp > MaxNumberExponent || exp < -MaxNumberExponent
}

// patternSteps is how many steps a pattern's matcher may take per character of input:
// the size of its compiled program (Go's regexp is linear in the input, times this), at
// least 1. Sizes are cached per pattern text.
func patternSteps(pattern string) int {
	if n, ok := patternSizes.Load(pattern); ok {
		return n.(int)
	}
	n := 1
	if re, err := syntax.Parse(pattern, syntax.Perl); err == nil {
		if prog, err := syntax.Compile(re.Simplify()); err == nil {
			n = max(len(prog.Inst), 1)
		}
	}
	patternSizes.Store(pattern, n)
	return n
}

var patternSizes sync.Map // pattern text → int

// stepsPerApplication converts matcher steps into MaxWork's unit, one subschema
// application (a microsecond or two): a step of Go's regexp NFA takes a few dozen
// nanoseconds.
const stepsPerApplication = 64

// patternWork is the work of matching pattern against a string of length n, in MaxWork's
// unit, at least 1.
func patternWork(pattern string, n int) int {
	return max(n*patternSteps(pattern)/stepsPerApplication, 1)
}
