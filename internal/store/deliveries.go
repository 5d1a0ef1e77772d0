package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/ids"
)

// ListDeliveries pages through the organization's deliveries, newest first, narrowed by
// f. Since and Until bound the delivery's creation time: Since inclusive, Until exclusive.
func (s *Store) ListDeliveries(ctx context.Context, orgID string, f DeliveryFilter, p Page) ([]Delivery, string, error) {
	pg, err := keyset(p, "deliveries", orgID, f)
	if err != nil {
		return nil, "", listErr("list deliveries", err)
	}
	args := []any{orgID, pg.before}
	where := []string{"d.org_id = $1", "d.seq < $2"}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Status != "" {
		add("d.status = ?", f.Status)
	}
	if f.WebhookID != "" {
		add("d.webhook_id = ?", f.WebhookID)
	}
	if f.EventID != "" {
		add("d.event_id = ?", f.EventID)
	}
	if f.EventType != "" {
		add("d.event_type = ?", f.EventType)
	}
	if f.Since != nil {
		add("d.created_at >= ?", *f.Since)
	}
	if f.Until != nil {
		add("d.created_at < ?", *f.Until)
	}
	args = append(args, pg.fetch)
	sql := `SELECT ` + deliveryCols + `, d.seq FROM deliveries d WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY d.seq DESC LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, "", wrap("list deliveries", err)
	}
	out, next, err := collectPage(rows, pg, func(row pgx.CollectableRow, seq *int64) (Delivery, error) {
		var d Delivery
		return d, row.Scan(withSeq(deliveryDest(&d), seq)...)
	})
	return out, next, wrap("list deliveries", err)
}

// GetDelivery returns a delivery of the organization with its attempts by number, or
// ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, orgID, id string) (Delivery, []Attempt, error) {
	var (
		d  Delivery
		as []Attempt
	)
	b := &pgx.Batch{}
	b.Queue(`SELECT `+deliveryCols+` FROM deliveries d WHERE d.org_id = $1 AND d.id = $2`, orgID, id).
		QueryRow(func(row pgx.Row) error { return row.Scan(deliveryDest(&d)...) })
	b.Queue(`SELECT `+attemptCols+` FROM attempts a WHERE a.org_id = $1 AND a.delivery_id = $2 ORDER BY a.number`, orgID, id).
		Query(func(rows pgx.Rows) error {
			var err error
			as, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Attempt, error) {
				var a Attempt
				err := row.Scan(attemptDest(&a)...)
				return a, err
			})
			return err
		})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return Delivery{}, nil, wrap("get delivery", err)
	}
	return d, as, nil
}

// TransitionDelivery sets a delivery's status to `to` if its current status is one of
// `from`, and returns the updated delivery. Only retrying keeps next_attempt_at: pending
// means an attempt is due now, and a final status (succeeded, failed, canceled) has none
// to come. ErrNotFound if the organization has no such delivery;
// ErrConflict, together with the delivery as it is, if its status is not in `from`.
func (s *Store) TransitionDelivery(ctx context.Context, orgID, id string, from []string, to string) (Delivery, error) {
	var d Delivery
	err := s.pool.QueryRow(ctx, `
        UPDATE deliveries d SET status = $3, updated_at = now(),
            next_attempt_at = CASE WHEN $3 = 'retrying' THEN d.next_attempt_at END
        WHERE d.org_id = $1 AND d.id = $2 AND d.status = ANY ($4)
        RETURNING `+deliveryCols, orgID, id, to, from).Scan(deliveryDest(&d)...)
	if err == nil {
		return d, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Delivery{}, wrap("transition delivery", err)
	}
	err = s.pool.QueryRow(ctx, `SELECT `+deliveryCols+` FROM deliveries d WHERE d.org_id = $1 AND d.id = $2`,
		orgID, id).Scan(deliveryDest(&d)...)
	if err != nil {
		return Delivery{}, wrap("transition delivery", err)
	}
	return d, fmt.Errorf("transition delivery %s from %s to %s: %w", id, d.Status, to, ErrConflict)
}

// RestoreDelivery puts the organization's delivery back exactly as was (its status, next
// attempt time and updated_at) if its status is still from: the compensation of a status
// change whose workflow signal failed. ErrNotFound if there is no such delivery;
// ErrConflict if its status moved on meanwhile, in which case it is left alone.
func (s *Store) RestoreDelivery(ctx context.Context, was Delivery, from string) error {
	tag, err := s.pool.Exec(ctx, `
        UPDATE deliveries SET status = $3, next_attempt_at = $4, updated_at = $5
        WHERE org_id = $1 AND id = $2 AND status = $6`,
		was.OrgID, was.ID, was.Status, was.NextAttemptAt, was.UpdatedAt, from)
	if err != nil {
		return wrap("restore delivery", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("restore delivery %s to %s: %w", was.ID, was.Status, ErrConflict)
	}
	return nil
}

// LockDelivery takes a PostgreSQL advisory lock on a delivery id, waiting for it up to
// ctx, and returns the function that releases it. Holders of the lock, in every hookd
// process, run one at a time: the service holds it across a status change, its workflow
// signal and the change's undo, so that no other operation on the delivery starts from
// the change before it is kept or undone. A process that dies releases its locks.
func (s *Store) LockDelivery(ctx context.Context, id string) (unlock func(), err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, wrap("lock delivery", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended($1, 0))`, "delivery:"+id); err != nil {
		// The server may have granted the lock as the wait was given up: never pool it.
		_ = conn.Hijack().Close(context.WithoutCancel(ctx))
		return nil, wrap("lock delivery", err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, "delivery:"+id); err != nil {
			// A session-level lock outlives a connection returned to the pool: close it.
			_ = conn.Hijack().Close(ctx)
			return
		}
		conn.Release()
	}, nil
}

// EndDelivery ends a pending or retrying delivery without an attempt, with status (failed
// or canceled) and reason as its last error: a delivery that must not be sent, or a
// fault no attempt can fix. It is not scoped to an organization (the id comes from
// Temporal). A delivery in any other status, or gone, is left as it is.
func (s *Store) EndDelivery(ctx context.Context, id, status, reason string) error {
	_, err := s.pool.Exec(ctx, `
        UPDATE deliveries SET status = $2, last_error = $3, next_attempt_at = NULL, updated_at = now()
        WHERE id = $1 AND status IN ('pending', 'retrying')`, id, status, cleanText(reason))
	return wrap("end delivery", err)
}

// AttemptContext is everything one delivery attempt needs.
type AttemptContext struct {
	Delivery Delivery
	Webhook  Webhook // secret opened
	Event    Event
	// Recorded is the attempt already recorded under the activity key LoadAttempt was
	// given, nil if none: the activity is re-executing an attempt that was made.
	Recorded *RecordedAttempt
}

// RecordedAttempt is what a recorded attempt found out, enough to answer for it again.
type RecordedAttempt struct {
	Number         int
	ResponseStatus *int // nil when no response came back
	Error          string
	RetryAfterMs   *int64
	Outcome        string // a delivery.Outcome; "" if recorded without one
}

// LoadAttempt reads a delivery with its webhook and event in one query, for the attempt
// activity (not scoped to an organization: the id comes from Temporal). When activityKey
// is not "", the same query also looks for the delivery's attempt recorded under that key
// (Attempt.ActivityKey) and returns it as Recorded. ErrNotFound if the delivery is gone
// (e.g. its webhook was deleted).
func (s *Store) LoadAttempt(ctx context.Context, deliveryID, activityKey string) (AttemptContext, error) {
	var (
		ac     AttemptContext
		wr     webhookRow
		number *int
		rec    RecordedAttempt
	)
	dest := append(deliveryDest(&ac.Delivery), wr.dest()...)
	dest = append(dest, eventDest(&ac.Event)...)
	dest = append(dest, &number, &rec.ResponseStatus, &rec.Error, &rec.RetryAfterMs, &rec.Outcome)
	// "" never matches: keys are stored as NULL when empty, and NULL equals nothing.
	err := s.pool.QueryRow(ctx, `
        SELECT `+deliveryCols+`, `+webhookCols+`, `+eventCols+`,
            r.number, r.response_status, COALESCE(r.error, ''), r.retry_after_ms, COALESCE(r.outcome, '')
        FROM deliveries d
        JOIN webhooks w ON w.id = d.webhook_id
        JOIN events e ON e.org_id = d.org_id AND e.id = d.event_id
        LEFT JOIN LATERAL (
            SELECT a.number, a.response_status, a.error, a.retry_after_ms, a.outcome
            FROM attempts a
            WHERE a.delivery_id = d.id AND a.activity_key = NULLIF($2::text, '')
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
	// admin disabled stays DISABLED).
	DisableWebhook bool
}

// recordAttemptSQL does all of RecordAttempt in one statement, so one round trip and one
// (implicit) transaction. The delivery row lock taken by the first UPDATE serialises
// concurrent attempts of one delivery, so numbers are dense and unique.
const recordAttemptSQL = `
WITH d AS (
    UPDATE deliveries d SET
        attempt_count = d.attempt_count + 1,
        status = CASE WHEN d.status = 'canceled' AND $2::text <> 'succeeded' THEN d.status ELSE $2::text END,
        next_attempt_at = CASE WHEN d.status = 'canceled' AND $2::text <> 'succeeded' THEN NULL
                               ELSE $3::timestamptz END,
        last_attempt_at = $4,
        last_status_code = $5,
        last_error = $6,
        workflow_run_id = CASE WHEN $7::text = '' THEN d.workflow_run_id ELSE $7::text END,
        updated_at = now()
    WHERE d.id = $1
    RETURNING d.id, d.org_id, d.webhook_id, d.attempt_count, d.status
), a AS (
    INSERT INTO attempts (id, delivery_id, org_id, number, trigger, requested_at, duration_ms,
        request_url, request_method, request_headers, response_status, response_headers,
        response_body, error, retry_after_ms, activity_key, outcome)
    SELECT $8, d.id, d.org_id, d.attempt_count, $9, $4, $10, $11, $12, $13, $5, $14, $15, $6, $16,
        NULLIF($18::text, ''), NULLIF($19::text, '') FROM d
    RETURNING number
), w AS (
    UPDATE webhooks w SET
        attempt_count = w.attempt_count + 1,
        last_triggered_at = $4,
        consecutive_failures = CASE d.status WHEN 'failed' THEN w.consecutive_failures + 1
                                             WHEN 'succeeded' THEN 0
                                             ELSE w.consecutive_failures END,
        status = CASE WHEN $17::bool AND w.status = 'ENABLED' THEN 'DISABLED_DUE_TO_ERRORS' ELSE w.status END,
        updated_at = CASE WHEN $17::bool AND w.status = 'ENABLED' THEN now() ELSE w.updated_at END
    FROM d WHERE w.id = d.webhook_id
)
SELECT number FROM a`

// RecordAttempt stores an attempt of a delivery and its consequences, atomically, and
// returns the attempt's number (the delivery's attempt count plus one; a.Number is
// ignored). The delivery gets u's status and next attempt time and the attempt's
// outcome, except that a canceled delivery stays canceled unless the attempt succeeded.
// u.DisableWebhook sets an ENABLED webhook DISABLED_DUE_TO_ERRORS and its updated_at to
// now, so that updated_at names that disabling: of concurrent attempts that disable one
// webhook, only the first changes it. The webhook's attempt count and last-triggered
// time advance; a delivery now failed
// adds one to its consecutive failures and one now succeeded resets them. a.ID and
// a.Trigger default to a new att_ id and "auto". ErrNotFound if the delivery is gone;
// ErrConflict if the delivery already has an attempt with a.ActivityKey (a concurrent
// execution of the same logical attempt recorded it first), in which case nothing changes.
func (s *Store) RecordAttempt(ctx context.Context, a Attempt, u DeliveryUpdate) (int, error) {
	if a.ID == "" {
		a.ID = ids.New(ids.Attempt)
	}
	if a.Trigger == "" {
		a.Trigger = "auto"
	}
	if a.RequestedAt.IsZero() {
		a.RequestedAt = time.Now()
	}
	var number int
	err := s.pool.QueryRow(ctx, recordAttemptSQL,
		a.DeliveryID, u.Status, u.NextAttemptAt, a.RequestedAt, a.ResponseStatus, cleanText(a.Error),
		u.WorkflowRunID, a.ID, a.Trigger, a.DurationMs, cleanText(a.RequestURL), a.RequestMethod,
		cleanMap(a.RequestHeaders), cleanMap(a.ResponseHeaders), cleanText(a.ResponseBody), a.RetryAfterMs,
		u.DisableWebhook, a.ActivityKey, a.Outcome,
	).Scan(&number)
	if err != nil {
		return 0, wrap("record attempt", err)
	}
	return number, nil
}
