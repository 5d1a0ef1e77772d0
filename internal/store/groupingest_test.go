package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
)

// One group answers every event as IngestEventChecked alone would: new ids are stored
// with a delivery per webhook (the throttled ones join one batch, opened once), a repeat
// of a stored id and a repeat within the group answer the first event with its
// deliveries, and events their check refuses store nothing and leave the others stored.
func TestIngestEventsAnswersEachEventOfAGroupAsAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	batched := newWebhook(t, s, o.ID, throttled(time.Minute), "a.created")
	plain := newWebhook(t, s, o.ID, nil, "a.created")
	old := ingest(t, s, o.ID, "old", "a.created")

	refused := errors.New("refused")
	accept := func(et store.EventType, err error) error {
		if err != nil {
			return err
		}
		if et.Name != "a.created" || et.OrgID != o.ID {
			return errors.New("check got the wrong type " + et.Name)
		}
		return nil
	}
	refuse := func(store.EventType, error) error { return refused }
	ev := func(id, typ, data string) store.Event {
		return store.Event{OrgID: o.ID, ID: id, Type: typ, Data: []byte(data)}
	}
	group := []store.CheckedEvent{
		{ev("n2", "a.created", `{"n":2}`), accept},
		{ev("n1", "a.created", `{"n":1}`), accept},
		{ev("n1", "a.created", `{"n":"again"}`), accept}, // a repeat within the group
		{ev("old", "a.created", `{}`), accept},           // a repeat of a stored event
		{ev("r1", "a.created", `{}`), refuse},            // refused by its check
		{ev("u1", "b.unknown", `{}`), accept},            // no such type
		{ev("n3", "a.created", `{"n":3}`), nil},          // not judged
	}
	outs := s.IngestEvents(ctx, group)
	if len(outs) != len(group) {
		t.Fatalf("%d outcomes for %d events", len(outs), len(group))
	}
	for _, i := range []int{0, 1, 6} {
		r, err := outs[i].Result, outs[i].Err
		if err != nil || !r.Created || r.Event.ID != group[i].Event.ID || string(r.Event.Data) != string(group[i].Event.Data) || len(r.Deliveries) != 2 {
			t.Fatalf("event %d: %+v, %v", i, r, err)
		}
	}
	if r, err := outs[2].Result, outs[2].Err; err != nil || r.Created || r.Event.ID != "n1" || string(r.Event.Data) != `{"n":1}` ||
		!slices.Equal(store.DeliveryIDs(r.Deliveries), store.DeliveryIDs(outs[1].Result.Deliveries)) {
		t.Fatalf("repeat within the group: %+v, %v (first: %+v)", r, err, outs[1].Result)
	}
	if r, err := outs[3].Result, outs[3].Err; err != nil || r.Created || !slices.Equal(store.DeliveryIDs(r.Deliveries), store.DeliveryIDs(old.Deliveries)) {
		t.Fatalf("repeat of a stored event: %+v, %v", r, err)
	}
	wantErr(t, outs[4].Err, refused)
	wantErr(t, outs[5].Err, store.ErrNotFound)

	// The throttled deliveries of the three new events share one batch, which exactly
	// one of them opened (to be started); the plain ones are unbatched, unstarted.
	batch, opened := deliveryOf(t, old, batched.ID).BatchID, 0
	for _, i := range []int{0, 1, 6} {
		d, p := deliveryOf(t, outs[i].Result, batched.ID), deliveryOf(t, outs[i].Result, plain.ID)
		if d.BatchID != batch || p.BatchID != "" || p.WorkflowStarted {
			t.Fatalf("event %d: throttled %+v (batch %s), plain %+v", i, d, batch, p)
		}
		if !d.WorkflowStarted {
			opened++
		}
	}
	if opened != 0 { // "old" opened the window's batch
		t.Fatalf("%d deliveries opened a batch already open", opened)
	}
	if n := count(t, s, "events"); n != 4 {
		t.Fatalf("%d events stored, want old, n1, n2, n3", n)
	}
	if n := count(t, s, "deliveries"); n != 8 {
		t.Fatalf("%d deliveries stored, want 8", n)
	}
	if n := count(t, s, "batches"); n != 1 {
		t.Fatalf("%d batches, want 1", n)
	}
}

// A group whose first throttled events find no open batch opens exactly one, and only
// the delivery that opened it is to be started.
func TestIngestEventsOpensOneBatchPerGroup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	batched := newWebhook(t, s, o.ID, throttled(time.Minute), "a.created")
	var group []store.CheckedEvent
	for _, id := range []string{"e1", "e2", "e3", "e4"} {
		group = append(group, store.CheckedEvent{Event: store.Event{OrgID: o.ID, ID: id, Type: "a.created"}})
	}
	var batch string
	toStart := 0
	for i, out := range s.IngestEvents(ctx, group) {
		if out.Err != nil || !out.Result.Created {
			t.Fatalf("event %d: %+v, %v", i, out.Result, out.Err)
		}
		d := deliveryOf(t, out.Result, batched.ID)
		if batch == "" {
			batch = d.BatchID
		}
		if d.BatchID == "" || d.BatchID != batch {
			t.Fatalf("event %d in batch %q, want one batch %q", i, d.BatchID, batch)
		}
		if !d.WorkflowStarted {
			toStart++
		}
	}
	if toStart != 1 || count(t, s, "batches") != 1 {
		t.Fatalf("%d deliveries to start, %d batches: want one of each", toStart, count(t, s, "batches"))
	}
}

// An event that fails in the store (data PostgreSQL refuses) fails the group's
// transaction; it alone is answered the error and the others are stored, each in a
// transaction of its own.
func TestIngestEventsOneFailureLeavesTheOthersStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	newWebhook(t, s, o.ID, nil, "a.created")
	group := []store.CheckedEvent{
		{Event: store.Event{OrgID: o.ID, ID: "ok1", Type: "a.created", Data: []byte(`{}`)}},
		{Event: store.Event{OrgID: o.ID, ID: "bad", Type: "a.created", Data: []byte(`{not json`)}},
		{Event: store.Event{OrgID: o.ID, ID: "ok2", Type: "a.created", Data: []byte(`{}`)}},
	}
	outs := s.IngestEvents(ctx, group)
	if outs[1].Err == nil {
		t.Fatalf("bad data stored: %+v", outs[1].Result)
	}
	for _, i := range []int{0, 2} {
		if outs[i].Err != nil || !outs[i].Result.Created || len(outs[i].Result.Deliveries) != 1 {
			t.Fatalf("event %d: %+v, %v", i, outs[i].Result, outs[i].Err)
		}
	}
	if n := count(t, s, "events"); n != 2 {
		t.Fatalf("%d events stored, want ok1 and ok2", n)
	}
	if n := count(t, s, "deliveries"); n != 2 {
		t.Fatalf("%d deliveries stored, want 2", n)
	}
}

// A group of several organizations' events keeps them apart (one id in two
// organizations is two events) and fans each out by its own organization's webhooks and
// its level, as IngestEvent does.
func TestIngestEventsKeepsOrganizationsAndLevelsApart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o1, o2 := newOrg(t, s), newOrg(t, s)
	all1 := newWebhook(t, s, o1.ID, nil, "a.created")
	warn1 := newWebhook(t, s, o1.ID, func(w *store.Webhook) { w.Level = "warn" }, "a.created")
	all2 := newWebhook(t, s, o2.ID, nil, "a.created")
	group := []store.CheckedEvent{
		{Event: store.Event{OrgID: o2.ID, ID: "same", Type: "a.created"}},
		{Event: store.Event{OrgID: o1.ID, ID: "same", Type: "a.created", Level: "error"}},
		{Event: store.Event{OrgID: o1.ID, ID: "quiet", Type: "a.created", Level: "debug"}},
		{Event: store.Event{OrgID: o1.ID, ID: "info", Type: "a.created"}},
	}
	want := []map[string]bool{
		{all2.ID: true},
		{all1.ID: true, warn1.ID: true},
		{all1.ID: true}, // below warn1's level
		{all1.ID: true},
	}
	for i, out := range s.IngestEvents(ctx, group) {
		r := out.Result
		if out.Err != nil || !r.Created || r.Event.OrgID != group[i].Event.OrgID || r.Event.ID != group[i].Event.ID {
			t.Fatalf("event %d: %+v, %v", i, r, out.Err)
		}
		if got := webhookIDs(r.Deliveries); len(got) != len(want[i]) || len(r.Deliveries) != len(want[i]) {
			t.Fatalf("event %d delivered to %v, want %v", i, got, want[i])
		}
		for _, d := range r.Deliveries {
			if !want[i][d.WebhookID] || d.OrgID != r.Event.OrgID || d.EventID != r.Event.ID {
				t.Fatalf("event %d: delivery %+v", i, d)
			}
		}
	}
	if n := count(t, s, "deliveries"); n != 5 {
		t.Fatalf("%d deliveries, want 5", n)
	}
}
