package schema

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// edge is one subschema that applies when its parent does, named by the keyword that
// leads to it and, for keywords that hold several, the member ("allOf" "1", "properties"
// "name"). The pointer token is built only for a message (see path).
type edge struct {
	keyword, member string
	to              *jsonschema.Schema
}

// path is the edge's JSON pointer suffix: "$ref", "allOf/1", "properties/a~1b".
func (e edge) path() string {
	if e.member == "" && e.keyword != "dependentSchemas" && e.keyword != "dependencies" &&
		e.keyword != "properties" && e.keyword != "patternProperties" {
		return e.keyword
	}
	return e.keyword + "/" + escape(e.member)
}

// edges splits the subschemas that sch applies into those that apply to the same value
// (in place) and those that apply to a part of it (descending: a property, an item, a
// property name, a decoded content). Dynamic references are followed to their static
// target and to every schema of the document carrying the anchor they may resolve to at
// run time (anchors), which over-approximates what the validator can reach.
func edges(sch *jsonschema.Schema, anchors map[string][]*jsonschema.Schema) (inPlace, descending []edge) {
	in := func(kw, member string, to *jsonschema.Schema) {
		if to != nil {
			inPlace = append(inPlace, edge{kw, member, to})
		}
	}
	down := func(kw, member string, to *jsonschema.Schema) {
		if to != nil {
			descending = append(descending, edge{kw, member, to})
		}
	}
	in("$ref", "", sch.Ref)
	in("$recursiveRef", "", sch.RecursiveRef)
	if sch.RecursiveRef != nil && sch.RecursiveRef.RecursiveAnchor {
		for _, to := range anchors["$recursiveAnchor"] {
			in("$recursiveRef", "", to)
		}
	}
	if d := sch.DynamicRef; d != nil {
		in("$dynamicRef", "", d.Ref)
		if d.Anchor != "" {
			for _, to := range anchors["#"+d.Anchor] {
				in("$dynamicRef", "", to)
			}
		}
	}
	in("not", "", sch.Not)
	for i, to := range sch.AllOf {
		in("allOf", strconv.Itoa(i), to)
	}
	for i, to := range sch.AnyOf {
		in("anyOf", strconv.Itoa(i), to)
	}
	for i, to := range sch.OneOf {
		in("oneOf", strconv.Itoa(i), to)
	}
	in("if", "", sch.If)
	in("then", "", sch.Then)
	in("else", "", sch.Else)
	for _, name := range slices.Sorted(maps.Keys(sch.DependentSchemas)) {
		in("dependentSchemas", name, sch.DependentSchemas[name])
	}
	for _, name := range slices.Sorted(maps.Keys(sch.Dependencies)) {
		if to, ok := sch.Dependencies[name].(*jsonschema.Schema); ok {
			in("dependencies", name, to)
		}
	}

	down("propertyNames", "", sch.PropertyNames)
	for _, name := range slices.Sorted(maps.Keys(sch.Properties)) {
		down("properties", name, sch.Properties[name])
	}
	patterns := slices.SortedFunc(maps.Keys(sch.PatternProperties), func(a, b jsonschema.Regexp) int {
		return strings.Compare(a.String(), b.String())
	})
	for _, re := range patterns {
		down("patternProperties", re.String(), sch.PatternProperties[re])
	}
	if to, ok := sch.AdditionalProperties.(*jsonschema.Schema); ok {
		down("additionalProperties", "", to)
	}
	down("unevaluatedProperties", "", sch.UnevaluatedProperties)
	switch items := sch.Items.(type) {
	case *jsonschema.Schema:
		down("items", "", items)
	case []*jsonschema.Schema:
		for i, to := range items {
			down("items", strconv.Itoa(i), to)
		}
	}
	if to, ok := sch.AdditionalItems.(*jsonschema.Schema); ok {
		down("additionalItems", "", to)
	}
	for i, to := range sch.PrefixItems {
		down("prefixItems", strconv.Itoa(i), to)
	}
	down("items", "", sch.Items2020)
	down("contains", "", sch.Contains)
	down("unevaluatedItems", "", sch.UnevaluatedItems)
	down("contentSchema", "", sch.ContentSchema)
	return inPlace, descending
}

// graphProblem is what checkGraph found wrong, at the schema location at (a JSON pointer
// such as "/$defs/a/$ref").
type graphProblem struct {
	at      string
	message string
}

// step is one in-place application on the way to a cycle: from applies the edge.
type step struct {
	from *jsonschema.Schema
	edge edge
}

// checkGraph looks at every subschema reachable from root for (1) a reference cycle that
// consumes no input: subschemas that apply to the same value in a loop, which the
// validator would report on every event ({"$ref":"#"}, two definitions that $ref each
// other, a $ref back to the root inside allOf); a loop that passes through a property or
// an item is recursion over the data and fine; and (2) more than MaxApplications
// subschemas applying in place to one value. It returns the first problem found, in a
// fixed order, or nil. Its work is linear in the number of subschemas and references.
func checkGraph(root *jsonschema.Schema) *graphProblem {
	// Collect every reachable schema, breadth first, and the dynamic and recursive
	// anchors among them.
	anchors := map[string][]*jsonschema.Schema{}
	order := []*jsonschema.Schema{root}
	seen := map[*jsonschema.Schema]bool{root: true}
	for i := 0; i < len(order); i++ {
		sch := order[i]
		if sch.DynamicAnchor != "" {
			anchors["#"+sch.DynamicAnchor] = append(anchors["#"+sch.DynamicAnchor], sch)
		}
		if sch.RecursiveAnchor {
			anchors["$recursiveAnchor"] = append(anchors["$recursiveAnchor"], sch)
		}
		in, down := edges(sch, nil)
		for _, e := range append(in, down...) {
			if !seen[e.to] {
				seen[e.to] = true
				order = append(order, e.to)
			}
		}
	}

	// Depth first over the in-place edges: a gray schema met again closes a cycle; a
	// black one has its count of in-place applications.
	const gray = -1
	count := map[*jsonschema.Schema]int{} // absent: white
	var visit func(sch *jsonschema.Schema, trail []step) *graphProblem
	visit = func(sch *jsonschema.Schema, trail []step) *graphProblem {
		count[sch] = gray
		in, _ := edges(sch, anchors)
		n := 1
		for _, e := range in {
			here := append(trail, step{sch, e})
			switch c, done := count[e.to]; {
			case !done:
				if p := visit(e.to, here); p != nil {
					return p
				}
			case c == gray:
				return cycleProblem(here, e.to)
			}
			n += count[e.to]
			if n > MaxApplications {
				return &graphProblem{
					at:      pointer(sch),
					message: fmt.Sprintf("applies more than %d subschemas to one value ($ref, allOf, anyOf, oneOf, not, if/then/else, counted along every path)", MaxApplications),
				}
			}
		}
		count[sch] = n
		return nil
	}
	for _, sch := range order {
		if _, done := count[sch]; !done {
			if p := visit(sch, nil); p != nil {
				return p
			}
		}
	}
	return nil
}

// cycleProblem describes the loop at the end of trail that leads back to to:
// "#/$defs/a/$ref → #/$defs/b/$ref → #/$defs/a".
func cycleProblem(trail []step, to *jsonschema.Schema) *graphProblem {
	for i, s := range trail {
		if s.from == to {
			trail = trail[i:]
			break
		}
	}
	var b strings.Builder
	for _, s := range trail {
		b.WriteString("#" + pointer(s.from) + "/" + s.edge.path() + " → ")
	}
	b.WriteString("#" + pointer(to))
	last := trail[len(trail)-1]
	return &graphProblem{
		at: pointer(last.from) + "/" + last.edge.path(),
		message: fmt.Sprintf("is a reference cycle that consumes no input (%s); a schema may refer back to itself only through a property or an item",
			b.String()),
	}
}

// pointer is the JSON pointer of a compiled schema within the event type's schema
// ("/$defs/a", "" for the root); a schema outside it (a built-in metaschema) keeps its URL.
func pointer(sch *jsonschema.Schema) string {
	if rest, ok := strings.CutPrefix(sch.Location, schemaLocation+"#"); ok {
		return rest
	}
	return sch.Location
}

// escape makes a name one JSON pointer token (RFC 6901 §3).
func escape(name string) string {
	return pointerEscaper.Replace(name)
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")
