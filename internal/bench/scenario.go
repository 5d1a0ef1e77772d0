package bench

import (
	"fmt"
	"net/http"
	"time"
)

// Scenario names, in the order a run goes through them.
const (
	ScenarioMax      = "max"
	ScenarioCeiling  = "ceiling"
	ScenarioRate50   = "rate50"
	ScenarioRate150  = "rate150"
	ScenarioRate200  = "rate200"
	ScenarioFanout10 = "fanout10"
	ScenarioRetry20  = "retry20"
	ScenarioBacklog  = "backlog"
	ScenarioBatch    = "batch"
)

// AllScenarios is every scenario, in run order; the backlog comes last because it leaves
// deliveries waiting for an hour.
var AllScenarios = []string{
	ScenarioMax, ScenarioCeiling, ScenarioRate50, ScenarioRate150, ScenarioRate200,
	ScenarioFanout10, ScenarioRetry20, ScenarioBatch, ScenarioBacklog,
}

// Scenario is one workload against hookd: its own event type, its own webhooks, its own
// receiver inbox.
type Scenario struct {
	Name        string
	Description string
	// IDPrefix starts the ids of the scenario's events; the runner makes it unique per
	// run, so a second run against the same hookd creates new events.
	IDPrefix    string
	Fanout      int     // webhooks subscribed to the scenario's event type
	Events      int     // events to post at most
	Rate        float64 // events/s on a fixed schedule; 0 = as fast as Concurrency allows
	Duration    time.Duration
	Concurrency int
	// Answer makes the receiver's behaviour (fresh for each run, it may keep state).
	Answer func() Answer
	// RetrySchedule and MaxRetries configure the scenario's webhooks.
	RetrySchedule []string
	MaxRetries    int
	// Throttle, when set, batches each webhook's notifications (the webhook setting, e.g.
	// "1s"): the receiver counts the events listed in each batch body, and a delivery is
	// matched to its receipt by its event (fan-out 1), as a batch's webhook-id is the
	// batch's.
	Throttle string
	// FirstAttempt counts a delivery as received at its first request whatever the
	// receiver answered (the backlog, whose receiver fails everything); otherwise only a
	// 2xx answer counts.
	FirstAttempt bool
	// Backlog marks a scenario that leaves its deliveries waiting in backoff: it pauses
	// for Settle after the last receipt so memory is read once they have gone to sleep,
	// reports hookd's RSS then and again after Hold more (the backlog's steady state, once
	// the burst that built it has been collected), and deletes its webhooks at the end so
	// the deliveries give up at their next attempt.
	Backlog bool
	Settle  time.Duration
	Hold    time.Duration
}

// batchEvents is the batch scenario's event count: four times the max-rate scenario's, so
// that at the rates batching reaches the posting lasts several windows.
func batchEvents(s Sizes) int { return 4 * s.Events }

// closedLoopLimit bounds the time a closed-loop scenario spends posting events.
const closedLoopLimit = 10 * time.Minute

// Sizes are the knobs that shrink or grow the scenarios.
type Sizes struct {
	Events      int           // max-rate events (fan-out 10 posts a tenth as many)
	Duration    time.Duration // fixed-rate scenarios
	Concurrency int           // requests in flight in closed-loop scenarios
	Backlog     int           // deliveries left waiting in backoff
	BacklogHold time.Duration // how long the backlog is held before its memory is read again
}

// Scenarios returns the hookd scenarios (all but the ceiling) sized by s, by name.
func Scenarios(s Sizes) map[string]Scenario {
	ok := func() Answer { return nil }
	fixed := func(name string, rate float64, desc string) Scenario {
		return Scenario{
			Name: name, Description: desc, Fanout: 1, Rate: rate, Duration: s.Duration,
			Events: int(rate*s.Duration.Seconds()) + 1, Concurrency: 1024, Answer: ok,
			RetrySchedule: []string{"1s"}, MaxRetries: 5,
		}
	}
	return map[string]Scenario{
		ScenarioMax: {
			Name: ScenarioMax, Fanout: 1, Events: s.Events, Concurrency: s.Concurrency, Duration: closedLoopLimit, Answer: ok,
			Description:   fmt.Sprintf("%d events as fast as %d concurrent POSTs allow, fan-out 1", s.Events, s.Concurrency),
			RetrySchedule: []string{"1s"}, MaxRetries: 5,
		},
		ScenarioRate50:  fixed(ScenarioRate50, 50, fmt.Sprintf("50 events/s for %s on a fixed schedule (open loop), fan-out 1", s.Duration)),
		ScenarioRate150: fixed(ScenarioRate150, 150, fmt.Sprintf("150 events/s for %s on a fixed schedule (open loop), fan-out 1", s.Duration)),
		ScenarioRate200: fixed(ScenarioRate200, 200, fmt.Sprintf("200 events/s for %s on a fixed schedule (open loop), fan-out 1", s.Duration)),
		ScenarioFanout10: {
			Name: ScenarioFanout10, Fanout: 10, Events: max(s.Events/10, 1), Concurrency: s.Concurrency, Duration: closedLoopLimit, Answer: ok,
			Description:   fmt.Sprintf("%d events at fan-out 10 as fast as %d concurrent POSTs allow", max(s.Events/10, 1), s.Concurrency),
			RetrySchedule: []string{"1s"}, MaxRetries: 5,
		},
		ScenarioRetry20: {
			Name: ScenarioRetry20, Fanout: 1, Rate: 50, Duration: s.Duration, Events: int(50*s.Duration.Seconds()) + 1, Concurrency: 1024,
			Answer:        func() Answer { return failFirstOfEvery(5) },
			Description:   fmt.Sprintf("50 events/s for %s; the receiver answers 503 to the first attempt of every 5th delivery (retrySchedule [\"1s\"])", s.Duration),
			RetrySchedule: []string{"1s"}, MaxRetries: 5,
		},
		ScenarioBatch: {
			Name: ScenarioBatch, Fanout: 1, Events: batchEvents(s), Concurrency: s.Concurrency, Duration: closedLoopLimit, Answer: ok,
			Description:   fmt.Sprintf("%d events as fast as %d concurrent POSTs allow to one webhook with throttle 1s (batched), fan-out 1; a hookd the benchmark starts has no per-key API rate limit (HOOKD_API_RATE_LIMIT=0), so that the figure is delivery throughput, not that limit", batchEvents(s), s.Concurrency),
			RetrySchedule: []string{"1s"}, MaxRetries: 5, Throttle: "1s",
		},
		ScenarioBacklog: {
			Name: ScenarioBacklog, Fanout: 10, Events: max(s.Backlog/10, 1), Concurrency: s.Concurrency, Duration: closedLoopLimit,
			Answer:        func() Answer { return always(http.StatusServiceUnavailable) },
			Description:   fmt.Sprintf("%d deliveries (%d events at fan-out 10) whose receiver answers 503, left waiting in backoff (retrySchedule [\"1h\"]); hookd's RSS read 3s after the last first attempt and again %s later", max(s.Backlog/10, 1)*10, max(s.Backlog/10, 1), s.BacklogHold),
			RetrySchedule: []string{"1h"}, MaxRetries: 5, FirstAttempt: true, Backlog: true, Settle: 3 * time.Second, Hold: s.BacklogHold,
		},
	}
}
