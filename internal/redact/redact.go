// Package redact owns the rule for which HTTP request header values are credentials and
// how hookd shows them: masked in every read of a webhook's custom headers, whatever the
// reader's role, and in the request headers of every attempt record (API.md: "headers
// (secrets masked)"). Stored values are not its business: internal/store keeps custom
// header values sealed (webhook.Secrets).
package redact

import (
	"strings"

	"github.com/hookd/hookd/internal/signing"
)

// Masked stands in for the value of a Sensitive header. An admin who sends it back as a
// header's value keeps the value stored under that name (webhook.KeepMaskedHeaders).
const Masked = "********"

// IsMask reports whether value is Masked once the spaces and tabs around it are taken
// away, as a receiver's HTTP parser takes them (RFC 9110 §5.5): " ********" sent back is
// the mask too, never a value to store and deliver.
func IsMask(value string) bool { return strings.Trim(value, " \t") == Masked }

// sensitiveWords mark a header name as a credential's when the lower-cased name contains
// one: Authorization, Proxy-Authorization and Cookie, and names such as X-Api-Key,
// X-Auth-Token, X-Client-Secret, X-Signature, X-Sig, X-Hmac, X-Jwt, X-Bearer,
// X-Password, X-Passphrase, X-Pwd, X-Credential, X-Private-Key, X-Access or
// X-Session-Id.
var sensitiveWords = []string{"access", "auth", "bearer", "cookie", "credential", "hmac", "jwt", "key",
	"pass", "private", "pwd", "secret", "session", "sig", "token"}

// signatureKept is how much of the Standard Webhooks signature Header shows: enough to
// tell two apart ("v1," and seven characters of the HMAC), not enough to replay one.
const signatureKept = 10

// Sensitive reports whether a header named name (any case) carries a credential, so its
// value is never shown: the name contains access, auth, bearer, cookie, credential, hmac,
// jwt, key, pass, private, pwd, secret, session, sig or token. It errs on the side of
// hiding: Idempotency-Key is hidden too.
func Sensitive(name string) bool {
	lower := strings.ToLower(name)
	for _, w := range sensitiveWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// Header is value as hookd shows it under name: Masked if the name is Sensitive, except
// that hookd's own webhook-signature keeps its first 10 bytes and "…"; the value itself
// otherwise. Header of what Header returned gives the same.
func Header(name, value string) string {
	switch {
	case strings.EqualFold(name, signing.HeaderSignature):
		if len(value) <= signatureKept {
			return value
		}
		return strings.ToValidUTF8(value[:signatureKept], "") + "…"
	case Sensitive(name):
		return Masked
	}
	return value
}

// Headers returns a copy of headers (name → value) with each value as Header shows it;
// nil gives an empty map.
func Headers(headers map[string]string) map[string]string {
	out := make(map[string]string, len(headers))
	for name, value := range headers {
		out[name] = Header(name, value)
	}
	return out
}
