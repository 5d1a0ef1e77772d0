package bench

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Env is the report's header: when, on what, and against which hookd.
type Env struct {
	Date     time.Time
	Cores    int
	CPU      string
	Platform string
	Go       string
	Revision string
	Shape    string // ShapeDev or ShapeServe for a hookd the benchmark started, else ""
	Target   string // which hookd was measured, and how
	ExtraEnv []string
	Command  string
	Warmup   int // events delivered before the first scenario
}

// Environment describes this run.
func Environment(cfg Config, h *Hookd) Env {
	e := Env{
		Date:     time.Now().UTC(),
		Cores:    runtime.NumCPU(),
		CPU:      cpuModel(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
		Go:       runtime.Version(),
		Revision: gitRevision(),
		Command:  cfg.Command,
		Warmup:   warmupEvents,
	}
	switch {
	case h.Started() && cfg.Launch.Shape == ShapeServe:
		store, _ := TemporalStore(cfg.Launch.Env) // StartHookd checked it
		e.Shape = ShapeServe
		e.Target = "one `hookd serve` (API and worker) against a `hookd temporal` process (Temporal store: " + store +
			"), `hookd migrate` and an admin key made by `hookd keys create`, private PostgreSQL (durable), fresh dir"
		e.ExtraEnv = cfg.Launch.processEnv()
	case h.Started():
		store, _ := TemporalStore(cfg.Launch.Env)
		e.Shape = ShapeDev
		e.Target = "`hookd dev` subprocess: embedded Temporal (HOOKD_TEMPORAL_STORE=" + store + "), private PostgreSQL, fresh data dir"
		e.ExtraEnv = cfg.Launch.processEnv()
	default:
		e.Target = "running hookd at " + cfg.URL
	}
	return e
}

// gitRevision is the short commit of the working tree, "-dirty" when it has changes.
func gitRevision() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		rev += "-dirty"
	}
	return rev
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
