package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/store"
)

// withFailureLimit sets the fixture's webhook's failureLimit.
func (f *fixture) withFailureLimit(t *testing.T, limit int) {
	t.Helper()
	f.hook.FailureLimit = limit
	wh, err := f.st.UpdateWebhook(context.Background(), f.hook)
	if err != nil {
		t.Fatal(err)
	}
	f.hook = wh
}

// disabledEvents returns the organization's webhook.disabled events.
func (f *fixture) disabledEvents(t *testing.T) []store.Event {
	t.Helper()
	events, _, err := f.st.ListEvents(context.Background(), f.org, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Event
	for _, ev := range events {
		if ev.Type == store.EventTypeWebhookDisabled {
			out = append(out, ev)
		}
	}
	return out
}

// failed records a failed attempt of d (500, no retries left).
func (f *fixture) failed(ctx context.Context, d store.Delivery) error {
	code := 500
	_, err := f.record(ctx, dispatch.Outcome{
		Attempt:  store.Attempt{DeliveryID: d.ID, OrgID: f.org, ResponseStatus: &code, Outcome: string(delivery.OutcomeRetry), Error: "receiver answered 500"},
		Decision: delivery.Decision{Status: delivery.StatusFailed},
	})
	return err
}

// TestFailureLimitDisablesOnceUnderConcurrency: deliveries failing at the same moment
// past the failure limit disable the webhook once and emit one webhook.disabled, with
// the documented data, started to the webhook subscribed to it; the webhook's retrying
// delivery is canceled with the reason and its workflow told; its ping is left.
func TestFailureLimitDisablesOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.withFailureLimit(t, 3)
	watcher := f.webhook(t, "ops", store.EventTypeWebhookDisabled)
	// A watcher that hears only errors still hears of a disabling (level error).
	watcher.Level = "error"
	if _, err := f.st.UpdateWebhook(ctx, watcher); err != nil {
		t.Fatal(err)
	}
	retrying := f.publish(t, "order-retrying")
	f.retrying(t, retrying.ID)
	_, ping, err := f.svc.Ping(ctx, f.org, f.hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	ds := make([]store.Delivery, n)
	for i := range ds {
		ds[i] = f.publish(t, fmt.Sprint("order-", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, d := range ds {
		wg.Go(func() { errs <- f.failed(ctx, d) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	wh, err := f.st.GetWebhook(ctx, f.org, f.hook.ID)
	if err != nil || wh.Status != store.WebhookDisabledDueToErrors || wh.ConsecutiveFailures < 3 {
		t.Fatalf("webhook: %+v, %v", wh, err)
	}
	events := f.disabledEvents(t)
	if len(events) != 1 {
		t.Fatalf("%d webhook.disabled events, want 1", len(events))
	}
	const reason = "3 consecutive deliveries failed (failureLimit)"
	if want := `{"webhookId":"wh_orders","name":"orders","reason":"` + reason + `","lastError":"receiver answered 500"}`; string(events[0].Data) != want {
		t.Fatalf("data %s, want %s", events[0].Data, want)
	}
	_, announced, err := f.st.GetEvent(ctx, f.org, events[0].ID)
	if err != nil || len(announced) != 1 || announced[0].WebhookID != watcher.ID || !announced[0].WorkflowStarted {
		t.Fatalf("webhook.disabled deliveries %+v, %v", announced, err)
	}

	got := f.delivery(t, retrying.ID)
	if got.Status != delivery.StatusCanceled || got.LastError != "webhook disabled: "+reason || got.NextAttemptAt != nil {
		t.Fatalf("the retrying delivery: %+v", got)
	}
	if _, _, ended := f.eng.calls(); !slices.Contains(ended, retrying.ID) || slices.Contains(ended, ping.ID) {
		t.Fatalf("workflows told to stop: %v; want %s, not the ping %s", ended, retrying.ID, ping.ID)
	}
	if got := f.delivery(t, ping.ID).Status; got != delivery.StatusPending {
		t.Fatalf("the ping is %s, want pending", got)
	}
	// Each delivery ended failed, or was canceled by the disabling while its attempt was
	// in flight (and then counted no failure).
	failed := 0
	for _, d := range ds {
		switch got := f.delivery(t, d.ID); got.Status {
		case delivery.StatusFailed:
			failed++
		case delivery.StatusCanceled:
		default:
			t.Fatalf("delivery %+v", got)
		}
	}
	if failed != wh.ConsecutiveFailures {
		t.Fatalf("%d deliveries failed, the webhook counts %d", failed, wh.ConsecutiveFailures)
	}

	// Finishing the same disabling again (a re-executed attempt) emits nothing new.
	if err := f.svc.FinishDisabling(ctx, wh, reason, "receiver answered 500"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.disabledEvents(t)); n != 1 {
		t.Fatalf("%d webhook.disabled events after finishing again, want 1", n)
	}
	// A retry of the canceled delivery is refused while the webhook is disabled.
	if _, err := f.svc.Retry(ctx, f.org, retrying.ID); !errors.Is(err, dispatch.ErrWebhookNotEnabled) {
		t.Fatalf("retry: %v", err)
	}
}

// TestFinishDisablingLeavesAnEnabledWebhook: an admin who enabled the webhook before the
// disabling was finished wins: nothing is canceled or emitted.
func TestFinishDisablingLeavesAnEnabledWebhook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.webhook(t, "ops", store.EventTypeWebhookDisabled)
	d := f.publish(t, "order-1")
	if err := f.svc.FinishDisabling(ctx, f.hook, store.DisabledGone, "receiver answered 410"); err != nil {
		t.Fatal(err)
	}
	if got := f.delivery(t, d.ID).Status; got != delivery.StatusPending || len(f.disabledEvents(t)) != 0 {
		t.Fatalf("delivery %s, %d events", got, len(f.disabledEvents(t)))
	}
}

// TestAdminDisablingCancelsInFlight: an admin setting an enabled webhook DISABLED
// cancels its pending and retrying deliveries with the reason and tells their
// workflows, even when the engine refuses (best effort: the attempt abandons them);
// no webhook.disabled is emitted (hookd did not disable it).
func TestAdminDisablingCancelsInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.webhook(t, "ops", store.EventTypeWebhookDisabled)
	pending, retrying := f.publish(t, "order-1"), f.publish(t, "order-2")
	f.retrying(t, retrying.ID)
	disabled := f.hook
	disabled.Status = store.WebhookDisabled
	f.eng.setDown(errors.New("engine down"))
	if err := f.svc.WebhookUpdated(ctx, f.hook, disabled); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{pending.ID, retrying.ID} {
		if got := f.delivery(t, id); got.Status != delivery.StatusCanceled || got.LastError != "webhook disabled: "+dispatch.DisabledByAdmin {
			t.Fatalf("delivery %+v", got)
		}
	}
	if n := len(f.disabledEvents(t)); n != 0 {
		t.Fatalf("%d webhook.disabled events for an admin's disabling", n)
	}

}

// TestDiscardCountsAndDisables: a delivery discarded before an attempt (discardAfter)
// ends failed with the reason and counts toward the failure limit; reaching it disables
// the webhook and announces it with the reason as lastError.
func TestDiscardCountsAndDisables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.withFailureLimit(t, 1)
	f.webhook(t, "ops", store.EventTypeWebhookDisabled)
	d, other := f.publish(t, "order-1"), f.publish(t, "order-2")
	f.retrying(t, other.ID)
	const reason = "discarded: not delivered within 5m of the event (discardAfter)"
	if err := f.svc.Discard(ctx, f.hook, d.ID, reason); err != nil {
		t.Fatal(err)
	}
	if got := f.delivery(t, d.ID); got.Status != delivery.StatusFailed || got.LastError != reason {
		t.Fatalf("discarded delivery %+v", got)
	}
	if got := f.delivery(t, other.ID); got.Status != delivery.StatusCanceled {
		t.Fatalf("the other delivery %+v", got)
	}
	events := f.disabledEvents(t)
	if want := `{"webhookId":"wh_orders","name":"orders","reason":"1 consecutive deliveries failed (failureLimit)","lastError":"` + reason + `"}`; len(events) != 1 || string(events[0].Data) != want {
		t.Fatalf("events %+v, want one with %s", events, want)
	}
	if err := f.svc.Discard(ctx, f.hook, d.ID, reason); err != nil || len(f.disabledEvents(t)) != 1 {
		t.Fatalf("discard again: %v", err)
	}
}
