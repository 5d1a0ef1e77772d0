package prodshape_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/bench"
	"github.com/hookd/hookd/internal/devenv"
	"github.com/hookd/hookd/internal/prodshape"
)

// The load of BenchmarkScaling: scalingEvents events posted as fast as scalingConcurrency
// requests in flight allow (hookd bench's max scenario), after scalingWarmup delivered
// ones.
const (
	scalingEvents      = 2000
	scalingConcurrency = 32
	scalingWarmup      = 100
)

// BenchmarkScaling measures the production shape's deliveries per second with one worker
// and with two, and the CPU time each process spent per delivery, for the README's
// "Scaling":
//
//	go test -run XXX -bench Scaling -benchtime 1x ./internal/prodshape
//
// Each sub-benchmark starts its own shape and measures once, whatever b.N.
func BenchmarkScaling(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			shape := startShape(b, workers)
			st := newStream(b, shape, "max", 0)
			ctx := context.Background()
			warm := st.post(ctx, bench.Plan{Events: scalingWarmup, Concurrency: scalingConcurrency, Within: time.Minute})
			st.waitDelivered(st.accepted(warm), time.Minute)

			sampler := bench.NewSampler(shapeTargets(shape)...)
			window := sampler.Begin()
			b.ResetTimer()
			load := st.post(ctx, bench.Plan{Events: scalingEvents, Concurrency: scalingConcurrency, Within: 5 * time.Minute})
			accepted := st.accepted(load)
			st.waitDelivered(accepted, 3*time.Minute)
			b.StopTimer()
			usage := window.End()

			first := load.Calls[0].Start
			var last time.Time
			for _, rc := range st.receiver.Receipts(st.name) {
				if rc.At.After(last) {
					last = rc.At
				}
			}
			r := st.tally(accepted, load)
			elapsed := last.Sub(first)
			rate := float64(r.delivered) / elapsed.Seconds()
			b.ReportMetric(rate, "deliveries/s")
			// CPU per delivery varies far less than deliveries per second on a shared
			// machine: a busy neighbour slows the run but does not change the work.
			var cpu []string
			for _, u := range usage {
				perDelivery := float64(u.CPU.Microseconds()) / 1000 / float64(r.delivered)
				b.ReportMetric(perDelivery, u.Name+"-cpu-ms/delivery")
				cpu = append(cpu, fmt.Sprintf("%s %.2f cores, %.1f ms a delivery", u.Name, u.CPU.Seconds()/elapsed.Seconds(), perDelivery))
			}
			loadavg, _ := os.ReadFile("/proc/loadavg")
			b.Logf("prodshape scaling: %d worker(s): %.0f deliveries/s over %s; CPU: %s; %s; load average %s",
				workers, rate, elapsed.Round(time.Millisecond), strings.Join(cpu, "; "), r, strings.TrimSpace(string(loadavg)))
			if r.lost > 0 {
				b.Errorf("%d accepted events were never delivered", r.lost)
			}
		})
	}
}

// shapeTargets are the shape's processes for a sampler: PostgreSQL with its backends,
// hookd temporal, hookd api and each worker.
func shapeTargets(shape *prodshape.Shape) []bench.Target {
	pid := func(p *prodshape.Process) func() (int, error) {
		return func() (int, error) { return p.PID(), nil }
	}
	targets := []bench.Target{
		{Name: "postgres", Tree: true, PID: func() (int, error) { return devenv.PostmasterPID(shape.Postgres.DataDir()) }},
		{Name: "temporal", PID: pid(shape.Temporal)},
		{Name: "api", PID: pid(shape.API)},
	}
	for i := range shape.Workers() {
		w := shape.Worker(i)
		targets = append(targets, bench.Target{Name: w.Name(), PID: pid(w)})
	}
	return targets
}
