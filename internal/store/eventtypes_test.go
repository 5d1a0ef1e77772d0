package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
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
