package store_test

import (
	"context"
	"testing"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
)

// TestLossyProbes: a lossy webhook that is failing drops new notifications (canceled,
// with DroppedReason) while its last attempt is recent, and lets them through again, as
// probes, once LossyProbeInterval has passed, so that a receiver that recovered is found.
func TestLossyProbes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	w := newWebhook(t, s, o.ID, func(w *store.Webhook) { w.Lossy = true }, "a.b")
	plain := newWebhook(t, s, o.ID, nil, "a.b")
	failing := func(ago string) {
		t.Helper()
		if _, err := s.Pool().Exec(ctx, `UPDATE webhooks SET failing = true, last_triggered_at = now() - $2::interval
            WHERE id = ANY ($1)`, []string{w.ID, plain.ID}, ago); err != nil {
			t.Fatal(err)
		}
	}
	status := func(id string) map[string]store.Delivery {
		t.Helper()
		out := map[string]store.Delivery{}
		for _, d := range ingest(t, s, o.ID, id, "a.b").Deliveries {
			out[d.WebhookID] = d
		}
		return out
	}

	failing("5 seconds")
	got := status("e1")
	if d := got[w.ID]; d.Status != store.StatusCanceled || d.LastError != store.DroppedReason {
		t.Errorf("lossy webhook attempted 5s ago: delivery %s %q, want canceled, dropped", d.Status, d.LastError)
	}
	if d := got[plain.ID]; d.Status != store.StatusPending {
		t.Errorf("a webhook that is not lossy: %s, want pending", d.Status)
	}

	failing("61 seconds")
	if d := status("e2")[w.ID]; d.Status != store.StatusPending || d.LastError != "" {
		t.Errorf("lossy webhook attempted 61s ago: delivery %s %q, want pending (a probe)", d.Status, d.LastError)
	}
}
