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
	"github.com/hookd/hookd/internal/validation"
	"github.com/hookd/hookd/internal/webhook"
)

// Statuses of a replay (API.md "Replays").
const (
	ReplayRunning   = "running"
	ReplayCompleted = "completed"
	ReplayCanceled  = "canceled"
	ReplayFailed    = "failed"
)

// MaxReplayDeliveries caps what one replay matches: its deliveries are listed in one
// transaction when it is created (replay_deliveries), which stays within a second or so
// up to this many. A larger replay is several, by narrower since and until.
const MaxReplayDeliveries = 100_000

// ReplayFilter is what a replay resends: either DeliveryIDs (whatever their status), or
// the deliveries created in [Since, Until) narrowed by the other fields, with Status
// "failed" (the default) or "all".
type ReplayFilter struct {
	DeliveryIDs []string   `json:"deliveryIds,omitempty"`
	Since       *time.Time `json:"since,omitempty"`
	Until       *time.Time `json:"until,omitempty"`
	WebhookID   string     `json:"webhookId,omitempty"`
	EventTypes  []string   `json:"eventTypes,omitempty"`
	Status      string     `json:"status,omitempty"` // "failed" | "all"; "" with ids
}

// OnlyFailed reports whether the replay resends failed deliveries only: a delivery it
// matched that is no longer failed when reached is skipped.
func (f ReplayFilter) OnlyFailed() bool {
	return len(f.DeliveryIDs) == 0 && f.Status != "all"
}

// Replay is one replay with its progress. Succeeded and Failed count the replay's own
// attempts that have come back (2xx, or anything else, an interrupted attempt included);
// Replayed counts the deliveries it has asked to attempt, Skipped those it matched but
// found no longer replayable (or deleted) when it reached them. Once it is completed,
// Replayed + Skipped = Matched.
type Replay struct {
	ID            string
	OrgID         string
	Status        string
	Filter        ReplayFilter
	RatePerSecond int
	Matched       int64
	Replayed      int64
	Skipped       int64
	Succeeded     int64
	Failed        int64
	Cursor        int64 // last position handled
	Error         string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	FinishedAt    *time.Time
}

// replayCols reads a replay r with its outcomes, counted from its attempts: a delivery's
// through attempts_replay_idx (index only), a batched delivery's through the batch
// attempt that claimed it, looked for only if the replay made any batch attempt.
const replayCols = `r.id, r.org_id, r.status, r.filter, r.rate_per_second, r.matched, r.replayed,
    r.skipped, r.cursor, r.error, r.created_at, r.updated_at, r.finished_at,
    sa.ok + COALESCE(sb.ok, 0), sa.bad + COALESCE(sb.bad, 0)`

const replayFrom = `replays r
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE ` + replayOK + `) AS ok, count(*) FILTER (WHERE ` + replayBad + `) AS bad
        FROM attempts a WHERE a.replay_id = r.id
    ) sa
    LEFT JOIN LATERAL (
        SELECT count(*) FILTER (WHERE ` + replayOK + `) AS ok, count(*) FILTER (WHERE ` + replayBad + `) AS bad
        FROM replay_deliveries rd JOIN batch_attempts a ON a.id = rd.attempt_id
        WHERE rd.replay_id = r.id AND EXISTS (SELECT FROM batch_attempts x WHERE x.replay_id = r.id)
    ) sb ON true`

// An attempt that succeeded answered 2xx; one that failed answered anything else, or
// nothing, or was interrupted. One still sending is neither yet.
const (
	replayOK  = `a.state = 'completed' AND a.response_status BETWEEN 200 AND 299`
	replayBad = `a.state = 'interrupted' OR (a.state = 'completed' AND NOT COALESCE(a.response_status BETWEEN 200 AND 299, false))`
)

func replayDest(r *Replay) []any {
	return []any{&r.ID, &r.OrgID, &r.Status, &r.Filter, &r.RatePerSecond, &r.Matched, &r.Replayed,
		&r.Skipped, &r.Cursor, &r.Error, &r.CreatedAt, &r.UpdatedAt, &r.FinishedAt, &r.Succeeded, &r.Failed}
}

// CreateReplay records a replay of organization r.OrgID's deliveries that r.Filter
// matches, at r.RatePerSecond, and returns it with Matched counted: r.ID (default a new
// rpl_ id), and in the same transaction the deliveries matched, in order (by ids: as
// listed; by filter: as created), which the replay resends. A filter names deliveries
// created in [Since, Until) (either nil: unbounded), of WebhookID and EventTypes if
// given, failed unless Status is "all". A replay that matches nothing is recorded
// completed (it has no workflow to start).
//
// A *validation.Errors names each of DeliveryIDs that is not a delivery of the
// organization ("deliveryIds[i]"), or says that the filter matches more than
// MaxReplayDeliveries ("until"); nothing is recorded then.
func (s *Store) CreateReplay(ctx context.Context, r Replay) (Replay, error) {
	if r.ID == "" {
		r.ID = ids.New(ids.Replay)
	}
	var out Replay
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO replays (id, org_id, filter, rate_per_second) VALUES ($1, $2, $3, $4)`,
			r.ID, r.OrgID, r.Filter, r.RatePerSecond); err != nil {
			return err
		}
		var matched int64
		var err error
		if len(r.Filter.DeliveryIDs) > 0 {
			matched, err = insertReplayIDs(ctx, tx, r)
		} else {
			matched, err = insertReplayFilter(ctx, tx, r)
		}
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `
            UPDATE replays r SET matched = $2::bigint,
                status = CASE WHEN $2::bigint = 0 THEN 'completed' ELSE r.status END,
                finished_at = CASE WHEN $2::bigint = 0 THEN now() END
            WHERE r.id = $1
            RETURNING `+replayColsBare, r.ID, matched).Scan(replayDest(&out)...)
	})
	var verr *validation.Errors
	if errors.As(err, &verr) {
		return Replay{}, err
	}
	return out, wrap("create replay", err)
}

// replayColsBare is replayCols for a replay just written, which has no attempt yet.
const replayColsBare = `r.id, r.org_id, r.status, r.filter, r.rate_per_second, r.matched, r.replayed,
    r.skipped, r.cursor, r.error, r.created_at, r.updated_at, r.finished_at, 0::bigint, 0::bigint`

// insertReplayIDs lists r's deliveries by id, in the order given (a repeated id counts
// once, where first given), and returns how many; a field error for each unknown one.
func insertReplayIDs(ctx context.Context, tx pgx.Tx, r Replay) (int64, error) {
	rows, err := tx.Query(ctx, `
        SELECT t.ord FROM unnest($1::text[]) WITH ORDINALITY AS t (id, ord)
        WHERE NOT EXISTS (SELECT FROM deliveries d WHERE d.id = t.id AND d.org_id = $2)
        ORDER BY t.ord`, r.Filter.DeliveryIDs, r.OrgID)
	if err != nil {
		return 0, err
	}
	unknown, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, err
	}
	if len(unknown) > 0 {
		var v validation.Errors
		for _, ord := range unknown {
			i := int(ord - 1)
			v.Add("deliveryIds["+strconv.Itoa(i)+"]", "no delivery %q in this organization", r.Filter.DeliveryIDs[i])
		}
		return 0, &v
	}
	tag, err := tx.Exec(ctx, `
        INSERT INTO replay_deliveries (replay_id, position, delivery_id)
        SELECT $1, row_number() OVER (ORDER BY min(t.ord)), t.id
        FROM unnest($2::text[]) WITH ORDINALITY AS t (id, ord)
        GROUP BY t.id`, r.ID, r.Filter.DeliveryIDs)
	return tag.RowsAffected(), err
}

// insertReplayFilter lists r's deliveries by its filter, oldest first, and returns how
// many; a field error past MaxReplayDeliveries.
func insertReplayFilter(ctx context.Context, tx pgx.Tx, r Replay) (int64, error) {
	f := r.Filter
	args := []any{r.ID, r.OrgID}
	where := []string{"d.org_id = $2"}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Since != nil {
		add("d.created_at >= ?", *f.Since)
	}
	if f.Until != nil {
		add("d.created_at < ?", *f.Until)
	}
	if f.WebhookID != "" {
		add("d.webhook_id = ?", f.WebhookID)
	}
	if len(f.EventTypes) > 0 {
		add("d.event_type = ANY (?)", f.EventTypes)
	}
	if f.OnlyFailed() {
		add("d.status = ?", StatusFailed)
	}
	args = append(args, MaxReplayDeliveries+1)
	tag, err := tx.Exec(ctx, `
        INSERT INTO replay_deliveries (replay_id, position, delivery_id)
        SELECT $1, row_number() OVER (ORDER BY m.seq), m.id
        FROM (SELECT d.id, d.seq FROM deliveries d WHERE `+strings.Join(where, " AND ")+`
              ORDER BY d.seq LIMIT $`+strconv.Itoa(len(args))+`) m`, args...)
	if err != nil {
		return 0, err
	}
	if tag.RowsAffected() > MaxReplayDeliveries {
		var v validation.Errors
		v.Add("until", "the replay would match more than %d deliveries; replay them in parts, by narrower since and until", MaxReplayDeliveries)
		return 0, &v
	}
	return tag.RowsAffected(), nil
}

// GetReplay returns the organization's replay id with its progress, or ErrNotFound.
func (s *Store) GetReplay(ctx context.Context, orgID, id string) (Replay, error) {
	var r Replay
	err := s.pool.QueryRow(ctx, `SELECT `+replayCols+` FROM `+replayFrom+` WHERE r.org_id = $1 AND r.id = $2`,
		orgID, id).Scan(replayDest(&r)...)
	return r, wrap("get replay", err)
}

// ListReplays pages through the organization's replays, newest first, with their
// progress.
func (s *Store) ListReplays(ctx context.Context, orgID string, p Page) ([]Replay, string, error) {
	pg, err := keyset(p, "replays", orgID, nil)
	if err != nil {
		return nil, "", listErr("list replays", err)
	}
	rows, err := s.pool.Query(ctx, `
        SELECT `+replayCols+`, r.seq FROM `+replayFrom+`
        WHERE r.org_id = $1 AND r.seq < $2 ORDER BY r.seq DESC LIMIT $3`, orgID, pg.before, pg.fetch)
	if err != nil {
		return nil, "", wrap("list replays", err)
	}
	out, next, err := collectPage(rows, pg, func(row pgx.CollectableRow, seq *int64) (Replay, error) {
		var r Replay
		err := row.Scan(withSeq(replayDest(&r), seq)...)
		return r, err
	})
	return out, next, wrap("list replays", err)
}

// CancelReplay marks the organization's running replay id canceled and returns it so.
// ErrNotFound for an unknown id; ErrConflict (wrapped), with the replay as it is, for a
// replay that is not running.
func (s *Store) CancelReplay(ctx context.Context, orgID, id string) (Replay, error) {
	tag, err := s.pool.Exec(ctx, `
        UPDATE replays SET status = 'canceled', finished_at = now(), updated_at = now()
        WHERE org_id = $1 AND id = $2 AND status = 'running'`, orgID, id)
	if err != nil {
		return Replay{}, wrap("cancel replay", err)
	}
	r, err := s.GetReplay(ctx, orgID, id)
	if err != nil {
		return Replay{}, err
	}
	if tag.RowsAffected() == 0 {
		return r, fmt.Errorf("cancel replay %s: it is %s: %w", id, r.Status, ErrConflict)
	}
	return r, nil
}

// MarkReplayStarted records that replay id's workflow was started.
func (s *Store) MarkReplayStarted(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `UPDATE replays SET workflow_started = true WHERE id = $1`, id)
	return wrap("mark replay started", err)
}

// UnstartedReplays returns up to limit running replays created before createdBefore
// whose workflow was never started, oldest first (without their outcomes): for the
// reconciler.
func (s *Store) UnstartedReplays(ctx context.Context, createdBefore time.Time, limit int) ([]Replay, error) {
	rows, err := s.pool.Query(ctx, `
        SELECT `+replayColsBare+` FROM replays r
        WHERE r.status = 'running' AND NOT r.workflow_started AND r.created_at < $1
        ORDER BY r.created_at LIMIT $2`, createdBefore, limit)
	if err != nil {
		return nil, wrap("unstarted replays", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Replay, error) {
		var r Replay
		err := row.Scan(replayDest(&r)...)
		return r, err
	})
	return out, wrap("unstarted replays", err)
}

// ReplayItem is one delivery a replay matched, as it is when the replay reads it.
type ReplayItem struct {
	Position      int64
	Delivery      Delivery
	WebhookStatus string
}

// ReplayPage returns replay id (without its outcomes; not scoped to an organization: the
// id comes from Temporal) and up to limit of its deliveries after its cursor, in order.
// A delivery deleted since the replay matched it is not among them (see AdvanceReplay).
// ErrNotFound if the replay is gone.
func (s *Store) ReplayPage(ctx context.Context, id string, limit int) (Replay, []ReplayItem, error) {
	var r Replay
	err := s.pool.QueryRow(ctx, `SELECT `+replayColsBare+` FROM replays r WHERE r.id = $1`, id).Scan(replayDest(&r)...)
	if err != nil {
		return Replay{}, nil, wrap("replay page", err)
	}
	rows, err := s.pool.Query(ctx, `
        SELECT rd.position, `+deliveryCols+`, w.status, COALESCE(w.settings->>'url', '')
        FROM replay_deliveries rd
        JOIN deliveries d ON d.id = rd.delivery_id
        JOIN webhooks w ON w.id = d.webhook_id
        WHERE rd.replay_id = $1 AND rd.position > $2
        ORDER BY rd.position LIMIT $3`, id, r.Cursor, limit)
	if err != nil {
		return Replay{}, nil, wrap("replay page", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ReplayItem, error) {
		var (
			it  ReplayItem
			url string
		)
		err := row.Scan(append([]any{&it.Position}, append(deliveryDest(&it.Delivery), &it.WebhookStatus, &url)...)...)
		it.Delivery.TargetHost = webhook.TargetHost(url)
		return it, err
	})
	return r, items, wrap("replay page", err)
}

// ReopenForReplay makes the delivery pending for replay replayID, if its status is one
// of from, unless the replay's attempt for it has already begun (claimed: see
// BeginAttempt), in which case it changes nothing and reports claimed. It holds the
// replay's row for the delivery while it looks and writes, as the attempt's claim does,
// so that a replay redone after a restart never reopens a delivery its attempt has
// settled (which would leave it pending for good). A delivery this replay already made
// pending (a redo after a restart before its signal was recorded) is returned as it is,
// to be signalled again. ErrConflict (wrapped), with the delivery as it is, if its status
// is not one of from, or if it is pending for any other reason (another replay, a retry
// or its own schedule made it so: an attempt is already due); ErrNotFound if the
// delivery (or the replay's row for it) is gone; ErrReplayNotRunning (wrapped), changing
// nothing, if the replay was canceled (or has ended) meanwhile.
func (s *Store) ReopenForReplay(ctx context.Context, replayID, deliveryID string, from []string) (d Delivery, claimed bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var (
			status   string
			reopened bool
		)
		if err := tx.QueryRow(ctx, `
            SELECT rd.attempt_id IS NOT NULL, rd.reopened_at IS NOT NULL, r.status
            FROM replay_deliveries rd JOIN replays r ON r.id = rd.replay_id
            WHERE rd.replay_id = $1 AND rd.delivery_id = $2 FOR UPDATE OF rd`, replayID, deliveryID).Scan(&claimed, &reopened, &status); err != nil {
			return err
		}
		switch {
		case claimed:
			return nil
		case status != ReplayRunning:
			return fmt.Errorf("reopen delivery %s for replay %s: %w", deliveryID, replayID, ErrReplayNotRunning)
		}
		err := tx.QueryRow(ctx, `
            WITH d AS (
                UPDATE deliveries d SET status = 'pending', next_attempt_at = NULL, updated_at = now()
                WHERE d.id = $1 AND d.status = ANY ($2)
                RETURNING `+deliveryCols+`
            ), rd AS (
                UPDATE replay_deliveries rd SET reopened_at = now()
                FROM d WHERE rd.replay_id = $3 AND rd.delivery_id = d.id
            )
            SELECT * FROM d`, deliveryID, from, replayID).Scan(deliveryDest(&d)...)
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT `+deliveryCols+` FROM deliveries d WHERE d.id = $1`, deliveryID).
			Scan(deliveryDest(&d)...); err != nil {
			return err
		}
		if reopened && d.Status == StatusPending {
			return nil // this replay's own reopening, whose signal may not have gone out
		}
		return fmt.Errorf("reopen delivery %s for replay: it is %s: %w", deliveryID, d.Status, ErrConflict)
	})
	if errors.Is(err, ErrConflict) {
		return d, false, err
	}
	return d, claimed, wrap("reopen for replay", err)
}

// ErrReplayNotRunning is returned, wrapped, by ReopenForReplay for a replay that is no
// longer running (canceled): it reopens nothing more. It is an ErrConflict.
var ErrReplayNotRunning = fmt.Errorf("the replay is not running: %w", ErrConflict)

// AdvanceReplay records that replay id handled its deliveries after position from up to
// position to, replayed of them replayed (asked for an attempt) and the others skipped
// (no longer replayable, or deleted: gone from the page), and returns the replay's
// status. ErrConflict (wrapped) if the replay's cursor is not at from (another execution
// of its page recorded progress meanwhile), in which case nothing changes.
func (s *Store) AdvanceReplay(ctx context.Context, id string, from, to, replayed int64) (status string, err error) {
	err = s.pool.QueryRow(ctx, `
        UPDATE replays SET
            replayed = replayed + $4::bigint,
            skipped = skipped + ($3::bigint - cursor) - $4::bigint,
            cursor = $3::bigint, updated_at = now()
        WHERE id = $1 AND cursor = $2::bigint AND $3::bigint > $2::bigint
        RETURNING status`, id, from, to, replayed).Scan(&status)
	if !errors.Is(err, pgx.ErrNoRows) {
		return status, wrap("advance replay", err)
	}
	var cursor int64
	if err := s.pool.QueryRow(ctx, `SELECT status, cursor FROM replays WHERE id = $1`, id).Scan(&status, &cursor); err != nil {
		return "", wrap("advance replay", err)
	}
	return status, fmt.Errorf("advance replay %s from %d to %d: its cursor is at %d: %w", id, from, to, cursor, ErrConflict)
}

// FinishReplay ends running replay id with status (completed, canceled or failed) and,
// for failed, reason as its error. A completed replay counts as skipped whatever it
// matched and did not replay (deliveries deleted meanwhile). A replay that is not
// running is left as it is.
func (s *Store) FinishReplay(ctx context.Context, id, status, reason string) error {
	_, err := s.pool.Exec(ctx, `
        UPDATE replays SET status = $2::text, error = $3, finished_at = now(), updated_at = now(),
            skipped = CASE WHEN $2::text = 'completed' THEN matched - replayed ELSE skipped END
        WHERE id = $1 AND status = 'running'`, id, status, cleanText(reason))
	return wrap("finish replay", err)
}
