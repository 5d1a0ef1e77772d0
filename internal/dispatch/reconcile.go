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

// Reconcile starts a workflow for every pending delivery that has none, oldest first, and
// returns how many it started: the deliveries of an event whose publisher crashed (or
// whose engine was down) between the commit and the start. It starts them as Publish
// does.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	total := 0
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

// RunReconciler reconciles at once and then every interval until ctx ends.
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
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
