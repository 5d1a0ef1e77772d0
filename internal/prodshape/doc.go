// Package prodshape runs hookd's production shape on one machine from the project's own
// binaries, no Docker (issue 11): a private PostgreSQL, a Temporal server persisted in it
// (`hookd temporal`), one `hookd api` and N `hookd worker` processes.
package prodshape
