package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/hookd/hookd/internal/store"
)

// retentionStore is what the retention activity deletes through: the retention steps,
// in the order DeleteExpired runs them (see store.DeleteExpiredDeliveries).
type retentionStore interface {
	DeleteExpiredDeliveries(ctx context.Context, before time.Time, limit int) (store.Deleted, bool, error)
	DeleteExpiredBatches(ctx context.Context, before time.Time, limit int) (store.Deleted, bool, error)
	DeleteExpiredEvents(ctx context.Context, before time.Time, after store.EventCursor, limit int) (store.Deleted, store.EventCursor, bool, error)
	DeleteExpiredReplays(ctx context.Context, before time.Time, limit int) (store.Deleted, bool, error)
}

var _ retentionStore = (*store.Store)(nil)

// Deleted counts the rows a retention run deleted, by table.
type Deleted = store.Deleted

// EventCursor is where the events step of a retention pass has got to.
type EventCursor = store.EventCursor

// DeleteExpiredInput is one call of DeleteExpired.
type DeleteExpiredInput struct {
	// Before is the cutoff: what finished (or, for an event, was created) before it goes.
	Before time.Time
	// BatchSize is the most rows of a table one statement deletes (a delivery's attempts
	// and a batch's attempts go with it, beyond that); at least 1.
	BatchSize int
	// MaxStatements bounds one call: once it has run this many statements (at least 1),
	// it returns, not Done, after the next one that reaches its limit, so that a large
	// backlog is worked off in calls of bounded length, each one further on. Every step
	// runs at least once per call.
	MaxStatements int
	// EventsAfter is where the events step starts: the zero value, or the EventsAfter of
	// the previous call of the same pass (same Before), so that the events kept (their
	// deliveries are not all gone) are examined once per pass, not once per call.
	EventsAfter EventCursor
}

// DeleteExpiredResult is what one call of DeleteExpired deleted; Done means nothing
// older than the cutoff is left to delete (it stopped at no bound).
type DeleteExpiredResult struct {
	Deleted     Deleted
	Done        bool
	EventsAfter EventCursor // where the events step stopped: the next call's EventsAfter
}

// DeleteExpired deletes what hookd keeps no longer (HOOKD_RETENTION): the finished
// deliveries, emptied batches, events and finished replays older than in.Before, by
// statements of at most in.BatchSize rows, in the store's step order, each step until
// one statement deletes less than the batch size. It heartbeats its running counts after
// every statement. Running it again is harmless: each step deletes only what still
// qualifies, so a retried call picks up where the last stopped.
func (a *Activities) DeleteExpired(ctx context.Context, in DeleteExpiredInput) (DeleteExpiredResult, error) {
	if in.BatchSize < 1 || in.MaxStatements < 1 {
		return DeleteExpiredResult{}, fmt.Errorf("delete expired: batch size %d and max statements %d must be at least 1",
			in.BatchSize, in.MaxStatements)
	}
	var res DeleteExpiredResult
	res.EventsAfter = in.EventsAfter // the events step pages past the events it keeps
	events := func(ctx context.Context, before time.Time, limit int) (d store.Deleted, more bool, err error) {
		d, res.EventsAfter, more, err = a.Retention.DeleteExpiredEvents(ctx, before, res.EventsAfter, limit)
		return d, more, err
	}
	steps := []struct {
		table string
		run   func(context.Context, time.Time, int) (store.Deleted, bool, error)
	}{
		{"deliveries", a.Retention.DeleteExpiredDeliveries},
		{"batches", a.Retention.DeleteExpiredBatches},
		{"events", events},
		{"replays", a.Retention.DeleteExpiredReplays},
	}
	statements := 0
	for _, step := range steps {
		for {
			d, more, err := step.run(ctx, in.Before, in.BatchSize)
			statements++
			if err != nil {
				return res, fmt.Errorf("delete expired %s: %w", step.table, err)
			}
			res.Deleted.Add(d)
			activity.RecordHeartbeat(ctx, res.Deleted)
			if !more {
				break
			}
			if statements >= in.MaxStatements {
				a.logger().Info("retention: stopping at the statement bound, more to delete",
					"before", in.Before, "deleted", res.Deleted, "statements", statements)
				return res, nil
			}
		}
	}
	res.Done = true
	a.logger().Info("retention: deleted what finished before the cutoff",
		"before", in.Before, "deleted", res.Deleted, "statements", statements)
	return res, nil
}
