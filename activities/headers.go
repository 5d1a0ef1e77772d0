package activities

import (
	"net/http"
	"strings"

	"github.com/hookd/hookd/internal/signing"
)

// sensitiveWords mark a header whose value is a credential: it is stored masked.
var sensitiveWords = []string{"auth", "token", "secret", "key", "cookie", "password", "session"}

// maskHeaders copies request headers for the attempt record with credentials masked and
// the signature shortened, so attempt records never hold a usable secret.
func maskHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		value := strings.Join(v, ", ")
		lower := strings.ToLower(k)
		switch {
		case lower == signing.HeaderSignature:
			value = shorten(value)
		case isSensitive(lower):
			value = "********"
		}
		out[k] = value
	}
	return out
}

func isSensitive(lowerName string) bool {
	for _, w := range sensitiveWords {
		if strings.Contains(lowerName, w) {
			return true
		}
	}
	return false
}

// shorten keeps enough of a signature to tell two apart, not enough to reuse one.
func shorten(sig string) string {
	const keep = 10
	if len(sig) <= keep {
		return sig
	}
	return sig[:keep] + "…"
}
