package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/internal/webhook"
)

// BenchmarkIngestEvent measures the ingest transaction for an event that fans out to
// three webhooks, from parallel callers.
func BenchmarkIngestEvent(b *testing.B) {
	s := storetest.New(b)
	o, err := s.CreateOrganization(context.Background(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	for i := range 3 {
		w := store.Webhook{ID: fmt.Sprint("wh_", i), OrgID: o.ID, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
			Settings: webhook.Settings{Name: "b", URL: "https://x", Events: []string{"a.b"}, TimeoutSeconds: 30}}
		if _, err := s.CreateWebhook(context.Background(), w); err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.IngestEvent(context.Background(), store.Event{
				OrgID: o.ID, ID: fmt.Sprint("e", n.Add(1)), Type: "a.b", Data: []byte(`{"k":"v"}`),
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRecordAttempt measures recording one successful attempt.
func BenchmarkRecordAttempt(b *testing.B) {
	s := storetest.New(b)
	ctx := context.Background()
	o, err := s.CreateOrganization(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	w := store.Webhook{ID: "wh_1", OrgID: o.ID, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		Settings: webhook.Settings{Name: "b", URL: "https://x", Events: []string{"a.b"}, TimeoutSeconds: 30}}
	if _, err := s.CreateWebhook(ctx, w); err != nil {
		b.Fatal(err)
	}
	res, err := s.IngestEvent(ctx, store.Event{OrgID: o.ID, ID: "e", Type: "a.b"})
	if err != nil {
		b.Fatal(err)
	}
	status := 200
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.RecordAttempt(ctx, store.Attempt{DeliveryID: res.Deliveries[0].ID, ResponseStatus: &status},
			store.DeliveryUpdate{Status: store.StatusSucceeded}); err != nil {
			b.Fatal(err)
		}
	}
}
