package bench

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/devenv"
)

// TestServeShape runs the benchmark's serve shape end to end with small counts, against
// real processes (a private PostgreSQL, `hookd temporal` on SQLite, `hookd serve`): the
// report says the shape, the max-rate scenario delivers every event, and the CPU of
// hookd serve, of the Temporal server and of PostgreSQL are each measured and nonzero.
// Afterwards no process of the shape is left and its directory is gone.
func TestServeShape(t *testing.T) {
	bin, err := devenv.BuildHookd(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var progress syncBuffer
	var out strings.Builder
	err = Run(t.Context(), Config{
		Scenarios:        []string{ScenarioMax},
		Sizes:            Sizes{Events: 200, Duration: time.Second, Concurrency: 16, Backlog: 10, BacklogHold: time.Second},
		CeilingWorkflows: 10,
		Wait:             30 * time.Second,
		SampleEvery:      100 * time.Millisecond,
		Launch:           Launch{Binary: bin, Shape: ShapeServe},
		Namespace:        "default",
		Log:              &progress,
	}, &out)
	report := out.String()
	t.Logf("progress:\n%s\nreport:\n%s", progress.String(), report)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}

	if !strings.Contains(report, "\n- shape: serve\n") {
		t.Errorf("the report's header does not say the shape")
	}
	row := tableRow(t, report, ScenarioMax)
	number := func(col string) float64 {
		t.Helper()
		v, err := strconv.ParseFloat(strings.TrimSuffix(row[col], "*"), 64)
		if err != nil {
			t.Fatalf("column %q: %q is not a number", col, row[col])
		}
		return v
	}
	if d := number("deliveries"); d != 200 {
		t.Errorf("deliveries = %v, want 200", d)
	}
	if l := number("lost"); l != 0 {
		t.Errorf("lost = %v, want 0", l)
	}
	for _, col := range []string{"hookd CPU s", "Temporal CPU s", "PG CPU s", "bench CPU s", "CPU ms/delivery",
		"hookd peak RSS MiB", "Temporal peak RSS MiB", "PG peak PSS MiB"} {
		if v := number(col); v <= 0 {
			t.Errorf("%s = %v, want more than 0", col, v)
		}
	}
	if strings.HasSuffix(row["CPU ms/delivery"], "*") {
		t.Errorf("CPU ms/delivery %s is starred: a process was not measured", row["CPU ms/delivery"])
	}

	// Everything started is stopped and removed.
	m := regexp.MustCompile(`hookd ready in \S+ \(pid (\d+), (\S+)\)`).FindStringSubmatch(progress.String())
	if m == nil {
		t.Fatal("no 'hookd ready' line in the progress messages")
	}
	dir := m[2]
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the shape's directory %s is still there (stat: %v)", dir, err)
	}
	if left := processesMentioning(dir); len(left) > 0 {
		t.Errorf("processes of the shape still running: %s", strings.Join(left, "; "))
	}
}

// tableRow is the report table's row of scenario, by column name.
func tableRow(t *testing.T, report, scenario string) map[string]string {
	t.Helper()
	var header []string
	for line := range strings.SplitSeq(report, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if header == nil {
			header = cells
			continue
		}
		if cells[0] != scenario {
			continue
		}
		if len(cells) != len(header) {
			t.Fatalf("row of %s has %d cells, the header %d", scenario, len(cells), len(header))
		}
		row := map[string]string{}
		for i, h := range header {
			row[h] = cells[i]
		}
		return row
	}
	t.Fatalf("no row for %s in the report", scenario)
	return nil
}

// processesMentioning lists the processes whose command line or environment names dir
// (PostgreSQL's -D, the hookd processes' HOOKD_ADDR_FILE).
func processesMentioning(dir string) []string {
	var out []string
	paths, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range paths {
		for _, f := range []string{"cmdline", "environ"} {
			b, err := os.ReadFile(filepath.Join(p, f))
			if err == nil && strings.Contains(string(b), dir) {
				out = append(out, filepath.Base(p)+": "+strings.ReplaceAll(string(b[:min(len(b), 120)]), "\x00", " "))
				break
			}
		}
	}
	return out
}

// syncBuffer is a strings.Builder safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
