package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Plan bounds one run of the load generator, in count and in time.
type Plan struct {
	Events int // at most this many requests
	// Rate paces requests by a fixed schedule, request i at start + i/Rate whatever the
	// answers (open loop). 0 sends as fast as Concurrency requests in flight allow (closed
	// loop).
	Rate float64
	// Concurrency is the number of requests in flight: exactly that in a closed loop, an
	// upper bound in an open one (beyond it the schedule slips, and Lag shows by how much).
	Concurrency int
	// Within stops issuing new requests this long after the start.
	Within time.Duration
}

// Call is one request of the load: when it was sent and what came back.
type Call struct {
	Index      int
	Start, End time.Time
	Status     int // 0 when no answer came
	Err        error
	Deliveries []string
}

// Load is what a run of the generator did.
type Load struct {
	Calls []Call        // the requests issued, by index
	Lag   time.Duration // open loop: the largest delay of a send past its scheduled time
}

// Generate runs send for requests 0, 1, … as plan says and returns every call made. send
// must fill Start (just before the request goes out), End, Status, Err and Deliveries.
func Generate(ctx context.Context, plan Plan, send func(ctx context.Context, i int) Call) Load {
	if plan.Rate > 0 {
		return openLoop(ctx, plan, send)
	}
	return closedLoop(ctx, plan, send)
}

func closedLoop(ctx context.Context, plan Plan, send func(context.Context, int) Call) Load {
	calls := make([]Call, plan.Events)
	var next, issued atomic.Int64
	deadline := time.Now().Add(plan.Within)
	var wg sync.WaitGroup
	for range max(plan.Concurrency, 1) {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := int(next.Add(1) - 1)
				if i >= plan.Events {
					return
				}
				calls[i] = send(ctx, i)
				calls[i].Index = i
				issued.Add(1)
			}
		})
	}
	wg.Wait()
	// Workers take indexes in order and finish what they take, so 0..issued-1 are done.
	return Load{Calls: calls[:issued.Load()]}
}

func openLoop(ctx context.Context, plan Plan, send func(context.Context, int) Call) Load {
	calls := make([]Call, plan.Events)
	inFlight := make(chan struct{}, max(plan.Concurrency, 1))
	period := time.Duration(float64(time.Second) / plan.Rate)
	start := time.Now()
	var lag time.Duration
	var wg sync.WaitGroup
	n := 0
	for ; n < plan.Events; n++ {
		due := start.Add(time.Duration(n) * period)
		if due.Sub(start) >= plan.Within {
			break
		}
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case inFlight <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		lag = max(lag, time.Since(due))
		i := n
		wg.Go(func() {
			defer func() { <-inFlight }()
			calls[i] = send(ctx, i)
			calls[i].Index = i
		})
	}
	wg.Wait()
	return Load{Calls: calls[:n], Lag: lag}
}
