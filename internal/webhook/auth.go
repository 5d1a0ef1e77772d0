package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"

	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/redact"
	"github.com/hookd/hookd/internal/validation"
)

// Limits of Auth (API.md "auth"). A credential longer than these is a mistake, not a key.
const (
	maxUsernameLen     = 256
	maxPasswordLen     = 1024
	maxTokenLen        = 4096
	maxClientIDLen     = 256
	maxClientSecretLen = 1024
	maxScopes          = 20
	maxScopeLen        = 128
)

// authFields are the members of Auth by type, in the order problems name them.
var authFields = []struct {
	name  string
	of    string // the type that uses it
	given func(Auth) bool
}{
	{"username", AuthBasic, func(a Auth) bool { return a.Username != "" }},
	{"password", AuthBasic, func(a Auth) bool { return a.Password != "" }},
	{"token", AuthBearer, func(a Auth) bool { return a.Token != "" }},
	{"tokenUrl", AuthOAuth2, func(a Auth) bool { return a.TokenURL != "" }},
	{"clientId", AuthOAuth2, func(a Auth) bool { return a.ClientID != "" }},
	{"clientSecret", AuthOAuth2, func(a Auth) bool { return a.ClientSecret != "" }},
	{"scopes", AuthOAuth2, func(a Auth) bool { return a.Scopes != nil }},
}

// checkAuth checks auth: its type, that it gives only the fields of that type, and each
// of them (API.md "auth"):
//   - basic: username required, without ':' (RFC 7617 §2), password may be empty; neither
//     holds a control character (RFC 7617 §2);
//   - bearer: token required, a valid header value without spaces around it;
//   - oauth2: tokenUrl required and checked as the target's url is (netguard.CheckURL, so
//     the same SSRF rule); clientId and clientSecret required, printable ASCII (RFC 6749
//     Appendix A.1, A.2); at most 20 scopes, each a scope-token (RFC 6749 §3.3).
//
// A credential (password, token, clientSecret) that is, or holds, redact.Masked is
// refused: the mask sent back was replaced by the stored value before (KeepMaskedAuth)
// when there was one to keep. With any auth but none, a custom Authorization header is
// refused: hookd would replace it.
func (s Settings) checkAuth(v *validation.Errors, opts netguard.Options) {
	a := s.Auth
	switch a.Type {
	case AuthNone, AuthBasic, AuthBearer, AuthOAuth2:
	case "":
		v.Add("auth.type", "is required: none, basic, bearer or oauth2")
		return
	default:
		v.Add("auth.type", "must be none, basic, bearer or oauth2")
		return
	}
	for _, f := range authFields {
		if f.of != a.Type && f.given(a) {
			v.Add("auth."+f.name, "is not used with auth type %s", a.Type)
		}
	}
	switch a.Type {
	case AuthBasic:
		switch {
		case a.Username == "":
			v.Add("auth.username", "is required with auth type basic")
		case strings.Contains(a.Username, ":"):
			v.Add("auth.username", "must not contain ':' (RFC 7617 §2)")
		default:
			checkText(v, "auth.username", a.Username, maxUsernameLen)
		}
		checkText(v, "auth.password", a.Password, maxPasswordLen)
		checkNotMask(v, "auth.password", a.Password)
	case AuthBearer:
		switch {
		case a.Token == "":
			v.Add("auth.token", "is required with auth type bearer")
		case !httpguts.ValidHeaderFieldValue(a.Token) || strings.TrimSpace(a.Token) != a.Token:
			v.Add("auth.token", "has characters not allowed in a header value, or spaces around it")
		case len(a.Token) > maxTokenLen:
			v.Add("auth.token", "must be at most %d bytes", maxTokenLen)
		}
		checkNotMask(v, "auth.token", a.Token)
	case AuthOAuth2:
		if a.TokenURL == "" {
			v.Add("auth.tokenUrl", "is required with auth type oauth2")
		} else if err := netguard.CheckURL(a.TokenURL, opts); err != nil {
			v.Add("auth.tokenUrl", "%s", urlMessage(err))
		}
		checkClientCredential(v, "auth.clientId", a.ClientID, maxClientIDLen)
		checkClientCredential(v, "auth.clientSecret", a.ClientSecret, maxClientSecretLen)
		checkNotMask(v, "auth.clientSecret", a.ClientSecret)
		checkScopes(v, a.Scopes)
	}
	if a.Type != AuthNone {
		for _, name := range slices.Sorted(maps.Keys(s.Headers)) {
			if http.CanonicalHeaderKey(name) == "Authorization" {
				v.Add("headers."+name, "cannot be set with auth type %s, which sets it; remove one of them", a.Type)
			}
		}
	}
}

// checkText refuses a basic credential with a control character (RFC 7617 §2), invalid
// UTF-8 or over max bytes.
func checkText(v *validation.Errors, field, value string, max int) {
	switch {
	case len(value) > max:
		v.Add(field, "must be at most %d bytes", max)
	case !utf8.ValidString(value) || strings.ContainsFunc(value, isControl):
		v.Add(field, "must not contain control characters (RFC 7617 §2)")
	}
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// checkClientCredential checks a required client_id or client_secret: printable ASCII,
// VSCHAR in RFC 6749 Appendix A.1 and A.2.
func checkClientCredential(v *validation.Errors, field, value string, max int) {
	switch {
	case value == "":
		v.Add(field, "is required with auth type oauth2")
	case len(value) > max:
		v.Add(field, "must be at most %d bytes", max)
	case strings.ContainsFunc(value, func(r rune) bool { return r < 0x20 || r > 0x7e }):
		v.Add(field, "must be printable ASCII (RFC 6749 Appendix A)")
	}
}

// checkScopes checks oauth2 scopes: at most maxScopes, each a scope-token of RFC 6749
// §3.3 (1*( %x21 / %x23-5B / %x5D-7E ): no space, '"' or '\'), none given twice.
func checkScopes(v *validation.Errors, scopes []string) {
	if len(scopes) > maxScopes {
		v.Add("auth.scopes", "must list at most %d scopes", maxScopes)
		return
	}
	for i, scope := range scopes {
		field := fmt.Sprintf("auth.scopes[%d]", i)
		switch {
		case scope == "":
			v.Add(field, "must not be empty")
		case len(scope) > maxScopeLen:
			v.Add(field, "must be at most %d bytes", maxScopeLen)
		case strings.ContainsFunc(scope, func(r rune) bool { return r <= 0x20 || r > 0x7e || r == '"' || r == '\\' }):
			v.Add(field, "must be a scope token: printable ASCII without spaces, '\"' or '\\' (RFC 6749 §3.3)")
		case slices.Contains(scopes[:i], scope):
			v.Add(field, "is given twice")
		}
	}
}

// checkNotMask refuses a credential that is or holds the mask reads show in its place:
// KeepMaskedAuth kept the stored value where it could, so what is left would be sent as
// written.
func checkNotMask(v *validation.Errors, field, value string) {
	if strings.Contains(value, redact.Masked) {
		v.Add(field, "is or holds the mask reads show in place of a value; give the value itself")
	}
}

// KeepMaskedAuth returns the auth an admin gave, with each credential sent back as the
// mask (redact.IsMask) replaced by the stored one, so that a PATCH sending back what GET
// showed changes nothing. A credential is kept only where it still goes to the same
// party: the type is the same, and for basic the username, for oauth2 the tokenUrl and
// clientId, are too (else a changed tokenUrl would receive the stored secret without the
// admin ever knowing it). A mask not replaced stays, for Validate to refuse.
func KeepMaskedAuth(given, stored Auth) Auth {
	if given.Type != stored.Type {
		return given
	}
	switch given.Type {
	case AuthBasic:
		if redact.IsMask(given.Password) && given.Username == stored.Username {
			given.Password = stored.Password
		}
	case AuthBearer:
		if redact.IsMask(given.Token) {
			given.Token = stored.Token
		}
	case AuthOAuth2:
		if redact.IsMask(given.ClientSecret) && given.TokenURL == stored.TokenURL && given.ClientID == stored.ClientID {
			given.ClientSecret = stored.ClientSecret
		}
	}
	return given
}

// MaskedAuth returns a as reads show it: type, username, tokenUrl, clientId and scopes
// as they are; password, token and clientSecret as redact.Masked when set (an empty
// basic password stays empty, so sending a read back keeps it).
func MaskedAuth(a Auth) Auth {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return redact.Masked
	}
	a.Password, a.Token, a.ClientSecret = mask(a.Password), mask(a.Token), mask(a.ClientSecret)
	a.Scopes = slices.Clone(a.Scopes)
	return a
}

// authJSON is Auth without its methods, for decoding.
type authJSON Auth

// authMembers are the JSON members of an Auth.
var authMembers = []string{"type", "username", "password", "token", "tokenUrl", "clientId", "clientSecret", "scopes"}

// UnmarshalJSON decodes an auth object, refusing each member Auth does not have
// ("pasword"; names are case sensitive, as the API's are) and a member of the wrong JSON
// type with a *validation.Errors naming it ("auth.pasword", "auth.scopes"), as
// Signature's does. A member silently dropped would leave a credential unset without a
// word.
func (a *Auth) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil // as for any other type: null leaves a as it is
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return err
	}
	var v validation.Errors
	for _, name := range slices.Sorted(maps.Keys(members)) {
		if !slices.Contains(authMembers, name) {
			v.Add("auth."+name, "is not a known field of auth (%s)", strings.Join(authMembers, ", "))
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	var out authJSON
	if err := json.Unmarshal(data, &out); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			want := "a string"
			if strings.HasPrefix(typeErr.Field, "scopes") {
				want = "an array of strings"
			}
			v.Add("auth."+typeErr.Field, "must be %s", want)
			return &v
		}
		return err
	}
	*a = Auth(out)
	return nil
}
