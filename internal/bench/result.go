package bench

import (
	"fmt"
	"time"
)

// Result is one row of the report.
type Result struct {
	Scenario    string
	Description string
	Skipped     string // why the scenario did not run, if it did not

	Events     int // accepted by the API (ceiling: workflows started)
	Expected   int // deliveries the API said it made for them (ceiling: workflows started)
	Delivered  int // of those, received (ceiling: completed)
	Accepted   float64
	Throughput float64 // delivered per second, from the first POST to the last first receipt
	Latency    Summary // event → first successful receipt
	APILatency Summary

	Usage          []TargetStats
	CPUPerDelivery time.Duration // all targets' CPU over the window ÷ Delivered

	Lost       int // expected deliveries never received
	Duplicated int // deliveries received successfully more than once
	APIErrors  int // POSTs without a 2xx answer
	Unexpected int // deliveries received that no accepted event accounts for
	Mismatched int // receipts whose body named another event than the API said
	Lag        time.Duration
	Notes      []string
}

// Evaluate turns a scenario's calls and receipts into its figures (all but Usage).
// firstAttempt counts any first request as the receipt; otherwise only 2xx answers count.
func Evaluate(sc Scenario, load Load, receipts []Receipt, firstAttempt bool) Result {
	r := Result{Scenario: sc.Name, Description: sc.Description, Lag: load.Lag}
	var first, lastAnswer time.Time
	var apiLatencies []time.Duration
	type origin struct {
		start   time.Time
		eventID string
	}
	expected := map[string]origin{}
	for _, c := range load.Calls {
		if first.IsZero() || c.Start.Before(first) {
			first = c.Start
		}
		if c.Err != nil || c.Status/100 != 2 {
			r.APIErrors++
			continue
		}
		r.Events++
		apiLatencies = append(apiLatencies, c.End.Sub(c.Start))
		if c.End.After(lastAnswer) {
			lastAnswer = c.End
		}
		for _, id := range sc.expectedKeys(c) {
			expected[id] = origin{start: c.Start, eventID: eventID(sc.IDPrefix, c.Index)}
		}
	}
	r.Expected = len(expected)
	r.Accepted = Rate(r.Events, first, lastAnswer)
	r.APILatency = Summarize(apiLatencies)

	counted := map[string]int{} // receipts that count, per delivery id
	var latencies []time.Duration
	var lastReceipt time.Time
	for _, rc := range receipts {
		if firstAttempt && rc.Attempt != 1 || !firstAttempt && rc.Status/100 != 2 {
			continue
		}
		key := sc.receiptKey(rc)
		counted[key]++
		if counted[key] > 1 {
			continue
		}
		o, ok := expected[key]
		if !ok {
			r.Unexpected++
			continue
		}
		if rc.EventID != o.eventID {
			r.Mismatched++
		}
		r.Delivered++
		latencies = append(latencies, rc.At.Sub(o.start))
		if rc.At.After(lastReceipt) {
			lastReceipt = rc.At
		}
	}
	for _, n := range counted {
		if n > 1 {
			r.Duplicated++
		}
	}
	r.Lost = r.Expected - r.Delivered
	r.Throughput = Rate(r.Delivered, first, lastReceipt)
	r.Latency = Summarize(latencies)
	return r
}

// addUsage records the window's resource figures and the CPU per delivery.
func (r *Result) addUsage(usage []TargetStats) {
	r.Usage = usage
	var cpu time.Duration
	for _, u := range usage {
		cpu += u.CPU
	}
	if r.Delivered > 0 {
		r.CPUPerDelivery = cpu / time.Duration(r.Delivered)
	}
}

// expectedKeys are the keys of the receipts call c should bring: its deliveries' ids, or
// for a batched scenario (fan-out 1) its event's id, which is what a batch lists.
func (sc Scenario) expectedKeys(c Call) []string {
	if sc.Throttle != "" && len(c.Deliveries) > 0 {
		return []string{eventID(sc.IDPrefix, c.Index)}
	}
	return c.Deliveries
}

// receiptKey is the key of receipt rc among expectedKeys.
func (sc Scenario) receiptKey(rc Receipt) string {
	if sc.Throttle != "" {
		return rc.EventID
	}
	return rc.DeliveryID
}

// eventID is the id the benchmark gives event i of a run of a scenario.
func eventID(prefix string, i int) string {
	return fmt.Sprintf("%s-%06d", prefix, i)
}
