package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/workflows"
)

// uiSecret is a credential in a webhook's URL that the Web UI must never show.
const uiSecret = "ui-query-secret"

// closedAs waits until the latest run of delivery id's workflow has closed with status
// want and returns how Temporal describes it.
func (in *instance) closedAs(id string, want enumspb.WorkflowExecutionStatus) *workflowservice.DescribeWorkflowExecutionResponse {
	in.t.Helper()
	var desc *workflowservice.DescribeWorkflowExecutionResponse
	eventually(in.t, 20*time.Second, func() string {
		var err error
		desc, err = in.temporalClient().DescribeWorkflowExecution(context.Background(), delivery.WorkflowID(id), "")
		if err != nil {
			return err.Error()
		}
		if got := desc.GetWorkflowExecutionInfo().GetStatus(); got != want {
			return "workflow of " + id + " is " + got.String() + ", want " + want.String()
		}
		return ""
	})
	return desc
}

// userMetadata decodes the workflow's static summary and details, as the Web UI shows them.
func userMetadata(t *testing.T, desc *workflowservice.DescribeWorkflowExecutionResponse) (summary, details string) {
	t.Helper()
	md := desc.GetExecutionConfig().GetUserMetadata()
	return decodeString(t, md.GetSummary()), decodeString(t, md.GetDetails())
}

func decodeString(t *testing.T, p *commonpb.Payload) string {
	t.Helper()
	if p == nil {
		return ""
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
		t.Fatalf("decode %v: %v", p, err)
	}
	return s
}

// wantMetadata checks the summary and details of delivery id's workflow: they name the
// event type, webhook and target host (and the details the delivery and event), never
// the URL's scheme, path or query.
func wantMetadata(t *testing.T, desc *workflowservice.DescribeWorkflowExecutionResponse, id, eventID, webhookID string) {
	t.Helper()
	summary, details := userMetadata(t, desc)
	if want := "order.created to " + webhookID + " at 127.0.0.1:"; !strings.HasPrefix(summary, want) {
		t.Errorf("summary %q, want it to start %q", summary, want)
	}
	for _, want := range []string{id, "`" + eventID + "`", "order.created", webhookID, "/v1/deliveries/" + id} {
		if !strings.Contains(details, want) {
			t.Errorf("details %q do not name %q", details, want)
		}
	}
	for _, secret := range []string{uiSecret, "token", "/hook", "http"} {
		if strings.Contains(summary+details, secret) {
			t.Errorf("summary %q or details %q show %q", summary, details, secret)
		}
	}
}

// TestTemporalUIShowsHowADeliveryEnded: in Temporal, as the Web UI reads it, a delivery
// whose retries ran out closes Failed (DeliveryFailed, naming the last error) after a
// timer that says why it waited, and a retry of it through hookd's API starts a new run
// that completes; a 410 fails it too; a succeeded one is Completed; a canceled one
// Canceled. Every one carries a summary and details that name it and show no credential.
func TestTemporalUIShowsHowADeliveryEnded(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	tc := in.temporalClient()
	ctx := context.Background()

	// Retries run out: one retry after Retry-After: 1, then failed.
	failing := newReceiver(t, always(http.StatusServiceUnavailable, map[string]string{"Retry-After": "1"}))
	failingID, _ := in.webhook(failing.URL+"/hook?token="+uiSecret, map[string]any{
		"name": "ui-failing", "retrySchedule": []string{"1s"}, "maxRetries": 1, "failureLimit": 0,
	})
	failed := deliveryTo(t, in.postEvent("ui-failed", map[string]any{}), failingID)
	in.deliveryStatus(failed, delivery.StatusFailed, 30*time.Second)
	desc := in.closedAs(failed, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED)
	wantMetadata(t, desc, failed, "ui-failed", failingID)
	firstRun := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()

	var timers []string
	var failure string
	for _, ev := range in.workflowHistory(delivery.WorkflowID(failed), firstRun).GetEvents() {
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			timers = append(timers, decodeString(t, ev.GetUserMetadata().GetSummary()))
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
			f := ev.GetWorkflowExecutionFailedEventAttributes().GetFailure()
			if info := f.GetApplicationFailureInfo(); info.GetType() != workflows.ErrTypeDeliveryFailed || !info.GetNonRetryable() {
				t.Errorf("failure %v, want a non-retryable %s", f, workflows.ErrTypeDeliveryFailed)
			}
			failure = f.GetMessage()
		}
	}
	if len(timers) != 1 || timers[0] != "retry 1 in 1s (Retry-After 1s)" {
		t.Errorf("timer summaries %q, want one \"retry 1 in 1s (Retry-After 1s)\"", timers)
	}
	if want := "delivery " + failed + " failed after 2 attempts: receiver answered 503"; failure != want {
		t.Errorf("failure message %q, want %q", failure, want)
	}

	// A retry through hookd's API starts a new run of the failed workflow, which completes.
	failing.setAnswer(always(http.StatusOK, nil))
	in.must(http.StatusAccepted, http.MethodPost, "/v1/deliveries/"+failed+"/retry", nil)
	in.deliveryStatus(failed, delivery.StatusSucceeded, 20*time.Second)
	desc = in.closedAs(failed, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)
	if desc.GetWorkflowExecutionInfo().GetExecution().GetRunId() == firstRun {
		t.Fatal("the retry completed the failed run instead of a new one")
	}
	wantMetadata(t, desc, failed, "ui-failed", failingID)
	if first, err := tc.DescribeWorkflowExecution(ctx, delivery.WorkflowID(failed), firstRun); err != nil ||
		first.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_FAILED {
		t.Fatalf("the first run after the retry: %v, %v; want it still failed", first.GetWorkflowExecutionInfo().GetStatus(), err)
	}
	saveHistory(t, in, delivery.WorkflowID(failed), "failed_then_retried")

	// A 410 fails the delivery at once (and disables its webhook).
	gone := newReceiver(t, always(http.StatusGone, nil))
	goneID, _ := in.webhook(gone.URL, map[string]any{"name": "ui-gone"})
	goneDlv := deliveryTo(t, in.postEvent("ui-gone", map[string]any{}), goneID)
	in.deliveryStatus(goneDlv, delivery.StatusFailed, 20*time.Second)
	wantMetadata(t, in.closedAs(goneDlv, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED), goneDlv, "ui-gone", goneID)

	// A delivery that succeeds at once completes.
	healthy := newReceiver(t, nil)
	healthyID, _ := in.webhook(healthy.URL, map[string]any{"name": "ui-healthy"})
	succeeded := deliveryTo(t, in.postEvent("ui-succeeded", map[string]any{}), healthyID)
	in.deliveryStatus(succeeded, delivery.StatusSucceeded, 20*time.Second)
	wantMetadata(t, in.closedAs(succeeded, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED), succeeded, "ui-succeeded", healthyID)

	// A delivery canceled during its backoff closes Canceled; while it waited, the status
	// query answered when it would try again.
	slow := newReceiver(t, always(http.StatusInternalServerError, nil))
	slowID, _ := in.webhook(slow.URL, map[string]any{"name": "ui-retrying", "retrySchedule": []string{"1h"}, "maxRetries": 5})
	canceled := deliveryTo(t, in.postEvent("ui-canceled", map[string]any{}), slowID)
	in.deliveryStatus(canceled, delivery.StatusRetrying, 20*time.Second)
	v, err := tc.QueryWorkflow(ctx, delivery.WorkflowID(canceled), "", workflows.QueryStatus)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	if st["Status"] != delivery.StatusRetrying || st["NextAttemptAt"] == nil || st["LastError"] != "receiver answered 500" {
		t.Fatalf("status query during the backoff: %v", st)
	}
	in.must(http.StatusAccepted, http.MethodPost, "/v1/deliveries/"+canceled+"/cancel", nil)
	in.deliveryStatus(canceled, delivery.StatusCanceled, 5*time.Second)
	wantMetadata(t, in.closedAs(canceled, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED), canceled, "ui-canceled", slowID)
	saveHistory(t, in, delivery.WorkflowID(canceled), "canceled")

	// A batch that fails closes Failed too, after a timer that names its window's end.
	throttled := newReceiver(t, always(http.StatusInternalServerError, nil))
	throttledID, _ := in.webhook(throttled.URL, map[string]any{"name": "ui-batch", "throttle": "3s", "maxRetries": 0, "failureLimit": 0})
	member := deliveryTo(t, in.postEvent("ui-batched", map[string]any{}), throttledID)
	batchID := in.deliveryStatus(member, delivery.StatusFailed, 30*time.Second).str("batchId")
	eventually(t, 20*time.Second, func() string {
		desc, err = tc.DescribeWorkflowExecution(ctx, dispatch.BatchWorkflowID(batchID), "")
		if err != nil {
			return err.Error()
		}
		if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_FAILED {
			return "batch workflow is " + st.String()
		}
		return ""
	})
	if summary, details := userMetadata(t, desc); !strings.HasPrefix(summary, "batch of "+throttledID+" at 127.0.0.1:") || !strings.Contains(details, batchID) {
		t.Errorf("batch summary %q, details %q", summary, details)
	}
	timers = nil
	for _, ev := range in.workflowHistory(dispatch.BatchWorkflowID(batchID), "").GetEvents() {
		if ev.GetEventType() == enumspb.EVENT_TYPE_TIMER_STARTED {
			timers = append(timers, decodeString(t, ev.GetUserMetadata().GetSummary()))
		}
	}
	if len(timers) != 1 || !strings.HasPrefix(timers[0], "batch window until ") {
		t.Errorf("batch timer summaries %q, want one \"batch window until …\"", timers)
	}
	saveHistory(t, in, dispatch.BatchWorkflowID(batchID), "batch_failed")
}

// TestTemporalUIReplayedDeliveryRunsAgain: a replay of a failed delivery (its workflow
// closed Failed) starts a new run of it whose attempt has trigger replay, which completes.
func TestTemporalUIReplayedDeliveryRunsAgain(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	rc := newReceiver(t, always(http.StatusInternalServerError, nil))
	whID, _ := in.webhook(rc.URL, map[string]any{"name": "ui-replayed", "maxRetries": 0, "failureLimit": 0})
	id := deliveryTo(t, in.postEvent("ui-replayed", map[string]any{}), whID)
	in.deliveryStatus(id, delivery.StatusFailed, 20*time.Second)
	in.closedAs(id, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED)

	rc.setAnswer(always(http.StatusOK, nil))
	in.must(http.StatusAccepted, http.MethodPost, "/v1/replays", map[string]any{"deliveryIds": []string{id}})
	d := in.deliveryStatus(id, delivery.StatusSucceeded, 30*time.Second)
	attempts := d.list("attempts")
	if len(attempts) != 2 || attempts[1]["trigger"] != "replay" {
		t.Fatalf("attempts %s, want auto then replay", d.raw)
	}
	wantMetadata(t, in.closedAs(id, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED), id, "ui-replayed", whID)
	saveHistory(t, in, delivery.WorkflowID(id), "replayed")
}
