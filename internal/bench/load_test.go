package bench

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSend answers after delay and tracks the most requests in flight at once.
func fakeSend(delay time.Duration, inFlight, most *atomic.Int64) func(context.Context, int) Call {
	return func(_ context.Context, i int) Call {
		n := inFlight.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		c := Call{Start: time.Now(), Status: 202}
		time.Sleep(delay)
		inFlight.Add(-1)
		c.End = time.Now()
		return c
	}
}

func TestClosedLoopBounds(t *testing.T) {
	t.Parallel()
	var inFlight, most atomic.Int64
	load := Generate(context.Background(), Plan{Events: 200, Concurrency: 8, Within: time.Minute},
		fakeSend(time.Millisecond, &inFlight, &most))
	if len(load.Calls) != 200 {
		t.Errorf("%d calls, want 200", len(load.Calls))
	}
	if most.Load() > 8 {
		t.Errorf("%d requests in flight at once, want at most 8", most.Load())
	}
	for i, c := range load.Calls {
		if c.Index != i || c.Status != 202 {
			t.Fatalf("call %d = %+v", i, c)
		}
	}
}

func TestClosedLoopStopsInTime(t *testing.T) {
	t.Parallel()
	var inFlight, most atomic.Int64
	began := time.Now()
	load := Generate(context.Background(), Plan{Events: 1_000_000, Concurrency: 2, Within: 100 * time.Millisecond},
		fakeSend(5*time.Millisecond, &inFlight, &most))
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("took %v, want about 100ms", took)
	}
	if n := len(load.Calls); n == 0 || n > 100 {
		t.Errorf("%d calls in 100ms with 2 in flight of 5ms each, want about 40", n)
	}
}

func TestOpenLoopKeepsSchedule(t *testing.T) {
	t.Parallel()
	var inFlight, most atomic.Int64
	// 200/s for 250ms = 50 requests, each taking 20ms: about 4 in flight; the schedule
	// must not wait for the answers.
	load := Generate(context.Background(), Plan{Events: 1000, Rate: 200, Concurrency: 100, Within: 250 * time.Millisecond},
		fakeSend(20*time.Millisecond, &inFlight, &most))
	if n := len(load.Calls); n != 50 {
		t.Fatalf("%d calls, want 50 (200/s for 250ms)", n)
	}
	first, last := load.Calls[0].Start, load.Calls[len(load.Calls)-1].Start
	// Generous upper bounds: the machine may be busy.
	if span := last.Sub(first); span < 200*time.Millisecond || span > 2*time.Second {
		t.Errorf("sends spread over %v, want about 245ms", span)
	}
	if most.Load() < 2 {
		t.Errorf("at most %d in flight: the loop waited for answers", most.Load())
	}
}

func TestOpenLoopCapSlipsSchedule(t *testing.T) {
	t.Parallel()
	var inFlight, most atomic.Int64
	load := Generate(context.Background(), Plan{Events: 20, Rate: 1000, Concurrency: 1, Within: time.Minute},
		fakeSend(10*time.Millisecond, &inFlight, &most))
	if len(load.Calls) != 20 || most.Load() != 1 {
		t.Fatalf("%d calls, %d in flight at most; want 20 and 1", len(load.Calls), most.Load())
	}
	if load.Lag < 100*time.Millisecond {
		t.Errorf("lag %v, want the schedule to slip well past 100ms", load.Lag)
	}
}
