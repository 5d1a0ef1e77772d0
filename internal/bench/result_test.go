package bench

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestEvaluate(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	sc := Scenario{Name: "max", IDPrefix: "max-r1"}
	load := Load{Calls: []Call{
		{Index: 0, Start: at(0), End: at(10), Status: 202, Deliveries: []string{"d0"}},
		{Index: 1, Start: at(100), End: at(120), Status: 202, Deliveries: []string{"d1"}},
		{Index: 2, Start: at(200), End: at(230), Status: 202, Deliveries: []string{"d2"}},
		{Index: 3, Start: at(300), End: at(1000), Status: 503},
		{Index: 4, Start: at(400), End: at(1000), Status: 202, Deliveries: []string{"d4"}},
	}}
	ok, fail := http.StatusOK, http.StatusServiceUnavailable
	receipts := []Receipt{
		{At: at(50), DeliveryID: "d0", EventID: "max-r1-000000", Attempt: 1, Status: ok},
		{At: at(150), DeliveryID: "d1", EventID: "max-r1-000001", Attempt: 1, Status: fail},
		{At: at(1150), DeliveryID: "d1", EventID: "max-r1-000001", Attempt: 2, Status: ok},
		{At: at(1200), DeliveryID: "d0", EventID: "max-r1-000000", Attempt: 2, Status: ok}, // a duplicate
		{At: at(1300), DeliveryID: "dX", EventID: "max-r1-000003", Attempt: 1, Status: ok}, // unexpected
		{At: at(2000), DeliveryID: "d4", EventID: "max-r1-000009", Attempt: 1, Status: ok}, // wrong event
		// d2 never arrives: lost.
	}
	r := Evaluate(sc, load, receipts, false)
	check := func(name string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("Events", r.Events, 4)
	check("APIErrors", r.APIErrors, 1)
	check("Expected", r.Expected, 4)
	check("Delivered", r.Delivered, 3)
	check("Lost", r.Lost, 1)
	check("Duplicated", r.Duplicated, 1)
	check("Unexpected", r.Unexpected, 1)
	check("Mismatched", r.Mismatched, 1)
	// 4 accepted between the first send (0) and the last answer (1000ms).
	check("Accepted", r.Accepted, 4.0)
	// 3 delivered between the first send (0) and the last first receipt (2000ms).
	check("Throughput", r.Throughput, 1.5)
	// latencies: d0 50ms, d1 1050ms (its first success), d4 1600ms.
	check("Latency", r.Latency, Summary{N: 3, P50: 1050 * time.Millisecond, P95: 1600 * time.Millisecond, P99: 1600 * time.Millisecond, Max: 1600 * time.Millisecond})
	check("APILatency.P50", r.APILatency.P50, 20*time.Millisecond)

	// Counting first attempts (the backlog): d1's failed first request is its receipt.
	r = Evaluate(sc, load, receipts, true)
	check("first-attempt Delivered", r.Delivered, 3)
	check("first-attempt Duplicated", r.Duplicated, 0)
	check("first-attempt Latency.P50", r.Latency.P50, 50*time.Millisecond)
}

func TestAddUsage(t *testing.T) {
	t.Parallel()
	r := Result{Delivered: 100}
	r.addUsage([]TargetStats{{Name: "hookd", CPU: 800 * time.Millisecond}, {Name: "postgres", CPU: 150 * time.Millisecond}, {Name: "bench", CPU: 50 * time.Millisecond}})
	if r.CPUPerDelivery != 10*time.Millisecond {
		t.Errorf("CPUPerDelivery = %v, want 10ms (1s over 100 deliveries)", r.CPUPerDelivery)
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	env := Env{Date: time.Date(2025, 1, 31, 9, 0, 0, 0, time.UTC), Cores: 2, Go: "go1.26.8", Revision: "abc", Target: "x"}
	rows := []Result{
		{Scenario: ScenarioMax, Events: 10, Expected: 10, Delivered: 9, Throughput: 300, Lost: 1, Description: "ten"},
		{Scenario: ScenarioCeiling, Events: 10, Expected: 10, Delivered: 10, Throughput: 400},
		{Scenario: ScenarioBacklog, Skipped: "no"},
	}
	out := Render(env, rows)
	var widths []int
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "|") {
			widths = append(widths, strings.Count(line, "|"))
		}
	}
	if len(widths) != 2+len(rows) {
		t.Fatalf("%d table lines, want %d:\n%s", len(widths), 2+len(rows), out)
	}
	for _, w := range widths {
		if w != len(columns)+1 {
			t.Errorf("a table line has %d cells, want %d:\n%s", w-1, len(columns), out)
		}
	}
	for _, want := range []string{"2 cores", "go1.26.8", "= **75%**", "FAIL: max lost 1 of 10", "skipped: no"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestParseEager(t *testing.T) {
	t.Parallel()
	tests := []struct {
		flag string
		env  []string
		want bool
	}{
		{"auto", nil, true},
		{"auto", []string{"HOOKD_EAGER_START=false"}, false},
		{"auto", []string{"HOOKD_EAGER_START=false", "HOOKD_EAGER_START=1"}, true},
		{"auto", []string{"HOOKD_EAGER_START="}, true},
		{"false", nil, false},
		{"true", []string{"HOOKD_EAGER_START=false"}, true},
	}
	for _, tt := range tests {
		if got, err := ParseEager(tt.flag, tt.env); err != nil || got != tt.want {
			t.Errorf("ParseEager(%q, %v) = %v, %v; want %v", tt.flag, tt.env, got, err, tt.want)
		}
	}
	if _, err := ParseEager("sometimes", nil); err == nil {
		t.Error("ParseEager(sometimes) succeeded")
	}
	if _, err := ParseEager("auto", []string{"HOOKD_EAGER_START=nope"}); err == nil {
		t.Error("ParseEager(auto) with HOOKD_EAGER_START=nope succeeded; hookd refuses that value")
	}
}

func TestFailFirstOfEvery(t *testing.T) {
	t.Parallel()
	answer := failFirstOfEvery(5)
	failed := 0
	for i := range 100 {
		if answer("d", 1) != http.StatusOK {
			failed++
		}
		if got := answer("d", 2); got != http.StatusOK {
			t.Fatalf("delivery %d: second attempt answered %d", i, got)
		}
	}
	if failed != 20 {
		t.Errorf("%d of 100 first attempts failed, want 20", failed)
	}
}

func TestPick(t *testing.T) {
	t.Parallel()
	got, err := pick([]string{"backlog", "max"})
	if err != nil || strings.Join(got, ",") != "max,backlog" {
		t.Errorf("pick = %v, %v; want max,backlog in run order", got, err)
	}
	if _, err := pick([]string{"nope"}); err == nil {
		t.Error("pick(nope) succeeded")
	}
}
