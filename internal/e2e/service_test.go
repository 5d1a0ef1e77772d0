package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/internal/delivery"
)

// TestGoneDisablesTheWebhookAndEmitsWebhookDisabled: a 410 from the receiver fails the
// delivery, sets the webhook DISABLED_DUE_TO_ERRORS, and the worker emits one
// webhook.disabled event that reaches the webhooks subscribed to it (API.md).
func TestGoneDisablesTheWebhookAndEmitsWebhookDisabled(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	gone := newReceiver(t, always(http.StatusGone, nil))
	watcher := newReceiver(t, nil)
	goneID, _ := in.webhook(gone.URL, nil)
	watcherID := in.must(http.StatusCreated, http.MethodPost, "/v1/webhooks", map[string]any{
		"name": "ops", "url": watcher.URL, "events": []string{"webhook.disabled"},
	}).str("id")

	dlv := deliveryIDs(in.postEvent("gone-1", map[string]any{}))[0]
	d := in.deliveryStatus(dlv, "failed", 20*time.Second)
	if n := len(d.list("attempts")); n != 1 {
		t.Fatalf("attempts %d, want 1: %s", n, d.raw)
	}
	if wh := in.must(http.StatusOK, http.MethodGet, "/v1/webhooks/"+goneID, nil); wh.str("status") != "DISABLED_DUE_TO_ERRORS" {
		t.Fatalf("webhook after 410: %s", wh.raw)
	}

	eventually(t, 20*time.Second, func() string {
		if n := len(watcher.requests()); n != 1 {
			return "watcher got " + strconv.Itoa(n) + " requests, want 1"
		}
		return ""
	})
	var body struct {
		WebhookID string `json:"webhookId"`
		Payload   struct {
			Type      string `json:"type"`
			WebhookID string `json:"webhookId"`
			Name      string `json:"name"`
			Reason    string `json:"reason"`
			LastError string `json:"lastError"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(watcher.requests()[0].body, &body); err != nil {
		t.Fatal(err)
	}
	p := body.Payload
	if body.WebhookID != watcherID || p.Type != "webhook.disabled" || p.WebhookID != goneID || p.Name != "orders" ||
		p.Reason == "" || p.LastError != "receiver answered 410" {
		t.Fatalf("webhook.disabled delivered as %s", watcher.requests()[0].body)
	}
	// A second event finds the webhook disabled: nothing more is sent to it.
	if r := in.postEvent("gone-2", map[string]any{}); len(deliveryIDs(r)) != 0 {
		t.Fatalf("event fanned out to a disabled webhook: %s", r.raw)
	}
	if n := len(gone.requests()); n != 1 {
		t.Fatalf("gone receiver got %d requests, want 1", n)
	}
}

// TestPermanentFaultsAreNamed: a fault no retry can fix ends the workflow at once with a
// named non-retryable error, and the delivery shows it.
func TestPermanentFaultsAreNamed(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	tc := in.temporalClient()
	failure := func(dlv string) *temporal.ApplicationError {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := tc.GetWorkflow(ctx, delivery.WorkflowID(dlv), "").Get(ctx, nil)
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) {
			t.Fatalf("workflow of %s ended with %v, want an application error", dlv, err)
		}
		return appErr
	}

	t.Run("secret cannot be decrypted", func(t *testing.T) {
		rc := newReceiver(t, nil)
		whID, _ := in.webhook(rc.URL, nil)
		if _, err := in.db().Exec(context.Background(),
			`UPDATE webhooks SET secret_enc = '\x01deadbeef' WHERE id = $1`, whID); err != nil {
			t.Fatal(err)
		}
		dlv := deliveryTo(t, in.postEvent("bad-secret", map[string]any{}), whID)
		d := in.deliveryStatus(dlv, "failed", 20*time.Second)
		if appErr := failure(dlv); appErr.Type() != activities.ErrTypeSecretUndecryptable || appErr.NonRetryable() == false {
			t.Fatalf("workflow failure type %q non-retryable %v", appErr.Type(), appErr.NonRetryable())
		}
		if d.str("lastError") == "" || len(d.list("attempts")) != 0 || len(rc.requests()) != 0 {
			t.Fatalf("delivery %s; receiver got %d requests", d.raw, len(rc.requests()))
		}
	})

	t.Run("delivery gone with its webhook", func(t *testing.T) {
		rc := newReceiver(t, always(http.StatusInternalServerError, nil))
		whID, _ := in.webhook(rc.URL, map[string]any{"retrySchedule": []string{"2s"}})
		dlv := deliveryTo(t, in.postEvent("orphan", map[string]any{}), whID)
		in.deliveryStatus(dlv, "retrying", 20*time.Second)
		in.must(http.StatusNoContent, http.MethodDelete, "/v1/webhooks/"+whID, nil)
		if appErr := failure(dlv); appErr.Type() != activities.ErrTypeDeliveryGone || appErr.NonRetryable() == false {
			t.Fatalf("workflow failure type %q non-retryable %v", appErr.Type(), appErr.NonRetryable())
		}
		if n := len(rc.requests()); n != 1 {
			t.Fatalf("receiver got %d requests after its webhook was deleted, want 1", n)
		}
	})
}

// deliveryTo returns the id of the delivery to webhookID in an accepted event's answer.
func deliveryTo(t *testing.T, r response, webhookID string) string {
	t.Helper()
	for _, d := range r.list("deliveries") {
		if d["webhookId"] == webhookID {
			id, _ := d["id"].(string)
			return id
		}
	}
	t.Fatalf("no delivery to %s in %s", webhookID, r.raw)
	return ""
}
