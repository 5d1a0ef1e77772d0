package activities

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/hookd/hookd/internal/redact"
	"github.com/hookd/hookd/internal/store"
)

// setHeaders sets the headers of a request whose body is of contentType: hookd's
// Content-Type and User-Agent first, then the webhook's custom headers, which replace
// them where they name them (webhook.Settings.Headers: a receiver may want
// application/cloudevents+json, or its own agent string). The signature headers and the
// credentials come after, set by signRequest and authorize: validation refuses custom
// headers that would collide with them, so nothing given is silently replaced.
func setHeaders(h http.Header, custom map[string]string, contentType, userAgent string) {
	h.Set("Content-Type", contentType)
	h.Set("User-Agent", userAgent)
	for name, value := range custom {
		h.Set(name, value)
	}
}

// maskHeaders copies the headers of a request for its attempt record as redact shows
// them (credentials masked, the signature shortened), so an attempt record never holds a
// usable secret. The request itself carries the real values.
func maskHeaders(h http.Header) map[string]string {
	return redact.Headers(flattenHeaders(h))
}

// maskURL is the target URL raw as an attempt record or an attempt error shows it: user
// information ("https://user:pass@host/") replaced by redact.Masked whole (a lone user
// name may be a token), and the value of each query parameter whose name is a
// credential's (redact.Sensitive: "?api_key=…", "?access_token=…") by redact.Masked;
// the rest as written. A URL that cannot be parsed is shown as redact.Masked. The request
// itself carries the real values.
func maskURL(raw string) string { return redact.URL(raw) }

// urlInError matches a URL quoted in an error message (net/http's `Post "…": …`).
var urlInError = regexp.MustCompile(`"(https?://[^/?#"]*)[^"]*"`)

// hostOnly returns msg, an attempt's recorded error, with each URL it quotes cut to its
// scheme and host (user information already masked): what an attempt's error may show
// outside PostgreSQL — in the workflow's state and failure message in Temporal, and in
// log lines — since a URL's path or query may itself be a credential (a Slack-style
// webhook URL). The attempt's record keeps the masked URL for the organization's admins.
func hostOnly(msg string) string { return urlInError.ReplaceAllString(msg, `"$1/…"`) }

// maskURLError returns err with the URL a *url.Error names (net/http's "Post \"…\": …",
// url.Parse's "parse \"…\": …") as maskURL shows it, so an attempt's error, which is also
// the delivery's last error and part of the workflow's history, holds no credential
// either. net/http hides only a password. Other errors are returned as they are.
func maskURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = maskURL(ue.URL)
	}
	return err
}

// minEchoLen is the shortest credential scrubEchoes looks for: a shorter one would mask
// ordinary text of the answer.
const minEchoLen = 6

// scrubEchoes masks, in what a receiver answered (body and header values), every
// credential the request carried or the webhook holds (API.md: credentials appear in no
// attempt record): the values of credential headers (redact.Sensitive: Authorization
// whole and without its scheme, a Basic password), the auth's password, token and client
// secret, and the signing secrets. A receiver's error page echoing the request is common.
func scrubEchoes(res *sendResult, req *http.Request, wh store.Webhook) {
	secrets := []string{wh.Auth.Password, wh.Auth.Token, wh.Auth.ClientSecret, wh.Secret}
	secrets = append(secrets, wh.GraceSecrets...)
	for name, values := range req.Header {
		if !redact.Sensitive(name) {
			continue
		}
		for _, v := range values {
			secrets = append(secrets, v)
			scheme, cred, ok := strings.Cut(v, " ")
			if !ok {
				continue
			}
			secrets = append(secrets, cred)
			if strings.EqualFold(scheme, "Basic") {
				if pair, err := base64.StdEncoding.DecodeString(cred); err == nil {
					_, password, _ := strings.Cut(string(pair), ":")
					secrets = append(secrets, password)
				}
			}
		}
	}
	// Each also as a URL would carry it (an echoed query or form), in any case (an
	// echo lowercased), longest first so that one containing another is masked whole.
	var alternatives []string
	for _, secret := range secrets {
		if len(secret) < minEchoLen {
			continue
		}
		for _, form := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret)} {
			if !slices.Contains(alternatives, regexp.QuoteMeta(form)) {
				alternatives = append(alternatives, regexp.QuoteMeta(form))
			}
		}
	}
	if len(alternatives) == 0 {
		return
	}
	slices.SortFunc(alternatives, func(a, b string) int { return len(b) - len(a) })
	echo := regexp.MustCompile("(?i)" + strings.Join(alternatives, "|"))
	mask := func(s string) string { return echo.ReplaceAllLiteralString(s, redact.Masked) }
	res.attempt.ResponseBody = mask(res.attempt.ResponseBody)
	for name, value := range res.attempt.ResponseHeaders {
		res.attempt.ResponseHeaders[name] = mask(value)
	}
}
