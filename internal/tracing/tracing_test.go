package tracing

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.temporal.io/sdk/testsuite"
)

// Without an OTLP endpoint tracing is off and installs nothing.
func TestOffWithoutAnEndpoint(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	tr, err := FromEnv(context.Background(), "hookd", "test")
	if err != nil {
		t.Fatal(err)
	}
	is, err := tr.Interceptors()
	if tr.Enabled() || is != nil || err != nil || tr.Middleware() != nil {
		t.Fatalf("off tracing installs interceptors %v (%v), middleware %v", is, err, tr.Middleware())
	}
	c := &http.Client{}
	if tr.Client(c) != c || tr.Transport(http.DefaultTransport) != http.DefaultTransport {
		t.Fatal("off tracing wraps the webhook client")
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestEnv(t *testing.T) {
	for _, tc := range []struct {
		name, env, value, wantErr string
	}{
		{"disabled", "OTEL_SDK_DISABLED", "true", ""},
		{"unknown protocol", "OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{"unknown traces protocol", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "udp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
			t.Setenv(tc.env, tc.value)
			tr, err := FromEnv(context.Background(), "hookd", "test")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || tr.Enabled() {
				t.Fatalf("tracing %v, err %v; want off", tr.Enabled(), err)
			}
		})
	}
	t.Run("on", func(t *testing.T) {
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
		tr, err := FromEnv(context.Background(), "hookd", "test")
		if err != nil || !tr.Enabled() {
			t.Fatalf("tracing %v, err %v; want on", tr.Enabled(), err)
		}
		if err := tr.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// The webhook request is a client span, child of the caller's, with no trace header sent
// and no trace of the URL's path or query.
func TestTransportSpansWithoutPropagating(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tr := New(sdktrace.WithSpanProcessor(rec))
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)

	ctx, parent := tr.provider.Tracer("test").Start(context.Background(), "RunActivity:Attempt")
	client := tr.Client(srv.Client())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/hooks/secret-path?token=s3cr3t", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	parent.End()

	for _, h := range []string{"Traceparent", "Tracestate", "Baggage"} {
		if v := got.Get(h); v != "" {
			t.Errorf("the receiver got %s: %s", h, v)
		}
	}
	spans := rec.Ended()
	if len(spans) != 2 || spans[0].Name() != "POST" {
		t.Fatalf("spans %v", spans)
	}
	s := spans[0]
	if s.Parent().SpanID() != parent.SpanContext().SpanID() || s.SpanKind().String() != "client" {
		t.Errorf("span parent %v kind %v", s.Parent(), s.SpanKind())
	}
	attrs := map[string]string{}
	for _, a := range s.Attributes() {
		attrs[string(a.Key)] = a.Value.String()
		if strings.Contains(a.Value.String(), "s3cr3t") || strings.Contains(a.Value.String(), "secret-path") {
			t.Errorf("attribute %s = %s holds the URL's path or query", a.Key, a.Value.String())
		}
	}
	if attrs["http.request.method"] != "POST" || attrs["http.response.status_code"] != "503" || attrs["server.address"] != "127.0.0.1" {
		t.Errorf("attributes %v", attrs)
	}
}

// A record logged with a context carries the context's ids, once each.
func TestLogHandler(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewTextHandler(&buf, nil)))
	tr := New()
	ctx, span := tr.provider.Tracer("test").Start(context.Background(), "x")
	defer span.End()
	ctx = WithLogAttrs(ctx, slog.String("webhook_id", "wh_1"))
	log.InfoContext(ctx, "one", "webhook_id", "wh_1")
	log.Info("two")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines %q", lines)
	}
	traceID := span.SpanContext().TraceID().String()
	if !strings.Contains(lines[0], "trace_id="+traceID) || strings.Count(lines[0], "webhook_id=") != 1 {
		t.Errorf("line with a context: %s", lines[0])
	}
	if strings.Contains(lines[1], "trace_id") {
		t.Errorf("line without a context: %s", lines[1])
	}

	// In an activity: the workflow's ids.
	buf.Reset()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	act := func(ctx context.Context) error {
		log.WarnContext(ctx, "three")
		return nil
	}
	env.RegisterActivity(act)
	if _, err := env.ExecuteActivity(act); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"workflow_id=", "run_id=", "activity="} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("line in an activity lacks %s: %s", want, buf.String())
		}
	}
}
