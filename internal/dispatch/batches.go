package dispatch

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/store"
)

// A throttled webhook's notifications go out in batches (store.Batch): ingest adds each
// to the webhook's open batch, the delivery that opened a batch starts the batch's
// workflow (Schedule with its BatchID), and the batch's attempts are recorded once for
// all of its members through the methods below.

// batchStore is what the service needs from PostgreSQL for batches.
type batchStore interface {
	UnstartedBatches(ctx context.Context, createdBefore time.Time, limit int) ([]store.Batch, error)
	MarkBatchesStarted(ctx context.Context, batchIDs []string) error
	BeginBatchAttempt(ctx context.Context, batchID string, a store.Attempt) (int, error)
	CompleteBatchAttempt(ctx context.Context, batchID string, memberIDs []string, a store.Attempt, u store.DeliveryUpdate) (string, error)
	EndBatch(ctx context.Context, batchID string, memberIDs []string, status, reason string) error
	CloseStaleBatchAttempts(ctx context.Context, requestedBefore time.Time) (int64, error)
}

// BatchWorkflowID is the deterministic Temporal workflow ID of a batch (as
// delivery.WorkflowID is a delivery's), so a repeated start is a no-op and the Web UI
// shows every run of one batch under one ID. Every member of the batch shows it.
func BatchWorkflowID(batchID string) string { return "batch-" + batchID }

// batchLeader is how the engine is asked to start batch b: as the delivery that opened it
// (Engine.Schedule starts a batched delivery's batch).
func batchLeader(b store.Batch) store.Delivery {
	return store.Delivery{OrgID: b.OrgID, WebhookID: b.WebhookID, BatchID: b.ID, Status: delivery.StatusPending, CreatedAt: b.CreatedAt}
}

// StartBatches starts the workflows of batches bs and records that they started. An
// error leaves the rest to the reconciler: starts are idempotent.
func (s *Service) StartBatches(ctx context.Context, bs []store.Batch) error {
	if len(bs) == 0 {
		return nil
	}
	leaders, ids := make([]store.Delivery, len(bs)), make([]string, len(bs))
	for i, b := range bs {
		leaders[i], ids[i] = batchLeader(b), b.ID
	}
	ectx, cancel := s.engineContext(ctx)
	defer cancel()
	if err := s.engine.Schedule(ectx, leaders); err != nil {
		return fmt.Errorf("start batches: %w", err)
	}
	return s.store.MarkBatchesStarted(ectx, ids)
}

// reconcileBatches starts a workflow for every batch that has none, as Reconcile does
// for deliveries, and returns how many it started.
func (s *Service) reconcileBatches(ctx context.Context) (int, error) {
	total := 0
	for {
		bs, err := s.store.UnstartedBatches(ctx, s.now().Add(-reconcileGrace), reconcileBatch)
		if err != nil {
			return total, fmt.Errorf("find unstarted batches: %w", err)
		}
		if len(bs) == 0 {
			return total, nil
		}
		if err := s.StartBatches(ctx, bs); err != nil {
			return total, err
		}
		total += len(bs)
		if len(bs) < reconcileBatch {
			return total, nil
		}
	}
}

// BeginBatchAttempt records attempt a of batch batchID as sending, before its request
// goes out, and returns its number within the batch (see BeginAttempt;
// store.BeginBatchAttempt).
func (s *Service) BeginBatchAttempt(ctx context.Context, batchID string, a store.Attempt) (int, error) {
	return s.store.BeginBatchAttempt(ctx, batchID, a)
}

// CompleteBatchAttempt records what came back for an attempt of batch batchID begun with
// BeginBatchAttempt, and its decision, for all of its members memberIDs (those the
// attempt loaded) and for the webhook once, as CompleteAttempt does for one delivery (a 410 disables the webhook
// and announces it). wh is the webhook as the attempt loaded it.
func (s *Service) CompleteBatchAttempt(ctx context.Context, wh store.Webhook, batchID string, memberIDs []string, o Outcome) error {
	update := store.DeliveryUpdate{Status: o.Decision.Status, DisableWebhook: o.Decision.DisableWebhook,
		WorkflowRunID: o.RunID, LastError: o.Decision.Reason}
	if o.Decision.Status == delivery.StatusRetrying {
		next := s.now().Add(o.Decision.Delay)
		update.NextAttemptAt = &next
	}
	disabled, err := s.store.CompleteBatchAttempt(ctx, batchID, memberIDs, o.Attempt, update)
	if err != nil || disabled == "" {
		return err
	}
	now, err := s.store.GetWebhook(ctx, wh.OrgID, wh.ID)
	if err != nil {
		return fmt.Errorf("read disabled webhook: %w", err)
	}
	return s.FinishDisabling(ctx, now, disabled, o.Attempt.Error)
}

// EndBatch ends the batch's deliveries still to be sent without an attempt (only those
// of memberIDs unless it is nil), with status (canceled or failed) and reason: a batch
// whose webhook is no longer enabled, members past their discardAfter, or a fault no
// attempt can fix.
func (s *Service) EndBatch(ctx context.Context, batchID string, memberIDs []string, status, reason string) error {
	return s.store.EndBatch(ctx, batchID, memberIDs, status, reason)
}
