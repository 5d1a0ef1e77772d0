package workflows

import (
	"errors"

	"go.temporal.io/sdk/workflow"
)

// ReplayInput starts a Replay: only its id travels; the activities read the rest.
type ReplayInput struct {
	ReplayID string
}

// Replay resends, at its replay's pace, each delivery the replay matched (API.md
// "Replays"). Skeleton: filled in by the replays work of issue 9.
func Replay(ctx workflow.Context, in ReplayInput) error {
	return errors.New("replay: not built yet")
}
