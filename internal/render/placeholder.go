package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Placeholders (API.md "Details of the settings") are written `{name}` in a webhook's url
// and bodyTemplate. A name is one or more segments of ASCII letters, digits and `_`,
// joined by single dots: `{device_id}`, `{device.id}`, `{items.0.sku}`. Braces around
// anything else (`{}`, `{ a }`, `{a..b}`, `{é}`) are no placeholder: see Template and
// CheckURL for what they are then.
//
// A name resolves, first match wins:
//  1. to a built-in: eventType, eventId, timestamp (the event's time as Timestamp writes
//     it) and webhookId; these shadow data keys of the same name, which keeps the meaning
//     of a template independent of the events it meets;
//  2. to the event's data, walking down from its top-level object: at each object the
//     longest run of the remaining segments that is a key of it is taken (so a key that
//     itself holds a dot, "device.id", is reached by `{device.id}` and wins over the path
//     device → id), and the rest resolves inside that key's value; in an array the next
//     segment is a decimal index from 0 (no sign, no leading zeros). There is no
//     backtracking: once a key is taken, a miss below it is a miss.
//
// A name that resolves to nothing is a *MissingError. A JSON null is a value (its text is
// `null`), not a miss.

// MissingError: the event has no value for a placeholder. The delivery fails at once with
// this as its attempt error; nothing is sent.
type MissingError struct {
	Placeholder string // as written, without braces: "device_id"
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("the event has no value for placeholder {%s}", e.Placeholder)
}

// ErrTooLarge: a rendered body or URL exceeds its bound (MaxBody, MaxURL). The template
// and the event were both accepted, so no retry changes it.
var ErrTooLarge = errors.New("rendered request too large")

// Bounds of what rendering produces.
const (
	// MaxBody bounds a rendered body template (API.md: 64 KiB).
	MaxBody = 64 << 10
	// MaxURL bounds a URL with its placeholders filled: 8 KiB, about what common servers
	// accept in a request line (nginx's large_client_header_buffers, Apache's
	// LimitRequestLine 8190).
	MaxURL = 8 << 10
)

// Vars are the values placeholders can take besides the event's data.
type Vars struct {
	WebhookID string
	// AttemptedAt is the time of the attempt. No placeholder reads it: API.md's built-ins
	// are eventType, eventId, timestamp and webhookId. It is carried so that one naming it
	// (deliveryAttemptedAt, as in the envelope) would change no caller.
	AttemptedAt time.Time
}

// builtins are the placeholder names that do not come from the event's data.
var builtins = map[string]func(ev EventInput, vars Vars) string{
	"eventType": func(ev EventInput, _ Vars) string { return ev.Type },
	"eventId":   func(ev EventInput, _ Vars) string { return ev.ID },
	"timestamp": func(ev EventInput, _ Vars) string { return Timestamp(ev.Timestamp) },
	"webhookId": func(_ EventInput, vars Vars) string { return vars.WebhookID },
}

// placeholderAt reports whether s[i:] starts with a placeholder `{name}`, and if so its
// name and the index just past its closing brace.
func placeholderAt(s string, i int) (name string, end int, ok bool) {
	if i >= len(s) || s[i] != '{' {
		return "", 0, false
	}
	j := i + 1
	for j < len(s) && isNameByte(s[j]) {
		j++
	}
	if j >= len(s) || s[j] != '}' || !validName(s[i+1:j]) {
		return "", 0, false
	}
	return s[i+1 : j], j + 1, true
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

// validName: segments of name bytes other than '.', none empty.
func validName(name string) bool {
	if name == "" {
		return false
	}
	for seg := range strings.SplitSeq(name, ".") {
		if seg == "" {
			return false
		}
	}
	return true
}

// value is what a placeholder resolved to: a string (from a built-in or a data string),
// or the compact JSON text of any other data value.
type value struct {
	str      string
	isString bool
	raw      []byte // compact JSON text when !isString
}

// json is the value's JSON encoding, for a placeholder outside a string.
func (v value) json() []byte {
	if !v.isString {
		return v.raw
	}
	return quote(v.str)
}

// text is the value as text: a string as it is, anything else its JSON text. It is what a
// URL or a JSON string gets, escaped for its place.
func (v value) text() string {
	if v.isString {
		return v.str
	}
	return string(v.raw)
}

// quote encodes s as a JSON string, without HTML escaping (as Envelope).
func quote(s string) []byte {
	var buf bytes.Buffer
	_ = writeJSON(&buf, s) // a string always encodes
	return buf.Bytes()
}

// resolver finds placeholder values in one event, parsing its data once.
type resolver struct {
	ev     EventInput
	vars   Vars
	parsed bool
	top    map[string]json.RawMessage // nil when the data is no object
}

func newResolver(ev EventInput, vars Vars) *resolver { return &resolver{ev: ev, vars: vars} }

// lookup resolves name by the rules above.
func (r *resolver) lookup(name string) (value, error) {
	if f, ok := builtins[name]; ok {
		return value{str: f(r.ev, r.vars), isString: true}, nil
	}
	if !r.parsed {
		r.parsed = true
		r.top = objectMap(r.ev.Data)
	}
	missing := &MissingError{Placeholder: name}
	segs := strings.Split(name, ".")
	obj, raw := r.top, json.RawMessage(nil)
	for len(segs) > 0 {
		if obj == nil { // raw is an array, or a scalar that has nothing below it
			elem, ok := arrayElem(raw, segs[0])
			if !ok {
				return value{}, missing
			}
			raw, segs = elem, segs[1:]
		} else {
			k := len(segs)
			for ; k > 0; k-- {
				if v, ok := obj[strings.Join(segs[:k], ".")]; ok {
					raw = v
					break
				}
			}
			if k == 0 {
				return value{}, missing
			}
			segs = segs[k:]
		}
		obj = nil
		if len(segs) > 0 {
			obj = objectMap(raw)
		}
	}
	return decodeValue(raw)
}

// objectMap reads a JSON object's members, the last of a repeated key winning (as
// encoding/json and Envelope read it); nil if data is no object or empty.
func objectMap(data json.RawMessage) map[string]json.RawMessage {
	members, err := objectMembers(data)
	if err != nil || members == nil {
		return nil
	}
	m := make(map[string]json.RawMessage, len(members))
	for _, mb := range members {
		m[mb.key] = mb.value
	}
	return m
}

// arrayElem returns element seg (a decimal index) of the JSON array raw.
func arrayElem(raw json.RawMessage, seg string) (json.RawMessage, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' || (len(seg) > 1 && seg[0] == '0') {
		return nil, false
	}
	i, err := strconv.Atoi(seg)
	if err != nil || i < 0 {
		return nil, false
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil || i >= len(elems) {
		return nil, false
	}
	return elems[i], true
}

// decodeValue turns a data value's JSON text into a value.
func decodeValue(raw json.RawMessage) (value, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return value{}, fmt.Errorf("decode event data: %w", err)
		}
		return value{str: s, isString: true}, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return value{}, fmt.Errorf("decode event data: %w", err)
	}
	return value{raw: buf.Bytes()}, nil
}
