package webhook

import (
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/validation"
)

// checkRequest checks the request's shape: method, contentType, the url's placeholders
// and bodyTemplate (internal/render).
func (s Settings) checkRequest(v *validation.Errors, opts netguard.Options) {
	switch s.Method {
	case MethodPost, MethodPut, MethodPatch:
	default:
		v.Add("method", "must be POST, PUT or PATCH")
	}
	switch s.ContentType {
	case ContentTypeJSON, ContentTypeForm:
	default:
		v.Add("contentType", "must be \"json\" or \"form\"")
	}
	_ = opts // TODO(request shape): placeholders and bodyTemplate
}
