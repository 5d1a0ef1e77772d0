// Package faults is hookd's fault suite (`make test-faults`, issue 11): kill -9 of hookd,
// of its PostgreSQL and of a worker in the production shape, hostile receivers, malformed
// requests and cross-organization probes. It writes RELIABILITY.md. Its tests build only
// with -tags faults, so `make test` leaves them out.
package faults
