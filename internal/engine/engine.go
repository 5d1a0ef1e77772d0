// Package engine is hookd's adapter to Temporal for the service (internal/dispatch): it
// starts a Delivery workflow per delivery (a Batch workflow per batch of a throttled
// webhook) under its deterministic workflow ID, signals retries (signal-with-start for a
// finished delivery) and cancels, and checks that the frontend answers. It decides
// nothing; the service says what to do.
package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/sync/errgroup"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/workflows"
)

// Temporal starts and signals Delivery workflows. It is the service's engine
// (internal/dispatch), the one piece of hookd outside the worker that talks to Temporal.
type Temporal struct {
	Client    client.Client
	TaskQueue string // workflows.TaskQueue when empty
	// Parallel bounds how many workflow starts one Schedule call has in flight.
	Parallel int
	// EagerStart asks the server to hand each new workflow's first task straight back to
	// a worker in this process (one that shares Client), saving a matching round trip.
	// It is only a request: without such a worker the start is an ordinary one.
	EagerStart bool
}

func (d *Temporal) taskQueue() string {
	if d.TaskQueue == "" {
		return workflows.TaskQueue
	}
	return d.TaskQueue
}

// startOptions are the start options of delivery del's Delivery workflow: its ID, its
// search attributes, and the summary and details the Web UI shows (see summary). The
// search attributes are what is known for good at start: the webhook, the event type and
// the organization. The run records HookdDeliveryStatus and HookdAttempts itself, from
// its first attempt that does not succeed (workflows.DeliveryVersion), so that a delivery
// that succeeds at once costs no visibility write besides its start and close.
func (d *Temporal) startOptions(del store.Delivery, reuse enumspb.WorkflowIdReusePolicy) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                                       delivery.WorkflowID(del.ID),
		TaskQueue:                                d.taskQueue(),
		WorkflowIDReusePolicy:                    reuse,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            summary(del),
		StaticDetails:                            details(del),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.AttrWebhookID.ValueSet(del.WebhookID),
			workflows.AttrEventType.ValueSet(del.EventType),
			workflows.AttrOrgID.ValueSet(del.OrgID),
		),
	}
}

// batchStartOptions are the start options of the Batch workflow of batched delivery del.
// Its event type is left out: a batch mixes types.
func (d *Temporal) batchStartOptions(del store.Delivery, reuse enumspb.WorkflowIdReusePolicy) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                                       dispatch.BatchWorkflowID(del.BatchID),
		TaskQueue:                                d.taskQueue(),
		WorkflowIDReusePolicy:                    reuse,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            summary(del),
		StaticDetails:                            details(del),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.AttrWebhookID.ValueSet(del.WebhookID),
			workflows.AttrOrgID.ValueSet(del.OrgID),
			workflows.AttrStatus.ValueSet(delivery.StatusPending),
			workflows.AttrAttempts.ValueSet(0),
		),
	}
}

// summary is the one line the Web UI shows for the workflow of delivery del (or of its
// batch): what it notifies, to which webhook and, when the ingest that made del knew it,
// at which host, "order.created to wh_… at api.example.com" or "batch of wh_…". It holds
// only ids, names and a host hookd validated, never a path, a query or a credential.
func summary(del store.Delivery) string {
	s := "batch of " + del.WebhookID
	if del.BatchID == "" {
		s = del.EventType + " to " + del.WebhookID
	}
	if del.TargetHost != "" {
		s += " at " + del.TargetHost
	}
	return s
}

// details are the Web UI's details of the workflow of delivery del (or of its batch), in
// Temporal's markdown: the ids an operator looks for, and where hookd's API shows the
// rest (the attempts, the receiver's answers) and takes a retry or a cancel. The event
// id, chosen by the producer, is shown in a code span, cut to 100 characters.
func details(del store.Delivery) string {
	if del.BatchID != "" {
		return fmt.Sprintf("Batch **%s** of webhook **%s** (organization %s).\n\n"+
			"Its deliveries, attempts and answers: hookd API `GET /v1/deliveries?webhookId=%s`; "+
			"retry or cancel a delivery there, not here.", del.BatchID, del.WebhookID, del.OrgID, del.WebhookID)
	}
	return fmt.Sprintf("Delivery **%s** of event %s (%s) to webhook **%s** (organization %s).\n\n"+
		"Its attempts and answers: hookd API `GET /v1/deliveries/%s`; retry or cancel it there, not here.",
		del.ID, codeSpan(del.EventID, 100), del.EventType, del.WebhookID, del.OrgID, del.ID)
}

// codeSpan quotes s as a markdown code span of at most limit runes, with no backtick or
// control character left to break out of it.
func codeSpan(s string, limit int) string {
	s = strings.Map(func(r rune) rune {
		if r == '`' || unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return "`" + s + "`"
}

// Schedule starts a Delivery workflow for each delivery, and a Batch workflow for each
// batch of the batched ones (BatchID set), once per batch. A workflow that already exists
// (a repeat, or a reconciler that got there first) counts as started.
func (d *Temporal) Schedule(ctx context.Context, ds []store.Delivery) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(d.Parallel, 1))
	batches := make(map[string]bool)
	for _, del := range ds {
		if del.BatchID != "" {
			if batches[del.BatchID] {
				continue
			}
			batches[del.BatchID] = true
		}
		g.Go(func() error {
			var (
				opts client.StartWorkflowOptions
				wf   any
				in   any
			)
			if del.BatchID != "" {
				opts = d.batchStartOptions(del, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
				wf, in = workflows.Batch, workflows.BatchInput{BatchID: del.BatchID}
			} else {
				opts = d.startOptions(del, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
				wf, in = workflows.Delivery, workflows.DeliveryInput{DeliveryID: del.ID, Version: workflows.DeliveryVersion}
			}
			opts.EnableEagerStart = d.EagerStart
			_, err := d.Client.ExecuteWorkflow(ctx, opts, wf, in)
			var already *serviceerror.WorkflowExecutionAlreadyStarted
			if err != nil && !errors.As(err, &already) {
				return fmt.Errorf("start workflow for %s: %w", del.ID, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// Retry asks a delivery to attempt now, in manual mode. A delivery whose workflow has
// finished gets a new run under the same workflow ID (signal-with-start).
//
// A batched delivery asks its batch instead: the batch attempts now, in manual mode, for
// its members still to be sent (pending or retrying), which the retry made this one.
func (d *Temporal) Retry(ctx context.Context, del store.Delivery) error {
	return d.signalRetry(ctx, del, nil)
}

// signalRetry is Retry with sig the retry signal's value (nil: an admin's retry).
func (d *Temporal) signalRetry(ctx context.Context, del store.Delivery, sig any) error {
	if del.BatchID != "" {
		opts := d.batchStartOptions(del, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
		opts.WorkflowExecutionErrorWhenAlreadyStarted = false
		_, err := d.Client.SignalWithStartWorkflow(ctx, opts.ID, workflows.SignalRetry, sig, opts,
			workflows.Batch, workflows.BatchInput{BatchID: del.BatchID, Manual: true})
		if err != nil {
			return fmt.Errorf("signal-with-start retry for batch %s of %s: %w", del.BatchID, del.ID, err)
		}
		return nil
	}
	opts := d.startOptions(del, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
	opts.WorkflowExecutionErrorWhenAlreadyStarted = false
	_, err := d.Client.SignalWithStartWorkflow(ctx, opts.ID, workflows.SignalRetry, sig, opts,
		workflows.Delivery, workflows.DeliveryInput{DeliveryID: del.ID, Manual: true, Version: workflows.DeliveryVersion})
	if err != nil {
		return fmt.Errorf("signal-with-start retry for %s: %w", del.ID, err)
	}
	return nil
}

// Cancel tells a running delivery to stop; a workflow that has already finished is fine.
// A batched delivery sends no signal: its batch goes on for its other members and leaves
// out the canceled one, which the service has already recorded canceled.
func (d *Temporal) Cancel(ctx context.Context, del store.Delivery) error {
	if del.BatchID != "" {
		return nil
	}
	err := d.Client.SignalWorkflow(ctx, delivery.WorkflowID(del.ID), "", workflows.SignalCancel, nil)
	var notFound *serviceerror.NotFound
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("signal cancel for %s: %w", del.ID, err)
	}
	return nil
}

// Ready reports whether the Temporal frontend answers.
func (d *Temporal) Ready(ctx context.Context) error {
	if _, err := d.Client.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("temporal health: %w", err)
	}
	return nil
}
