package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/ids"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/internal/webhook"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// migrateAndOpen migrates the database at url to the latest version and opens a store on
// it (which seals what the upgrade leaves to it), closed when the test ends.
func migrateAndOpen(t *testing.T, ctx context.Context, url string) *store.Store {
	t.Helper()
	if err := store.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(ctx, url, storetest.Box())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func newOrg(t *testing.T, s *store.Store) store.Organization {
	t.Helper()
	o, err := s.CreateOrganization(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func newEventType(t *testing.T, s *store.Store, orgID, name string) {
	t.Helper()
	if _, err := s.CreateEventType(context.Background(), store.EventType{OrgID: orgID, Name: name}); err != nil {
		t.Fatal(err)
	}
}

// newWebhook creates an enabled webhook subscribed with policy include to events,
// after applying edit (if any).
func newWebhook(t *testing.T, s *store.Store, orgID string, edit func(*store.Webhook), events ...string) store.Webhook {
	t.Helper()
	w := store.Webhook{
		ID:    ids.New(ids.Webhook),
		OrgID: orgID,
		Settings: webhook.Settings{
			Name:           "receiver",
			URL:            "https://example.com/hook",
			Events:         events,
			EventsPolicy:   "include",
			Headers:        map[string]string{"X-Team": "core"},
			TimeoutSeconds: 30,
			MaxRetries:     5,
			RetrySchedule:  []time.Duration{time.Minute, 5 * time.Minute},
		},
		Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	}
	if edit != nil {
		edit(&w)
	}
	// The store writes only webhooks whose event types exist (see DeleteEventType).
	if _, err := s.Pool().Exec(context.Background(), `
        INSERT INTO event_types (org_id, name) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
		w.OrgID, w.Events); err != nil {
		t.Fatal(err)
	}
	got, err := s.CreateWebhook(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func ingest(t *testing.T, s *store.Store, orgID, id, typ string) store.IngestResult {
	t.Helper()
	res, err := s.IngestEvent(context.Background(), store.Event{OrgID: orgID, ID: id, Type: typ, Data: []byte(`{"n":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// ingestMeanwhile keeps ingesting "a.b" events with ids "late-0", "late-1", ... into org
// until the returned stop is called, so a test can page while rows arrive.
func ingestMeanwhile(t *testing.T, s *store.Store, orgID string) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			if _, err := s.IngestEvent(context.Background(), store.Event{OrgID: orgID, ID: fmt.Sprintf("late-%d", i), Type: "a.b"}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

func count(t *testing.T, s *store.Store, table string) int {
	t.Helper()
	var n int
	if err := s.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

func webhookIDs(ds []store.Delivery) map[string]bool {
	m := map[string]bool{}
	for _, d := range ds {
		m[d.WebhookID] = true
	}
	return m
}
