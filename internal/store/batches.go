package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/ids"
)

// A batch is one request's worth of a throttled webhook's notifications (API.md
// `throttle`). Ingest adds each notification of a throttled webhook to the webhook's open
// batch, opening one if there is none; the batch's first attempt closes it (LoadBatch),
// and from then on its members are fixed and share its attempts (batch_attempts) and
// outcome. The webhook's batch lock (batchLockKey) keeps a notification from joining a
// batch already closed.

// Batch states.
const (
	BatchOpen   = "open"   // taking notifications until its first attempt
	BatchClosed = "closed" // its members are fixed
)

// Limits of one batch: LoadBatch moves the members past either into a new batch, sent
// at once, so no request grows without bound however fast events come (each event is at
// most 256 KiB, so a batch holds at least four).
const (
	MaxBatchEvents = 1000
	MaxBatchBytes  = 1 << 20 // the events' data, summed
)

// Batch is one batch of a throttled webhook.
type Batch struct {
	ID              string
	OrgID           string
	WebhookID       string
	State           string
	SendAt          time.Time // the end of its window: when its first attempt is due
	WorkflowStarted bool
	CreatedAt       time.Time
}

const batchCols = "b.id, b.org_id, b.webhook_id, b.state, b.send_at, b.workflow_started, b.created_at"

func batchDest(b *Batch) []any {
	return []any{&b.ID, &b.OrgID, &b.WebhookID, &b.State, &b.SendAt, &b.WorkflowStarted, &b.CreatedAt}
}

// batchLockKey is the SQL of the advisory lock key of the batches of the webhook whose id
// is the SQL expression webhookID. Ingest holds it shared from before it reads the
// webhook's open batch until it commits the deliveries that join it; the close of a batch
// (LoadBatch) holds it exclusive. So a close waits for the joins in flight, and a join
// that waited on a close reads after it and opens the next batch. An advisory lock, not
// a row lock on the batch: many joins at once cost the lock manager only, no tuple write.
func batchLockKey(webhookID string) string {
	return "hashtextextended('batch:' || " + webhookID + ", 0)"
}

// openBatchesSQL opens a batch, due $4 ms from now, for each webhook of $2 that has no
// open batch, and returns the webhooks it opened one for. Under the shared batch lock an
// open batch stays open; one another transaction opens meanwhile wins (DO NOTHING waits
// for it to commit, so the next statement sees it).
const openBatchesSQL = `
INSERT INTO batches (id, org_id, webhook_id, send_at)
SELECT t.id, $1, t.webhook_id, now() + t.ms * interval '1 millisecond'
FROM unnest($2::text[], $3::text[], $4::bigint[]) AS t (webhook_id, id, ms)
WHERE NOT EXISTS (SELECT FROM batches b WHERE b.webhook_id = t.webhook_id AND b.state = 'open')
ON CONFLICT (webhook_id) WHERE state = 'open' DO NOTHING
RETURNING webhook_id`

// BatchSendAt returns when batch id's window ends (its first attempt is due), or
// ErrNotFound.
func (s *Store) BatchSendAt(ctx context.Context, id string) (time.Time, error) {
	var at time.Time
	err := s.pool.QueryRow(ctx, `SELECT send_at FROM batches WHERE id = $1`, id).Scan(&at)
	return at, wrap("batch send time", err)
}

// BatchMember is one delivery of a batch with its event.
type BatchMember struct {
	Delivery Delivery
	Event    Event
}

// BatchContext is everything one attempt of a batch needs.
type BatchContext struct {
	Batch   Batch
	Webhook Webhook // secrets opened
	// Members are the batch's deliveries still to be sent (pending or retrying), in the
	// order they were created.
	Members []BatchMember
	// Overflow is the batch LoadBatch moved the members past the limits into, nil if none:
	// its workflow is the caller's to start (the reconciler starts it otherwise).
	Overflow *Batch
	// Recorded is the completed attempt recorded under the activity key, as in
	// AttemptContext.
	Recorded *RecordedAttempt
}

// MemberIDs returns the ids of the members' deliveries, in order.
func (bc BatchContext) MemberIDs() []string {
	out := make([]string, len(bc.Members))
	for i, m := range bc.Members {
		out[i] = m.Delivery.ID
	}
	return out
}

// overflowSQL lists the members of batch $1 past the first $2 or past $3 bytes of data
// (never the first), in order.
const overflowSQL = `
SELECT id FROM (
    SELECT d.id, d.seq,
        row_number() OVER w AS n,
        sum(octet_length(e.data::text)) OVER w AS bytes
    FROM deliveries d JOIN events e ON e.org_id = d.org_id AND e.id = d.event_id
    WHERE d.batch_id = $1
    WINDOW w AS (ORDER BY d.seq)
) m
WHERE m.n > $2 OR (m.bytes > $3 AND m.n > 1)
ORDER BY m.seq`

// LoadBatch reads batch id for an attempt. If the batch is open it closes it first, in a
// transaction of its own under the webhook's batch lock (see batchLockKey), which waits
// for the ingests joining it to commit; if no attempt of it was made yet it also moves
// the members past MaxBatchEvents or MaxBatchBytes into a new closed batch due now
// (BatchContext.Overflow). It returns the batch, its webhook, the members still to be
// sent with their events, and the completed attempt recorded under activityKey if there
// is one ("" looks for none). ErrNotFound if the batch is gone (its webhook was deleted).
func (s *Store) LoadBatch(ctx context.Context, id, activityKey string) (BatchContext, error) {
	var bc BatchContext
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var state string
		err := tx.QueryRow(ctx, `SELECT state, pg_advisory_xact_lock(`+batchLockKey("webhook_id")+`)::text
            FROM batches WHERE id = $1`, id).Scan(&state, new(string))
		if err != nil {
			return err
		}
		// A new statement: it sees every join that committed before the lock was granted.
		var (
			wr        webhookRow
			attempted bool
		)
		dest := append(batchDest(&bc.Batch), wr.dest()...)
		err = tx.QueryRow(ctx, `
            SELECT `+batchCols+`, `+webhookCols+`,
                EXISTS (SELECT FROM batch_attempts a WHERE a.batch_id = b.id)
            FROM batches b JOIN webhooks w ON w.id = b.webhook_id
            WHERE b.id = $1 FOR UPDATE OF b`, id).Scan(append(dest, &attempted)...)
		if err != nil {
			return err
		}
		if bc.Webhook, err = s.webhookOf(&wr); err != nil {
			return err
		}
		if bc.Batch.State == BatchOpen {
			if _, err := tx.Exec(ctx, `UPDATE batches SET state = 'closed' WHERE id = $1`, id); err != nil {
				return err
			}
			bc.Batch.State = BatchClosed
		}
		if !attempted {
			bc.Overflow, err = splitBatch(ctx, tx, bc.Batch)
		}
		return err
	})
	if err != nil {
		return BatchContext{}, wrap("load batch", err)
	}
	// Closed: its members are fixed.
	b := &pgx.Batch{}
	b.Queue(`
        SELECT `+deliveryCols+`, `+eventCols+` FROM deliveries d
        JOIN events e ON e.org_id = d.org_id AND e.id = d.event_id
        WHERE d.batch_id = $1 AND d.status IN ('pending', 'retrying')
        ORDER BY d.seq`, id).Query(func(rows pgx.Rows) error {
		var err error
		bc.Members, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (BatchMember, error) {
			var m BatchMember
			err := row.Scan(append(deliveryDest(&m.Delivery), eventDest(&m.Event)...)...)
			return m, err
		})
		return err
	})
	var (
		rec    RecordedAttempt
		number *int
	)
	b.Queue(`
        SELECT a.number, a.response_status, a.error, a.retry_after_ms, COALESCE(a.outcome, '')
        FROM batch_attempts a
        WHERE a.batch_id = $1 AND a.activity_key = NULLIF($2::text, '') AND a.state = 'completed'`,
		id, activityKey).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&number, &rec.ResponseStatus, &rec.Error, &rec.RetryAfterMs, &rec.Outcome)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return BatchContext{}, wrap("load batch members", err)
	}
	if number != nil {
		rec.Number = *number
		bc.Recorded = &rec
	}
	return bc, nil
}

// splitBatch moves the members of b past the limits into a new closed batch due now,
// and returns it (nil if none were past them).
func splitBatch(ctx context.Context, tx pgx.Tx, b Batch) (*Batch, error) {
	rows, err := tx.Query(ctx, overflowSQL, b.ID, MaxBatchEvents, MaxBatchBytes)
	if err != nil {
		return nil, err
	}
	over, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(over) == 0 {
		return nil, err
	}
	var nb Batch
	err = tx.QueryRow(ctx, `
        INSERT INTO batches AS b (id, org_id, webhook_id, state, send_at) VALUES ($1, $2, $3, 'closed', now())
        RETURNING `+batchCols, ids.New(ids.Batch), b.OrgID, b.WebhookID).Scan(batchDest(&nb)...)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE deliveries SET batch_id = $1 WHERE id = ANY ($2)`, nb.ID, over); err != nil {
		return nil, err
	}
	return &nb, nil
}

// beginBatchAttemptSQL does all of BeginBatchAttempt in one statement; the batch's row
// lock serialises the attempts of one batch.
const beginBatchAttemptSQL = `
WITH b AS (
    SELECT id, org_id, webhook_id FROM batches WHERE id = $1 FOR UPDATE
), interrupted AS (
    UPDATE batch_attempts a SET state = 'interrupted', error = $3
    FROM b WHERE a.batch_id = b.id AND a.state = 'sending'
    RETURNING a.id
), a AS (
    INSERT INTO batch_attempts (id, batch_id, org_id, number, trigger, state, requested_at, request_url,
        request_method, request_headers, activity_key, replay_id)
    SELECT $4, b.id, b.org_id,
        (SELECT COALESCE(max(x.number), 0) + 1 FROM batch_attempts x WHERE x.batch_id = b.id),
        $5, 'sending', $2, $6, $7, $8, NULLIF($9::text, ''), NULLIF($10::text, '')
    FROM b WHERE (SELECT count(*) FROM interrupted) >= 0
    RETURNING number
), claim AS (
    UPDATE replay_deliveries rd SET attempt_id = $4
    FROM b, deliveries d
    WHERE $10::text <> '' AND rd.replay_id = $10 AND rd.attempt_id IS NULL
        AND d.batch_id = b.id AND d.status IN ('pending', 'retrying') AND rd.delivery_id = d.id
        AND EXISTS (SELECT FROM a)
), w AS (
    UPDATE webhooks w SET attempt_count = w.attempt_count + 1, last_triggered_at = $2
    FROM b WHERE w.id = b.webhook_id
)
SELECT number FROM a`

// BeginBatchAttempt records an attempt of batch batchID as sending, before its request
// goes out, and returns its number within the batch: as BeginAttempt does for a
// delivery, it closes the batch's attempts still sending as interrupted and counts the
// attempt on the webhook (attempt count, last triggered time). Its members are counted
// when it completes (CompleteBatchAttempt), so that each member's row is written once per
// attempt: a batch holds up to MaxBatchEvents of them. a.DeliveryID is ignored.
// ErrNotFound if the batch is gone; ErrConflict if a completed attempt of the batch has
// a.ActivityKey.
//
// An attempt with a.ReplayID claims the replay's rows (see ReopenForReplay) of the
// members it is about to send that the replay matched and has not attempted yet: a
// member the replay reopened joins the first attempt of its batch that begins after.
func (s *Store) BeginBatchAttempt(ctx context.Context, batchID string, a Attempt) (int, error) {
	a = a.withDefaults()
	var number int
	err := s.pool.QueryRow(ctx, beginBatchAttemptSQL,
		batchID, a.RequestedAt, InterruptedError, a.ID, a.Trigger, cleanText(a.RequestURL),
		a.RequestMethod, cleanMap(a.RequestHeaders), a.ActivityKey, a.ReplayID,
	).Scan(&number)
	if err != nil {
		return 0, wrap("begin batch attempt", err)
	}
	return number, nil
}

// completeBatchAttemptSQL does all of CompleteBatchAttempt in one statement.
const completeBatchAttemptSQL = `
WITH a AS (
    UPDATE batch_attempts a SET state = 'completed', duration_ms = $3, response_status = $4,
        response_headers = $5, response_body = $6, error = $7, retry_after_ms = $8,
        outcome = NULLIF($9::text, '')
    WHERE a.id = $1 AND a.batch_id = $2 AND a.state = 'sending'
    RETURNING a.batch_id, a.number, a.requested_at
), d AS (
    UPDATE deliveries d SET
        attempt_count = a.number,
        last_attempt_at = a.requested_at,
        workflow_run_id = CASE WHEN $14::text = '' THEN d.workflow_run_id ELSE $14::text END,
        status = CASE WHEN d.status = 'canceled' AND $10::text <> 'succeeded' THEN d.status ELSE $10::text END,
        next_attempt_at = CASE WHEN d.status = 'canceled' AND $10::text <> 'succeeded' THEN NULL
                               ELSE $11::timestamptz END,
        last_status_code = $4,
        last_error = CASE WHEN $15::text <> '' THEN $15::text ELSE $7 END,
        updated_at = now()
    FROM a, unnest($13::text[]) AS m (id) WHERE d.id = m.id AND d.batch_id = a.batch_id
), w AS (
    UPDATE webhooks w SET
        consecutive_failures = CASE $10::text WHEN 'failed' THEN w.consecutive_failures + 1
                                              WHEN 'succeeded' THEN 0
                                              ELSE w.consecutive_failures END,
        failing = $10::text <> 'succeeded',
        status = CASE WHEN w.status = 'ENABLED' AND ($12::bool OR ($10::text = 'failed'
                          AND COALESCE((w.settings->>'failureLimit')::int, 0) > 0
                          AND w.consecutive_failures + 1 >= (w.settings->>'failureLimit')::int))
                      THEN 'DISABLED_DUE_TO_ERRORS' ELSE w.status END,
        updated_at = CASE WHEN w.status = 'ENABLED' AND ($12::bool OR ($10::text = 'failed'
                          AND COALESCE((w.settings->>'failureLimit')::int, 0) > 0
                          AND w.consecutive_failures + 1 >= (w.settings->>'failureLimit')::int))
                      THEN now() ELSE w.updated_at END
    FROM a, batches b WHERE b.id = a.batch_id AND w.id = b.webhook_id
    RETURNING CASE WHEN w.status = 'DISABLED_DUE_TO_ERRORS' AND w.updated_at = now()
                   THEN CASE WHEN $12::bool THEN $16::text ELSE format($17::text, w.consecutive_failures) END
              END AS disabled
)
SELECT a.number, COALESCE((SELECT w.disabled FROM w), '') FROM a`

// CompleteBatchAttempt records what came back for the sending attempt a.ID of batch
// batchID and its consequences atomically, as CompleteAttempt does for one delivery:
// every member of memberIDs (those LoadBatch returned) gets u's status and next attempt
// time, the attempt's status code and error, its number as attempt count (a batch's
// attempts are its members'), its time as last attempt time, u.WorkflowRunID unless ""
// and u.LastError unless "" (a canceled member stays canceled unless the attempt
// succeeded),
// and the webhook is counted once, as for one delivery: its consecutive failures grow by
// one when the batch failed and reset when it succeeded, it is failing unless the attempt
// succeeded, and u.DisableWebhook (a 410) or reaching its failureLimit with a failed batch
// disables it (API.md failureLimit: a batch counts as one delivery). It returns why it
// disabled the webhook (DisabledGone, DisabledFailures), "" if it did not. ErrNotFound
// if the attempt is gone; ErrConflict if it is no longer sending.
func (s *Store) CompleteBatchAttempt(ctx context.Context, batchID string, memberIDs []string, a Attempt, u DeliveryUpdate) (disabled string, err error) {
	var number int
	err = s.pool.QueryRow(ctx, completeBatchAttemptSQL,
		a.ID, batchID, a.DurationMs, a.ResponseStatus, cleanMap(a.ResponseHeaders),
		cleanText(a.ResponseBody), cleanText(a.Error), a.RetryAfterMs, a.Outcome,
		u.Status, u.NextAttemptAt, u.DisableWebhook, memberIDs, u.WorkflowRunID, cleanText(u.LastError),
		DisabledGone, disabledFailures,
	).Scan(&number, &disabled)
	if !errors.Is(err, pgx.ErrNoRows) {
		return disabled, wrap("complete batch attempt", err)
	}
	var state string
	if err := s.pool.QueryRow(ctx, `SELECT state FROM batch_attempts WHERE id = $1`, a.ID).Scan(&state); err != nil {
		return "", wrap("complete batch attempt", err)
	}
	return "", fmt.Errorf("complete batch attempt %s: it is %s: %w", a.ID, state, ErrConflict)
}

// EndBatch ends the pending or retrying deliveries of batch batchID without an attempt,
// with status (failed or canceled) and reason as their last error, as EndDelivery does
// for one; only those of memberIDs when it is not nil.
func (s *Store) EndBatch(ctx context.Context, batchID string, memberIDs []string, status, reason string) error {
	_, err := s.pool.Exec(ctx, `
        UPDATE deliveries SET status = $2, last_error = $3, next_attempt_at = NULL, updated_at = now()
        WHERE batch_id = $1 AND status IN ('pending', 'retrying') AND ($4::text[] IS NULL OR id = ANY ($4))`,
		batchID, status, cleanText(reason), memberIDs)
	return wrap("end batch", err)
}

// UnstartedBatches returns up to limit batches of any organization created before
// createdBefore whose workflow was never started, oldest first: the reconciler's work
// after a crash between an ingest's commit and its start.
func (s *Store) UnstartedBatches(ctx context.Context, createdBefore time.Time, limit int) ([]Batch, error) {
	rows, err := s.pool.Query(ctx, `
        SELECT `+batchCols+` FROM batches b
        WHERE NOT b.workflow_started AND b.created_at < $1
        ORDER BY b.created_at LIMIT $2`, createdBefore, limit)
	if err != nil {
		return nil, wrap("list unstarted batches", err)
	}
	bs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Batch, error) {
		var b Batch
		return b, row.Scan(batchDest(&b)...)
	})
	return bs, wrap("list unstarted batches", err)
}

// MarkBatchesStarted records that the workflows of these batches exist, so the reconciler
// leaves them alone. Unknown ids are ignored.
func (s *Store) MarkBatchesStarted(ctx context.Context, batchIDs []string) error {
	if len(batchIDs) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx,
		`UPDATE batches SET workflow_started = true WHERE id = ANY ($1) AND NOT workflow_started`, batchIDs)
	return wrap("mark batches started", err)
}

// CloseStaleBatchAttempts closes as interrupted every batch attempt still sending that
// was requested before requestedBefore, as CloseStaleAttempts does for deliveries.
func (s *Store) CloseStaleBatchAttempts(ctx context.Context, requestedBefore time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `
        UPDATE batch_attempts SET state = 'interrupted', error = $2
        WHERE state = 'sending' AND requested_at < $1`, requestedBefore, InterruptedError)
	if err != nil {
		return 0, wrap("close stale batch attempts", err)
	}
	return tag.RowsAffected(), nil
}
