package store_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/ids"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
	"github.com/hookd/hookd/internal/webhook"
)

// retentionFixture ages rows and records attempts for the retention tests.
type retentionFixture struct {
	t     *testing.T
	s     *store.Store
	orgID string
}

// exec runs sql or fails the test.
func (f retentionFixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.s.Pool().Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

// attempts records n attempts of d, the last one leaving it with status.
func (f retentionFixture) attempts(d store.Delivery, n int, status string) {
	f.t.Helper()
	for i := range n {
		u := store.DeliveryUpdate{Status: store.StatusRetrying}
		if i == n-1 {
			u.Status = status
		}
		code := 500
		if _, err := f.s.RecordAttempt(context.Background(), store.Attempt{DeliveryID: d.ID, ResponseStatus: &code}, u); err != nil {
			f.t.Fatal(err)
		}
	}
}

// age sets a delivery's creation and last change to at, the change to changed.
func (f retentionFixture) age(d store.Delivery, created, changed time.Time) {
	f.t.Helper()
	f.exec(`UPDATE deliveries SET created_at = $2, updated_at = $3 WHERE id = $1`, d.ID, created, changed)
}

func (f retentionFixture) ageEvent(id string, at time.Time) {
	f.t.Helper()
	f.exec(`UPDATE events SET created_at = $3 WHERE org_id = $1 AND id = $2`, f.orgID, id, at)
}

// exists says whether table has a row where column = value.
func (f retentionFixture) exists(table, column, value string) bool {
	f.t.Helper()
	var ok bool
	if err := f.s.Pool().QueryRow(context.Background(),
		fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM %s WHERE %s = $1)`, table, column), value).Scan(&ok); err != nil {
		f.t.Fatal(err)
	}
	return ok
}

// deleteAll runs the retention steps in order until each is done, as the activity does,
// and returns what they deleted and how many statements they took.
func deleteAll(t *testing.T, s *store.Store, before time.Time, limit int) (store.Deleted, int) {
	t.Helper()
	var cursor store.EventCursor
	events := func(ctx context.Context, before time.Time, limit int) (d store.Deleted, more bool, err error) {
		d, cursor, more, err = s.DeleteExpiredEvents(ctx, before, cursor, limit)
		return d, more, err
	}
	steps := []func(context.Context, time.Time, int) (store.Deleted, bool, error){
		s.DeleteExpiredDeliveries, s.DeleteExpiredBatches, events, s.DeleteExpiredReplays,
	}
	var total store.Deleted
	statements := 0
	for _, step := range steps {
		for more := true; more; {
			if statements++; statements > 100 {
				t.Fatalf("more than 100 statements; deleted %+v", total)
			}
			var d store.Deleted
			var err error
			d, more, err = step(context.Background(), before, limit)
			if err != nil {
				t.Fatal(err)
			}
			total.Add(d)
		}
	}
	return total, statements
}

// TestRetentionDeletesWhatIsFinishedAndOld lays rows on both sides of the cutoff and checks
// that exactly the old finished ones go, with what hangs off them.
func TestRetentionDeletesWhatIsFinishedAndOld(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	org := newOrg(t, s)
	f := retentionFixture{t: t, s: s, orgID: org.ID}
	newEventType(t, s, org.ID, "nobody.listens")
	w1 := newWebhook(t, s, org.ID, nil, "a.b")
	w2 := newWebhook(t, s, org.ID, nil, "a.b")
	bw := newWebhook(t, s, org.ID, throttled(time.Minute), "c.d")

	now := time.Now()
	cutoff := now.Add(-30 * 24 * time.Hour)
	old, recent := now.Add(-40*24*time.Hour), now.Add(-24*time.Hour)

	// Old, every delivery finished: the event, its deliveries and their attempts go.
	done := ingest(t, s, org.ID, "old-done", "a.b")
	doneOK, doneFailed := deliveryOf(t, done, w1.ID), deliveryOf(t, done, w2.ID)
	f.attempts(doneOK, 1, store.StatusSucceeded)
	f.attempts(doneFailed, 3, store.StatusFailed)
	f.age(doneOK, old, old)
	f.age(doneFailed, old, old)
	f.ageEvent("old-done", old)

	// Old, one delivery still retrying: it and the event stay; its finished sibling goes.
	mixed := ingest(t, s, org.ID, "old-retrying", "a.b")
	mixedDone, mixedRetrying := deliveryOf(t, mixed, w1.ID), deliveryOf(t, mixed, w2.ID)
	f.attempts(mixedDone, 2, store.StatusCanceled)
	f.attempts(mixedRetrying, 2, store.StatusRetrying)
	f.age(mixedDone, old, old)
	f.age(mixedRetrying, old, old)
	f.ageEvent("old-retrying", old)

	// Old and never attempted (pending): kept, whatever its age.
	pending := ingest(t, s, org.ID, "old-pending", "a.b")
	for _, d := range pending.Deliveries {
		f.age(d, old, old)
	}
	f.ageEvent("old-pending", old)

	// Old but retried yesterday: its last change is recent, so it stays, with its event.
	retried := ingest(t, s, org.ID, "old-retried", "a.b")
	for _, d := range retried.Deliveries {
		f.attempts(d, 1, store.StatusSucceeded)
		f.age(d, old, recent)
	}
	f.ageEvent("old-retried", old)

	// New and finished: kept.
	fresh := ingest(t, s, org.ID, "new-done", "a.b")
	for _, d := range fresh.Deliveries {
		f.attempts(d, 1, store.StatusFailed)
		f.age(d, recent, recent)
	}
	f.ageEvent("new-done", recent)

	// Old events nobody subscribed to: they go; a new one stays.
	ingest(t, s, org.ID, "old-unheard", "nobody.listens")
	f.ageEvent("old-unheard", old)
	ingest(t, s, org.ID, "new-unheard", "nobody.listens")

	// A closed batch whose members all finished long ago goes with its attempts; one
	// whose member is still retrying stays.
	batchDone := deliveryOf(t, ingest(t, s, org.ID, "old-batched", "c.d"), bw.ID)
	f.closeBatch(batchDone.BatchID, []string{batchDone.ID}, store.StatusFailed)
	f.age(batchDone, old, old)
	f.ageEvent("old-batched", old)
	batchOn := deliveryOf(t, ingest(t, s, org.ID, "old-batched-retrying", "c.d"), bw.ID)
	f.closeBatch(batchOn.BatchID, []string{batchOn.ID}, store.StatusRetrying)
	f.age(batchOn, old, old)
	f.ageEvent("old-batched-retrying", old)
	f.exec(`UPDATE batches SET created_at = $1`, old)

	// Replays: one finished long ago goes with its rows (not the deliveries they name);
	// a running one keeps the old finished delivery it has yet to resend; one finished
	// yesterday stays.
	stillToResend := deliveryOf(t, ingest(t, s, org.ID, "old-in-running-replay", "a.b"), w1.ID)
	f.attempts(stillToResend, 1, store.StatusFailed)
	f.age(stillToResend, old, old)
	f.ageEvent("old-in-running-replay", old)
	oldReplay, running, recentReplay := f.replay("completed", &old, fresh.Deliveries[0].ID),
		f.replay("running", nil, stillToResend.ID), f.replay("canceled", &recent, fresh.Deliveries[1].ID)
	f.exec(`UPDATE replays SET created_at = $1`, old)

	got, _ := deleteAll(t, s, cutoff, 1000)
	want := store.Deleted{
		Events:     3, // old-done, old-unheard, old-batched
		Deliveries: 4, // doneOK, doneFailed, mixedDone, batchDone
		Attempts:   1 + 3 + 2,
		Batches:    1, BatchAttempts: 1,
		Replays: 1, ReplayDeliveries: 1,
	}
	if got != want {
		t.Errorf("deleted %+v, want %+v", got, want)
	}

	for _, id := range []string{doneOK.ID, doneFailed.ID, mixedDone.ID, batchDone.ID} {
		if f.exists("deliveries", "id", id) || f.exists("attempts", "delivery_id", id) {
			t.Errorf("delivery %s or its attempts are still there", id)
		}
	}
	for _, id := range []string{"old-done", "old-unheard", "old-batched"} {
		if f.exists("events", "id", id) {
			t.Errorf("event %s is still there", id)
		}
	}
	kept := []string{mixedRetrying.ID, stillToResend.ID}
	for _, res := range []store.IngestResult{pending, retried, fresh} {
		for _, d := range res.Deliveries {
			kept = append(kept, d.ID)
		}
	}
	for _, id := range append(kept, batchOn.ID) {
		if !f.exists("deliveries", "id", id) {
			t.Errorf("delivery %s was deleted", id)
		}
	}
	for _, id := range []string{mixedRetrying.ID, retried.Deliveries[0].ID, fresh.Deliveries[0].ID, stillToResend.ID} {
		if !f.exists("attempts", "delivery_id", id) {
			t.Errorf("the attempts of delivery %s were deleted", id)
		}
	}
	for _, id := range []string{"old-retrying", "old-pending", "old-retried", "new-done", "new-unheard",
		"old-batched-retrying", "old-in-running-replay"} {
		if !f.exists("events", "id", id) {
			t.Errorf("event %s was deleted", id)
		}
	}
	if f.exists("batches", "id", batchDone.BatchID) || f.exists("batch_attempts", "batch_id", batchDone.BatchID) {
		t.Errorf("batch %s or its attempts are still there", batchDone.BatchID)
	}
	if !f.exists("batches", "id", batchOn.BatchID) || !f.exists("batch_attempts", "batch_id", batchOn.BatchID) {
		t.Errorf("batch %s or its attempts were deleted", batchOn.BatchID)
	}
	if f.exists("replays", "id", oldReplay) || f.exists("replay_deliveries", "replay_id", oldReplay) {
		t.Errorf("replay %s or its rows are still there", oldReplay)
	}
	for _, id := range []string{running, recentReplay} {
		if !f.exists("replays", "id", id) || !f.exists("replay_deliveries", "replay_id", id) {
			t.Errorf("replay %s or its rows were deleted", id)
		}
	}

	// A second pass finds nothing more.
	if again, n := deleteAll(t, s, cutoff, 1000); again != (store.Deleted{}) || n != 4 {
		t.Errorf("second pass deleted %+v in %d statements, want nothing in 4", again, n)
	}
}

// closeBatch has batch id make one attempt for its members, which leaves them with
// status (closing the batch).
func (f retentionFixture) closeBatch(id string, members []string, status string) {
	f.t.Helper()
	ctx := context.Background()
	a := store.Attempt{ID: ids.New(ids.Attempt)}
	if _, err := f.s.BeginBatchAttempt(ctx, id, a); err != nil {
		f.t.Fatal(err)
	}
	code := 500
	a.ResponseStatus = &code
	if _, err := f.s.CompleteBatchAttempt(ctx, id, members, a, store.DeliveryUpdate{Status: status}); err != nil {
		f.t.Fatal(err)
	}
	f.exec(`UPDATE batches SET state = 'closed' WHERE id = $1`, id)
}

// replay inserts a replay with status, finished at finished (nil: not finished), that
// matched the deliveries, and returns its id.
func (f retentionFixture) replay(status string, finished *time.Time, deliveryIDs ...string) string {
	f.t.Helper()
	id := ids.New(ids.Replay)
	f.exec(`INSERT INTO replays (id, org_id, status, rate_per_second, matched, finished_at)
        VALUES ($1, $2, $3, 50, $4, $5)`, id, f.orgID, status, len(deliveryIDs), finished)
	f.exec(`INSERT INTO replay_deliveries (replay_id, position, delivery_id)
        SELECT $1, n, d FROM unnest($2::text[]) WITH ORDINALITY AS m (d, n)`, id, deliveryIDs)
	return id
}

// TestRetentionDeletesInBoundedBatches: a limit smaller than the backlog takes several
// statements, none deleting more than the limit of its table.
func TestRetentionDeletesInBoundedBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	org := newOrg(t, s)
	f := retentionFixture{t: t, s: s, orgID: org.ID}
	newWebhook(t, s, org.ID, nil, "a.b")
	old := time.Now().Add(-40 * 24 * time.Hour)
	const n = 7
	for i := range n {
		res := ingest(t, s, org.ID, fmt.Sprintf("e%d", i), "a.b")
		f.attempts(res.Deliveries[0], 2, store.StatusFailed)
		f.age(res.Deliveries[0], old, old)
		f.ageEvent(fmt.Sprintf("e%d", i), old)
	}
	cutoff := time.Now().Add(-time.Hour)

	var rounds []int64
	for more := true; more; {
		d, m, err := s.DeleteExpiredDeliveries(ctx, cutoff, 3)
		if err != nil {
			t.Fatal(err)
		}
		if d.Attempts != 2*d.Deliveries {
			t.Errorf("round deleted %+v: want 2 attempts per delivery", d)
		}
		rounds, more = append(rounds, d.Deliveries), m
		if len(rounds) > n {
			t.Fatalf("rounds %v: no end", rounds)
		}
	}
	if fmt.Sprint(rounds) != "[3 3 1]" {
		t.Errorf("delivery rounds %v, want [3 3 1]", rounds)
	}
	rounds = nil
	var cursor store.EventCursor
	for more := true; more; {
		d, next, m, err := s.DeleteExpiredEvents(ctx, cutoff, cursor, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(rounds) > 0 && !(next.CreatedAt.After(cursor.CreatedAt) || next.Seq > cursor.Seq) {
			t.Errorf("cursor %+v after %+v: not forward", next, cursor)
		}
		rounds, more, cursor = append(rounds, d.Events), m, next
		if len(rounds) > n {
			t.Fatalf("rounds %v: no end", rounds)
		}
	}
	if fmt.Sprint(rounds) != "[3 3 1]" {
		t.Errorf("event rounds %v, want [3 3 1]", rounds)
	}
	for _, table := range []string{"events", "deliveries", "attempts"} {
		if c := count(t, s, table); c != 0 {
			t.Errorf("%d rows left in %s", c, table)
		}
	}
}

// A delivery being retried while the retention runs is skipped, not waited for, and is
// kept once the retry has moved it.
func TestRetentionSkipsARowInUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	org := newOrg(t, s)
	f := retentionFixture{t: t, s: s, orgID: org.ID}
	newWebhook(t, s, org.ID, nil, "a.b")
	d := ingest(t, s, org.ID, "e", "a.b").Deliveries[0]
	f.attempts(d, 1, store.StatusFailed)
	old := time.Now().Add(-40 * 24 * time.Hour)
	f.age(d, old, old)

	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `UPDATE deliveries SET status = 'retrying', updated_at = now() WHERE id = $1`, d.ID); err != nil {
		t.Fatal(err)
	}
	got, more, err := s.DeleteExpiredDeliveries(ctx, time.Now().Add(-time.Hour), 10)
	if err != nil || more || got != (store.Deleted{}) {
		t.Fatalf("while the row is locked: %+v, %v, %v; want nothing deleted", got, more, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.DeleteExpiredDeliveries(ctx, time.Now().Add(-time.Hour), 10); err != nil || got != (store.Deleted{}) {
		t.Fatalf("after the retry: %+v, %v; want nothing deleted", got, err)
	}
	if !f.exists("deliveries", "id", d.ID) {
		t.Fatal("the retried delivery was deleted")
	}
}

// BenchmarkDeleteExpired builds a sizable history (HOOKD_RETENTION_BENCH_EVENTS events,
// default 300,000, each with two deliveries of two attempts: 60% finished 40 days ago,
// 10% old but still retrying, 30% new; a throttled webhook's closed batches; a finished
// replay of 50,000 old deliveries and a running one of 10,000 spread among them), logs the plan of each
// retention statement with a limit of 1,000 (EXPLAIN ANALYZE, rolled back), then times
// the deliveries statement, rolled back each time: run with -bench DeleteExpired -v.
func BenchmarkDeleteExpired(b *testing.B) {
	ctx := context.Background()
	s := storetest.New(b)
	n := 300_000
	if v := os.Getenv("HOOKD_RETENTION_BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	org, err := s.CreateOrganization(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.CreateEventType(ctx, store.EventType{OrgID: org.ID, Name: "a.b"}); err != nil {
		b.Fatal(err)
	}
	for i := range 2 {
		w := store.Webhook{ID: fmt.Sprint("wh_", i), OrgID: org.ID, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
			Settings: webhook.Settings{Name: "b", URL: "https://x", Events: []string{"a.b"}, TimeoutSeconds: 30}}
		if _, err := s.CreateWebhook(ctx, w); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	for _, q := range []string{
		// i % 10: 0-5 old and finished, 6 old and retrying, 7-9 new and finished.
		`INSERT INTO events (org_id, id, type, occurred_at, data, created_at)
         SELECT $1, 'e' || i, 'a.b', now(), '{}',
             now() - CASE WHEN i % 10 < 7 THEN interval '40 days' ELSE interval '1 day' END
                   - make_interval(secs => i % 86400)
         FROM generate_series(1, $2) i`,
		`INSERT INTO batches (id, org_id, webhook_id, state, send_at, workflow_started, created_at)
         SELECT 'b' || i, $1, 'wh_1', 'closed', now(), true, now() - interval '40 days'
         FROM generate_series(1, $2 / 100) i`,
		`INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status, attempt_count,
             workflow_started, batch_id, created_at, updated_at)
         SELECT 'd' || w || '_' || e.seq, $1, 'wh_' || w, e.id, 'a.b',
             CASE WHEN e.seq % 10 = 6 THEN 'retrying' WHEN e.seq % 3 = 0 THEN 'failed' ELSE 'succeeded' END,
             2, true, CASE WHEN w = 1 AND e.seq % 10 < 6 THEN 'b' || (e.seq % ($2 / 100) + 1) END,
             e.created_at, e.created_at + interval '1 minute'
         FROM events e, generate_series(0, 1) w`,
		`INSERT INTO attempts (id, delivery_id, org_id, number, trigger, requested_at, request_url,
             request_method, response_status, response_body, outcome, created_at)
         SELECT 'a' || n || d.id, d.id, d.org_id, n, 'auto', d.created_at, 'https://x', 'POST', 500,
             repeat('x', 200), 'retry', d.created_at
         FROM deliveries d, generate_series(1, 2) n WHERE d.batch_id IS NULL`,
		`INSERT INTO batch_attempts (id, batch_id, org_id, number, trigger, state, requested_at, created_at)
         SELECT 'ba' || b.id, b.id, b.org_id, 1, 'auto', 'completed', b.created_at, b.created_at FROM batches b`,
		`INSERT INTO replays (id, org_id, status, rate_per_second, matched, created_at, finished_at)
         VALUES ('rpl_done', $1, 'completed', 50, 50000, now() - interval '40 days', now() - interval '39 days'),
                ('rpl_running', $1, 'running', 50, 10000, now() - interval '1 hour', NULL)`,
		`INSERT INTO replay_deliveries (replay_id, position, delivery_id)
         SELECT 'rpl_done', row_number() OVER (), id FROM (
             SELECT id FROM deliveries WHERE status <> 'retrying' AND updated_at < now() - interval '30 days' LIMIT 50000) x
         UNION ALL
         SELECT 'rpl_running', row_number() OVER (), id FROM (
             SELECT id FROM deliveries WHERE status <> 'retrying' AND updated_at < now() - interval '30 days'
                 AND seq % 20 = 0 LIMIT 10000) y`,
		`ANALYZE`,
	} {
		var args []any
		if strings.Contains(q, "$2") {
			args = []any{org.ID, n}
		} else if strings.Contains(q, "$1") {
			args = []any{org.ID}
		}
		if _, err := s.Pool().Exec(ctx, q, args...); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	var sizes string
	if err := s.Pool().QueryRow(ctx, `SELECT format('%s events, %s deliveries, %s attempts, %s batches',
        (SELECT count(*) FROM events), (SELECT count(*) FROM deliveries), (SELECT count(*) FROM attempts),
        (SELECT count(*) FROM batches))`).Scan(&sizes); err != nil {
		b.Fatal(err)
	}
	b.Logf("fixture: %s, in %s", sizes, time.Since(start).Round(time.Second))

	cutoff := time.Now().Add(-30 * 24 * time.Hour)
	// rolledBack runs q in a transaction it rolls back, and returns its rows as lines.
	rolledBack := func(q string) []string {
		b.Helper()
		tx, err := s.Pool().Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer tx.Rollback(ctx)
		args := []any{cutoff, 1000}
		if strings.Contains(q, "$4") { // the events step's cursor: from the start
			args = append(args, time.Time{}, 0)
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			b.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			b.Fatal(err)
		}
		return lines
	}
	for _, st := range store.RetentionSQL {
		plan := rolledBack("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + st.SQL)
		b.Logf("%s, limit 1000:\n%s", st.Name, strings.Join(plan, "\n"))
	}
	b.ResetTimer()
	for b.Loop() {
		rolledBack("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + store.RetentionSQL[0].SQL)
	}
}
