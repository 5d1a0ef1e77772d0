package webhook

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/hookd/hookd/internal/validation"
)

// DefaultEncoding is the encoding of an hmac-body signature that names none: hex, as
// seed 000's fg-webhook-signature (seed 003's X-Signature needs "base64").
const DefaultEncoding = EncodingHex

// maxSignatureHeaderLen bounds the name of an hmac-body header, in bytes.
const maxSignatureHeaderLen = 128

// reservedSignatureHeaders are headers hookd sets itself, beside forbiddenHeaders and the
// Standard Webhooks ones: an hmac-body signature cannot take their place.
var reservedSignatureHeaders = map[string]bool{
	"Content-Type": true, "User-Agent": true, "Authorization": true,
}

// checkSignature checks the signature scheme (API.md "signature"): standard takes no
// header or encoding; hmac-body needs a header name that hookd does not set itself
// (webhook-*, Content-Type, User-Agent, Authorization, Host, Content-Length, …) and that
// is not among the custom headers, and an encoding of hex or base64.
func (s Settings) checkSignature(v *validation.Errors) {
	sig := s.Signature
	switch sig.Scheme {
	case SchemeStandard:
		if sig.Header != "" {
			v.Add("signature.header", "is only for scheme %q", SchemeHMACBody)
		}
		if sig.Encoding != "" {
			v.Add("signature.encoding", "is only for scheme %q", SchemeHMACBody)
		}
	case SchemeHMACBody:
		checkSignatureHeader(v, sig.Header, s.Headers)
		switch sig.Encoding {
		case EncodingHex, EncodingBase64:
		default:
			v.Add("signature.encoding", "must be %q or %q", EncodingHex, EncodingBase64)
		}
	case "":
		v.Add("signature.scheme", "is required: %q or %q", SchemeStandard, SchemeHMACBody)
	default:
		v.Add("signature.scheme", "must be %q or %q", SchemeStandard, SchemeHMACBody)
	}
}

// checkSignatureHeader checks the name of an hmac-body header against the custom headers.
func checkSignatureHeader(v *validation.Errors, name string, custom map[string]string) {
	const field = "signature.header"
	canon := http.CanonicalHeaderKey(name)
	switch {
	case name == "":
		v.Add(field, "is required with scheme %q", SchemeHMACBody)
	case len(name) > maxSignatureHeaderLen:
		v.Add(field, "must be at most %d characters", maxSignatureHeaderLen)
	case !httpguts.ValidHeaderFieldName(name):
		v.Add(field, "is not a valid header name")
	case strings.HasPrefix(strings.ToLower(name), "webhook-"):
		v.Add(field, "webhook-* headers are reserved for the Standard Webhooks signature")
	case forbiddenHeaders[canon] || reservedSignatureHeaders[canon]:
		v.Add(field, "is set by hookd and cannot carry the signature")
	default:
		for _, h := range slices.Sorted(maps.Keys(custom)) {
			if http.CanonicalHeaderKey(h) == canon {
				v.Add(field, "is also among the custom headers (as %q); remove it there", h)
				return
			}
		}
	}
}

// signatureMembers are the JSON members of a Signature.
var signatureMembers = []string{"scheme", "header", "encoding"}

// UnmarshalJSON reads a signature object, refusing a member it does not know (a typo such
// as "encodng" would otherwise leave the default in place, silently) with a
// *validation.Errors naming it ("signature.encodng"). An hmac-body signature without an
// encoding gets DefaultEncoding, so reads show what is sent.
func (s *Signature) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil // as for any other type: null leaves s as it is
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return err
	}
	var v validation.Errors
	for _, name := range slices.Sorted(maps.Keys(members)) {
		if !slices.Contains(signatureMembers, name) {
			v.Add("signature."+name, "is not a known field")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	type plain Signature // the same fields, without this method
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*s = Signature(p)
	if s.Scheme == SchemeHMACBody && s.Encoding == "" {
		s.Encoding = DefaultEncoding
	}
	return nil
}
