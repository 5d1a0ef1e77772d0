package validation

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// What PostgreSQL (a UTF8 database) cannot store, in the words a FieldError uses. Its text
// type refuses invalid UTF-8 and the NUL character ("invalid byte sequence for encoding
// UTF8"); jsonb refuses the escape \u0000 ("unsupported Unicode escape sequence") and a
// UTF-16 surrogate escape that is not a high-low pair. The json type keeps both as
// written, but they are refused there too: one rule for every column, and Go, decoding
// such a value, would store a NUL or a silent U+FFFD.
const (
	notUTF8      = "must be valid UTF-8"
	hasNUL       = "must not contain the NUL character (U+0000)"
	hasSurrogate = "must not contain an unpaired UTF-16 surrogate escape (\\uD800-\\uDFFF)"
	keyPrefix    = "has a key that "
	notValidJSON = "must be valid JSON"
	// repeated: RFC 8259 §4 says names within an object SHOULD be unique and leaves what a
	// repeat means to each parser; I-JSON (RFC 7493 §2.3) refuses them, and so does hookd:
	// it stores data as given but validates and delivers what a parser reads, and with a
	// repeated name those differ from one parser to the next.
	repeated = "appears more than once in its object (RFC 7493 §2.3)"
)

// TextProblem says why PostgreSQL cannot store s in a text column: "" when it can, else a
// message for a FieldError ("must be valid UTF-8", "must not contain the NUL character").
// Check every caller-given string that is not part of a JSON body (query and path values);
// JSON bodies are checked whole by CheckJSON.
func TextProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return notUTF8
	case strings.IndexByte(s, 0) >= 0:
		return hasNUL
	}
	return ""
}

// CheckJSON adds to v the first string (member name or value) of the JSON text doc that
// PostgreSQL could not store, whether doc goes to a json or jsonb column or is decoded into
// Go strings bound for text columns: invalid UTF-8 (which Go's json.Unmarshal would
// silently turn into U+FFFD), the escape \u0000 (jsonb refuses it; as a Go string it is a
// NUL, which text refuses), or an unpaired surrogate escape such as "\ud800" (RFC 8259
// §8.2; PostgreSQL refuses it). The problem is named by its path under field:
// "data.device.name", "events[2]"; a bad member name is reported at its object's path
// ("data: has a key that must be valid UTF-8"). A member name repeated within one object
// is refused too, named by its path ("data.device.id: appears more than once …"), as
// what is stored would differ from what is read. With field "", a top-level member is
// named by its name alone ("type"). It reports whether doc is storable. It
// checks strings, not syntax: parse doc first (a walk that meets bad syntax stops there,
// reporting "must be valid JSON").
func CheckJSON(v *Errors, field string, doc []byte) bool {
	// Fast path: nothing to look into without invalid UTF-8, a \u escape or an object
	// (whose member names could repeat).
	if utf8.Valid(doc) && !bytes.Contains(doc, []byte(`\u`)) && bytes.IndexByte(doc, '{') < 0 {
		return true
	}
	path, problem := firstUnstorable(doc)
	if problem == "" {
		return true
	}
	if field == "" {
		path = strings.TrimPrefix(path, ".")
	}
	v.Add(field+path, "%s", problem)
	return false
}

// frame is one open object or array while walking a JSON text.
type frame struct {
	object  bool
	wantKey bool                // in an object: the next string is a member name
	key     string              // in an object: the current member's name
	members int                 // in an object: the members begun
	keys    map[string]struct{} // in an object with two members or more: their names
	index   int                 // in an array: the current element's index
}

// firstUnstorable walks doc token by token and returns the path (relative, such as
// ".device.name" or "[2]") and problem of its first unstorable string; problem is "" when
// there is none.
func firstUnstorable(doc []byte) (path, problem string) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var stack []frame
	start := int64(0)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return "", ""
		}
		if err != nil {
			return "", notValidJSON
		}
		end := dec.InputOffset()
		raw := doc[start:end]
		start = end
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if top != nil && !top.object && tok != json.Delim(']') {
			top.index++ // a new element starts
		}
		isKey := top != nil && top.object && top.wantKey
		if s, ok := tok.(string); ok {
			if p := quotedProblem(raw[bytes.IndexByte(raw, '"'):]); p != "" {
				if isKey {
					return pathOf(stack, false), keyPrefix + p
				}
				return pathOf(stack, true), p
			}
			if isKey {
				if top.members > 0 {
					if top.keys == nil { // the second name: remember the first too
						top.keys = map[string]struct{}{top.key: {}}
					}
					if _, dup := top.keys[s]; dup {
						top.key = s
						return pathOf(stack, true), repeated
					}
					top.keys[s] = struct{}{}
				}
				top.members++
				top.key, top.wantKey = s, false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{index: -1})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended (a scalar or a closed container): the enclosing object wants a
		// key next; an enclosing array counted this element when it began.
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].wantKey = true
		}
	}
}

// pathOf renders the walk's position. With leaf, the innermost container's current member
// or element is included; without, the path names the container itself.
func pathOf(stack []frame, leaf bool) string {
	var b strings.Builder
	for i, f := range stack {
		if i == len(stack)-1 && !leaf {
			break
		}
		if f.object {
			b.WriteString("." + f.key)
		} else {
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
		}
	}
	return b.String()
}

// quotedProblem checks one JSON string exactly as written, quotes and escapes included.
func quotedProblem(raw []byte) string {
	if !utf8.Valid(raw) {
		return notUTF8
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++ // the escaped character; \\ is thus skipped whole
		if i >= len(raw) || raw[i] != 'u' {
			continue
		}
		r := hex4(raw, i+1)
		i += 4
		switch {
		case r == 0:
			return hasNUL
		case utf16.IsSurrogate(r): // must be a high half followed by a \u low half
			if i+6 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' ||
				utf16.DecodeRune(r, hex4(raw, i+3)) == utf8.RuneError {
				return hasSurrogate
			}
			i += 6
		}
	}
	return ""
}

// hex4 reads the four hex digits of a \u escape at raw[i:]; -1 if they are not there
// (which json.Decoder has already refused).
func hex4(raw []byte, i int) rune {
	if i+4 > len(raw) {
		return -1
	}
	n, err := strconv.ParseUint(string(raw[i:i+4]), 16, 32)
	if err != nil {
		return -1
	}
	return rune(n)
}
