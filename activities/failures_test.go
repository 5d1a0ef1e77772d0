package activities

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/signing"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/webhook"
)

// TestDiscardAfterDeadline: the policy of a delivery carries its discard deadline (its
// creation plus the webhook's discardAfter); an automatic attempt may start strictly
// before it and not at or after it, a manual one always; a retry that would start past
// it is not scheduled.
func TestDiscardAfterDeadline(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	ac := store.AttemptContext{
		Delivery: store.Delivery{ID: "dlv_1", CreatedAt: created},
		Webhook: store.Webhook{Status: store.WebhookEnabled, Settings: webhook.Settings{
			MaxRetries: 5, RetrySchedule: []time.Duration{time.Minute}, DiscardAfter: webhook.Duration(5 * time.Minute),
		}},
		Event: store.Event{Type: "order.created"},
	}
	const reason = "discarded: not delivered within 5m of the event (discardAfter)"
	for _, tc := range []struct {
		trigger string
		at      time.Duration // after the delivery's creation
		want    string
	}{
		{TriggerAuto, 0, ""},
		{TriggerAuto, 5*time.Minute - time.Millisecond, ""},
		{TriggerAuto, 5 * time.Minute, reason},
		{TriggerAuto, time.Hour, reason},
		{TriggerManual, time.Hour, ""},
		{TriggerReplay, time.Hour, ""},
	} {
		if got := discardReason(ac, tc.trigger, created.Add(tc.at)); got != tc.want {
			t.Errorf("%s attempt at +%v: %q, want %q", tc.trigger, tc.at, got, tc.want)
		}
	}
	if got := abandonReason(ac); got != "" {
		t.Errorf("abandonReason of a delivery past its deadline: %q (it fails, not cancels)", got)
	}
	// A failure at +4m30s: the retry a minute later would start past the deadline.
	d := delivery.DecideAt(policyOf(ac), ac.Delivery.ID, 1, TriggerAuto, delivery.OutcomeRetry, 0, created.Add(4*time.Minute+30*time.Second))
	if d.Status != delivery.StatusFailed || d.Reason != reason {
		t.Errorf("decision at +4m30s: %+v", d)
	}
	d = delivery.DecideAt(policyOf(ac), ac.Delivery.ID, 1, TriggerAuto, delivery.OutcomeRetry, 0, created.Add(time.Minute))
	if d.Status != delivery.StatusRetrying {
		t.Errorf("decision at +1m: %+v", d)
	}

	ac.Webhook.DiscardAfter = 0
	if got := discardReason(ac, TriggerAuto, created.Add(1000*time.Hour)); got != "" {
		t.Errorf("without discardAfter: %q", got)
	}
}

// TestAttemptReachingFailureLimitDisables: through the attempt activity, real
// PostgreSQL and a receiver answering 500, a delivery failing with no retries left
// reaches a failureLimit of 1: the webhook is DISABLED_DUE_TO_ERRORS, its failing flag
// set, and webhook.disabled is started to the webhook subscribed to it.
func TestAttemptReachingFailureLimitDisables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
		func(w *store.Webhook) { w.MaxRetries, w.FailureLimit = 0, 1 })
	secret, err := signing.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	watcher, err := f.st.CreateWebhook(ctx, store.Webhook{ID: "wh_ops", OrgID: f.dlv.OrgID, Secret: secret,
		Settings: webhook.Settings{Name: "ops", URL: "https://example.test/ops", Events: []string{store.EventTypeWebhookDisabled},
			EventsPolicy: "include", TimeoutSeconds: 2}})
	if err != nil {
		t.Fatal(err)
	}

	res := f.attempt(t, AttemptInput{})
	if res.Status != delivery.StatusFailed || res.StatusCode != 500 {
		t.Fatalf("result %+v", res)
	}
	d, _, wh := f.load(t)
	if d.Status != delivery.StatusFailed || wh.Status != store.WebhookDisabledDueToErrors || wh.ConsecutiveFailures != 1 {
		t.Fatalf("delivery %s, webhook %s with %d failures", d.Status, wh.Status, wh.ConsecutiveFailures)
	}
	var failing bool
	if err := f.st.Pool().QueryRow(ctx, `SELECT failing FROM webhooks WHERE id = $1`, wh.ID).Scan(&failing); err != nil || !failing {
		t.Fatalf("failing %v, %v", failing, err)
	}
	ds, _, err := f.st.ListDeliveries(ctx, f.dlv.OrgID, store.DeliveryFilter{EventType: store.EventTypeWebhookDisabled}, store.Page{Limit: 10})
	if err != nil || len(ds) != 1 || ds[0].WebhookID != watcher.ID {
		t.Fatalf("webhook.disabled deliveries %+v, %v", ds, err)
	}
	f.engine.mu.Lock()
	started := slices.Clone(f.engine.started)
	f.engine.mu.Unlock()
	if !slices.Contains(started, ds[0].ID) {
		t.Fatalf("started %v, want %s", started, ds[0].ID)
	}
}
