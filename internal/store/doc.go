// Package store owns hookd's PostgreSQL records: organizations, API keys, event types,
// webhooks, events, deliveries and attempts. SQL is plain SQL over a pgxpool; the schema
// lives in numbered migrations embedded in the binary and applied by tern under its
// advisory lock, so many replicas may run Migrate at once.
//
// Reads and writes are scoped to an organization wherever the caller is an API client;
// the attempt path (LoadAttempt, BeginAttempt, CompleteAttempt) is not, because its ids come from
// Temporal. Webhook signing secrets are stored sealed with secretbox. Errors wrap
// ErrNotFound, ErrConflict or ErrInvalidCursor where the caller can act on them.
package store
