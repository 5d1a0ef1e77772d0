package activities

import (
	"context"

	"github.com/hookd/hookd/internal/store"
)

// The replay half of the engine (dispatch.Engine) for the activity tests, which run no
// workflow.

func (r *startRecorder) StartReplay(context.Context, store.Replay) error      { return nil }
func (r *startRecorder) CancelReplay(context.Context, string) error           { return nil }
func (r *startRecorder) Replay(context.Context, store.Delivery, string) error { return nil }
