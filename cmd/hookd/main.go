// Command hookd is the one hookd binary: `hookd dev` runs everything on one machine;
// `hookd serve`, `hookd api` and `hookd worker` are the production processes;
// `hookd migrate` and `hookd keys create` are the operator's tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is stamped by the build (-ldflags "-X main.version=…").
var version = "dev"

const usage = `hookd — durable webhook delivery on Temporal

Usage:
  hookd dev            run API, worker, embedded Temporal (+ Web UI) and PostgreSQL
  hookd serve          run API and worker against DATABASE_URL and TEMPORAL_ADDRESS
  hookd api            run the API only
  hookd worker         run the worker (and reconciler) only
  hookd migrate        apply database migrations and exit
  hookd keys create    create an API key: --role admin|publisher|viewer [--org ID] [--name N]
  hookd bench          measure delivery throughput, latency and resources (BENCHMARKS.md)
  hookd version        print the version

Run "hookd <command> -h" for a command's flags; each flag also reads an environment variable.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Getenv)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "hookd:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "dev":
		return runDev(ctx, rest, stdout, getenv)
	case "serve":
		return runProduction(ctx, "serve", rest, getenv, roleAPI|roleWorker)
	case "api":
		return runProduction(ctx, "api", rest, getenv, roleAPI)
	case "worker":
		return runProduction(ctx, "worker", rest, getenv, roleWorker)
	case "migrate":
		return runMigrate(ctx, rest, stdout, getenv)
	case "keys":
		return runKeys(ctx, rest, stdout, getenv)
	case "bench":
		return runBench(ctx, rest, stdout, getenv)
	case "version":
		fmt.Fprintln(stdout, "hookd", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stdout, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
