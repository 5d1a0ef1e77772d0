package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/store"
)

// TestFailureLimitDisablesTheWebhook: with failureLimit 2 and a receiver answering 500,
// the second delivery that ends failed sets the webhook DISABLED_DUE_TO_ERRORS; a
// `webhook.disabled` event with the documented data reaches the webhook subscribed to
// it; a delivery of the disabled webhook that was retrying is canceled with the reason
// and its workflow ends; writing ENABLED clears the failure count (API.md "Details of
// the settings", failureLimit).
func TestFailureLimitDisablesTheWebhook(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	failing := newReceiver(t, always(http.StatusInternalServerError, nil))
	watcher := newReceiver(t, nil)
	hookID, _ := in.webhook(failing.URL, map[string]any{"failureLimit": 2, "maxRetries": 1, "retrySchedule": []string{"1h"}})
	watcherID := in.must(http.StatusCreated, http.MethodPost, "/v1/webhooks", map[string]any{
		"name": "ops", "url": watcher.URL, "events": []string{"webhook.disabled"},
	}).str("id")

	// One delivery retrying (in an hour), which counts as no failure yet...
	retrying := deliveryIDs(in.postEvent("limit-0", map[string]any{}))[0]
	in.deliveryStatus(retrying, delivery.StatusRetrying, 20*time.Second)
	// ...then no more retries: two deliveries fail, one after the other.
	in.must(http.StatusOK, http.MethodPatch, "/v1/webhooks/"+hookID, map[string]any{"maxRetries": 0})
	for i := 1; i <= 2; i++ {
		id := deliveryIDs(in.postEvent("limit-"+strconv.Itoa(i), map[string]any{}))[0]
		in.deliveryStatus(id, delivery.StatusFailed, 20*time.Second)
		wh := in.must(http.StatusOK, http.MethodGet, "/v1/webhooks/"+hookID, nil)
		want := "ENABLED"
		if i == 2 {
			want = "DISABLED_DUE_TO_ERRORS"
		}
		if got := wh.str("status"); got != want || wh.body["consecutiveFailures"] != float64(i) {
			t.Fatalf("after %d failed deliveries: %s", i, wh.raw)
		}
	}

	const reason = "2 consecutive deliveries failed (failureLimit)"
	d := in.deliveryStatus(retrying, delivery.StatusCanceled, 20*time.Second)
	if got := d.str("lastError"); got != "webhook disabled: "+reason {
		t.Fatalf("the retrying delivery: %s", d.raw)
	}
	eventually(t, 20*time.Second, func() string {
		desc, err := in.temporalClient().DescribeWorkflowExecution(context.Background(), delivery.WorkflowID(retrying), "")
		if err != nil {
			return err.Error()
		}
		if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED {
			return "the retrying delivery's workflow is " + st.String()
		}
		return ""
	})

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
	if p := body.Payload; body.WebhookID != watcherID || p.Type != store.EventTypeWebhookDisabled || p.WebhookID != hookID ||
		p.Name != "orders" || p.Reason != reason || p.LastError != "receiver answered 500" {
		t.Fatalf("webhook.disabled delivered as %s", watcher.requests()[0].body)
	}
	if n := len(failing.requests()); n != 3 {
		t.Fatalf("the failing receiver got %d requests, want 3 (no retry after the disabling)", n)
	}

	wh := in.must(http.StatusOK, http.MethodPatch, "/v1/webhooks/"+hookID, map[string]any{"status": "ENABLED"})
	if wh.str("status") != "ENABLED" || wh.body["consecutiveFailures"] != float64(0) {
		t.Fatalf("after writing ENABLED: %s", wh.raw)
	}
}

// TestAdminDisablingStopsRetries: an admin writing DISABLED cancels the webhook's
// retrying deliveries with the reason, and their workflows end.
func TestAdminDisablingStopsRetries(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	rc := newReceiver(t, always(http.StatusServiceUnavailable, nil))
	hookID, _ := in.webhook(rc.URL, map[string]any{"retrySchedule": []string{"1h"}})
	id := deliveryIDs(in.postEvent("admin-0", map[string]any{}))[0]
	in.deliveryStatus(id, delivery.StatusRetrying, 20*time.Second)
	in.must(http.StatusOK, http.MethodPatch, "/v1/webhooks/"+hookID, map[string]any{"status": "DISABLED"})
	d := in.deliveryStatus(id, delivery.StatusCanceled, 20*time.Second)
	if got := d.str("lastError"); got != "webhook disabled: an admin set it DISABLED" {
		t.Fatalf("delivery: %s", d.raw)
	}
	eventually(t, 20*time.Second, func() string {
		desc, err := in.temporalClient().DescribeWorkflowExecution(context.Background(), delivery.WorkflowID(id), "")
		if err != nil {
			return err.Error()
		}
		if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED {
			return "workflow is " + st.String()
		}
		return ""
	})
}

// TestLossyWebhookDropsWhileFailing: while a lossy webhook is failing (its newest attempt
// failed, no success since) a new event's delivery is recorded canceled with the reason
// and never sent; once a delivery succeeds again (a manual retry), new events flow.
func TestLossyWebhookDropsWhileFailing(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	rc := newReceiver(t, always(http.StatusInternalServerError, nil))
	in.webhook(rc.URL, map[string]any{"lossy": true, "maxRetries": 0})

	first := deliveryIDs(in.postEvent("lossy-1", map[string]any{}))[0]
	in.deliveryStatus(first, delivery.StatusFailed, 20*time.Second)

	r := in.postEvent("lossy-2", map[string]any{})
	ds := deliveryIDs(r)
	if len(ds) != 1 {
		t.Fatalf("event while failing: %s", r.raw)
	}
	// Canceled as it was stored: the first read shows it.
	dropped := in.must(http.StatusOK, http.MethodGet, "/v1/deliveries/"+ds[0], nil)
	if dropped.str("status") != delivery.StatusCanceled || dropped.str("lastError") != store.DroppedReason ||
		len(dropped.list("attempts")) != 0 {
		t.Fatalf("dropped delivery: %s", dropped.raw)
	}

	rc.setAnswer(always(http.StatusOK, nil))
	in.must(http.StatusAccepted, http.MethodPost, "/v1/deliveries/"+first+"/retry", nil)
	in.deliveryStatus(first, delivery.StatusSucceeded, 20*time.Second)

	next := deliveryIDs(in.postEvent("lossy-3", map[string]any{}))[0]
	in.deliveryStatus(next, delivery.StatusSucceeded, 20*time.Second)
	// lossy-1 twice (failed, then retried), lossy-3 once; lossy-2 never.
	if n := len(rc.requests()); n != 3 {
		t.Fatalf("receiver got %d requests, want 3", n)
	}
}
