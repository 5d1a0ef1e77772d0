// Package e2e holds hookd's end-to-end tests: they build the real hookd binary, run
// `hookd dev` with its embedded Temporal server against a real PostgreSQL, and drive it
// over HTTP the way producers, admins and receivers do, killing and restarting it where a
// test is about crashes. It has no non-test code.
package e2e
