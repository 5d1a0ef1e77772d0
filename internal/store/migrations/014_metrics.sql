-- Metrics (store.Backlog, read at every Prometheus scrape): the oldest delivery still to
-- be sent, per status, is the first entry of this index. Partial, so it holds only the
-- deliveries in flight and nothing of the finished ones.
CREATE INDEX deliveries_unsent_created_idx ON deliveries (status, created_at)
    WHERE status IN ('pending', 'retrying');

-- The running replays, whose remaining deliveries the scrape sums (the same index as
-- 011's first draft had; IF NOT EXISTS keeps this one migration right either way).
CREATE INDEX IF NOT EXISTS replays_running_idx ON replays (created_at) WHERE status = 'running';
