package api

import (
	"cmp"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/webhook"
)

// webhookInput is the body of POST /v1/webhooks and PATCH /v1/webhooks/{id}: the
// webhook's settings (webhook.Settings) and its status, by their API names. Pointers tell
// an absent (or null) field from a given one.
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

	Method            *string            `json:"method"`
	ContentType       *string            `json:"contentType"`
	BodyTemplate      *string            `json:"bodyTemplate"`
	Auth              *webhook.Auth      `json:"auth"`
	Signature         *webhook.Signature `json:"signature"`
	FailureLimit      *int               `json:"failureLimit"`
	Throttle          *string            `json:"throttle"`
	DiscardAfter      *string            `json:"discardAfter"`
	Lossy             *bool              `json:"lossy"`
	AllowInvalidCerts *bool              `json:"allowInvalidCerts"`
	Level             *string            `json:"level"`
	Status            *string            `json:"status"`
	// Secret is the signing secret a new webhook keeps (create only; see signing).
	Secret *string `json:"secret"`
}

// apply copies the given fields onto w: onto the defaults on create, onto the stored
// webhook on update. It checks only what the request's shape decides (on create, name
// and url must be given; retrySchedule's strings must read as a schedule); whether the
// result is valid is for webhook.Settings.Validate and webhook.ValidateStatus to say.
func (in webhookInput) apply(w *store.Webhook, creating bool, v *ValidationError) {
	if creating && in.Name == nil {
		v.Add("name", "is required")
	}
	if creating && in.URL == nil {
		v.Add("url", "is required")
	}
	s := &w.Settings
	set(&s.Name, in.Name)
	set(&s.Description, in.Description)
	set(&s.URL, in.URL)
	set(&s.Events, in.Events)
	set(&s.EventsPolicy, in.EventsPolicy)
	if in.Headers != nil {
		// A masked value sent back keeps the stored one (see webhook.KeepMaskedHeaders).
		s.Headers = webhook.KeepMaskedHeaders(*in.Headers, s.Headers)
	}
	set(&s.TimeoutSeconds, in.TimeoutSeconds)
	set(&s.MaxRetries, in.MaxRetries)
	if in.RetrySchedule != nil {
		sched, err := webhook.ParseSchedule(*in.RetrySchedule)
		if err != nil {
			v.Merge(fieldErrors(err))
		} else {
			s.RetrySchedule = sched
		}
	}
	set(&w.Status, in.Status)

	set(&s.Method, in.Method)
	set(&s.ContentType, in.ContentType)
	set(&s.BodyTemplate, in.BodyTemplate)
	if in.Auth != nil {
		// A masked credential sent back keeps the stored one (see webhook.KeepMaskedAuth).
		s.Auth = webhook.KeepMaskedAuth(*in.Auth, s.Auth)
	}
	set(&s.Signature, in.Signature)
	set(&s.FailureLimit, in.FailureLimit)
	setDuration(&s.Throttle, "throttle", in.Throttle, v)
	setDuration(&s.DiscardAfter, "discardAfter", in.DiscardAfter, v)
	set(&s.Lossy, in.Lossy)
	set(&s.AllowInvalidCerts, in.AllowInvalidCerts)
	set(&s.Level, in.Level)
}

// setDuration reads a given duration setting onto dst ("" is none); nil leaves dst as it
// is.
func setDuration(dst *webhook.Duration, field string, given *string, v *ValidationError) {
	if given == nil {
		return
	}
	d, err := webhook.ParseDuration(field, *given)
	if err != nil {
		v.Merge(fieldErrors(err))
		return
	}
	*dst = d
}

// set copies a given field onto dst; nil (absent) leaves dst as it is.
func set[T any](dst *T, given *T) {
	if given != nil {
		*dst = *given
	}
}

// inFieldOrder sorts the problems of a webhook body by the field they belong to, in
// webhookInput's order (name, description, url, events, …), keeping the order within a
// field: the order the API has always named them in, whichever check found them.
func inFieldOrder(v *ValidationError) *ValidationError {
	order := jsonFields(reflect.TypeFor[webhookInput]())
	field := func(f FieldError) int {
		name, _, _ := strings.Cut(f.Field, ".")
		name, _, _ = strings.Cut(name, "[")
		return order[name]
	}
	slices.SortStableFunc(v.Errors, func(a, b FieldError) int { return cmp.Compare(field(a), field(b)) })
	return v
}

// eventsField names the subscription at index i of a body's events.
func eventsField(i int) string { return "events[" + strconv.Itoa(i) + "]" }

// fieldErrors is the *ValidationError in err (nil for none), for the validations of
// internal/webhook, which return nothing else.
func fieldErrors(err error) *ValidationError {
	var v *ValidationError
	errors.As(err, &v)
	return v
}
