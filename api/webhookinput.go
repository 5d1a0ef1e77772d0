package api

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/store"
)

// Defaults of a new webhook (API.md).
const (
	defaultTimeoutSeconds = 30
	minTimeoutSeconds     = 1
	maxTimeoutSeconds     = 60
	maxRetriesLimit       = 20
)

// webhookInput is the body of POST /v1/webhooks and PATCH /v1/webhooks/{id}. Pointers
// tell an absent (or null) field from a given one.
type webhookInput struct {
	Name           *string            `json:"name"`
	Description    *string            `json:"description"`
	URL            *string            `json:"url"`
	Events         *[]string          `json:"events"`
	EventsPolicy   *string            `json:"eventsPolicy"`
	Headers        *map[string]string `json:"headers"`
	TimeoutSeconds *int               `json:"timeoutSeconds"`
	MaxRetries     *int               `json:"maxRetries"`
	RetrySchedule  *[]string          `json:"retrySchedule"`
	Status         *string            `json:"status"`
}

// newWebhookDefaults is a webhook before the create request's fields are applied.
func newWebhookDefaults() store.Webhook {
	return store.Webhook{
		Events:         []string{},
		EventsPolicy:   "include",
		Headers:        map[string]string{},
		TimeoutSeconds: defaultTimeoutSeconds,
		MaxRetries:     delivery.DefaultMaxRetries,
		RetrySchedule:  slices.Clone(delivery.DefaultSchedule),
		Status:         store.WebhookEnabled,
	}
}

// apply validates the given fields and copies them onto w. creating makes name and url
// required. Whether the events exist is checked separately (it needs the store).
func (in webhookInput) apply(w *store.Webhook, creating bool, urlOpts netguard.Options, v *ValidationError) {
	if in.Name != nil {
		switch n := utf8.RuneCountInString(*in.Name); {
		case strings.TrimSpace(*in.Name) == "":
			v.Add("name", "must not be blank")
		case n > maxNameRunes:
			v.Add("name", "must be at most %d characters", maxNameRunes)
		default:
			w.Name = *in.Name
		}
	} else if creating {
		v.Add("name", "is required")
	}
	if in.Description != nil {
		checkDescription(v, "description", *in.Description)
		w.Description = *in.Description
	}
	if in.URL != nil {
		if err := netguard.CheckURL(*in.URL, urlOpts); err != nil {
			v.Add("url", "%s", urlMessage(err))
		}
		w.URL = *in.URL
	} else if creating {
		v.Add("url", "is required")
	}
	if in.Events != nil {
		w.Events = checkEvents(v, *in.Events)
	}
	if in.EventsPolicy != nil {
		if p := *in.EventsPolicy; p != "include" && p != "exclude" {
			v.Add("eventsPolicy", "must be \"include\" or \"exclude\"")
		} else {
			w.EventsPolicy = p
		}
	}
	if in.Headers != nil {
		w.Headers = checkHeaders(v, *in.Headers)
	}
	if in.TimeoutSeconds != nil {
		if t := *in.TimeoutSeconds; t < minTimeoutSeconds || t > maxTimeoutSeconds {
			v.Add("timeoutSeconds", "must be from %d to %d", minTimeoutSeconds, maxTimeoutSeconds)
		} else {
			w.TimeoutSeconds = t
		}
	}
	if in.MaxRetries != nil {
		if r := *in.MaxRetries; r < 0 || r > maxRetriesLimit {
			v.Add("maxRetries", "must be from 0 to %d", maxRetriesLimit)
		} else {
			w.MaxRetries = r
		}
	}
	if in.RetrySchedule != nil {
		sched, err := delivery.ParseSchedule(*in.RetrySchedule)
		var serr *delivery.ScheduleError
		switch {
		case errors.As(err, &serr) && serr.Index >= 0:
			v.Add("retrySchedule["+strconv.Itoa(serr.Index)+"]", "%s", serr.Message)
		case errors.As(err, &serr):
			v.Add("retrySchedule", "%s", serr.Message)
		case err != nil:
			v.Add("retrySchedule", "is invalid")
		default:
			w.RetrySchedule = sched
		}
	}
	if in.Status != nil {
		switch s := *in.Status; s {
		case store.WebhookEnabled, store.WebhookDisabled:
			w.Status = s
		case store.WebhookDisabledDueToErrors:
			v.Add("status", "is set only by hookd; write ENABLED or DISABLED")
		default:
			v.Add("status", "must be ENABLED or DISABLED")
		}
	}
}

// urlMessage strips netguard's sentinel prefix: the field name says it is the URL.
func urlMessage(err error) string {
	msg := err.Error()
	for _, sentinel := range []error{netguard.ErrInvalidURL, netguard.ErrBlocked} {
		msg = strings.TrimPrefix(msg, sentinel.Error()+": ")
	}
	return msg
}

// checkEvents validates subscription names and drops repeats, keeping the order given.
func checkEvents(v *ValidationError, names []string) []string {
	if len(names) > maxSubscriptions {
		v.Add("events", "must list at most %d event types", maxSubscriptions)
		return nil
	}
	out := make([]string, 0, len(names))
	for i, name := range names {
		if checkEventTypeName(v, "events["+strconv.Itoa(i)+"]", name) && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// forbiddenHeaders are set by hookd or by the HTTP transport and cannot be overridden.
var forbiddenHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true,
	"Keep-Alive": true, "Upgrade": true, "Te": true, "Trailer": true, "Proxy-Connection": true,
}

// checkHeaders validates custom request headers and returns them with canonical names.
func checkHeaders(v *ValidationError, headers map[string]string) map[string]string {
	if len(headers) > maxCustomHeaders {
		v.Add("headers", "must have at most %d entries", maxCustomHeaders)
		return map[string]string{}
	}
	out := make(map[string]string, len(headers))
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
		default:
			if _, dup := out[canon]; dup {
				v.Add(field, "is given twice (header names are case-insensitive)")
			}
			out[canon] = value
		}
	}
	return out
}
