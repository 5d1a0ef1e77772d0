package tracing

import (
	"errors"
	"net"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"
)

// Transport spans each request next sends as an OpenTelemetry client span ("POST"),
// child of the request context's span: the attempt activity's. It propagates nothing:
// a receiver is a third party, and a traceparent would tell it hookd's trace ids and
// sampling. Its attributes are the method, the target's scheme, host and port, and the
// response's status code; never the URL's path or query, which may hold a token (which
// is why this is not otelhttp's transport: it records url.full). The span ends when the
// response's headers are in; the activity's span covers reading the body. next nil means
// http.DefaultTransport; with tracing off Transport returns next.
func (t *Tracing) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if !t.Enabled() {
		return next
	}
	return &transport{next: next, tracer: t.provider.Tracer(scope + "/webhook")}
}

type transport struct {
	next   http.RoundTripper
	tracer trace.Tracer
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[req.URL.Scheme]
	}
	attrs := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			semconv.HTTPRequestMethodKey.String(req.Method),
			semconv.URLScheme(req.URL.Scheme),
			semconv.ServerAddress(host),
		),
	}
	if p, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, trace.WithAttributes(semconv.ServerPort(p)))
	}
	ctx, span := t.tracer.Start(req.Context(), req.Method, attrs...)
	defer span.End()
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
		span.SetStatus(codes.Error, "no response")
		return nil, err
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
	if resp.StatusCode >= 400 {
		span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode)))
		span.SetStatus(codes.Error, "")
	}
	return resp, nil
}

// errorType names a failed request's error by kind, never by message: the message
// quotes the URL.
func errorType(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "_OTHER"
}
