package api_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookd/hookd/api"
)

// listen runs e's API on a real 127.0.0.1 listener with timeouts t, logging the server's
// own complaints to e.logs, and returns its address.
func (e *env) listen(t api.ServerTimeouts) string {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	srv := api.NewServer(e.engine, t, slog.New(slog.NewTextHandler(e.logs, nil)))
	go func() { _ = srv.Serve(ln) }()
	e.t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// shortTimeouts are DefaultServerTimeouts shrunk for tests.
var shortTimeouts = api.ServerTimeouts{ReadHeader: time.Second, Read: 300 * time.Millisecond, Write: 10 * time.Second, Idle: 10 * time.Second}

// eventRequest is a POST /v1/events whose headers announce length bytes of body; body is
// what is then sent.
func eventRequest(key string, length int, body string) string {
	return fmt.Sprintf("POST /v1/events HTTP/1.1\r\nHost: hookd\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", key, length, body)
}

// TestServerCutsOffAStalledBody: a caller that announces a body and sends only part of it
// holds the connection no longer than the read timeout.
func TestServerCutsOffAStalledBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := e.counts()
	conn, err := net.Dial("tcp", e.listen(shortTimeouts))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, eventRequest(e.pub, 100, `{"type": "`)); err != nil {
		t.Fatal(err)
	}
	// Far beyond the 300 ms read timeout: reaching it means the server held on.
	if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	answer, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("the server did not close the connection: %v (read %q)", err, answer)
	}
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(answer))), nil)
	if err != nil {
		t.Fatalf("answer %q: %v", answer, err)
	}
	if resp.StatusCode != http.StatusRequestTimeout || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("answer %d %s, want 408 problem+json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	e.assertUnchanged(before)
}

// TestDefaultServerTimeouts keeps the documented limits: a body gets 30 s, and an answer
// more than that plus the service's 10 s engine bound.
func TestDefaultServerTimeouts(t *testing.T) {
	t.Parallel()
	d := api.DefaultServerTimeouts
	srv := api.NewServer(http.NotFoundHandler(), d, nil)
	if srv.ReadTimeout != 30*time.Second || srv.ReadHeaderTimeout != d.ReadHeader || srv.IdleTimeout != d.Idle || srv.MaxHeaderBytes != api.MaxHeaderBytes {
		t.Errorf("server %+v does not carry %+v", srv, d)
	}
	if srv.WriteTimeout <= srv.ReadTimeout+10*time.Second {
		t.Errorf("write timeout %v leaves a handler no time after a %v read", srv.WriteTimeout, srv.ReadTimeout)
	}
}

// TestRouterAnswersAreProblems: what the router decides by itself (no route, a trailing
// slash, the wrong method) is problem+json, never a redirect or plain text.
func TestRouterAnswersAreProblems(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/v1/webhooks/", http.StatusNotFound, ""},
		{"POST", "/v1/events/", http.StatusNotFound, ""},
		{"GET", "/v1/event-types/a.b/", http.StatusNotFound, ""},
		{"GET", "/V1/webhooks", http.StatusNotFound, ""},
		{"GET", "/v1//webhooks", http.StatusNotFound, ""},
		{"GET", "/v1/nothing", http.StatusNotFound, ""},
		{"GET", "/", http.StatusNotFound, ""},
		{"PUT", "/v1/webhooks", http.StatusMethodNotAllowed, "GET, POST"},
		{"POST", "/v1/deliveries/dlv_1", http.StatusMethodNotAllowed, "GET"},
		{"DELETE", "/healthz", http.StatusMethodNotAllowed, "GET"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := e.do(tc.method, tc.path, e.admin, nil)
			decodeProblem(t, rec, tc.status)
			if got := rec.Header().Get("Allow"); got != tc.allow {
				t.Errorf("Allow %q, want %q", got, tc.allow)
			}
			if loc := rec.Header().Get("Location"); loc != "" {
				t.Errorf("redirected to %q", loc)
			}
		})
	}
}

// TestClientThatGoesAwayIsNoServerFault: a request whose caller cancels it, half-closes
// its side after sending, or hangs up mid-body is answered (if at all) with a 4xx, and
// logged below error.
func TestClientThatGoesAwayIsNoServerFault(t *testing.T) {
	t.Parallel()
	e, reg := newWatchedEnv(t)
	e.createEventType(e.admin, "device.seen", nil)
	body := `{"type": "device.seen", "data": {"n": 1}}`

	t.Run("canceled context", func(t *testing.T) {
		for _, r := range []struct{ method, path, key, body string }{
			{"GET", "/v1/webhooks", e.admin, ""},
			{"POST", "/v1/events", e.pub, body},
			{"GET", "/v1/deliveries", e.viewer, ""},
		} {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			req := httptest.NewRequestWithContext(ctx, r.method, r.path, strings.NewReader(r.body))
			req.Header.Set("Authorization", "Bearer "+r.key)
			rec := serve(e, req)
			if rec.Code != 499 || rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s: %d %s, want 499 problem+json", r.method, r.path, rec.Code, rec.Body)
			}
		}
	})

	addr := e.listen(shortTimeouts)
	t.Run("half-closed after sending", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, eventRequest(e.pub, len(body), body)); err != nil {
			t.Fatal(err)
		}
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		// Go's server cancels the request when it reads EOF: the event may be published
		// before that (202) or not at all (499), never half.
		if resp.StatusCode != http.StatusAccepted && resp.StatusCode != 499 {
			t.Errorf("status %d, want 202 or 499", resp.StatusCode)
		}
	})

	t.Run("gone mid-body", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, eventRequest(e.pub, 100, body[:10])); err != nil {
			t.Fatal(err)
		}
		_ = conn.Close()
		waitForAnswer(t, reg, "POST", "/v1/events", "400")
	})
	assertNoServerFault(t, e, reg)
	if !strings.Contains(e.logs.String(), "level=INFO msg=\"request refused\"") {
		t.Errorf("the body cut short was not logged at info:\n%s", e.logs)
	}
}

// waitForAnswer waits until the API has answered a request to route with status, which a
// test that hung up cannot read.
func waitForAnswer(t *testing.T, reg *prometheus.Registry, method, route, status string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if answers(t, reg)[answer{method, route, status}] > 0 {
			return
		}
	}
	t.Fatalf("no answer %s to %s %s was recorded", status, method, route)
}
