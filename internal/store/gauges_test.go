package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
)

func TestBacklog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)

	b, err := s.Backlog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b != (store.Backlog{}) {
		t.Fatalf("empty database: %+v, want zeros", b)
	}

	org := newOrg(t, s)
	newWebhook(t, s, org.ID, nil, "a.b")
	newWebhook(t, s, org.ID, nil, "a.b")
	old := ingest(t, s, org.ID, "ev-old", "a.b").Deliveries
	ingest(t, s, org.ID, "ev-new", "a.b")
	done := ingest(t, s, org.ID, "ev-done", "a.b").Deliveries
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := s.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	// ev-old's deliveries are 2h old, one still pending and one retrying since 1h ago's
	// creation; ev-done's, older still, have ended and count for nothing.
	exec(`UPDATE deliveries SET created_at = now() - interval '2 hours' WHERE id = $1`, old[0].ID)
	exec(`UPDATE deliveries SET created_at = now() - interval '1 hour', status = 'retrying' WHERE id = $1`, old[1].ID)
	exec(`UPDATE deliveries SET created_at = now() - interval '3 hours', status = 'succeeded' WHERE id = $1`, done[0].ID)
	exec(`UPDATE deliveries SET created_at = now() - interval '3 hours', status = 'failed' WHERE id = $1`, done[1].ID)
	exec(`INSERT INTO replays (id, org_id, status, rate_per_second, matched, replayed, skipped) VALUES
            ('rp_1', $1, 'running', 50, 100, 30, 5),
            ('rp_2', $1, 'running', 50, 10, 0, 0),
            ('rp_3', $1, 'completed', 50, 1000, 1000, 0),
            ('rp_4', $1, 'running', 50, 0, 0, 0)`, org.ID)

	b, err = s.Backlog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The ages run on PostgreSQL's clock from the UPDATEs above: a minute of slack for a
	// slow machine, no more.
	within := func(what string, got, want time.Duration) {
		t.Helper()
		if got < want || got > want+time.Minute {
			t.Errorf("%s = %v, want %v (+ a minute at most)", what, got, want)
		}
	}
	within("OldestPending", b.OldestPending, 2*time.Hour)
	within("OldestRetrying", b.OldestRetrying, time.Hour)
	if b.RunningReplays != 3 || b.ReplayRemaining != 65+10 {
		t.Errorf("replays: %d running with %d remaining, want 3 with 75", b.RunningReplays, b.ReplayRemaining)
	}
}

// A scrape asks with a short deadline: an unreachable database answers an error within it.
func TestBacklogHonoursTheDeadline(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Backlog(ctx); err == nil {
		t.Fatal("Backlog with a canceled context succeeded")
	}
}
