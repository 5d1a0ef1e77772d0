package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/ids"
	"github.com/hookd/hookd/internal/webhook"
)

// CheckedEvent is one event of IngestEvents with the check that judges it by its type
// (nil: not judged, as IngestEvent).
type CheckedEvent struct {
	Event Event
	Check TypeCheck
}

// IngestOutcome is what IngestEvents did with one event: its IngestResult, or the error
// that event alone answers (its check's, or a store error).
type IngestOutcome struct {
	Result IngestResult
	Err    error
}

// IngestEvents is IngestEventChecked (IngestEvent for a nil Check) for several events
// at once, committed together in one transaction (group commit: one commit, one WAL
// flush, a few round trips for the whole group instead of several per event). The
// outcomes come back in the order of evs, each exactly what IngestEventChecked would
// answer for that event alone:
//
//   - every event's type is read first, in the transaction, and an event its check
//     refuses is left out (nothing stored for it, its check's error answered) without
//     touching the others;
//   - a new id is stored with one delivery per matching webhook, as IngestEvent does
//     (throttled deliveries join or open their webhook's batch; the one that opened it
//     comes back with WorkflowStarted false, once per batch even when several events of
//     the group go to that webhook);
//   - a repeated id, also one repeated within evs, answers the event first stored with
//     its deliveries and Created false.
//
// Nothing is answered before the commit that holds the event and its deliveries. If
// the group's transaction fails for any reason (one event's bad data, a deadlock, a
// lost connection), it is rolled back and every event not yet refused is stored again
// alone, in a transaction of its own (IngestEventChecked), so that one event's failure
// answers only that event. ctx should not be one caller's: its end fails the group.
func (s *Store) IngestEvents(ctx context.Context, evs []CheckedEvent) []IngestOutcome {
	out := make([]IngestOutcome, len(evs))
	if len(evs) == 0 {
		return out
	}
	if len(evs) == 1 {
		out[0].Result, out[0].Err = s.ingestEvent(ctx, evs[0].Event, evs[0].Check)
		return out
	}
	todo := make([]int, 0, len(evs))
	for i := range evs {
		evs[i].Event = normalizeEvent(evs[i].Event)
		todo = append(todo, i)
	}
	// Insert in one order (organization, id) in every group, so that two groups holding
	// the same ids wait on each other's rows in the same order rather than deadlock.
	slices.SortStableFunc(todo, func(a, b int) int {
		return cmp.Or(cmp.Compare(evs[a].Event.OrgID, evs[b].Event.OrgID), cmp.Compare(evs[a].Event.ID, evs[b].Event.ID))
	})
	stored, err := s.ingestGroup(ctx, evs, todo, out)
	if err == nil {
		return out
	}
	for _, i := range stored { // the group failed: each alone
		out[i] = IngestOutcome{}
		out[i].Result, out[i].Err = s.ingestEvent(ctx, evs[i].Event, evs[i].Check)
	}
	return out
}

// insertEventsSQL is insertEventSQL for several events at once ($1-$6: arrays of their
// organizations, ids, types, times, data and levels; $7 webhook.Levels): it inserts
// each event whose id is new in its organization (the first one of the arrays when an id
// repeats) and returns, for each event inserted, the event with the ids, dropped flags
// and throttles of its webhooks in their order of creation. It takes, shared, the batch
// lock of every throttled webhook one of the events notifies (see insertEventSQL).
var insertEventsSQL = `
WITH i AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[])
        WITH ORDINALITY AS i (org_id, id, type, occurred_at, data, level, n)
), e AS (
    INSERT INTO events AS e (org_id, id, type, occurred_at, data, level)
    SELECT i.org_id, i.id, i.type, i.occurred_at, i.data::json, i.level FROM i ORDER BY i.n
    ON CONFLICT (org_id, id) DO NOTHING
    RETURNING ` + eventCols + `
), m AS (
    SELECT e.org_id AS event_org, e.id AS event_id, w.id, w.seq,
        ` + droppedSQL + ` AS dropped,
        COALESCE(w.settings->>'throttle', '') AS throttle, w.settings->>'url' AS url
    FROM e JOIN webhooks w ON w.org_id = e.org_id
    WHERE w.status = 'ENABLED' AND e.type <> 'ping'
      AND (CASE w.events_policy WHEN 'include' THEN e.type = ANY (w.events) ELSE NOT (e.type = ANY (w.events)) END)
      AND array_position($7::text[], COALESCE(NULLIF(w.settings->>'level', ''), $7[1])) <= array_position($7::text[], e.level)
), l AS (
    SELECT count(pg_advisory_xact_lock_shared(` + batchLockKey("t.id") + `)) AS n
    FROM (SELECT DISTINCT m.id FROM m WHERE m.throttle <> '' AND NOT m.dropped ORDER BY m.id) t
)
SELECT ` + eventCols + `,
    ARRAY(SELECT m.id FROM m WHERE m.event_org = e.org_id AND m.event_id = e.id ORDER BY m.seq),
    ARRAY(SELECT m.dropped FROM m WHERE m.event_org = e.org_id AND m.event_id = e.id ORDER BY m.seq),
    ARRAY(SELECT m.throttle FROM m WHERE m.event_org = e.org_id AND m.event_id = e.id ORDER BY m.seq),
    ARRAY(SELECT m.url FROM m WHERE m.event_org = e.org_id AND m.event_id = e.id ORDER BY m.seq),
    l.n
FROM e, l`

// insertGroupDeliveriesSQL is insertDeliveriesSQL for the deliveries of several events
// ($1-$5: arrays of their ids, organizations, webhooks, events and event types; $6
// dropped; $7 DroppedReason; $8 throttled), returned in the order of the arrays.
var insertGroupDeliveriesSQL = `
INSERT INTO deliveries AS d (id, org_id, webhook_id, event_id, event_type, status, last_error, batch_id, workflow_started)
SELECT n.id, n.org_id, n.webhook_id, n.event_id, n.event_type,
    CASE WHEN n.dropped THEN 'canceled' ELSE 'pending' END,
    CASE WHEN n.dropped THEN $7 ELSE '' END,
    n.batch_id, n.batch_id IS NOT NULL
FROM (
    SELECT u.*, CASE WHEN u.throttled AND NOT u.dropped THEN
        (SELECT b.id FROM batches b WHERE b.webhook_id = u.webhook_id AND b.state = 'open') END AS batch_id
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $8::boolean[])
        WITH ORDINALITY AS u (id, org_id, webhook_id, event_id, event_type, dropped, throttled, i)
) n
ORDER BY n.i
RETURNING ` + deliveryCols

// normalizeEvent fills what IngestEvent fills in an event: an id, the time, the data, the
// level.
func normalizeEvent(ev Event) Event {
	if ev.ID == "" {
		ev.ID = ids.New(ids.Event)
	}
	if ev.Timestamp.IsZero() {
		ev.Timestamp = time.Now()
	}
	if len(ev.Data) == 0 {
		ev.Data = json.RawMessage(`{}`)
	}
	ev.Level = cmp.Or(ev.Level, webhook.DefaultEventLevel)
	return ev
}

// ingestGroup runs IngestEvents' transaction over evs[todo...] (todo in insertion order),
// writing the refused events' outcomes into out as it judges them. It returns the indexes
// of the events it meant to store; their outcomes in out are final only when err is nil
// (the transaction committed).
func (s *Store) ingestGroup(ctx context.Context, evs []CheckedEvent, todo []int, out []IngestOutcome) (stored []int, err error) {
	// Round trip 1: BEGIN and every checked event's type.
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	types := make([]EventType, len(evs))
	typeErrs := make([]error, len(evs))
	for _, i := range todo {
		if evs[i].Check == nil {
			continue
		}
		b.Queue(eventTypeSQL, evs[i].Event.OrgID, evs[i].Event.Type).QueryRow(func(row pgx.Row) error {
			err := row.Scan(eventTypeDest(&types[i])...)
			if errors.Is(err, pgx.ErrNoRows) {
				typeErrs[i] = wrap("get event type", err)
				return nil
			}
			return err
		})
	}
	br := s.pool.SendBatch(ctx, b)
	tx := br.Tx()
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if err := br.Close(); err != nil {
		return todo, wrap("read event types", err)
	}
	stored = make([]int, 0, len(todo))
	for _, i := range todo {
		if evs[i].Check != nil {
			if err := evs[i].Check(types[i], typeErrs[i]); err != nil {
				out[i].Err = err // refused: nothing stored for it
				continue
			}
		}
		stored = append(stored, i)
	}
	if len(stored) == 0 {
		return nil, nil
	}

	// Round trip 2: the events, in one statement.
	var (
		orgs, evIDs, evTypes, datas, levels []string
		times                               []time.Time
	)
	for _, i := range stored {
		ev := evs[i].Event
		orgs, evIDs, evTypes = append(orgs, ev.OrgID), append(evIDs, ev.ID), append(evTypes, ev.Type)
		times, datas, levels = append(times, ev.Timestamp), append(datas, string(ev.Data)), append(levels, ev.Level)
	}
	type inserted struct {
		webhookIDs []string
		dropped    []bool
		throttles  []string
		urls       []string
	}
	type key struct{ org, id string }
	ins := map[key]*inserted{}
	created := map[key]Event{}
	rows, err := tx.Query(ctx, insertEventsSQL, orgs, evIDs, evTypes, times, datas, levels, webhook.Levels)
	if err != nil {
		return stored, wrap("insert events", err)
	}
	for rows.Next() {
		var (
			e      Event
			in     inserted
			locked int64
		)
		if err := rows.Scan(append(eventDest(&e), &in.webhookIDs, &in.dropped, &in.throttles, &in.urls, &locked)...); err != nil {
			rows.Close()
			return stored, wrap("insert events", err)
		}
		k := key{e.OrgID, e.ID}
		created[k], ins[k] = e, &in
	}
	if err := rows.Err(); err != nil {
		return stored, wrap("insert events", err)
	}
	// The first of the group with a new id is the one created; a later one with that
	// id is a repeat.
	for _, i := range stored {
		k := key{evs[i].Event.OrgID, evs[i].Event.ID}
		if e, ok := created[k]; ok {
			out[i].Result = IngestResult{Event: e, Created: true}
			delete(created, k)
		}
	}

	// Round trip 3: every delivery of the events stored now, in one statement; then the
	// batches they open.
	var (
		dIDs, dOrgs, dWebhooks, dEvents, dTypes []string
		dDropped, dThrottled                    []bool
	)
	fans := make([]fanOut, len(evs))
	owner := map[string]int{} // delivery id: index in evs
	for _, i := range stored {
		r := &out[i].Result
		in := ins[key{r.Event.OrgID, r.Event.ID}]
		if !r.Created || in == nil || len(in.webhookIDs) == 0 {
			continue
		}
		fans[i] = newFanOut(in.webhookIDs, in.dropped, in.throttles, in.urls)
		for j, id := range fans[i].deliveryIDs {
			owner[id] = i
			dIDs, dOrgs, dWebhooks = append(dIDs, id), append(dOrgs, r.Event.OrgID), append(dWebhooks, in.webhookIDs[j])
			dEvents, dTypes = append(dEvents, r.Event.ID), append(dTypes, r.Event.Type)
			dDropped, dThrottled = append(dDropped, in.dropped[j]), append(dThrottled, fans[i].throttled[j])
		}
	}
	if len(dIDs) > 0 {
		rows, err := tx.Query(ctx, insertGroupDeliveriesSQL, dIDs, dOrgs, dWebhooks, dEvents, dTypes, dDropped, DroppedReason, dThrottled)
		if err != nil {
			return stored, wrap("insert deliveries", err)
		}
		ds, err := collectDeliveries(rows)
		if err != nil {
			return stored, wrap("insert deliveries", err)
		}
		for _, d := range ds { // in the order sent: each event's in its webhooks' order
			i := owner[d.ID]
			out[i].Result.Deliveries = append(out[i].Result.Deliveries, d)
		}
	}
	for _, i := range stored {
		if err := fans[i].openBatches(ctx, tx, &out[i].Result); err != nil {
			return stored, err
		}
		fans[i].nameHosts(&out[i].Result)
	}

	// The repeats, read after this group's own inserts (a repeat within the group
	// answers the event first stored, with its deliveries).
	for _, i := range stored {
		if out[i].Result.Created {
			continue
		}
		ev, ds, err := getEvent(ctx, tx, evs[i].Event.OrgID, evs[i].Event.ID)
		if err != nil {
			return stored, wrap("get existing event", err)
		}
		out[i].Result = IngestResult{Event: ev, Deliveries: ds}
	}
	if err := tx.Commit(ctx); err != nil {
		return stored, wrap("commit events", err)
	}
	return stored, nil
}
