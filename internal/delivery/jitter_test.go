package delivery

import (
	"fmt"
	"testing"
	"time"
)

func TestJitterIsFixedPerAttempt(t *testing.T) {
	t.Parallel()
	a := Jitter(time.Minute, DefaultJitter, "dlv_a", 1)
	if b := Jitter(time.Minute, DefaultJitter, "dlv_a", 1); a != b {
		t.Fatalf("same attempt jittered twice: %v then %v", a, b)
	}
	if a%time.Millisecond != 0 {
		t.Fatalf("Jitter = %v, want whole milliseconds", a)
	}
}

// TestJitterSpreads: the retries of many deliveries that failed together spread over the
// whole ±20% band instead of landing at one instant, and never leave it.
func TestJitterSpreads(t *testing.T) {
	t.Parallel()
	const n, d = 10_000, time.Minute
	lo, hi := d*8/10, d*12/10
	distinct := map[time.Duration]bool{}
	var below, above int
	for i := range n {
		got := Jitter(d, DefaultJitter, fmt.Sprintf("dlv_%06d", i), 1)
		if got < lo || got > hi {
			t.Fatalf("Jitter(%v) for delivery %d = %v, want within [%v, %v]", d, i, got, lo, hi)
		}
		distinct[got] = true
		switch {
		case got < d*9/10:
			below++
		case got > d*11/10:
			above++
		}
	}
	// Uniform over ±20%: a quarter of the deliveries in each outer tenth, with room.
	if below < n/5 || above < n/5 {
		t.Errorf("%d below -10%% and %d above +10%% of %d; want about a quarter each", below, above, n)
	}
	if len(distinct) < n/2 {
		t.Errorf("%d distinct delays for %d deliveries; want them spread", len(distinct), n)
	}
	// The attempts of one delivery are jittered independently too.
	if Jitter(d, DefaultJitter, "dlv_x", 1) == Jitter(d, DefaultJitter, "dlv_x", 2) &&
		Jitter(d, DefaultJitter, "dlv_x", 2) == Jitter(d, DefaultJitter, "dlv_x", 3) {
		t.Error("three attempts of one delivery got the same jitter")
	}
}

func TestJitterOff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d        time.Duration
		fraction float64
	}{{time.Minute, 0}, {time.Minute, -0.5}, {0, DefaultJitter}, {-time.Second, DefaultJitter}} {
		if got := Jitter(tc.d, tc.fraction, "dlv_a", 1); got != tc.d {
			t.Errorf("Jitter(%v, %v) = %v, want it unchanged", tc.d, tc.fraction, got)
		}
	}
	if got := Jitter(time.Minute, 5, "dlv_a", 1); got < 0 || got > 2*time.Minute {
		t.Errorf("Jitter with fraction 5 = %v, want it capped at ±100%%", got)
	}
}

// TestDecideJitterKeepsRetryAfter: jitter never brings a retry before the receiver's
// Retry-After, and a Retry-After below the band leaves the jittered delay.
func TestDecideJitterKeepsRetryAfter(t *testing.T) {
	t.Parallel()
	p := Policy{MaxRetries: 5, Schedule: []time.Duration{time.Minute}, Jitter: DefaultJitter}
	for i := range 1000 {
		id := fmt.Sprintf("dlv_%d", i)
		if d := Decide(p, id, 1, TriggerAuto, OutcomeRetry, time.Minute); d.Delay < time.Minute {
			t.Fatalf("%s: delay %v before a Retry-After of 1m", id, d.Delay)
		}
		want := Jitter(time.Minute, DefaultJitter, id, 1)
		if d := Decide(p, id, 1, TriggerAuto, OutcomeRetry, time.Second); d.Delay != want {
			t.Fatalf("%s: delay %v, want the jittered %v", id, d.Delay, want)
		}
	}
}
