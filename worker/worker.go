// Package worker builds the Temporal worker that runs hookd's workflows and activities.
package worker

import (
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/workflows"
)

// New returns a worker on taskQueue with every hookd workflow and the given activities
// registered. Start it with Start or Run.
//
// opts.WorkerStopTimeout is how long Stop lets the attempts in flight finish — local
// first attempts and their workflow tasks included — before it cancels them: hookd sets
// it from HOOKD_WORKER_STOP_TIMEOUT (65 s: the longest webhook timeout and the attempt's
// recording). Stop the worker before closing what its activities use (the store).
func New(c client.Client, taskQueue string, acts *activities.Activities, opts worker.Options) worker.Worker {
	w := worker.New(c, taskQueue, opts)
	Register(w, acts)
	return w
}

// Register registers hookd's workflows and activities on any registry (a worker, or a
// replayer in tests).
func Register(r worker.Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.Delivery, workflow.RegisterOptions{Name: workflows.DeliveryWorkflow})
	r.RegisterWorkflowWithOptions(workflows.Batch, workflow.RegisterOptions{Name: workflows.BatchWorkflow})
	r.RegisterWorkflowWithOptions(workflows.Replay, workflow.RegisterOptions{Name: workflows.ReplayWorkflow})
	r.RegisterWorkflowWithOptions(workflows.Retention, workflow.RegisterOptions{Name: workflows.RetentionWorkflow})
	if acts != nil {
		r.RegisterActivity(acts)
	}
}
