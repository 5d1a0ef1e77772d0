-- A webhook's secret settings (webhook.Secrets: today its custom header values, whose
-- Authorization is a credential) leave the settings column for a secretbox-sealed JSON
-- value, as the signing secret is kept in secret_enc. NULL means none sealed yet.
--
-- SQL has no key to seal with: rows written before this migration keep their headers in
-- settings until the store seals them, which every hookd process does when it opens the
-- store (store.Open) and then removes them from settings. Until then a read takes the
-- headers from settings, so nothing stops working in between.
ALTER TABLE webhooks ADD COLUMN secrets_enc bytea;
