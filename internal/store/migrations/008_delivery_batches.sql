-- A throttled webhook's notifications go out in batches (API.md `throttle`): each
-- delivery of a batch keeps its own row and names its batch here. NULL: not batched.
ALTER TABLE deliveries ADD COLUMN batch_id text;
CREATE INDEX deliveries_batch_idx ON deliveries (batch_id) WHERE batch_id IS NOT NULL;
