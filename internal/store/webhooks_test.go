package store_test

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/internal/webhook"
)

func TestWebhookCRUD(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o, other := newOrg(t, s), newOrg(t, s)
	w := newWebhook(t, s, o.ID, func(w *store.Webhook) { w.Description = "d" }, "a.b", "c.d")

	if w.Status != store.WebhookEnabled || w.SecretPrefix != "whsec_MfKQ" || w.CreatedAt.IsZero() ||
		!slices.Equal(w.Events, []string{"a.b", "c.d"}) || w.Headers["X-Team"] != "core" ||
		!slices.Equal(w.RetrySchedule, []time.Duration{time.Minute, 5 * time.Minute}) {
		t.Fatalf("created = %+v", w)
	}

	t.Run("secret is stored sealed", func(t *testing.T) {
		var sealed []byte
		if err := s.Pool().QueryRow(ctx, "SELECT secret_enc FROM webhooks WHERE id = $1", w.ID).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(sealed, []byte("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")) {
			t.Fatal("secret column holds the plaintext")
		}
		got, err := s.GetWebhook(ctx, o.ID, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Secret != "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" || got.Description != "d" {
			t.Fatalf("get = %+v", got)
		}
	})
	t.Run("duplicate id", func(t *testing.T) {
		_, err := s.CreateWebhook(ctx, store.Webhook{ID: w.ID, OrgID: o.ID, Settings: webhook.Settings{Name: "x", URL: "https://x"}, Secret: "whsec_x"})
		wantErr(t, err, store.ErrConflict)
	})
	t.Run("another org", func(t *testing.T) {
		_, err := s.GetWebhook(ctx, other.ID, w.ID)
		wantErr(t, err, store.ErrNotFound)
		upd := w
		upd.OrgID = other.ID
		_, err = s.UpdateWebhook(ctx, upd)
		wantErr(t, err, store.ErrNotFound)
		wantErr(t, s.DeleteWebhook(ctx, other.ID, w.ID), store.ErrNotFound)
	})
	t.Run("update", func(t *testing.T) {
		newEventType(t, s, o.ID, "x.y") // the store writes only webhooks whose event types exist
		upd := w
		upd.Name, upd.URL, upd.Events, upd.EventsPolicy = "renamed", "https://example.org/h", []string{"x.y"}, "exclude"
		upd.Headers, upd.TimeoutSeconds, upd.MaxRetries = nil, 5, 0
		upd.RetrySchedule = []time.Duration{time.Second}
		upd.Secret = "whsec_ignored"
		got, err := s.UpdateWebhook(ctx, upd)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "renamed" || got.URL != "https://example.org/h" || !slices.Equal(got.Events, []string{"x.y"}) ||
			got.EventsPolicy != "exclude" || len(got.Headers) != 0 || got.TimeoutSeconds != 5 || got.MaxRetries != 0 ||
			!slices.Equal(got.RetrySchedule, []time.Duration{time.Second}) || got.Secret != w.Secret ||
			got.UpdatedAt.Before(w.UpdatedAt) {
			t.Fatalf("updated = %+v", got)
		}
	})
	t.Run("delete cascades", func(t *testing.T) {
		w2 := newWebhook(t, s, o.ID, nil, "z.z")
		res := ingest(t, s, o.ID, "evt-del", "z.z")
		i := slices.IndexFunc(res.Deliveries, func(d store.Delivery) bool { return d.WebhookID == w2.ID })
		if i < 0 {
			t.Fatalf("no delivery to %s in %+v", w2.ID, res.Deliveries)
		}
		if err := s.DeleteWebhook(ctx, o.ID, w2.ID); err != nil {
			t.Fatal(err)
		}
		_, err := s.GetWebhook(ctx, o.ID, w2.ID)
		wantErr(t, err, store.ErrNotFound)
		_, _, err = s.GetDelivery(ctx, o.ID, res.Deliveries[i].ID)
		wantErr(t, err, store.ErrNotFound)
		wantErr(t, s.DeleteWebhook(ctx, o.ID, w2.ID), store.ErrNotFound)
	})
}

func TestUpdateWebhookReenableClearsFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	w := newWebhook(t, s, o.ID, nil, "a.b")
	if _, err := s.Pool().Exec(ctx,
		`UPDATE webhooks SET consecutive_failures = 7, status = 'DISABLED_DUE_TO_ERRORS' WHERE id = $1`, w.ID); err != nil {
		t.Fatal(err)
	}

	w.Status = store.WebhookDisabledDueToErrors // an edit that keeps the status keeps the count
	got, err := s.UpdateWebhook(ctx, w)
	if err != nil || got.ConsecutiveFailures != 7 {
		t.Fatalf("edit while disabled: failures %d, %v", got.ConsecutiveFailures, err)
	}
	w.Status = store.WebhookEnabled
	got, err = s.UpdateWebhook(ctx, w)
	if err != nil || got.Status != store.WebhookEnabled || got.ConsecutiveFailures != 0 {
		t.Fatalf("re-enable: %+v, %v", got, err)
	}
}

func TestListWebhooksPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o, other := newOrg(t, s), newOrg(t, s)
	newWebhook(t, s, other.ID, nil)
	var want []string
	for range 5 {
		want = append(want, newWebhook(t, s, o.ID, nil).ID)
	}
	slices.Reverse(want)
	var got []string
	for cursor := ""; ; {
		ws, next, err := s.ListWebhooks(ctx, o.ID, store.Page{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range ws {
			if w.Secret == "" {
				t.Fatal("listed webhook has no secret")
			}
			got = append(got, w.ID)
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %q, want %q", got, want)
	}
	_, _, err := s.ListWebhooks(ctx, o.ID, store.Page{Limit: 2, Cursor: "garbage!"})
	wantErr(t, err, store.ErrInvalidCursor)
}

// TestWebhookSettingsColumn: every setting round-trips through the settings column (the
// headers through the sealed secrets), in canonical form, and the column holds the API's
// field names and durations.
func TestWebhookSettingsColumn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	settings := webhook.Settings{
		Name:              "orders ✓",
		Description:       "line one\nline \"two\"",
		URL:               "https://example.com/hooks/{eventType}?q=1&r=ü",
		Events:            []string{"b.b", "a.a", "b.b"},
		EventsPolicy:      webhook.EventsExclude,
		Headers:           map[string]string{"x-api-key": "k", "X-Tenant": "t1"},
		TimeoutSeconds:    7,
		MaxRetries:        11,
		RetrySchedule:     webhook.Schedule{30 * time.Second, 90 * time.Second, 1500 * time.Millisecond, 24 * time.Hour},
		Method:            webhook.MethodPut,
		ContentType:       webhook.ContentTypeForm,
		BodyTemplate:      `{"id": "{eventId}"}`,
		Auth:              webhook.Auth{Type: webhook.AuthBasic, Username: "account", Password: "pw"},
		Signature:         webhook.Signature{Scheme: "hmac-body", Header: "X-Signature", Encoding: "base64"},
		FailureLimit:      3,
		Throttle:          webhook.Duration(2 * time.Second),
		DiscardAfter:      webhook.Duration(5 * time.Minute),
		Lossy:             true,
		AllowInvalidCerts: true,
		Level:             "warn",
	}
	w := newWebhook(t, s, o.ID, func(w *store.Webhook) { w.Settings = settings })
	want := settings.Canonical()

	got, err := s.GetWebhook(ctx, o.ID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	listed, _, err := s.ListWebhooks(ctx, o.ID, store.Page{Limit: 10})
	if err != nil || len(listed) != 1 {
		t.Fatalf("list: %v, %d webhooks", err, len(listed))
	}
	for name, read := range map[string]webhook.Settings{"created": w.Settings, "got": got.Settings, "listed": listed[0].Settings} {
		if !reflect.DeepEqual(read, want) {
			t.Errorf("%s settings\n%+v\nwant\n%+v", name, read, want)
		}
	}

	var column map[string]any
	if err := s.Pool().QueryRow(ctx, "SELECT settings FROM webhooks WHERE id = $1", w.ID).Scan(&column); err != nil {
		t.Fatal(err)
	}
	wantColumn := map[string]any{
		"name": "orders ✓", "description": "line one\nline \"two\"", "url": "https://example.com/hooks/{eventType}?q=1&r=ü",
		"timeoutSeconds": 7.0, "maxRetries": 11.0,
		"retrySchedule": []any{"30s", "1m30s", "1.5s", "24h"},
		"method":        "PUT", "contentType": "form", "bodyTemplate": `{"id": "{eventId}"}`,
		"signature":    map[string]any{"scheme": "hmac-body", "header": "X-Signature", "encoding": "base64"},
		"failureLimit": 3.0, "throttle": "2s", "discardAfter": "5m", "lossy": true, "allowInvalidCerts": true,
		"level": "warn",
	}
	if !reflect.DeepEqual(column, wantColumn) {
		t.Errorf("settings column\n%v\nwant\n%v", column, wantColumn)
	}

	upd := got
	upd.Settings = webhook.Defaults()
	upd.Name, upd.URL = "renamed", "https://example.org/h"
	updated, err := s.UpdateWebhook(ctx, upd)
	if err != nil {
		t.Fatal(err)
	}
	if got, err = s.GetWebhook(ctx, o.ID, w.ID); err != nil || !reflect.DeepEqual(got.Settings, upd.Settings) ||
		!reflect.DeepEqual(updated.Settings, upd.Settings) {
		t.Fatalf("after update: %+v, %v; want %+v", got.Settings, err, upd.Settings)
	}
}
