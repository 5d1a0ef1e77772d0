package dispatch

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/hookd/hookd/internal/store"
)

// ErrOverloaded is returned by Publish and Ping when Options.MaxInFlight publishes are
// already storing their events and starting their workflows and none finished within
// Options.QueueWait: nothing was stored, so the caller can send the same request again
// (the API answers 429 with Retry-After). It keeps ingest from queueing for seconds
// behind a workflow engine that starts fewer deliveries than are offered.
var ErrOverloaded = errors.New("hookd is starting as many deliveries as it can; nothing was stored")

// admission bounds the publishes in flight: from before the event is stored until its
// workflows are started. The reconciler and the events hookd emits itself
// (webhook.disabled) do not pass through it: they finish what was already accepted.
type admission struct {
	slots *semaphore.Weighted // nil: no bound
	wait  time.Duration
}

func newAdmission(maxInFlight int, wait time.Duration) admission {
	if maxInFlight <= 0 {
		return admission{}
	}
	return admission{slots: semaphore.NewWeighted(int64(maxInFlight)), wait: max(wait, 0)}
}

// enter takes a slot, waiting at most a.wait for one (FIFO), and returns the func that
// gives it back; ok is false when none was had (or ctx ended first).
func (a admission) enter(ctx context.Context) (leave func(), ok bool) {
	if a.slots == nil {
		return func() {}, true
	}
	leave = func() { a.slots.Release(1) }
	if a.slots.TryAcquire(1) {
		return leave, true
	}
	if a.wait == 0 {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, a.wait)
	defer cancel()
	if a.slots.Acquire(ctx, 1) != nil {
		return nil, false
	}
	return leave, true
}

// refused answers a publish that found no slot. A repeat of an event already stored is
// answered from the store as usual (a read; the engine is not asked, and any of its
// deliveries still unstarted are left to the reconciler); anything else is ErrOverloaded.
func (s *Service) refused(ctx context.Context, ev store.Event) (store.IngestResult, error) {
	old, ds, err := s.store.GetEvent(ctx, ev.OrgID, ev.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.IngestResult{}, ErrOverloaded
	case err != nil:
		return store.IngestResult{}, err
	}
	return store.IngestResult{Event: old, Deliveries: ds}, nil
}
