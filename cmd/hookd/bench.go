//go:build !nodev

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/bench"
)

// envFlags collects repeated --env K=V flags.
type envFlags []string

func (e *envFlags) String() string { return strings.Join(*e, " ") }

func (e *envFlags) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("%q: want KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

// runBench runs the benchmark (BENCHMARKS.md): against a hookd it starts itself (`hookd
// dev`, or with --shape serve one `hookd serve` against a `hookd temporal`), or against a
// running hookd given by --url and --key.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg bench.Config
	var scenarios, eager string
	var env envFlags
	fs := flag.NewFlagSet("hookd bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&scenarios, "scenarios", strings.Join(bench.AllScenarios, ","), "comma-separated scenarios to run, in this order whatever the list's")
	fs.IntVar(&cfg.Events, "events", 5000, "events of the max-rate scenario (fan-out 10 posts a tenth as many)")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "length of the fixed-rate scenarios (rate50, rate150, rate200, retry20)")
	fs.IntVar(&cfg.Concurrency, "concurrency", 32, "requests in flight in the closed-loop scenarios (max, fanout10, backlog, ceiling)")
	fs.IntVar(&cfg.Backlog, "backlog", 10000, "deliveries the backlog scenario leaves waiting in backoff")
	fs.DurationVar(&cfg.BacklogHold, "backlog-hold", time.Minute, "how long the backlog scenario holds its deliveries in backoff before reading hookd's memory again")
	fs.IntVar(&cfg.CeilingWorkflows, "ceiling", 2000, "empty workflows the engine-ceiling measurement starts")
	fs.StringVar(&eager, "ceiling-eager", "auto", "start the ceiling's workflows with eager workflow start: true, false, or auto (as hookd does: HOOKD_EAGER_START from --env, default true)")
	fs.DurationVar(&cfg.Wait, "wait", time.Minute, "give up on a scenario's missing deliveries after this long without a new one")
	fs.DurationVar(&cfg.SampleEvery, "sample", 150*time.Millisecond, "how often /proc is sampled")
	fs.StringVar(&cfg.Launch.Shape, "shape", bench.ShapeDev, "what the benchmark starts: dev (one hookd dev, embedded Temporal) or serve (hookd serve against a hookd temporal process, the production shape on one box)")
	fs.Var(&env, "env", "KEY=VALUE for the hookd processes the benchmark starts, repeatable (to compare settings); HOOKD_TEMPORAL_STORE=postgres keeps Temporal in PostgreSQL in either shape")
	fs.BoolVar(&cfg.Launch.Keep, "keep", false, "keep the subprocesses' data dir (and their logs) afterwards")
	fs.StringVar(&cfg.URL, "url", "", "measure a running hookd at this API URL instead of starting one")
	fs.StringVar(&cfg.Key, "key", os.Getenv("HOOKD_ADMIN_KEY"), "admin API key of the hookd at --url (HOOKD_ADMIN_KEY)")
	fs.StringVar(&cfg.TemporalAddr, "temporal", "", "with --url: its Temporal frontend host:port, for the ceiling")
	fs.StringVar(&cfg.Namespace, "namespace", "default", "Temporal namespace of the ceiling's workflows")
	fs.IntVar(&cfg.PID, "pid", 0, "with --url: the hookd process id, for its CPU and RSS")
	fs.StringVar(&cfg.PGDataDir, "pgdata", "", "with --url: the PostgreSQL data dir (holding postmaster.pid), for its CPU and memory")
	fs.StringVar(&cfg.Out, "out", "", "also write the report to this file (e.g. bench/results/2025-01-31.md)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("hookd bench: unexpected arguments %q", fs.Args())
	}
	for s := range strings.SplitSeq(scenarios, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Scenarios = append(cfg.Scenarios, s)
		}
	}
	switch {
	case cfg.URL != "" && cfg.Key == "":
		return errors.New("hookd bench: --url needs --key (an admin key)")
	case cfg.URL != "" && len(env) > 0:
		return errors.New("hookd bench: --env applies to the hookd the benchmark starts, not to one at --url")
	case cfg.URL != "" && cfg.Launch.Shape != bench.ShapeDev:
		return errors.New("hookd bench: --shape applies to the hookd the benchmark starts, not to one at --url")
	case cfg.Launch.Shape != bench.ShapeDev && cfg.Launch.Shape != bench.ShapeServe:
		return fmt.Errorf("hookd bench: --shape %q: want %s or %s", cfg.Launch.Shape, bench.ShapeDev, bench.ShapeServe)
	case cfg.Events < 1 || cfg.Concurrency < 1 || cfg.Backlog < 1 || cfg.CeilingWorkflows < 1:
		return errors.New("hookd bench: --events, --concurrency, --backlog and --ceiling must be at least 1")
	case cfg.Duration < time.Second || cfg.Wait <= 0 || cfg.SampleEvery <= 0:
		return errors.New("hookd bench: --duration must be at least 1s, --wait and --sample positive")
	}
	var err error
	if cfg.CeilingEager, err = bench.ParseEager(eager, env); err != nil {
		return fmt.Errorf("hookd bench: --ceiling-eager: %w", err)
	}
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the hookd binary: %w", err)
	}
	cfg.Launch.Binary, cfg.Launch.Env = bin, env
	cfg.Command = strings.TrimSpace("hookd bench " + strings.Join(args, " "))
	cfg.Log = os.Stderr
	return bench.Run(ctx, cfg, stdout)
}
