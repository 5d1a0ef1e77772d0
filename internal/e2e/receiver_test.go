package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// received is one request a receiver got.
type received struct {
	at     time.Time
	header http.Header
	body   []byte
}

// receiver is a loopback webhook endpoint that records every request and answers with
// what answer says (200 when answer is nil).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, r received) (status int, header map[string]string)
}

func newReceiver(t *testing.T, answer func(n int, r received) (int, map[string]string)) *receiver {
	t.Helper()
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := received{at: time.Now(), header: r.Header.Clone(), body: body}
		rc.mu.Lock()
		rc.got = append(rc.got, rec)
		n := len(rc.got)
		answer := rc.answer
		rc.mu.Unlock()
		status, header := http.StatusOK, map[string]string(nil)
		if answer != nil {
			status, header = answer(n, rec)
		}
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"n":` + strconv.Itoa(n) + `}`))
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) setAnswer(answer func(n int, r received) (int, map[string]string)) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answer = answer
}

// waitFor waits until the receiver has at least n requests and returns them.
func (rc *receiver) waitFor(t *testing.T, n int, within time.Duration) []received {
	t.Helper()
	eventually(t, within, func() string {
		if got := len(rc.requests()); got < n {
			return "receiver has " + strconv.Itoa(got) + " requests, want " + strconv.Itoa(n)
		}
		return ""
	})
	return rc.requests()
}

func always(status int, header map[string]string) func(int, received) (int, map[string]string) {
	return func(int, received) (int, map[string]string) { return status, header }
}
