package dispatch

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd/internal/store"
)

// reconcileGrace leaves a just-committed delivery to the API that is starting it; starting
// it twice would be harmless (the workflow ID dedups), only wasted work.
const (
	reconcileGrace = 5 * time.Second
	reconcileBatch = 500
)

// Reconcile starts a workflow for every pending delivery that has none, oldest first, and
// returns how many it started.
func (d *Dispatcher) Reconcile(ctx context.Context) (int, error) {
	total := 0
	for {
		ds, err := d.Store.UnstartedDeliveries(ctx, time.Now().Add(-reconcileGrace), reconcileBatch)
		if err != nil {
			return total, fmt.Errorf("find unstarted deliveries: %w", err)
		}
		if len(ds) == 0 {
			return total, nil
		}
		if err := d.Schedule(ctx, ds); err != nil {
			return total, err
		}
		if err := d.Store.MarkWorkflowsStarted(ctx, store.DeliveryIDs(ds)); err != nil {
			return total, fmt.Errorf("mark started: %w", err)
		}
		total += len(ds)
		if len(ds) < reconcileBatch {
			return total, nil
		}
	}
}

// RunReconciler reconciles at once and then every interval until ctx ends.
func (d *Dispatcher) RunReconciler(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := d.Reconcile(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			d.Logger.Error("reconcile deliveries", "err", err)
		case n > 0:
			d.Logger.Info("started workflows for unstarted deliveries", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
