package render

import (
	"fmt"
	"time"
)

// Placeholders (API.md "Details of the settings"): `{name}` where name is letters,
// digits, `_` and `.`: eventType, eventId, timestamp, webhookId, or a key of the event's
// data (a dotted path reaches into nested objects).

// MissingError: the event has no value for a placeholder. The delivery fails at once with
// this as its attempt error; nothing is sent.
type MissingError struct {
	Placeholder string // as written, without braces: "device_id"
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("the event has no value for placeholder {%s}", e.Placeholder)
}

// Vars are the values placeholders can take besides the event's data.
type Vars struct {
	WebhookID   string
	AttemptedAt time.Time
}

// URL fills the placeholders of a target URL from ev, each value percent-escaped for its
// place (path segment or query). A URL without placeholders comes back unchanged.
// *MissingError when ev lacks a value. TODO(render).
func URL(target string, ev EventInput, vars Vars) (string, error) {
	return target, nil
}

// Template renders a body template (seed 002's syntax) from ev: a placeholder inside a
// JSON string is replaced by the value escaped for that string, one outside a string by
// the value's JSON encoding. The output is at most 64 KiB. *MissingError when ev lacks a
// value. TODO(render).
func Template(tmpl string, ev EventInput, vars Vars) ([]byte, error) {
	return nil, fmt.Errorf("body templates are not rendered yet")
}

// Form encodes a JSON object body as application/x-www-form-urlencoded: its top-level
// keys as fields, string values as they are, others JSON-encoded. TODO(render).
func Form(body []byte) ([]byte, error) {
	return nil, fmt.Errorf("form bodies are not rendered yet")
}

// CheckTemplate reports why a body template cannot render valid JSON (API.md: a 422 at
// write time), nil if it can. TODO(render).
func CheckTemplate(tmpl string) error { return nil }

// CheckURL reports why a target URL's placeholders are malformed, nil if they are fine.
// TODO(render).
func CheckURL(target string) error { return nil }
