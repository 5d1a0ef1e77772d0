package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is one benchmark run.
type Config struct {
	Scenarios []string // a subset of AllScenarios; empty means all
	Sizes
	CeilingWorkflows int  // empty workflows the ceiling starts
	CeilingEager     bool // start them with eager workflow start
	// Wait gives up on a scenario's missing deliveries after this long without a new one.
	Wait        time.Duration
	SampleEvery time.Duration

	// Launch starts hookd (hookd dev, or the serve shape); ignored when URL is set.
	Launch Launch
	// URL and Key point at a running hookd instead; TemporalAddr, PID and PGDataDir
	// (each optional) say where its Temporal frontend, process and PostgreSQL are.
	URL, Key, TemporalAddr, PGDataDir string
	PID                               int
	Namespace                         string

	Out     string    // also write the report here ("" = stdout only)
	Command string    // the command line, for the report's header
	Log     io.Writer // progress messages (stderr)
}

// warmupEvents are posted, and delivered, before the first scenario.
const warmupEvents = 100

// ErrLost is returned when a scenario lost deliveries; the report is written first.
var ErrLost = errors.New("deliveries were lost")

// Run runs the benchmark and writes the report to stdout (and cfg.Out).
func Run(ctx context.Context, cfg Config, stdout io.Writer) (err error) {
	names, err := pick(cfg.Scenarios)
	if err != nil {
		return err
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	progress := func(format string, args ...any) {
		fmt.Fprintf(cfg.Log, "bench: "+format+"\n", args...)
	}
	runID := strconv.FormatInt(time.Now().UnixMilli(), 36)

	var h *Hookd
	if cfg.URL != "" {
		h = Connect(cfg.URL, cfg.Key, cfg.TemporalAddr, cfg.PID, cfg.PGDataDir)
		if !h.API.Ready(ctx) {
			return fmt.Errorf("hookd at %s is not ready (GET /readyz)", cfg.URL)
		}
	} else {
		what := "hookd dev (fresh data dir, private PostgreSQL)"
		if cfg.Launch.Shape == ShapeServe {
			what = "the serve shape (private PostgreSQL, hookd temporal, hookd serve)"
			cfg.Launch.Log = func(format string, args ...any) { progress(format, args...) }
		}
		progress("starting %s", what)
		began := time.Now()
		if h, err = StartHookd(ctx, cfg.Launch); err != nil {
			return err
		}
		progress("hookd ready in %s (pid %d, %s)", time.Since(began).Round(time.Millisecond), h.pid, h.Dir())
		defer func() {
			progress("stopping hookd")
			if stopErr := h.Stop(); stopErr != nil {
				err = errors.Join(err, fmt.Errorf("stop hookd: %w", stopErr))
			}
		}()
	}
	rc, err := StartReceiver()
	if err != nil {
		return fmt.Errorf("start receiver: %w", err)
	}
	defer rc.Close()

	targets := []Target{{Name: "hookd", PID: h.PID}}
	if h.SeparateTemporal() {
		targets = append(targets, Target{Name: "temporal", PID: h.TemporalPID})
	}
	sampler := NewSampler(append(targets,
		Target{Name: "postgres", PID: h.PostmasterPID, Tree: true, Proportional: true},
		Target{Name: "bench", PID: func() (int, error) { return os.Getpid(), nil }},
	)...)
	sctx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go sampler.Run(sctx, cfg.SampleEvery)

	env := Environment(cfg, h)
	r := &runner{cfg: cfg, hookd: h, rc: rc, sampler: sampler, runID: runID, progress: progress}
	scenarios := Scenarios(cfg.Sizes)
	// A fresh server is slow for its first few hundred milliseconds of work (connections,
	// caches, the Go heap growing): keep that out of the first scenario's figures.
	warm := r.scenario(ctx, Scenario{
		Name: "warmup", Description: "warm-up, not reported", Fanout: 1, Events: warmupEvents,
		Concurrency: 8, Duration: time.Minute, Answer: func() Answer { return nil }, RetrySchedule: []string{"1s"}, MaxRetries: 5,
	})
	if warm.Skipped != "" || warm.Lost > 0 {
		return fmt.Errorf("warm-up failed: %s", warm.brief())
	}
	var results []Result
	for _, name := range names {
		if ctx.Err() != nil {
			break
		}
		var res Result
		if name == ScenarioCeiling {
			res = r.ceiling(ctx)
		} else {
			res = r.scenario(ctx, scenarios[name])
		}
		progress("%s: %s", name, res.brief())
		results = append(results, res)
		if h.Exited() {
			progress("hookd exited during %s; its last output:\n%s", name, h.LogTail(4096))
			break
		}
	}
	report := Render(env, results)
	fmt.Fprint(stdout, report)
	if cfg.Out != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.Out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(cfg.Out, []byte(report), 0o644); err != nil {
			return err
		}
		progress("wrote %s", cfg.Out)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	for _, res := range results {
		if res.Lost > 0 {
			return ErrLost
		}
	}
	return nil
}

// pick checks the requested scenario names and puts them in run order.
func pick(requested []string) ([]string, error) {
	if len(requested) == 0 {
		return AllScenarios, nil
	}
	for _, n := range requested {
		if !slices.Contains(AllScenarios, n) {
			return nil, fmt.Errorf("unknown scenario %q; choose from %s", n, strings.Join(AllScenarios, ","))
		}
	}
	var out []string
	for _, n := range AllScenarios {
		if slices.Contains(requested, n) {
			out = append(out, n)
		}
	}
	return out, nil
}
