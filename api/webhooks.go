package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/internal/ids"
	"github.com/hookd/hookd/internal/signing"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/webhook"
)

// secretPrefixLen is how much of a secret reads show: "whsec_" and four characters.
const secretPrefixLen = len("whsec_") + 4

// checkSubscribed adds a problem for each subscribed event type the organization lacks.
func (s *server) checkSubscribed(ctx context.Context, orgID string, events []string, v *ValidationError) error {
	if len(events) == 0 {
		return nil
	}
	missing, err := s.store.MissingEventTypes(ctx, orgID, events)
	if err != nil {
		return err
	}
	for _, m := range missing {
		for i, name := range events {
			if name == m {
				v.Add(eventsField(i), "unknown event type %q; create it with POST /v1/event-types", name)
			}
		}
	}
	return nil
}

// subscribedGone answers a webhook write the store refused because an event type it
// names was deleted after checkSubscribed passed: the 422 that check gives now, naming
// the given events by their index.
func (s *server) subscribedGone(ctx context.Context, org string, events *[]string) error {
	var v ValidationError
	if events != nil {
		if err := s.checkSubscribed(ctx, org, *events, &v); err != nil {
			return err
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	// Deleted and created again meanwhile: nothing was written; the same request now succeeds.
	return errorf(http.StatusConflict, "an event type it names was deleted while the webhook was written; send it again")
}

// applyWebhookInput applies in onto w (every given field; see webhookInput.apply) and
// validates the result: its settings with webhook.Settings.Validate, a status written
// with webhook.ValidateStatus, and, only when events is given, that they name event types
// of the organization. It returns the validation error naming every bad field, or a store
// error. Problems are named in the order of the body's fields, unknown event types last.
func (s *server) applyWebhookInput(ctx context.Context, org string, in webhookInput, w *store.Webhook, create bool, v *ValidationError) error {
	var problems ValidationError
	in.apply(w, create, &problems)
	problems.Merge(fieldErrors(w.Settings.Validate(s.urlOpts)))
	if in.Status != nil {
		problems.Merge(fieldErrors(webhook.ValidateStatus(w.Status)))
	}
	if in.Events != nil && !problems.Has("events") { // a list refused whole is not read name by name
		for i, name := range *in.Events {
			checkEventTypeName(&problems, eventsField(i), name)
		}
	}
	v.Merge(inFieldOrder(&problems))
	if in.Events != nil {
		if err := s.checkSubscribed(ctx, org, *in.Events, v); err != nil {
			return err
		}
	}
	return v.Err()
}

// createWebhook answers 201 with the signing secret, the only time it is shown.
func (s *server) createWebhook(c *gin.Context) {
	var in webhookInput
	var v ValidationError
	if err := bindObject(c, &in, &v); err != nil {
		fail(c, err)
		return
	}
	ctx, org := c.Request.Context(), caller(c).OrgID
	w := store.Webhook{Settings: webhook.Defaults(), Status: webhook.StatusEnabled}
	if in.Secret != nil && !signing.ValidSecret(*in.Secret) {
		v.Add("secret", "must be %q followed by the base64 of %d to %d bytes", signing.SecretPrefix, signing.MinSecretBytes, signing.MaxSecretBytes)
	}
	if err := s.applyWebhookInput(ctx, org, in, &w, true, &v); err != nil {
		fail(c, err)
		return
	}
	secret, err := newOrGivenSecret(in.Secret)
	if err != nil {
		fail(c, err)
		return
	}
	w.ID, w.OrgID, w.Secret, w.SecretPrefix = ids.New(ids.Webhook), org, secret, secret[:secretPrefixLen]
	created, err := s.store.CreateWebhook(ctx, w)
	if errors.Is(err, store.ErrEventTypeMissing) {
		err = s.subscribedGone(ctx, org, in.Events)
	}
	if err != nil {
		fail(c, err)
		return
	}
	view := viewWebhook(created)
	view.Secret = secret // shown once, here; reads show secretPrefix only
	c.Header("Location", "/v1/webhooks/"+created.ID)
	c.JSON(http.StatusCreated, view)
}

// newOrGivenSecret is the secret a new webhook signs with: the one the admin gave (a
// migration keeps its receivers' secret), else a fresh one.
func newOrGivenSecret(given *string) (string, error) {
	if given != nil {
		return *given, nil
	}
	return signing.NewSecret()
}

func (s *server) listWebhooks(c *gin.Context) {
	page, err := pageOnly(c)
	if err != nil {
		fail(c, err)
		return
	}
	rows, next, err := s.store.ListWebhooks(c.Request.Context(), caller(c).OrgID, page)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(rows, next, viewWebhook))
}

func (s *server) getWebhook(c *gin.Context) {
	id := c.Param("id")
	w, err := s.store.GetWebhook(c.Request.Context(), caller(c).OrgID, id)
	if err != nil {
		fail(c, describe(err, "no webhook %q", id))
		return
	}
	c.JSON(http.StatusOK, viewWebhook(w))
}

// updateWebhook changes the given fields; absent (or null) fields keep their value.
// Subscriptions are checked only when events is given, so a webhook whose event type was
// deleted can still be renamed.
func (s *server) updateWebhook(c *gin.Context) {
	id := c.Param("id")
	var in webhookInput
	var v ValidationError
	if err := bindObject(c, &in, &v); err != nil {
		fail(c, err)
		return
	}
	if in.Secret != nil {
		v.Add("secret", "cannot be changed; rotate it with POST /v1/webhooks/{id}/rotate-secret")
	}
	ctx, org := c.Request.Context(), caller(c).OrgID
	w, err := s.store.GetWebhook(ctx, org, id)
	if err != nil {
		fail(c, describe(err, "no webhook %q", id))
		return
	}
	before := w
	if err := s.applyWebhookInput(ctx, org, in, &w, false, &v); err != nil {
		fail(c, err)
		return
	}
	updated, err := s.store.UpdateWebhook(ctx, w)
	if errors.Is(err, store.ErrEventTypeMissing) {
		err = s.subscribedGone(ctx, org, in.Events)
	}
	if err != nil {
		fail(c, describe(err, "no webhook %q", id))
		return
	}
	// The change is made: deliveries a failed stop leaves in flight are abandoned at
	// their next attempt, so the answer stands.
	if err := s.svc.WebhookUpdated(ctx, before, updated); err != nil {
		s.log.WarnContext(ctx, "stop the deliveries of a disabled webhook failed", "err", err, "webhook", id)
	}
	c.JSON(http.StatusOK, viewWebhook(updated))
}

// webhookUpdater finishes what an admin's change of a webhook entails: setting it
// DISABLED cancels its deliveries in flight. *dispatch.Service implements it.
type webhookUpdater interface {
	WebhookUpdated(ctx context.Context, before, after store.Webhook) error
}

func (s *server) deleteWebhook(c *gin.Context) {
	id := c.Param("id")
	if err := s.store.DeleteWebhook(c.Request.Context(), caller(c).OrgID, id); err != nil {
		fail(c, describe(err, "no webhook %q", id))
		return
	}
	c.Status(http.StatusNoContent)
}

// pingWebhook sends a "ping" event to one webhook, whatever it subscribes to and even
// when it is disabled, so an admin can test a receiver.
func (s *server) pingWebhook(c *gin.Context) {
	id := c.Param("id")
	ev, d, err := s.svc.Ping(c.Request.Context(), caller(c).OrgID, id)
	if err != nil {
		fail(c, describe(err, "no webhook %q", id))
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"deliveryId": d.ID, "eventId": ev.ID})
}
