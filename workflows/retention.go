package workflows

import (
	"errors"

	"go.temporal.io/sdk/workflow"
)

// RetentionInput is the input of a Retention run, started by hookd's retention schedule.
type RetentionInput struct{}

// Retention deletes the events, deliveries and attempts older than HOOKD_RETENTION, in
// bounded batches. Skeleton: filled in by the retention work of issue 9.
func Retention(ctx workflow.Context, in RetentionInput) error {
	return errors.New("retention: not built yet")
}
