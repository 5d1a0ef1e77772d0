package delivery

import (
	"testing"
	"time"
)

// TestDecideAtDeadline: under discardAfter a retry due at or past the deadline is not
// scheduled, the delivery failing at once with the reason; one due before it is; what
// does not retry, and a policy without a deadline, decide as Decide does.
func TestDecideAtDeadline(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	p := Policy{MaxRetries: 5, Schedule: []time.Duration{time.Minute, 5 * time.Minute}, DiscardAfter: 5 * time.Minute, Created: created}
	const reason = "discarded: not delivered within 5m of the event (discardAfter)"
	tests := []struct {
		name       string
		p          Policy
		number     int
		trigger    string
		o          Outcome
		retryAfter time.Duration
		at         time.Time
		want       Decision
	}{
		{"retry due well before", p, 1, TriggerAuto, OutcomeRetry, 0, created.Add(time.Second),
			Decision{Status: StatusRetrying, Delay: time.Minute}},
		{"retry due just before", p, 1, TriggerAuto, OutcomeRetry, 0, created.Add(4*time.Minute - time.Nanosecond),
			Decision{Status: StatusRetrying, Delay: time.Minute}},
		{"retry due at the deadline", p, 1, TriggerAuto, OutcomeRetry, 0, created.Add(4 * time.Minute),
			Decision{Status: StatusFailed, Reason: reason}},
		{"second retry's 5m past it", p, 2, TriggerAuto, OutcomeRetry, 0, created.Add(time.Minute),
			Decision{Status: StatusFailed, Reason: reason}},
		{"Retry-After past it", p, 1, TriggerAuto, OutcomeRetry, time.Hour, created,
			Decision{Status: StatusFailed, Reason: reason}},
		{"success after the deadline", p, 3, TriggerAuto, OutcomeSucceeded, 0, created.Add(time.Hour),
			Decision{Status: StatusSucceeded}},
		{"gone", p, 1, TriggerAuto, OutcomeGone, 0, created.Add(time.Hour),
			Decision{Status: StatusFailed, DisableWebhook: true}},
		{"manual retry failing: no retry to give up", p, 4, TriggerManual, OutcomeRetry, 0, created.Add(time.Hour),
			Decision{Status: StatusFailed}},
		{"no discardAfter", Policy{MaxRetries: 5, Schedule: []time.Duration{time.Hour}, Created: created}, 1, TriggerAuto, OutcomeRetry, 0, created.Add(24 * time.Hour),
			Decision{Status: StatusRetrying, Delay: time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := DecideAt(tt.p, "del_1", tt.number, tt.trigger, tt.o, tt.retryAfter, tt.at)
			if got != tt.want {
				t.Fatalf("DecideAt = %+v, want %+v", got, tt.want)
			}
			if plain := Decide(tt.p, "del_1", tt.number, tt.trigger, tt.o, tt.retryAfter); tt.want.Reason == "" && plain != got {
				t.Fatalf("Decide = %+v, DecideAt = %+v: they differ without a deadline reached", plain, got)
			}
		})
	}
}

// TestDiscarded: an attempt may start strictly before the deadline, never at or after.
func TestDiscarded(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	p := Policy{DiscardAfter: 90 * time.Second, Created: created}
	if got := p.Discarded(created.Add(90*time.Second - time.Nanosecond)); got != "" {
		t.Fatalf("before the deadline: %q", got)
	}
	if got, want := p.Discarded(created.Add(90*time.Second)), "discarded: not delivered within 1m30s of the event (discardAfter)"; got != want {
		t.Fatalf("at the deadline: %q, want %q", got, want)
	}
	if got := (Policy{Created: created}).Discarded(created.Add(1000 * time.Hour)); got != "" {
		t.Fatalf("without discardAfter: %q", got)
	}
	if d, ok := (Policy{}).Deadline(); ok || !d.IsZero() {
		t.Fatalf("Deadline of a policy without discardAfter: %v, %v", d, ok)
	}
}
