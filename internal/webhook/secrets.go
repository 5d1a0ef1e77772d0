package webhook

import (
	"maps"
	"net/http"

	"github.com/hookd/hookd/internal/redact"
)

// Secrets are the settings whose values are credentials, or may be: today the values of
// the custom Headers (an Authorization header is a password). The store keeps them out of
// the settings column, sealed as one JSON value (secretbox.SealJSON, column
// webhooks.secrets_enc); reads show the credentials among them masked (redact). A setting
// that holds a credential (such as a target's auth password or token) gets a field here,
// and `json:"-"` in Settings.
type Secrets struct {
	Headers map[string]string `json:"headers,omitempty"`
	Auth    *Auth             `json:"auth,omitempty"`
}

// Secrets returns the settings of s that are kept sealed.
func (s Settings) Secrets() Secrets {
	sec := Secrets{Headers: s.Headers}
	if s.Auth.Type != "" && s.Auth.Type != AuthNone {
		auth := s.Auth
		sec.Auth = &auth
	}
	return sec
}

// WithSecrets returns s with the sealed settings sec, as the store reads them back; an
// absent map becomes an empty one, as in Defaults.
func (s Settings) WithSecrets(sec Secrets) Settings {
	s.Headers = sec.Headers
	if s.Headers == nil {
		s.Headers = map[string]string{}
	}
	s.Auth = Auth{Type: AuthNone}
	if sec.Auth != nil {
		s.Auth = *sec.Auth
	}
	return s
}

// KeepMaskedHeaders returns the custom headers an admin gave, with each value a read shows
// masked (redact.IsMask under a redact.Sensitive name) replaced by the value stored under
// the same name, in any case: sending back what GET answered changes no credential. A
// masked value with no stored value to keep stays as given, for Validate to refuse.
func KeepMaskedHeaders(given, stored map[string]string) map[string]string {
	if given == nil {
		return nil
	}
	canonical := make(map[string]string, len(stored))
	for name, value := range stored {
		canonical[http.CanonicalHeaderKey(name)] = value
	}
	out := maps.Clone(given)
	for name, value := range given {
		if !redact.IsMask(value) || !redact.Sensitive(name) {
			continue
		}
		if kept, ok := canonical[http.CanonicalHeaderKey(name)]; ok {
			out[name] = kept
		}
	}
	return out
}
