package activities

import (
	"fmt"
	"time"

	"github.com/hookd/hookd/internal/render"
	"github.com/hookd/hookd/internal/store"
)

// renderMessage renders the request of one attempt of ac at attemptedAt: the URL's
// placeholders, the body (the envelope or the webhook's template), form encoded for a
// form webhook. A *render.MissingError fails the delivery at once. TODO(request shape):
// placeholders, templates, form.
func renderMessage(ac store.AttemptContext, attemptedAt time.Time) (message, error) {
	wh, ev := ac.Webhook, ac.Event
	body, err := render.Envelope(render.EventInput{
		ID: ev.ID, Type: ev.Type, Timestamp: ev.Timestamp, Data: ev.Data,
	}, wh.ID, attemptedAt)
	if err != nil {
		return message{}, fmt.Errorf("render body: %w", err)
	}
	return message{ID: ac.Delivery.ID, URL: wh.URL, Body: body, ContentType: "application/json"}, nil
}
