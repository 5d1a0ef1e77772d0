package render

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
)

// Form encodes a JSON object body (the envelope or a rendered template) as
// application/x-www-form-urlencoded (API.md "contentType: form"): one field per top-level
// member, its name the key, its value the string as it is or, for any other value
// (number, true, false, null, object, array), its compact JSON text. Names and values are
// escaped with url.QueryEscape (a space is '+', as the form encoding writes it).
//
// The fields keep the body's member order, not url.Values' sorted order: the body is
// what hmac-body signs, so the same body gives the same bytes, and a receiver reading
// fields in order sees the template's order. A repeated key keeps its first position and
// its last value, as Envelope and encoding/json read it. An empty object gives an empty
// body. Errors: the body is not a JSON object.
func Form(body []byte) ([]byte, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, errors.New("a form body must be a JSON object")
	}
	members, err := objectMembers(body)
	if err != nil {
		return nil, fmt.Errorf("form body: %w", err)
	}
	var out bytes.Buffer
	for i, m := range members {
		v, err := decodeValue(m.value)
		if err != nil {
			return nil, fmt.Errorf("form body: %w", err)
		}
		if i > 0 {
			out.WriteByte('&')
		}
		out.WriteString(url.QueryEscape(m.key))
		out.WriteByte('=')
		out.WriteString(url.QueryEscape(v.text()))
	}
	return out.Bytes(), nil
}
