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
// Production never imports this package: there hookd talks to a real
// Temporal cluster.
package devtemporal
