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

// TestDecideSchedule covers the rule's schedule part with jitter off, so each delay is exact.
func TestDecideSchedule(t *testing.T) {
	t.Parallel()
	p := Policy{MaxRetries: 3, Schedule: []time.Duration{time.Minute, 5 * time.Minute}}
	tests := []struct {
		name       string
		policy     Policy
		number     int
		trigger    string
		outcome    Outcome
		retryAfter time.Duration
		want       Decision
	}{
		{"succeeded", p, 1, TriggerAuto, OutcomeSucceeded, 0, Decision{Status: StatusSucceeded}},
		{"succeeded ignores retry-after", p, 3, TriggerAuto, OutcomeSucceeded, time.Hour, Decision{Status: StatusSucceeded}},
		{"succeeded after manual retry", p, 4, TriggerManual, OutcomeSucceeded, 0, Decision{Status: StatusSucceeded}},
		{"gone disables the webhook", p, 1, TriggerAuto, OutcomeGone, 0, Decision{Status: StatusFailed, DisableWebhook: true}},
		{"gone with retry-after", p, 1, TriggerAuto, OutcomeGone, time.Hour, Decision{Status: StatusFailed, DisableWebhook: true}},
		{"failed is permanent", p, 1, TriggerAuto, OutcomeFailed, 0, Decision{Status: StatusFailed}},
		{"retry first", p, 1, TriggerAuto, OutcomeRetry, 0, Decision{Status: StatusRetrying, Delay: time.Minute}},
		{"retry second", p, 2, TriggerAuto, OutcomeRetry, 0, Decision{Status: StatusRetrying, Delay: 5 * time.Minute}},
		{"retry last entry repeats", p, 3, TriggerAuto, OutcomeRetry, 0, Decision{Status: StatusRetrying, Delay: 5 * time.Minute}},
		{"retries exhausted", p, 4, TriggerAuto, OutcomeRetry, 0, Decision{Status: StatusFailed}},
		{"retries beyond max", p, 8, TriggerAuto, OutcomeRetry, 0, Decision{Status: StatusFailed}},
		{"manual never retries", p, 1, TriggerManual, OutcomeRetry, 0, Decision{Status: StatusFailed}},
		{"manual ignores retry-after", p, 1, TriggerManual, OutcomeRetry, time.Hour, Decision{Status: StatusFailed}},
		{"replay never retries", p, 1, TriggerReplay, OutcomeRetry, 0, Decision{Status: StatusFailed}},
		{"zero max retries", Policy{MaxRetries: 0}, 1, TriggerAuto, OutcomeRetry, 0, Decision{Status: StatusFailed}},
		{"negative max retries", Policy{MaxRetries: -1}, 1, TriggerAuto, OutcomeRetry, 0, Decision{Status: StatusFailed}},
		{"retry-after shorter than schedule", p, 1, TriggerAuto, OutcomeRetry, 10 * time.Second, Decision{Status: StatusRetrying, Delay: time.Minute}},
		{"retry-after longer than schedule", p, 1, TriggerAuto, OutcomeRetry, 2 * time.Hour, Decision{Status: StatusRetrying, Delay: 2 * time.Hour}},
		{"retry-after capped", p, 1, TriggerAuto, OutcomeRetry, 100 * time.Hour, Decision{Status: StatusRetrying, Delay: MaxRetryAfter}},
		{"negative retry-after ignored", p, 2, TriggerAuto, OutcomeRetry, -time.Hour, Decision{Status: StatusRetrying, Delay: 5 * time.Minute}},
		{"unknown outcome retries", p, 1, TriggerAuto, Outcome("weird"), 0, Decision{Status: StatusRetrying, Delay: time.Minute}},
		{"number 0 counts as the first", p, 0, TriggerAuto, OutcomeRetry, 0, Decision{Status: StatusRetrying, Delay: time.Minute}},
		{"default schedule", Policy{MaxRetries: DefaultMaxRetries}, 5, TriggerAuto, OutcomeRetry, 0, Decision{Status: StatusRetrying, Delay: time.Hour}},
		{"default schedule exhausted", Policy{MaxRetries: DefaultMaxRetries}, 6, TriggerAuto, OutcomeRetry, 0, Decision{Status: StatusFailed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Decide(tt.policy, "dlv_1", tt.number, tt.trigger, tt.outcome, tt.retryAfter); got != tt.want {
				t.Errorf("Decide(%+v, %d, %s, %q, %v) = %+v, want %+v",
					tt.policy, tt.number, tt.trigger, tt.outcome, tt.retryAfter, got, tt.want)
			}
		})
	}
}

// TestDecideTerminates walks a whole delivery that always fails: it must make exactly
// MaxRetries automatic retries, each within ±20% of the scheduled delay, and then fail.
func TestDecideTerminates(t *testing.T) {
	t.Parallel()
	p := Policy{MaxRetries: DefaultMaxRetries, Schedule: DefaultSchedule, Jitter: DefaultJitter}
	var delays []time.Duration
	for n := 1; ; n++ {
		d := Decide(p, "dlv_walk", n, TriggerAuto, Classify(503), 0)
		if d.Status == StatusFailed {
			break
		}
		if d.Status != StatusRetrying {
			t.Fatalf("status %q after attempt %d", d.Status, n)
		}
		if n > 100 {
			t.Fatal("Decide never gives up")
		}
		delays = append(delays, d.Delay)
	}
	want := []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, time.Hour}
	if len(delays) != len(want) {
		t.Fatalf("delays = %v, want %d of them", delays, len(want))
	}
	for i := range want {
		if lo, hi := want[i]*8/10, want[i]*12/10; delays[i] < lo || delays[i] > hi {
			t.Errorf("delay before retry %d = %v, want within [%v, %v]", i+1, delays[i], lo, hi)
		}
	}
}
