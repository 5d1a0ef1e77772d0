// Package devenv runs a private PostgreSQL cluster from the machine's own server binaries
// (initdb, postgres, pg_ctl), for `hookd dev` and for tests: no Docker, nothing downloaded.
//
// The cluster listens on 127.0.0.1 only and on a unix socket inside its data directory,
// trusts local connections, and has one superuser, hookd. When the process runs as root
// (which initdb refuses), the server runs as the postgres user, or nobody as a fallback.
// A postmaster left running on the data directory (hookd was SIGKILLed) is reused.
//
// FreePort finds the loopback ports the dev tools (this cluster, the embedded Temporal
// server) listen on, and PostmasterPID reads which postmaster a data directory belongs to.
package devenv
