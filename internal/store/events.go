package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/ids"
	"github.com/hookd/hookd/internal/webhook"
)

// IngestResult is what IngestEvent did.
type IngestResult struct {
	Event      Event
	Deliveries []Delivery // in the order of the webhooks' creation
	Created    bool       // false: the event id existed and nothing was written
}

// insertEventSQL inserts the event unless its id exists in the organization and, only when
// it did insert, returns it with the ids of the enabled webhooks subscribed to its type
// whose level it reaches (never for ping, which goes only to the webhook it was sent to),
// and for each whether its notification is dropped (the webhook is lossy and failing) and
// its throttle ("" for none). It takes the batch lock of each throttled webhook whose
// notification is not dropped, shared (see batchLockKey), before the statements that
// join or open the webhook's batch read: they see any close that committed before it.
var insertEventSQL = `
WITH e AS (
    INSERT INTO events AS e (org_id, id, type, occurred_at, data, level) VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (org_id, id) DO NOTHING
    RETURNING ` + eventCols + `
), m AS (
    SELECT w.id, w.seq, ` + droppedSQL + ` AS dropped,
        COALESCE(w.settings->>'throttle', '') AS throttle, w.settings->>'url' AS url
    FROM webhooks w
    WHERE w.org_id = $1 AND w.status = 'ENABLED' AND $3 <> 'ping'
      AND (CASE w.events_policy WHEN 'include' THEN $3 = ANY (w.events) ELSE NOT ($3 = ANY (w.events)) END)
      AND array_position($7::text[], COALESCE(NULLIF(w.settings->>'level', ''), $7[1])) <= array_position($7::text[], $6)
)
SELECT ` + eventCols + `, ARRAY(SELECT m.id FROM m ORDER BY m.seq), ARRAY(SELECT m.dropped FROM m ORDER BY m.seq),
    ARRAY(SELECT m.throttle FROM m ORDER BY m.seq), ARRAY(SELECT m.url FROM m ORDER BY m.seq),
    (SELECT count(pg_advisory_xact_lock_shared(` + batchLockKey("m.id") + `)) FROM m WHERE m.throttle <> '' AND NOT m.dropped)
FROM e`

// droppedSQL says whether webhook w drops a new notification (API.md `lossy`): it is
// lossy and failing (its newest finished attempt failed), and it was attempted within
// LossyProbeInterval. Past that, notifications go through again as probes, so that a
// receiver that recovers is found (seed 003: dropped "when the endpoint is unreachable or
// persistently failing", not for ever); a probe that fails drops the next ones again.
var droppedSQL = `(COALESCE((w.settings->>'lossy')::boolean, false) AND w.failing
        AND w.last_triggered_at > now() - make_interval(secs => ` + strconv.Itoa(int(LossyProbeInterval.Seconds())) + `))`

// LossyProbeInterval is how long after its last attempt a failing lossy webhook lets
// notifications through again (see droppedSQL).
const LossyProbeInterval = 60 * time.Second

// DroppedReason is the last error of a notification a lossy webhook dropped.
const DroppedReason = "dropped: the webhook is lossy and was failing when the event arrived"

// insertDeliveriesSQL inserts the deliveries of one event. The delivery of a throttled
// webhook ($8) joins the webhook's open batch, which the shared batch lock keeps open,
// and is stored as started, since its batch's workflow drives it; when the webhook has no
// open batch it is stored unbatched and unstarted, and openBatch puts it in a new one.
var insertDeliveriesSQL = `
INSERT INTO deliveries AS d (id, org_id, webhook_id, event_id, event_type, status, last_error, batch_id, workflow_started)
SELECT n.id, $1, n.webhook_id, $2, $3,
    CASE WHEN n.dropped THEN 'canceled' ELSE 'pending' END,
    CASE WHEN n.dropped THEN $7 ELSE '' END,
    n.batch_id, n.batch_id IS NOT NULL
FROM (
    SELECT u.*, CASE WHEN u.throttled AND NOT u.dropped THEN
        (SELECT b.id FROM batches b WHERE b.webhook_id = u.webhook_id AND b.state = 'open') END AS batch_id
    FROM unnest($4::text[], $5::text[], $6::boolean[], $8::boolean[]) WITH ORDINALITY AS u (id, webhook_id, dropped, throttled, i)
) n
ORDER BY n.i
RETURNING ` + deliveryCols

var eventDeliveriesSQL = `SELECT ` + deliveryCols + ` FROM deliveries d WHERE d.org_id = $1 AND d.event_id = $2 ORDER BY d.seq`

// IngestEvent stores an event and fans it out, in one transaction: it inserts the event
// and one pending delivery per enabled webhook of the organization whose policy matches
// the type (include: the type is listed; exclude: it is not) and whose level the event's
// reaches; a lossy webhook that is failing gets its delivery canceled, with
// DroppedReason. An empty ev.ID gets a new evt_ id, a zero Timestamp the current time,
// nil Data an empty object, an empty Level webhook.DefaultEventLevel. If the
// organization already has an event with ev.ID, nothing is written and the stored event
// and its deliveries come back with Created false, whatever ev's other fields say.
//
// The delivery of a throttled webhook (not dropped) joins the webhook's open batch, or
// opens one due a throttle from now (see Batch), and has its BatchID. It is stored as
// started: its batch's workflow drives it, and what the reconciler looks at is the batch
// (UnstartedBatches). The delivery that opened its batch comes back with WorkflowStarted
// false, so that its caller starts the batch's workflow (Schedule of the delivery), once
// per batch, and marks it started (MarkWorkflowsStarted).
func (s *Store) IngestEvent(ctx context.Context, ev Event) (IngestResult, error) {
	return s.ingestEvent(ctx, ev, nil)
}

// TypeCheck judges an event before IngestEvent writes anything for good: it gets the
// event's type as GetEventType returns it (err is ErrNotFound when the organization has
// no such type), and a non-nil answer makes IngestEventChecked store nothing and return
// that answer.
type TypeCheck func(et EventType, err error) error

// IngestEventChecked is IngestEvent with the event's type read in the same transaction
// and round trip as the event's insert (one round trip fewer than GetEventType first):
// check judges the event by its type (existence, built in, the data against its schema)
// before the deliveries are inserted, and if it answers an error the transaction is
// rolled back, nothing is stored and that error is returned, whether or not ev.ID
// existed.
func (s *Store) IngestEventChecked(ctx context.Context, ev Event, check TypeCheck) (IngestResult, error) {
	if check == nil {
		return IngestResult{}, errors.New("ingest event: nil type check")
	}
	return s.ingestEvent(ctx, ev, check)
}

// eventTypeSQL reads an event type, as GetEventType does.
const eventTypeSQL = `SELECT ` + eventTypeCols + ` FROM event_types t WHERE t.org_id = $1 AND t.name = $2`

// ingestEvent stores ev as IngestEvent does, checked by check (nil: not). An existing id
// whose event is deleted between the insert that found it and the read of it (retention
// deleting an expired event as it is posted again) is stored as new, once.
func (s *Store) ingestEvent(ctx context.Context, ev Event, check TypeCheck) (IngestResult, error) {
	res, err := s.ingestEventOnce(ctx, ev, check)
	if errors.Is(err, errEventVanished) {
		res, err = s.ingestEventOnce(ctx, ev, check)
	}
	return res, err
}

// errEventVanished: the event whose id an insert found existing was gone when read.
var errEventVanished = errors.New("the existing event was deleted meanwhile")

func (s *Store) ingestEventOnce(ctx context.Context, ev Event, check TypeCheck) (IngestResult, error) {
	ev = normalizeEvent(ev)
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{}) // saves the round trip of a separate BEGIN
	var (
		res        IngestResult
		webhookIDs []string
		dropped    []bool
		throttles  []string
		urls       []string
		locked     int64
		et         EventType
		etErr      error
	)
	if check != nil {
		b.Queue(eventTypeSQL, ev.OrgID, ev.Type).QueryRow(func(row pgx.Row) error {
			err := row.Scan(eventTypeDest(&et)...)
			if errors.Is(err, pgx.ErrNoRows) {
				etErr = wrap("get event type", err)
				return nil
			}
			return err
		})
	}
	b.Queue(insertEventSQL, ev.OrgID, ev.ID, ev.Type, ev.Timestamp, string(ev.Data), ev.Level, webhook.Levels).
		QueryRow(func(row pgx.Row) error {
			err := row.Scan(append(eventDest(&res.Event), &webhookIDs, &dropped, &throttles, &urls, &locked)...)
			if err == nil {
				res.Created = true
				return nil
			}
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			return err
		})
	br := s.pool.SendBatch(ctx, b)
	tx := br.Tx()
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if err := br.Close(); err != nil {
		return IngestResult{}, wrap("insert event", err)
	}
	if check != nil {
		if err := check(et, etErr); err != nil {
			return IngestResult{}, err // rolled back: nothing stored
		}
	}

	if !res.Created {
		// Read in the same transaction; a new statement sees a concurrent insert of this
		// id that committed while ours waited on it.
		ev, ds, err := getEvent(ctx, tx, ev.OrgID, ev.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return IngestResult{}, errEventVanished
		}
		if err != nil {
			return IngestResult{}, wrap("get existing event", err)
		}
		if err := tx.Commit(ctx); err != nil {
			return IngestResult{}, wrap("commit", err)
		}
		return IngestResult{Event: ev, Deliveries: ds}, nil
	}

	if len(webhookIDs) > 0 {
		if err := insertDeliveries(ctx, tx, &res, webhookIDs, dropped, throttles, urls); err != nil {
			return IngestResult{}, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return IngestResult{}, wrap("commit event", err)
	}
	return res, nil
}

// insertDeliveries inserts, in tx, the deliveries of res.Event to webhookIDs (with their
// dropped flags, throttles and URLs). The delivery of a throttled webhook joins the
// webhook's open batch in the same statement; only when the webhook has none (once per
// window) does a second round trip open one and put the delivery in it (openBatch).
func insertDeliveries(ctx context.Context, tx pgx.Tx, res *IngestResult, webhookIDs []string, dropped []bool, throttles, urls []string) error {
	f := newFanOut(webhookIDs, dropped, throttles, urls)
	rows, err := tx.Query(ctx, insertDeliveriesSQL, f.args(res.Event, webhookIDs, dropped)...)
	if err != nil {
		return wrap("insert deliveries", err)
	}
	if res.Deliveries, err = collectDeliveries(rows); err != nil {
		return wrap("insert deliveries", err)
	}
	if err := f.openBatches(ctx, tx, res); err != nil {
		return err
	}
	f.nameHosts(res)
	return nil
}

// fanOut is one event's deliveries about to be inserted: their new ids, which are
// throttled, each throttled webhook's window, and each webhook's target host.
type fanOut struct {
	deliveryIDs []string
	throttled   []bool
	window      map[string]time.Duration
	hosts       map[string]string
}

func newFanOut(webhookIDs []string, dropped []bool, throttles, urls []string) fanOut {
	f := fanOut{
		deliveryIDs: make([]string, len(webhookIDs)), throttled: make([]bool, len(webhookIDs)),
		window: map[string]time.Duration{}, hosts: make(map[string]string, len(webhookIDs)),
	}
	for i, raw := range urls {
		if i < len(webhookIDs) {
			f.hosts[webhookIDs[i]] = webhook.TargetHost(raw)
		}
	}
	for i := range f.deliveryIDs {
		f.deliveryIDs[i] = ids.New(ids.Delivery)
	}
	for i, t := range throttles {
		d, err := time.ParseDuration(t)
		if t == "" || err != nil || d <= 0 || dropped[i] {
			continue // not throttled (or a value no rule writes: sent one by one)
		}
		f.throttled[i], f.window[webhookIDs[i]] = true, d
	}
	return f
}

// args are insertDeliveriesSQL's arguments for ev's deliveries.
func (f fanOut) args(ev Event, webhookIDs []string, dropped []bool) []any {
	return []any{ev.OrgID, ev.ID, ev.Type, f.deliveryIDs, webhookIDs, dropped, DroppedReason, f.throttled}
}

// nameHosts sets the TargetHost of res's deliveries.
func (f fanOut) nameHosts(res *IngestResult) {
	for i, d := range res.Deliveries {
		res.Deliveries[i].TargetHost = f.hosts[d.WebhookID]
	}
}

// openBatches puts each throttled delivery of res that found no open batch in a new one
// (openBatch).
func (f fanOut) openBatches(ctx context.Context, tx pgx.Tx, res *IngestResult) error {
	for i, d := range res.Deliveries {
		if w, ok := f.window[d.WebhookID]; ok && d.BatchID == "" {
			var err error
			if res.Deliveries[i], err = openBatch(ctx, tx, d, w); err != nil {
				return wrap("open batch", err)
			}
		}
	}
	return nil
}

// openBatch opens a batch of d's webhook due window from now, unless another transaction
// opened one meanwhile, and puts d in the webhook's open batch. It returns d with its
// batch, and with WorkflowStarted false if this call opened the batch: the caller starts
// the batch it opened (see IngestEvent).
func openBatch(ctx context.Context, tx pgx.Tx, d Delivery, window time.Duration) (Delivery, error) {
	var (
		opened []string
		out    Delivery
	)
	b := &pgx.Batch{}
	b.Queue(openBatchesSQL, d.OrgID, []string{d.WebhookID}, []string{ids.New(ids.Batch)}, []int64{window.Milliseconds()}).
		Query(func(rows pgx.Rows) error {
			var err error
			opened, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
	// A statement of its own: it sees the batch a concurrent opener committed.
	b.Queue(`
        UPDATE deliveries d SET workflow_started = true,
            batch_id = (SELECT b.id FROM batches b WHERE b.webhook_id = d.webhook_id AND b.state = 'open')
        WHERE d.id = $1
        RETURNING `+deliveryCols, d.ID).QueryRow(func(row pgx.Row) error { return row.Scan(deliveryDest(&out)...) })
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return Delivery{}, err
	}
	if out.BatchID == "" {
		return Delivery{}, fmt.Errorf("no open batch for webhook %s after opening one", d.WebhookID)
	}
	if len(opened) > 0 {
		out.WorkflowStarted = false
	}
	return out, nil
}

// CreatePing stores a "ping" event with one pending delivery to the given webhook of the
// organization, whatever the webhook's status or subscriptions. ErrNotFound if there is
// no such webhook.
func (s *Store) CreatePing(ctx context.Context, orgID, webhookID string) (Event, Delivery, error) {
	var (
		ev Event
		d  Delivery
	)
	err := s.pool.QueryRow(ctx, `
        WITH w AS (SELECT id, org_id FROM webhooks WHERE org_id = $1 AND id = $2),
        e AS (
            INSERT INTO events AS e (org_id, id, type, occurred_at, data)
            SELECT w.org_id, $3, 'ping', now(), '{}' FROM w
            RETURNING `+eventCols+`
        ), d AS (
            INSERT INTO deliveries AS d (id, org_id, webhook_id, event_id, event_type)
            SELECT $4, w.org_id, w.id, e.id, e.type FROM w, e
            RETURNING `+deliveryCols+`
        )
        SELECT e.*, d.* FROM e, d`,
		orgID, webhookID, ids.New(ids.Event), ids.New(ids.Delivery),
	).Scan(append(eventDest(&ev), deliveryDest(&d)...)...)
	if err != nil {
		return Event{}, Delivery{}, wrap("create ping", err)
	}
	return ev, d, nil
}

// MarkWorkflowsStarted records that Delivery workflows exist for these deliveries, so the
// reconciler leaves them alone; for a batched delivery, that its batch's workflow exists
// (the batch is marked too). Unknown ids are ignored.
func (s *Store) MarkWorkflowsStarted(ctx context.Context, deliveryIDs []string) error {
	if len(deliveryIDs) == 0 {
		return nil
	}
	var err error
	if len(deliveryIDs) == 1 {
		_, err = s.pool.Exec(ctx, markWorkflowStartedSQL, deliveryIDs[0])
	} else {
		_, err = s.pool.Exec(ctx, markWorkflowsStartedSQL, deliveryIDs)
	}
	return wrap("mark workflows started", err)
}

// markWorkflowsStartedSQL is MarkWorkflowsStarted for the deliveries $1.
const markWorkflowsStartedSQL = `
WITH d AS (
    UPDATE deliveries SET workflow_started = true WHERE id = ANY ($1) AND NOT workflow_started
)
UPDATE batches SET workflow_started = true
WHERE id IN (SELECT batch_id FROM deliveries WHERE id = ANY ($1) AND batch_id IS NOT NULL)
  AND NOT workflow_started`

// markWorkflowStartedSQL is markWorkflowsStartedSQL for the one delivery $1, the usual
// publish: PostgreSQL plans the array's form afresh at every execution (its generic plan
// never looks cheaper than one made for the array at hand), this one once.
const markWorkflowStartedSQL = `
WITH d AS (
    UPDATE deliveries SET workflow_started = true WHERE id = $1 AND NOT workflow_started
)
UPDATE batches SET workflow_started = true
WHERE id = (SELECT batch_id FROM deliveries WHERE id = $1) AND NOT workflow_started`

// UnstartedDeliveries returns up to limit pending deliveries of any organization that were
// created before createdBefore and have no workflow yet, oldest first: the reconciler's
// work after a crash between commit and workflow start. Batched deliveries are left out:
// their batch is the one to start (UnstartedBatches).
func (s *Store) UnstartedDeliveries(ctx context.Context, createdBefore time.Time, limit int) ([]Delivery, error) {
	rows, err := s.pool.Query(ctx, `
        SELECT `+deliveryCols+` FROM deliveries d
        WHERE d.status = 'pending' AND NOT d.workflow_started AND d.created_at < $1 AND d.batch_id IS NULL
        ORDER BY d.created_at, d.seq LIMIT $2`, createdBefore, limit)
	if err != nil {
		return nil, wrap("list unstarted deliveries", err)
	}
	ds, err := collectDeliveries(rows)
	return ds, wrap("list unstarted deliveries", err)
}

// GetEvent returns an event of the organization with its deliveries (oldest first), or
// ErrNotFound.
func (s *Store) GetEvent(ctx context.Context, orgID, id string) (Event, []Delivery, error) {
	ev, ds, err := getEvent(ctx, s.pool, orgID, id)
	if err != nil {
		return Event{}, nil, wrap("get event", err)
	}
	return ev, ds, nil
}

// querier is what pgxpool.Pool and pgx.Tx have in common here.
type querier interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// getEvent reads the event and its deliveries in one round trip.
func getEvent(ctx context.Context, q querier, orgID, id string) (Event, []Delivery, error) {
	var (
		ev Event
		ds []Delivery
	)
	b := &pgx.Batch{}
	b.Queue(`SELECT `+eventCols+` FROM events e WHERE e.org_id = $1 AND e.id = $2`, orgID, id).
		QueryRow(func(row pgx.Row) error { return row.Scan(eventDest(&ev)...) })
	b.Queue(eventDeliveriesSQL, orgID, id).Query(func(rows pgx.Rows) error {
		var err error
		ds, err = collectDeliveries(rows)
		return err
	})
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return Event{}, nil, err
	}
	return ev, ds, nil
}

// ListEvents pages through the organization's events, newest first.
func (s *Store) ListEvents(ctx context.Context, orgID string, p Page) ([]Event, string, error) {
	pg, err := keyset(p, "events", orgID, nil)
	if err != nil {
		return nil, "", listErr("list events", err)
	}
	rows, err := s.pool.Query(ctx, `
        SELECT `+eventCols+`, e.seq FROM events e
        WHERE e.org_id = $1 AND e.seq < $2 ORDER BY e.seq DESC LIMIT $3`, orgID, pg.before, pg.fetch)
	if err != nil {
		return nil, "", wrap("list events", err)
	}
	out, next, err := collectPage(rows, pg, func(row pgx.CollectableRow, seq *int64) (Event, error) {
		var e Event
		return e, row.Scan(withSeq(eventDest(&e), seq)...)
	})
	return out, next, wrap("list events", err)
}

func collectDeliveries(rows pgx.Rows) ([]Delivery, error) {
	ds, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		err := row.Scan(deliveryDest(&d)...)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("scan delivery: %w", err)
	}
	return ds, nil
}
