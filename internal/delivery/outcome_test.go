package delivery

import (
	"strconv"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code int
		want Outcome
	}{
		{0, OutcomeRetry},
		{100, OutcomeRetry},
		{199, OutcomeRetry},
		{200, OutcomeSucceeded},
		{201, OutcomeSucceeded},
		{204, OutcomeSucceeded},
		{299, OutcomeSucceeded},
		{300, OutcomeRetry},
		{301, OutcomeRetry},
		{302, OutcomeRetry},
		{304, OutcomeRetry},
		{400, OutcomeRetry},
		{401, OutcomeRetry},
		{404, OutcomeRetry},
		{410, OutcomeGone},
		{429, OutcomeRetry},
		{500, OutcomeRetry},
		{503, OutcomeRetry},
		{599, OutcomeRetry},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			t.Parallel()
			if got := Classify(tt.code); got != tt.want {
				t.Errorf("Classify(%d) = %q, want %q", tt.code, got, tt.want)
			}
		})
	}
}

func TestNext(t *testing.T) {
	t.Parallel()
	p := Policy{MaxRetries: 3, Schedule: []time.Duration{time.Minute, 5 * time.Minute}}
	tests := []struct {
		name        string
		policy      Policy
		retriesDone int
		manual      bool
		outcome     Outcome
		retryAfter  time.Duration
		wantStatus  string
		wantDelay   time.Duration
	}{
		{"succeeded", p, 0, false, OutcomeSucceeded, 0, StatusSucceeded, 0},
		{"succeeded ignores retry-after", p, 2, false, OutcomeSucceeded, time.Hour, StatusSucceeded, 0},
		{"succeeded after manual retry", p, 3, true, OutcomeSucceeded, 0, StatusSucceeded, 0},
		{"gone", p, 0, false, OutcomeGone, 0, StatusFailed, 0},
		{"gone with retry-after", p, 0, false, OutcomeGone, time.Hour, StatusFailed, 0},
		{"failed is permanent", p, 0, false, OutcomeFailed, 0, StatusFailed, 0},
		{"retry first", p, 0, false, OutcomeRetry, 0, StatusRetrying, time.Minute},
		{"retry second", p, 1, false, OutcomeRetry, 0, StatusRetrying, 5 * time.Minute},
		{"retry last entry repeats", p, 2, false, OutcomeRetry, 0, StatusRetrying, 5 * time.Minute},
		{"retries exhausted", p, 3, false, OutcomeRetry, 0, StatusFailed, 0},
		{"retries beyond max", p, 7, false, OutcomeRetry, 0, StatusFailed, 0},
		{"manual never retries", p, 0, true, OutcomeRetry, 0, StatusFailed, 0},
		{"manual ignores retry-after", p, 0, true, OutcomeRetry, time.Hour, StatusFailed, 0},
		{"zero max retries", Policy{MaxRetries: 0}, 0, false, OutcomeRetry, 0, StatusFailed, 0},
		{"negative max retries", Policy{MaxRetries: -1}, 0, false, OutcomeRetry, 0, StatusFailed, 0},
		{"retry-after shorter than schedule", p, 0, false, OutcomeRetry, 10 * time.Second, StatusRetrying, time.Minute},
		{"retry-after longer than schedule", p, 0, false, OutcomeRetry, 2 * time.Hour, StatusRetrying, 2 * time.Hour},
		{"retry-after capped", p, 0, false, OutcomeRetry, 100 * time.Hour, StatusRetrying, MaxRetryAfter},
		{"negative retry-after ignored", p, 1, false, OutcomeRetry, -time.Hour, StatusRetrying, 5 * time.Minute},
		{"unknown outcome retries", p, 0, false, Outcome("weird"), 0, StatusRetrying, time.Minute},
		{"default schedule", Policy{MaxRetries: DefaultMaxRetries}, 4, false, OutcomeRetry, 0, StatusRetrying, time.Hour},
		{"default schedule exhausted", Policy{MaxRetries: DefaultMaxRetries}, 5, false, OutcomeRetry, 0, StatusFailed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, delay := Next(tt.policy, tt.retriesDone, tt.manual, tt.outcome, tt.retryAfter)
			if status != tt.wantStatus || delay != tt.wantDelay {
				t.Errorf("Next(%+v, %d, %v, %q, %v) = (%q, %v), want (%q, %v)",
					tt.policy, tt.retriesDone, tt.manual, tt.outcome, tt.retryAfter, status, delay, tt.wantStatus, tt.wantDelay)
			}
		})
	}
}

// TestNextTerminates walks a whole delivery that always fails: it must make exactly
// MaxRetries automatic retries, with the scheduled delays, and then fail.
func TestNextTerminates(t *testing.T) {
	t.Parallel()
	p := Policy{MaxRetries: DefaultMaxRetries, Schedule: DefaultSchedule}
	var delays []time.Duration
	for retries := 0; ; retries++ {
		status, delay := Next(p, retries, false, Classify(503), 0)
		if status == StatusFailed {
			break
		}
		if status != StatusRetrying {
			t.Fatalf("status %q after %d retries", status, retries)
		}
		if retries > 100 {
			t.Fatal("Next never gives up")
		}
		delays = append(delays, delay)
	}
	want := []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, time.Hour}
	if len(delays) != len(want) {
		t.Fatalf("delays = %v, want %v", delays, want)
	}
	for i := range want {
		if delays[i] != want[i] {
			t.Fatalf("delays = %v, want %v", delays, want)
		}
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	p := Policy{MaxRetries: 2, Schedule: []time.Duration{time.Minute, 5 * time.Minute}}
	tests := []struct {
		name       string
		number     int
		trigger    string
		outcome    Outcome
		retryAfter time.Duration
		want       Decision
	}{
		{"first attempt fails", 1, TriggerAuto, OutcomeRetry, 0, Decision{Status: StatusRetrying, Delay: time.Minute}},
		{"second attempt waits the second entry", 2, TriggerAuto, OutcomeRetry, 0, Decision{Status: StatusRetrying, Delay: 5 * time.Minute}},
		{"retry-after is a lower bound", 2, TriggerAuto, OutcomeRetry, time.Hour, Decision{Status: StatusRetrying, Delay: time.Hour}},
		{"retries run out", 3, TriggerAuto, OutcomeRetry, 0, Decision{Status: StatusFailed}},
		{"manual attempt is not retried", 1, TriggerManual, OutcomeRetry, 0, Decision{Status: StatusFailed}},
		{"replay attempt is not retried", 1, TriggerReplay, OutcomeRetry, 0, Decision{Status: StatusFailed}},
		{"success", 3, TriggerAuto, OutcomeSucceeded, 0, Decision{Status: StatusSucceeded}},
		{"gone disables the webhook", 1, TriggerAuto, OutcomeGone, 0, Decision{Status: StatusFailed, DisableWebhook: true}},
		{"permanent failure", 1, TriggerAuto, OutcomeFailed, 0, Decision{Status: StatusFailed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Decide(p, tt.number, tt.trigger, tt.outcome, tt.retryAfter); got != tt.want {
				t.Errorf("Decide(%d, %s, %s, %v) = %+v, want %+v", tt.number, tt.trigger, tt.outcome, tt.retryAfter, got, tt.want)
			}
		})
	}
}
