package bench

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxBody is how much of a request the receiver reads: a batch is at most about 1 MiB of
// event data (store.MaxBatchBytes) plus its framing.
const maxBody = 4 << 20

// Receipt is one request the receiver got, or one event of a batch it got.
type Receipt struct {
	At         time.Time
	DeliveryID string // the webhook-id header (a batch's id for a batched event)
	EventID    string // eventId in the body, or the event's id in a batch
	Attempt    int    // 1 for the first request of this delivery id, and so on
	Status     int    // what the receiver answered
}

// Answer decides the receiver's status code for the attempt-th request of a delivery.
type Answer func(deliveryID string, attempt int) int

// inbox keeps what one scenario's webhooks received.
type inbox struct {
	answer Answer

	mu       sync.Mutex
	receipts []Receipt
	attempts map[string]int
}

// Receiver is a loopback HTTP server standing in for every webhook of the benchmark. Each
// scenario gets its own path, /<scenario>/..., and its own inbox.
type Receiver struct {
	URL string // http://127.0.0.1:port

	srv *http.Server
	ln  net.Listener

	mu      sync.Mutex
	inboxes map[string]*inbox
}

// StartReceiver listens on a free loopback port.
func StartReceiver() (*Receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Receiver{URL: "http://" + ln.Addr().String(), ln: ln, inboxes: map[string]*inbox{}}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// Close stops the server.
func (r *Receiver) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// Open starts an inbox for a scenario and returns the URL prefix its webhooks post to.
// answer nil means 200 for everything.
func (r *Receiver) Open(scenario string, answer Answer) string {
	if answer == nil {
		answer = func(string, int) int { return http.StatusOK }
	}
	r.mu.Lock()
	r.inboxes[scenario] = &inbox{answer: answer, attempts: map[string]int{}}
	r.mu.Unlock()
	return r.URL + "/" + scenario
}

// Receipts returns a copy of what the scenario's inbox holds so far.
func (r *Receiver) Receipts(scenario string) []Receipt {
	return r.ReceiptsSince(scenario, 0)
}

// ReceiptsSince returns a copy of the scenario's receipts after the first n, so a poller
// copies only what is new.
func (r *Receiver) ReceiptsSince(scenario string, n int) []Receipt {
	r.mu.Lock()
	in := r.inboxes[scenario]
	r.mu.Unlock()
	if in == nil {
		return nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if n >= len(in.receipts) {
		return nil
	}
	return append([]Receipt(nil), in.receipts[n:]...)
}

// ServeHTTP records the request in its scenario's inbox and answers as the inbox says.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	scenario, _, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
	r.mu.Lock()
	in := r.inboxes[scenario]
	r.mu.Unlock()
	if in == nil {
		http.NotFound(w, req)
		return
	}
	// One event's envelope, or a throttled webhook's batch of events.
	var body struct {
		EventID string `json:"eventId"`
		Events  []struct {
			ID string `json:"id"`
		} `json:"events"`
	}
	_ = json.NewDecoder(io.LimitReader(req.Body, maxBody)).Decode(&body)
	rc := Receipt{At: at, DeliveryID: req.Header.Get("webhook-id"), EventID: body.EventID}

	in.mu.Lock()
	in.attempts[rc.DeliveryID]++
	rc.Attempt = in.attempts[rc.DeliveryID]
	rc.Status = in.answer(rc.DeliveryID, rc.Attempt)
	if body.Events == nil {
		in.receipts = append(in.receipts, rc)
	}
	for _, e := range body.Events {
		// A batch is a receipt per event listed, under the batch's webhook-id.
		rc.EventID = e.ID
		in.receipts = append(in.receipts, rc)
	}
	in.mu.Unlock()

	w.WriteHeader(rc.Status)
}

// failFirstOfEvery answers 503 to the first attempt of every n-th new delivery (the
// 1st, n+1-th, …) and 200 to everything else: exactly 1/n of the deliveries need a retry.
// The answer is called under the inbox lock, so its counter needs no lock of its own.
func failFirstOfEvery(n int) Answer {
	seen := 0
	return func(_ string, attempt int) int {
		if attempt > 1 {
			return http.StatusOK
		}
		seen++
		if (seen-1)%n == 0 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}
}

// always answers status to everything.
func always(status int) Answer {
	return func(string, int) int { return status }
}
