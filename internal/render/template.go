package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// A body template is seed 002's syntax: JSON text holding placeholders, such as
// `{"device_id": "{device_id}", "n": {count}}` (API.md "bodyTemplate").
//
// Structure or placeholder: the template is read left to right with JSON's own rule for
// strings (a `"` outside a string opens one; inside, `\` escapes the next character and an
// unescaped `"` closes it). A `{` that starts `{name}` with a valid name (see the
// placeholder rules in placeholder.go) is a placeholder wherever it stands; any other `{`
// and every `}` are the template's own text: JSON structure outside strings, literal
// characters inside them. So `{"a": {"b": "{eventId}"}}` is two objects and one
// placeholder; `{}` is an empty object. Nothing valid is lost: outside a string `{name}`
// could never be JSON (a member name is quoted), and inside one a literal `{name}` is
// written with an escaped brace, "\u007Bname}".
//
// A placeholder inside a string is replaced by its value's text (see value.text) escaped
// for that string; one outside a string by its value's JSON encoding. Template writes
// nothing else: no function, file, network or code runs.

// Template renders a body template from ev: a placeholder inside a JSON string is replaced
// by the value escaped for that string, one outside a string by the value's JSON
// encoding; the rest is copied as written. A template CheckTemplate accepts renders valid
// JSON. Errors: *MissingError naming the first placeholder without a value; ErrTooLarge
// past MaxBody bytes.
func Template(tmpl string, ev EventInput, vars Vars) ([]byte, error) {
	r := newResolver(ev, vars)
	out := make([]byte, 0, len(tmpl)+64)
	err := scanTemplate(tmpl, func(lit string) {
		out = append(out, lit...)
	}, func(name string, inString bool, _ int) error {
		v, err := r.lookup(name)
		if err != nil {
			return err
		}
		if inString {
			q := quote(v.text())
			out = append(out, q[1:len(q)-1]...)
		} else {
			out = append(out, v.json()...)
		}
		if len(out) > MaxBody {
			return fmt.Errorf("%w: the body template renders more than %d bytes", ErrTooLarge, MaxBody)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) > MaxBody {
		return nil, fmt.Errorf("%w: the body template renders more than %d bytes", ErrTooLarge, MaxBody)
	}
	return out, nil
}

// scanTemplate walks tmpl, handing literal runs to lit and each placeholder to place with
// whether it stands inside a JSON string and its byte offset in tmpl. It stops at the
// first error of place.
func scanTemplate(tmpl string, lit func(string), place func(name string, inString bool, at int) error) error {
	inString, start := false, 0
	for i := 0; i < len(tmpl); {
		c := tmpl[i]
		switch {
		case inString && c == '\\':
			i += 2 // the escaped character is text, even a brace or a quote
			continue
		case c == '"':
			inString = !inString
		case c == '{':
			if name, end, ok := placeholderAt(tmpl, i); ok {
				lit(tmpl[start:i])
				if err := place(name, inString, i); err != nil {
					return err
				}
				i, start = end, end
				continue
			}
		}
		i++
	}
	if start < len(tmpl) {
		lit(tmpl[start:])
	}
	return nil
}

// Samples CheckTemplate renders in place of every placeholder. Outside a string, ` null `
// with a space either side: its tokens cannot merge with their neighbours, so the text is
// valid exactly when each placeholder stands where a JSON value goes, and then any value
// (of any type, written without spaces next to `[`, `,`, `:`, `]`, `}`) is valid there too.
// Inside a string, "x": not a hex digit, so a placeholder completing a `\u` escape is
// refused, and any escaped text is valid where "x" is.
const (
	sampleOutside = " null "
	sampleInside  = "x"
)

// CheckTemplate reports why a body template cannot render valid JSON whatever the event
// (API.md: a 422 at write time), nil if every event that has its placeholders' values
// renders valid JSON. The error says where, in characters from 1, and what to change.
func CheckTemplate(tmpl string) error {
	if strings.TrimSpace(tmpl) == "" {
		return errors.New("must not be blank; leave it out to send the standard envelope")
	}
	if !utf8.ValidString(tmpl) {
		return errors.New("must be valid UTF-8")
	}
	// spans map the sample text back to the template, one per placeholder: [from, to) in
	// the sample text, at in the template.
	type span struct {
		from, to, at int
		name         string
		inString     bool
	}
	var spans []span
	var sample bytes.Buffer
	_ = scanTemplate(tmpl, func(lit string) { sample.WriteString(lit) }, func(name string, inString bool, at int) error {
		s := span{from: sample.Len(), at: at, name: name, inString: inString}
		if inString {
			sample.WriteString(sampleInside)
		} else {
			sample.WriteString(sampleOutside)
		}
		s.to = sample.Len()
		spans = append(spans, s)
		return nil
	})
	var v any
	err := json.Unmarshal(sample.Bytes(), &v)
	if err == nil {
		return nil
	}
	var syntax *json.SyntaxError
	if !errors.As(err, &syntax) {
		return fmt.Errorf("is not valid JSON: %v", err)
	}
	off := int(syntax.Offset) // the error is found reading the byte before off
	for _, s := range spans {
		switch {
		case !s.inString && off > s.from && off <= s.to+1:
			// In the sample or at the character after it: the placeholder stands where
			// no value goes (`{"a": 1 {x}}`, `{{x}: 1}`).
			return fmt.Errorf("placeholder {%s} at character %d stands where a JSON value cannot: "+
				"outside quotes a placeholder is replaced by its value's JSON (such as 42, \"text\" or {\"k\": 1}), "+
				"so it must stand where a value goes; inside quotes (\"{%s}\") it is replaced by the value as text",
				s.name, charPos(tmpl, s.at), s.name)
		case s.inString && off > s.from && off <= s.to:
			return fmt.Errorf("placeholder {%s} at character %d follows an incomplete escape sequence "+
				"(\\u takes four hex digits; write a literal backslash as \\\\)", s.name, charPos(tmpl, s.at))
		}
	}
	// Map the offset back into the template: the samples before it replaced placeholders.
	at := off - 1
	for _, s := range spans {
		if s.to <= off-1 {
			at += (len(s.name) + 2) - (s.to - s.from)
		}
	}
	at = max(0, min(at, len(tmpl)))
	return fmt.Errorf("is not valid JSON at character %d (near %q): %s", charPos(tmpl, at), excerpt(tmpl, at), syntax.Error())
}

// CheckFormTemplate is CheckTemplate for a webhook with contentType form: the template
// must also render a JSON object, whose top-level members become the form's fields. So
// its text must be an object (`{"device": "{device_id}"}`); a lone placeholder such as
// `{device}` could render any value.
func CheckFormTemplate(tmpl string) error {
	if err := CheckTemplate(tmpl); err != nil {
		return err
	}
	t := strings.TrimLeft(tmpl, " \t\r\n")
	if _, _, isPlaceholder := placeholderAt(t, 0); t[0] != '{' || isPlaceholder {
		return errors.New(`must render a JSON object for contentType form, such as {"device": "{device_id}"}: its members are the form's fields`)
	}
	return nil
}

// charPos is the 1-based character (rune) position of byte offset at in s.
func charPos(s string, at int) int {
	return utf8.RuneCountInString(s[:at]) + 1
}

// excerpt is up to 20 bytes of s around byte offset at, cut on rune boundaries.
func excerpt(s string, at int) string {
	from, to := max(0, at-10), min(len(s), at+10)
	for from > 0 && !utf8.RuneStart(s[from]) {
		from--
	}
	for to < len(s) && !utf8.RuneStart(s[to]) {
		to++
	}
	return s[from:to]
}
