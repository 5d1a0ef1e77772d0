package api_test

import (
	"context"

	"github.com/hookd/hookd/internal/store"
)

// The replay half of the engine (dispatch.Engine) in the handler tests: a replay's
// workflow never runs here (internal/e2e runs replays on Temporal).

func (r *recordingScheduler) StartReplay(context.Context, store.Replay) error      { return nil }
func (r *recordingScheduler) CancelReplay(context.Context, string) error           { return nil }
func (r *recordingScheduler) Replay(context.Context, store.Delivery, string) error { return nil }
