-- A webhook's settings move into one jsonb column, read and written as webhook.Settings
-- (internal/webhook): the API's field names, durations as the API writes them ("1m").
-- Adding a setting then needs no migration. What SQL filters or updates on keeps a column
-- of its own: events and events_policy (the fan-out), status, the counters, the secret.

ALTER TABLE webhooks ADD COLUMN settings jsonb NOT NULL DEFAULT '{}'
    CHECK (jsonb_typeof(settings) = 'object');

-- A delay in whole seconds is written as delivery.FormatSchedule writes it ("1h30m",
-- "90s" as "1m30s"); any other as milliseconds ("1500ms"), which reads back the same.
UPDATE webhooks SET settings = jsonb_build_object(
    'name', name,
    'description', description,
    'url', url,
    'headers', headers,
    'timeoutSeconds', timeout_seconds,
    'maxRetries', max_retries,
    'retrySchedule', (
        SELECT COALESCE(jsonb_agg(
            CASE WHEN ms > 0 AND ms % 1000 = 0
                THEN concat(NULLIF(ms / 3600000, 0) || 'h',
                            NULLIF(ms / 60000 % 60, 0) || 'm',
                            NULLIF(ms / 1000 % 60, 0) || 's')
                ELSE ms || 'ms'
            END ORDER BY n), '[]')
        FROM unnest(retry_schedule_ms) WITH ORDINALITY AS r (ms, n)));

ALTER TABLE webhooks
    ALTER COLUMN settings DROP DEFAULT,
    DROP COLUMN name,
    DROP COLUMN description,
    DROP COLUMN url,
    DROP COLUMN headers,
    DROP COLUMN timeout_seconds,
    DROP COLUMN max_retries,
    DROP COLUMN retry_schedule_ms;
