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

	// Round trip 2: the events.
	type inserted struct {
		webhookIDs []string
		dropped    []bool
		throttles  []string
		locked     int64
	}
	ins := make([]inserted, len(evs))
	b = &pgx.Batch{}
	for _, i := range stored {
		ev := evs[i].Event
		b.Queue(insertEventSQL, ev.OrgID, ev.ID, ev.Type, ev.Timestamp, string(ev.Data), ev.Level, webhook.Levels).
			QueryRow(func(row pgx.Row) error {
				r := &out[i].Result
				err := row.Scan(append(eventDest(&r.Event), &ins[i].webhookIDs, &ins[i].dropped, &ins[i].throttles, &ins[i].locked)...)
				if err == nil {
					r.Created = true
					return nil
				}
				if errors.Is(err, pgx.ErrNoRows) {
					return nil
				}
				return err
			})
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return stored, wrap("insert events", err)
	}

	// Round trip 3: the deliveries of the events stored now; then the batches they open.
	b = &pgx.Batch{}
	fans := make([]fanOut, len(evs))
	for _, i := range stored {
		r := &out[i].Result
		if !r.Created || len(ins[i].webhookIDs) == 0 {
			continue
		}
		fans[i] = newFanOut(ins[i].webhookIDs, ins[i].dropped, ins[i].throttles)
		b.Queue(insertDeliveriesSQL, fans[i].args(r.Event, ins[i].webhookIDs, ins[i].dropped)...).
			Query(func(rows pgx.Rows) error {
				var err error
				r.Deliveries, err = collectDeliveries(rows)
				return err
			})
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return stored, wrap("insert deliveries", err)
		}
	}
	for _, i := range stored {
		if err := fans[i].openBatches(ctx, tx, &out[i].Result); err != nil {
			return stored, err
		}
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
