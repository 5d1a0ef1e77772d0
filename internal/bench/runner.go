package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// runner runs scenarios against one hookd, receiver and sampler.
type runner struct {
	cfg      Config
	hookd    *Hookd
	rc       *Receiver
	sampler  *Sampler
	runID    string
	progress func(string, ...any)
}

// waitLimit bounds a scenario's wait for its deliveries, however steadily they arrive.
const waitLimit = 15 * time.Minute

// scenario sets up sc's event type and webhooks, runs its load, waits for its
// deliveries and measures it.
func (r *runner) scenario(ctx context.Context, sc Scenario) Result {
	sc.IDPrefix = sc.Name + "-" + r.runID
	eventType := "bench." + sc.Name + ".r" + r.runID
	api := r.hookd.API
	fail := func(err error) Result {
		return Result{Scenario: sc.Name, Description: sc.Description, Skipped: err.Error()}
	}
	urlPrefix := r.rc.Open(sc.Name, sc.Answer())
	if err := api.CreateEventType(ctx, eventType, "hookd bench scenario "+sc.Name); err != nil {
		return fail(fmt.Errorf("create event type: %w", err))
	}
	var hooks []string
	for i := range sc.Fanout {
		id, err := api.CreateWebhook(ctx, WebhookSpec{
			Name:          fmt.Sprintf("bench %s %d", sc.Name, i),
			URL:           urlPrefix + "/" + strconv.Itoa(i),
			Events:        []string{eventType},
			RetrySchedule: sc.RetrySchedule,
			MaxRetries:    sc.MaxRetries,
			Timeout:       10,
			Throttle:      sc.Throttle,
		})
		if err != nil {
			return fail(fmt.Errorf("create webhook: %w", err))
		}
		hooks = append(hooks, id)
	}
	if sc.Backlog {
		defer func() {
			for _, id := range hooks {
				_ = api.DeleteWebhook(context.WithoutCancel(ctx), id)
			}
		}()
	}

	r.progress("%s: %s", sc.Name, sc.Description)
	win := r.sampler.Begin()
	load := Generate(ctx, Plan{Events: sc.Events, Rate: sc.Rate, Concurrency: sc.Concurrency, Within: sc.Duration},
		func(ctx context.Context, i int) Call {
			c := Call{Start: time.Now()}
			c.Status, c.Deliveries, c.Err = api.PostEvent(ctx, eventID(sc.IDPrefix, i), eventType, map[string]any{"seq": i, "scenario": sc.Name})
			c.End = time.Now()
			return c
		})
	r.progress("%s: %d events posted in %s, waiting for deliveries", sc.Name, len(load.Calls), time.Since(win.begin.At).Round(time.Millisecond))
	for _, c := range load.Calls {
		if c.Err != nil {
			r.progress("%s: first POST without a 2xx answer: %v", sc.Name, c.Err)
			break
		}
	}
	receipts := r.waitForDeliveries(ctx, sc, load)
	if sc.Backlog {
		select {
		case <-ctx.Done():
		case <-time.After(sc.Settle):
		}
	}
	res := Evaluate(sc, load, receipts, sc.FirstAttempt)
	res.addUsage(win.End())
	if sc.Backlog {
		r.progress("%s: holding the backlog for %s before reading memory again", sc.Name, sc.Hold)
		select {
		case <-ctx.Done():
		case <-time.After(sc.Hold):
		}
		held := r.sampler.Sample().Usage[0]
		res.Notes = append(res.Notes, fmt.Sprintf("hookd RSS with %d deliveries waiting in backoff: %s MiB 3 s after the last first attempt, %s MiB %s later (peak %s MiB)",
			res.Delivered, mib(res.Usage[0].FinalMem, res.Usage[0].OK), mib(held.Mem, held.OK), sc.Hold,
			mib(res.Usage[0].PeakMem, res.Usage[0].OK)))
	}
	return res
}

// waitForDeliveries polls the receiver until every delivery the API announced has been
// received as the scenario counts it, or none has come for cfg.Wait, or waitLimit passed.
func (r *runner) waitForDeliveries(ctx context.Context, sc Scenario, load Load) []Receipt {
	want := map[string]bool{}
	for _, c := range load.Calls {
		for _, id := range sc.expectedKeys(c) {
			want[id] = true
		}
	}
	got := map[string]bool{}
	seen := 0
	lastProgress, limit := time.Now(), time.Now().Add(waitLimit)
	for {
		fresh := r.rc.ReceiptsSince(sc.Name, seen)
		for _, rc := range fresh {
			counts := rc.Attempt == 1
			if !sc.FirstAttempt {
				counts = rc.Status/100 == 2
			}
			if key := sc.receiptKey(rc); counts && want[key] && !got[key] {
				got[key] = true
				lastProgress = time.Now()
			}
		}
		seen += len(fresh)
		now := time.Now()
		switch {
		case len(got) == len(want):
			return r.rc.Receipts(sc.Name)
		case ctx.Err() != nil, now.Sub(lastProgress) > r.cfg.Wait, now.After(limit), r.hookd.Exited():
			r.progress("%s: gave up waiting with %d of %d deliveries received", sc.Name, len(got), len(want))
			return r.rc.Receipts(sc.Name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ceiling measures the engine's ceiling with empty workflows.
func (r *runner) ceiling(ctx context.Context) Result {
	desc := fmt.Sprintf("%d empty workflows on their own task queue, %d concurrent starts, worker in the bench process",
		r.cfg.CeilingWorkflows, r.cfg.Concurrency)
	if r.cfg.CeilingEager {
		desc += ", eager start"
	}
	res := Result{Scenario: ScenarioCeiling, Description: desc}
	if r.hookd.TemporalAddr == "" {
		res.Skipped = "no Temporal address (give --temporal with --url)"
		return res
	}
	r.progress("%s: %s", ScenarioCeiling, desc)
	win := r.sampler.Begin()
	run, err := RunCeiling(ctx, CeilingPlan{
		Addr: r.hookd.TemporalAddr, Namespace: r.cfg.Namespace, Workflows: r.cfg.CeilingWorkflows,
		Concurrency: r.cfg.Concurrency, Eager: r.cfg.CeilingEager, Within: closedLoopLimit,
		TaskQueue: "hookd-bench-ceiling-" + r.runID,
	}, r.progress)
	usage := win.End()
	if err != nil {
		res.Skipped = err.Error()
		return res
	}
	var first, lastStarted time.Time
	var startLatencies []time.Duration
	for _, c := range run.Load.Calls {
		if first.IsZero() || c.Start.Before(first) {
			first = c.Start
		}
		if c.Err != nil {
			res.APIErrors++
			continue
		}
		res.Events++
		startLatencies = append(startLatencies, c.End.Sub(c.Start))
		if c.End.After(lastStarted) {
			lastStarted = c.End
		}
	}
	res.Expected, res.Delivered = res.Events, run.Completed
	res.Lost = max(res.Expected-res.Delivered, 0)
	res.Accepted = Rate(res.Events, first, lastStarted)
	res.Throughput = Rate(run.Completed, first, run.LastClose)
	res.Latency = Summarize(run.Latencies)
	res.APILatency = Summarize(startLatencies)
	res.addUsage(usage)
	return res
}
