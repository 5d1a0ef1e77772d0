package webhook

import (
	"net/url"
	"unicode/utf8"

	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/render"
	"github.com/hookd/hookd/internal/validation"
)

// maxBodyTemplateRunes bounds bodyTemplate (API.md; seed 002's `body`, max 1024).
const maxBodyTemplateRunes = 1024

// checkRequest checks the request's shape: method, contentType, the url's placeholders
// and bodyTemplate (internal/render). A url placeholder must be well-formed and stand in
// the path or query (render.CheckURL); a bodyTemplate is at most 1024 characters and
// renders valid JSON whatever the event (render.CheckTemplate), and for contentType form
// a JSON object, whose members are the form's fields (render.CheckFormTemplate).
func (s Settings) checkRequest(v *validation.Errors, _ netguard.Options) {
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
	if err := render.CheckURL(s.URL); err != nil {
		v.Add("url", "%s", err)
	}
	if s.BodyTemplate == "" {
		return
	}
	if problem := validation.TextProblem(s.BodyTemplate); problem != "" {
		v.Add("bodyTemplate", "%s", problem)
		return
	}
	if n := utf8.RuneCountInString(s.BodyTemplate); n > maxBodyTemplateRunes {
		v.Add("bodyTemplate", "must be at most %d characters (it has %d)", maxBodyTemplateRunes, n)
		return
	}
	check := render.CheckTemplate
	if s.ContentType == ContentTypeForm {
		check = render.CheckFormTemplate
	}
	if err := check(s.BodyTemplate); err != nil {
		v.Add("bodyTemplate", "%s", err)
	}
}

// TargetHost is the host (and port) a webhook URL sends to, without its user
// information, path or query: what the Temporal UI's summary of a delivery names. URL
// placeholders stand only in the path and query, so a URL template's host is the
// target's. "" for a URL that does not parse.
func TargetHost(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Host
}
