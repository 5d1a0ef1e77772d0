-- An event's severity (seed 003's `level`): a webhook receives the events at or above its
-- own level (webhook.Levels, lowest first; its level is in settings). Events posted before
-- levels existed are `info`, the default of an event that names none.
ALTER TABLE events ADD COLUMN level text NOT NULL DEFAULT 'info'
    CHECK (level IN ('trace', 'debug', 'info', 'warn', 'error'));

-- A webhook is failing from an attempt that failed until one succeeds (API.md `lossy`:
-- a lossy webhook's new notifications are dropped while it is failing).
ALTER TABLE webhooks ADD COLUMN failing boolean NOT NULL DEFAULT false;
