package webhook

import "github.com/hookd/hookd/internal/validation"

// checkSignature checks the signature scheme. TODO(signatures): hmac-body's header and
// encoding.
func (s Settings) checkSignature(v *validation.Errors) {
	switch s.Signature.Scheme {
	case SchemeStandard:
	default:
		v.Add("signature.scheme", "must be \"standard\"")
	}
}
