// Package webhook owns a webhook's settings: the one type that says what an admin writes
// (Settings), its defaults, its validation and its stored form. The API applies requests
// onto it, the store keeps it, and the attempt activity reads it. The rules are API.md's
// "Webhooks" section.
package webhook

import (
	"cmp"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/redact"
	"github.com/hookd/hookd/internal/render"
	"github.com/hookd/hookd/internal/validation"
)

// Settings are what an admin writes of a webhook (API.md "Webhooks"), by the API's field
// names. The webhook's status is not among them, because hookd changes it too (see
// StatusEnabled).
//
// The JSON form is what the store keeps in the webhooks.settings column: the API's field
// names, durations as the API writes them ("1m"). Events and EventsPolicy are columns of
// their own there, because the fan-out filters on them, so they are left out of it, and
// so are Headers, whose values are kept sealed (see Secrets).
type Settings struct {
	// Name labels the webhook: not blank, at most 100 characters.
	Name string `json:"name"`
	// Description is free text of at most 1000 characters.
	Description string `json:"description"`
	// URL is the target, checked by netguard.CheckURL: at most 512 characters, https
	// (http only if the options allow it), a public host (unless they allow private ones).
	URL string `json:"url"`
	// Events are the subscribed event type names, at most 250. That each is an event type
	// of the organization (and so a valid name) is for the caller to check: it needs the
	// organization's event types.
	Events []string `json:"-"`
	// EventsPolicy is EventsInclude (only Events) or EventsExclude (every type but those).
	EventsPolicy string `json:"-"`
	// Headers are extra request headers, at most 32, each value at most 4096 bytes; a
	// credential's (redact.Sensitive) value is not redact.Masked. They are among the
	// Secrets. Of the headers hookd sets itself, Content-Type and User-Agent may be given
	// here and then replace hookd's (a receiver may want application/cloudevents+json, or
	// its own agent string), as sent and as the attempt records them. The others are
	// refused: Host, Content-Length and the other headers the HTTP transport sets
	// (forbiddenHeaders), webhook-* (the Standard Webhooks signature's), the hmac-body
	// signature header (Signature.Header, checkSignature) and Authorization when Auth sets
	// it (checkAuth).
	Headers map[string]string `json:"-"`
	// TimeoutSeconds bounds each attempt: 1 to 60 seconds.
	TimeoutSeconds int `json:"timeoutSeconds"`
	// MaxRetries is the number of automatic retries after the first attempt: 0 to 20.
	MaxRetries int `json:"maxRetries"`
	// RetrySchedule holds the delay before retry n, the last entry repeating: 1 to 20
	// entries of 1s to 24h (delivery.ParseSchedule).
	RetrySchedule Schedule `json:"retrySchedule"`

	// Method is the request's method: MethodPost, MethodPut or MethodPatch (seed 002).
	Method string `json:"method"`
	// ContentType is ContentTypeJSON or ContentTypeForm (API.md "contentType").
	ContentType string `json:"contentType"`
	// BodyTemplate renders the body from the event (seed 002's syntax, internal/render);
	// "" sends the standard envelope. At most 1024 characters.
	BodyTemplate string `json:"bodyTemplate,omitempty"`
	// Auth is how hookd authenticates to the endpoint (API.md "auth"). Its credentials
	// are among the Secrets.
	Auth Auth `json:"-"`
	// Signature is the signature scheme: the Standard Webhooks headers, and optionally a
	// body-only HMAC header (API.md "signature").
	Signature Signature `json:"signature"`
	// FailureLimit is how many consecutive deliveries may end failed before hookd sets the
	// webhook DISABLED_DUE_TO_ERRORS; 0 never does. 0 to 1000.
	FailureLimit int `json:"failureLimit"`
	// Throttle, when not 0, batches the notifications that fall in one window of this
	// length into one request (seed 003): 1s to 1h.
	Throttle Duration `json:"throttle,omitempty"`
	// DiscardAfter, when not 0, ends a delivery not succeeded this long after it was
	// created as failed (seed 003): 1s to 30 days.
	DiscardAfter Duration `json:"discardAfter,omitempty"`
	// Lossy drops (records canceled) new notifications while the webhook is failing,
	// instead of queueing them (seed 003).
	Lossy bool `json:"lossy"`
	// AllowInvalidCerts skips TLS verification of the target (seed 003).
	AllowInvalidCerts bool `json:"allowInvalidCerts"`
	// Level is the minimum severity of the events delivered (seed 003), one of Levels.
	Level string `json:"level"`
}

// Values of Method.
const (
	MethodPost  = "POST"
	MethodPut   = "PUT"
	MethodPatch = "PATCH"
)

// Values of ContentType.
const (
	ContentTypeJSON = "json"
	ContentTypeForm = "form"
)

// Levels are the severities of events, lowest first (seed 003's `level`). An event has
// DefaultEventLevel unless it says; a webhook receives events of its Level and above.
var Levels = []string{"trace", "debug", "info", "warn", "error"}

// Default levels of webhooks and events (API.md).
const (
	DefaultLevel      = "trace"
	DefaultEventLevel = "info"
)

// DefaultFailureLimit is the failure limit of a new webhook that sets none (API.md).
const DefaultFailureLimit = 10

// Auth is how hookd authenticates to a webhook's endpoint (API.md "auth"): Type is one of
// the AuthNone, AuthBasic, AuthBearer and AuthOAuth2, and the fields that type uses are
// set. Password, Token and ClientSecret are credentials: reads show them as
// redact.Masked, and an admin sending the mask back keeps the stored value
// (KeepMaskedAuth).
type Auth struct {
	Type     string `json:"type"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Token    string `json:"token,omitempty"`
	// OAuth2 client credentials (RFC 6749 §4.4).
	TokenURL     string   `json:"tokenUrl,omitempty"`
	ClientID     string   `json:"clientId,omitempty"`
	ClientSecret string   `json:"clientSecret,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
}

// Values of Auth.Type.
const (
	AuthNone   = "none"
	AuthBasic  = "basic"
	AuthBearer = "bearer"
	AuthOAuth2 = "oauth2"
)

// Signature is a webhook's signature scheme (API.md "signature"): SchemeStandard sends
// the Standard Webhooks headers only; SchemeHMACBody adds Header carrying the
// HMAC-SHA256 of the body, keyed with the webhook's secret string, in Encoding.
type Signature struct {
	Scheme   string `json:"scheme"`
	Header   string `json:"header,omitempty"`
	Encoding string `json:"encoding,omitempty"`
}

// Values of Signature.Scheme and Signature.Encoding.
const (
	SchemeStandard = "standard"
	SchemeHMACBody = "hmac-body"
	EncodingHex    = "hex"
	EncodingBase64 = "base64"
)

// Values of EventsPolicy.
const (
	EventsInclude = "include"
	EventsExclude = "exclude"
)

// DefaultTimeoutSeconds is the per-attempt timeout of a webhook that sets none.
const DefaultTimeoutSeconds = 30

// Limits of Validate (API.md).
const (
	maxNameRunes        = 100
	maxDescriptionRunes = 1000
	maxEvents           = 250
	maxHeaders          = 32
	maxHeaderValueLen   = 4096
	minTimeoutSeconds   = 1
	maxTimeoutSeconds   = 60
	maxRetries          = 20
)

// Defaults are the settings of a new webhook before the admin's are applied: no events
// with policy include, no headers, a 30-second timeout, and delivery's default retries
// and schedule. Name and URL have no default.
func Defaults() Settings {
	return Settings{
		Events:         []string{},
		EventsPolicy:   EventsInclude,
		Headers:        map[string]string{},
		TimeoutSeconds: DefaultTimeoutSeconds,
		MaxRetries:     delivery.DefaultMaxRetries,
		RetrySchedule:  slices.Clone(delivery.DefaultSchedule),
		Method:         MethodPost,
		ContentType:    ContentTypeJSON,
		Auth:           Auth{Type: AuthNone},
		Signature:      Signature{Scheme: SchemeStandard},
		FailureLimit:   DefaultFailureLimit,
		Level:          DefaultLevel,
	}
}

// WithDefaults returns s with the defaults of the settings it leaves empty: those added
// after s was stored read as the webhook behaved before them (POST, json, no auth, the
// standard signature, level trace; a failure limit of 0, never).
func (s Settings) WithDefaults() Settings {
	s.Method = cmp.Or(s.Method, MethodPost)
	s.ContentType = cmp.Or(s.ContentType, ContentTypeJSON)
	s.Auth.Type = cmp.Or(s.Auth.Type, AuthNone)
	s.Signature.Scheme = cmp.Or(s.Signature.Scheme, SchemeStandard)
	s.Level = cmp.Or(s.Level, DefaultLevel)
	return s
}

// Policy is the webhook's automatic retry policy.
func (s Settings) Policy() delivery.Policy {
	return delivery.Policy{MaxRetries: s.MaxRetries, Schedule: s.RetrySchedule, Jitter: delivery.DefaultJitter}
}

// Canonical returns s as it is stored: header names in canonical form (x-api-key →
// X-Api-Key) and repeated event types dropped, keeping the first. Validate s first: its
// problems name headers and events as they were given.
func (s Settings) Canonical() Settings {
	events := make([]string, 0, len(s.Events))
	for _, name := range s.Events {
		if !slices.Contains(events, name) {
			events = append(events, name)
		}
	}
	headers := make(map[string]string, len(s.Headers))
	for name, value := range s.Headers {
		headers[http.CanonicalHeaderKey(name)] = value
	}
	s.Events, s.Headers = events, headers
	return s
}

// Validate checks every setting and returns nil or a *validation.Errors naming each bad
// field as the API does ("name", "headers.Host", "retrySchedule[1]"), in the order of the
// fields. opts says whether an http URL or a private host is allowed (dev mode). It checks
// how many Events there are, not their names (see Events).
func (s Settings) Validate(opts netguard.Options) error {
	var v validation.Errors
	switch {
	case strings.TrimSpace(s.Name) == "":
		v.Add("name", "must not be blank")
	case utf8.RuneCountInString(s.Name) > maxNameRunes:
		v.Add("name", "must be at most %d characters", maxNameRunes)
	}
	if utf8.RuneCountInString(s.Description) > maxDescriptionRunes {
		v.Add("description", "must be at most %d characters", maxDescriptionRunes)
	}
	if err := render.CheckURL(s.URL); err != nil {
		// First: a placeholder in the host reads to netguard as a host it cannot parse.
		v.Add("url", "%s", err)
	} else if err := netguard.CheckURL(s.URL, opts); err != nil {
		v.Add("url", "%s", urlMessage(err))
	}
	if len(s.Events) > maxEvents {
		v.Add("events", "must list at most %d event types", maxEvents)
	}
	if s.EventsPolicy != EventsInclude && s.EventsPolicy != EventsExclude {
		v.Add("eventsPolicy", "must be \"include\" or \"exclude\"")
	}
	checkHeaders(&v, s.Headers)
	if s.TimeoutSeconds < minTimeoutSeconds || s.TimeoutSeconds > maxTimeoutSeconds {
		v.Add("timeoutSeconds", "must be from %d to %d", minTimeoutSeconds, maxTimeoutSeconds)
	}
	if s.MaxRetries < 0 || s.MaxRetries > maxRetries {
		v.Add("maxRetries", "must be from 0 to %d", maxRetries)
	}
	// The schedule's rule is delivery.ParseSchedule's; reading the schedule's written form
	// applies it, with its messages, however the durations were made.
	parseSchedule(&v, delivery.FormatSchedule(s.RetrySchedule))
	s.checkRequest(&v, opts)
	s.checkAuth(&v, opts)
	s.checkSignature(&v)
	s.checkControls(&v)
	return v.Err()
}

// urlMessage strips netguard's sentinel prefix: the field name says it is the URL.
func urlMessage(err error) string {
	msg := err.Error()
	for _, sentinel := range []error{netguard.ErrInvalidURL, netguard.ErrBlocked} {
		msg = strings.TrimPrefix(msg, sentinel.Error()+": ")
	}
	return msg
}

// forbiddenHeaders are set by the HTTP transport from the request itself (its host, its
// body's length and framing, the connection's management) and cannot be given: the
// transport would ignore or contradict them.
var forbiddenHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true,
	"Keep-Alive": true, "Upgrade": true, "Te": true, "Trailer": true, "Proxy-Connection": true,
}

// checkHeaders adds a problem for each custom header that cannot be sent, named as given
// ("headers.x-api-key"), in the order of the names. It judges the headers alone: that one
// collides with another setting (signature.header, auth) is for that setting's check.
// Content-Type and User-Agent pass: given, they replace hookd's (see Headers).
func checkHeaders(v *validation.Errors, headers map[string]string) {
	if len(headers) > maxHeaders {
		v.Add("headers", "must have at most %d entries", maxHeaders)
		return
	}
	seen := make(map[string]bool, len(headers))
	for _, name := range slices.Sorted(maps.Keys(headers)) {
		value, field := headers[name], "headers."+name
		canon := http.CanonicalHeaderKey(name)
		switch {
		case !httpguts.ValidHeaderFieldName(name):
			v.Add(field, "is not a valid header name")
		case forbiddenHeaders[canon]:
			v.Add(field, "is set by hookd and cannot be overridden")
		case strings.HasPrefix(strings.ToLower(name), "webhook-"):
			v.Add(field, "webhook-* headers are reserved for the Standard Webhooks signature")
		case !httpguts.ValidHeaderFieldValue(value):
			v.Add(field, "has a value with characters not allowed in a header")
		case len(value) > maxHeaderValueLen:
			v.Add(field, "must be at most %d bytes", maxHeaderValueLen)
		case redact.Sensitive(name) && strings.Contains(value, redact.Masked):
			// The mask itself was replaced by the stored value before (KeepMaskedHeaders);
			// around other characters (a Unicode space, say) it would be sent as written.
			v.Add(field, "is or holds the mask reads show in place of a value; give the value itself")
		case seen[canon]:
			v.Add(field, "is given twice (header names are case-insensitive)")
		default:
			seen[canon] = true
		}
	}
}
