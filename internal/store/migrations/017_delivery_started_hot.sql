-- Recording that a delivery's workflow started (store.MarkWorkflowsStarted, once per
-- delivery) changes only workflow_started, which no index holds but the reconciler's
-- partial one of 001, whose predicate names it: every mark was a non-HOT update, a new
-- entry in each of the deliveries' nine other indexes. Without it the mark can be a HOT
-- update (heap only). The reconciler's list (store.UnstartedDeliveries) reads the pending
-- deliveries by creation time from deliveries_unsent_created_idx of 014 instead, with
-- the few it must skip (started and not yet attempted, or batched) filtered out.
DROP INDEX deliveries_unstarted_idx;
