package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/internal/webhook"
)

func TestEventTypes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o, other := newOrg(t, s), newOrg(t, s)
	schema := []byte(`{"type": "object", "required": ["deviceId"]}`)

	created, err := s.CreateEventType(ctx, store.EventType{OrgID: o.ID, Name: "device.created", Description: "a device", Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if created.Builtin || string(created.Schema) != string(schema) || created.CreatedAt.IsZero() {
		t.Fatalf("created = %+v", created)
	}
	plain, err := s.CreateEventType(ctx, store.EventType{OrgID: o.ID, Name: "device.deleted"})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Schema != nil {
		t.Fatalf("schema of a type without one = %q, want nil", plain.Schema)
	}

	t.Run("create existing", func(t *testing.T) {
		_, err := s.CreateEventType(ctx, store.EventType{OrgID: o.ID, Name: "device.created"})
		wantErr(t, err, store.ErrConflict)
	})
	t.Run("same name in another org", func(t *testing.T) {
		if _, err := s.CreateEventType(ctx, store.EventType{OrgID: other.ID, Name: "device.created"}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("get", func(t *testing.T) {
		got, err := s.GetEventType(ctx, o.ID, "device.created")
		if err != nil || got.Description != "a device" {
			t.Fatalf("get = %+v, %v", got, err)
		}
		_, err = s.GetEventType(ctx, o.ID, "nope")
		wantErr(t, err, store.ErrNotFound)
	})
	t.Run("update", func(t *testing.T) {
		got, err := s.UpdateEventType(ctx, store.EventType{OrgID: o.ID, Name: "device.created", Description: "changed"})
		if err != nil {
			t.Fatal(err)
		}
		if got.Description != "changed" || got.Schema != nil || got.UpdatedAt.Before(created.UpdatedAt) {
			t.Fatalf("updated = %+v", got)
		}
		_, err = s.UpdateEventType(ctx, store.EventType{OrgID: o.ID, Name: "nope"})
		wantErr(t, err, store.ErrNotFound)
	})
	t.Run("missing", func(t *testing.T) {
		got, err := s.MissingEventTypes(ctx, o.ID, []string{"x.one", "device.created", "ping", "x.two", "x.one"})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"x.one", "x.two"}; !slices.Equal(got, want) {
			t.Fatalf("missing = %q, want %q", got, want)
		}
		got, err = s.MissingEventTypes(ctx, o.ID, nil)
		if err != nil || len(got) != 0 {
			t.Fatalf("missing of none = %q, %v", got, err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		for _, tc := range []struct {
			org, name string
			want      error
		}{
			{o.ID, store.EventTypePing, store.ErrConflict},
			{o.ID, store.EventTypeWebhookDisabled, store.ErrConflict},
			{o.ID, "nope", store.ErrNotFound},
			{"org_other", "device.deleted", store.ErrNotFound},
			{o.ID, "device.deleted", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := s.DeleteEventType(ctx, tc.org, tc.name)
				if tc.want == nil && err != nil {
					t.Fatal(err)
				}
				if tc.want != nil {
					wantErr(t, err, tc.want)
				}
			})
		}
		_, err := s.GetEventType(ctx, o.ID, "device.deleted")
		wantErr(t, err, store.ErrNotFound)
		if _, err := s.GetEventType(ctx, o.ID, store.EventTypePing); err != nil {
			t.Fatalf("ping after refused delete: %v", err)
		}
	})
}

func TestListEventTypesPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	newOrg(t, s) // another org's built-ins must not show
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("type.n%d", i)
		newEventType(t, s, o.ID, name)
		want = append(want, name)
	}
	slices.Reverse(want)
	want = append(want, store.EventTypeWebhookDisabled, store.EventTypePing) // made first, listed last

	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		ets, next, err := s.ListEventTypes(ctx, o.ID, store.Page{Limit: 4, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, et := range ets {
			got = append(got, et.Name)
		}
		if next == "" {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
		cursor = next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %q, want %q", got, want)
	}
}

// TestDeleteEventTypeInUse: a type named in any webhook's events, include or exclude,
// enabled or not, is not deleted, and the refusal names those webhooks of the
// organization (oldest first) and no others; once no webhook names it, it is deleted.
func TestDeleteEventTypeInUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o, other := newOrg(t, s), newOrg(t, s)
	for _, name := range []string{"mail.sent", "mail.bounced", "mail.queued"} {
		newEventType(t, s, o.ID, name)
	}
	newEventType(t, s, other.ID, "mail.sent")
	exclude := func(w *store.Webhook) { w.EventsPolicy = webhook.EventsExclude }
	named := func(name string) func(*store.Webhook) { return func(w *store.Webhook) { w.Name = name } }
	sent := newWebhook(t, s, o.ID, named("sent only"), "mail.sent")
	allBut := newWebhook(t, s, o.ID, func(w *store.Webhook) { exclude(w); w.Name = "all but" }, "mail.sent", "mail.bounced")
	disabled := newWebhook(t, s, o.ID, func(w *store.Webhook) { w.Status = store.WebhookDisabled; w.Name = "off" }, "mail.bounced")
	newWebhook(t, s, o.ID, exclude)                   // receives every type but names none
	newWebhook(t, s, other.ID, nil, "mail.sent")      // another organization's
	newWebhook(t, s, o.ID, nil, "ping", "mail.sent2") // names similar to, but not, the type

	wantInUse := func(t *testing.T, name string, want ...store.Webhook) {
		t.Helper()
		err := s.DeleteEventType(ctx, o.ID, name)
		wantErr(t, err, store.ErrConflict)
		var inUse *store.EventTypeInUseError
		if !errors.As(err, &inUse) {
			t.Fatalf("err = %v, want an *EventTypeInUseError", err)
		}
		var wantRefs []store.WebhookRef
		for _, w := range want {
			wantRefs = append(wantRefs, store.WebhookRef{ID: w.ID, Name: w.Name})
		}
		if inUse.Name != name || !slices.Equal(inUse.Webhooks, wantRefs) {
			t.Fatalf("in use = %+v, want %s named by %+v", inUse, name, wantRefs)
		}
		if _, err := s.GetEventType(ctx, o.ID, name); err != nil {
			t.Fatalf("%s after the refused delete: %v", name, err)
		}
	}
	wantInUse(t, "mail.sent", sent, allBut)
	wantInUse(t, "mail.bounced", allBut, disabled)

	if err := s.DeleteEventType(ctx, o.ID, "mail.queued"); err != nil {
		t.Fatalf("delete a type no webhook names: %v", err)
	}
	_, err := s.GetEventType(ctx, o.ID, "mail.queued")
	wantErr(t, err, store.ErrNotFound)

	// Unsubscribed, the type goes; the other organization's type of that name stays.
	for _, w := range []store.Webhook{sent, allBut} {
		w.Events = slices.DeleteFunc(slices.Clone(w.Events), func(n string) bool { return n == "mail.sent" })
		if _, err := s.UpdateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteEventType(ctx, o.ID, "mail.sent"); err != nil {
		t.Fatalf("delete once unsubscribed: %v", err)
	}
	if _, err := s.GetEventType(ctx, other.ID, "mail.sent"); err != nil {
		t.Fatalf("the other organization's type: %v", err)
	}

	// A built-in stays built in, whoever subscribes to it.
	newWebhook(t, s, o.ID, nil, store.EventTypeWebhookDisabled)
	err = s.DeleteEventType(ctx, o.ID, store.EventTypeWebhookDisabled)
	var inUse *store.EventTypeInUseError
	if !errors.Is(err, store.ErrConflict) || errors.As(err, &inUse) {
		t.Fatalf("delete a subscribed built-in: %v, want the built-in conflict", err)
	}
}

// TestDeleteEventTypeWaitsForWebhookWrite: a webhook write that holds the rows of the
// types it names (FOR KEY SHARE, as the statement writing a webhook takes them) and
// commits while a deletion of one of them waits is seen by that deletion, which then
// refuses: no webhook ends up naming a deleted type.
func TestDeleteEventTypeWaitsForWebhookWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	newEventType(t, s, o.ID, "mail.sent")
	w := newWebhook(t, s, o.ID, nil)

	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, `
        WITH types AS (SELECT name FROM event_types WHERE org_id = $1 AND name = 'mail.sent' FOR KEY SHARE)
        UPDATE webhooks SET events = ARRAY(SELECT name FROM types) WHERE id = $2`, o.ID, w.ID); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() { done <- s.DeleteEventType(ctx, o.ID, "mail.sent") }()
	waitForLockWait(t, s)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	err = <-done
	var inUse *store.EventTypeInUseError
	if !errors.As(err, &inUse) || len(inUse.Webhooks) != 1 || inUse.Webhooks[0].ID != w.ID {
		t.Fatalf("delete while the webhook write was open: %v, want in use by %s", err, w.ID)
	}
	if _, err := s.GetEventType(ctx, o.ID, "mail.sent"); err != nil {
		t.Fatalf("the type after the refused delete: %v", err)
	}
}

// waitForLockWait returns once a session of the test's database waits on a lock.
func waitForLockWait(t *testing.T, s *store.Store) {
	t.Helper()
	for {
		var waiting int
		err := s.Pool().QueryRow(context.Background(), `
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
