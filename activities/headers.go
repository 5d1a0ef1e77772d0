package activities

import (
	"net/http"

	"github.com/hookd/hookd/internal/redact"
)

// maskHeaders copies the headers of a request for its attempt record as redact shows
// them (credentials masked, the signature shortened), so an attempt record never holds a
// usable secret. The request itself carries the real values.
func maskHeaders(h http.Header) map[string]string {
	return redact.Headers(flattenHeaders(h))
}
