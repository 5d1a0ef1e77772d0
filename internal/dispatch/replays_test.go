package dispatch_test

import (
	"context"

	"github.com/hookd/hookd/internal/store"
)

func (e *engine) StartReplay(_ context.Context, r store.Replay) error {
	return e.record(new([]string))
}
func (e *engine) CancelReplay(context.Context, string) error { return e.record(new([]string)) }
func (e *engine) Replay(_ context.Context, d store.Delivery, _ string) error {
	return e.record(&e.retried, d)
}
