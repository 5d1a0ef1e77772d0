-- hookd's records. Ids are text with a type prefix (see internal/ids); `seq` columns are
-- internal insertion sequences that list paging orders by (newest first), because event
-- ids may be chosen by the caller and are not time-ordered.

CREATE TABLE organizations (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    org_id       text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    role         text NOT NULL CHECK (role IN ('admin', 'publisher', 'viewer')),
    name         text NOT NULL DEFAULT '',
    prefix       text NOT NULL DEFAULT '',
    hash         bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_org_id_idx ON api_keys (org_id);

CREATE TABLE event_types (
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    org_id      text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    schema      json, -- json, not jsonb: kept as written
    builtin     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, name)
);
CREATE INDEX event_types_org_seq_idx ON event_types (org_id, seq);

CREATE TABLE webhooks (
    seq                  bigint GENERATED ALWAYS AS IDENTITY,
    id                   text PRIMARY KEY,
    org_id               text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name                 text NOT NULL,
    description          text NOT NULL DEFAULT '',
    url                  text NOT NULL,
    events               text[] NOT NULL DEFAULT '{}',
    events_policy        text NOT NULL DEFAULT 'include' CHECK (events_policy IN ('include', 'exclude')),
    headers              jsonb NOT NULL DEFAULT '{}',
    timeout_seconds      integer NOT NULL,
    max_retries          integer NOT NULL,
    retry_schedule_ms    bigint[] NOT NULL DEFAULT '{}',
    status               text NOT NULL DEFAULT 'ENABLED'
                         CHECK (status IN ('ENABLED', 'DISABLED', 'DISABLED_DUE_TO_ERRORS')),
    secret_enc           bytea NOT NULL, -- secretbox-sealed "whsec_..."
    secret_prefix        text NOT NULL,
    attempt_count        bigint NOT NULL DEFAULT 0,
    consecutive_failures integer NOT NULL DEFAULT 0,
    last_triggered_at    timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id)
);
CREATE INDEX webhooks_org_seq_idx ON webhooks (org_id, seq);

CREATE TABLE events (
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    org_id      text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id          text NOT NULL, -- the producer's idempotency key, or evt_<ulid>
    type        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    data        json NOT NULL, -- json, not jsonb: delivered byte for byte as posted
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);
CREATE INDEX events_org_seq_idx ON events (org_id, seq);

CREATE TABLE deliveries (
    seq              bigint GENERATED ALWAYS AS IDENTITY,
    id               text PRIMARY KEY,
    org_id           text NOT NULL,
    webhook_id       text NOT NULL,
    event_id         text NOT NULL,
    event_type       text NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'retrying', 'succeeded', 'failed', 'canceled')),
    attempt_count    integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    last_attempt_at  timestamptz,
    last_status_code integer,
    last_error       text NOT NULL DEFAULT '',
    workflow_started boolean NOT NULL DEFAULT false,
    workflow_run_id  text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (webhook_id, event_id), -- the durable dedup Temporal's retention cannot give
    FOREIGN KEY (org_id, webhook_id) REFERENCES webhooks (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, event_id) REFERENCES events (org_id, id) ON DELETE CASCADE
);
-- One index per ListDeliveries filter, each ending in seq for newest-first keyset paging.
CREATE INDEX deliveries_org_seq_idx ON deliveries (org_id, seq);
CREATE INDEX deliveries_org_status_seq_idx ON deliveries (org_id, status, seq);
CREATE INDEX deliveries_org_webhook_seq_idx ON deliveries (org_id, webhook_id, seq);
CREATE INDEX deliveries_org_event_seq_idx ON deliveries (org_id, event_id, seq);
CREATE INDEX deliveries_org_type_seq_idx ON deliveries (org_id, event_type, seq);
CREATE INDEX deliveries_org_created_idx ON deliveries (org_id, created_at);
-- The reconciler's work list: committed deliveries whose workflow was never started.
CREATE INDEX deliveries_unstarted_idx ON deliveries (created_at)
    WHERE status = 'pending' AND NOT workflow_started;

CREATE TABLE attempts (
    id               text PRIMARY KEY,
    delivery_id      text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    org_id           text NOT NULL,
    number           integer NOT NULL,
    trigger          text NOT NULL CHECK (trigger IN ('auto', 'manual', 'replay')),
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
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (delivery_id, number)
);
