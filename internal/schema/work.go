package schema

import (
	"context"
	"errors"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/sync/semaphore"
)

// MaxWork bounds the subschema applications (or their equivalent in pattern matching,
// see patternWork) that validating one event's data may take: 1,048,576, up to a second
// or so and some hundreds of MB, as the validator keeps every failing branch of an anyOf
// (4,194,304 took 4-6 s and 1.5 GB for a 100-byte event). A schema within the
// limits can still cost more than the data is large: the validator shares no work between
// paths, so a schema that reaches a property by two paths and recurses there
// ({"properties":{"x":{"$ref":"#"}},"allOf":[{"properties":{"x":{"$ref":"#"}}}]}) costs
// 2^depth for data nested depth levels. Validate counts first (linear in the data) and
// refuses such data instead of running the validator.
const MaxWork = 1 << 20

// CostlyWork is the estimated work past which a validation is costly: costly validations
// run one at a time in a process, so that concurrent events cannot multiply their memory
// and CPU; one that cannot start within costlyWait is refused with ErrBusy.
const CostlyWork = 1 << 14

const costlyWait = 2 * time.Second

var costly = semaphore.NewWeighted(1)

// ErrBusy is returned by Validate for data whose validation is costly (CostlyWork) while
// another costly validation keeps the process busy past a short wait: nothing is wrong
// with the data; send it again later (the API answers 429).
var ErrBusy = errors.New("another costly schema validation is running")

// admitCostly takes the costly-validation slot for work w, if w needs it, and returns
// the func that gives it back; ErrBusy if the slot stays taken for costlyWait.
func admitCostly(w int) (release func(), err error) {
	if w <= CostlyWork {
		return func() {}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), costlyWait)
	defer cancel()
	if costly.Acquire(ctx, 1) != nil {
		return nil, ErrBusy
	}
	return func() { costly.Release(1) }, nil
}

// workCounter counts, from above, the subschema applications of a validation: at each
// value, every schema that reaches it, by every path, with all that applies in place.
// Dynamic references are followed to their static target only. Matching a pattern (or a
// patternProperties name) counts as the steps of its regular expression over the string,
// in the same unit (patternWork): a short pattern compiled to a large program, such as
// (?:a*){1000}z, against a long string costs seconds.
type workCounter struct {
	limit    int
	total    int
	expanded map[*jsonschema.Schema][]weighted
}

// weighted is a schema that applies n times.
type weighted struct {
	sch *jsonschema.Schema
	n   int
}

// work returns the count for validating doc against sch, or a number over limit once the
// count passes it.
func work(sch *jsonschema.Schema, doc any, limit int) int {
	w := &workCounter{limit: limit, expanded: map[*jsonschema.Schema][]weighted{}}
	w.value(doc, map[*jsonschema.Schema]int{sch: 1})
	return w.total
}

// capped adds or multiplies without passing limit+1, so counts never overflow.
func (w *workCounter) capped(n int) int { return min(n, w.limit+1) }

// add counts work units done n times.
func (w *workCounter) add(n, units int) { w.total = w.capped(w.total + w.capped(n*units)) }

// value counts the schemas in reach (each applied reach[sch] times) at doc and below.
func (w *workCounter) value(doc any, reach map[*jsonschema.Schema]int) {
	var all []weighted
	for sch, n := range reach {
		for _, e := range w.expand(sch) {
			all = append(all, weighted{e.sch, w.capped(n * e.n)})
			w.total = w.capped(w.total + w.capped(n*e.n))
		}
	}
	if w.total > w.limit {
		return
	}
	switch doc := doc.(type) {
	case string:
		for _, a := range all {
			if a.sch.Pattern != nil {
				w.add(a.n, patternWork(a.sch.Pattern.String(), len(doc)))
			}
		}
	case map[string]any:
		for name, child := range doc {
			for _, a := range all { // matching the name against patternProperties
				for re := range a.sch.PatternProperties {
					w.add(a.n, patternWork(re.String(), len(name)))
				}
			}
			if w.total > w.limit {
				return
			}
			next, keys := map[*jsonschema.Schema]int{}, map[*jsonschema.Schema]int{}
			for _, a := range all {
				for _, to := range propertySchemas(a.sch, name) {
					next[to] = w.capped(next[to] + a.n)
				}
				if a.sch.PropertyNames != nil {
					keys[a.sch.PropertyNames] = w.capped(keys[a.sch.PropertyNames] + a.n)
				}
			}
			if len(keys) > 0 {
				w.value(name, keys)
			}
			w.value(child, next)
			if w.total > w.limit {
				return
			}
		}
	case []any:
		for i, child := range doc {
			next := map[*jsonschema.Schema]int{}
			for _, a := range all {
				for _, to := range itemSchemas(a.sch, i) {
					next[to] = w.capped(next[to] + a.n)
				}
			}
			w.value(child, next)
			if w.total > w.limit {
				return
			}
		}
	}
}

// expand lists the schemas that apply in place when sch does (sch included), each with
// the number of paths that reach it; Compile's MaxApplications bounds their sum.
func (w *workCounter) expand(sch *jsonschema.Schema) []weighted {
	if e, ok := w.expanded[sch]; ok {
		return e
	}
	counts := map[*jsonschema.Schema]int{}
	var order []*jsonschema.Schema
	paths := 0
	var add func(s *jsonschema.Schema, n int)
	add = func(s *jsonschema.Schema, n int) {
		if paths++; paths > MaxApplications { // Compile refused more; stay bounded anyway
			return
		}
		if counts[s] == 0 {
			order = append(order, s)
		}
		counts[s] = w.capped(counts[s] + n)
		in, _ := edges(s, nil)
		for _, e := range in {
			add(e.to, n)
		}
	}
	add(sch, 1)
	e := make([]weighted, len(order))
	for i, s := range order {
		e[i] = weighted{s, counts[s]}
	}
	w.expanded[sch] = e
	return e
}

// propertySchemas lists the subschemas of sch that apply to its property name, assuming
// unevaluatedProperties applies too.
func propertySchemas(sch *jsonschema.Schema, name string) []*jsonschema.Schema {
	var out []*jsonschema.Schema
	if to, ok := sch.Properties[name]; ok {
		out = append(out, to)
	}
	for re, to := range sch.PatternProperties {
		if re.MatchString(name) {
			out = append(out, to)
		}
	}
	if to, ok := sch.AdditionalProperties.(*jsonschema.Schema); ok && len(out) == 0 {
		out = append(out, to)
	}
	if sch.UnevaluatedProperties != nil {
		out = append(out, sch.UnevaluatedProperties)
	}
	return out
}

// itemSchemas lists the subschemas of sch that apply to its item i, assuming contains and
// unevaluatedItems apply too.
func itemSchemas(sch *jsonschema.Schema, i int) []*jsonschema.Schema {
	var out []*jsonschema.Schema
	switch items := sch.Items.(type) {
	case *jsonschema.Schema:
		out = append(out, items)
	case []*jsonschema.Schema:
		if i < len(items) {
			out = append(out, items[i])
		} else if to, ok := sch.AdditionalItems.(*jsonschema.Schema); ok {
			out = append(out, to)
		}
	}
	if i < len(sch.PrefixItems) {
		out = append(out, sch.PrefixItems[i])
	} else if sch.Items2020 != nil {
		out = append(out, sch.Items2020)
	}
	for _, to := range []*jsonschema.Schema{sch.Contains, sch.UnevaluatedItems} {
		if to != nil {
			out = append(out, to)
		}
	}
	return out
}
