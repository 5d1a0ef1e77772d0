package activities

import (
	"fmt"
	"time"

	"github.com/hookd/hookd/internal/render"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/webhook"
)

// Content-Type values of a request (API.md "What a receiver gets").
const (
	contentTypeJSON = "application/json"
	contentTypeForm = "application/x-www-form-urlencoded"
)

// renderMessage renders the request of one attempt of ac at attemptedAt (API.md "Details
// of the settings"): the URL with its placeholders filled (render.URL), the body (the
// webhook's template, render.Template, or else the envelope), and for a form webhook that
// body's top-level members form encoded (render.Form). A *render.MissingError, wrapped,
// names the placeholder the event has no value for: prepare fails the delivery at once.
func renderMessage(ac store.AttemptContext, attemptedAt time.Time) (message, error) {
	wh, ev := ac.Webhook, ac.Event
	in := render.EventInput{ID: ev.ID, Type: ev.Type, Timestamp: ev.Timestamp, Data: ev.Data}
	vars := render.Vars{WebhookID: wh.ID, AttemptedAt: attemptedAt}
	target, err := render.URL(wh.URL, in, vars)
	if err != nil {
		return message{}, fmt.Errorf("render url: %w", err)
	}
	var body []byte
	if wh.BodyTemplate != "" {
		body, err = render.Template(wh.BodyTemplate, in, vars)
	} else {
		body, err = render.Envelope(in, wh.ID, attemptedAt)
	}
	if err != nil {
		return message{}, fmt.Errorf("render body: %w", err)
	}
	contentType := contentTypeJSON
	if wh.ContentType == webhook.ContentTypeForm {
		if body, err = render.Form(body); err != nil {
			return message{}, fmt.Errorf("render form body: %w", err)
		}
		contentType = contentTypeForm
	}
	return message{ID: ac.Delivery.ID, URL: target, Body: body, ContentType: contentType}, nil
}
