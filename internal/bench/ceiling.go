package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// emptyWorkflowName is the workflow the ceiling measures: one workflow task, no commands.
const emptyWorkflowName = "HookdBenchEmpty"

func emptyWorkflow(workflow.Context) error { return nil }

// CeilingPlan says how to measure the engine's ceiling.
type CeilingPlan struct {
	Addr, Namespace string
	Workflows       int
	Concurrency     int           // starts in flight
	Eager           bool          // request eager workflow start (the worker is in this process)
	Within          time.Duration // bound on the starts, and again on waiting for completion
	TaskQueue       string        // unique per run
}

// CeilingRun is what the ceiling measurement saw.
type CeilingRun struct {
	Load      Load            // the StartWorkflowExecution calls
	Completed int             // workflows closed as completed
	Latencies []time.Duration // start → close per workflow, by the server's clock
	LastClose time.Time
}

// RunCeiling starts plan.Workflows empty workflows on their own task queue against the
// Temporal server at plan.Addr, with a worker for them in this process, and waits until
// visibility shows them completed. Completion times come from visibility's close times,
// so how fast visibility catches up does not change the figure.
func RunCeiling(ctx context.Context, plan CeilingPlan, progress func(string, ...any)) (CeilingRun, error) {
	var run CeilingRun
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  plan.Addr,
		Namespace: plan.Namespace,
		Logger:    sdklog.NewStructuredLogger(log),
	})
	if err != nil {
		return run, fmt.Errorf("connect to temporal at %s: %w", plan.Addr, err)
	}
	defer c.Close()
	w := worker.New(c, plan.TaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(emptyWorkflow, workflow.RegisterOptions{Name: emptyWorkflowName})
	if err := w.Start(); err != nil {
		return run, fmt.Errorf("start ceiling worker: %w", err)
	}
	defer w.Stop()

	run.Load = Generate(ctx, Plan{Events: plan.Workflows, Concurrency: plan.Concurrency, Within: plan.Within},
		func(ctx context.Context, i int) Call {
			call := Call{Start: time.Now()}
			_, call.Err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID:               fmt.Sprintf("%s-%06d", plan.TaskQueue, i),
				TaskQueue:        plan.TaskQueue,
				EnableEagerStart: plan.Eager,
			}, emptyWorkflowName)
			call.End = time.Now()
			return call
		})
	started := 0
	for _, cl := range run.Load.Calls {
		if cl.Err == nil {
			started++
		}
	}
	progress("ceiling: %d workflows started, waiting for them to complete", started)

	query := fmt.Sprintf("TaskQueue = '%s' AND ExecutionStatus = 'Completed'", plan.TaskQueue)
	deadline := time.Now().Add(plan.Within)
	for {
		resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: plan.Namespace, Query: query})
		if err != nil {
			return run, fmt.Errorf("count completed workflows: %w", err)
		}
		if int(resp.GetCount()) >= started || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}

	var token []byte
	for range 1000 { // pages of up to 1000: bounded at a million workflows
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: plan.Namespace, PageSize: 1000, NextPageToken: token, Query: query,
		})
		if err != nil {
			return run, fmt.Errorf("list completed workflows: %w", err)
		}
		for _, ex := range resp.GetExecutions() {
			start, end := ex.GetStartTime().AsTime(), ex.GetCloseTime().AsTime()
			run.Completed++
			run.Latencies = append(run.Latencies, end.Sub(start))
			if end.After(run.LastClose) {
				run.LastClose = end
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	return run, nil
}

// ParseEager resolves the --ceiling-eager flag: "true" or "false", or "auto" to start the
// ceiling's workflows the way hookd starts its deliveries, which is eagerly unless
// HOOKD_EAGER_START in env (KEY=VALUE, the last one wins) says otherwise. As hookd reads
// it, an empty value means the default (eager); one that is not a boolean is an error, as
// hookd itself refuses to start with it.
func ParseEager(flagValue string, env []string) (bool, error) {
	if flagValue != "auto" {
		b, err := strconv.ParseBool(flagValue)
		if err != nil {
			return false, fmt.Errorf("%q: want true, false or auto", flagValue)
		}
		return b, nil
	}
	eager := true
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HOOKD_EAGER_START="); ok {
			if v == "" {
				eager = true
				continue
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				return false, fmt.Errorf("HOOKD_EAGER_START %q: want true or false", v)
			}
			eager = b
		}
	}
	return eager, nil
}
