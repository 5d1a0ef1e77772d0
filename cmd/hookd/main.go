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

	"github.com/hookd/hookd/internal/config"
)

// version is stamped by the build (-ldflags "-X main.version=…").
var version = "dev"

const usage = `hookd — durable webhook delivery on Temporal

Usage:
  hookd dev            run API, worker, embedded Temporal (+ Web UI) and PostgreSQL
  hookd serve          run API and worker against DATABASE_URL and TEMPORAL_ADDRESS
  hookd api            run the API only
  hookd worker         run the worker (and reconciler) only
  hookd migrate        set up a new install or an upgrade: database migrations and
                       Temporal search attributes, then exit
  hookd keys create    create an API key: --role admin|publisher|viewer [--org ID] [--name N]
  hookd temporal       run the embedded Temporal server alone, persisted in DATABASE_URL
  hookd bench          measure delivery throughput, latency and resources (BENCHMARKS.md)
  hookd version        print the version

Run "hookd <command> -h" for a command's flags; each flag also reads an environment variable.
A production build (-tags nodev) has no dev tools: no hookd dev, temporal or bench.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "hookd:", err)
		os.Exit(1)
	}
}

// run runs the subcommand args[0] names with the rest of args; -h and flag errors go to
// stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "dev":
		return runDev(ctx, rest, stdout, stderr)
	case "serve":
		return runProduction(ctx, config.Serve, rest, stderr, roleAPI|roleWorker)
	case "api":
		return runProduction(ctx, config.API, rest, stderr, roleAPI)
	case "worker":
		return runProduction(ctx, config.Worker, rest, stderr, roleWorker)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr)
	case "keys":
		return runKeys(ctx, rest, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, stdout, stderr)
	case "temporal":
		return runTemporal(ctx, rest, stderr)
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

// loadConfig reads the settings of `hookd <cmd>` from args and the environment. fs holds
// the subcommand's own flags, if any; arguments left after the flags are refused.
func loadConfig(cmd config.Command, args []string, stderr io.Writer, own func(fs *flag.FlagSet)) (config.Config, error) {
	fs := flag.NewFlagSet("hookd "+string(cmd), flag.ContinueOnError)
	fs.SetOutput(stderr)
	if own != nil {
		own(fs)
	}
	cfg, err := config.Load(fs, cmd, args)
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("hookd %s: unexpected arguments %q (see hookd %s -h)", cmd, fs.Args(), cmd)
	}
	return cfg, err
}
