package dispatch

import (
	"context"
	"fmt"
	"time"
)

// reconcileGrace leaves a just-committed delivery to the API that is starting it; starting
// it twice would be harmless (the workflow ID dedups), only wasted work.
const (
	reconcileGrace = 5 * time.Second
	reconcileBatch = 500
)

// Reconcile starts a workflow for every pending delivery that has none, oldest first, for
// every batch that has none and every running replay that has none, and returns how many
// it started: the deliveries and
// batches of an event whose publisher crashed (or whose engine was down) between the
// commit and the start, and the overflow batches a batch's attempt split off before its
// worker died. It starts them as Publish does.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	total, err := s.reconcileBatches(ctx)
	if err != nil {
		return total, err
	}
	n, err := s.reconcileReplays(ctx)
	if total += n; err != nil {
		return total, err
	}
	for {
		ds, err := s.store.UnstartedDeliveries(ctx, s.now().Add(-reconcileGrace), reconcileBatch)
		if err != nil {
			return total, fmt.Errorf("find unstarted deliveries: %w", err)
		}
		if len(ds) == 0 {
			return total, nil
		}
		if err := s.start(ctx, ds); err != nil {
			return total, err
		}
		total += len(ds)
		if len(ds) < reconcileBatch {
			return total, nil
		}
	}
}

// StaleAttemptAge is how long an attempt may stay sending before CloseStaleAttempts
// closes it as interrupted. An attempt lasts at most its webhook's timeout (60 s at most)
// plus its recording, and Temporal gives up on an attempt activity after its 2-minute
// start-to-close timeout (workflows.Delivery) and runs it again if the delivery goes on:
// an attempt older than this was left by a worker that died or was stopped past its grace
// period (HOOKD_WORKER_STOP_TIMEOUT), and anything that answers for it now is too late.
const StaleAttemptAge = 5 * time.Minute

// CloseStaleAttempts closes as interrupted every attempt (of a delivery or of a batch)
// left sending for longer than StaleAttemptAge, and returns how many: those of deliveries that made no attempt since
// (an attempt beginning closes the one before it), such as a delivery canceled, or ended
// by a fault, while its worker was gone.
func (s *Service) CloseStaleAttempts(ctx context.Context) (int64, error) {
	n, err := s.store.CloseStaleAttempts(ctx, s.now().Add(-StaleAttemptAge))
	if err != nil {
		return 0, fmt.Errorf("close stale attempts: %w", err)
	}
	nb, err := s.store.CloseStaleBatchAttempts(ctx, s.now().Add(-StaleAttemptAge))
	if err != nil {
		return n, fmt.Errorf("close stale batch attempts: %w", err)
	}
	return n + nb, nil
}

// RunReconciler reconciles, and closes stale attempts, at once and then every interval
// until ctx ends.
func (s *Service) RunReconciler(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := s.Reconcile(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("reconcile deliveries", "err", err)
		case n > 0:
			s.log.Info("started workflows for unstarted deliveries", "count", n)
		}
		closed, err := s.CloseStaleAttempts(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("close stale attempts", "err", err)
		case closed > 0:
			s.log.Warn("closed attempts left in flight as interrupted", "count", closed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
