package bench

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"
)

func self() (int, error) { return os.Getpid(), nil }

// cpuTime is this process's user + system time, from getrusage: the ground truth the
// sampler's /proc readings are checked against.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// burn spends about d of CPU time (not wall time: the machine may be busy), giving up
// after 20 s.
func burn(t *testing.T, d time.Duration) uint64 {
	var x uint64 = 1
	start, end := cpuTime(t), time.Now().Add(20*time.Second)
	for cpuTime(t)-start < d && time.Now().Before(end) {
		for range 100000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	return x
}

var sink []byte

func TestSamplerMeasuresThisProcess(t *testing.T) {
	s := NewSampler(Target{Name: "test", PID: self}, Target{Name: "test-pss", PID: self, Proportional: true})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx, 20*time.Millisecond); close(done) }()

	before := cpuTime(t)
	w := s.Begin()
	_ = burn(t, 300*time.Millisecond)
	const grow = 64 << 20
	sink = make([]byte, grow)
	for i := range sink {
		sink[i] = byte(i) // touch every page so it is resident
	}
	time.Sleep(60 * time.Millisecond) // let Run take a sample or two while it is held
	got := w.End()
	spent := cpuTime(t) - before
	cancel()
	<-done

	for _, ts := range got {
		if !ts.OK {
			t.Fatalf("%s: not read", ts.Name)
		}
		// /proc counts in clock ticks (10 ms), and the window's edges fall a little
		// inside the getrusage readings around it.
		if ts.CPU < 250*time.Millisecond || ts.CPU > spent+30*time.Millisecond {
			t.Errorf("%s: CPU over the window = %v, want about 300ms and at most the %v getrusage saw", ts.Name, ts.CPU, spent)
		}
		if ts.PeakMem < grow {
			t.Errorf("%s: peak memory %d MiB, want at least the %d MiB just touched", ts.Name, ts.PeakMem>>20, grow>>20)
		}
		if ts.FinalMem <= 0 || ts.FinalMem > ts.PeakMem {
			t.Errorf("%s: final memory %d outside (0, peak %d]", ts.Name, ts.FinalMem, ts.PeakMem)
		}
	}
	sink = nil
}

func TestSamplerTreeFollowsChildren(t *testing.T) {
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep binary:", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	if kids := children("/proc", os.Getpid()); !slices.Contains(kids, cmd.Process.Pid) {
		t.Fatalf("children(self) = %v, want it to hold %d", kids, cmd.Process.Pid)
	}
	// Right after exec the child has no resident pages yet: wait until it has some.
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st, err := readProcStat("/proc", cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if st.RSS > 0 {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the child never became resident")
		}
	}
	s := NewSampler(Target{Name: "alone", PID: self}, Target{Name: "tree", PID: self, Tree: true})
	sm := s.Sample()
	alone, tree := sm.Usage[0], sm.Usage[1]
	if !alone.OK || !tree.OK {
		t.Fatalf("not read: %+v", sm.Usage)
	}
	if tree.Mem <= alone.Mem {
		t.Errorf("tree memory %d not above the root's alone %d: the child is missing", tree.Mem, alone.Mem)
	}
}

func TestSamplerMissingTarget(t *testing.T) {
	t.Parallel()
	gone := func() (int, error) { return 0, os.ErrNotExist }
	s := NewSampler(Target{Name: "gone", PID: gone})
	got := s.Begin().End()
	if got[0].OK || got[0].CPU != 0 || got[0].PeakMem != 0 {
		t.Errorf("missing target = %+v, want not OK and zero", got[0])
	}
}

func TestParseProcStat(t *testing.T) {
	t.Parallel()
	// A command name with spaces and parentheses; fields 4 (ppid), 14-17 (times) and 24 (rss).
	line := "4242 (a (b) c) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 30 20 20 0 1 0 100 1000000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	st, err := parseProcStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	hz := clockTicks()
	if st.PPID != 17 {
		t.Errorf("PPID = %d, want 17", st.PPID)
	}
	if want := time.Duration(300) * time.Second / time.Duration(hz); st.CPU != want {
		t.Errorf("CPU = %v, want %v", st.CPU, want)
	}
	if want := time.Duration(50) * time.Second / time.Duration(hz); st.ChildCPU != want {
		t.Errorf("ChildCPU = %v, want %v", st.ChildCPU, want)
	}
	if want := int64(300 * os.Getpagesize()); st.RSS != want {
		t.Errorf("RSS = %d, want %d", st.RSS, want)
	}
	if _, err := parseProcStat([]byte("12 (short) S 1 2")); err == nil {
		t.Error("a truncated stat line parsed without error")
	}
}

// TestSamplerReadsPSSAtMostOncePerInterval: ticks read a Proportional target's PSS at most
// once per pssInterval and carry the last reading in between; Sample (a window's ends)
// always reads it.
func TestSamplerReadsPSSAtMostOncePerInterval(t *testing.T) {
	s := NewSampler(Target{Name: "self", PID: func() (int, error) { return os.Getpid(), nil }, Proportional: true})
	reads := 0
	s.readPSS = func(proc string, pid int) (int64, error) {
		reads++
		return int64(1000 + reads), nil
	}
	w := s.Begin()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	s.Run(ctx, 10*time.Millisecond) // ~150 ticks
	stats := w.End()
	s.mu.Lock()
	ticks := len(s.samples)
	var mems []int64
	for _, sm := range s.samples {
		mems = append(mems, sm.Usage[0].Mem)
	}
	s.mu.Unlock()
	// Begin, End, and at most one tick a second in 1.5 s: at most 2 tick reads.
	if ticks < 50 || reads > 4 || reads < 3 {
		t.Fatalf("%d samples read PSS %d times, want Begin, End and 1-2 ticks", ticks, reads)
	}
	for i, m := range mems {
		if m <= 1000 {
			t.Fatalf("sample %d memory %d, want a PSS reading carried over (%v)", i, m, mems)
		}
	}
	if stats[0].FinalMem != int64(1000+reads) {
		t.Fatalf("final memory %d, want End's fresh reading %d", stats[0].FinalMem, 1000+reads)
	}
}
