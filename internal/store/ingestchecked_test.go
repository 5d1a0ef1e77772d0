package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
)

// IngestEventChecked hands the check the event's type as GetEventType reads it, and a
// check that answers an error leaves nothing stored, for a new id or a repeated one.
func TestIngestEventCheckedJudgesByTheTypeAndStoresNothingWhenRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o, other := newOrg(t, s), newOrg(t, s)
	newEventType(t, s, o.ID, "a.created")
	newEventType(t, s, other.ID, "b.created")
	wh := newWebhook(t, s, o.ID, func(w *store.Webhook) { w.EventsPolicy = "exclude" })
	refused := errors.New("refused")

	var seen []store.EventType
	var seenErr []error
	judge := func(answer error) store.TypeCheck {
		return func(et store.EventType, err error) error {
			seen, seenErr = append(seen, et), append(seenErr, err)
			return answer
		}
	}

	// A known type, refused: nothing stored, though a webhook matches.
	_, err := s.IngestEventChecked(ctx, store.Event{OrgID: o.ID, ID: "e1", Type: "a.created", Data: []byte(`{}`)}, judge(refused))
	if !errors.Is(err, refused) {
		t.Fatalf("refused check: err = %v", err)
	}
	if len(seen) != 1 || seen[0].Name != "a.created" || seen[0].OrgID != o.ID || seenErr[0] != nil {
		t.Fatalf("check got %+v, %v", seen, seenErr)
	}
	// Another organization's type is not found (tenancy), nor is an unknown one.
	for _, typ := range []string{"b.created", "c.created"} {
		_, err := s.IngestEventChecked(ctx, store.Event{OrgID: o.ID, ID: "e-" + typ, Type: typ, Data: []byte(`{}`)}, judge(refused))
		if !errors.Is(err, refused) || !errors.Is(seenErr[len(seenErr)-1], store.ErrNotFound) {
			t.Fatalf("%s: err = %v, check got %v", typ, err, seenErr[len(seenErr)-1])
		}
	}
	if evs, _, err := s.ListEvents(ctx, o.ID, store.Page{Limit: 10}); err != nil || len(evs) != 0 {
		t.Fatalf("refused events stored: %+v, %v", evs, err)
	}
	if ds, _, err := s.ListDeliveries(ctx, o.ID, store.DeliveryFilter{}, store.Page{Limit: 10}); err != nil || len(ds) != 0 {
		t.Fatalf("refused deliveries stored: %+v, %v", ds, err)
	}

	// Accepted: stored as IngestEvent stores it.
	res, err := s.IngestEventChecked(ctx, store.Event{OrgID: o.ID, ID: "e1", Type: "a.created", Data: []byte(`{}`)}, judge(nil))
	if err != nil || !res.Created || len(res.Deliveries) != 1 || res.Deliveries[0].WebhookID != wh.ID {
		t.Fatalf("accepted: %+v, %v", res, err)
	}
	// A repeat is judged too: refused, it is refused; accepted, it answers the original.
	if _, err := s.IngestEventChecked(ctx, store.Event{OrgID: o.ID, ID: "e1", Type: "a.created", Data: []byte(`{}`)}, judge(refused)); !errors.Is(err, refused) {
		t.Fatalf("refused repeat: err = %v", err)
	}
	again, err := s.IngestEventChecked(ctx, store.Event{OrgID: o.ID, ID: "e1", Type: "a.created", Data: []byte(`{}`)}, judge(nil))
	if err != nil || again.Created || len(again.Deliveries) != 1 || again.Deliveries[0].ID != res.Deliveries[0].ID {
		t.Fatalf("repeat: %+v, %v", again, err)
	}
}
