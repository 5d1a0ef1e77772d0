// Package devenv runs the local pieces of a hookd development setup from what is on the
// machine: no Docker, nothing downloaded.
//
// Start runs a private PostgreSQL cluster from the machine's own server binaries (initdb,
// postgres, pg_ctl), for `hookd dev` and for tests. The cluster listens on 127.0.0.1 only
// and on a unix socket inside its data directory, trusts local connections, and has one
// superuser, hookd. When the process runs as root (which initdb refuses), the server runs
// as the postgres user, or nobody as a fallback. A postmaster left running on the data
// directory (hookd was SIGKILLed) is reused.
//
// NewHookd runs `hookd dev` itself as a subprocess with a data directory of its own, for
// the end-to-end tests and the benchmark: hookd binds port 0 and reports the ports it got
// in its address file (internal/addrfile), so no test picks a port for it.
//
// FreePort finds a free loopback port for the servers that cannot bind port 0 themselves
// (this cluster, whose port Temporal's SQL plugin must be told; the embedded Temporal
// server's internal ports); they retry with another port when it was taken meanwhile.
// PostmasterPID reads which postmaster a data directory belongs to.
package devenv
