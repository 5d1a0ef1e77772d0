package bench

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// columns of the report's table; BENCHMARKS.md explains each. temporalColumns follow
// hookd's when Temporal runs in a process of its own (the serve shape).
var (
	columns = []string{
		"scenario", "events", "deliveries", "accepted/s", "delivered/s",
		"p50 ms", "p95 ms", "p99 ms", "max ms", "API p50 ms", "API p99 ms",
		"hookd CPU s", "hookd peak RSS MiB", "PG CPU s", "PG peak PSS MiB", "bench CPU s", "bench peak RSS MiB",
		"CPU ms/delivery", "lost", "dup",
	}
	temporalColumns = []string{"Temporal CPU s", "Temporal peak RSS MiB"}
)

// tableColumns are the report's columns for results: with temporalColumns when any of
// them measured a separate Temporal process.
func tableColumns(results []Result) []string {
	if !anyTemporal(results) {
		return columns
	}
	i := slices.Index(columns, "hookd peak RSS MiB") + 1
	return slices.Concat(columns[:i], temporalColumns, columns[i:])
}

func anyTemporal(results []Result) bool {
	for _, r := range results {
		if _, ok := r.usage("temporal"); ok {
			return true
		}
	}
	return false
}

// Render formats the report: a header, the table, the ceiling ratio, notes, the
// scenarios' descriptions and a FAIL line per scenario that lost deliveries.
func Render(env Env, results []Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## hookd bench, %s\n\n", env.Date.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- machine: %d cores (runtime.NumCPU), %s, %s\n", env.Cores, orDash(env.CPU), env.Platform)
	fmt.Fprintf(&b, "- go: %s, revision: %s\n", env.Go, env.Revision)
	if env.Shape != "" {
		fmt.Fprintf(&b, "- shape: %s\n", env.Shape)
	}
	fmt.Fprintf(&b, "- hookd: %s\n", env.Target)
	if len(env.ExtraEnv) > 0 {
		fmt.Fprintf(&b, "- extra env: `%s`\n", strings.Join(env.ExtraEnv, " "))
	}
	if env.Warmup > 0 {
		fmt.Fprintf(&b, "- warm-up: %d events delivered before the first scenario, not reported\n", env.Warmup)
	}
	if env.Command != "" {
		fmt.Fprintf(&b, "- command: `%s`\n", env.Command)
	}
	cols, temporal := tableColumns(results), anyTemporal(results)
	b.WriteString("\n| " + strings.Join(cols, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat("---:|", len(cols)) + "\n")
	for _, r := range results {
		b.WriteString("| " + strings.Join(r.cells(temporal), " | ") + " |\n")
	}
	b.WriteString("\n")

	byName := map[string]Result{}
	for _, r := range results {
		byName[r.Scenario] = r
	}
	if c, ok := byName[ScenarioCeiling]; ok && c.Skipped == "" && c.Throughput > 0 {
		fmt.Fprintf(&b, "Engine ceiling: %.1f empty workflows/s completed by the same Temporal server.", c.Throughput)
		if m, ok := byName[ScenarioMax]; ok && m.Skipped == "" {
			fmt.Fprintf(&b, " Max-rate delivered/s ÷ ceiling = %.1f / %.1f = **%.0f%%**.", m.Throughput, c.Throughput, 100*m.Throughput/c.Throughput)
		}
		b.WriteString("\n\n")
	}
	var notes []string
	for _, r := range results {
		for _, n := range r.notes() {
			notes = append(notes, fmt.Sprintf("- `%s`: %s", r.Scenario, n))
		}
	}
	if len(notes) > 0 {
		b.WriteString("Notes:\n" + strings.Join(notes, "\n") + "\n\n")
	}
	b.WriteString("Scenarios:\n")
	for _, r := range results {
		fmt.Fprintf(&b, "- `%s`: %s\n", r.Scenario, r.Description)
	}
	for _, r := range results {
		switch {
		case r.Lost > 0 && r.Scenario == ScenarioCeiling:
			fmt.Fprintf(&b, "\nFAIL: %s: %d of %d workflows started never completed\n", r.Scenario, r.Lost, r.Expected)
		case r.Lost > 0:
			fmt.Fprintf(&b, "\nFAIL: %s lost %d of %d deliveries (expected, never received)\n", r.Scenario, r.Lost, r.Expected)
		}
	}
	return b.String()
}

// usage is the figures of the target named name, if the result has them.
func (r Result) usage(name string) (TargetStats, bool) {
	for _, u := range r.Usage {
		if u.Name == name {
			return u, true
		}
	}
	return TargetStats{}, false
}

// cells is r's row; temporal adds the separate Temporal process's columns.
func (r Result) cells(temporal bool) []string {
	n := len(columns)
	if temporal {
		n += len(temporalColumns)
	}
	if r.Skipped != "" {
		out := []string{r.Scenario, "skipped"}
		for len(out) < n {
			out = append(out, "–")
		}
		return out
	}
	h, _ := r.usage("hookd")
	pg, _ := r.usage("postgres")
	self, _ := r.usage("bench")
	out := []string{
		r.Scenario,
		fmt.Sprint(r.Events),
		fmt.Sprint(r.Delivered),
		fmt.Sprintf("%.1f", r.Accepted),
		fmt.Sprintf("%.1f", r.Throughput),
		millis(r.Latency.P50), millis(r.Latency.P95), millis(r.Latency.P99), millis(r.Latency.Max),
		millis(r.APILatency.P50), millis(r.APILatency.P99),
		seconds(h), mib(h.PeakMem, h.OK),
	}
	if temporal {
		tp, _ := r.usage("temporal")
		out = append(out, seconds(tp), mib(tp.PeakMem, tp.OK))
	}
	return append(out,
		seconds(pg), mib(pg.PeakMem, pg.OK), seconds(self), mib(self.PeakMem, self.OK),
		r.cpuPerDelivery(),
		fmt.Sprint(r.Lost),
		fmt.Sprint(r.Duplicated),
	)
}

// cpuPerDelivery is the CPU ms per delivery, starred when a process could not be
// measured and so is missing from the sum.
func (r Result) cpuPerDelivery() string {
	v := fmt.Sprintf("%.2f", float64(r.CPUPerDelivery)/float64(time.Millisecond))
	if !r.allMeasured() {
		v += "*"
	}
	return v
}

func (r Result) allMeasured() bool {
	for _, u := range r.Usage {
		if !u.OK {
			return false
		}
	}
	return true
}

func (r Result) notes() []string {
	var out []string
	if r.Skipped == "" && !r.allMeasured() {
		out = append(out, "* CPU ms/delivery sums only the processes measured (– in the table: not found)")
	}
	if r.Skipped != "" {
		out = append(out, "skipped: "+r.Skipped)
	}
	if r.APIErrors > 0 {
		out = append(out, fmt.Sprintf("%d requests got no 2xx answer", r.APIErrors))
	}
	if r.Unexpected > 0 {
		out = append(out, fmt.Sprintf("%d deliveries received that no accepted event accounts for", r.Unexpected))
	}
	if r.Mismatched > 0 {
		out = append(out, fmt.Sprintf("%d deliveries carried another eventId than the API announced", r.Mismatched))
	}
	if r.Lag > 100*time.Millisecond {
		out = append(out, fmt.Sprintf("the fixed schedule slipped by up to %s (too many requests in flight)", r.Lag.Round(time.Millisecond)))
	}
	return append(out, r.Notes...)
}

// brief is a one-line summary for progress messages.
func (r Result) brief() string {
	if r.Skipped != "" {
		return "skipped: " + r.Skipped
	}
	verb := "delivered"
	if r.Scenario == ScenarioCeiling {
		verb = "completed"
	}
	return fmt.Sprintf("%d/%d %s, %.1f/s, p50 %s ms, p99 %s ms, lost %d, dup %d",
		r.Delivered, r.Expected, verb, r.Throughput, millis(r.Latency.P50), millis(r.Latency.P99), r.Lost, r.Duplicated)
}

func millis(d time.Duration) string {
	return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond))
}

func seconds(t TargetStats) string {
	if !t.OK {
		return "–"
	}
	return fmt.Sprintf("%.1f", t.CPU.Seconds())
}

func mib(bytes int64, ok bool) string {
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.0f", float64(bytes)/(1<<20))
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
