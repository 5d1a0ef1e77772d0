package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/internal/delivery"
)

// quietLogger keeps the test environment's debug chatter out of test output.
var quietLogger = log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))

// scripted is one scripted answer of the attempt activity: what the receiver did and the
// webhook's retry policy, from which the mock decides as the activity does.
type scripted struct {
	activities.AttemptResult
	policy delivery.Policy
}

// receiver scripts what the mocked attempt activity answers, one result per attempt
// (the last repeats), and records when and how each attempt was made.
type receiver struct {
	env     *testsuite.TestWorkflowEnvironment
	start   time.Time
	results []scripted
	calls   []call
	// onAttempt, if set, runs inside attempt n (1-based) before it answers.
	onAttempt func(n int)
}

type call struct {
	at    time.Duration // since the workflow started
	in    activities.AttemptInput
	local bool // ran as a local activity
}

func (r *receiver) attempt(ctx context.Context, in activities.AttemptInput) (activities.AttemptResult, error) {
	r.calls = append(r.calls, call{at: r.env.Now().Sub(r.start), in: in, local: activity.GetInfo(ctx).IsLocalActivity})
	if r.onAttempt != nil {
		r.onAttempt(len(r.calls))
	}
	sc := r.results[min(len(r.calls), len(r.results))-1]
	res := sc.AttemptResult
	res.Number = len(r.calls)
	if !res.Abandoned {
		d := delivery.Decide(sc.policy, in.DeliveryID, res.Number, in.Trigger, res.Outcome, res.RetryAfter)
		res.Status, res.Delay = d.Status, d.Delay
	}
	return res, nil
}

func newReceiver(t *testing.T, results ...scripted) *receiver {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quietLogger)
	env := s.NewTestWorkflowEnvironment()
	r := &receiver{env: env, start: env.Now(), results: results}
	var a *activities.Activities
	env.RegisterActivity(a.Attempt)
	env.OnActivity(a.Attempt, mock.Anything, mock.Anything).Return(r.attempt)
	return r
}

// run runs the workflow to its end and returns the state it ended with, having checked
// that the workflow closed as that state says (see closed).
func (r *receiver) run(t *testing.T, in DeliveryInput) DeliveryState {
	t.Helper()
	r.env.ExecuteWorkflow(Delivery, in)
	st, _ := closed(t, r.env)
	return st
}

// How a workflow run closed, as the Web UI shows it.
const (
	closedCompleted = "Completed"
	closedFailed    = "Failed"
	closedCanceled  = "Canceled"
)

// closed reads how the finished run in env closed and the state it closed with: its
// result when it completed, the details of its DeliveryFailed error or of its
// cancellation otherwise. It fails t unless the close is the one the state's status
// calls for: succeeded completes, failed fails, canceled cancels.
func closed(t *testing.T, env *testsuite.TestWorkflowEnvironment) (DeliveryState, string) {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var (
		st       DeliveryState
		how      string
		appErr   *temporal.ApplicationError
		canceled *temporal.CanceledError
	)
	switch err := env.GetWorkflowError(); {
	case err == nil:
		how = closedCompleted
		if err := env.GetWorkflowResult(&st); err != nil {
			t.Fatalf("workflow result: %v", err)
		}
	case errors.As(err, &canceled):
		how = closedCanceled
		if err := canceled.Details(&st); err != nil {
			t.Fatalf("cancellation details: %v", err)
		}
	case errors.As(err, &appErr) && appErr.Type() == ErrTypeDeliveryFailed && appErr.NonRetryable():
		how = closedFailed
		if err := appErr.Details(&st); err != nil {
			t.Fatalf("failure details: %v", err)
		}
	default:
		t.Fatalf("workflow error: %v", err)
	}
	want := map[string]string{
		delivery.StatusSucceeded: closedCompleted,
		delivery.StatusFailed:    closedFailed,
		delivery.StatusCanceled:  closedCanceled,
	}[st.Status]
	if how != want {
		t.Fatalf("workflow closed %s with state %+v, want %s", how, st, want)
	}
	return st, how
}

func (r *receiver) times() []time.Duration {
	out := make([]time.Duration, len(r.calls))
	for i, c := range r.calls {
		out[i] = c.at
	}
	return out
}

func retry(p delivery.Policy, retryAfter time.Duration) scripted {
	return scripted{activities.AttemptResult{Outcome: delivery.OutcomeRetry, RetryAfter: retryAfter, StatusCode: 503,
		Error: "receiver answered 503"}, p}
}

func ok(p delivery.Policy) scripted {
	return scripted{activities.AttemptResult{Outcome: delivery.OutcomeSucceeded, StatusCode: 200}, p}
}

func assertTimes(t *testing.T, got []time.Duration, want ...time.Duration) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("attempts at %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("attempts at %v, want %v", got, want)
		}
	}
}

func TestDeliveryFollowsScheduleUntilRetriesRunOut(t *testing.T) {
	t.Parallel()
	p := delivery.Policy{MaxRetries: 3, Schedule: []time.Duration{time.Minute, 5 * time.Minute}}
	r := newReceiver(t, retry(p, 0))
	st := r.run(t, DeliveryInput{DeliveryID: "dlv_1", Version: DeliveryVersion})

	// The last schedule entry repeats: +1m, then +5m, +5m.
	assertTimes(t, r.times(), 0, time.Minute, 6*time.Minute, 11*time.Minute)
	if st.Status != delivery.StatusFailed || st.Attempts != 4 {
		t.Fatalf("state %+v, want failed after 4 attempts", st)
	}
	for i, c := range r.calls {
		if c.in.Trigger != activities.TriggerAuto {
			t.Fatalf("attempt %d input %+v", i+1, c.in)
		}
		// Only the first attempt runs inside the starting workflow task.
		if c.local != (i == 0) {
			t.Fatalf("attempt %d local=%v, want %v", i+1, c.local, i == 0)
		}
	}
}

func TestDeliverySucceedsOnRetry(t *testing.T) {
	t.Parallel()
	p := delivery.Policy{MaxRetries: 5, Schedule: []time.Duration{30 * time.Second}}
	r := newReceiver(t, retry(p, 0), ok(p))
	st := r.run(t, DeliveryInput{DeliveryID: "dlv_1", Version: DeliveryVersion})
	assertTimes(t, r.times(), 0, 30*time.Second)
	if st.Status != delivery.StatusSucceeded || st.Attempts != 2 {
		t.Fatalf("state %+v, want succeeded after 2 attempts", st)
	}
}

func TestDeliveryRetryAfterIsALowerBound(t *testing.T) {
	t.Parallel()
	p := delivery.Policy{MaxRetries: 2, Schedule: []time.Duration{time.Minute}}
	tests := []struct {
		name       string
		retryAfter time.Duration
		wantSecond time.Duration
	}{
		{"longer than the schedule wins", 10 * time.Minute, 10 * time.Minute},
		{"shorter than the schedule loses", 10 * time.Second, time.Minute},
		{"capped at 24h", 72 * time.Hour, 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newReceiver(t, retry(p, tc.retryAfter), ok(p))
			r.run(t, DeliveryInput{DeliveryID: "dlv_1", Version: DeliveryVersion})
			assertTimes(t, r.times(), 0, tc.wantSecond)
		})
	}
}

func TestDeliveryManualRetryDuringBackoff(t *testing.T) {
	t.Parallel()
	p := delivery.Policy{MaxRetries: 5, Schedule: []time.Duration{time.Hour}}
	r := newReceiver(t, retry(p, 0))
	r.env.RegisterDelayedCallback(func() { r.env.SignalWorkflow(SignalRetry, nil) }, 5*time.Minute)
	st := r.run(t, DeliveryInput{DeliveryID: "dlv_1", Version: DeliveryVersion})

	// The manual attempt runs at once, and its failure ends the delivery: no automatic
	// retries follow a manual one.
	assertTimes(t, r.times(), 0, 5*time.Minute)
	if in := r.calls[1].in; in.Trigger != activities.TriggerManual {
		t.Fatalf("second attempt input %+v, want manual", in)
	}
	if st.Status != delivery.StatusFailed || !st.Manual {
		t.Fatalf("state %+v, want failed in manual mode", st)
	}
}

func TestDeliveryManualRetryThatSucceeds(t *testing.T) {
	t.Parallel()
	p := delivery.Policy{MaxRetries: 5, Schedule: []time.Duration{time.Hour}}
	r := newReceiver(t, retry(p, 0), ok(p))
	r.env.RegisterDelayedCallback(func() { r.env.SignalWorkflow(SignalRetry, nil) }, time.Minute)
	st := r.run(t, DeliveryInput{DeliveryID: "dlv_1", Version: DeliveryVersion})
	assertTimes(t, r.times(), 0, time.Minute)
	if st.Status != delivery.StatusSucceeded {
		t.Fatalf("state %+v, want succeeded", st)
	}
}

func TestDeliveryCancelDuringBackoff(t *testing.T) {
	t.Parallel()
	p := delivery.Policy{MaxRetries: 5, Schedule: []time.Duration{time.Hour}}
	r := newReceiver(t, retry(p, 0))
	r.env.RegisterDelayedCallback(func() { r.env.SignalWorkflow(SignalCancel, nil) }, 10*time.Minute)
	st := r.run(t, DeliveryInput{DeliveryID: "dlv_1", Version: DeliveryVersion})
	assertTimes(t, r.times(), 0)
	if st.Status != delivery.StatusCanceled {
		t.Fatalf("state %+v, want canceled", st)
	}
	if got := r.env.Now().Sub(r.start); got != 10*time.Minute {
		t.Fatalf("workflow ended %v after start, want at the cancel (10m)", got)
	}
}

func TestDeliveryGoneFailsAtOnce(t *testing.T) {
	t.Parallel()
	p := delivery.Policy{MaxRetries: 5, Schedule: []time.Duration{time.Minute}}
	r := newReceiver(t, scripted{activities.AttemptResult{Outcome: delivery.OutcomeGone, StatusCode: 410}, p})
	st := r.run(t, DeliveryInput{DeliveryID: "dlv_1", Version: DeliveryVersion})
	assertTimes(t, r.times(), 0)
	if st.Status != delivery.StatusFailed {
		t.Fatalf("state %+v, want failed", st)
	}
}

func TestDeliveryManualStartMakesOneAttempt(t *testing.T) {
	t.Parallel()
	p := delivery.Policy{MaxRetries: 5, Schedule: []time.Duration{time.Minute}}
	r := newReceiver(t, retry(p, 0))
	// A retry of a finished delivery starts a new run with Manual set.
	st := r.run(t, DeliveryInput{DeliveryID: "dlv_1", Version: DeliveryVersion, Manual: true})
	assertTimes(t, r.times(), 0)
	if in := r.calls[0].in; in.Trigger != activities.TriggerManual {
		t.Fatalf("attempt input %+v, want manual", in)
	}
	if st.Status != delivery.StatusFailed {
		t.Fatalf("state %+v, want failed", st)
	}
}

func TestDeliveryAbandonedWhenNothingToSend(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, scripted{AttemptResult: activities.AttemptResult{Abandoned: true, Error: "webhook is disabled"}})
	st := r.run(t, DeliveryInput{DeliveryID: "dlv_1", Version: DeliveryVersion})
	if st.Status != delivery.StatusCanceled || st.LastError != "webhook is disabled" {
		t.Fatalf("state %+v, want canceled with the reason", st)
	}
}

func TestDeliveryStatusQueryDuringBackoff(t *testing.T) {
	t.Parallel()
	p := delivery.Policy{MaxRetries: 1, Schedule: []time.Duration{time.Hour}}
	r := newReceiver(t, retry(p, 0), ok(p))
	var during DeliveryState
	r.env.RegisterDelayedCallback(func() {
		v, err := r.env.QueryWorkflow(QueryStatus)
		if err != nil {
			t.Errorf("query: %v", err)
			return
		}
		if err := v.Get(&during); err != nil {
			t.Errorf("decode query: %v", err)
		}
	}, 30*time.Minute)
	r.run(t, DeliveryInput{DeliveryID: "dlv_1", Version: DeliveryVersion})
	if during.Status != delivery.StatusRetrying || during.Attempts != 1 {
		t.Fatalf("status during backoff %+v, want retrying after 1 attempt", during)
	}
	if want := r.start.Add(time.Hour); during.NextAttemptAt == nil || !during.NextAttemptAt.Equal(want) {
		t.Fatalf("nextAttemptAt %v, want %v", during.NextAttemptAt, want)
	}
}

func TestDeliveryRetrySignalDuringFinalAttemptIsHonoured(t *testing.T) {
	t.Parallel()
	p := delivery.Policy{MaxRetries: 0, Schedule: []time.Duration{time.Minute}}
	r := newReceiver(t, retry(p, 0), ok(p))
	// The admin clicks retry while the last automatic attempt is still running.
	r.onAttempt = func(n int) {
		if n == 1 {
			r.env.SignalWorkflow(SignalRetry, nil)
		}
	}
	st := r.run(t, DeliveryInput{DeliveryID: "dlv_1", Version: DeliveryVersion})
	if len(r.calls) != 2 || r.calls[1].in.Trigger != activities.TriggerManual {
		t.Fatalf("attempts %+v, want a manual attempt after the failed last one", r.calls)
	}
	if st.Status != delivery.StatusSucceeded {
		t.Fatalf("state %+v, want succeeded", st)
	}
}

func TestDeliveryFailureNamesTheLastError(t *testing.T) {
	t.Parallel()
	p := delivery.Policy{MaxRetries: 3, Schedule: []time.Duration{time.Minute}}
	r := newReceiver(t, retry(p, 0))
	r.env.ExecuteWorkflow(Delivery, DeliveryInput{DeliveryID: "dlv_1", Version: DeliveryVersion})
	st, how := closed(t, r.env)
	var appErr *temporal.ApplicationError
	if !errors.As(r.env.GetWorkflowError(), &appErr) {
		t.Fatalf("workflow error %v", r.env.GetWorkflowError())
	}
	if want := "delivery dlv_1 failed after 4 attempts: receiver answered 503"; appErr.Message() != want {
		t.Fatalf("failure message %q, want %q", appErr.Message(), want)
	}
	if how != closedFailed || st.Attempts != 4 || st.NextAttemptAt != nil || st.LastError != "receiver answered 503" ||
		st.LastOutcome != delivery.OutcomeRetry {
		t.Fatalf("closed %s with %+v", how, st)
	}
}

// TestDeliveryRunsBeforeTheCloseChangeStillComplete: a run recorded before
// changeCloseStatus (no marker: GetVersion answers DefaultVersion) completes with its
// state whatever its end, as it did.
func TestDeliveryRunsBeforeTheCloseChangeStillComplete(t *testing.T) {
	t.Parallel()
	p := delivery.Policy{MaxRetries: 5, Schedule: []time.Duration{time.Hour}}
	tests := []struct {
		name    string
		results []scripted
		signal  string
		want    string
	}{
		{"failed", []scripted{{activities.AttemptResult{Outcome: delivery.OutcomeGone, StatusCode: 410}, p}}, "", delivery.StatusFailed},
		{"canceled", []scripted{retry(p, 0)}, SignalCancel, delivery.StatusCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newReceiver(t, tc.results...)
			r.env.OnGetVersion(changeCloseStatus, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
			if tc.signal != "" {
				r.env.RegisterDelayedCallback(func() { r.env.SignalWorkflow(tc.signal, nil) }, time.Minute)
			}
			// A run started before DeliveryVersion asks GetVersion.
			r.env.ExecuteWorkflow(Delivery, DeliveryInput{DeliveryID: "dlv_1"})
			if err := r.env.GetWorkflowError(); err != nil {
				t.Fatalf("workflow error %v, want none (completed)", err)
			}
			var st DeliveryState
			if err := r.env.GetWorkflowResult(&st); err != nil || st.Status != tc.want {
				t.Fatalf("result %+v (%v), want %s", st, err, tc.want)
			}
		})
	}
}

func TestRetrySummarySaysWhyATimerWaits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		number            int
		delay, retryAfter time.Duration
		want              string
	}{
		{3, 5 * time.Minute, 300 * time.Second, "retry 3 in 5m (Retry-After 300s)"},
		{1, 57*time.Second + 300*time.Millisecond, 0, "retry 1 in 57s"},
		{2, time.Hour, 0, "retry 2 in 1h"},
		{4, 90 * time.Minute, 10 * time.Second, "retry 4 in 1h30m (Retry-After 10s)"},
		{5, 24 * time.Hour, 72 * time.Hour, "retry 5 in 24h (Retry-After 259200s)"},
		{6, 1500 * time.Millisecond, 0, "retry 6 in 2s"},
		{7, 300 * time.Millisecond, 0, "retry 7 in 300ms"},
	}
	for _, tc := range tests {
		if got := retrySummary(tc.number, tc.delay, tc.retryAfter); got != tc.want {
			t.Errorf("retrySummary(%d, %v, %v) = %q, want %q", tc.number, tc.delay, tc.retryAfter, got, tc.want)
		}
	}
}

// TestDeliveryStateAnswersOnlyWhatHolds: no zero times or stale fields in what the query
// and the result answer, and a state recorded before they were optional still decodes.
func TestDeliveryStateAnswersOnlyWhatHolds(t *testing.T) {
	t.Parallel()
	p := delivery.Policy{MaxRetries: 5, Schedule: []time.Duration{time.Minute}}
	r := newReceiver(t, retry(p, 0), ok(p))
	var during map[string]any
	r.env.RegisterDelayedCallback(func() {
		v, err := r.env.QueryWorkflow(QueryStatus)
		if err != nil {
			t.Errorf("query: %v", err)
			return
		}
		if err := v.Get(&during); err != nil {
			t.Errorf("decode query: %v", err)
		}
	}, 30*time.Second)
	st := r.run(t, DeliveryInput{DeliveryID: "dlv_1", Version: DeliveryVersion})
	if during["Status"] != delivery.StatusRetrying || during["NextAttemptAt"] == nil || during["Manual"] != nil {
		t.Fatalf("status during backoff %v, want retrying with a next attempt time and no manual flag", during)
	}
	if st.Status != delivery.StatusSucceeded || st.NextAttemptAt != nil || st.LastError != "" {
		t.Fatalf("result %+v", st)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Status":"succeeded","Attempts":2,"LastOutcome":"succeeded"}`; string(raw) != want {
		t.Fatalf("result encodes as %s, want %s", raw, want)
	}

	var old DeliveryState
	recorded := `{"Status":"failed","Attempts":4,"Manual":false,"NextAttemptAt":"0001-01-01T00:00:00Z","LastOutcome":"retry","LastError":"receiver answered 503"}`
	if err := json.Unmarshal([]byte(recorded), &old); err != nil || old.Status != delivery.StatusFailed || old.Attempts != 4 {
		t.Fatalf("a state recorded before: %+v, %v", old, err)
	}
}

// TestDeliveryUpsertsStatusOnlyWhenItHasMoreToSay: from DeliveryVersion 1 a run upserts
// hookd's status attributes from its first attempt that does not succeed onwards, and asks
// GetVersion nothing (each GetVersion marker upserts TemporalChangeVersion); a run started
// before it upserts after every attempt and asks, as its recorded history says.
func TestDeliveryUpsertsStatusOnlyWhenItHasMoreToSay(t *testing.T) {
	t.Parallel()
	p := delivery.Policy{MaxRetries: 5, Schedule: []time.Duration{time.Second}}
	gone := scripted{activities.AttemptResult{Outcome: delivery.OutcomeGone, StatusCode: 410}, p}
	tests := []struct {
		name        string
		version     int
		results     []scripted
		wantUpserts []string
		wantAsked   bool
	}{
		{"succeeds at once", DeliveryVersion, []scripted{ok(p)}, nil, false},
		{"succeeds on retry", DeliveryVersion, []scripted{retry(p, 0), ok(p)},
			[]string{delivery.StatusRetrying, delivery.StatusSucceeded}, false},
		{"fails", DeliveryVersion, []scripted{gone}, []string{delivery.StatusFailed}, false},
		{"started before, succeeds at once", 0, []scripted{ok(p)}, []string{delivery.StatusSucceeded}, true},
		{"started before, fails", 0, []scripted{gone}, []string{delivery.StatusFailed}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newReceiver(t, tc.results...)
			var upserts []string
			r.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
				sa := args.Get(0).(temporal.SearchAttributes)
				status, _ := sa.GetKeyword(AttrStatus)
				upserts = append(upserts, status)
			}).Return(nil)
			asked := false
			r.env.OnGetVersion(mock.Anything, workflow.DefaultVersion, 1).Run(func(mock.Arguments) {
				asked = true
			}).Return(workflow.Version(1))
			r.run(t, DeliveryInput{DeliveryID: "dlv_1", Version: tc.version})
			if !slices.Equal(upserts, tc.wantUpserts) {
				t.Errorf("upserted statuses %q, want %q", upserts, tc.wantUpserts)
			}
			if asked != tc.wantAsked {
				t.Errorf("asked GetVersion: %v, want %v", asked, tc.wantAsked)
			}
		})
	}
}
