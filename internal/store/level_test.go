package store_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/internal/webhook"
)

// TestFanOutByLevel: a webhook receives exactly the events at or above its level
// (webhook.Levels: trace < debug < info < warn < error), whatever its events policy; an
// event without a level is info, and a webhook without one (none given, or a row written
// before levels existed) is trace. A ping ignores levels.
func TestFanOutByLevel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	newEventType(t, s, o.ID, "mail.event")

	atLevel := map[string]string{} // webhook id → the level it should behave as
	for _, level := range webhook.Levels {
		w := newWebhook(t, s, o.ID, func(w *store.Webhook) { w.Level = level }, "mail.event")
		atLevel[w.ID] = level
		excl := newWebhook(t, s, o.ID, func(w *store.Webhook) { w.Level, w.EventsPolicy = level, webhook.EventsExclude })
		atLevel[excl.ID] = level
	}
	unset := newWebhook(t, s, o.ID, nil, "mail.event") // Level "": the store's default
	atLevel[unset.ID] = webhook.DefaultLevel
	if unset.Level != webhook.DefaultLevel {
		t.Errorf("a webhook created without a level reads level %q, want %q", unset.Level, webhook.DefaultLevel)
	}
	legacy := newWebhook(t, s, o.ID, func(w *store.Webhook) { w.Level = "error" }, "mail.event")
	if _, err := s.Pool().Exec(ctx, `UPDATE webhooks SET settings = settings - 'level' WHERE id = $1`, legacy.ID); err != nil {
		t.Fatal(err)
	}
	atLevel[legacy.ID] = webhook.DefaultLevel // stored before levels: receives everything
	// Not receiving whatever the level: another type, and disabled.
	newEventType(t, s, o.ID, "mail.other")
	newWebhook(t, s, o.ID, func(w *store.Webhook) { w.Level = "trace" }, "mail.other")
	newWebhook(t, s, o.ID, func(w *store.Webhook) { w.Level, w.Status = "trace", store.WebhookDisabled }, "mail.event")

	got, err := s.GetWebhook(ctx, o.ID, legacy.ID)
	if err != nil || got.Level != webhook.DefaultLevel {
		t.Fatalf("a row without a level reads level %q (%v), want %q", got.Level, err, webhook.DefaultLevel)
	}

	for _, eventLevel := range append(slices.Clone(webhook.Levels), "") {
		name := eventLevel
		if name == "" {
			name = "none given"
		}
		t.Run(name, func(t *testing.T) {
			res, err := s.IngestEvent(ctx, store.Event{OrgID: o.ID, ID: "ev-" + name, Type: "mail.event", Level: eventLevel})
			if err != nil {
				t.Fatal(err)
			}
			effective := eventLevel
			if effective == "" {
				effective = webhook.DefaultEventLevel
			}
			if res.Event.Level != effective {
				t.Errorf("event level %q, want %q", res.Event.Level, effective)
			}
			stored, _, err := s.GetEvent(ctx, o.ID, res.Event.ID)
			if err != nil || stored.Level != effective {
				t.Errorf("stored event level %q (%v), want %q", stored.Level, err, effective)
			}
			want := map[string]bool{}
			for id, level := range atLevel {
				if slices.Index(webhook.Levels, level) <= slices.Index(webhook.Levels, effective) {
					want[id] = true
				}
			}
			gotIDs := webhookIDs(res.Deliveries)
			if !maps.Equal(gotIDs, want) {
				t.Errorf("an %s event went to %d webhooks, want %d:\n got  %v\n want %v",
					effective, len(gotIDs), len(want), levelsOf(gotIDs, atLevel), levelsOf(want, atLevel))
			}
		})
	}

	t.Run("ping", func(t *testing.T) {
		for id, level := range atLevel {
			if level != "error" {
				continue
			}
			if _, _, err := s.CreatePing(ctx, o.ID, id); err != nil {
				t.Fatalf("ping a webhook of level error: %v", err)
			}
		}
	})
}

// levelsOf lists the levels of the webhooks in ids, sorted, for a readable failure.
func levelsOf(ids map[string]bool, atLevel map[string]string) []string {
	var out []string
	for id := range ids {
		out = append(out, atLevel[id])
	}
	slices.Sort(out)
	return out
}

// TestEventLevelRefusedByStore: a level outside webhook.Levels that got past the API is
// refused by the database and stores nothing.
func TestEventLevelRefusedByStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	newEventType(t, s, o.ID, "mail.event")
	newWebhook(t, s, o.ID, nil, "mail.event")
	for _, level := range []string{"fatal", "INFO", "Info", " info"} {
		if _, err := s.IngestEvent(ctx, store.Event{OrgID: o.ID, Type: "mail.event", Level: level}); err == nil {
			t.Errorf("level %q stored", level)
		}
	}
	if n := count(t, s, "events"); n != 0 {
		t.Errorf("%d events stored", n)
	}
	if n := count(t, s, "deliveries"); n != 0 {
		t.Errorf("%d deliveries stored", n)
	}
}
