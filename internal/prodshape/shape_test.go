package prodshape_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/hookd/hookd/internal/bench"
	"github.com/hookd/hookd/internal/devenv"
	"github.com/hookd/hookd/internal/prodshape"
	"github.com/hookd/hookd/workflows"
)

// hookdBin is the binary under test, built once by TestMain.
var hookdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hookd-prodshape-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "prodshape:", err)
		os.Exit(1)
	}
	hookdBin, err = devenv.BuildHookd(context.Background(), dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "prodshape:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The stream of TestWorkerKilledMidStream: 20 events a second for 15 s, the first worker
// SIGKILLed 5 s in and started again 5 s later.
const (
	streamRate      = 20
	streamFor       = 15 * time.Second
	killAfter       = 5 * time.Second
	restartAfter    = 10 * time.Second
	deliveredWithin = 3 * time.Minute // after the stream, for every accepted event
	// receiverDelay keeps each request in flight a while, so that the kill cuts some off.
	receiverDelay = 300 * time.Millisecond
)

// TestWorkerKilledMidStream runs the production shape (hookd temporal on PostgreSQL,
// hookd api, two hookd workers), posts a steady stream of events to a loopback receiver
// and SIGKILLs a worker mid-stream: every accepted event is delivered (at least once: the
// duplicates are counted and reported, not failed on), no request gets a 5xx, and hookd
// and Temporal both end with every delivery succeeded.
func TestWorkerKilledMidStream(t *testing.T) {
	shape := startShape(t, 2)
	ctx := t.Context()
	st := newStream(t, shape, "stream", receiverDelay)
	began := time.Now()

	var (
		wg     sync.WaitGroup
		events []string
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-time.After(killAfter):
		case <-ctx.Done():
			return
		}
		if err := shape.KillWorker(0); err != nil {
			t.Error(err)
			return
		}
		events = append(events, fmt.Sprintf("worker-0 SIGKILLed %s into the stream", since(began)))
		select {
		case <-time.After(restartAfter - killAfter):
		case <-ctx.Done():
			return
		}
		if err := shape.StartWorker(ctx, 0); err != nil {
			t.Error(err)
			return
		}
		events = append(events, fmt.Sprintf("started again, ready %s into it", since(began)))
	}()
	load := st.post(ctx, bench.Plan{Events: int(streamRate * streamFor.Seconds()), Rate: streamRate, Concurrency: 32, Within: streamFor + 5*time.Second})
	wg.Wait()

	accepted := st.accepted(load)
	if len(accepted) == 0 {
		t.Fatal("no event was accepted")
	}
	st.waitDelivered(accepted, deliveredWithin)
	r := st.tally(accepted, load)
	t.Logf("prodshape: %s; %s", r, strings.Join(events, ", "))
	if r.serverErrors > 0 || r.transportErrors > 0 {
		t.Errorf("%d answers were 5xx and %d requests got no answer during the stream", r.serverErrors, r.transportErrors)
	}
	if r.lost > 0 {
		t.Errorf("%d accepted events were never delivered", r.lost)
	}
	st.checkSucceeded(len(accepted))
}

// startShape starts the production shape with workers workers in a directory of the
// test's, stopped when the test ends.
func startShape(tb testing.TB, workers int) *prodshape.Shape {
	tb.Helper()
	dir := tb.TempDir()
	// PostgreSQL runs as user postgres when the tests run as root: let it through.
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		tb.Fatal(err)
	}
	shape, err := prodshape.Start(context.Background(), prodshape.Options{
		Binary: hookdBin, Dir: dir, Workers: workers, Logf: tb.Logf,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if !tb.Failed() {
			return
		}
		procs := []*prodshape.Process{shape.Temporal, shape.API}
		for i := range shape.Workers() {
			procs = append(procs, shape.Worker(i))
		}
		for _, p := range procs {
			b, _ := os.ReadFile(p.LogPath())
			tb.Logf("the end of %s's log:\n%s", p.Name(), b[max(0, len(b)-4000):])
		}
	})
	tb.Cleanup(func() {
		if err := shape.Stop(); err != nil {
			tb.Errorf("stop the shape: %v", err)
		}
	})
	return shape
}

// stream posts events of one type to one webhook whose URL is a loopback receiver's.
type stream struct {
	tb        testing.TB
	shape     *prodshape.Shape
	api       *bench.API
	receiver  *bench.Receiver
	name      string
	webhookID string
	since     time.Time
	posts     int // calls of post so far, which number their events apart
}

// newStream makes the event type and the webhook of a stream; its receiver answers each
// request after delay.
func newStream(tb testing.TB, shape *prodshape.Shape, name string, delay time.Duration) *stream {
	tb.Helper()
	rc, err := bench.StartReceiver()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = rc.Close() })
	// The webhook posts to a server in front of the receiver that waits first.
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		rc.ServeHTTP(w, r)
	}))
	tb.Cleanup(front.Close)
	s := &stream{
		tb: tb, shape: shape, api: bench.NewAPI(shape.APIURL, shape.AdminKey, 64),
		receiver: rc, name: name, since: time.Now().Add(-time.Minute),
	}
	ctx := context.Background()
	if err := s.api.CreateEventType(ctx, s.eventType(), "prodshape test "+name); err != nil {
		tb.Fatal(err)
	}
	s.webhookID, err = s.api.CreateWebhook(ctx, bench.WebhookSpec{
		Name: "prodshape " + name, URL: front.URL + strings.TrimPrefix(rc.Open(name, nil), rc.URL),
		Events:     []string{s.eventType()},
		MaxRetries: 10, Timeout: 10,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func (s *stream) eventType() string { return "prodshape." + s.name }

// posted is what one call of post did.
type posted struct {
	bench.Load
	n int // the call of post
}

// post posts events as plan says, each with an id of its own, and returns every call.
func (s *stream) post(ctx context.Context, plan bench.Plan) posted {
	s.posts++
	p := posted{n: s.posts}
	p.Load = bench.Generate(ctx, plan, func(ctx context.Context, i int) bench.Call {
		c := bench.Call{Index: i, Start: time.Now()}
		c.Status, c.Deliveries, c.Err = s.api.PostEvent(ctx, p.eventID(s.name, i), s.eventType(), map[string]any{"n": i})
		c.End = time.Now()
		return c
	})
	return p
}

// eventID is the id of the i-th event of the post of stream name.
func (p posted) eventID(name string, i int) string {
	return name + "-" + strconv.Itoa(p.n) + "-" + strconv.Itoa(i)
}

// accepted are the event ids hookd answered 202.
func (s *stream) accepted(p posted) []string {
	var ids []string
	for _, c := range p.Calls {
		if c.Status == http.StatusAccepted {
			ids = append(ids, p.eventID(s.name, c.Index))
		}
	}
	return ids
}

// waitDelivered waits until the receiver has each of ids, for up to within.
func (s *stream) waitDelivered(ids []string, within time.Duration) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if s.received(ids) == len(ids) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// received counts the ids the receiver has got at least once.
func (s *stream) received(ids []string) int {
	got := map[string]bool{}
	for _, rc := range s.receiver.Receipts(s.name) {
		got[rc.EventID] = true
	}
	n := 0
	for _, id := range ids {
		if got[id] {
			n++
		}
	}
	return n
}

// report is what a stream did.
type report struct {
	posted, accepted, refused, serverErrors, transportErrors int
	delivered, lost                                          int
	requests, duplicates, duplicated                         int // duplicated: events received more than once
}

func (r report) String() string {
	return fmt.Sprintf("posted %d, accepted %d, refused (4xx) %d, 5xx %d, no answer %d; delivered %d, lost %d; "+
		"requests received %d, duplicates %d (%d events received more than once)",
		r.posted, r.accepted, r.refused, r.serverErrors, r.transportErrors,
		r.delivered, r.lost, r.requests, r.duplicates, r.duplicated)
}

// tally counts what the receiver got for the accepted events and the answers to the
// calls of posts.
func (s *stream) tally(accepted []string, posts ...posted) report {
	r := report{accepted: len(accepted)}
	perEvent := map[string]int{}
	for _, rc := range s.receiver.Receipts(s.name) {
		perEvent[rc.EventID]++
		r.requests++
	}
	for _, id := range accepted {
		n := perEvent[id]
		switch {
		case n == 0:
			r.lost++
		case n > 1:
			r.duplicated++
			r.duplicates += n - 1
		}
		if n > 0 {
			r.delivered++
		}
	}
	for _, p := range posts {
		for _, c := range p.Calls {
			r.posted++
			switch {
			case c.Status == 0:
				r.transportErrors++
			case c.Status >= 500:
				r.serverErrors++
			case c.Status >= 400:
				r.refused++
			}
		}
	}
	return r
}

// checkSucceeded checks that hookd counts n deliveries of the stream's webhook, all
// succeeded, and that Temporal has no Delivery workflow left running and n completed.
// Both may trail the receiver by a moment (the attempt's result is recorded after the
// answer), so they are asked until they agree or a minute has passed.
func (s *stream) checkSucceeded(n int) {
	s.tb.Helper()
	c, err := client.Dial(client.Options{HostPort: s.shape.TemporalAddr, Namespace: prodshape.Namespace})
	if err != nil {
		s.tb.Fatalf("dial temporal: %v", err)
	}
	defer c.Close()
	ctx := context.Background()
	var problem string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if problem = s.stats(ctx, n); problem != "" {
			continue
		}
		if problem = countDeliveries(ctx, c, n); problem == "" {
			return
		}
	}
	s.tb.Error(problem)
}

// stats asks hookd for the webhook's delivery counts; "" when n succeeded and no other.
func (s *stream) stats(ctx context.Context, n int) string {
	var out struct {
		Deliveries map[string]int `json:"deliveries"`
	}
	q := url.Values{"webhookId": {s.webhookID}, "since": {s.since.UTC().Format(time.RFC3339)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.api.URL+"/v1/stats?"+q.Encode(), nil)
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+s.api.Key)
	resp, err := s.api.HTTP.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("GET /v1/stats: %s, %v", resp.Status, err)
	}
	if d := out.Deliveries; d["total"] != n || d["succeeded"] != n {
		return fmt.Sprintf("hookd's stats for the stream's webhook: %v, want %d deliveries, all succeeded", d, n)
	}
	return ""
}

// countDeliveries asks Temporal's visibility; "" when no Delivery workflow runs and n
// completed.
func countDeliveries(ctx context.Context, c client.Client, n int) string {
	count := func(status string) (int64, error) {
		resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = '%s'", workflows.DeliveryWorkflow, status),
		})
		return resp.GetCount(), err
	}
	running, err1 := count("Running")
	completed, err2 := count("Completed")
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Sprintf("count Delivery workflows: %v", err)
	}
	if running != 0 || completed != int64(n) {
		return fmt.Sprintf("Temporal: %d Delivery workflows running and %d completed, want 0 and %d", running, completed, n)
	}
	return ""
}

func since(t time.Time) time.Duration { return time.Since(t).Round(100 * time.Millisecond) }
