-- A throttled webhook's notifications go out in batches (API.md `throttle`): one signed
-- request, one Delivery-like workflow, per batch. A webhook has at most one open batch,
-- which ingest adds its notifications to (deliveries.batch_id, migration 008) until the
-- batch's first attempt closes it; the next notification opens a new one. send_at is the
-- end of the batch's window: its opening plus the webhook's throttle.
CREATE TABLE batches (
    id               text PRIMARY KEY,
    org_id           text NOT NULL,
    webhook_id       text NOT NULL,
    state            text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    send_at          timestamptz NOT NULL,
    workflow_started boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, webhook_id) REFERENCES webhooks (org_id, id) ON DELETE CASCADE
);
-- One open batch per webhook: the ingest that inserts it starts its workflow.
CREATE UNIQUE INDEX batches_open_idx ON batches (webhook_id) WHERE state = 'open';
-- The reconciler's work list: committed batches whose workflow was never started.
CREATE INDEX batches_unstarted_idx ON batches (created_at) WHERE NOT workflow_started;

-- A batch's attempts, recorded once for all of its deliveries (GET /v1/deliveries/{id}
-- shows them for each): the columns and states of attempts (migrations 001, 002, 004).
CREATE TABLE batch_attempts (
    id               text PRIMARY KEY,
    batch_id         text NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    org_id           text NOT NULL,
    number           integer NOT NULL,
    trigger          text NOT NULL CHECK (trigger IN ('auto', 'manual', 'replay')),
    state            text NOT NULL CHECK (state IN ('sending', 'completed', 'interrupted')),
    requested_at     timestamptz NOT NULL,
    duration_ms      bigint NOT NULL DEFAULT 0,
    request_url      text NOT NULL DEFAULT '',
    request_method   text NOT NULL DEFAULT '',
    request_headers  jsonb NOT NULL DEFAULT '{}',
    response_status  integer,
    response_headers jsonb NOT NULL DEFAULT '{}',
    response_body    text NOT NULL DEFAULT '',
    error            text NOT NULL DEFAULT '',
    retry_after_ms   bigint,
    activity_key     text,
    outcome          text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (batch_id, number)
);
CREATE UNIQUE INDEX batch_attempts_activity_key_idx ON batch_attempts (batch_id, activity_key)
    WHERE activity_key IS NOT NULL AND state <> 'interrupted';
CREATE INDEX batch_attempts_sending_idx ON batch_attempts (requested_at) WHERE state = 'sending';
