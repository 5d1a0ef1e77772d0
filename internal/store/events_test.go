package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
)

func TestIngestEventMatchesPolicies(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	o, other := newOrg(t, s), newOrg(t, s)
	hooks := map[string]store.Webhook{
		"include a":       newWebhook(t, s, o.ID, nil, "a.created"),
		"include a, b":    newWebhook(t, s, o.ID, nil, "a.created", "b.created"),
		"include nothing": newWebhook(t, s, o.ID, nil),
		"exclude a": newWebhook(t, s, o.ID, func(w *store.Webhook) { w.EventsPolicy = "exclude" },
			"a.created"),
		"exclude nothing": newWebhook(t, s, o.ID, func(w *store.Webhook) { w.EventsPolicy = "exclude" }),
		"disabled, include a": newWebhook(t, s, o.ID, func(w *store.Webhook) { w.Status = store.WebhookDisabled },
			"a.created"),
		"auto-disabled, exclude nothing": newWebhook(t, s, o.ID, func(w *store.Webhook) {
			w.Status, w.EventsPolicy = store.WebhookDisabledDueToErrors, "exclude"
		}),
		"other org, include a": newWebhook(t, s, other.ID, nil, "a.created"),
	}
	for _, tc := range []struct {
		typ  string
		want []string
	}{
		{"a.created", []string{"include a", "include a, b", "exclude nothing"}},
		{"b.created", []string{"include a, b", "exclude a", "exclude nothing"}},
		{"c.created", []string{"exclude a", "exclude nothing"}},
		{store.EventTypeWebhookDisabled, []string{"exclude a", "exclude nothing"}},
		{store.EventTypePing, nil}, // pings go only through CreatePing
	} {
		t.Run(tc.typ, func(t *testing.T) {
			res := ingest(t, s, o.ID, "", tc.typ)
			if !res.Created || !strings.HasPrefix(res.Event.ID, "evt_") || res.Event.Type != tc.typ {
				t.Fatalf("result = %+v", res)
			}
			got := webhookIDs(res.Deliveries)
			want := map[string]bool{}
			for _, name := range tc.want {
				want[hooks[name].ID] = true
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				var names []string
				for name, w := range hooks {
					if got[w.ID] {
						names = append(names, name)
					}
				}
				t.Fatalf("delivered to %q, want %q", names, tc.want)
			}
			for _, d := range res.Deliveries {
				if d.Status != store.StatusPending || d.EventID != res.Event.ID || d.EventType != tc.typ ||
					d.OrgID != o.ID || d.WorkflowStarted || !strings.HasPrefix(d.ID, "dlv_") {
					t.Fatalf("delivery = %+v", d)
				}
			}
		})
	}
}

func TestIngestEventIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	newWebhook(t, s, o.ID, nil, "a.b")
	newWebhook(t, s, o.ID, nil, "a.b")
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	data := []byte(`{"z": 1,  "a": [true, null], "z": 2}`) // order, spacing, duplicate keys kept

	first, err := s.IngestEvent(ctx, store.Event{OrgID: o.ID, ID: "order-1", Type: "a.b", Timestamp: ts, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created || len(first.Deliveries) != 2 || !first.Event.Timestamp.Equal(ts) ||
		string(first.Event.Data) != string(data) || first.Event.CreatedAt.IsZero() {
		t.Fatalf("first = %+v (data %s)", first, first.Event.Data)
	}
	before := [3]int{count(t, s, "events"), count(t, s, "deliveries"), count(t, s, "attempts")}

	newWebhook(t, s, o.ID, nil, "a.b") // a repeat must not fan out to it
	again, err := s.IngestEvent(ctx, store.Event{OrgID: o.ID, ID: "order-1", Type: "other.type", Data: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if again.Created {
		t.Fatal("repeat reported Created")
	}
	if again.Event.Type != "a.b" || string(again.Event.Data) != string(data) || !again.Event.Timestamp.Equal(ts) {
		t.Fatalf("repeat event = %+v, want the stored one", again.Event)
	}
	if !slices.EqualFunc(again.Deliveries, first.Deliveries, func(a, b store.Delivery) bool { return a.ID == b.ID }) {
		t.Fatalf("repeat deliveries %v, want %v", again.Deliveries, first.Deliveries)
	}
	after := [3]int{count(t, s, "events"), count(t, s, "deliveries"), count(t, s, "attempts")}
	if after != before {
		t.Fatalf("rows (events, deliveries, attempts) %v after the repeat, %v before", after, before)
	}

	// The same id in another organization is another event.
	o2 := newOrg(t, s)
	if res := ingest(t, s, o2.ID, "order-1", "a.b"); !res.Created {
		t.Fatal("same id in another org was not created")
	}
}

func TestIngestEventConcurrentSameID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	for range 3 {
		newWebhook(t, s, o.ID, nil, "a.b")
	}
	const n = 8
	results := make([]store.IngestResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = s.IngestEvent(ctx, store.Event{OrgID: o.ID, ID: "race", Type: "a.b"})
		})
	}
	wg.Wait()
	created := 0
	for i, res := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if res.Created {
			created++
		}
		if len(res.Deliveries) != 3 {
			t.Fatalf("result %d has %d deliveries, want 3", i, len(res.Deliveries))
		}
	}
	if created != 1 {
		t.Fatalf("%d calls created the event, want 1", created)
	}
	if c := count(t, s, "deliveries"); c != 3 {
		t.Fatalf("%d deliveries stored, want 3", c)
	}
}

func TestGetAndListEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o, other := newOrg(t, s), newOrg(t, s)
	newWebhook(t, s, o.ID, nil, "a.b")
	res := ingest(t, s, o.ID, "e1", "a.b")

	ev, ds, err := s.GetEvent(ctx, o.ID, "e1")
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "e1" || string(ev.Data) != `{"n":1}` || len(ds) != 1 || ds[0].ID != res.Deliveries[0].ID {
		t.Fatalf("get = %+v, %+v", ev, ds)
	}
	_, _, err = s.GetEvent(ctx, other.ID, "e1")
	wantErr(t, err, store.ErrNotFound)
	evs, next, err := s.ListEvents(ctx, other.ID, store.Page{})
	if err != nil || len(evs) != 0 || next != "" {
		t.Fatalf("other org's events = %v, %q, %v", evs, next, err)
	}
}

// TestListEventsPagesUnderConcurrentInserts pages through events while another goroutine
// keeps adding them: every event that existed before the first page shows up exactly once,
// newest first, and nothing shows up twice.
func TestListEventsPagesUnderConcurrentInserts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	var initial []string
	for i := range 40 {
		// Caller-chosen ids that do not sort by time: paging must not rely on them.
		id := fmt.Sprintf("%c-%02d", 'z'-i%26, i)
		ingest(t, s, o.ID, id, "a.b")
		initial = append(initial, id)
	}
	slices.Reverse(initial)

	stop := ingestMeanwhile(t, s, o.ID)
	seen := map[string]bool{}
	var got []string
	for cursor := ""; ; {
		evs, next, err := s.ListEvents(ctx, o.ID, store.Page{Limit: 6, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if seen[e.ID] {
				t.Fatalf("event %s listed twice", e.ID)
			}
			seen[e.ID] = true
			if !strings.HasPrefix(e.ID, "late-") {
				got = append(got, e.ID)
			}
		}
		time.Sleep(2 * time.Millisecond) // let inserts land between pages
		if cursor = next; cursor == "" {
			break
		}
	}
	stop()
	if !slices.Equal(got, initial) {
		t.Fatalf("pages held %q, want %q", got, initial)
	}
}

func TestCreatePing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o, other := newOrg(t, s), newOrg(t, s)
	w := newWebhook(t, s, o.ID, func(w *store.Webhook) { w.Status = store.WebhookDisabled }, "a.b")
	newWebhook(t, s, o.ID, func(w *store.Webhook) { w.EventsPolicy = "exclude" }) // would match anything

	ev, d, err := s.CreatePing(ctx, o.ID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != store.EventTypePing || !strings.HasPrefix(ev.ID, "evt_") || d.WebhookID != w.ID ||
		d.EventID != ev.ID || d.Status != store.StatusPending || d.EventType != store.EventTypePing {
		t.Fatalf("ping = %+v, %+v", ev, d)
	}
	_, ds, err := s.GetEvent(ctx, o.ID, ev.ID)
	if err != nil || len(ds) != 1 {
		t.Fatalf("ping event has deliveries %+v, %v; want just one", ds, err)
	}
	_, _, err = s.CreatePing(ctx, other.ID, w.ID)
	wantErr(t, err, store.ErrNotFound)
	_, _, err = s.CreatePing(ctx, o.ID, "wh_nope")
	wantErr(t, err, store.ErrNotFound)
}

func TestUnstartedDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o, other := newOrg(t, s), newOrg(t, s)
	newWebhook(t, s, o.ID, nil, "a.b")
	newWebhook(t, s, other.ID, nil, "a.b")
	var all []string
	for i := range 3 {
		for _, org := range []string{o.ID, other.ID} {
			res := ingest(t, s, org, fmt.Sprint("e", i), "a.b")
			all = append(all, res.Deliveries[0].ID)
		}
	}
	ids := func(ds []store.Delivery) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	future := time.Now().Add(time.Hour)

	got, err := s.UnstartedDeliveries(ctx, future, 100)
	if err != nil || !slices.Equal(ids(got), all) {
		t.Fatalf("unstarted = %q, %v; want all, oldest first: %q", ids(got), err, all)
	}
	got, err = s.UnstartedDeliveries(ctx, future, 2)
	if err != nil || !slices.Equal(ids(got), all[:2]) {
		t.Fatalf("limit 2 = %q, %v", ids(got), err)
	}
	got, err = s.UnstartedDeliveries(ctx, time.Now().Add(-time.Hour), 100)
	if err != nil || len(got) != 0 {
		t.Fatalf("created before an hour ago = %q, %v", ids(got), err)
	}

	if err := s.MarkWorkflowsStarted(ctx, []string{all[0], all[3], "dlv_unknown"}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkWorkflowsStarted(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// Only pending deliveries count: a canceled one needs no workflow.
	if _, err := s.TransitionDelivery(ctx, o.ID, all[2], []string{store.StatusPending}, store.StatusCanceled); err != nil {
		t.Fatal(err)
	}
	got, err = s.UnstartedDeliveries(ctx, future, 100)
	if want := []string{all[1], all[4], all[5]}; err != nil || !slices.Equal(ids(got), want) {
		t.Fatalf("unstarted after marking = %q, %v; want %q", ids(got), err, want)
	}
	_, ds, _ := s.GetEvent(ctx, o.ID, "e0")
	if !ds[0].WorkflowStarted {
		t.Fatal("marked delivery does not say WorkflowStarted")
	}
}

// The deliveries an ingest returns name their webhook's host (for the workflow's summary
// in the Temporal UI), without the URL's user information, path or query: through
// IngestEvent and through a group of IngestEvents.
func TestIngestNamesTheTargetHost(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	o := newOrg(t, s)
	plain := newWebhook(t, s, o.ID, nil, "a.created")
	secret := newWebhook(t, s, o.ID, func(w *store.Webhook) {
		w.URL = "https://user:pa55@hooks.example.com:8443/in/{eventId}?token=s3cret"
	}, "a.created")
	want := map[string]string{plain.ID: "example.com", secret.ID: "hooks.example.com:8443"}
	check := func(t *testing.T, ds []store.Delivery) {
		t.Helper()
		if len(ds) != 2 {
			t.Fatalf("deliveries %+v", ds)
		}
		for _, d := range ds {
			if d.TargetHost != want[d.WebhookID] {
				t.Errorf("delivery to %s: target host %q, want %q", d.WebhookID, d.TargetHost, want[d.WebhookID])
			}
		}
	}
	check(t, ingest(t, s, o.ID, "", "a.created").Deliveries)

	evs := make([]store.CheckedEvent, 3)
	for i := range evs {
		evs[i].Event = store.Event{OrgID: o.ID, ID: fmt.Sprintf("grouped-%d", i), Type: "a.created", Data: json.RawMessage(`{}`)}
	}
	for i, out := range s.IngestEvents(context.Background(), evs) {
		if out.Err != nil {
			t.Fatalf("event %d: %v", i, out.Err)
		}
		check(t, out.Result.Deliveries)
	}
}
