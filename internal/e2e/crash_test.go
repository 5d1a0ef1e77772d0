package e2e

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/secretbox"
	"github.com/hookd/hookd/internal/store"
)

// TestSIGKILLAfterAcceptLosesNothing kills hookd dev (API, worker, embedded Temporal; its
// private PostgreSQL is a child that may outlive it) right after the 202, restarts it on
// the same data dir and expects every delivery to arrive.
func TestSIGKILLAfterAcceptLosesNothing(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{ownPostgres: true})
	var open atomic.Bool // the receiver refuses everything until hookd has been restarted
	rc := newReceiver(t, func(int, received) (int, map[string]string) {
		if open.Load() {
			return http.StatusOK, nil
		}
		return http.StatusServiceUnavailable, nil
	})
	in.webhook(rc.URL, map[string]any{"retrySchedule": []string{"1s"}, "maxRetries": 20, "timeoutSeconds": 2})
	in.webhook(rc.URL, map[string]any{"name": "second", "retrySchedule": []string{"1s"}, "maxRetries": 20})

	r := in.postEvent("before-the-crash", map[string]any{"n": 1})
	if r.status != http.StatusAccepted {
		t.Fatalf("POST /v1/events = %d: %s", r.status, r.raw)
	}
	in.kill()

	open.Store(true)
	before := len(rc.requests())
	in.start()
	for _, id := range deliveryIDs(r) {
		in.deliveryStatus(id, "succeeded", 60*time.Second)
	}
	if after := rc.requests(); len(after) <= before {
		t.Fatalf("no request reached the receiver after the restart")
	}
}

// TestReconcilerStartsCommittedDeliveries commits an event and its deliveries the way the
// API does and then "dies" before starting any workflow: the worker's reconciler must
// start them.
func TestReconcilerStartsCommittedDeliveries(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	rc := newReceiver(t, nil)
	in.webhook(rc.URL, nil)

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
	res, err := st.IngestEvent(ctx, store.Event{
		OrgID: "org_default", ID: "committed-not-started", Type: "order.created",
		Timestamp: time.Now().UTC(), Data: []byte(`{"n":1}`),
	})
	if err != nil || len(res.Deliveries) != 1 {
		t.Fatalf("ingest: %v, %d deliveries", err, len(res.Deliveries))
	}
	got := rc.waitFor(t, 1, 30*time.Second)
	if got[0].header.Get("webhook-id") != res.Deliveries[0].ID {
		t.Fatalf("receiver got delivery %q, want %q", got[0].header.Get("webhook-id"), res.Deliveries[0].ID)
	}
	in.deliveryStatus(res.Deliveries[0].ID, "succeeded", 10*time.Second)
}
