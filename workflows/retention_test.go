package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/activities"
)

// retentionEnv is a test environment for Retention whose DeleteExpired answers from
// answer (n is the 1-based call) and records its inputs.
func retentionEnv(t *testing.T, answer func(n int) activities.DeleteExpiredResult) (*testsuite.TestWorkflowEnvironment, *[]activities.DeleteExpiredInput) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quietLogger)
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Retention, workflow.RegisterOptions{Name: RetentionWorkflow})
	var a *activities.Activities
	var calls []activities.DeleteExpiredInput
	env.RegisterActivity(a.DeleteExpired)
	env.OnActivity(a.DeleteExpired, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DeleteExpiredInput) (activities.DeleteExpiredResult, error) {
			calls = append(calls, in)
			return answer(len(calls)), nil
		})
	return env, &calls
}

// A run deletes up to the cutoff (its start minus the retention) until a call is done,
// and answers the sum of what the calls deleted.
func TestRetentionRunsUntilDone(t *testing.T) {
	t.Parallel()
	env, calls := retentionEnv(t, func(n int) activities.DeleteExpiredResult {
		return activities.DeleteExpiredResult{
			Deleted:     activities.Deleted{Deliveries: 1000, Attempts: 3000, Events: int64(n)},
			Done:        n == 3,
			EventsAfter: activities.EventCursor{Seq: int64(n)},
		}
	})
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	env.ExecuteWorkflow(RetentionWorkflow, RetentionInput{Retention: 720 * time.Hour})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var got activities.Deleted
	if err := env.GetWorkflowResult(&got); err != nil {
		t.Fatal(err)
	}
	if want := (activities.Deleted{Deliveries: 3000, Attempts: 9000, Events: 6}); got != want {
		t.Errorf("deleted %+v, want %+v", got, want)
	}
	if len(*calls) != 3 {
		t.Fatalf("%d calls, want 3", len(*calls))
	}
	for i, in := range *calls {
		if !in.Before.Equal(start.Add(-720*time.Hour)) || in.BatchSize != retentionBatchSize ||
			in.MaxStatements != retentionStatementsPerCall || in.EventsAfter.Seq != int64(i) {
			t.Errorf("call %d %+v: want cutoff %v, the run's bounds and events after the last call's", i+1, in,
				start.Add(-720*time.Hour))
		}
	}
}

// A backlog larger than one run continues as new, with the same cutoff, the counts so
// far and where its events step got to, so its history stays bounded and the chain ends.
func TestRetentionContinuesAsNewAtItsBound(t *testing.T) {
	t.Parallel()
	env, calls := retentionEnv(t, func(n int) activities.DeleteExpiredResult {
		return activities.DeleteExpiredResult{Deleted: activities.Deleted{Deliveries: 10},
			EventsAfter: activities.EventCursor{Seq: int64(n)}}
	})
	cutoff := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	env.ExecuteWorkflow(RetentionWorkflow, RetentionInput{Retention: time.Hour, Cutoff: cutoff,
		Deleted: activities.Deleted{Deliveries: 5}})
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		t.Fatalf("workflow error %v, want continue-as-new", err)
	}
	if len(*calls) != retentionCallsPerRun {
		t.Errorf("%d calls before continuing, want %d", len(*calls), retentionCallsPerRun)
	}
	var next RetentionInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	want := RetentionInput{Retention: time.Hour, Cutoff: cutoff,
		Deleted:     activities.Deleted{Deliveries: 5 + 10*retentionCallsPerRun},
		EventsAfter: activities.EventCursor{Seq: retentionCallsPerRun}}
	if can.WorkflowType.Name != RetentionWorkflow || !next.Cutoff.Equal(want.Cutoff) ||
		next.Retention != want.Retention || next.Deleted != want.Deleted || next.EventsAfter != want.EventsAfter {
		t.Errorf("continues as %s with %+v, want %s with %+v", can.WorkflowType.Name, next, RetentionWorkflow, want)
	}
}

// Retention 0 (HOOKD_RETENTION=0) keeps everything: no call at all.
func TestRetentionZeroDeletesNothing(t *testing.T) {
	t.Parallel()
	env, calls := retentionEnv(t, func(int) activities.DeleteExpiredResult {
		return activities.DeleteExpiredResult{Done: true}
	})
	env.ExecuteWorkflow(RetentionWorkflow, RetentionInput{})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if len(*calls) != 0 {
		t.Errorf("%d calls, want none", len(*calls))
	}
}
