// Package tracing follows one event through hookd with OpenTelemetry: the API request's
// server span (Middleware), the Temporal client's start or signal, the workflow and its
// activities (Interceptor, the Temporal SDK's contrib interceptor, which carries the
// trace in the workflow's and the activities' headers), and the webhook request as a
// client span (Transport). It also owns the ids that log lines carry (LogHandler): the
// trace's, the workflow's and the delivery's, from the context of the call that logs.
//
// Tracing is on when the standard OpenTelemetry variables name an OTLP endpoint
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and off otherwise:
// then FromEnv installs nothing at all (no interceptor, middleware or wrapped
// transport), so the plain path costs what it did before. The exporter honours the
// other OTEL_* variables (protocol, headers, timeout, sampler, batch span processor,
// OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES).
//
// Receivers never see the trace: the webhook request's span is recorded, but no
// traceparent or baggage header is added to the request, and the span keeps the
// target's scheme, host and port, not its path or query (a webhook URL may hold a
// token). See README.md "Metrics and tracing".
package tracing
