package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/ids"
)

// AttemptContext is everything one delivery attempt needs.
type AttemptContext struct {
	Delivery Delivery
	Webhook  Webhook // secret opened
	Event    Event
	// Recorded is the completed attempt recorded under the activity key LoadAttempt was
	// given, nil if none: the activity is re-executing an attempt that was made. An
	// attempt of that key still sending is not returned: it was interrupted, and the
	// re-execution is an attempt of its own (see BeginAttempt).
	Recorded *RecordedAttempt
}

// RecordedAttempt is what a recorded attempt found out, enough to answer for it again.
type RecordedAttempt struct {
	Number         int
	ResponseStatus *int // nil when no response came back
	Error          string
	RetryAfterMs   *int64
	Outcome        string // a delivery.Outcome; "" if recorded without one
	// DisabledWebhook is why the attempt disabled its webhook, "" if it did not (or was
	// recorded before hookd kept it): see Settled.
	DisabledWebhook string
}

// LoadAttempt reads a delivery with its webhook and event in one query, for the attempt
// activity (not scoped to an organization: the id comes from Temporal). When activityKey
// is not "", the same query also looks for the delivery's completed attempt recorded
// under that key (Attempt.ActivityKey) and returns it as Recorded. ErrNotFound if the
// delivery is gone (e.g. its webhook was deleted).
func (s *Store) LoadAttempt(ctx context.Context, deliveryID, activityKey string) (AttemptContext, error) {
	var (
		ac     AttemptContext
		wr     webhookRow
		number *int
		rec    RecordedAttempt
	)
	dest := append(deliveryDest(&ac.Delivery), wr.dest()...)
	dest = append(dest, eventDest(&ac.Event)...)
	dest = append(dest, &number, &rec.ResponseStatus, &rec.Error, &rec.RetryAfterMs, &rec.Outcome, &rec.DisabledWebhook)
	// "" never matches: keys are stored as NULL when empty, and NULL equals nothing.
	err := s.pool.QueryRow(ctx, `
        SELECT `+deliveryCols+`, `+webhookCols+`, `+eventCols+`,
            r.number, r.response_status, COALESCE(r.error, ''), r.retry_after_ms, COALESCE(r.outcome, ''),
            COALESCE(r.disabled_webhook, '')
        FROM deliveries d
        JOIN webhooks w ON w.id = d.webhook_id
        JOIN events e ON e.org_id = d.org_id AND e.id = d.event_id
        LEFT JOIN LATERAL (
            SELECT a.number, a.response_status, a.error, a.retry_after_ms, a.outcome, a.disabled_webhook
            FROM attempts a
            WHERE a.delivery_id = d.id AND a.activity_key = NULLIF($2::text, '') AND a.state = 'completed'
        ) r ON true
        WHERE d.id = $1`, deliveryID, activityKey).Scan(dest...)
	if err != nil {
		return AttemptContext{}, wrap("load attempt", err)
	}
	if ac.Webhook, err = s.webhookOf(&wr); err != nil {
		return AttemptContext{}, err
	}
	if number != nil {
		rec.Number = *number
		ac.Recorded = &rec
	}
	return ac, nil
}

// DeliveryUpdate is how an attempt changes its delivery and webhook.
type DeliveryUpdate struct {
	Status        string     // the delivery's new status
	NextAttemptAt *time.Time // when the next automatic attempt is due; nil if none
	WorkflowRunID string     // "" keeps the stored one
	// DisableWebhook sets an ENABLED webhook to DISABLED_DUE_TO_ERRORS (a webhook an
	// admin disabled stays DISABLED), for DisabledGone.
	DisableWebhook bool
	// LastError is the delivery's last error when it is not the attempt's own (a
	// delivery discarded past its discardAfter); "" records the attempt's error.
	LastError string
}

// Why hookd disabled a webhook (webhook.disabled's `reason`), as Settled.DisabledWebhook
// and RecordedAttempt.DisabledWebhook say it.
const (
	// DisabledGone: the receiver answered 410 Gone (DeliveryUpdate.DisableWebhook).
	DisabledGone = "the endpoint answered 410 Gone"
	// disabledFailures is the reason of a webhook whose consecutive failed deliveries
	// reached its failureLimit, for format() with their count.
	disabledFailures = "%s consecutive deliveries failed (failureLimit)"
)

// DisabledFailures is the reason of a webhook disabled when n consecutive deliveries had
// failed, n reaching its failureLimit.
func DisabledFailures(n int) string {
	return strings.Replace(disabledFailures, "%s", strconv.Itoa(n), 1)
}

// Settled is what CompleteAttempt did beyond recording the attempt.
type Settled struct {
	Number int // the attempt's number
	// DisabledWebhook is why the attempt disabled its webhook (DisabledGone, or
	// DisabledFailures with the count), "" if it did not: at most one attempt disables
	// a webhook each time it is enabled, however many complete at once.
	DisabledWebhook string
	// WebhookUpdatedAt is the webhook's updated_at after the attempt: the time of the
	// disabling when DisabledWebhook is set.
	WebhookUpdatedAt time.Time
}

// rowQuerier is what pgxpool.Pool and pgx.Tx have in common for one-row statements.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// beginAttemptSQL does all of BeginAttempt in one statement. The delivery row lock taken
// by the first UPDATE serialises the attempts of one delivery, so numbers are dense and
// unique. The attempts the delivery still has in flight are interrupted before the new
// one is inserted (the insert waits on their count), so that a re-execution of an
// interrupted attempt may take its activity key.
const beginAttemptSQL = `
WITH d AS (
    UPDATE deliveries d SET
        attempt_count = d.attempt_count + 1,
        last_attempt_at = $2,
        workflow_run_id = CASE WHEN $3::text = '' THEN d.workflow_run_id ELSE $3::text END,
        updated_at = now()
    WHERE d.id = $1
    RETURNING d.id, d.org_id, d.webhook_id, d.attempt_count
), interrupted AS (
    UPDATE attempts a SET state = 'interrupted', error = $4
    FROM d WHERE a.delivery_id = d.id AND a.state = 'sending'
    RETURNING a.id
), a AS (
    INSERT INTO attempts (id, delivery_id, org_id, number, trigger, requested_at, request_url,
        request_method, request_headers, activity_key, state, replay_id, webhook_id)
    SELECT $5, d.id, d.org_id, d.attempt_count, $6, $2, $7, $8, $9, NULLIF($10::text, ''), 'sending',
        NULLIF($11::text, ''), d.webhook_id
    FROM d WHERE (SELECT count(*) FROM interrupted) >= 0
    RETURNING number
), w AS (
    UPDATE webhooks w SET attempt_count = w.attempt_count + 1,
        last_triggered_at = GREATEST(w.last_triggered_at, $2)
    FROM d WHERE w.id = d.webhook_id
)
SELECT number FROM a`

// BeginAttempt records an attempt as sending, before its request goes out: a.ID (default
// a new att_ id), a.Trigger (default "auto"), a.RequestedAt (default now), the request
// (URL, method, masked headers) and a.ActivityKey; the response fields are ignored. It
// returns the attempt's number, the delivery's attempt count plus one, and counts the
// attempt on the delivery (attempt count, last attempt time, runID unless "") and on the
// webhook (attempt count, and last triggered time unless a later attempt's is there:
// attempts of many deliveries begin concurrently).
//
// Every attempt of the delivery still sending is closed first as interrupted, with
// InterruptedError: attempts of one delivery are made one at a time, so an attempt
// beginning means the one before it will never complete. That includes an attempt of
// the same activity key, whose re-execution this is; it keeps its number, and the
// re-execution gets the next one. ErrNotFound if the delivery is gone; ErrConflict if the
// delivery has a completed attempt with a.ActivityKey (it was made: see LoadAttempt), in
// which case nothing changes.
//
// An attempt with a.ReplayID is the replay's one attempt of the delivery: it claims the
// replay's row for the delivery (see ReopenForReplay) as it begins, and ErrReplayed if
// the replay already has an attempt of it, in which case nothing changes.
func (s *Store) BeginAttempt(ctx context.Context, a Attempt, runID string) (int, error) {
	if a.ReplayID != "" {
		return s.beginReplayAttempt(ctx, a, runID)
	}
	return beginAttempt(ctx, s.pool, a, runID)
}

// ErrReplayed is returned, wrapped, by BeginAttempt for a second attempt of one delivery
// for one replay (a replay signal sent twice). It is an ErrConflict.
var ErrReplayed = fmt.Errorf("the replay has already attempted the delivery: %w", ErrConflict)

// beginReplayAttempt is BeginAttempt for an attempt with a.ReplayID: in one transaction,
// it claims the replay's row for the delivery (held as ReopenForReplay holds it), and
// begins the attempt, whose (replay, delivery) is unique besides. A delivery the replay
// did not match (an attempt its signal asked for of a batch-mate) has no row to claim.
func (s *Store) beginReplayAttempt(ctx context.Context, a Attempt, runID string) (int, error) {
	a = a.withDefaults()
	var number int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var claimed *bool
		err := tx.QueryRow(ctx, `
            SELECT attempt_id IS NOT NULL FROM replay_deliveries
            WHERE replay_id = $1 AND delivery_id = $2 FOR UPDATE`, a.ReplayID, a.DeliveryID).Scan(&claimed)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		case *claimed:
			return ErrReplayed
		}
		if number, err = beginAttempt(ctx, tx, a, runID); err != nil {
			if errors.Is(err, ErrConflict) && strings.Contains(err.Error(), "attempts_replay_idx") {
				return ErrReplayed
			}
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE replay_deliveries SET attempt_id = $3 WHERE replay_id = $1 AND delivery_id = $2`,
			a.ReplayID, a.DeliveryID, a.ID)
		return err
	})
	if errors.Is(err, ErrReplayed) {
		return 0, fmt.Errorf("begin attempt of %s for replay %s: %w", a.DeliveryID, a.ReplayID, ErrReplayed)
	}
	return number, wrap("begin replay attempt", err)
}

// EndReplayAttempt closes replay replayID's attempt of delivery deliveryID as
// interrupted, with InterruptedError, if it is still sending, and ends the delivery
// failed with that error if it is pending or retrying: what becomes of a replay's attempt
// whose worker stopped with its request in flight, since a replay does not send twice.
// Not scoped to an organization (the ids come from Temporal).
func (s *Store) EndReplayAttempt(ctx context.Context, replayID, deliveryID string) error {
	_, err := s.pool.Exec(ctx, `
        WITH a AS (
            UPDATE attempts SET state = 'interrupted', error = $3
            WHERE replay_id = $1 AND delivery_id = $2 AND state = 'sending'
        )
        UPDATE deliveries SET status = 'failed', last_error = $3, next_attempt_at = NULL, updated_at = now()
        WHERE id = $2 AND status IN ('pending', 'retrying')`, replayID, deliveryID, InterruptedError)
	return wrap("end replay attempt", err)
}

// ReplayAttempt returns the attempt replay replayID made of delivery deliveryID, as
// recorded so far, and its state (AttemptSending, AttemptCompleted or
// AttemptInterrupted): what a second attempt of it for the replay answers instead of
// sending. ErrNotFound if there is none.
func (s *Store) ReplayAttempt(ctx context.Context, replayID, deliveryID string) (RecordedAttempt, string, error) {
	var (
		rec   RecordedAttempt
		state string
	)
	err := s.pool.QueryRow(ctx, `
        SELECT a.number, a.state, a.response_status, a.error, a.retry_after_ms, COALESCE(a.outcome, ''),
            COALESCE(a.disabled_webhook, '')
        FROM attempts a WHERE a.replay_id = $1 AND a.delivery_id = $2`, replayID, deliveryID).
		Scan(&rec.Number, &state, &rec.ResponseStatus, &rec.Error, &rec.RetryAfterMs, &rec.Outcome, &rec.DisabledWebhook)
	return rec, state, wrap("replay attempt", err)
}

// withDefaults is a with what BeginAttempt defaults filled in: a new att_ id, trigger
// auto, requested now.
func (a Attempt) withDefaults() Attempt {
	if a.ID == "" {
		a.ID = ids.New(ids.Attempt)
	}
	if a.Trigger == "" {
		a.Trigger = "auto"
	}
	if a.RequestedAt.IsZero() {
		a.RequestedAt = time.Now()
	}
	return a
}

func beginAttempt(ctx context.Context, q rowQuerier, a Attempt, runID string) (int, error) {
	a = a.withDefaults()
	var number int
	err := q.QueryRow(ctx, beginAttemptSQL,
		a.DeliveryID, a.RequestedAt, runID, InterruptedError, a.ID, a.Trigger, cleanText(a.RequestURL),
		a.RequestMethod, cleanMap(a.RequestHeaders), a.ActivityKey, a.ReplayID,
	).Scan(&number)
	if err != nil {
		return 0, wrap("begin attempt", err)
	}
	return number, nil
}

// lockForCompletionSQL locks a delivery's row, then its webhook's, in the order
// BeginAttempt takes them (so that the two never wait on each other in a cycle). It is a
// statement of its own before completeAttemptSQL: a row locked and then updated within
// one statement can deadlock against a concurrent statement doing the same (the update
// may meet a newer version than its snapshot's and queue for the tuple again). Holding
// both locks, completeAttemptSQL reads the webhook's latest version, so that of
// concurrent completions of one webhook's deliveries each counts on the count the one
// before left, and only the first to reach the failure limit (or a 410) disables it.
const lockForCompletionSQL = `
WITH d AS (SELECT d.webhook_id FROM deliveries d WHERE d.id = $1 FOR NO KEY UPDATE)
SELECT 1 FROM webhooks w, d WHERE w.id = d.webhook_id FOR NO KEY UPDATE OF w`

// lockForSuccessSQL is lockForCompletionSQL for an attempt that succeeded (see
// cleanSuccess): the delivery's row alone. Whatever the webhook's count was, a success
// sets it to 0 and clears failing, values that do not depend on the row read, and
// disables nothing, so it needs no lock held across the statement: the UPDATE in
// completeAttemptSQL, when the webhook's row needs one, waits for the row and re-checks
// it at its latest version as any UPDATE does. Completions of one webhook's deliveries,
// all locking its one row, otherwise queue for it one after the other, each through its
// commit.
const lockForSuccessSQL = `SELECT 1 FROM deliveries d WHERE d.id = $1 FOR NO KEY UPDATE`

// cleanSuccess says whether completing a with u is a success that changes its webhook
// only back to a clean state (no failure counted, not failing), so that lockForSuccessSQL
// is enough.
func cleanSuccess(a Attempt, u DeliveryUpdate) bool {
	return u.Status == StatusSucceeded && !u.DisableWebhook && (a.Outcome == "" || a.Outcome == string(delivery.OutcomeSucceeded))
}

// completeAttemptSQL does all of CompleteAttempt in one statement, once
// lockForCompletionSQL holds the delivery and webhook rows: the verdict (v) on the
// webhook's failure count and status is computed once and written both on the webhook
// and on the attempt (disabled_webhook). The webhook is written only when the verdict
// changes it: a success of a webhook that was not failing (the usual attempt) leaves its
// row as it is, rather than write a new version of it, the row every attempt of the
// webhook locks.
const completeAttemptSQL = `
WITH cur AS (
    SELECT d.id, d.webhook_id,
        CASE WHEN d.status = 'canceled' AND $10::text <> 'succeeded' THEN d.status ELSE $10::text END AS status
    FROM deliveries d WHERE d.id = $2
), att AS (
    SELECT a.id FROM attempts a
    WHERE a.id = $1 AND a.delivery_id = $2 AND a.state = 'sending' AND EXISTS (SELECT FROM cur)
), wl AS (
    SELECT w.id, w.status, w.consecutive_failures,
        COALESCE((w.settings->>'failureLimit')::int, 0) AS failure_limit
    FROM webhooks w JOIN cur ON w.id = cur.webhook_id
    WHERE EXISTS (SELECT FROM att)
), v AS (
    SELECT wl.id,
        CASE cur.status WHEN 'failed' THEN wl.consecutive_failures + 1
                        WHEN 'succeeded' THEN 0
                        ELSE wl.consecutive_failures END AS failures,
        CASE WHEN wl.status <> 'ENABLED' THEN NULL
             WHEN $12::bool THEN $14::text
             WHEN cur.status = 'failed' AND wl.failure_limit > 0
                  AND wl.consecutive_failures + 1 >= wl.failure_limit
                 THEN format($15::text, wl.consecutive_failures + 1)
        END AS disabled
    FROM wl, cur
), a AS (
    UPDATE attempts a SET state = 'completed', duration_ms = $3, response_status = $4,
        response_headers = $5, response_body = $6, error = $7, retry_after_ms = $8,
        outcome = NULLIF($9::text, ''), disabled_webhook = (SELECT v.disabled FROM v)
    FROM att WHERE a.id = att.id
    RETURNING a.delivery_id, a.number
), d AS (
    UPDATE deliveries d SET
        status = cur.status,
        next_attempt_at = CASE WHEN cur.status = $10::text THEN $11::timestamptz END,
        last_status_code = $4,
        last_error = COALESCE(NULLIF($13::text, ''), $7),
        updated_at = now()
    FROM cur, a WHERE d.id = cur.id
), w AS (
    UPDATE webhooks w SET
        consecutive_failures = v.failures,
        failing = CASE WHEN $9::text = '' THEN w.failing ELSE $9::text <> 'succeeded' END,
        status = CASE WHEN v.disabled IS NULL THEN w.status ELSE 'DISABLED_DUE_TO_ERRORS' END,
        updated_at = CASE WHEN v.disabled IS NULL THEN w.updated_at ELSE now() END
    FROM v, a WHERE w.id = v.id
      AND (w.consecutive_failures <> v.failures OR v.disabled IS NOT NULL
           OR ($9::text <> '' AND w.failing <> ($9::text <> 'succeeded')))
    RETURNING w.updated_at
)
SELECT a.number, COALESCE((SELECT v.disabled FROM v), ''), (SELECT w.updated_at FROM w) FROM a`

// CompleteAttempt records what came back for the sending attempt a.ID of delivery
// a.DeliveryID and its consequences, atomically, as SettleAttempt does, for a caller
// that needs none of what SettleAttempt returns.
func (s *Store) CompleteAttempt(ctx context.Context, a Attempt, u DeliveryUpdate) error {
	_, err := s.SettleAttempt(ctx, a, u)
	return err
}

// SettleAttempt records what came back for the sending attempt a.ID of delivery
// a.DeliveryID (duration, response, error, Retry-After, outcome) and its consequences,
// atomically, and returns what it did to the webhook.
//
// The delivery gets u's status and next attempt time, the attempt's status code and its
// error (u.LastError instead, if set), except that a canceled delivery stays canceled
// unless the attempt succeeded; u.WorkflowRunID is ignored (BeginAttempt took it).
//
// The webhook: a delivery now failed adds one to its consecutive failures and one now
// succeeded resets them (API.md `failureLimit`); the attempt's outcome sets its failing
// flag (any outcome but succeeded) or clears it (succeeded), which a lossy webhook's
// fan-out reads. An ENABLED webhook becomes DISABLED_DUE_TO_ERRORS, its updated_at now,
// when u.DisableWebhook (410 Gone) or when the failures reach its failureLimit (0, or a
// webhook stored without one, never); the attempt records why (see Settled), so that
// only the first of concurrent attempts that disable one webhook reports it. A webhook
// an admin disabled stays DISABLED.
//
// ErrNotFound if the attempt (or its delivery) is gone; ErrConflict if it is no longer
// sending (a later attempt, or the reconciler, closed it as interrupted), in which case
// nothing changes.
//
// Its two statements go in one round trip, as one batch: the statements of a batch sent
// outside a transaction run in one implicit transaction, committed when the last one
// succeeds and rolled back if any fails (PostgreSQL's extended query protocol, up to its
// Sync), so no BEGIN or COMMIT of its own is sent.
func (s *Store) SettleAttempt(ctx context.Context, a Attempt, u DeliveryUpdate) (Settled, error) {
	b := &pgx.Batch{}
	found := queueCompletion(b, a, u)
	return found(ctx, s.pool, s.pool.SendBatch(ctx, b).Close())
}

// completeAttempt is SettleAttempt within the transaction tx.
func completeAttempt(ctx context.Context, tx pgx.Tx, a Attempt, u DeliveryUpdate) (Settled, error) {
	b := &pgx.Batch{}
	found := queueCompletion(b, a, u)
	return found(ctx, tx, tx.SendBatch(ctx, b).Close())
}

// queueCompletion queues on b the statements that complete attempt a (see SettleAttempt)
// and returns how to read what they did once the batch is closed with closeErr: q reads
// why an attempt was not completed (in the transaction the batch ran in, or after it).
func queueCompletion(b *pgx.Batch, a Attempt, u DeliveryUpdate) func(ctx context.Context, q rowQuerier, closeErr error) (Settled, error) {
	var (
		out       Settled
		updatedAt *time.Time
		completed bool
	)
	if cleanSuccess(a, u) {
		b.Queue(lockForSuccessSQL, a.DeliveryID)
	} else {
		b.Queue(lockForCompletionSQL, a.DeliveryID)
	}
	b.Queue(completeAttemptSQL,
		a.ID, a.DeliveryID, a.DurationMs, a.ResponseStatus, cleanMap(a.ResponseHeaders),
		cleanText(a.ResponseBody), cleanText(a.Error), a.RetryAfterMs, a.Outcome,
		u.Status, u.NextAttemptAt, u.DisableWebhook, cleanText(u.LastError), DisabledGone, disabledFailures,
	).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&out.Number, &out.DisabledWebhook, &updatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		completed = err == nil
		return err
	})
	return func(ctx context.Context, q rowQuerier, closeErr error) (Settled, error) {
		if closeErr != nil {
			return Settled{}, wrap("complete attempt", closeErr)
		}
		if completed {
			if updatedAt != nil {
				out.WebhookUpdatedAt = *updatedAt
			}
			return out, nil
		}
		var state string
		if err := q.QueryRow(ctx, `SELECT state FROM attempts WHERE id = $1`, a.ID).Scan(&state); err != nil {
			return Settled{}, wrap("complete attempt", err)
		}
		return Settled{}, fmt.Errorf("complete attempt %s: it is %s: %w", a.ID, state, ErrConflict)
	}
}

// RecordAttempt records an attempt and its consequences in one transaction, as
// BeginAttempt (with u.WorkflowRunID) followed by CompleteAttempt would, and returns its
// number (a.Number is ignored): for an attempt known whole at once. Its errors are
// theirs.
func (s *Store) RecordAttempt(ctx context.Context, a Attempt, u DeliveryUpdate) (int, error) {
	if a.ID == "" {
		a.ID = ids.New(ids.Attempt)
	}
	var number int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if number, err = beginAttempt(ctx, tx, a, u.WorkflowRunID); err != nil {
			return err
		}
		_, err = completeAttempt(ctx, tx, a, u)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("record attempt: %w", err)
	}
	return number, nil
}

// CloseStaleAttempts closes as interrupted, with InterruptedError, every attempt still
// sending that was requested before requestedBefore, and returns how many it closed: the
// attempts whose worker died and whose delivery makes no next attempt to close them
// (BeginAttempt). requestedBefore must leave out every attempt that may still complete.
func (s *Store) CloseStaleAttempts(ctx context.Context, requestedBefore time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `
        UPDATE attempts SET state = 'interrupted', error = $2
        WHERE state = 'sending' AND requested_at < $1`, requestedBefore, InterruptedError)
	if err != nil {
		return 0, wrap("close stale attempts", err)
	}
	return tag.RowsAffected(), nil
}

// CancelWebhookDeliveries cancels every pending or retrying delivery of a webhook, pings
// aside, with reason as its last error, and returns them canceled: what disabling the
// webhook entails (API.md: retrying deliveries of a disabled webhook stop), so that the
// caller tells their workflows. A ping stays, as it goes to a disabled webhook too
// (Webhook.Receives). Not scoped to an organization (webhook ids are unique); a webhook
// with none, or gone, returns none.
func (s *Store) CancelWebhookDeliveries(ctx context.Context, webhookID, reason string) ([]Delivery, error) {
	rows, err := s.pool.Query(ctx, `
        UPDATE deliveries d SET status = 'canceled', last_error = $2, next_attempt_at = NULL, updated_at = now()
        WHERE d.webhook_id = $1 AND d.status IN ('pending', 'retrying') AND d.event_type <> $3
        RETURNING `+deliveryCols, webhookID, cleanText(reason), EventTypePing)
	if err != nil {
		return nil, wrap("cancel webhook deliveries", err)
	}
	ds, err := collectDeliveries(rows)
	return ds, wrap("cancel webhook deliveries", err)
}

// discardDeliverySQL is DiscardDelivery in one statement, locking the delivery, then its
// webhook, as completeAttemptSQL does.
const discardDeliverySQL = `
WITH cur AS (
    SELECT d.id, d.webhook_id FROM deliveries d
    WHERE d.id = $1 AND d.status IN ('pending', 'retrying')
    FOR NO KEY UPDATE
), wl AS (
    SELECT w.id, w.status, w.consecutive_failures,
        COALESCE((w.settings->>'failureLimit')::int, 0) AS failure_limit
    FROM webhooks w JOIN cur ON w.id = cur.webhook_id
    FOR NO KEY UPDATE OF w
), v AS (
    SELECT wl.id, wl.consecutive_failures + 1 AS failures,
        CASE WHEN wl.status = 'ENABLED' AND wl.failure_limit > 0
                  AND wl.consecutive_failures + 1 >= wl.failure_limit
             THEN format($3::text, wl.consecutive_failures + 1)
        END AS disabled
    FROM wl
), d AS (
    UPDATE deliveries d SET status = 'failed', last_error = $2, next_attempt_at = NULL, updated_at = now()
    FROM cur WHERE d.id = cur.id
), w AS (
    UPDATE webhooks w SET
        consecutive_failures = v.failures,
        status = CASE WHEN v.disabled IS NULL THEN w.status ELSE 'DISABLED_DUE_TO_ERRORS' END,
        updated_at = CASE WHEN v.disabled IS NULL THEN w.updated_at ELSE now() END
    FROM v WHERE w.id = v.id
    RETURNING w.updated_at
)
SELECT COALESCE((SELECT v.disabled FROM v), ''), (SELECT w.updated_at FROM w)`

// DiscardDelivery ends a pending or retrying delivery failed without an attempt, with
// reason as its last error (it was not delivered within its webhook's discardAfter), and
// counts it as a failed delivery on its webhook as SettleAttempt does: one more
// consecutive failure, and DISABLED_DUE_TO_ERRORS at the failure limit (Settled says
// so; its Number is 0). A delivery in any other status, or gone, is left as it is and
// nothing is counted. Not scoped to an organization (the id comes from Temporal).
func (s *Store) DiscardDelivery(ctx context.Context, id, reason string) (Settled, error) {
	var (
		out       Settled
		updatedAt *time.Time
	)
	err := s.pool.QueryRow(ctx, discardDeliverySQL, id, cleanText(reason), disabledFailures).
		Scan(&out.DisabledWebhook, &updatedAt)
	if err != nil {
		return Settled{}, wrap("discard delivery", err)
	}
	if updatedAt != nil {
		out.WebhookUpdatedAt = *updatedAt
	}
	return out, nil
}
