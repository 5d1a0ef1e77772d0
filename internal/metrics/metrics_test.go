package metrics

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hookd/hookd/activities"
)

var _ activities.Observer = (*Metrics)(nil)

func TestObserveAttempt(t *testing.T) {
	t.Parallel()
	m := New()
	for _, code := range []int{200, 204, 301, 400, 410, 429, 500, 503, 0, 0, 0, 101, 999} {
		m.ObserveAttempt(code, 20*time.Millisecond)
	}
	m.ObserveAttempt(200, 3*time.Second)
	want := `
# HELP hookd_attempts_total Delivery attempts sent, by the class of the receiver's HTTP status (none: no response).
# TYPE hookd_attempts_total counter
hookd_attempts_total{status_class="2xx"} 3
hookd_attempts_total{status_class="3xx"} 1
hookd_attempts_total{status_class="4xx"} 3
hookd_attempts_total{status_class="5xx"} 4
hookd_attempts_total{status_class="none"} 3
# HELP hookd_attempt_duration_seconds Time from sending an attempt's request to having read the response (or given up on one).
# TYPE hookd_attempt_duration_seconds histogram
hookd_attempt_duration_seconds_bucket{le="0.005"} 0
hookd_attempt_duration_seconds_bucket{le="0.01"} 0
hookd_attempt_duration_seconds_bucket{le="0.025"} 13
hookd_attempt_duration_seconds_bucket{le="0.05"} 13
hookd_attempt_duration_seconds_bucket{le="0.1"} 13
hookd_attempt_duration_seconds_bucket{le="0.25"} 13
hookd_attempt_duration_seconds_bucket{le="0.5"} 13
hookd_attempt_duration_seconds_bucket{le="1"} 13
hookd_attempt_duration_seconds_bucket{le="2.5"} 13
hookd_attempt_duration_seconds_bucket{le="5"} 14
hookd_attempt_duration_seconds_bucket{le="10"} 14
hookd_attempt_duration_seconds_bucket{le="15"} 14
hookd_attempt_duration_seconds_bucket{le="30"} 14
hookd_attempt_duration_seconds_bucket{le="+Inf"} 14
hookd_attempt_duration_seconds_sum 3.26
hookd_attempt_duration_seconds_count 14
`
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "hookd_attempts_total", "hookd_attempt_duration_seconds"); err != nil {
		t.Fatal(err)
	}
}

func TestObserveDelivery(t *testing.T) {
	t.Parallel()
	m := New()
	// Every final status is there at zero before the first delivery ends.
	if got := testutil.CollectAndCount(m.deliveries); got != 3 {
		t.Fatalf("hookd_deliveries_total has %d series, want 3", got)
	}
	for _, s := range []string{"succeeded", "succeeded", "failed", "canceled", "succeeded"} {
		m.ObserveDelivery(s)
	}
	for status, want := range map[string]float64{"succeeded": 3, "failed": 1, "canceled": 1} {
		if got := testutil.ToFloat64(m.deliveries.WithLabelValues(status)); got != want {
			t.Errorf(`hookd_deliveries_total{status=%q} = %v, want %v`, status, got, want)
		}
	}
}

// The Temporal SDK's series land in the same registry, named as Prometheus expects.
func TestTemporalHandler(t *testing.T) {
	t.Parallel()
	m := New()
	h, closer := m.TemporalHandler(slog.New(slog.NewTextHandler(io.Discard, nil)))
	tagged := h.WithTags(map[string]string{"namespace": "default", "task_queue": "hookd"})
	tagged.Counter("temporal_workflow_completed").Inc(2)
	tagged.Timer("temporal_activity_execution_latency").Record(40 * time.Millisecond)
	if err := closer.Close(); err != nil { // reports what the scope holds
		t.Fatal(err)
	}
	want := `
# HELP temporal_workflow_completed_total temporal_workflow_completed_total counter
# TYPE temporal_workflow_completed_total counter
temporal_workflow_completed_total{namespace="default",task_queue="hookd"} 2
`
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "temporal_workflow_completed_total"); err != nil {
		t.Error(err)
	}
	n, err := testutil.GatherAndCount(m.Registry, "temporal_activity_execution_latency_seconds")
	if err != nil || n != 1 {
		t.Errorf("temporal_activity_execution_latency_seconds: %d series, err %v; want one histogram", n, err)
	}
	if n, _ := testutil.GatherAndCount(m.Registry, "tally_internal_num_active_scopes"); n != 0 {
		t.Error("tally's internal gauges are exported")
	}
}

func TestObserveIngest(t *testing.T) {
	t.Parallel()
	m := New()
	m.ObserveIngest(true, 3)
	m.ObserveIngest(true, 0)
	m.ObserveIngest(false, 3) // a repeat's deliveries were counted the first time
	want := `
# HELP hookd_deliveries_created_total Deliveries created by the fan-out of new events accepted by POST /v1/events.
# TYPE hookd_deliveries_created_total counter
hookd_deliveries_created_total 3
# HELP hookd_events_ingested_total Events accepted by POST /v1/events, by result: new (stored, 202) or repeat (an id already stored, answered 200 with the original).
# TYPE hookd_events_ingested_total counter
hookd_events_ingested_total{result="new"} 2
hookd_events_ingested_total{result="repeat"} 1
`
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "hookd_events_ingested_total", "hookd_deliveries_created_total"); err != nil {
		t.Fatal(err)
	}
}
