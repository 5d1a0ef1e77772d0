-- An attempt is recorded before its request goes out (state 'sending': the request, no
-- response) and completed after ('completed'), so a request whose worker died in flight
-- is still on record. An attempt left sending is closed as 'interrupted' when the next
-- attempt of its delivery begins, or by the reconciler once it is older than any attempt
-- can last (store.BeginAttempt, store.CloseStaleAttempts). Every earlier row is completed.

ALTER TABLE attempts ADD COLUMN state text NOT NULL DEFAULT 'completed'
    CHECK (state IN ('sending', 'completed', 'interrupted'));

-- A re-execution of an interrupted logical attempt (same activity key) is a new attempt
-- with a new number: the key is unique among the attempts that were not interrupted.
DROP INDEX attempts_delivery_activity_key_idx;
CREATE UNIQUE INDEX attempts_delivery_activity_key_idx ON attempts (delivery_id, activity_key)
    WHERE activity_key IS NOT NULL AND state <> 'interrupted';

-- The reconciler's work list: attempts still in flight, oldest first.
CREATE INDEX attempts_sending_idx ON attempts (requested_at) WHERE state = 'sending';
