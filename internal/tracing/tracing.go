package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// scope names hookd's own tracers (the API's and the Temporal interceptor's spans carry
// the instrumentation library's scope instead).
const scope = "github.com/hookd/hookd"

// propagator carries the trace from a producer's request into hookd and through
// Temporal's headers: W3C trace context only. Baggage is left out: it would carry
// whatever a producer put in it into every workflow's history.
var propagator = propagation.TraceContext{}

// Tracing is a process's tracing: on (a tracer provider exporting over OTLP) or off (Off,
// the zero value or nil, whose methods install nothing). Build it with FromEnv or New.
type Tracing struct {
	provider trace.TracerProvider // nil when off
	shutdown func(context.Context) error
}

// Off is tracing turned off.
var Off = &Tracing{}

// FromEnv turns tracing on when OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (and OTEL_SDK_DISABLED is not true), with an
// OTLP exporter over the protocol OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
// OTEL_EXPORTER_OTLP_PROTOCOL names: http/protobuf (the default, as the OpenTelemetry
// specification says) or grpc. Any other protocol is an error naming its variable.
// service and version name the process in the spans' resource, unless OTEL_SERVICE_NAME
// or OTEL_RESOURCE_ATTRIBUTES say otherwise.
func FromEnv(ctx context.Context, service, version string) (*Tracing, error) {
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" ||
		strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return Off, nil
	}
	exp, err := exporterFromEnv(ctx)
	if err != nil {
		return nil, err
	}
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceName(service), semconv.ServiceVersion(version)),
		resource.WithFromEnv(), // last: the variables win
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	return New(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

func exporterFromEnv(ctx context.Context) (sdktrace.SpanExporter, error) {
	name, protocol := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if protocol == "" {
		name, protocol = "OTEL_EXPORTER_OTLP_PROTOCOL", os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	var (
		exp sdktrace.SpanExporter
		err error
	)
	switch protocol {
	case "", "http/protobuf":
		exp, err = otlptracehttp.New(ctx)
	case "grpc":
		exp, err = otlptracegrpc.New(ctx)
	default:
		return nil, fmt.Errorf("%s=%q: hookd exports traces over http/protobuf or grpc", name, protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	return exp, nil
}

// New turns tracing on with a tracer provider made of opts (an exporter or a span
// recorder for tests, a resource, a sampler). Shutdown flushes it.
func New(opts ...sdktrace.TracerProviderOption) *Tracing {
	tp := sdktrace.NewTracerProvider(opts...)
	return &Tracing{provider: tp, shutdown: tp.Shutdown}
}

// Enabled reports whether spans are recorded.
func (t *Tracing) Enabled() bool { return t != nil && t.provider != nil }

// Shutdown exports the spans still buffered and stops the exporter; with tracing off it
// does nothing. Call it once the Temporal client and the servers have stopped.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.shutdown == nil {
		return nil
	}
	if err := t.shutdown(ctx); err != nil {
		return fmt.Errorf("flush traces: %w", err)
	}
	return nil
}

// Interceptors are the Temporal client's (client.Options.Interceptors): the SDK's
// OpenTelemetry interceptor, which spans the client's starts and signals and, since the
// worker shares the client, the workflows and activities it runs ("RunWorkflow:Delivery",
// "StartActivity:Attempt", "RunActivity:Attempt"), each continuing the trace of the call
// that started it. The SDK takes a client's interceptors for its workers too and asks
// that the same one not also be given in the worker options. Nil when off.
func (t *Tracing) Interceptors() ([]interceptor.ClientInterceptor, error) {
	if !t.Enabled() {
		return nil, nil
	}
	i, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:            t.provider.Tracer(scope + "/temporal"),
		TextMapPropagator: propagator,
		DisableBaggage:    true,
	})
	if err != nil {
		return nil, fmt.Errorf("temporal tracing interceptor: %w", err)
	}
	return []interceptor.ClientInterceptor{i}, nil
}

// Middleware opens a server span for each API request, named by method and route
// template, continuing the producer's trace when its request carries a traceparent. The
// probes and /metrics are not traced. Nil when off.
func (t *Tracing) Middleware() []gin.HandlerFunc {
	if !t.Enabled() {
		return nil
	}
	return []gin.HandlerFunc{otelgin.Middleware("hookd",
		otelgin.WithTracerProvider(t.provider),
		otelgin.WithPropagators(propagator),
		otelgin.WithMeterProvider(metricnoop.NewMeterProvider()), // hookd's metrics are Prometheus's
		otelgin.WithGinFilter(func(c *gin.Context) bool {
			switch c.FullPath() {
			case "/healthz", "/readyz", "/metrics":
				return false
			}
			return true
		}),
	)}
}

// Client returns c with its requests spanned by Transport, or c itself when off.
func (t *Tracing) Client(c *http.Client) *http.Client {
	if !t.Enabled() || c == nil {
		return c
	}
	traced := *c
	traced.Transport = t.Transport(c.Transport)
	return &traced
}
