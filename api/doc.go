// Package api is hookd's HTTP API: the Gin router, API-key authentication and role checks,
// request validation, the problem+json error mapping, the handlers for event types,
// webhooks, events and deliveries, the operational endpoints (/healthz, /readyz, /metrics)
// and the embedded OpenAPI document served at /openapi.yaml, which is the reference for
// every route and schema.
//
// Handlers check the HTTP shape of a request, then read through the Store interface
// (internal/store) or change things through the service layer (internal/dispatch) by the
// small interfaces declared here (publisher, deliverySteerer); they never reach Temporal,
// which is the service's business.
package api
