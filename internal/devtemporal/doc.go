// Package devtemporal runs a complete Temporal server, and optionally its Web
// UI, inside the current process: the engine behind `hookd dev` and the
// integration tests, so neither needs Docker, a separate binary or anything
// downloaded at run time.
//
// It is built on the public go.temporal.io/server/temporal API the way the
// Temporal CLI's `temporal server start-dev` is: every service (frontend,
// history, matching, worker) in one process on loopback ports found by
// static host lists instead of ringpop, persistence and visibility in SQLite
// (a file in WAL mode, or a private in-memory database), a namespace created
// before the server starts, and github.com/temporalio/ui-server/v2 serving
// the UI from assets compiled into the binary.
//
// Options.Postgres persists the same server in PostgreSQL instead, the shape
// of a production cluster: Start creates the databases if missing and sets
// up or updates their schemas with the schema files and schema tool shipped
// in go.temporal.io/server, so the benchmark and `hookd dev
// --temporal-store postgres` measure and run what production runs.
//
// Production never imports this package: there hookd talks to a real
// Temporal cluster.
package devtemporal
