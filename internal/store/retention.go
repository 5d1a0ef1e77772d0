package store

import (
	"context"
	"time"
)

// Deleted counts the rows a retention step deleted, by table.
type Deleted struct {
	Events           int64 `json:"events"`
	Deliveries       int64 `json:"deliveries"`
	Attempts         int64 `json:"attempts"`
	Batches          int64 `json:"batches"`
	BatchAttempts    int64 `json:"batchAttempts"`
	Replays          int64 `json:"replays"`
	ReplayDeliveries int64 `json:"replayDeliveries"`
}

// Add adds o's counts to d's.
func (d *Deleted) Add(o Deleted) {
	d.Events += o.Events
	d.Deliveries += o.Deliveries
	d.Attempts += o.Attempts
	d.Batches += o.Batches
	d.BatchAttempts += o.BatchAttempts
	d.Replays += o.Replays
	d.ReplayDeliveries += o.ReplayDeliveries
}

// Total is the number of rows counted.
func (d Deleted) Total() int64 {
	return d.Events + d.Deliveries + d.Attempts + d.Batches + d.BatchAttempts + d.Replays + d.ReplayDeliveries
}

// The retention steps (HOOKD_RETENTION). Each deletes at most limit rows of its table in
// one statement, oldest first, with the rows that hang off them (so one call may delete
// more rows in all: a delivery's attempts, a batch's attempts), and says whether it
// reached limit: call it again until it does not. Run them in this order, since each
// later one deletes only what the earlier ones left without children: deliveries,
// batches, events, replays. Migration 013 indexes where each starts; every deletion is
// by key, so a statement's work is bounded by limit, not by the table's size.
//
// A delivery or batch locked by someone else (a delivery being retried this instant) is
// skipped, not waited for: the next run deletes it if it still qualifies. Each is
// re-checked under its lock, so one retried or replayed meanwhile is kept. Nothing adds
// a delivery to an existing event, nor changes a finished replay.

// DeleteExpiredDeliveries deletes up to limit finished deliveries (succeeded, failed,
// canceled) whose last change (updated_at: reaching their final status, or a later
// retry or replay) is before before, with their attempts and their rows in finished
// replays. A delivery still pending or retrying is never deleted, whatever its age, nor
// one a running replay has yet to resend.
func (s *Store) DeleteExpiredDeliveries(ctx context.Context, before time.Time, limit int) (Deleted, bool, error) {
	var d Deleted
	err := s.pool.QueryRow(ctx, deleteExpiredDeliveriesSQL, before, limit).Scan(&d.Deliveries, &d.Attempts, &d.ReplayDeliveries)
	if err != nil {
		return Deleted{}, false, wrap("delete expired deliveries", err)
	}
	return d, d.Deliveries >= int64(limit), nil
}

// DeleteExpiredBatches deletes up to limit closed batches created before before whose
// deliveries are all gone (see DeleteExpiredDeliveries), with their attempts. A batch
// still open, or with a delivery left, is kept.
func (s *Store) DeleteExpiredBatches(ctx context.Context, before time.Time, limit int) (Deleted, bool, error) {
	var d Deleted
	err := s.pool.QueryRow(ctx, deleteExpiredBatchesSQL, before, limit).Scan(&d.Batches, &d.BatchAttempts)
	if err != nil {
		return Deleted{}, false, wrap("delete expired batches", err)
	}
	return d, d.Batches >= int64(limit), nil
}

// EventCursor is where DeleteExpiredEvents stopped: the creation time and seq of the
// last event it examined. The zero value starts at the oldest event.
type EventCursor struct {
	CreatedAt time.Time
	Seq       int64
}

// DeleteExpiredEvents examines up to limit events created before before, oldest first
// from after, and deletes those that have no delivery left (see DeleteExpiredDeliveries):
// an event is kept as long as any of its deliveries is. Once it is gone, its id may be
// posted again as a new event. It returns where it stopped, to start the next call from,
// and whether it examined limit events (call it again): the events kept are examined once
// per pass, not once per statement.
func (s *Store) DeleteExpiredEvents(ctx context.Context, before time.Time, after EventCursor, limit int) (Deleted, EventCursor, bool, error) {
	var d Deleted
	var scanned int64
	next := after
	err := s.pool.QueryRow(ctx, deleteExpiredEventsSQL, before, limit, after.CreatedAt, after.Seq).
		Scan(&d.Events, &scanned, &next.CreatedAt, &next.Seq)
	if err != nil {
		return Deleted{}, after, false, wrap("delete expired events", err)
	}
	return d, next, scanned >= int64(limit), nil
}

// DeleteExpiredReplays deletes the replays that finished before before (completed,
// canceled or failed; a running one is kept whatever its age): up to limit of their
// replay_deliveries rows, then, once a replay has none left, the replay, up to limit of
// them.
func (s *Store) DeleteExpiredReplays(ctx context.Context, before time.Time, limit int) (Deleted, bool, error) {
	var d Deleted
	tag, err := s.pool.Exec(ctx, deleteExpiredReplayRowsSQL, before, limit)
	if err != nil {
		return Deleted{}, false, wrap("delete expired replay deliveries", err)
	}
	if d.ReplayDeliveries = tag.RowsAffected(); d.ReplayDeliveries >= int64(limit) {
		return d, true, nil
	}
	tag, err = s.pool.Exec(ctx, deleteExpiredReplaysSQL, before, limit)
	if err != nil {
		return Deleted{}, false, wrap("delete expired replays", err)
	}
	d.Replays = tag.RowsAffected()
	return d, d.Replays >= int64(limit), nil
}

// The statements of the retention steps: $1 is the cutoff, $2 the limit.
const (
	deleteExpiredDeliveriesSQL = `
WITH doomed AS (
    SELECT d.id FROM deliveries d
    WHERE d.status IN ('succeeded', 'failed', 'canceled') AND d.updated_at < $1
      AND NOT EXISTS (
          SELECT 1 FROM replay_deliveries rd JOIN replays r ON r.id = rd.replay_id
          WHERE rd.delivery_id = d.id AND r.status = 'running')
    ORDER BY d.updated_at
    LIMIT $2
    FOR UPDATE OF d SKIP LOCKED
), gone_attempts AS (
    DELETE FROM attempts WHERE delivery_id = ANY (ARRAY(SELECT id FROM doomed)) RETURNING 1
), gone_replay_rows AS (
    DELETE FROM replay_deliveries WHERE delivery_id = ANY (ARRAY(SELECT id FROM doomed)) RETURNING 1
), gone AS (
    DELETE FROM deliveries WHERE id = ANY (ARRAY(SELECT id FROM doomed)) RETURNING 1
)
SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM gone_attempts),
    (SELECT count(*) FROM gone_replay_rows)`
	deleteExpiredBatchesSQL = `
WITH doomed AS (
    SELECT b.id FROM batches b
    WHERE b.state = 'closed' AND b.created_at < $1
      AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.batch_id = b.id)
    ORDER BY b.created_at
    LIMIT $2
    FOR UPDATE OF b SKIP LOCKED
), gone_attempts AS (
    DELETE FROM batch_attempts WHERE batch_id = ANY (ARRAY(SELECT id FROM doomed)) RETURNING 1
), gone AS (
    DELETE FROM batches WHERE id = ANY (ARRAY(SELECT id FROM doomed)) RETURNING 1
)
SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM gone_attempts)`
	deleteExpiredEventsSQL = `
WITH scanned AS (
    SELECT e.org_id, e.id, e.created_at, e.seq FROM events e
    WHERE e.created_at < $1 AND (e.created_at, e.seq) > ($3, $4)
    ORDER BY e.created_at, e.seq
    LIMIT $2
), gone AS (
    DELETE FROM events e USING scanned s
    WHERE e.org_id = s.org_id AND e.id = s.id
      AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.org_id = e.org_id AND d.event_id = e.id)
    RETURNING 1
), last AS (
    SELECT created_at, seq FROM scanned ORDER BY created_at DESC, seq DESC LIMIT 1
)
SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM scanned),
    COALESCE((SELECT created_at FROM last), $3), COALESCE((SELECT seq FROM last), $4)`
	deleteExpiredReplayRowsSQL = `
DELETE FROM replay_deliveries WHERE ctid = ANY (ARRAY(
    SELECT rd.ctid FROM replays r JOIN replay_deliveries rd ON rd.replay_id = r.id
    WHERE r.status <> 'running' AND r.finished_at < $1
    LIMIT $2))`
	deleteExpiredReplaysSQL = `
WITH doomed AS (
    SELECT r.id FROM replays r
    WHERE r.status <> 'running' AND r.finished_at < $1
      AND NOT EXISTS (SELECT 1 FROM replay_deliveries rd WHERE rd.replay_id = r.id)
    ORDER BY r.finished_at
    LIMIT $2
    FOR UPDATE OF r SKIP LOCKED
)
DELETE FROM replays r USING doomed WHERE r.id = doomed.id`
)
