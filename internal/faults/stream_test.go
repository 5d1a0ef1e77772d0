//go:build faults

package faults

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"
)

// Bounds of a stream: how many events at most, how often one is posted, and how many
// times one event is sent before the producer gives up on it.
const (
	streamMaxEvents = 3000
	streamEvery     = 50 * time.Millisecond
	streamTries     = 600
	streamBackoff   = 250 * time.Millisecond
)

// stream posts events of one type with ids of its own, one every streamEvery, the way a
// producer does: an event not accepted (refused connection, 503, 429) is sent again with
// the same id until it is.
type stream struct {
	e      *env
	key    string
	typ    string
	stop   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	events map[string][]string // accepted event id → its delivery ids
	// refused counts requests turned away without being accepted; other5xx every
	// other 5xx; unexpected keeps answers no producer should get (a 4xx).
	refused, other5xx int
	noRetryAfter      int // 503s without Retry-After, among the refused
	samples5xx        []string
	unexpected        []string
}

func (e *env) startStream(key, typ string) *stream {
	s := &stream{e: e, key: key, typ: typ, stop: make(chan struct{}), done: make(chan struct{}), events: map[string][]string{}}
	go s.run()
	return s
}

func (s *stream) run() {
	defer close(s.done)
	for i := 0; i < streamMaxEvents; i++ {
		body, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("%s-%05d", s.typ, i), "type": s.typ, "data": map[string]any{"n": i}})
		for try := 0; ; try++ {
			if try == streamTries {
				s.mu.Lock()
				s.unexpected = append(s.unexpected, fmt.Sprintf("event %d not accepted after %d tries", i, try))
				s.mu.Unlock()
				return
			}
			if s.post(body) {
				break
			}
			select {
			case <-s.stop:
				return
			case <-time.After(streamBackoff):
			}
		}
		select {
		case <-s.stop:
			return
		case <-time.After(streamEvery):
		}
	}
}

// post sends one event and reports whether it was accepted.
func (s *stream) post(body []byte) bool {
	a, err := s.e.send(http.MethodPost, "/v1/events", s.key, body, nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil:
		s.refused++
		return false
	case a.status == http.StatusAccepted || a.status == http.StatusOK:
		var v struct {
			ID         string `json:"id"`
			Deliveries []struct {
				ID string `json:"id"`
			} `json:"deliveries"`
		}
		if err := json.Unmarshal(a.body, &v); err != nil || v.ID == "" {
			s.unexpected = append(s.unexpected, "accepted with an unreadable body: "+a.String())
			return true
		}
		ids := make([]string, 0, len(v.Deliveries))
		for _, d := range v.Deliveries {
			ids = append(ids, d.ID)
		}
		s.events[v.ID] = ids
		return true
	case (a.status == http.StatusServiceUnavailable || a.status == http.StatusTooManyRequests) && a.isProblem():
		s.refused++
		if a.header.Get("Retry-After") == "" {
			s.noRetryAfter++
		}
		return false
	case a.status >= 500:
		s.other5xx++
		if len(s.samples5xx) < 3 {
			s.samples5xx = append(s.samples5xx, a.String())
		}
		return false
	default:
		s.unexpected = append(s.unexpected, a.String())
		return true
	}
}

// finish stops the stream and returns its accepted deliveries, sorted.
func (s *stream) finish() []string {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, ds := range s.events {
		ids = append(ids, ds...)
	}
	sort.Strings(ids)
	return ids
}

// settle waits (at most within) until rc has received every delivery of ids, then fills
// r's counts from the stream and the receiver and asserts that nothing was lost, that no
// unexplained 5xx came back and that the producer met no unexpected answer.
func (s *stream) settle(t *testing.T, r *row, rc *receiver, ids []string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	delivered, duplicated, missing := rc.tally(ids)
	for len(missing) > 0 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		delivered, duplicated, missing = rc.tally(ids)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Accepted, r.Delivered, r.Lost, r.Duplicated = len(s.events), delivered, len(missing), duplicated
	r.Refused, r.Other5xx = s.refused, s.other5xx
	if s.noRetryAfter > 0 {
		r.note("%d of the refusals were a 503 without Retry-After.", s.noRetryAfter)
	}
	if len(missing) > 0 {
		r.Failed = true
		t.Errorf("%d accepted deliveries never reached the receiver within %v (of %d), e.g. %s", len(missing), within, len(ids), missing[0])
	}
	if s.other5xx > 0 {
		r.Failed = true
		t.Errorf("%d unexplained 5xx answers to POST /v1/events, e.g. %q", s.other5xx, s.samples5xx)
	}
	if len(s.unexpected) > 0 {
		r.Failed = true
		t.Errorf("%d unexpected answers to POST /v1/events, e.g. %q", len(s.unexpected), s.unexpected[0])
	}
	if len(s.events) == 0 {
		r.Failed = true
		t.Errorf("no event was accepted")
	}
}
