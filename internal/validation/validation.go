// Package validation holds the one error type for input that decoded but whose fields are
// invalid. The service, the webhook settings type and the API all report problems with
// it; the API answers it with 422 and one entry per field (RFC 9457 "errors"). It also says
// which texts PostgreSQL can store (TextProblem, CheckJSON), the one rule every caller-given
// string meets before it reaches the store.
package validation

import (
	"fmt"
	"strings"
)

// FieldError names one invalid field and says what is wrong with it. Field is a path
// into the request: "name", "events[2]", "headers.Host", "data.device.id", or a query
// parameter such as "since".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Errors collects the field errors of one input. Its zero value is ready to use; end a
// validation with `return v.Err()`.
type Errors struct {
	Errors []FieldError
}

// Error lists the fields at fault.
func (e *Errors) Error() string {
	parts := make([]string, len(e.Errors))
	for i, f := range e.Errors {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// Add records a problem with field, unless field or a part of it ("data.device",
// "events[2]" for "data", "events") already has one: the first problem found (such as a
// wrong JSON type, or a string PostgreSQL cannot store deep inside a value) is the one
// worth reporting.
func (e *Errors) Add(field, format string, args ...any) {
	if e.Has(field) {
		return
	}
	e.Errors = append(e.Errors, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Has reports whether field, or a part of it (field.x, field[i]), already has a problem.
func (e *Errors) Has(field string) bool {
	for _, f := range e.Errors {
		if within(f.Field, field) {
			return true
		}
	}
	return false
}

// within reports whether path is field or lies inside it.
func within(path, field string) bool {
	rest, ok := strings.CutPrefix(path, field)
	return ok && (rest == "" || rest[0] == '.' || rest[0] == '[')
}

// Merge adds every problem of other (nil is fine), keeping the first one per field.
func (e *Errors) Merge(other *Errors) {
	if other == nil {
		return
	}
	for _, f := range other.Errors {
		if !e.Has(f.Field) {
			e.Errors = append(e.Errors, f)
		}
	}
}

// Err returns e when it holds any problem and nil otherwise.
func (e *Errors) Err() error {
	if e == nil || len(e.Errors) == 0 {
		return nil
	}
	return e
}
