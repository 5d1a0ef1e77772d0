-- When a replay made a delivery pending for its attempt (store.ReopenForReplay). A replay
-- that finds a delivery already pending redoes its own reopening (a restart between the
-- reopening and the signal: it signals again, and the attempt is still made once), but
-- skips a delivery another replay, a retry or the delivery's own schedule made pending:
-- an attempt is already due, and a second signal would send it twice.
ALTER TABLE replay_deliveries ADD COLUMN reopened_at timestamptz;
