package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/secretbox"
	"github.com/hookd/hookd/internal/signing"
	"github.com/hookd/hookd/internal/store"
)

// batchBody is what a throttled webhook receives (API.md "What a receiver gets").
type batchBody struct {
	Events []struct {
		ID        string          `json:"id"`
		CreatedAt string          `json:"createdAt"`
		Type      string          `json:"type"`
		Data      json.RawMessage `json:"data"`
	} `json:"events"`
}

// batchedEvents checks that every request verifies with secret and carries a batch body,
// and returns the event ids in the order the requests listed them, with the webhook-id
// of the request each came in.
func batchedEvents(t *testing.T, got []received, secret string) (ids []string, batchOf map[string]string) {
	t.Helper()
	batchOf = map[string]string{}
	for _, r := range got {
		msgID := r.header.Get("webhook-id")
		if err := signing.Verify(msgID, r.header.Get("webhook-timestamp"), r.header.Get("webhook-signature"), r.body, secret); err != nil {
			t.Fatalf("batch signature does not verify: %v", err)
		}
		var b batchBody
		if err := json.Unmarshal(r.body, &b); err != nil || len(b.Events) == 0 {
			t.Fatalf("batch body %s: %v", r.body, err)
		}
		for _, e := range b.Events {
			if e.Type != "order.created" || e.CreatedAt == "" || len(e.Data) == 0 {
				t.Fatalf("batched event %+v", e)
			}
			if _, err := time.Parse(time.RFC3339Nano, e.CreatedAt); err != nil {
				t.Fatalf("createdAt %q: %v", e.CreatedAt, err)
			}
			ids = append(ids, e.ID)
			batchOf[e.ID] = msgID
		}
	}
	return ids, batchOf
}

// A throttled webhook gets the events of one window in one signed request listing them in
// order; each delivery shows its batch and the batch's attempt. A webhook of the same
// organization without a throttle gets each event on its own, as before.
func TestThrottledWebhookReceivesOneSignedBatch(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	batched, plain := newReceiver(t, nil), newReceiver(t, nil)
	whID, secret := in.webhook(batched.URL, map[string]any{"name": "batched", "throttle": "3s"})
	plainID, _ := in.webhook(plain.URL, map[string]any{"name": "plain"})

	const n = 12
	var want []string
	dlvOf := map[string]string{} // event id → its delivery to the throttled webhook
	for i := range n {
		id := fmt.Sprintf("order-%02d", i)
		r := in.postEvent(id, map[string]any{"orderId": id, "n": i})
		if r.status != http.StatusAccepted {
			t.Fatalf("POST /v1/events = %d: %s", r.status, r.raw)
		}
		dlvOf[id] = deliveryTo(t, r, whID)
		deliveryTo(t, r, plainID)
		want = append(want, id)
	}

	plain.waitFor(t, n, 30*time.Second)
	batched.waitFor(t, 1, 30*time.Second)
	eventually(t, 30*time.Second, func() string {
		ids, _ := batchedEvents(t, batched.requests(), secret)
		if len(ids) < n {
			return fmt.Sprintf("%d events batched, want %d", len(ids), n)
		}
		return ""
	})
	got := batched.requests()
	ids, batchOf := batchedEvents(t, got, secret)
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("batched events %v, want %v in order, once each", ids, want)
	}
	// Posting 12 events takes far less than the 3 s window: one batch, unless the machine
	// stalled, and never one request per event.
	if len(got) > 2 {
		t.Fatalf("%d batch requests for %d events", len(got), n)
	}

	for _, id := range want {
		d := in.deliveryStatus(dlvOf[id], "succeeded", 20*time.Second)
		if d.str("batchId") != batchOf[id] {
			t.Fatalf("delivery of %s shows batchId %q, sent in batch %q", id, d.str("batchId"), batchOf[id])
		}
		if d.str("workflowId") != dispatch.BatchWorkflowID(batchOf[id]) {
			t.Fatalf("delivery of %s shows workflowId %q", id, d.str("workflowId"))
		}
		attempts := d.list("attempts")
		if len(attempts) != 1 {
			t.Fatalf("delivery of %s has attempts %s, want the batch's one", id, d.raw)
		}
		resp, _ := attempts[0]["response"].(map[string]any)
		if resp["status"] != float64(200) || attempts[0]["number"] != float64(1) {
			t.Fatalf("attempt %v, want the batch's first, answered 200", attempts[0])
		}
	}

	for _, r := range plain.requests() {
		var env struct{ EventID string }
		if err := json.Unmarshal(r.body, &env); err != nil || env.EventID == "" {
			t.Fatalf("plain webhook got %s, want one event's envelope", r.body)
		}
	}
	ev := in.must(http.StatusOK, http.MethodGet, "/v1/events/order-00", nil)
	for _, d := range ev.list("deliveries") {
		if d["webhookId"] == plainID && d["batchId"] != nil {
			t.Fatalf("the plain webhook's delivery shows a batch: %v", d)
		}
	}
}

// A batch whose first attempt fails is retried as a whole under the same webhook-id, and
// every delivery of it ends succeeded with both attempts.
func TestFailedBatchIsRetried(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	rc := newReceiver(t, func(n int, _ received) (int, map[string]string) {
		if n == 1 {
			return http.StatusServiceUnavailable, nil
		}
		return http.StatusOK, nil
	})
	whID, secret := in.webhook(rc.URL, map[string]any{"throttle": "1s", "retrySchedule": []string{"1s"}})

	var dlvs []string
	for i := range 5 {
		r := in.postEvent(fmt.Sprintf("retried-%d", i), map[string]any{"n": i})
		if r.status != http.StatusAccepted {
			t.Fatalf("POST /v1/events = %d: %s", r.status, r.raw)
		}
		dlvs = append(dlvs, deliveryTo(t, r, whID))
	}
	for _, id := range dlvs {
		d := in.deliveryStatus(id, "succeeded", 40*time.Second)
		attempts := d.list("attempts")
		if len(attempts) != 2 || d.str("batchId") == "" {
			t.Fatalf("delivery %s: %s, want a batch with two attempts", id, d.raw)
		}
		first, _ := attempts[0]["response"].(map[string]any)
		second, _ := attempts[1]["response"].(map[string]any)
		if first["status"] != float64(503) || second["status"] != float64(200) {
			t.Fatalf("attempts %v, want 503 then 200", attempts)
		}
		if d.body["attemptCount"] != float64(2) {
			t.Fatalf("attemptCount in %s, want 2", d.raw)
		}
	}
	got := rc.requests()
	// The first batch's two attempts share one webhook-id and the same events.
	if len(got) < 2 || got[0].header.Get("webhook-id") != got[1].header.Get("webhook-id") {
		t.Fatalf("requests %d; webhook-ids differ between a batch's attempts", len(got))
	}
	first, _ := batchedEvents(t, got[:1], secret)
	second, _ := batchedEvents(t, got[1:2], secret)
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Fatalf("retry sent %v, first attempt %v", second, first)
	}
	saveBatchHistory(t, in, got[0].header.Get("webhook-id"), "batch_retry")
}

// A retry of a batched delivery attempts its batch again, at once and in manual mode,
// for the members still to be sent; a canceled member is left out of its batch.
func TestBatchedDeliveryRetryAndCancel(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	rc := newReceiver(t, always(http.StatusInternalServerError, nil))
	whID, secret := in.webhook(rc.URL, map[string]any{"throttle": "4s", "maxRetries": 0})

	var dlvs []string
	for i := range 3 {
		r := in.postEvent(fmt.Sprintf("member-%d", i), map[string]any{"n": i})
		if r.status != http.StatusAccepted {
			t.Fatalf("POST /v1/events = %d: %s", r.status, r.raw)
		}
		dlvs = append(dlvs, deliveryTo(t, r, whID))
	}
	// Canceled during the window: the batch goes out without it.
	in.must(http.StatusAccepted, http.MethodPost, "/v1/deliveries/"+dlvs[1]+"/cancel", nil)
	for _, id := range []string{dlvs[0], dlvs[2]} {
		in.deliveryStatus(id, "failed", 30*time.Second)
	}
	ids, _ := batchedEvents(t, rc.requests(), secret)
	if fmt.Sprint(ids) != "[member-0 member-2]" {
		t.Fatalf("batch sent %v, want the two members not canceled", ids)
	}
	in.deliveryStatus(dlvs[1], "canceled", time.Second)

	// A retry of one failed member resends it, in its batch, with the same webhook-id.
	rc.setAnswer(always(http.StatusOK, nil))
	in.must(http.StatusAccepted, http.MethodPost, "/v1/deliveries/"+dlvs[0]+"/retry", nil)
	d := in.deliveryStatus(dlvs[0], "succeeded", 30*time.Second)
	attempts := d.list("attempts")
	if len(attempts) != 2 || attempts[1]["trigger"] != "manual" {
		t.Fatalf("attempts %s, want auto then manual", d.raw)
	}
	got := rc.requests()
	if len(got) != 2 || got[1].header.Get("webhook-id") != got[0].header.Get("webhook-id") {
		t.Fatalf("%d requests; a batch's retry must keep its webhook-id", len(got))
	}
	ids, _ = batchedEvents(t, got[1:], secret)
	if fmt.Sprint(ids) != "[member-0]" {
		t.Fatalf("retry sent %v, want the retried member only", ids)
	}
	// The other member stays failed: it was not retried.
	if d := in.deliveryStatus(dlvs[2], "failed", time.Second); d.body["attemptCount"] != float64(1) {
		t.Fatalf("member not retried: %s", d.raw)
	}
	saveBatchHistory(t, in, got[0].header.Get("webhook-id"), "batch_manual_retry")
}

// discardAfter is each delivery's own: the members of a batch past it when the batch's
// window ends are not sent, and end failed with the reason.
func TestBatchMembersPastDiscardAfterAreNotSent(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	rc := newReceiver(t, nil)
	whID, _ := in.webhook(rc.URL, map[string]any{"throttle": "4s", "discardAfter": "1s"})
	var dlvs []string
	for i := range 2 {
		r := in.postEvent(fmt.Sprintf("stale-%d", i), map[string]any{"n": i})
		if r.status != http.StatusAccepted {
			t.Fatalf("POST /v1/events = %d: %s", r.status, r.raw)
		}
		dlvs = append(dlvs, deliveryTo(t, r, whID))
	}
	for _, id := range dlvs {
		d := in.deliveryStatus(id, "failed", 30*time.Second)
		if e := d.str("lastError"); len(e) < 9 || e[:9] != "discarded" || len(d.list("attempts")) != 0 {
			t.Fatalf("delivery %s: %s, want discarded without an attempt", id, d.raw)
		}
	}
	if n := len(rc.requests()); n != 0 {
		t.Fatalf("receiver got %d requests, want none", n)
	}
}

// saveBatchHistory writes every run of batch batchID's workflow to
// workflows/testdata/batch/<name>_run<n>.json when HOOKD_UPDATE_HISTORIES is set, for the
// workflows' batch replay test (TestReplayBatchHistories).
func saveBatchHistory(t *testing.T, in *instance, batchID, name string) {
	t.Helper()
	if os.Getenv("HOOKD_UPDATE_HISTORIES") == "" {
		return
	}
	desc, err := in.temporalClient().DescribeWorkflowExecution(context.Background(), dispatch.BatchWorkflowID(batchID), "")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "workflows", "testdata", "batch")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The first run and, after a retry of a finished batch, the latest one.
	runs := []string{desc.GetWorkflowExecutionInfo().GetFirstRunId()}
	if latest := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId(); latest != runs[0] {
		runs = append(runs, latest)
	}
	for i, run := range runs {
		h := in.workflowHistory(dispatch.BatchWorkflowID(batchID), run)
		b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("%s_run%d.json", name, i+1))
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d events)", path, len(h.Events))
	}
}

// A batch committed by an ingest whose process never started its workflow is started by
// the reconciler.
func TestReconcilerStartsCommittedBatch(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	rc := newReceiver(t, nil)
	_, secret := in.webhook(rc.URL, map[string]any{"throttle": "1s"})

	ctx := context.Background()
	box, err := secretbox.New(secretbox.GenerateKey()) // ingest touches no secret
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, in.dbURL, box)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var want []string
	for i := range 3 {
		id := fmt.Sprintf("committed-%d", i)
		res, err := st.IngestEvent(ctx, store.Event{
			OrgID: "org_default", ID: id, Type: "order.created", Timestamp: time.Now().UTC(), Data: []byte(`{"n":1}`),
		})
		if err != nil || len(res.Deliveries) != 1 || res.Deliveries[0].BatchID == "" {
			t.Fatalf("ingest: %v, %+v", err, res.Deliveries)
		}
		want = append(want, id)
	}
	got := rc.waitFor(t, 1, 40*time.Second)
	ids, _ := batchedEvents(t, got[:1], secret)
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("batch %v, want %v", ids, want)
	}
}
