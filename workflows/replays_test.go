package workflows

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/activities"
)

// replayEnv is a test environment for Replay whose activities are mocked: page answers
// each ReplayPage call (n counts from 1), and the FinishReplay calls are recorded.
type replayEnv struct {
	env      *testsuite.TestWorkflowEnvironment
	pages    int
	finished [][2]string // status, reason
}

func newReplayEnv(t *testing.T, page func(ctx context.Context, n int) (activities.ReplayPageResult, error)) *replayEnv {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quietLogger)
	r := &replayEnv{env: s.NewTestWorkflowEnvironment()}
	var a *activities.Activities
	r.env.RegisterActivity(a.ReplayPage)
	r.env.RegisterActivity(a.FinishReplay)
	r.env.OnActivity(a.ReplayPage, mock.Anything, activities.ReplayPageInput{ReplayID: "rpl_1"}).Return(
		func(ctx context.Context, _ activities.ReplayPageInput) (activities.ReplayPageResult, error) {
			r.pages++
			return page(ctx, r.pages)
		})
	r.env.OnActivity(a.FinishReplay, mock.Anything, "rpl_1", mock.Anything, mock.Anything).Return(
		func(_ context.Context, _, status, reason string) error {
			r.finished = append(r.finished, [2]string{status, reason})
			return nil
		})
	return r
}

func (r *replayEnv) run() error {
	r.env.ExecuteWorkflow(Replay, ReplayInput{ReplayID: "rpl_1"})
	return r.env.GetWorkflowError()
}

func TestReplayPagesUntilDone(t *testing.T) {
	t.Parallel()
	r := newReplayEnv(t, func(_ context.Context, n int) (activities.ReplayPageResult, error) {
		return activities.ReplayPageResult{Done: n == 3, Status: "completed", Handled: 500}, nil
	})
	if err := r.run(); err != nil || r.pages != 3 || len(r.finished) != 0 {
		t.Fatalf("err %v after %d pages, finished %v", err, r.pages, r.finished)
	}
}

// A replay longer than replayPagesPerRun pages continues as new with the same input: its
// progress lives in PostgreSQL, and its history stays bounded.
func TestReplayContinuesAsNew(t *testing.T) {
	t.Parallel()
	r := newReplayEnv(t, func(context.Context, int) (activities.ReplayPageResult, error) {
		return activities.ReplayPageResult{Handled: 500}, nil
	})
	err := r.run()
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) || r.pages != replayPagesPerRun {
		t.Fatalf("err %v after %d pages", err, r.pages)
	}
	var in ReplayInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil || in.ReplayID != "rpl_1" || can.WorkflowType.Name != "Replay" {
		t.Fatalf("continued as %s with %+v (%v)", can.WorkflowType.Name, in, err)
	}
}

// A page that fails for good ends the replay failed, its error recorded; a replay that is
// gone has nothing to record.
func TestReplayFails(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, errType string
		finished      int
	}{{"fault", "SomeFault", 1}, {"gone", activities.ErrTypeReplayGone, 0}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newReplayEnv(t, func(_ context.Context, n int) (activities.ReplayPageResult, error) {
				if n == 1 {
					return activities.ReplayPageResult{Handled: 10}, nil
				}
				return activities.ReplayPageResult{}, temporal.NewNonRetryableApplicationError("page broke", tt.errType, nil)
			})
			err := r.run()
			if err == nil || r.pages != 2 || len(r.finished) != tt.finished {
				t.Fatalf("err %v after %d pages, finished %v", err, r.pages, r.finished)
			}
			if tt.finished > 0 && (r.finished[0][0] != activities.ReplayFailed || r.finished[0][1] == "") {
				t.Fatalf("finished %v", r.finished)
			}
		})
	}
}

// Canceling the workflow stops the page in progress (its context ends) and the run ends
// Canceled, the replay recorded canceled.
func TestReplayCanceled(t *testing.T) {
	t.Parallel()
	var r *replayEnv
	r = newReplayEnv(t, func(ctx context.Context, n int) (activities.ReplayPageResult, error) {
		if n == 1 {
			return activities.ReplayPageResult{Handled: 500}, nil
		}
		r.env.CancelWorkflow()
		select {
		case <-ctx.Done():
			return activities.ReplayPageResult{}, ctx.Err()
		case <-time.After(10 * time.Second):
			return activities.ReplayPageResult{}, errors.New("the page was not canceled")
		}
	})
	err := r.run()
	if !temporal.IsCanceledError(err) || r.pages != 2 {
		t.Fatalf("err %v after %d pages", err, r.pages)
	}
	if len(r.finished) != 1 || r.finished[0][0] != activities.ReplayCanceled {
		t.Fatalf("finished %v", r.finished)
	}
}

// TestReplayCommittedReplayHistories replays Replay histories recorded from a real server
// (internal/dispatch's test on Temporal writes them with HOOKD_UPDATE_HISTORIES=1): a
// change to Replay's command sequence without workflow.GetVersion fails here.
func TestReplayCommittedReplayHistories(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "replay", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("found %d committed Replay histories, want the completed and canceled ones", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(Replay, workflow.RegisterOptions{Name: ReplayWorkflow})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
