package store

import (
	"context"
	"fmt"
	"time"
)

// Backlog is what is still to be sent, as the metrics read it at each scrape: the age of
// the oldest pending and of the oldest retrying delivery (0 when there is none), and the
// running replays with the deliveries they have yet to resend.
type Backlog struct {
	OldestPending  time.Duration
	OldestRetrying time.Duration
	RunningReplays int64
	// ReplayRemaining is matched − replayed − skipped summed over the running replays.
	ReplayRemaining int64
}

// Backlog reads the backlog in one statement over the partial indexes of 014_metrics: a
// few index entries, whatever the table sizes. Ages are measured on PostgreSQL's clock,
// the one that stamped created_at.
func (s *Store) Backlog(ctx context.Context) (Backlog, error) {
	var b Backlog
	var pendingSec, retryingSec float64
	err := s.pool.QueryRow(ctx, `
        SELECT coalesce(extract(epoch FROM now() - (SELECT min(created_at) FROM deliveries WHERE status = 'pending')), 0)::float8,
               coalesce(extract(epoch FROM now() - (SELECT min(created_at) FROM deliveries WHERE status = 'retrying')), 0)::float8,
               count(*),
               coalesce(sum(greatest(matched - replayed - skipped, 0)), 0)::bigint
        FROM replays WHERE status = 'running'`).Scan(&pendingSec, &retryingSec, &b.RunningReplays, &b.ReplayRemaining)
	if err != nil {
		return Backlog{}, fmt.Errorf("read backlog: %w", err)
	}
	b.OldestPending = seconds(pendingSec)
	b.OldestRetrying = seconds(retryingSec)
	return b, nil
}

// seconds turns a non-negative age in seconds into a duration; a negative one (a row
// stamped by a clock ahead of now()) is 0.
func seconds(s float64) time.Duration {
	return time.Duration(max(s, 0) * float64(time.Second))
}
