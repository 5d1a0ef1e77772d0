package dispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/devtemporal"
	"github.com/hookd/hookd/internal/dispatch"
	temporalengine "github.com/hookd/hookd/internal/engine"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/signing"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/internal/webhook"
	"github.com/hookd/hookd/worker"
	"github.com/hookd/hookd/workflows"
)

// The replay half of the fake engine: a replay's signal is recorded as a retry.

func (e *engine) StartReplay(_ context.Context, r store.Replay) error {
	return e.record(new([]string))
}
func (e *engine) CancelReplay(context.Context, string) error { return e.record(new([]string)) }
func (e *engine) Replay(_ context.Context, d store.Delivery, _ string) error {
	return e.record(&e.retried, d)
}

// replayAll hands every delivery of replay id to ReplayDelivery, as its workflow would,
// and returns the replay as it then is.
func replayAll(t *testing.T, svc *dispatch.Service, st *store.Store, orgID, id string) (store.Replay, error) {
	t.Helper()
	ctx := context.Background()
	for range 100 {
		r, items, err := svc.NextReplayItems(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 0 {
			break
		}
		var replayed int64
		for _, it := range items {
			ok, err := svc.ReplayDelivery(ctx, r, it)
			if err != nil {
				return store.Replay{}, err
			}
			if ok {
				replayed++
			}
		}
		if _, err := svc.AdvanceReplay(ctx, id, r.Cursor, items[len(items)-1].Position, replayed); err != nil {
			t.Fatal(err)
		}
	}
	return st.GetReplay(ctx, orgID, id)
}

// Which deliveries a replay resends and which it skips, and what a refusing engine leaves.
func TestReplayDeliverySkipsWhatIsNoLongerReplayable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	other := f.webhook(t, "other", "order.created")
	var failed []store.Delivery
	for i, id := range []string{"e1", "e2", "e3", "e4"} {
		res, err := f.svc.Publish(ctx, store.Event{OrgID: f.org, ID: id, Type: "order.created", Timestamp: time.Now(),
			Data: []byte(`{"orderId":"o"}`)}, nil)
		if err != nil || len(res.Deliveries) != 2 {
			t.Fatalf("publish: %v", err)
		}
		for _, d := range res.Deliveries {
			status := store.StatusFailed
			if i == 3 {
				status = store.StatusSucceeded
			}
			if _, err := f.st.Pool().Exec(ctx, `UPDATE deliveries SET status = $2 WHERE id = $1`, d.ID, status); err != nil {
				t.Fatal(err)
			}
			if status == store.StatusFailed {
				failed = append(failed, d)
			}
		}
	}
	since, until := time.Now().Add(-time.Hour), time.Now().Add(time.Minute)
	r, err := f.svc.StartReplay(ctx, f.org, store.ReplayFilter{Since: &since, Until: &until, Status: "failed"}, 1000)
	if err != nil || r.Matched != 6 || r.Status != store.ReplayRunning {
		t.Fatalf("start: %+v %v", r, err)
	}
	// Reached: one of them succeeded meanwhile, and the other webhook was disabled.
	if _, err := f.st.Pool().Exec(ctx, `UPDATE deliveries SET status = 'succeeded' WHERE id = $1`, failed[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Pool().Exec(ctx, `UPDATE webhooks SET status = 'DISABLED' WHERE id = $1`, other.ID); err != nil {
		t.Fatal(err)
	}
	// The engine is down for the first: an error, and the delivery is put back.
	f.eng.setDown(errors.New("engine down"))
	if _, err := replayAll(t, f.svc, f.st, f.org, r.ID); !errors.Is(err, dispatch.ErrUnavailable) {
		t.Fatalf("engine down: %v", err)
	}
	if got, err := f.st.GetReplay(ctx, f.org, r.ID); err != nil || got.Replayed != 0 {
		t.Fatalf("after a refusal %+v %v", got, err)
	}
	for _, d := range failed[1:] {
		if now, _, _ := f.st.GetDelivery(ctx, f.org, d.ID); now.Status != store.StatusFailed {
			t.Fatalf("a delivery the engine refused is %s", now.Status)
		}
	}
	f.eng.setDown(nil)
	got, err := replayAll(t, f.svc, f.st, f.org, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range failed[1:] {
		if d.WebhookID == f.hook.ID {
			want = append(want, d.ID)
			if now, _, _ := f.st.GetDelivery(ctx, f.org, d.ID); now.Status != store.StatusPending {
				t.Fatalf("replayed delivery is %s", now.Status)
			}
		}
	}
	_, retried, _ := f.eng.calls()
	if got.Replayed != int64(len(want)) || got.Skipped != 6-int64(len(want)) || !sameSet(retried, want) {
		t.Fatalf("replay %+v, signalled %v, want %v", got, retried, want)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		if m[s]--; m[s] < 0 {
			return false
		}
	}
	return true
}

// countingReceiver answers 500 until ok is set, then 200, and counts the requests for
// each delivery (webhook-id), and for each event a batch carried (its body's events).
type countingReceiver struct {
	ok     atomic.Bool
	mu     sync.Mutex
	hits   map[string]int
	events map[string]int
}

func (c *countingReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var batch struct {
		Events []struct {
			ID string `json:"id"`
		} `json:"events"`
	}
	body, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(body, &batch)
	c.mu.Lock()
	c.hits[r.Header.Get("webhook-id")]++
	for _, e := range batch.Events {
		c.events[e.ID]++
	}
	c.mu.Unlock()
	if !c.ok.Load() {
		w.WriteHeader(http.StatusInternalServerError)
	}
}

func (c *countingReceiver) eventCount(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.events[id]
}

func (c *countingReceiver) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits[id]
}

// On Temporal: deliveries that failed while their receiver was down are replayed once it
// is back, each sent exactly once more with trigger replay; the replay completes with
// every one counted succeeded. Its signals repeated (a workflow redone from an older
// cursor after a restart, a signal sent twice) send nothing more.
func TestReplayOnTemporalSendsEachFailedDeliveryOnceMore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := devtemporal.Start(ctx, devtemporal.Options{
		UIPort: devtemporal.Disabled, HTTPPort: devtemporal.Disabled,
		SearchAttributes: workflows.SearchAttributeTypes(), Logger: logger,
	})
	if err != nil {
		t.Fatalf("start temporal: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	tc, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Namespace: srv.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	st := storetest.New(t)
	const queue = "replays"
	eng := &temporalengine.Temporal{Client: tc, TaskQueue: queue}
	svc := dispatch.New(st, eng, dispatch.Options{Logger: logger})
	httpc := netguard.NewClient(netguard.Options{AllowPrivate: true, AllowHTTP: true})
	w := worker.New(tc, queue, &activities.Activities{Store: st, Service: svc, Replays: svc, Client: httpc,
		UserAgent: "hookd/test", Logger: logger}, sdkworker.Options{})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	rcv := &countingReceiver{hits: map[string]int{}, events: map[string]int{}}
	hs := httptest.NewServer(rcv)
	t.Cleanup(hs.Close)
	org, err := st.CreateOrganization(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateEventType(ctx, store.EventType{OrgID: org.ID, Name: "order.created"}); err != nil {
		t.Fatal(err)
	}
	secret, err := signing.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	s := webhook.Defaults()
	s.Name, s.URL, s.Events, s.MaxRetries, s.FailureLimit = "orders", hs.URL, []string{"order.created"}, 0, 0
	if _, err := st.CreateWebhook(ctx, store.Webhook{ID: "wh_orders", OrgID: org.ID, Settings: s, Secret: secret}); err != nil {
		t.Fatal(err)
	}

	// A throttled webhook too: its deliveries go out in batches, and a replay's attempt of
	// one is its batch's.
	s.Name, s.Throttle = "batched", webhook.Duration(time.Second)
	batched, err := st.CreateWebhook(ctx, store.Webhook{ID: "wh_batched", OrgID: org.ID, Settings: s, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}

	const n = 25
	since := time.Now().Add(-time.Second)
	var ids []string
	batchedEvents := map[string]string{} // delivery → event
	for i := range n {
		ev := "e" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		res, err := svc.Publish(ctx, store.Event{OrgID: org.ID, ID: ev, Type: "order.created", Timestamp: time.Now(), Data: []byte(`{}`)}, nil)
		if err != nil || len(res.Deliveries) != 2 {
			t.Fatalf("publish: %+v %v", res, err)
		}
		for _, d := range res.Deliveries {
			if d.WebhookID == batched.ID {
				batchedEvents[d.ID] = ev
			} else {
				ids = append(ids, d.ID)
			}
		}
	}
	waitFor(t, "every delivery to fail", func() bool {
		var failed int
		_ = st.Pool().QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE status = 'failed'`).Scan(&failed)
		return failed == 2*n
	})

	rcv.ok.Store(true)
	until := time.Now().Add(time.Second)
	r, err := svc.StartReplay(ctx, org.ID, store.ReplayFilter{Since: &since, Until: &until, Status: "failed"}, 200)
	if err != nil || r.Matched != 2*n {
		t.Fatalf("start replay: %+v %v", r, err)
	}
	var done store.Replay
	waitFor(t, "the replay to complete with every attempt back", func() bool {
		done, err = svc.GetReplay(ctx, org.ID, r.ID)
		return err == nil && done.Status == store.ReplayCompleted && done.Succeeded+done.Failed == 2*n
	})
	if done.Replayed != 2*n || done.Skipped != 0 || done.Succeeded != 2*n || done.Failed != 0 || done.FinishedAt == nil {
		t.Fatalf("replay %+v", done)
	}
	if err := tc.GetWorkflow(ctx, temporalengine.ReplayWorkflowID(r.ID), "").Get(ctx, nil); err != nil {
		t.Fatalf("replay workflow: %v", err)
	}
	saveReplayHistory(t, tc, temporalengine.ReplayWorkflowID(r.ID), "replay_completed_run1.json")
	t.Logf("replay took %v", done.FinishedAt.Sub(done.CreatedAt))
	waitFor(t, "every delivery to succeed", func() bool {
		var ok int
		_ = st.Pool().QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE status = 'succeeded'`).Scan(&ok)
		return ok == 2*n
	})
	check := func(when string) {
		t.Helper()
		for id, ev := range batchedEvents {
			if d, _, err := st.GetDelivery(ctx, org.ID, id); err != nil || rcv.eventCount(ev) != 2 || d.Status != store.StatusSucceeded {
				t.Fatalf("%s: batched delivery %s is %s, its event sent %d times (%v)", when, id, d.Status, rcv.eventCount(ev), err)
			}
		}
		for _, id := range ids {
			d, as, err := st.GetDelivery(ctx, org.ID, id)
			if err != nil || rcv.count(id) != 2 || len(as) != 2 || as[1].Trigger != delivery.TriggerReplay ||
				d.Status != store.StatusSucceeded {
				t.Fatalf("%s: delivery %s is %s with %d attempts, %d requests (%v)", when, id, d.Status, len(as), rcv.count(id), err)
			}
		}
	}
	check("replayed")

	// Redone from the start (as after a restart that lost the cursor): every delivery's
	// attempt has begun, so none is reopened nor signalled.
	if _, err := st.Pool().Exec(ctx, `UPDATE replays SET status = 'running', cursor = 0, replayed = 0 WHERE id = $1`, r.ID); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	again, err := replayAll(t, svc, st, org.ID, r.ID)
	t.Logf("redo took %v", time.Since(t0))
	if err != nil || again.Replayed != 2*n {
		t.Fatalf("redone: %+v %v", again, err)
	}
	// A replay's signal that arrives twice (sent, then hookd restarted before recording
	// it): the delivery's new run answers the replay's attempt without sending.
	d, _, _ := st.GetDelivery(ctx, org.ID, ids[0])
	if err := eng.Replay(ctx, d, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := tc.GetWorkflow(ctx, delivery.WorkflowID(d.ID), "").Get(ctx, nil); err != nil {
		t.Fatalf("the duplicate's run: %v", err)
	}
	check("signals repeated")

	// A replay canceled while it paces: its workflow ends Canceled, the record canceled.
	slow, err := svc.StartReplay(ctx, org.ID, store.ReplayFilter{DeliveryIDs: ids[:5]}, 1)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the slow replay to replay one", func() bool {
		got, err := svc.GetReplay(ctx, org.ID, slow.ID)
		return err == nil && got.Replayed > 0
	})
	if _, err := svc.CancelReplay(ctx, org.ID, slow.ID); err != nil {
		t.Fatal(err)
	}
	err = tc.GetWorkflow(ctx, temporalengine.ReplayWorkflowID(slow.ID), "").Get(ctx, nil)
	var canceled *temporal.CanceledError
	if !errors.As(err, &canceled) {
		t.Fatalf("canceled replay's workflow: %v", err)
	}
	if got, _ := svc.GetReplay(ctx, org.ID, slow.ID); got.Status != store.ReplayCanceled || got.Replayed == 5 {
		t.Fatalf("canceled replay %+v", got)
	}
	saveReplayHistory(t, tc, temporalengine.ReplayWorkflowID(slow.ID), "replay_canceled_run1.json")
}

// waitFor polls cond until it holds, failing after a generous bound (a liveness bound,
// not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1200 {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

// A replay whose workflow could not be started (the engine was down) is answered all the
// same, and the reconciler starts it.
func TestUnstartedReplayIsStartedByTheReconciler(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.publish(t, "e1")
	f.eng.setDown(errors.New("engine down"))
	r, err := f.svc.StartReplay(ctx, f.org, store.ReplayFilter{DeliveryIDs: []string{d.ID}}, 50)
	if err != nil || r.Status != store.ReplayRunning || r.Matched != 1 {
		t.Fatalf("start with the engine down: %+v %v", r, err)
	}
	started := func() bool {
		var ok bool
		if err := f.st.Pool().QueryRow(ctx, `SELECT workflow_started FROM replays WHERE id = $1`, r.ID).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if started() {
		t.Fatal("marked started with the engine down")
	}
	f.eng.setDown(nil)
	f.offset = time.Minute // past the reconciler's grace
	if _, err := f.svc.Reconcile(ctx); err != nil || !started() {
		t.Fatalf("reconcile: %v, started %v", err, started())
	}
	// Canceled: store.ErrConflict the second time.
	if c, err := f.svc.CancelReplay(ctx, f.org, r.ID); err != nil || c.Status != store.ReplayCanceled {
		t.Fatalf("cancel: %+v %v", c, err)
	}
	if _, err := f.svc.CancelReplay(ctx, f.org, r.ID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("cancel again: %v", err)
	}
}

// saveReplayHistory writes the history of workflow id's latest run to
// workflows/testdata/replay/name when HOOKD_UPDATE_HISTORIES is set, for the workflows
// package's test that replays committed Replay histories (as internal/e2e does for
// deliveries).
func saveReplayHistory(t *testing.T, tc client.Client, id, name string) {
	t.Helper()
	if os.Getenv("HOOKD_UPDATE_HISTORIES") == "" {
		return
	}
	h := &historypb.History{}
	iter := tc.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "workflows", "testdata", "replay", name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d events)", path, len(h.Events))
}

// Two replays over the same failed deliveries at once: the first reopens and signals each,
// the second finds them pending (an attempt already due) and skips them, so no delivery
// is asked for twice. The first, redone (a restart before its progress was recorded),
// finds its own reopening and signals again, which its attempt's claim makes harmless.
func TestOverlappingReplaysAskOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	var ids []string
	for _, id := range []string{"o1", "o2", "o3"} {
		res, err := f.svc.Publish(ctx, store.Event{OrgID: f.org, ID: id, Type: "order.created", Timestamp: time.Now(),
			Data: []byte(`{"orderId":"o"}`)}, nil)
		if err != nil || len(res.Deliveries) != 1 {
			t.Fatalf("publish: %v", err)
		}
		d := res.Deliveries[0]
		if _, err := f.st.Pool().Exec(ctx, `UPDATE deliveries SET status = 'failed' WHERE id = $1`, d.ID); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	since, until := time.Now().Add(-time.Hour), time.Now().Add(time.Minute)
	a, err := f.svc.StartReplay(ctx, f.org, store.ReplayFilter{Since: &since, Until: &until, Status: "failed"}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.svc.StartReplay(ctx, f.org, store.ReplayFilter{DeliveryIDs: ids}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := replayAll(t, f.svc, f.st, f.org, a.ID); err != nil || got.Replayed != 3 || got.Skipped != 0 {
		t.Fatalf("first replay %+v %v", got, err)
	}
	if got, err := replayAll(t, f.svc, f.st, f.org, b.ID); err != nil || got.Replayed != 0 || got.Skipped != 3 {
		t.Fatalf("overlapping replay %+v %v, want every delivery skipped", got, err)
	}
	_, retried, _ := f.eng.calls()
	if !sameSet(retried, ids) {
		t.Fatalf("signalled %v, want each of %v once", retried, ids)
	}

	// The first replay's page redone: its own reopenings are signalled again.
	_, items, err := f.svc.NextReplayItems(ctx, a.ID)
	if err != nil || len(items) != 0 {
		t.Fatalf("after the first replay: %d items, %v", len(items), err)
	}
	if _, err := f.st.Pool().Exec(ctx, `UPDATE replays SET cursor = 0, replayed = 0 WHERE id = $1`, a.ID); err != nil {
		t.Fatal(err)
	}
	r, items, err := f.svc.NextReplayItems(ctx, a.ID)
	if err != nil || len(items) != 3 {
		t.Fatalf("redo: %d items, %v", len(items), err)
	}
	for _, it := range items {
		if ok, err := f.svc.ReplayDelivery(ctx, r, it); err != nil || !ok {
			t.Fatalf("redo of %s: replayed %v, %v", it.Delivery.ID, ok, err)
		}
	}
}
