-- Past signing secrets of a webhook, kept through a rotation's grace period (API.md
-- `rotate-secret`): until expires_at every one of them still signs, beside the current
-- secret in webhooks.secret_enc. Sealed like it (secretbox).
CREATE TABLE webhook_secrets (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id    text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    secret_enc    bytea NOT NULL,
    secret_prefix text NOT NULL,
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_secrets_webhook_idx ON webhook_secrets (webhook_id, expires_at);
