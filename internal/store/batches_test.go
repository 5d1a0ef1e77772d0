package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/ids"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/internal/webhook"
)

func throttled(d time.Duration) func(*store.Webhook) {
	return func(w *store.Webhook) { w.Throttle = webhook.Duration(d) }
}

// deliveryOf returns the delivery to webhook wh of an ingest.
func deliveryOf(t *testing.T, res store.IngestResult, wh string) store.Delivery {
	t.Helper()
	for _, d := range res.Deliveries {
		if d.WebhookID == wh {
			return d
		}
	}
	t.Fatalf("no delivery to %s in %+v", wh, res.Deliveries)
	return store.Delivery{}
}

func TestThrottledDeliveriesJoinOneOpenBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	org := newOrg(t, s)
	newEventType(t, s, org.ID, "order.created")
	batched := newWebhook(t, s, org.ID, throttled(time.Minute), "order.created")
	plain := newWebhook(t, s, org.ID, nil, "order.created")

	var members []store.Delivery
	for i := range 3 {
		res := ingest(t, s, org.ID, fmt.Sprintf("e%d", i), "order.created")
		d, p := deliveryOf(t, res, batched.ID), deliveryOf(t, res, plain.ID)
		if p.BatchID != "" || p.WorkflowStarted {
			t.Fatalf("plain delivery %+v: want no batch, not started", p)
		}
		if !ids.HasPrefix(d.BatchID, ids.Batch) {
			t.Fatalf("throttled delivery %+v: want a batch", d)
		}
		// Only the delivery that opened the batch is to be started (its batch).
		if d.WorkflowStarted != (i > 0) {
			t.Fatalf("delivery %d WorkflowStarted %v", i, d.WorkflowStarted)
		}
		members = append(members, d)
	}
	bid := members[0].BatchID
	for _, d := range members {
		if d.BatchID != bid {
			t.Fatalf("batch ids %s and %s in one window", d.BatchID, bid)
		}
	}

	future := time.Now().Add(time.Hour)
	ds, err := s.UnstartedDeliveries(ctx, future, 100)
	if err != nil || len(ds) != 3 {
		t.Fatalf("unstarted deliveries %v, %v: want the plain webhook's 3 only", ds, err)
	}
	for _, d := range ds {
		if d.WebhookID != plain.ID {
			t.Fatalf("unstarted delivery %+v is batched", d)
		}
	}
	bs, err := s.UnstartedBatches(ctx, future, 100)
	if err != nil || len(bs) != 1 || bs[0].ID != bid || bs[0].State != store.BatchOpen {
		t.Fatalf("unstarted batches %+v, %v", bs, err)
	}
	if d := bs[0].SendAt.Sub(bs[0].CreatedAt); d < 59*time.Second || d > 61*time.Second {
		t.Fatalf("batch due %s after it opened, want the throttle (1m)", d)
	}
	if err := s.MarkWorkflowsStarted(ctx, []string{members[0].ID}); err != nil {
		t.Fatal(err)
	}
	if bs, err := s.UnstartedBatches(ctx, future, 100); err != nil || len(bs) != 0 {
		t.Fatalf("unstarted batches after the opener started %+v, %v", bs, err)
	}

	// The first attempt closes it: the next notification opens another.
	bc, err := s.LoadBatch(ctx, bid, "")
	if err != nil {
		t.Fatal(err)
	}
	if bc.Batch.State != store.BatchClosed || bc.Overflow != nil || bc.Recorded != nil || bc.Webhook.Secret == "" {
		t.Fatalf("loaded %+v", bc.Batch)
	}
	if got, want := bc.MemberIDs(), store.DeliveryIDs(members); !slices.Equal(got, want) {
		t.Fatalf("members %v, want %v in order", got, want)
	}
	if bc.Members[1].Event.ID != "e1" {
		t.Fatalf("member event %+v", bc.Members[1].Event)
	}
	next := deliveryOf(t, ingest(t, s, org.ID, "late", "order.created"), batched.ID)
	if next.BatchID == "" || next.BatchID == bid || next.WorkflowStarted {
		t.Fatalf("after the close: %+v, want a new batch to start", next)
	}
}

// However ingests and closes interleave, a delivery never joins a batch after its close:
// the members a close found are its members for good, and every delivery is in one batch.
func TestBatchCloseRacesIngest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	org := newOrg(t, s)
	newEventType(t, s, org.ID, "order.created")
	wh := newWebhook(t, s, org.ID, throttled(time.Hour), "order.created")

	const writers, each = 6, 40
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[string]bool{} // batch ids of the ingested deliveries
	)
	done := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				res, err := s.IngestEvent(ctx, store.Event{OrgID: org.ID, ID: fmt.Sprintf("w%d-%d", w, i), Type: "order.created"})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[res.Deliveries[0].BatchID] = true
				mu.Unlock()
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	closedWith := map[string][]string{} // batch → members at its close
	closeOpen := func() {
		var id string
		err := s.Pool().QueryRow(ctx, `SELECT id FROM batches WHERE webhook_id = $1 AND state = 'open'`, wh.ID).Scan(&id)
		if err != nil {
			return // none open right now
		}
		bc, err := s.LoadBatch(ctx, id, "")
		if err != nil {
			t.Error(err)
			return
		}
		closedWith[id] = bc.MemberIDs()
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			closeOpen()
			time.Sleep(5 * time.Millisecond)
		}
	}
	closeOpen()
	if len(closedWith) < 2 {
		t.Fatalf("only %d batches closed: the race was not exercised", len(closedWith))
	}
	total := 0
	for id, at := range closedWith {
		var now []string
		rows, err := s.Pool().Query(ctx, `SELECT id FROM deliveries WHERE batch_id = $1 ORDER BY seq`, id)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				t.Fatal(err)
			}
			now = append(now, d)
		}
		if !slices.Equal(now, at) {
			t.Fatalf("batch %s had %d members at its close and has %d now", id, len(at), len(now))
		}
		total += len(now)
	}
	if total != writers*each || len(seen) != len(closedWith) {
		t.Fatalf("%d deliveries in %d closed batches, want %d in the %d batches ingest saw",
			total, len(closedWith), writers*each, len(seen))
	}
}

// A batch past MaxBatchEvents is split at its close: the rest go in a batch of their own.
func TestBatchOverflowSplits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	org := newOrg(t, s)
	newEventType(t, s, org.ID, "order.created")
	wh := newWebhook(t, s, org.ID, throttled(time.Hour), "order.created")

	n := store.MaxBatchEvents + 3
	var bid string
	for i := range n {
		res, err := s.IngestEvent(ctx, store.Event{OrgID: org.ID, ID: fmt.Sprintf("e%05d", i), Type: "order.created"})
		if err != nil {
			t.Fatal(err)
		}
		bid = deliveryOf(t, res, wh.ID).BatchID
	}
	bc, err := s.LoadBatch(ctx, bid, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(bc.Members) != store.MaxBatchEvents || bc.Overflow == nil || bc.Overflow.State != store.BatchClosed {
		t.Fatalf("%d members, overflow %+v", len(bc.Members), bc.Overflow)
	}
	if bc.Members[0].Event.ID != "e00000" {
		t.Fatalf("first member %s", bc.Members[0].Event.ID)
	}
	over, err := s.LoadBatch(ctx, bc.Overflow.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(over.Members) != 3 || over.Members[0].Event.ID != fmt.Sprintf("e%05d", store.MaxBatchEvents) || over.Overflow != nil {
		t.Fatalf("overflow members %d, first %+v", len(over.Members), over.Members)
	}
	// Loading again splits nothing more.
	again, err := s.LoadBatch(ctx, bid, "")
	if err != nil || len(again.Members) != store.MaxBatchEvents || again.Overflow != nil {
		t.Fatalf("second load: %d members, overflow %+v, %v", len(again.Members), again.Overflow, err)
	}
}

// A batch's attempt is recorded once and shown, with its outcome, on every member; the
// webhook counts it once.
func TestBatchAttemptIsSharedByItsMembers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	org := newOrg(t, s)
	newEventType(t, s, org.ID, "order.created")
	wh := newWebhook(t, s, org.ID, throttled(time.Second), "order.created")
	var bid string
	for i := range 3 {
		bid = deliveryOf(t, ingest(t, s, org.ID, fmt.Sprintf("e%d", i), "order.created"), wh.ID).BatchID
	}
	bc, err := s.LoadBatch(ctx, bid, "run/1")
	if err != nil {
		t.Fatal(err)
	}
	members := bc.MemberIDs()
	at := time.Now().UTC().Truncate(time.Millisecond)
	a := store.Attempt{ID: ids.New(ids.Attempt), OrgID: org.ID, Trigger: "auto", RequestedAt: at,
		RequestURL: "https://example.com/hook", RequestMethod: "POST", ActivityKey: "run/1"}
	n, err := s.BeginBatchAttempt(ctx, bid, a)
	if err != nil || n != 1 {
		t.Fatalf("begin: %d, %v", n, err)
	}
	code := 503
	a.ResponseStatus, a.Error, a.Outcome, a.DurationMs = &code, "receiver answered 503", "retry", 12
	next := at.Add(time.Minute)
	if _, err := s.CompleteBatchAttempt(ctx, bid, members, a, store.DeliveryUpdate{Status: store.StatusRetrying, NextAttemptAt: &next, WorkflowRunID: "run"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range members {
		d, as, err := s.GetDelivery(ctx, org.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != store.StatusRetrying || d.AttemptCount != 1 || d.LastStatusCode == nil || *d.LastStatusCode != 503 ||
			d.WorkflowRunID != "run" || d.BatchID != bid {
			t.Fatalf("member %+v", d)
		}
		if len(as) != 1 || as[0].ID != a.ID || as[0].DeliveryID != id || as[0].State != store.AttemptCompleted || as[0].Number != 1 {
			t.Fatalf("member's attempts %+v", as)
		}
	}
	got, err := s.GetWebhook(ctx, org.ID, wh.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.AttemptCount != 1 || got.ConsecutiveFailures != 0 || got.LastTriggeredAt == nil {
		t.Fatalf("webhook counted %d attempts, %d failures", got.AttemptCount, got.ConsecutiveFailures)
	}
	again, err := s.LoadBatch(ctx, bid, "run/1")
	if err != nil || again.Recorded == nil || again.Recorded.Number != 1 || again.Recorded.Outcome != "retry" {
		t.Fatalf("recorded %+v, %v", again.Recorded, err)
	}
	if _, err := s.CompleteBatchAttempt(ctx, bid, members, a, store.DeliveryUpdate{Status: store.StatusFailed}); err == nil {
		t.Fatal("completing a completed attempt again succeeded")
	}
}

// A failed batch counts as one failed delivery towards the webhook's failureLimit: the
// batch that reaches it disables the webhook, and says so once.
func TestBatchFailuresReachTheFailureLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	org := newOrg(t, s)
	newEventType(t, s, org.ID, "order.created")
	wh := newWebhook(t, s, org.ID, func(w *store.Webhook) {
		throttled(time.Second)(w)
		w.FailureLimit = 2
	}, "order.created")
	fail := func(i int) string {
		t.Helper()
		bid := deliveryOf(t, ingest(t, s, org.ID, fmt.Sprintf("e%d", i), "order.created"), wh.ID).BatchID
		bc, err := s.LoadBatch(ctx, bid, fmt.Sprintf("run/%d", i))
		if err != nil {
			t.Fatal(err)
		}
		a := store.Attempt{ID: ids.New(ids.Attempt), OrgID: org.ID, Trigger: "auto", RequestedAt: time.Now(),
			RequestURL: "https://example.com/hook", RequestMethod: "POST", ActivityKey: fmt.Sprintf("run/%d", i)}
		if _, err := s.BeginBatchAttempt(ctx, bid, a); err != nil {
			t.Fatal(err)
		}
		code := 500
		a.ResponseStatus, a.Error, a.Outcome = &code, "receiver answered 500", "retry"
		disabled, err := s.CompleteBatchAttempt(ctx, bid, bc.MemberIDs(), a, store.DeliveryUpdate{Status: store.StatusFailed})
		if err != nil {
			t.Fatal(err)
		}
		return disabled
	}
	if got := fail(0); got != "" {
		t.Fatalf("first failed batch disabled the webhook: %q", got)
	}
	if got, want := fail(1), store.DisabledFailures(2); got != want {
		t.Fatalf("second failed batch: disabled %q, want %q", got, want)
	}
	got, err := s.GetWebhook(ctx, org.ID, wh.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.WebhookDisabledDueToErrors || got.ConsecutiveFailures != 2 {
		t.Fatalf("webhook %s with %d failures, want DISABLED_DUE_TO_ERRORS with 2", got.Status, got.ConsecutiveFailures)
	}
}
