package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
)

// TestWebhookWriteWaitsForEventTypeDelete: a webhook write naming an event type that a
// deletion holds (its row lock, as DeleteEventType takes it) waits, and once the type is
// gone writes nothing: ErrEventTypeMissing. A name the webhook already had is not
// checked, so a webhook naming a type deleted before this rule can still be renamed.
func TestWebhookWriteWaitsForEventTypeDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	newEventType(t, s, o.ID, "mail.kept")
	existing := newWebhook(t, s, o.ID, nil, "mail.kept")

	for _, write := range []struct {
		name string
		do   func() error
	}{
		{"create", func() error {
			settings := existing.Settings
			settings.Events = []string{"mail.sent", "mail.kept"}
			_, err := s.CreateWebhook(ctx, store.Webhook{ID: "wh_new", OrgID: o.ID, Settings: settings, Secret: existing.Secret})
			return err
		}},
		{"update", func() error {
			w := existing
			w.Events = []string{"mail.kept", "mail.sent"}
			_, err := s.UpdateWebhook(ctx, w)
			return err
		}},
	} {
		t.Run(write.name, func(t *testing.T) {
			newEventType(t, s, o.ID, "mail.sent")
			tx, err := s.Pool().Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx) //nolint:errcheck
			if _, err := tx.Exec(ctx, `SELECT 1 FROM event_types WHERE org_id = $1 AND name = 'mail.sent' FOR UPDATE`, o.ID); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- write.do() }()
			waitForLockWait(t, s)
			if _, err := tx.Exec(ctx, `DELETE FROM event_types WHERE org_id = $1 AND name = 'mail.sent'`, o.ID); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-done; !errors.Is(err, store.ErrEventTypeMissing) {
				t.Fatalf("write naming the deleted type: %v, want ErrEventTypeMissing", err)
			}
			var naming int
			if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM webhooks WHERE 'mail.sent' = ANY (events)`).Scan(&naming); err != nil || naming != 0 {
				t.Fatalf("%d webhooks name the deleted type (%v)", naming, err)
			}
		})
	}

	t.Run("a name it had", func(t *testing.T) {
		if _, err := s.Pool().Exec(ctx, `UPDATE webhooks SET events = '{ghost.type, mail.kept}' WHERE id = $1`, existing.ID); err != nil {
			t.Fatal(err)
		}
		w, err := s.GetWebhook(ctx, o.ID, existing.ID)
		if err != nil {
			t.Fatal(err)
		}
		w.Name = "renamed"
		if _, err := s.UpdateWebhook(ctx, w); err != nil {
			t.Fatalf("rename a webhook naming a type deleted long ago: %v", err)
		}
		w.Events = []string{"ghost.type", "mail.kept", "other.ghost"}
		if _, err := s.UpdateWebhook(ctx, w); !errors.Is(err, store.ErrEventTypeMissing) {
			t.Fatalf("add a missing type: %v, want ErrEventTypeMissing", err)
		}
		w.ID = "wh_nope"
		if _, err := s.UpdateWebhook(ctx, w); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update of no webhook: %v, want ErrNotFound", err)
		}
	})
}
