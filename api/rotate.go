package api

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/internal/signing"
	"github.com/hookd/hookd/internal/store"
)

// Bounds of rotate-secret's gracePeriodSeconds (API.md "rotate-secret"): a day by
// default, as Svix keeps an old secret; at most a week, so a forgotten rotation does not
// leave a retired secret signing for long.
const (
	defaultGracePeriodSeconds = 24 * 60 * 60
	maxGracePeriodSeconds     = 7 * 24 * 60 * 60
)

// secretRotator rotates a webhook's signing secret (store.Store.RotateSecret).
type secretRotator interface {
	RotateSecret(ctx context.Context, orgID, webhookID, newSecret string, grace time.Duration) (store.Webhook, error)
}

var _ secretRotator = (*store.Store)(nil)

// rotateInput is the body of POST /v1/webhooks/{id}/rotate-secret; the body may be
// absent, or {}.
type rotateInput struct {
	// GracePeriodSeconds is how long the replaced secret keeps signing beside the new
	// one: 0 (it stops at once) to maxGracePeriodSeconds, default a day.
	GracePeriodSeconds *int64 `json:"gracePeriodSeconds"`
	// Secret is the secret to rotate to, in the form create accepts (a migration keeps
	// its receivers' next secret); hookd makes one when it is absent.
	Secret *string `json:"secret"`
}

// rotateSecret replaces a webhook's signing secret and answers 200 with the webhook and
// its new secret, the only time that secret is shown. The replaced secret (and any
// earlier one still in a grace period) signs beside it until the grace period ends.
func (s *server) rotateSecret(c *gin.Context) {
	id := c.Param("id")
	var in rotateInput
	var v ValidationError
	body, err := readBody(c)
	if err != nil {
		fail(c, err)
		return
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := decodeObject(body, &in, &v); err != nil {
			fail(c, err)
			return
		}
	}
	grace := int64(defaultGracePeriodSeconds)
	if in.GracePeriodSeconds != nil {
		grace = *in.GracePeriodSeconds
		if grace < 0 || grace > maxGracePeriodSeconds {
			v.Add("gracePeriodSeconds", "must be from 0 to %d (7 days)", maxGracePeriodSeconds)
		}
	}
	if in.Secret != nil && !signing.ValidSecret(*in.Secret) {
		v.Add("secret", "must be %q followed by the base64 of %d to %d bytes", signing.SecretPrefix, signing.MinSecretBytes, signing.MaxSecretBytes)
	}
	if err := v.Err(); err != nil {
		fail(c, err)
		return
	}
	secret, err := newOrGivenSecret(in.Secret)
	if err != nil {
		fail(c, err)
		return
	}
	w, err := s.store.RotateSecret(c.Request.Context(), caller(c).OrgID, id, secret, time.Duration(grace)*time.Second)
	if err != nil {
		fail(c, describe(err, "no webhook %q", id))
		return
	}
	view := viewWebhook(w)
	view.Secret = secret // shown once, here; reads show secretPrefix only
	c.JSON(http.StatusOK, view)
}
