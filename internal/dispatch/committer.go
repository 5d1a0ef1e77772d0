package dispatch

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/internal/store"
)

// Group commit bounds: a group holds at most groupSize events, and at most groupRunners
// groups are being stored at once. groupTimeout bounds one group's transaction (a group
// is no caller's: it outlives one that hangs up).
const (
	groupSize    = 32
	groupRunners = 2
	groupTimeout = 30 * time.Second
)

// committer coalesces concurrent publishes into group transactions
// (store.IngestEvents). A publish queues its event; when fewer than groupRunners groups
// are running, a runner starts at once with everything queued (up to groupSize), so a
// lone event is never delayed; events that arrive while the runners are busy wait for
// the next group, which takes them all. Each caller gets its own event's outcome once
// the group's transaction has committed (or its event alone failed).
type committer struct {
	st Store

	mu      sync.Mutex
	queue   []*groupItem
	running int
}

// groupItem is one queued event and, once done is closed, its outcome.
type groupItem struct {
	ev    store.CheckedEvent
	state atomic.Int32 // itemQueued, itemTaken or itemAbandoned
	out   store.IngestOutcome
	done  chan struct{}
}

const (
	itemQueued int32 = iota
	itemTaken
	itemAbandoned
)

// ingest stores ev with its check through a group and returns its outcome. If ctx ends
// before a group takes the event, nothing is stored and ctx's error is returned; once
// taken, the event's outcome is awaited (it is stored or refused whatever the caller
// does, as a transaction that has sent its commit is).
func (c *committer) ingest(ctx context.Context, ev store.Event, check store.TypeCheck) (store.IngestResult, error) {
	it := &groupItem{ev: store.CheckedEvent{Event: ev, Check: check}, done: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, it)
	lead := c.running < groupRunners
	if lead {
		c.running++
	}
	c.mu.Unlock()
	if lead {
		go c.run(context.WithoutCancel(ctx))
	}
	select {
	case <-it.done:
	case <-ctx.Done():
		if it.state.CompareAndSwap(itemQueued, itemAbandoned) {
			return store.IngestResult{}, ctx.Err()
		}
		<-it.done
	}
	return it.out.Result, it.out.Err
}

// run stores groups until the queue is empty.
func (c *committer) run(base context.Context) {
	for {
		c.mu.Lock()
		var group []*groupItem
		for len(c.queue) > 0 && len(group) < groupSize {
			it := c.queue[0]
			c.queue[0] = nil
			c.queue = c.queue[1:]
			if it.state.CompareAndSwap(itemQueued, itemTaken) {
				group = append(group, it)
			}
		}
		if len(group) == 0 {
			c.running--
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		c.store(base, group)
	}
}

// store runs one group's transaction and hands each item its outcome.
func (c *committer) store(base context.Context, group []*groupItem) {
	evs := make([]store.CheckedEvent, len(group))
	for i, it := range group {
		evs[i] = it.ev
	}
	ctx, cancel := context.WithTimeout(base, groupTimeout)
	defer cancel()
	outs := make([]store.IngestOutcome, len(group))
	defer func() {
		// A panic (a check's, say) answers every caller of the group with an error
		// instead of taking the process down from this goroutine or leaving them waiting.
		if p := recover(); p != nil {
			for i := range outs {
				outs[i] = store.IngestOutcome{Err: fmt.Errorf("store events: panic: %v", p)}
			}
		}
		for i, it := range group {
			it.out = outs[i]
			close(it.done)
		}
	}()
	copy(outs, c.st.IngestEvents(ctx, evs))
}
