package activities

import (
	"net/http"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/webhook"
)

// TestAttemptPastDiscardAfterFailsWithoutSending: an automatic attempt due past the
// delivery's discard deadline sends nothing and ends the delivery failed with the
// reason, counted toward failureLimit; a failure whose retry would start past it ends
// the delivery at once. A manual retry past it is sent.
func TestAttemptPastDiscardAfterFailsWithoutSending(t *testing.T) {
	t.Parallel()
	const reason = "discarded: not delivered within 5m of the event (discardAfter)"
	f := newFixture(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
		func(w *store.Webhook) { w.DiscardAfter = webhook.Duration(5 * time.Minute) })
	f.acts.Now = func() time.Time { return f.dlv.CreatedAt.Add(5 * time.Minute) }
	res := f.attempt(t, AttemptInput{})
	d, atts, wh := f.load(t)
	if res.Status != delivery.StatusFailed || res.Error != reason || f.hits.Load() != 0 || len(atts) != 0 ||
		d.Status != delivery.StatusFailed || d.LastError != reason || wh.ConsecutiveFailures != 1 {
		t.Fatalf("result %+v, delivery %+v, %d attempts, %d sent, %d failures", res, d, len(atts), f.hits.Load(), wh.ConsecutiveFailures)
	}
	res = f.attempt(t, AttemptInput{Trigger: TriggerManual})
	if f.hits.Load() != 1 || res.Status != delivery.StatusFailed || res.StatusCode != 500 {
		t.Fatalf("manual retry past the deadline: %+v, %d sent", res, f.hits.Load())
	}

	g := newFixture(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
		func(w *store.Webhook) { w.DiscardAfter = webhook.Duration(5 * time.Minute) })
	g.acts.Now = func() time.Time { return g.dlv.CreatedAt.Add(4*time.Minute + 30*time.Second) } // the retry is due a minute later
	res = g.attempt(t, AttemptInput{})
	d, _, _ = g.load(t)
	if g.hits.Load() != 1 || res.Status != delivery.StatusFailed || res.Error != reason || d.Status != delivery.StatusFailed || d.LastError != reason {
		t.Fatalf("a failure whose retry would start past the deadline: %+v, delivery %+v", res, d)
	}
}
