-- Replays (API.md "Replays"): a Replay workflow resends each delivery it matched once,
-- with trigger `replay`, at a bounded rate. The deliveries it matched are fixed when it
-- is created (replay_deliveries, in position order), so `matched` is exact, paging is a
-- keyset over position, and a restart resumes after `cursor` (the last position handled).
CREATE TABLE replays (
    seq              bigint GENERATED ALWAYS AS IDENTITY,
    id               text PRIMARY KEY,
    org_id           text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    status           text NOT NULL DEFAULT 'running'
                     CHECK (status IN ('running', 'completed', 'canceled', 'failed')),
    filter           jsonb NOT NULL DEFAULT '{}', -- the request that made it, as given
    rate_per_second  integer NOT NULL CHECK (rate_per_second BETWEEN 1 AND 1000),
    matched          bigint NOT NULL DEFAULT 0,
    replayed         bigint NOT NULL DEFAULT 0, -- signalled so far
    skipped          bigint NOT NULL DEFAULT 0, -- matched but no longer replayable (or gone) when reached
    cursor           bigint NOT NULL DEFAULT 0, -- last replay_deliveries.position handled
    error            text NOT NULL DEFAULT '',
    workflow_started boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX replays_org_seq_idx ON replays (org_id, seq);
-- The reconciler's work list: running replays whose workflow was never started.
CREATE INDEX replays_unstarted_idx ON replays (created_at) WHERE status = 'running' AND NOT workflow_started;

-- attempt_id is the attempt (attempts.id, or batch_attempts.id for a batched delivery)
-- the replay made for the delivery, NULL until that attempt begins. The attempt claims
-- the row as it begins, and the replay reopens a delivery only while holding the row and
-- finding it unclaimed: so a replay signal sent twice (a restart between the signal and
-- the cursor) sends once, and never reopens a delivery its attempt has already settled.
CREATE TABLE replay_deliveries (
    replay_id   text NOT NULL REFERENCES replays (id) ON DELETE CASCADE,
    position    bigint NOT NULL, -- 1..matched
    delivery_id text NOT NULL, -- no foreign key: see below
    attempt_id  text,
    PRIMARY KEY (replay_id, position),
    UNIQUE (replay_id, delivery_id)
);
-- A replay lists up to store.MaxReplayDeliveries rows in the request that creates it; a
-- foreign key to deliveries would check each one again (a third of that insert's time),
-- when the rows come from deliveries in that very statement. A delivery deleted later
-- leaves its row behind: a replay reads its rows joined to deliveries, so it counts the
-- row as skipped, and retention deletes such rows with their delivery (this index).
CREATE INDEX replay_deliveries_delivery_idx ON replay_deliveries (delivery_id);

-- The replay an attempt was made for: at most one attempt per delivery and replay. The
-- index also counts a replay's outcomes (succeeded, failed) without reading the rows.
ALTER TABLE attempts ADD COLUMN replay_id text;
CREATE UNIQUE INDEX attempts_replay_idx ON attempts (replay_id, delivery_id)
    INCLUDE (state, response_status) WHERE replay_id IS NOT NULL;
ALTER TABLE batch_attempts ADD COLUMN replay_id text;
CREATE INDEX batch_attempts_replay_idx ON batch_attempts (replay_id) WHERE replay_id IS NOT NULL;
