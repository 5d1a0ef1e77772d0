package workflows

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/internal/delivery"
)

// batchRun is a Batch in a test environment whose activities are scripted: the window
// ends window after the start, and attempts answer outcomes in turn (the last repeats).
type batchRun struct {
	env      *testsuite.TestWorkflowEnvironment
	start    time.Time
	outcomes []delivery.Outcome
	policy   delivery.Policy
	attempts []batchCall
	canceled int
}

type batchCall struct {
	at time.Duration
	in activities.BatchAttemptInput
}

func newBatchRun(t *testing.T, window time.Duration, outcomes ...delivery.Outcome) *batchRun {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quietLogger)
	env := s.NewTestWorkflowEnvironment()
	r := &batchRun{env: env, start: env.Now(), outcomes: outcomes,
		policy: delivery.Policy{Schedule: []time.Duration{time.Minute}, MaxRetries: 3}}
	var a *activities.Activities
	env.RegisterActivity(a.BatchWindow)
	env.RegisterActivity(a.BatchAttempt)
	env.RegisterActivity(a.CancelBatch)
	env.OnActivity(a.BatchWindow, mock.Anything, mock.Anything).Return(
		func(context.Context, string) (time.Time, error) { return r.start.Add(window), nil })
	env.OnActivity(a.BatchAttempt, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BatchAttemptInput) (activities.AttemptResult, error) {
			r.attempts = append(r.attempts, batchCall{at: r.env.Now().Sub(r.start), in: in})
			o := r.outcomes[min(len(r.attempts), len(r.outcomes))-1]
			res := activities.AttemptResult{Number: len(r.attempts), Outcome: o}
			d := delivery.Decide(r.policy, in.BatchID, res.Number, in.Trigger, o, 0)
			res.Status, res.Delay = d.Status, d.Delay
			return res, nil
		})
	env.OnActivity(a.CancelBatch, mock.Anything, mock.Anything).Return(
		func(context.Context, string) error { r.canceled++; return nil })
	return r
}

func (r *batchRun) run(t *testing.T, in BatchInput) DeliveryState {
	t.Helper()
	r.env.ExecuteWorkflow(Batch, in)
	st, _ := closed(t, r.env)
	return st
}

func TestBatchWaitsOutItsWindowThenRetries(t *testing.T) {
	r := newBatchRun(t, 5*time.Second, delivery.OutcomeRetry, delivery.OutcomeSucceeded)
	st := r.run(t, BatchInput{BatchID: "bat_1"})
	if st.Status != delivery.StatusSucceeded || st.Attempts != 2 {
		t.Fatalf("state %+v", st)
	}
	if len(r.attempts) != 2 || r.attempts[0].at < 5*time.Second || r.attempts[0].in.Trigger != activities.TriggerAuto {
		t.Fatalf("attempts %+v: want the first at the window's end, automatic", r.attempts)
	}
	// The retry waits the schedule's minute (±20% jitter).
	if gap := r.attempts[1].at - r.attempts[0].at; gap < 48*time.Second || gap > 72*time.Second {
		t.Fatalf("retry %s after the first attempt", gap)
	}
}

func TestBatchRetrySignalSendsBeforeTheWindowEnds(t *testing.T) {
	r := newBatchRun(t, time.Hour, delivery.OutcomeSucceeded)
	r.env.RegisterDelayedCallback(func() { r.env.SignalWorkflow(SignalRetry, nil) }, time.Minute)
	st := r.run(t, BatchInput{BatchID: "bat_1"})
	if st.Status != delivery.StatusSucceeded || !st.Manual {
		t.Fatalf("state %+v", st)
	}
	if len(r.attempts) != 1 || r.attempts[0].at >= time.Hour || r.attempts[0].in.Trigger != activities.TriggerManual {
		t.Fatalf("attempts %+v: want one manual attempt at the signal", r.attempts)
	}
}

func TestBatchCancelSignalEndsItsMembers(t *testing.T) {
	r := newBatchRun(t, 0, delivery.OutcomeRetry)
	r.env.RegisterDelayedCallback(func() { r.env.SignalWorkflow(SignalCancel, nil) }, 10*time.Second)
	st := r.run(t, BatchInput{BatchID: "bat_1"})
	if st.Status != delivery.StatusCanceled || r.canceled != 1 || len(r.attempts) != 1 {
		t.Fatalf("state %+v, %d cancels, %d attempts", st, r.canceled, len(r.attempts))
	}
}

func TestManualBatchRunSkipsTheWindow(t *testing.T) {
	r := newBatchRun(t, time.Hour, delivery.OutcomeRetry)
	st := r.run(t, BatchInput{BatchID: "bat_1", Manual: true})
	// A manual attempt is followed by no automatic retry: failed at once.
	if st.Status != delivery.StatusFailed || len(r.attempts) != 1 || r.attempts[0].at != 0 ||
		r.attempts[0].in.Trigger != activities.TriggerManual {
		t.Fatalf("state %+v, attempts %+v", st, r.attempts)
	}
}

// TestReplayBatchHistories replays Batch histories recorded by internal/e2e
// (HOOKD_UPDATE_HISTORIES=1 go test ./internal/e2e/ -run 'FailedBatch|BatchedDelivery'),
// so that a change to Batch's command sequence that is not versioned fails here.
func TestReplayBatchHistories(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "batch", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("found %d batch histories in testdata/batch, want batch_retry and batch_manual_retry", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(Batch, workflow.RegisterOptions{Name: BatchWorkflow})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
