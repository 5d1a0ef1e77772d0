// Package schema compiles the JSON Schemas of event types, refusing any reference outside
// the schema itself, schemas over the size, depth and work limits (MaxBytes, MaxDepth,
// MaxApplications) and reference cycles that consume no input; validates event data
// against them with one field error per failing path; and caches compiled schemas per
// event type version.
package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/sync/singleflight"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/hookd/hookd/internal/validation"
)

// schemaLocation names a compiled event type schema inside the compiler; it never
// leaves the process.
const schemaLocation = "urn:hookd:event-type-schema"

// maxSchemaErrors bounds the field errors reported for one schema failure.
const maxSchemaErrors = 20

var schemaPrinter = message.NewPrinter(language.English)

// noRemoteRefs refuses every $ref outside the schema itself: a schema supplied over the
// API must not make hookd read files or fetch URLs. Draft metaschemas are built in and
// still resolve.
type noRemoteRefs struct{}

func (noRemoteRefs) Load(url string) (any, error) {
	return nil, fmt.Errorf("only references within the schema (\"#/...\") are allowed, not %q", url)
}

// Compile compiles a JSON Schema (draft 2020-12 unless it names another with
// $schema). Problems come back as field errors under field: a schema over MaxBytes or
// MaxDepth is refused before it is compiled (which bounds the work, as the library takes
// no context), and a compiled one is refused when a reference cycle applies subschemas to
// the same value forever (named at the $ref that closes it, "schema.$defs.a.$ref") or
// when more than MaxApplications subschemas apply to one value.
func Compile(raw json.RawMessage, field string) (*jsonschema.Schema, *validation.Errors) {
	var v validation.Errors
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		v.Add(field, "must be valid JSON")
		return nil, &v
	}
	if compact.Len() > MaxBytes {
		v.Add(field, "%s", sizeMessage)
		return nil, &v
	}
	doc, err := jsonschema.UnmarshalJSON(&compact)
	if err != nil {
		v.Add(field, "must be valid JSON")
		return nil, &v
	}
	if _, ok := doc.(map[string]any); !ok {
		v.Add(field, "must be a JSON Schema object")
		return nil, &v
	}
	if depthOver(doc, MaxDepth) {
		v.Add(field, "%s", depthMessage)
		return nil, &v
	}
	if at, ok := costlyNumber(doc); ok {
		v.Add(fieldPath(field, at), "%s", numberMessage)
		return nil, &v
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noRemoteRefs{})
	if err := c.AddResource(schemaLocation, doc); err != nil {
		v.Add(field, "could not be loaded")
		return nil, &v
	}
	sch, err := c.Compile(schemaLocation)
	if err != nil {
		var metaErr *jsonschema.SchemaValidationError
		var loadErr *jsonschema.LoadURLError
		switch {
		case errors.As(err, &metaErr):
			var verr *jsonschema.ValidationError
			if errors.As(metaErr.Err, &verr) {
				addSchemaErrors(&v, field, verr)
			}
		case errors.As(err, &loadErr):
			v.Add(field, "%v", loadErr.Err)
		}
		if len(v.Errors) == 0 {
			v.Add(field, "is not a valid JSON Schema: %s", strings.ReplaceAll(err.Error(), schemaLocation, "schema"))
		}
		return nil, &v
	}
	if p := checkGraph(sch); p != nil {
		v.Add(fieldPath(field, pointerTokens(p.at)), "%s", p.message)
		return nil, &v
	}
	return sch, nil
}

// pointerTokens splits a JSON pointer ("/$defs/a~1b") into its tokens ("$defs", "a/b").
func pointerTokens(ptr string) []string {
	if ptr == "" {
		return nil
	}
	tokens := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, t := range tokens {
		tokens[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(t)
	}
	return tokens
}

// Validate checks an event's data against sch, reporting each failing path under
// field ("data.device.id"). Data whose validation would take more than MaxWork subschema
// applications is refused, naming field, without running the validator, and so is a
// number over MaxNumberLength or MaxNumberExponent, naming its path. Validations
// estimated over CostlyWork run one at a time: ErrBusy if one cannot start soon.
func Validate(sch *jsonschema.Schema, data json.RawMessage, field string) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return &validation.Errors{Errors: []validation.FieldError{{Field: field, Message: "must be valid JSON"}}}
	}
	if at, ok := costlyNumber(doc); ok {
		return &validation.Errors{Errors: []validation.FieldError{{Field: fieldPath(field, at), Message: numberMessage}}}
	}
	w := work(sch, doc, MaxWork)
	if w > MaxWork {
		return &validation.Errors{Errors: []validation.FieldError{{Field: field,
			Message: fmt.Sprintf("would take more than %d schema checks to validate against the event type's schema; send less deeply nested data or simplify the schema", MaxWork)}}}
	}
	release, err := admitCostly(w)
	if err != nil {
		return err
	}
	err = sch.Validate(doc)
	release()
	if err == nil {
		return nil
	}
	var v validation.Errors
	var verr *jsonschema.ValidationError
	if errors.As(err, &verr) {
		addSchemaErrors(&v, field, verr)
	}
	if len(v.Errors) == 0 {
		v.Add(field, "does not match the event type's schema")
	}
	return &v
}

// addSchemaErrors adds the leaves of a validation error tree (the specific failures),
// deduplicated and capped.
func addSchemaErrors(v *validation.Errors, field string, e *jsonschema.ValidationError) {
	seen := map[validation.FieldError]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(v.Errors) >= maxSchemaErrors {
			return
		}
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		fe := validation.FieldError{Field: fieldPath(field, e.InstanceLocation), Message: shorten(e.ErrorKind.LocalizedString(schemaPrinter))}
		if !seen[fe] {
			seen[fe] = true
			v.Errors = append(v.Errors, fe)
		}
	}
	walk(e)
}

// maxMessage bounds a validation message in runes: the validator quotes the value it
// refuses, which may be a string of 200,000 characters.
const maxMessage = 300

// shorten cuts msg to maxMessage runes, marking the cut with "…".
func shorten(msg string) string {
	if utf8.RuneCountInString(msg) <= maxMessage {
		return msg
	}
	return string([]rune(msg)[:maxMessage-1]) + "…"
}

// fieldPath joins JSON pointer tokens onto field: numbers become [n], names .name.
func fieldPath(field string, tokens []string) string {
	var b strings.Builder
	b.WriteString(field)
	for _, t := range tokens {
		if _, err := strconv.Atoi(t); err == nil {
			b.WriteString("[" + t + "]")
		} else {
			b.WriteString("." + t)
		}
	}
	return b.String()
}

// Cache keeps compiled schemas per event type version, so ingest does not compile a
// schema per event: each version compiles once per process (concurrent first events wait
// for one compilation), and within the limits a compilation takes milliseconds, so the
// first event after a restart is not held up. A changed schema has a new UpdatedAt and so
// a new key. It is safe for concurrent use.
type Cache struct {
	mu    sync.Mutex
	m     map[string]cached
	group singleflight.Group
}

// cached is one compiled schema, or the field errors of one that is refused.
type cached struct {
	sch *jsonschema.Schema
	err error
}

// maxCachedSchemas bounds memory; past it the cache starts over.
const maxCachedSchemas = 1024

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{m: map[string]cached{}}
}

// Version names one version of an event type's schema: the cache key.
type Version struct {
	OrgID, EventType string
	UpdatedAt        time.Time
	Schema           json.RawMessage // nil or "null" when the type has none
}

// Get returns the compiled schema of et, or nil when it has none. A stored schema that
// Compile now refuses (one stored before the limits) is a *validation.Errors naming
// "type", which asks for the schema to be replaced, so events of that type are refused
// with 422 rather than an internal error.
func (c *Cache) Get(et Version) (*jsonschema.Schema, error) {
	if len(et.Schema) == 0 || string(et.Schema) == "null" {
		return nil, nil
	}
	key := et.OrgID + "\x00" + et.EventType + "\x00" + strconv.FormatInt(et.UpdatedAt.UnixNano(), 10)
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return e.sch, e.err
	}
	v, _, _ := c.group.Do(key, func() (any, error) {
		e := compileStored(et)
		c.mu.Lock()
		if len(c.m) >= maxCachedSchemas {
			clear(c.m)
		}
		c.m[key] = e
		c.mu.Unlock()
		return e, nil
	})
	e = v.(cached)
	return e.sch, e.err
}

// compileStored compiles a stored schema for Get.
func compileStored(et Version) cached {
	sch, verr := Compile(et.Schema, "schema")
	if verr == nil {
		return cached{sch: sch}
	}
	first := verr.Errors[0]
	var v validation.Errors
	v.Add("type", "event type %q has a schema that hookd no longer accepts (%s: %s); replace it with PUT /v1/event-types/%s",
		et.EventType, first.Field, first.Message, et.EventType)
	return cached{err: &v}
}
