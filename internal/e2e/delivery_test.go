package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/signing"
)

// webhook creates the event type order.created (once per instance) and a webhook for it
// pointing at url, with fields overriding the defaults; it returns the id and secret.
func (in *instance) webhook(url string, fields map[string]any) (id, secret string) {
	in.t.Helper()
	if r := in.call(http.MethodGet, "/v1/event-types/order.created", in.adminKey, nil); r.status == http.StatusNotFound {
		in.must(http.StatusCreated, http.MethodPost, "/v1/event-types", map[string]any{
			"name": "order.created", "description": "an order was placed",
		})
	}
	body := map[string]any{"name": "orders", "url": url, "events": []string{"order.created"}}
	for k, v := range fields {
		body[k] = v
	}
	r := in.must(http.StatusCreated, http.MethodPost, "/v1/webhooks", body)
	return r.str("id"), r.str("secret")
}

// postEvent posts an order.created event and returns the answer.
func (in *instance) postEvent(id string, data map[string]any) response {
	in.t.Helper()
	body := map[string]any{"type": "order.created", "data": data}
	if id != "" {
		body["id"] = id
	}
	return in.call(http.MethodPost, "/v1/events", in.adminKey, body)
}

// postEventAsAProducerWould posts an event and, while hookd answers 429 (it stored
// nothing: too many publishes were waiting on the engine), posts it again a second later,
// as Retry-After says, up to 30 times.
func (in *instance) postEventAsAProducerWould(id string, data map[string]any) response {
	in.t.Helper()
	r := in.postEvent(id, data)
	for try := 0; r.status == http.StatusTooManyRequests && try < 30; try++ {
		time.Sleep(time.Second)
		r = in.postEvent(id, data)
	}
	return r
}

func deliveryIDs(r response) []string {
	var out []string
	for _, d := range r.list("deliveries") {
		id, _ := d["id"].(string)
		out = append(out, id)
	}
	return out
}

// deliveryStatus waits until GET /v1/deliveries/{id} shows status and returns it.
func (in *instance) deliveryStatus(id, status string, within time.Duration) response {
	in.t.Helper()
	var r response
	eventually(in.t, within, func() string {
		r = in.call(http.MethodGet, "/v1/deliveries/"+id, in.adminKey, nil)
		if got := r.str("status"); got != status {
			return "delivery status " + got + ", want " + status + ": " + string(r.raw)
		}
		return ""
	})
	return r
}

func TestEventIsDeliveredSignedAndRecorded(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	rc := newReceiver(t, nil)
	whID, secret := in.webhook(rc.URL, nil)

	r := in.postEvent("order-1", map[string]any{"orderId": "o-1", "total": 42})
	if r.status != http.StatusAccepted {
		t.Fatalf("POST /v1/events = %d: %s", r.status, r.raw)
	}
	dlvIDs := deliveryIDs(r)
	if len(dlvIDs) != 1 || r.list("deliveries")[0]["webhookId"] != whID {
		t.Fatalf("deliveries %s, want one for %s", r.raw, whID)
	}
	dlvID := dlvIDs[0]

	got := rc.waitFor(t, 1, 20*time.Second)[0]
	if err := signing.Verify(got.header.Get("webhook-id"), got.header.Get("webhook-timestamp"),
		got.header.Get("webhook-signature"), got.body, secret); err != nil {
		t.Fatalf("signature does not verify: %v (headers %v)", err, got.header)
	}
	if got.header.Get("webhook-id") != dlvID {
		t.Fatalf("webhook-id %q, want the delivery id %q", got.header.Get("webhook-id"), dlvID)
	}
	var env struct {
		Timestamp, DeliveryAttemptedAt, WebhookID, EventID string
		Payload                                            map[string]any
	}
	if err := json.Unmarshal(got.body, &env); err != nil {
		t.Fatalf("body %s: %v", got.body, err)
	}
	if env.WebhookID != whID || env.EventID != "order-1" || env.Payload["type"] != "order.created" ||
		env.Payload["orderId"] != "o-1" || env.Timestamp == "" || env.DeliveryAttemptedAt == "" {
		t.Fatalf("envelope %s", got.body)
	}

	d := in.deliveryStatus(dlvID, "succeeded", 10*time.Second)
	attempts := d.list("attempts")
	if len(attempts) != 1 {
		t.Fatalf("attempts %s, want 1", d.raw)
	}
	resp, _ := attempts[0]["response"].(map[string]any)
	if resp["status"] != float64(200) || attempts[0]["trigger"] != "auto" {
		t.Fatalf("attempt %v, want an automatic attempt answered 200", attempts[0])
	}
	if d.str("workflowId") != delivery.WorkflowID(dlvID) || d.str("workflowRunId") == "" {
		t.Fatalf("workflow ids in %s", d.raw)
	}

	// Operators see the same delivery in Temporal, with hookd's search attributes.
	tc := in.temporalClient()
	desc, err := tc.DescribeWorkflowExecution(context.Background(), delivery.WorkflowID(dlvID), "")
	if err != nil {
		t.Fatal(err)
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Fatalf("workflow status %v, want completed", st)
	}
	sa := desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()
	for name, want := range map[string]string{
		"HookdWebhookId": whID, "HookdEventType": "order.created",
	} {
		if got := string(sa[name].GetData()); got != strconv.Quote(want) {
			t.Errorf("search attribute %s = %s, want %q", name, got, want)
		}
	}
	// A delivery that succeeds at once says so by closing Completed, and costs the
	// engine no more than that (workflows.DeliveryVersion): no status upsert, no
	// TemporalChangeVersion, six history events.
	for _, name := range []string{"HookdDeliveryStatus", "HookdAttempts", "TemporalChangeVersion"} {
		if v, ok := sa[name]; ok {
			t.Errorf("search attribute %s = %s, want none on a delivery that succeeded at once", name, v.GetData())
		}
	}
	var events []string
	for _, ev := range in.workflowHistory(delivery.WorkflowID(dlvID), "").GetEvents() {
		events = append(events, ev.GetEventType().String())
	}
	if want := []string{"WorkflowExecutionStarted", "WorkflowTaskScheduled", "WorkflowTaskStarted",
		"WorkflowTaskCompleted", "MarkerRecorded", "WorkflowExecutionCompleted"}; !slices.Equal(events, want) {
		t.Errorf("history of a clean delivery %v, want %v", events, want)
	}
	saveHistory(t, in, delivery.WorkflowID(dlvID), "succeeded")
	// The README's search for succeeded deliveries finds it.
	query := fmt.Sprintf(`WorkflowId = %q AND WorkflowType = "Delivery" AND ExecutionStatus = "Completed" AND HookdDeliveryStatus IS NULL`,
		delivery.WorkflowID(dlvID))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		list, err := tc.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			t.Fatalf("list %s: %v", query, err)
		}
		if len(list.GetExecutions()) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("list %s: %d executions, want 1", query, len(list.GetExecutions()))
		}
	}

	// A ping reaches this webhook alone, signed like any delivery.
	ping := in.must(http.StatusAccepted, http.MethodPost, "/v1/webhooks/"+whID+"/ping", nil)
	in.deliveryStatus(ping.str("deliveryId"), "succeeded", 20*time.Second)
	pinged := rc.waitFor(t, 2, 5*time.Second)[1]
	if err := signing.Verify(pinged.header.Get("webhook-id"), pinged.header.Get("webhook-timestamp"),
		pinged.header.Get("webhook-signature"), pinged.body, secret); err != nil {
		t.Fatalf("ping signature: %v", err)
	}
	var pingEnv struct{ Payload map[string]any }
	if err := json.Unmarshal(pinged.body, &pingEnv); err != nil || pingEnv.Payload["type"] != "ping" {
		t.Fatalf("ping body %s: %v", pinged.body, err)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	rc := newReceiver(t, func(n int, _ received) (int, map[string]string) {
		if n == 1 {
			return http.StatusServiceUnavailable, map[string]string{"Retry-After": "2"}
		}
		return http.StatusOK, nil
	})
	in.webhook(rc.URL, map[string]any{"retrySchedule": []string{"1s"}})
	r := in.postEvent("", map[string]any{"orderId": "o-2"})
	if r.status != http.StatusAccepted {
		t.Fatalf("POST /v1/events = %d: %s", r.status, r.raw)
	}
	got := rc.waitFor(t, 2, 30*time.Second)
	if gap := got[1].at.Sub(got[0].at); gap < 2*time.Second {
		t.Fatalf("second attempt %v after the first, want ≥ 2s (Retry-After: 2)", gap)
	}
	d := in.deliveryStatus(deliveryIDs(r)[0], "succeeded", 10*time.Second)
	attempts := d.list("attempts")
	if len(attempts) != 2 {
		t.Fatalf("attempts %s, want 2", d.raw)
	}
	if resp, _ := attempts[0]["response"].(map[string]any); resp["status"] != float64(503) {
		t.Fatalf("first attempt %v, want 503", attempts[0])
	}
	saveHistory(t, in, delivery.WorkflowID(deliveryIDs(r)[0]), "retry_after")
}

func TestRepeatedEventIDCreatesNothingNew(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	rc := newReceiver(t, nil)
	in.webhook(rc.URL, nil)

	first := in.postEvent("same-id", map[string]any{"n": 1})
	if first.status != http.StatusAccepted {
		t.Fatalf("first POST = %d: %s", first.status, first.raw)
	}
	second := in.postEvent("same-id", map[string]any{"n": 2})
	if second.status != http.StatusOK {
		t.Fatalf("repeat POST = %d, want 200: %s", second.status, second.raw)
	}
	if string(first.raw) != string(second.raw) {
		t.Fatalf("repeat answered %s, want the first answer %s", second.raw, first.raw)
	}
	in.deliveryStatus(deliveryIDs(first)[0], "succeeded", 20*time.Second)
	var events, deliveries int
	db := in.db()
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM deliveries`).Scan(&deliveries); err != nil {
		t.Fatal(err)
	}
	if events != 1 || deliveries != 1 {
		t.Fatalf("%d events and %d deliveries, want 1 and 1", events, deliveries)
	}
	if n := len(rc.requests()); n != 1 {
		t.Fatalf("receiver got %d requests, want 1", n)
	}
}

func TestManualRetryAndCancel(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	rc := newReceiver(t, always(http.StatusInternalServerError, nil))
	in.webhook(rc.URL, map[string]any{"retrySchedule": []string{"1h"}, "maxRetries": 5})

	retried := deliveryIDs(in.postEvent("retry-me", map[string]any{}))[0]
	canceled := deliveryIDs(in.postEvent("cancel-me", map[string]any{}))[0]
	in.deliveryStatus(retried, "retrying", 20*time.Second)
	in.deliveryStatus(canceled, "retrying", 20*time.Second)

	// A manual retry during an hour-long backoff attempts at once, and being manual it
	// ends the delivery when it fails.
	in.must(http.StatusAccepted, http.MethodPost, "/v1/deliveries/"+retried+"/retry", nil)
	d := in.deliveryStatus(retried, "failed", 20*time.Second)
	if n := len(d.list("attempts")); n != 2 {
		t.Fatalf("attempts %d, want 2: %s", n, d.raw)
	}
	// Retrying a finished delivery starts a new run of the same workflow ID.
	rc.setAnswer(always(http.StatusOK, nil))
	in.must(http.StatusAccepted, http.MethodPost, "/v1/deliveries/"+retried+"/retry", nil)
	d = in.deliveryStatus(retried, "succeeded", 20*time.Second)
	attempts := d.list("attempts")
	if len(attempts) != 3 || attempts[1]["trigger"] != "manual" || attempts[2]["trigger"] != "manual" {
		t.Fatalf("attempts %s, want auto, manual, manual", d.raw)
	}
	saveHistory(t, in, delivery.WorkflowID(retried), "manual_retry")

	in.must(http.StatusAccepted, http.MethodPost, "/v1/deliveries/"+canceled+"/cancel", nil)
	in.deliveryStatus(canceled, "canceled", 5*time.Second)
	tc := in.temporalClient()
	eventually(t, 10*time.Second, func() string {
		desc, err := tc.DescribeWorkflowExecution(context.Background(), delivery.WorkflowID(canceled), "")
		if err != nil {
			return err.Error()
		}
		if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED {
			return "workflow status " + st.String()
		}
		return ""
	})
	if r := in.call(http.MethodPost, "/v1/deliveries/"+canceled+"/cancel", in.adminKey, nil); r.status != http.StatusConflict {
		t.Fatalf("second cancel = %d, want 409: %s", r.status, r.raw)
	}
}

// TestEveryDeliveryArrivesOnceUnderLoad fans concurrent events out to a slow receiver
// while the worker's workflow cache is tiny, and expects every delivery exactly once: a
// workflow task that fails and is retried would send its local first attempt again.
func TestEveryDeliveryArrivesOnceUnderLoad(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{env: []string{"HOOKD_WORKFLOW_CACHE_SIZE=8"}})
	// A slow receiver keeps many first attempts, and so workflow tasks, in flight.
	rc := newReceiver(t, func(int, received) (int, map[string]string) {
		time.Sleep(200 * time.Millisecond)
		return http.StatusOK, nil
	})
	for i := range 5 {
		in.webhook(rc.URL, map[string]any{"name": fmt.Sprintf("fan-%d", i)})
	}
	const events = 40
	var wg sync.WaitGroup
	for i := range events {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := in.postEventAsAProducerWould(fmt.Sprintf("load-%d", i), map[string]any{"i": i}); r.status != http.StatusAccepted {
				t.Errorf("POST /v1/events = %d: %s", r.status, r.raw)
			}
		}()
	}
	wg.Wait()
	got := rc.waitFor(t, events*5, 60*time.Second)
	time.Sleep(time.Second) // room for a duplicate to show up
	seen := map[string]int{}
	for _, r := range rc.requests() {
		seen[r.header.Get("webhook-id")]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("delivery %s arrived %d times", id, n)
		}
	}
	if len(seen) != events*5 || len(got) < events*5 {
		t.Fatalf("%d distinct deliveries arrived, want %d", len(seen), events*5)
	}
}
