package bench

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// procStat is what one read of /proc/<pid>/stat tells about a process.
type procStat struct {
	PPID int
	// CPU is user + system time of the process itself (all its threads); ChildCPU is that
	// of its children that have exited and been waited for.
	CPU, ChildCPU time.Duration
	RSS           int64 // bytes
}

// readProcStat reads /proc/<pid>/stat under root (normally "/proc").
func readProcStat(root string, pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join(root, strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(b)
}

// parseProcStat parses the content of /proc/<pid>/stat (proc(5)). The command name, in
// parentheses, may itself hold spaces and parentheses, so fields are counted from the
// last ')'.
func parseProcStat(b []byte) (procStat, error) {
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return procStat{}, errors.New("proc stat: no command name")
	}
	f := strings.Fields(string(b[end+1:]))
	// f[0] is field 3 (state) of proc(5); field n is f[n-3].
	const ppid, utime, stime, cutime, cstime, rss = 4 - 3, 14 - 3, 15 - 3, 16 - 3, 17 - 3, 24 - 3
	if len(f) <= rss {
		return procStat{}, fmt.Errorf("proc stat: %d fields, want more than %d", len(f)+2, rss+3)
	}
	var n [6]int64
	for i, idx := range []int{ppid, utime, stime, cutime, cstime, rss} {
		v, err := strconv.ParseInt(f[idx], 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("proc stat field %d: %w", idx+3, err)
		}
		n[i] = v
	}
	return procStat{
		PPID:     int(n[0]),
		CPU:      ticks(n[1] + n[2]),
		ChildCPU: ticks(n[3] + n[4]),
		RSS:      n[5] * int64(os.Getpagesize()),
	}, nil
}

// readPSS is the proportional set size of a process (its private pages plus its share of
// shared ones), from /proc/<pid>/smaps_rollup. Summing PSS over PostgreSQL's processes
// counts shared_buffers once; summing RSS would count it once per backend.
func readPSS(root string, pid int) (int64, error) {
	f, err := os.Open(filepath.Join(root, strconv.Itoa(pid), "smaps_rollup"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "Pss:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("smaps_rollup Pss: %w", err)
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("smaps_rollup: no Pss line")
}

// children lists the live children of pid: from /proc/<pid>/task/*/children when the
// kernel has it (each thread lists the children it forked), else by scanning every
// process's parent.
func children(root string, pid int) []int {
	p := strconv.Itoa(pid)
	tasks, _ := filepath.Glob(filepath.Join(root, p, "task", "*", "children"))
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, s := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(s); err == nil {
				out = append(out, c)
			}
		}
	}
	if len(tasks) > 0 {
		return out
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readProcStat(root, c); err == nil && st.PPID == pid {
			out = append(out, c)
		}
	}
	return out
}

// clockTicks is the kernel's USER_HZ, the unit of the CPU times in /proc/<pid>/stat.
var clockTicks = sync.OnceValue(func() int64 {
	if hz := auxvClockTicks(); hz > 0 {
		return hz
	}
	return 100 // USER_HZ on every Linux architecture Go supports
})

// auxvClockTicks reads AT_CLKTCK from this process's auxiliary vector, 0 if it cannot.
func auxvClockTicks() int64 {
	const atClkTck = 17
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 0
	}
	word := strconv.IntSize / 8
	for i := 0; i+2*word <= len(b); i += 2 * word {
		var key, val uint64
		if word == 8 {
			key, val = binary.NativeEndian.Uint64(b[i:]), binary.NativeEndian.Uint64(b[i+word:])
		} else {
			key, val = uint64(binary.NativeEndian.Uint32(b[i:])), uint64(binary.NativeEndian.Uint32(b[i+word:]))
		}
		if key == atClkTck {
			return int64(val)
		}
	}
	return 0
}

func ticks(n int64) time.Duration {
	return time.Duration(n) * time.Second / time.Duration(clockTicks())
}
