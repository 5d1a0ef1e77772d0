package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/signing"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/webhook"
)

// Many concurrent publishes, committed in groups, each get the answer they would get
// alone: a new id is created (202) with a delivery to the plain and to the throttled
// webhook, its repeat answers the same deliveries (200), bad data and unknown types are
// refused naming the field (422) and store nothing, and a caller that hangs up either
// stored nothing (its error) or stored its event whole. Exactly the rows expected exist,
// every plain delivery's workflow was started, and the throttled webhook's batch once.
func TestConcurrentPublishesAreGroupedAndEachAnsweredAsAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	secret, err := signing.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	s := webhook.Defaults()
	s.Name, s.URL, s.Events, s.Throttle = "batched", "https://example.test/batched", []string{"order.created"}, webhook.Duration(time.Minute)
	batched, err := f.st.CreateWebhook(ctx, store.Webhook{ID: "wh_batched", OrgID: f.org, Settings: s, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}

	const n = 120
	type answer struct {
		res store.IngestResult
		err error
	}
	var (
		mu      sync.Mutex
		answers = map[string][]answer{}
	)
	publish := func(ctx context.Context, key string, ev store.Event) {
		res, err := f.svc.Publish(ctx, ev, nil)
		mu.Lock()
		answers[key] = append(answers[key], answer{res, err})
		mu.Unlock()
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range n {
		for _, job := range []func(){
			func() { publish(ctx, fmt.Sprintf("e%d", i), f.event(fmt.Sprintf("e%d", i))) },
			func() { publish(ctx, fmt.Sprintf("e%d", i), f.event(fmt.Sprintf("e%d", i))) }, // a repeat
			func() {
				ev := f.event(fmt.Sprintf("bad%d", i))
				ev.Data = []byte(`{"orderId":7}`)
				publish(ctx, ev.ID, ev)
			},
			func() {
				ev := f.event(fmt.Sprintf("unknown%d", i))
				ev.Type = "order.deleted"
				publish(ctx, ev.ID, ev)
			},
			func() {
				cctx, cancel := context.WithCancel(ctx)
				go cancel()
				publish(cctx, fmt.Sprintf("gone%d", i), f.event(fmt.Sprintf("gone%d", i)))
			},
		} {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				job()
			}()
		}
	}
	wg.Wait()

	stored := map[string]store.IngestResult{}
	for i := range n {
		id := fmt.Sprintf("e%d", i)
		as := answers[id]
		created := 0
		for _, a := range as {
			if a.err != nil || len(a.res.Deliveries) != 2 || a.res.Event.ID != id {
				t.Fatalf("%s: %+v, %v", id, a.res, a.err)
			}
			if a.res.Created {
				created++
			}
		}
		if created != 1 || as[0].res.Deliveries[0].ID != as[1].res.Deliveries[0].ID || as[0].res.Deliveries[1].ID != as[1].res.Deliveries[1].ID {
			t.Fatalf("%s and its repeat: %d created, %+v and %+v", id, created, as[0].res, as[1].res)
		}
		stored[id] = as[0].res
		for key, field := range map[string]string{fmt.Sprintf("bad%d", i): "data.orderId", fmt.Sprintf("unknown%d", i): "type"} {
			if a := answers[key][0]; len(fields(a.err)) != 1 || fields(a.err)[0] != field {
				t.Fatalf("%s: %+v, %v; want a problem with %s", key, a.res, a.err, field)
			}
		}
		gone := fmt.Sprintf("gone%d", i)
		switch a := answers[gone][0]; {
		case errors.Is(a.err, context.Canceled):
		case a.err == nil && a.res.Created && len(a.res.Deliveries) == 2:
			stored[gone] = a.res
		default:
			t.Fatalf("%s: %+v, %v", gone, a.res, a.err)
		}
	}

	// Exactly the rows expected: the events answered stored, two deliveries each.
	var events, deliveries, batches, txs int
	if err := f.st.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM deliveries),
        (SELECT count(*) FROM batches), (SELECT count(DISTINCT xmin::text) FROM events)`).Scan(&events, &deliveries, &batches, &txs); err != nil {
		t.Fatal(err)
	}
	if events != len(stored) || deliveries != 2*len(stored) || batches != 1 {
		t.Fatalf("%d events, %d deliveries, %d batches; want %d, %d, 1", events, deliveries, batches, len(stored), 2*len(stored))
	}
	t.Logf("%d events stored in %d transactions", events, txs)
	for id, res := range stored {
		ev, ds, err := f.st.GetEvent(ctx, f.org, id)
		if err != nil || ev.ID != id || len(ds) != 2 || ds[0].ID != res.Deliveries[0].ID || ds[1].ID != res.Deliveries[1].ID {
			t.Fatalf("%s stored as %+v %+v (%v), answered %+v", id, ev, ds, err, res)
		}
	}

	// Every plain delivery was started; the throttled ones through their one batch.
	startedSet := map[string]bool{}
	started, _, _ := f.eng.calls()
	for _, id := range started {
		startedSet[id] = true
	}
	batchStarts := 0
	for id, res := range stored {
		for _, d := range res.Deliveries {
			switch {
			case d.WebhookID == f.hook.ID && !startedSet[d.ID]:
				t.Fatalf("%s: plain delivery %s not started", id, d.ID)
			case d.WebhookID == batched.ID && d.BatchID == "":
				t.Fatalf("%s: throttled delivery %s in no batch", id, d.ID)
			case d.WebhookID == batched.ID && startedSet[d.ID]:
				batchStarts++
			}
		}
	}
	if batchStarts != 1 {
		t.Fatalf("the batch was started through %d deliveries, want 1", batchStarts)
	}
}
