-- Statistics (API.md "Statistics", store.Stats and store.Timeseries): deliveries are
-- counted by creation time, attempts by request time, each within one organization. The
-- indexes below hold every column those counts read, so they are index-only scans over
-- the range asked for (bench/results/2026-11-30-stats.md has the plans and timings).

-- Deliveries by creation time, with what the counts group and filter by. It replaces the
-- plain (org_id, created_at) index of 001, which served since/until of GET /v1/deliveries
-- and still does (same key), so ingest maintains no more indexes than before.
DROP INDEX deliveries_org_created_idx;
CREATE INDEX deliveries_org_created_idx ON deliveries (org_id, created_at)
    INCLUDE (status, webhook_id, event_type);

-- Attempts by request time, with their state and duration (latency) and the delivery
-- (or batch) that a webhook or event type filter joins to.
CREATE INDEX attempts_org_requested_idx ON attempts (org_id, requested_at)
    INCLUDE (state, duration_ms, delivery_id);
CREATE INDEX batch_attempts_org_requested_idx ON batch_attempts (org_id, requested_at)
    INCLUDE (state, duration_ms, batch_id);
