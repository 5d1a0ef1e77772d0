//go:build faults

package faults

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Bounds of the hostile receivers: the events posted, the attempt timeout and retries of
// their webhooks, the body a huge answer offers, how long a trickle or a hang lasts at
// most, and how long the deliveries get to settle.
const (
	hostileEvents   = 5
	hostileTimeout  = 2 // seconds, the webhooks' timeoutSeconds
	hugeBody        = 50 << 20
	hostileMaxHold  = time.Minute
	hostileSettle   = 2 * time.Minute
	maxRSSGrowthKiB = 256 << 10
)

// hostile is one receiver that misbehaves, and what its deliveries must end as.
type hostile struct {
	name string
	url  string
	// check says what is wrong with one settled delivery (with its attempts), or "".
	check func(d deliveryDetail) string
	// final is the delivery status it settles in.
	final string
}

// deliveryDetail is GET /v1/deliveries/{id}, the fields the checks read.
type deliveryDetail struct {
	ID            string  `json:"id"`
	Status        string  `json:"status"`
	AttemptCount  int     `json:"attemptCount"`
	NextAttemptAt *string `json:"nextAttemptAt"`
	LastAttemptAt *string `json:"lastAttemptAt"`
	Attempts      []struct {
		State    string  `json:"state"`
		Error    *string `json:"error"`
		Response *struct {
			Status int    `json:"status"`
			Body   string `json:"body"`
		} `json:"response"`
		RetryAfter *string `json:"retryAfter"`
	} `json:"attempts"`
}

// hostileReceivers points one webhook at each hostile receiver and one at a healthy
// receiver, posts events to all of them, and asserts that every attempt is recorded with
// the outcome its receiver deserves, that hookd stays ready with bounded memory and no
// 5xx, and that the healthy webhook gets every event.
func hostileReceivers(t *testing.T, e *env) {
	r := record(&row{Fault: "hostile receivers"})
	healthy := newReceiver(t)
	var redirected atomic.Int64
	healthyMux := http.NewServeMux()
	healthyMux.HandleFunc("/redirected", func(http.ResponseWriter, *http.Request) { redirected.Add(1) })
	redirectTarget := httptest.NewServer(healthyMux)
	t.Cleanup(redirectTarget.Close)

	var hugeWritten atomic.Int64
	hs := []hostile{
		{name: "hangs (never answers)", url: rawServer(t, func(c net.Conn, stop <-chan struct{}) { readRequest(c); <-stop }),
			final: "failed", check: failedWithoutResponse("deadline", "timeout")},
		{name: "trickles its status line and headers, 1 byte/s", url: rawServer(t, func(c net.Conn, stop <-chan struct{}) {
			readRequest(c)
			trickle(c, stop, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}), final: "failed", check: failedWithoutResponse("deadline", "timeout")},
		{name: "answers 200, then trickles its body, 1 byte/s", url: rawServer(t, func(c net.Conn, stop <-chan struct{}) {
			readRequest(c)
			if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")); err == nil {
				trickle(c, stop, strings.Repeat("x", 1000))
			}
		}), final: "succeeded", check: func(d deliveryDetail) string {
			a := d.Attempts[0]
			if a.Response == nil || a.Response.Status != 200 || a.Error == nil || !strings.Contains(*a.Error, "read response body") {
				return "want a 200 recorded with the body's read error"
			}
			return ""
		}},
		{name: "resets the connection", url: rawServer(t, func(c net.Conn, stop <-chan struct{}) {
			readRequest(c)
			_ = c.(*net.TCPConn).SetLinger(0) // the close that follows sends RST
		}), final: "failed", check: failedWithoutResponse("reset", "EOF", "broken pipe")},
		{name: "redirects (302 to a healthy receiver)", url: httpServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, redirectTarget.URL+"/redirected", http.StatusFound)
		}), final: "failed", check: everyAttemptAnswered(http.StatusFound)},
		{name: "answers 200 with a 50 MB body", url: httpServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(hugeBody))
			chunk := []byte(strings.Repeat("y", 64<<10))
			for sent := 0; sent < hugeBody; sent += len(chunk) {
				n, err := w.Write(chunk)
				hugeWritten.Add(int64(n))
				if err != nil {
					return
				}
			}
		}), final: "succeeded", check: func(d deliveryDetail) string {
			a := d.Attempts[0]
			if a.Response == nil || a.Response.Status != 200 || len(a.Response.Body) > 64<<10 {
				return "want a 200 with at most 64 KiB of its body kept"
			}
			return ""
		}},
	}
	for _, ra := range []struct{ value, final string }{
		{"1000000000000", "retrying"}, {"Fri, 31 Dec 9999 23:59:59 GMT", "retrying"},
		{"-5", "failed"}, {"soon", "failed"}, {"1.5", "failed"}, {"Thu, 01 Jan 1970 00:00:00 GMT", "failed"},
	} {
		value := ra.value
		h := hostile{name: fmt.Sprintf("answers 503 with Retry-After: %s", value), final: ra.final,
			url: httpServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", value)
				w.WriteHeader(http.StatusServiceUnavailable)
			})}
		if ra.final == "retrying" {
			h.check = retriesInADay
		} else {
			h.check = everyAttemptAnswered(http.StatusServiceUnavailable)
		}
		hs = append(hs, h)
	}

	const typ = "fault.hostile"
	settings := map[string]any{"timeoutSeconds": hostileTimeout, "maxRetries": 1, "retrySchedule": []string{"1s"}, "failureLimit": 0}
	ids := make([]string, len(hs))
	for i, h := range hs {
		ids[i] = e.webhook(e.adminKey, fmt.Sprintf("hostile-%d", i), h.url, typ, settings)
	}
	e.webhook(e.adminKey, "healthy", healthy.URL, typ, settings)

	rssBefore, rssMax := e.rss(), 0
	var healthyIDs []string
	byWebhook := map[string][]string{}
	for i := 0; i < hostileEvents; i++ {
		ev := e.must(http.StatusAccepted, http.MethodPost, "/v1/events", e.adminKey, map[string]any{"type": typ, "data": map[string]any{"n": i}})
		ds, _ := ev["deliveries"].([]any)
		for _, d := range ds {
			m, _ := d.(map[string]any)
			id, _ := m["id"].(string)
			wh, _ := m["webhookId"].(string)
			byWebhook[wh] = append(byWebhook[wh], id)
		}
		r.Accepted++
	}
	for wh, ds := range byWebhook {
		if !slices.Contains(ids, wh) {
			healthyIDs = append(healthyIDs, ds...)
		}
	}

	// Settle: every hostile delivery in its final status, the healthy ones received;
	// meanwhile hookd must stay ready.
	deadline := time.Now().Add(hostileSettle)
	notReady := 0
	var pending []string
	for {
		if !e.ready() {
			notReady++
		}
		rssMax = max(rssMax, e.rss())
		pending = pending[:0]
		for i, h := range hs {
			for _, id := range byWebhook[ids[i]] {
				var d deliveryDetail
				e.getJSON(t, "/v1/deliveries/"+id, &d)
				if d.Status != h.final || !attemptsSettled(d) {
					pending = append(pending, fmt.Sprintf("%s: %s %s", h.name, id, d.Status))
				}
			}
		}
		_, _, missing := healthy.tally(healthyIDs)
		if len(pending) == 0 && len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	r.Delivered, r.Duplicated, _ = healthy.tally(healthyIDs)
	_, _, missing := healthy.tally(healthyIDs)
	r.Lost = len(missing)
	r.Times = len(hs)
	r.Refused = notApplicable

	var bad []string
	var outcomes []string
	for i, h := range hs {
		var summary string
		for _, id := range byWebhook[ids[i]] {
			var d deliveryDetail
			e.getJSON(t, "/v1/deliveries/"+id, &d)
			if why := settledWrong(d, h); why != "" {
				bad = append(bad, fmt.Sprintf("%s: delivery %s: %s", h.name, id, why))
			}
			summary = describe(d)
		}
		outcomes = append(outcomes, fmt.Sprintf("%s → %s", h.name, summary))
	}
	// What the 24-hour retries would do tomorrow is not this suite's business: cancel them.
	for i, h := range hs {
		if h.final == "retrying" {
			for _, id := range byWebhook[ids[i]] {
				e.must(http.StatusAccepted, http.MethodPost, "/v1/deliveries/"+id+"/cancel", e.adminKey, nil)
			}
		}
	}
	rssAfter := e.rss()
	r.note("One webhook per hostile receiver (timeoutSeconds %d, maxRetries 1, retrySchedule [1s]) and one healthy webhook, all subscribed to one type; %d events posted, each delivered to every webhook.", hostileTimeout, hostileEvents)
	r.note("Outcomes, as the last delivery to each receiver recorded them:")
	for _, o := range outcomes {
		r.note("  - %s", o)
	}
	r.note("The 50 MB receiver could write %.1f MB in all to its %d connections before hookd closed them (it keeps 64 KiB of a body and drains 64 KiB more; the rest is what the sockets' buffers took). The redirect target was requested %d times (redirects are not followed).", float64(hugeWritten.Load())/(1<<20), hostileEvents, redirected.Load())
	r.note("hookd's RSS: %d KiB before, at most %d KiB while the receivers misbehaved, %d KiB after. /readyz answered other than 200 %d times while polled each second. The healthy webhook got all %d of its deliveries.", rssBefore, rssMax, rssAfter, notReady, len(healthyIDs))
	r.note("The two deliveries parked 24 h by Retry-After (the cap) were canceled at the end (202).")
	switch {
	case len(pending) > 0:
		bad = append(bad, fmt.Sprintf("not settled within %v: %v", hostileSettle, pending))
	case len(missing) > 0:
		bad = append(bad, fmt.Sprintf("the healthy receiver lacks %d deliveries", len(missing)))
	case notReady > 0:
		bad = append(bad, fmt.Sprintf("/readyz failed %d times", notReady))
	case rssMax-rssBefore > maxRSSGrowthKiB:
		bad = append(bad, fmt.Sprintf("RSS grew by %d KiB", rssMax-rssBefore))
	case redirected.Load() > 0:
		bad = append(bad, "a redirect was followed")
	}
	if len(bad) > 0 {
		r.Failed = true
		t.Errorf("hostile receivers:\n%s", strings.Join(bad, "\n"))
	}
}

// getJSON GETs path as the admin into v, failing on anything but a 200.
func (e *env) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	a, err := e.send(http.MethodGet, path, e.adminKey, nil, nil)
	if err != nil || a.status != http.StatusOK {
		t.Fatalf("GET %s: %v %v", path, a, err)
	}
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// attemptsSettled reports whether no attempt of d is still being sent.
func attemptsSettled(d deliveryDetail) bool {
	for _, a := range d.Attempts {
		if a.State == "sending" {
			return false
		}
	}
	return len(d.Attempts) > 0
}

func settledWrong(d deliveryDetail, h hostile) string {
	if d.Status != h.final {
		return fmt.Sprintf("status %s, want %s", d.Status, h.final)
	}
	if len(d.Attempts) == 0 {
		return "no attempt recorded"
	}
	return h.check(d)
}

// failedWithoutResponse: every attempt got no answer and its error says one of words.
func failedWithoutResponse(words ...string) func(deliveryDetail) string {
	return func(d deliveryDetail) string {
		if len(d.Attempts) != 2 {
			return fmt.Sprintf("%d attempts, want 2 (maxRetries 1)", len(d.Attempts))
		}
		for _, a := range d.Attempts {
			if a.Response != nil || a.Error == nil || !containsAny(*a.Error, words) {
				return fmt.Sprintf("want no response and an error saying %v, got %v", words, describe(d))
			}
		}
		return ""
	}
}

// everyAttemptAnswered: two attempts, each recorded with status.
func everyAttemptAnswered(status int) func(deliveryDetail) string {
	return func(d deliveryDetail) string {
		if len(d.Attempts) != 2 {
			return fmt.Sprintf("%d attempts, want 2 (maxRetries 1)", len(d.Attempts))
		}
		for _, a := range d.Attempts {
			if a.Response == nil || a.Response.Status != status {
				return fmt.Sprintf("want every attempt answered %d", status)
			}
		}
		return ""
	}
}

// retriesInADay: one attempt, its Retry-After capped, the next attempt 24 h after it.
func retriesInADay(d deliveryDetail) string {
	if len(d.Attempts) != 1 || d.NextAttemptAt == nil || d.LastAttemptAt == nil || d.Attempts[0].RetryAfter == nil {
		return "want one attempt with its Retry-After and a next attempt"
	}
	next, err1 := time.Parse(time.RFC3339Nano, *d.NextAttemptAt)
	last, err2 := time.Parse(time.RFC3339Nano, *d.LastAttemptAt)
	if err1 != nil || err2 != nil {
		return "unreadable times"
	}
	if gap := next.Sub(last); gap < 24*time.Hour-time.Minute || gap > 24*time.Hour+time.Minute {
		return fmt.Sprintf("next attempt %v after the last, want the 24 h cap", gap)
	}
	return ""
}

// describe is the outcome of d's last attempt, for the report.
func describe(d deliveryDetail) string {
	if len(d.Attempts) == 0 {
		return d.Status + ", no attempt"
	}
	a := d.Attempts[len(d.Attempts)-1]
	s := fmt.Sprintf("%s after %d attempt(s)", d.Status, len(d.Attempts))
	if a.Response != nil {
		s += fmt.Sprintf(", answered %d (%d bytes kept)", a.Response.Status, len(a.Response.Body))
	}
	if a.Error != nil {
		s += ", error " + fmt.Sprintf("%q", clip(*a.Error))
	}
	if a.RetryAfter != nil {
		s += ", Retry-After read as " + *a.RetryAfter
	}
	if d.NextAttemptAt != nil {
		s += ", next attempt " + *d.NextAttemptAt
	}
	return s
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// httpServer is a loopback HTTP receiver running h; its URL.
func httpServer(t *testing.T, h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// rawServer is a loopback TCP server handing each connection to handle (closed after
// it); its http:// URL. When the test ends, stop is closed, and so is every connection.
func rawServer(t *testing.T, handle func(c net.Conn, stop <-chan struct{})) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	t.Cleanup(func() {
		close(stop)
		l.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(hostileMaxHold))
				done := make(chan struct{})
				defer close(done)
				go func() {
					select {
					case <-stop:
						c.Close()
					case <-done:
					}
				}()
				handle(c, stop)
			}()
		}
	}()
	return "http://" + l.Addr().String() + "/"
}

// readRequest reads a request's head and body from c (errors end it early).
func readRequest(c net.Conn) {
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err == nil {
		buf := make([]byte, 32<<10)
		for {
			if _, err := req.Body.Read(buf); err != nil {
				return
			}
		}
	}
}

// trickle writes s to c one byte a second until it is written, c fails or stop closes.
func trickle(c net.Conn, stop <-chan struct{}, s string) {
	for i := 0; i < len(s); i++ {
		if _, err := c.Write([]byte{s[i]}); err != nil {
			return
		}
		select {
		case <-stop:
			return
		case <-time.After(time.Second):
		}
	}
}
