// Package delivery owns the rules that decide what happens after a webhook attempt: how an
// HTTP status is classified, how a Retry-After header is read, how a retry schedule is
// parsed and applied, and which status and delay follow an attempt.
//
// Everything here is pure (no I/O, no clock, no randomness) because the Delivery workflow
// calls it from deterministic Temporal workflow code; callers pass "now" in where a time
// is needed.
package delivery
