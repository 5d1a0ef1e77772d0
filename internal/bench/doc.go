// Package bench is hookd's benchmark harness (`hookd bench`, `make bench`): it starts
// `hookd dev` as a subprocess on free ports with a fresh data dir (or uses a running hookd),
// drives it with a bounded loopback load generator, records every webhook it receives on a
// loopback receiver, samples the CPU and memory of hookd, its PostgreSQL and itself from
// /proc, measures the embedded Temporal server's ceiling with empty workflows, and writes
// one Markdown table with a row per scenario.
//
// It measures only: it never changes how hookd runs beyond the environment it is given.
package bench
