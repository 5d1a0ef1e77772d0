package metrics

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// The backlog gauges are read from PostgreSQL at each scrape.
func TestBacklogGauges(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	if _, err := st.Pool().Exec(context.Background(), `
        INSERT INTO organizations (id, name) VALUES ('org_1', 'acme');
        INSERT INTO replays (id, org_id, rate_per_second, matched, replayed, skipped) VALUES ('rp_1', 'org_1', 50, 40, 12, 3)`); err != nil {
		t.Fatal(err)
	}
	m := New()
	if err := m.RegisterBacklog(st, discard()); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP hookd_backlog_up 1 if the last scrape read the backlog gauges from PostgreSQL, 0 if it failed or timed out (they are left out then).
# TYPE hookd_backlog_up gauge
hookd_backlog_up 1
# HELP hookd_oldest_delivery_age_seconds Age of the oldest delivery still to be sent, by status: pending (no attempt yet, or a manual retry asked) or retrying (waiting out its backoff); 0 when there is none.
# TYPE hookd_oldest_delivery_age_seconds gauge
hookd_oldest_delivery_age_seconds{status="pending"} 0
hookd_oldest_delivery_age_seconds{status="retrying"} 0
# HELP hookd_replay_deliveries_remaining Deliveries the running replays have still to resend (matched - replayed - skipped).
# TYPE hookd_replay_deliveries_remaining gauge
hookd_replay_deliveries_remaining 25
# HELP hookd_replays_running Replays running.
# TYPE hookd_replays_running gauge
hookd_replays_running 1
`
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want),
		"hookd_backlog_up", "hookd_oldest_delivery_age_seconds", "hookd_replay_deliveries_remaining", "hookd_replays_running"); err != nil {
		t.Fatal(err)
	}
}

// A PostgreSQL that stops answering costs a scrape the backlog's timeout, no more: /metrics
// still answers 200 with every other series and hookd_backlog_up 0.
func TestBacklogWhenPostgresHangs(t *testing.T) {
	t.Parallel()
	p := newFaultyProxy(t, storetest.URL(t))
	st, err := store.Open(context.Background(), p.url, storetest.Box())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	t.Cleanup(p.close) // first: the pool's close waits for the connects it has in flight
	m := New()
	m.Registry.MustRegister(newBacklogCollector(st, discard(), 300*time.Millisecond))
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)

	scrape := func() string {
		t.Helper()
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics = %d: %s", resp.StatusCode, body)
		}
		return string(body)
	}
	if body := scrape(); !strings.Contains(body, "hookd_backlog_up 1") {
		t.Fatalf("before the fault:\n%s", body)
	}
	p.hang()
	body := scrape()
	for _, want := range []string{"hookd_backlog_up 0", "go_goroutines", "hookd_attempts_total"} {
		if !strings.Contains(body, want) {
			t.Errorf("a scrape while PostgreSQL hangs lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "hookd_oldest_delivery_age_seconds{") {
		t.Error("a scrape while PostgreSQL hangs shows a backlog age")
	}
}

// faultyProxy forwards TCP connections to PostgreSQL until hang is called; then it drops
// the connections it forwarded and holds new ones open without an answer, as a database
// behind a dead network path would.
type faultyProxy struct {
	url string
	ln  net.Listener

	mu     sync.Mutex
	hung   bool
	conns  []net.Conn
	closed bool
}

func newFaultyProxy(t *testing.T, dbURL string) *faultyProxy {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	upstream := u.Host
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.Host = ln.Addr().String()
	p := &faultyProxy{url: u.String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !p.track(c) {
				continue // hung: held open, never answered
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil || !p.track(up) {
				c.Close()
				continue
			}
			go func() { _, _ = io.Copy(up, c) }()
			go func() { _, _ = io.Copy(c, up) }()
		}
	}()
	p.ln = ln
	t.Cleanup(p.close)
	return p
}

// close stops the proxy and closes every connection it holds.
func (p *faultyProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// track keeps c to close it later and says whether to forward it (false once hung).
func (p *faultyProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns = append(p.conns, c)
	return !p.hung
}

func (p *faultyProxy) hang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hung = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
