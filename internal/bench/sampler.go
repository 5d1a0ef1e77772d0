package bench

import (
	"context"
	"sync"
	"time"
)

// Target is one process, or a process tree, whose CPU and memory the sampler follows.
type Target struct {
	Name string
	// PID finds the (root) process; an error means it is not known or not running, and
	// the sample records nothing for it.
	PID func() (int, error)
	// Tree adds the live children of the root and the CPU of its exited, reaped children
	// (PostgreSQL: the postmaster reaps its backends, so their CPU stays counted).
	Tree bool
	// Proportional measures memory as PSS rather than RSS, so memory the processes share
	// is counted once in their sum.
	Proportional bool
}

// Usage is one target in one sample.
type Usage struct {
	OK  bool          // the target was found and read
	CPU time.Duration // cumulative CPU time
	Mem int64         // resident bytes (RSS, or PSS when Proportional)
}

// Sample is one reading of every target.
type Sample struct {
	At    time.Time
	Usage []Usage // in the order of the sampler's targets
}

// pssInterval bounds how often Run reads a Proportional target's PSS: smaps_rollup walks
// every mapping of every process, and reading it for each PostgreSQL backend every tick
// cost the bench process more CPU than the figures it measures can bear (CPU
// ms/delivery counts the bench too: 14 s instead of 4 s in a `max` run with Temporal in
// PostgreSQL). Ticks in between reuse the last reading; CPU is read at every tick, and
// Sample (a window's ends) reads everything.
const pssInterval = time.Second

// Sampler reads /proc for its targets every interval while Run runs, and on demand.
type Sampler struct {
	targets []Target
	proc    string // the proc file system's mount point

	mu      sync.Mutex
	samples []Sample
	// The last PSS reading of each target and when it was taken (see pssInterval); only
	// Run's goroutine and Sample's callers touch them, under mu.
	pss     []int64
	pssAt   []time.Time
	readPSS func(proc string, pid int) (int64, error) // readPSS; tests count the calls
}

// NewSampler returns a sampler of targets reading /proc.
func NewSampler(targets ...Target) *Sampler {
	return &Sampler{targets: targets, proc: "/proc", pss: make([]int64, len(targets)), pssAt: make([]time.Time, len(targets)), readPSS: readPSS}
}

// Run samples every interval until ctx ends.
func (s *Sampler) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sample(false)
		}
	}
}

// Sample reads every target now, memory included, records the sample and returns it.
func (s *Sampler) Sample() Sample {
	return s.sample(true)
}

// sample reads every target; a Proportional target's PSS only when fresh or when its last
// reading is pssInterval old (see pssInterval).
func (s *Sampler) sample(fresh bool) Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	sm := Sample{At: time.Now(), Usage: make([]Usage, len(s.targets))}
	for i, t := range s.targets {
		readPSS := t.Proportional && (fresh || sm.At.Sub(s.pssAt[i]) >= pssInterval)
		sm.Usage[i] = s.read(t, readPSS)
		switch {
		case readPSS && sm.Usage[i].OK:
			s.pss[i], s.pssAt[i] = sm.Usage[i].Mem, sm.At
		case t.Proportional && sm.Usage[i].OK:
			sm.Usage[i].Mem = s.pss[i]
		}
	}
	s.samples = append(s.samples, sm)
	return sm
}

// read reads target t's CPU and memory: RSS, or its PSS when withPSS (for a Proportional
// target read without it, Mem is left for the caller to fill in).
func (s *Sampler) read(t Target, withPSS bool) Usage {
	pid, err := t.PID()
	if err != nil || pid <= 0 {
		return Usage{}
	}
	pids := []int{pid}
	if t.Tree {
		pids = append(pids, children(s.proc, pid)...)
	}
	var u Usage
	for i, p := range pids {
		st, err := readProcStat(s.proc, p)
		if err != nil {
			if i == 0 {
				return Usage{} // the root is gone
			}
			continue // a child exited between listing and reading: its CPU is in the root's ChildCPU
		}
		u.CPU += st.CPU
		if i == 0 && t.Tree {
			u.CPU += st.ChildCPU
		}
		mem := st.RSS
		if withPSS {
			if pss, err := s.readPSS(s.proc, p); err == nil {
				mem = pss
			}
		}
		u.Mem += mem
	}
	u.OK = true
	return u
}

// TargetStats is a target's use of the machine over a window.
type TargetStats struct {
	Name     string
	OK       bool          // the target was read at both ends of the window
	CPU      time.Duration // CPU time spent within the window
	PeakMem  int64         // the largest memory reading within the window
	FinalMem int64         // the memory reading at the end of the window
}

// Window measures the targets between Begin and End.
type Window struct {
	s     *Sampler
	begin Sample
}

// Begin opens a window with a fresh sample.
func (s *Sampler) Begin() *Window {
	return &Window{s: s, begin: s.Sample()}
}

// End closes the window with a fresh sample and returns each target's CPU time within it
// and its peak memory over every sample taken inside it.
func (w *Window) End() []TargetStats {
	end := w.s.Sample()
	w.s.mu.Lock()
	var inside []Sample
	for _, sm := range w.s.samples {
		if !sm.At.Before(w.begin.At) && !sm.At.After(end.At) {
			inside = append(inside, sm)
		}
	}
	w.s.mu.Unlock()
	out := make([]TargetStats, len(w.s.targets))
	for i, t := range w.s.targets {
		b, e := w.begin.Usage[i], end.Usage[i]
		ts := TargetStats{Name: t.Name, OK: b.OK && e.OK, FinalMem: e.Mem}
		if ts.OK {
			ts.CPU = max(e.CPU-b.CPU, 0)
		}
		for _, sm := range inside {
			ts.PeakMem = max(ts.PeakMem, sm.Usage[i].Mem)
		}
		out[i] = ts
	}
	return out
}
