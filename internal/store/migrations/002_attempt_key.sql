-- An attempt remembers which execution of the attempt activity recorded it, so that a
-- re-execution of the same logical attempt (a local activity replayed after its workflow
-- task failed, a regular activity whose completion was lost) returns what was recorded
-- instead of sending the request again. The outcome is kept because it cannot always be
-- re-derived from the response: a target the SSRF guard refuses fails with no status.
-- Rows recorded before this migration, and attempts made outside Temporal, have no key.

ALTER TABLE attempts
    ADD COLUMN activity_key text, -- "<workflow run id>/<activity id>"
    ADD COLUMN outcome      text; -- delivery.Outcome

-- One attempt per logical attempt of a delivery; LoadAttempt looks recorded ones up here.
CREATE UNIQUE INDEX attempts_delivery_activity_key_idx ON attempts (delivery_id, activity_key)
    WHERE activity_key IS NOT NULL;
