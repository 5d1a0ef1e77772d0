// Package api is hookd's HTTP API: the Gin router, API-key authentication and role checks,
// request validation, the problem+json error mapping, the handlers for event types,
// webhooks, events and deliveries, the operational endpoints (/healthz, /readyz, /metrics)
// and the embedded OpenAPI document served at /openapi.yaml, which is the reference for
// every route and schema.
//
// Handlers speak to PostgreSQL through the Store interface and to Temporal through the
// Scheduler interface; both are declared here, in the terms the API needs, and implemented
// by internal/store and internal/dispatch.
package api
