package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
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

// deliveryAttemptsSQL lists a delivery's attempts by number: its own, or for a batched
// delivery its batch's (batch_attempts, recorded once for every member).
const deliveryAttemptsSQL = `
SELECT ` + attemptCols + ` FROM attempts a WHERE a.org_id = $1 AND a.delivery_id = $2
UNION ALL
SELECT a.id, d.id, a.org_id, a.number, a.trigger, a.requested_at, a.duration_ms,
    a.request_url, a.request_method, a.request_headers, a.response_status, a.response_headers,
    a.response_body, a.error, a.retry_after_ms, COALESCE(a.activity_key, ''), COALESCE(a.outcome, ''), a.state
FROM deliveries d JOIN batch_attempts a ON a.batch_id = d.batch_id
WHERE d.org_id = $1 AND d.id = $2
ORDER BY 4`

// GetDelivery returns a delivery of the organization with its attempts by number, or
// ErrNotFound. A batched delivery's attempts are its batch's.
func (s *Store) GetDelivery(ctx context.Context, orgID, id string) (Delivery, []Attempt, error) {
	var (
		d  Delivery
		as []Attempt
	)
	b := &pgx.Batch{}
	b.Queue(`SELECT `+deliveryCols+` FROM deliveries d WHERE d.org_id = $1 AND d.id = $2`, orgID, id).
		QueryRow(func(row pgx.Row) error { return row.Scan(deliveryDest(&d)...) })
	b.Queue(deliveryAttemptsSQL, orgID, id).
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
