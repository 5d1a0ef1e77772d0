// Package prodshape runs hookd's production shape on one machine from the project's own
// binaries, no Docker (issue 11): a private PostgreSQL, a Temporal server persisted in it
// (`hookd temporal`), one `hookd api` and N `hookd worker` processes, each a subprocess
// with its own log, listening on ports the kernel picks and found through its address
// file. Tests start it with Start, kill and restart workers (KillWorker, StartWorker) and
// Stop it; devenv.BuildHookd compiles the binary once per test binary.
//
// Its own test posts a steady stream of events while a worker is SIGKILLed and checks that
// every accepted event is delivered; BenchmarkScaling measures deliveries per second with
// one worker and with two.
package prodshape
