-- Retention (HOOKD_RETENTION, store.DeleteExpired*): what the hourly deletion scans.
-- Each index is where one deletion step starts, oldest first; the steps' other lookups
-- use keys that exist (deliveries by event, by batch; attempts, batch attempts and
-- replay deliveries by their parent).

-- Finished deliveries by their last change (the final status; a retry or a replay moves
-- it). Partial: a delivery enters it once, when it ends, and those still to be sent cost
-- nothing. Status changes already rewrite every index of the row (status is indexed), so
-- a final one adds one entry, no extra heap write.
CREATE INDEX deliveries_finished_updated_idx ON deliveries (updated_at)
    WHERE status IN ('succeeded', 'failed', 'canceled');

-- Events by creation time, seq breaking ties, which DeleteExpiredEvents pages on: one
-- more entry per ingested event.
CREATE INDEX events_created_seq_idx ON events (created_at, seq);

-- Closed batches by creation time (an open one is still collecting its notifications).
CREATE INDEX batches_closed_created_idx ON batches (created_at) WHERE state = 'closed';

-- Finished replays by their end.
CREATE INDEX replays_finished_idx ON replays (finished_at) WHERE status <> 'running';
