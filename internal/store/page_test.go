package store_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
)

// TestCursorIsBoundToItsList: a cursor works only for the list, organization and filters
// that issued it, whatever the limit; every other use is ErrInvalidCursor.
func TestCursorIsBoundToItsList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o, other := newOrg(t, s), newOrg(t, s)
	newEventType(t, s, o.ID, "a.b")
	newEventType(t, s, o.ID, "c.d")
	newWebhook(t, s, o.ID, nil, "a.b")
	newWebhook(t, s, o.ID, nil, "a.b")
	for i := range 3 {
		ingest(t, s, o.ID, fmt.Sprint("e", i), "a.b")
	}
	since := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	pending := store.DeliveryFilter{Status: store.StatusPending, Since: &since}

	_, evCursor, err := s.ListEvents(ctx, o.ID, store.Page{Limit: 1})
	wantCursor(t, err, evCursor)
	_, whCursor, err := s.ListWebhooks(ctx, o.ID, store.Page{Limit: 1})
	wantCursor(t, err, whCursor)
	_, etCursor, err := s.ListEventTypes(ctx, o.ID, store.Page{Limit: 1})
	wantCursor(t, err, etCursor)
	_, dlCursor, err := s.ListDeliveries(ctx, o.ID, pending, store.Page{Limit: 1})
	wantCursor(t, err, dlCursor)

	type list func(cursor string) error
	events := func(org string) list {
		return func(c string) error { _, _, err := s.ListEvents(ctx, org, store.Page{Limit: 2, Cursor: c}); return err }
	}
	webhooks := func(c string) error { _, _, err := s.ListWebhooks(ctx, o.ID, store.Page{Cursor: c}); return err }
	eventTypes := func(c string) error { _, _, err := s.ListEventTypes(ctx, o.ID, store.Page{Cursor: c}); return err }
	deliveries := func(f store.DeliveryFilter) list {
		return func(c string) error {
			_, _, err := s.ListDeliveries(ctx, o.ID, f, store.Page{Limit: 5, Cursor: c})
			return err
		}
	}
	sameSince := since.Add(0)
	later := since.Add(time.Microsecond)
	old := base64.RawURLEncoding.EncodeToString([]byte("s1.9999"))

	tests := []struct {
		name   string
		list   list
		cursor string
		ok     bool
	}{
		{"events, its own", events(o.ID), evCursor, true},
		{"webhooks, its own", webhooks, whCursor, true},
		{"event types, its own", eventTypes, etCursor, true},
		{"deliveries, same filters", deliveries(store.DeliveryFilter{Status: store.StatusPending, Since: &sameSince}), dlCursor, true},
		{"events' cursor to deliveries", deliveries(pending), evCursor, false},
		{"events' cursor to webhooks", webhooks, evCursor, false},
		{"webhooks' cursor to event types", eventTypes, whCursor, false},
		{"deliveries' cursor to events", events(o.ID), dlCursor, false},
		{"events' cursor to another organization", events(other.ID), evCursor, false},
		{"deliveries, another status", deliveries(store.DeliveryFilter{Status: store.StatusSucceeded, Since: &since}), dlCursor, false},
		{"deliveries, no filters", deliveries(store.DeliveryFilter{}), dlCursor, false},
		{"deliveries, since a microsecond later", deliveries(store.DeliveryFilter{Status: store.StatusPending, Since: &later}), dlCursor, false},
		{"an old s1 cursor", events(o.ID), old, false},
		{"not base64", events(o.ID), "garbage!", false},
		{"a cursor with its digest cut", events(o.ID), evCursor[:len(evCursor)-2], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.list(tt.cursor)
			if tt.ok && err != nil {
				t.Fatalf("refused its own cursor: %v", err)
			}
			if !tt.ok {
				wantErr(t, err, store.ErrInvalidCursor)
			}
		})
	}
}

// wantCursor fails unless err is nil and the list handed out a cursor.
func wantCursor(t *testing.T, err error, cursor string) {
	t.Helper()
	if err != nil || cursor == "" {
		t.Fatalf("list: cursor %q, %v", cursor, err)
	}
}
