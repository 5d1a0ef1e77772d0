package dispatch_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/store"
)

// stuckEngine holds the first Schedule call until release is closed, as an engine
// starting workflows slower than they are offered would; later calls pass through.
type stuckEngine struct {
	*engine
	first   chan struct{} // one token: the call that takes it gets stuck
	stuck   chan struct{} // receives when that call is stuck
	release chan struct{}
}

// stuckService is a fixture with a service of options o over a stuckEngine.
func stuckService(t *testing.T, o dispatch.Options) (*fixture, *stuckEngine, *dispatch.Service) {
	t.Helper()
	f := newFixture(t)
	eng := &stuckEngine{engine: &engine{}, first: make(chan struct{}, 1), stuck: make(chan struct{}), release: make(chan struct{})}
	eng.first <- struct{}{}
	return f, eng, dispatch.New(f.st, eng, o)
}

func (s *stuckEngine) Schedule(ctx context.Context, ds []store.Delivery) error {
	select {
	case <-s.first:
		s.stuck <- struct{}{}
		<-s.release
	default:
	}
	return s.engine.Schedule(ctx, ds)
}

// publishStuck publishes event id on svc in the background and returns once its
// workflow start is stuck in eng; the channel yields the publish's error when released.
func (f *fixture) publishStuck(svc *dispatch.Service, eng *stuckEngine, id string) <-chan error {
	done := make(chan error, 1)
	go func() {
		res, err := svc.Publish(context.Background(), f.event(id), nil)
		if err == nil && !res.Created {
			err = errors.New("the stuck event was not created")
		}
		done <- err
	}()
	<-eng.stuck
	return done
}

func (f *fixture) event(id string) store.Event {
	return store.Event{OrgID: f.org, ID: id, Type: "order.created", Timestamp: time.Now(), Data: []byte(`{"orderId":"o-1"}`)}
}

func (f *fixture) countEvents(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.st.Pool().QueryRow(context.Background(), "SELECT count(*) FROM events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// With its one publish slot taken by a publish the engine is slow to start, a service
// refuses new events and pings with ErrOverloaded, storing nothing; answers a repeat of
// the stuck event from the store; and still reconciles, which must never be refused (it
// starts deliveries already accepted). Once the engine lets go, publishing works again.
func TestPublishPastTheInFlightBoundIsRefusedAndStoresNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The clock runs ahead so the reconciler sees the stuck delivery as old enough.
	f, eng, svc := stuckService(t, dispatch.Options{MaxInFlight: 1, QueueWait: 0,
		Now: func() time.Time { return time.Now().Add(time.Minute) }})

	done := f.publishStuck(svc, eng, "stuck-1")
	before := f.countEvents(t)

	if _, err := svc.Publish(ctx, f.event("refused-1"), nil); !errors.Is(err, dispatch.ErrOverloaded) {
		t.Fatalf("publish past the bound: %v, want ErrOverloaded", err)
	}
	if _, _, err := svc.Ping(ctx, f.org, f.hook.ID); !errors.Is(err, dispatch.ErrOverloaded) {
		t.Fatalf("ping past the bound: %v, want ErrOverloaded", err)
	}
	if after := f.countEvents(t); after != before {
		t.Fatalf("events: %d rows, was %d: a refused publish stored something", after, before)
	}
	if _, _, err := f.st.GetEvent(ctx, f.org, "refused-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused event: %v, want not found", err)
	}

	// Validation still answers first: a 422 is more use than a 429.
	bad := f.event("bad-1")
	bad.Data = []byte(`{"orderId":7}`)
	if _, err := svc.Publish(ctx, bad, nil); !slices.Equal(fields(err), []string{"data.orderId"}) {
		t.Fatalf("invalid event past the bound: %v, want the field error", err)
	}

	// The stuck event is committed: its repeat is answered, and creates nothing.
	repeat, err := svc.Publish(ctx, f.event("stuck-1"), nil)
	if err != nil || repeat.Created || len(repeat.Deliveries) != 1 || repeat.Event.ID != "stuck-1" {
		t.Fatalf("repeat past the bound: %+v, %v; want the stored event, not created", repeat, err)
	}

	// The reconciler takes no slot: it starts the stuck delivery while the slot is held.
	n, err := svc.Reconcile(ctx)
	if err != nil || n != 1 {
		t.Fatalf("reconcile past the bound: %d started, %v; want 1", n, err)
	}
	if started, _, _ := eng.calls(); !slices.Equal(started, []string{repeat.Deliveries[0].ID}) {
		t.Fatalf("started %v, want the stuck delivery %s", started, repeat.Deliveries[0].ID)
	}

	close(eng.release)
	if err := <-done; err != nil {
		t.Fatalf("stuck publish: %v", err)
	}
	if _, err := svc.Publish(ctx, f.event("after-1"), nil); err != nil {
		t.Fatalf("publish once the slot is free: %v", err)
	}
	if _, _, err := svc.Ping(ctx, f.org, f.hook.ID); err != nil {
		t.Fatalf("ping once the slot is free: %v", err)
	}
}

// A publish that finds the slots taken waits for one up to QueueWait: one freed in that
// time lets it through.
func TestPublishWaitsForASlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, eng, svc := stuckService(t, dispatch.Options{MaxInFlight: 1, QueueWait: time.Hour})

	first := f.publishStuck(svc, eng, "first")
	second := make(chan error, 1)
	go func() {
		_, err := svc.Publish(ctx, f.event("second"), nil)
		second <- err
	}()
	// Most likely the second is waiting for the slot by now; if not, it takes it free.
	// Either way it must not be refused.
	time.Sleep(20 * time.Millisecond)
	close(eng.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatalf("publish that waited for the slot: %v", err)
	}
	if n := f.countEvents(t); n != 2 {
		t.Fatalf("%d events stored, want 2", n)
	}
}

// MaxInFlight 0 is no bound: publishes go through while another is stuck on the engine.
func TestPublishWithoutABound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, eng, svc := stuckService(t, dispatch.Options{})
	done := f.publishStuck(svc, eng, "stuck")
	for _, id := range []string{"a", "b", "c"} {
		if _, err := svc.Publish(ctx, f.event(id), nil); err != nil {
			t.Fatalf("publish %s with no bound: %v", id, err)
		}
	}
	close(eng.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
