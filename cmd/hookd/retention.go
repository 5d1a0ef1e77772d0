package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/hookd/hookd/workflows"
)

// The retention schedule, as the Temporal Web UI's Schedules page shows it. Its runs are
// Retention workflows with IDs retentionWorkflowID-<time>.
const (
	retentionScheduleID = "hookd-retention"
	retentionWorkflowID = "hookd-retention"
	// retentionEvery is how often it runs; retentionJitter spreads the runs of many
	// installations sharing a Temporal cluster.
	retentionEvery  = time.Hour
	retentionJitter = 5 * time.Minute
)

// registerRetention creates or updates the Temporal Schedule that runs the Retention
// workflow hourly with HOOKD_RETENTION (or removes it when HOOKD_RETENTION is 0). See
// ensureRetentionSchedule.
func (s *services) registerRetention(ctx context.Context) error {
	return ensureRetentionSchedule(ctx, s.temporal.ScheduleClient(), s.cfg.Retention, s.log)
}

// ensureRetentionSchedule makes the retention schedule run the Retention workflow every
// retentionEvery with retention as its input, creating the schedule or updating the one
// there; retention 0 deletes the schedule instead (hookd then keeps everything). Every
// worker calls it at start, so several may race: creating one that exists updates it,
// and the last to write wins, so the schedule holds the retention of the worker that
// started last. Its state is kept: a schedule an operator paused stays paused.
func ensureRetentionSchedule(ctx context.Context, sc client.ScheduleClient, retention time.Duration, log *slog.Logger) error {
	h := sc.GetHandle(ctx, retentionScheduleID)
	if retention <= 0 {
		var notFound *serviceerror.NotFound
		if err := h.Delete(ctx); err != nil && !errors.As(err, &notFound) {
			return fmt.Errorf("delete schedule %s: %w", retentionScheduleID, err)
		}
		log.Info("HOOKD_RETENTION is 0: every event, delivery and attempt is kept; no retention schedule",
			"schedule", retentionScheduleID)
		return nil
	}
	spec := client.ScheduleSpec{
		Intervals: []client.ScheduleIntervalSpec{{Every: retentionEvery}},
		Jitter:    retentionJitter,
	}
	action := &client.ScheduleWorkflowAction{
		ID:                       retentionWorkflowID,
		Workflow:                 workflows.RetentionWorkflow,
		Args:                     []any{workflows.RetentionInput{Retention: retention}},
		TaskQueue:                workflows.TaskQueue,
		WorkflowExecutionTimeout: 24 * time.Hour,
		StaticSummary:            fmt.Sprintf("hookd retention: delete what finished more than %s ago", retention),
	}
	// Two rounds at most: a schedule deleted between a create that found it and the
	// update (by a worker with HOOKD_RETENTION=0) is created again.
	for range 2 {
		_, err := sc.Create(ctx, client.ScheduleOptions{
			ID: retentionScheduleID, Spec: spec, Action: action,
			Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
			Note:    "registered by hookd (HOOKD_RETENTION)",
		})
		if err == nil {
			log.Info("retention schedule created", "schedule", retentionScheduleID, "retention", retention, "every", retentionEvery)
			return nil
		}
		if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
			return fmt.Errorf("create schedule %s: %w", retentionScheduleID, err)
		}
		err = h.Update(ctx, client.ScheduleUpdateOptions{
			DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
				sch := in.Description.Schedule
				sch.Spec, sch.Action = &spec, action
				if sch.Policy == nil {
					sch.Policy = &client.SchedulePolicies{}
				}
				sch.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
				return &client.ScheduleUpdate{Schedule: &sch}, nil
			},
		})
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("update schedule %s: %w", retentionScheduleID, err)
		}
		log.Info("retention schedule updated", "schedule", retentionScheduleID, "retention", retention, "every", retentionEvery)
		return nil
	}
	return fmt.Errorf("register schedule %s: deleted and created again meanwhile, twice", retentionScheduleID)
}
