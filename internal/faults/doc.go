// Package faults is hookd's fault suite (`make test-faults`, issue 11): kill -9 of hookd,
// of its PostgreSQL and of a worker in the production shape, hostile receivers, malformed
// requests and cross-organization probes. Its tests build only with -tags faults, so
// `make test` leaves them out; they take a few minutes (at most 15 on a 2-core machine).
// With -report=<path> (after -args) the run writes RELIABILITY.md there: a table of each
// fault, how often it was injected, the events accepted, delivered, lost, duplicated, the
// requests refused during an outage and any other 5xx, and notes.
package faults
