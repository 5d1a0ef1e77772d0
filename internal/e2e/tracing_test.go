package e2e

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OTLP/HTTP trace endpoint (POST /v1/traces, protobuf) that keeps
// every span it is sent.
type otlpReceiver struct {
	*httptest.Server
	mu    sync.Mutex
	spans []*tracepb.Span
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	o := &otlpReceiver{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &req)
		}
		if r.URL.Path != "/v1/traces" || err != nil {
			t.Errorf("OTLP receiver: %s %s: %v", r.Method, r.URL.Path, err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		o.mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				o.spans = append(o.spans, ss.Spans...)
			}
		}
		o.mu.Unlock()
		resp, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(resp)
	}))
	t.Cleanup(o.Close)
	return o
}

// trace returns the spans of the trace holding a span named name.
func (o *otlpReceiver) trace(name string) []*tracepb.Span {
	o.mu.Lock()
	defer o.mu.Unlock()
	var id []byte
	for _, s := range o.spans {
		if s.Name == name {
			id = s.TraceId
		}
	}
	var out []*tracepb.Span
	for _, s := range o.spans {
		if id != nil && string(s.TraceId) == string(id) {
			out = append(out, s)
		}
	}
	return out
}

// TestAnIngestIsOneTrace: with OTEL_EXPORTER_OTLP_ENDPOINT set, an event's ingest, its
// delivery's workflow and the attempt, down to the webhook request, are spans of one
// trace, exported over OTLP; the receiver gets no trace header. /metrics shows the
// ingest and the backlog.
func TestAnIngestIsOneTrace(t *testing.T) {
	t.Parallel()
	collector := newOTLPReceiver(t)
	in := startHookd(t, options{env: []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + collector.URL,
		"OTEL_BSP_SCHEDULE_DELAY=100", // ms: export soon after each span ends
	}})
	rc := newReceiver(t, nil)
	whID, _ := in.webhook(rc.URL, nil)
	r := in.postEvent("order-traced", map[string]any{"orderId": "o-1"})
	if r.status != http.StatusAccepted {
		t.Fatalf("POST /v1/events = %d: %s", r.status, r.raw)
	}
	dlvID := deliveryTo(t, r, whID)
	in.deliveryStatus(dlvID, "succeeded", 30*time.Second)
	got := rc.requests()[0]
	for _, h := range []string{"Traceparent", "Tracestate", "Baggage"} {
		if v := got.header.Get(h); v != "" {
			t.Errorf("the receiver got %s: %s", h, v)
		}
	}

	// Each span of the chain, and whose child it is.
	chain := []struct{ name, parent string }{
		{"POST /v1/events", ""},
		{"StartWorkflow:Delivery", "POST /v1/events"},
		{"RunWorkflow:Delivery", "StartWorkflow:Delivery"},
		{"StartActivity:Attempt", "RunWorkflow:Delivery"},
		{"RunActivity:Attempt", "StartActivity:Attempt"},
		{"POST", "RunActivity:Attempt"},
	}
	var spans []*tracepb.Span
	eventually(t, 30*time.Second, func() string {
		spans = collector.trace("POST /v1/events")
		names := map[string]bool{}
		for _, s := range spans {
			names[s.Name] = true
		}
		for _, c := range chain {
			if !names[c.name] {
				return "the trace of POST /v1/events lacks " + c.name + "; it has " + spanNames(spans)
			}
		}
		return ""
	})
	byID := map[string]*tracepb.Span{}
	for _, s := range spans {
		byID[string(s.SpanId)] = s
	}
	for _, c := range chain[1:] {
		ok := false
		for _, s := range spans {
			if s.Name == c.name {
				if p := byID[string(s.ParentSpanId)]; p != nil && p.Name == c.parent {
					ok = true
				}
			}
		}
		if !ok {
			t.Errorf("no %s span is a child of %s in trace %s: %s", c.name, c.parent, hex.EncodeToString(spans[0].TraceId), spanNames(spans))
		}
	}
	for _, s := range spans {
		if s.Name != "POST" {
			continue
		}
		for _, a := range s.Attributes {
			if v := a.Value.GetStringValue(); strings.Contains(v, "/") && a.Key != "url.scheme" {
				t.Errorf("the webhook request's span has %s = %s", a.Key, v)
			}
		}
	}

	metrics := in.call(http.MethodGet, "/metrics", "", nil)
	for _, want := range []string{
		`hookd_events_ingested_total{result="new"} 1`,
		`hookd_deliveries_created_total 1`,
		`hookd_attempts_total{status_class="2xx"} 1`,
		`hookd_deliveries_total{status="succeeded"} 1`,
		`hookd_backlog_up 1`,
		`hookd_oldest_delivery_age_seconds{status="pending"} 0`,
		`hookd_replays_running 0`,
		`temporal_workflow_completed_total`,
		`hookd_http_requests_total{method="POST",route="/v1/events",status="202"} 1`,
	} {
		if !strings.Contains(string(metrics.raw), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func spanNames(spans []*tracepb.Span) string {
	names := make([]string, 0, len(spans))
	for _, s := range spans {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}
