-- Why an attempt disabled its webhook (API.md `failureLimit`, and 410 Gone), NULL if it
-- did not: written in the statement that disabled it, so that a re-execution of the
-- attempt finishes what the disabling entails (webhook.disabled, the webhook's other
-- deliveries canceled) when the first execution could not.
ALTER TABLE attempts ADD COLUMN disabled_webhook text;

-- The deliveries still to be sent of one webhook: those a disabling cancels.
CREATE INDEX deliveries_webhook_in_flight_idx ON deliveries (webhook_id)
    WHERE status IN ('pending', 'retrying');
