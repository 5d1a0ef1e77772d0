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

// Sampler reads /proc for its targets every interval while Run runs, and on demand.
type Sampler struct {
	targets []Target
	proc    string // the proc file system's mount point

	mu      sync.Mutex
	samples []Sample
}

// NewSampler returns a sampler of targets reading /proc.
func NewSampler(targets ...Target) *Sampler {
	return &Sampler{targets: targets, proc: "/proc"}
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
			s.Sample()
		}
	}
}

// Sample reads every target now, records the sample and returns it.
func (s *Sampler) Sample() Sample {
	sm := Sample{At: time.Now(), Usage: make([]Usage, len(s.targets))}
	for i, t := range s.targets {
		sm.Usage[i] = s.read(t)
	}
	s.mu.Lock()
	s.samples = append(s.samples, sm)
	s.mu.Unlock()
	return sm
}

func (s *Sampler) read(t Target) Usage {
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
		if t.Proportional {
			if pss, err := readPSS(s.proc, p); err == nil {
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
