package webhook

import (
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/validation"
)

// checkAuth checks auth: its type, and the fields that type uses.
func (s Settings) checkAuth(v *validation.Errors, opts netguard.Options) {
	switch s.Auth.Type {
	case AuthNone, AuthBasic, AuthBearer, AuthOAuth2:
	default:
		v.Add("auth.type", "must be none, basic, bearer or oauth2")
	}
	_ = opts // TODO(auth)
}

// KeepMaskedAuth returns the auth an admin gave with each credential sent back masked
// replaced by the stored one. TODO(auth).
func KeepMaskedAuth(given, stored Auth) Auth { return given }

// MaskedAuth returns a as reads show it: credentials masked. TODO(auth).
func MaskedAuth(a Auth) Auth {
	return Auth{Type: a.Type}
}
