package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/internal/validation"
)

// maxBodyBytes caps every request body (events, schemas, webhooks): 256 KiB.
const maxBodyBytes = 256 << 10

// readBody reads the whole request body, refusing more than maxBodyBytes with 413 and a
// body that has not arrived within the server's read timeout (ServerTimeouts.Read) with 408.
func readBody(c *gin.Context) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes))
	if err != nil {
		var (
			tooBig  *http.MaxBytesError
			timeout net.Error
		)
		switch {
		case errors.As(err, &tooBig):
			return nil, tooBig
		case errors.As(err, &timeout) && timeout.Timeout():
			return nil, &httpError{status: http.StatusRequestTimeout, detail: "the request body did not arrive in time", cause: err}
		}
		return nil, &httpError{status: http.StatusBadRequest, detail: "could not read the request body", cause: err}
	}
	return body, nil
}

// bindObject reads the body and decodes it into dst, a pointer to a struct with json tags.
// Malformed JSON or a body that is not an object is returned as a 400 error (too large:
// 413). An unknown key or a value of the wrong type is added to v, the field left at its
// zero value, so the handler can go on to name every other bad field too. Keys match tags
// exactly (case sensitive). A null value leaves the field at its zero value, as if absent.
// A value holding a string PostgreSQL cannot store (invalid UTF-8, \u0000, an unpaired
// surrogate: validation.CheckJSON) is refused the same way, named by its JSON path
// ("data.device.name"), so no handler ever sees it.
func bindObject(c *gin.Context, dst any, v *ValidationError) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeObject(body, dst, v)
}

func decodeObject(body []byte, dst any, verr *ValidationError) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return errorf(http.StatusBadRequest, "the request body must be a JSON object")
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return errorf(http.StatusBadRequest, "the request body is empty; send a JSON object")
		}
		return errorf(http.StatusBadRequest, "malformed JSON: %v", err)
	}
	if raw == nil {
		return errorf(http.StatusBadRequest, "the request body must be a JSON object")
	}
	for _, key := range repeatedMembers(body) {
		verr.Add(key, "%s", "appears more than once in the request body (RFC 7493 §2.3)")
		delete(raw, key) // which one was meant is unknown: leave the field unset
	}
	v := reflect.ValueOf(dst).Elem()
	fields := jsonFields(v.Type())
	for _, key := range slices.Sorted(maps.Keys(raw)) {
		idx, ok := fields[key]
		if !ok {
			verr.Add(key, "%s", unknownFieldMessage(key))
			continue
		}
		f := v.Field(idx)
		if !validation.CheckJSON(verr, key, raw[key]) {
			continue // left at its zero value: nothing PostgreSQL refuses reaches a handler
		}
		if err := json.Unmarshal(raw[key], f.Addr().Interface()); err != nil {
			f.SetZero()
			if nested := fieldErrors(err); nested != nil {
				// A nested object's own decoding (webhook.Auth, webhook.Signature) named
				// its bad members ("auth.pasword").
				verr.Merge(nested)
				continue
			}
			verr.Add(key, "must be %s", typeDescription(f.Type()))
		}
	}
	return nil
}

// repeatedMembers lists the member names that the JSON object body, already parsed,
// gives more than once, in order; json.Unmarshal would keep the last silently. Repeats
// deeper in the body are validation.CheckJSON's.
func repeatedMembers(body []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for dec.More() {
		tok, err := dec.Token()
		name, ok := tok.(string)
		if err != nil || !ok {
			return out
		}
		if seen[name] && !slices.Contains(out, name) {
			out = append(out, name)
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return out
		}
	}
	return out
}

var fieldCache sync.Map // reflect.Type → map[string]int

// jsonFields maps the json tag names of struct type t to field indexes.
func jsonFields(t reflect.Type) map[string]int {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]int)
	}
	m := map[string]int{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = i
		}
	}
	fieldCache.Store(t, m)
	return m
}

// readOnlyFields appear in answers but cannot be written.
var readOnlyFields = map[string]bool{
	"id": true, "secret": true, "secretPrefix": true, "attemptCount": true,
	"consecutiveFailures": true, "lastTriggeredAt": true, "createdAt": true,
	"updatedAt": true, "builtin": true, "deliveries": true,
}

// unknownFieldMessage says why key is refused.
func unknownFieldMessage(key string) string {
	if readOnlyFields[key] {
		return "is read-only"
	}
	return "is not a known field"
}

// typeDescription says what JSON a Go field type accepts, for "must be …" messages.
func typeDescription(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "an array of " + plural(typeDescription(t.Elem()))
	case reflect.Map:
		return "an object whose values are " + plural(typeDescription(t.Elem()))
	case reflect.Struct:
		return "an object"
	}
	return fmt.Sprintf("a valid %s", t.Kind())
}

func plural(desc string) string {
	desc = strings.TrimPrefix(strings.TrimPrefix(desc, "an "), "a ")
	return desc + "s"
}
