-- The web console (issue 13): portal tickets and console sessions. Only SHA-256 hashes of
-- their random secrets are kept, as for API keys.
--
-- A portal ticket (POST /v1/portal/tickets) is single use: exchanging it deletes its row
-- in the statement that makes the session. key_id is the admin key that minted it.
CREATE TABLE portal_tickets (
    hash       bytea PRIMARY KEY,
    org_id     text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('admin', 'viewer')),
    key_id     text NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX portal_tickets_expires_idx ON portal_tickets (expires_at);

-- A console session, named by the hookd_session cookie. key_id is the API key that signed
-- in, or the key that minted the ticket exchanged for it: the session ends when that key
-- is revoked. from_ticket tells the two apart.
CREATE TABLE console_sessions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash        bytea NOT NULL UNIQUE,
    org_id      text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('admin', 'viewer')),
    key_id      text NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    from_ticket boolean NOT NULL,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_sessions_expires_idx ON console_sessions (expires_at);
CREATE INDEX console_sessions_key_idx ON console_sessions (key_id);
