//go:build faults

package faults

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// notApplicable marks a count that means nothing for a fault (no events are posted
// through a malformed request).
const notApplicable = -1

// row is one fault of RELIABILITY.md's table.
type row struct {
	Fault string
	// Times is how often the fault was injected (kills, hostile webhooks, requests).
	Times int
	// Accepted are events answered 202 (or 200 for a repeated id); Delivered, Lost and
	// Duplicated count their deliveries as the receivers saw them (Duplicated: requests
	// beyond the first carrying one webhook-id).
	Accepted, Delivered, Lost, Duplicated int
	// Refused are requests turned away during an outage without being accepted: a refused
	// connection or a 503 problem with Retry-After. Other5xx is every other 5xx answer.
	Refused, Other5xx int
	// Failed says the fault's assertions failed (the table says so, not only the log).
	Failed bool
	// Notes explain the row: what was done, what was measured.
	Notes []string
}

var (
	reportMu  sync.Mutex
	rows      []*row
	suiteTime = time.Now()
)

// record adds r to the report; the caller fills it in as the fault runs.
func record(r *row) *row {
	reportMu.Lock()
	defer reportMu.Unlock()
	rows = append(rows, r)
	return r
}

func (r *row) note(format string, args ...any) {
	reportMu.Lock()
	defer reportMu.Unlock()
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// writeReport writes RELIABILITY.md: how the suite runs, the machine, the table and the
// notes of each fault.
func writeReport(path string, passed bool) error {
	reportMu.Lock()
	defer reportMu.Unlock()
	var b strings.Builder
	b.WriteString(`# Reliability

This file is written by hookd's fault suite, ` + "`make test-faults`" + ` (package
` + "`internal/faults`" + `, built with ` + "`-tags faults`" + `; also run by ` + "`.ci/run`" + `). The suite
starts hookd from this repository's own binaries on loopback only (` + "`hookd dev`" + ` with a
private PostgreSQL, and the production shape: ` + "`hookd temporal`" + `, ` + "`hookd api`" + `,
` + "`hookd worker`" + `), injects each fault below while events are posted, and asserts that
no accepted event is lost and that no request is answered with an unexplained 5xx.
Run it with ` + "`make test-faults`" + `, which rewrites this file (` + "`go test -tags faults\n./internal/faults/`" + ` alone writes nothing; ` + "`-args -report=<path>`" + ` writes it there).

`)
	fmt.Fprintf(&b, "- Run: %s UTC, %s, on commit %s.\n", suiteTime.UTC().Format("2006-01-02 15:04"), outcome(passed), commit())
	fmt.Fprintf(&b, "- Duration: %s.\n", time.Since(suiteTime).Round(time.Second))
	fmt.Fprintf(&b, "- Machine: %s.\n\n", machine())
	b.WriteString(`Columns: *times* is how often the fault was injected; *accepted* counts events answered
202 (or 200 for an id posted again); *delivered* the distinct deliveries of those events
that reached their receiver; *lost* accepted deliveries that never did (asserted 0);
*duplicated* requests beyond the first for one delivery (` + "`webhook-id`" + `), which receivers
deduplicate; *refused* requests turned away during an outage without being accepted (a
refused connection, or a 503 problem with ` + "`Retry-After`" + `; the producer sends them again
with the same event id); *5xx* any other 5xx answer (asserted 0). "–" means not
applicable.

| fault | times | accepted | delivered | lost | duplicated | refused | 5xx |
|---|---:|---:|---:|---:|---:|---:|---:|
`)
	for _, r := range rows {
		name := r.Fault
		if r.Failed {
			name += " **(failed)**"
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", name, r.Times,
			count(r.Accepted), count(r.Delivered), count(r.Lost), count(r.Duplicated), count(r.Refused), count(r.Other5xx))
	}
	b.WriteString("\n## Notes\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "\n### %s\n\n", r.Fault)
		for _, n := range r.Notes {
			if !strings.HasPrefix(n, "  - ") { // a note of its own, not an item of the one before
				n = "- " + n
			}
			fmt.Fprintf(&b, "%s\n", n)
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func count(n int) string {
	if n == notApplicable {
		return "–"
	}
	return strconv.Itoa(n)
}

func outcome(passed bool) string {
	if passed {
		return "every fault passed"
	}
	return "**some faults failed** (see the table)"
}

// commit names the checked-out commit, "+ changes" when the tree differs from it.
func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}

// machine describes the CPU, cores and memory, from /proc where Linux has it.
func machine() string {
	desc := fmt.Sprintf("%s/%s, %d cores", runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	if model := procField("/proc/cpuinfo", "model name"); model != "" {
		desc += " (" + model + ")"
	}
	if mem := procField("/proc/meminfo", "MemTotal"); mem != "" {
		if kb, err := strconv.Atoi(strings.Fields(mem)[0]); err == nil {
			desc += fmt.Sprintf(", %.1f GiB memory", float64(kb)/(1<<20))
		}
	}
	return desc + ", " + runtime.Version()
}

// procField is the value of the first "key: value" line of a /proc file named key.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
