package netguard

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var production = Options{}

var dev = Options{AllowPrivate: true, AllowHTTP: true}

// TestProductionRefusesLoopback sends real requests, but only ever to loopback: the guard
// must refuse them at dial time and the server must see nothing.
func TestProductionRefusesLoopback(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}

	urls := map[string]string{
		"ipv4":      srv.URL,
		"localhost": "http://localhost:" + u.Port(),
	}
	if srv6 := newServer6(t, &hits); srv6 != nil {
		urls["ipv6"] = srv6.URL
	}
	client := NewClient(production)
	for name, target := range urls {
		t.Run(name, func(t *testing.T) {
			resp, err := post(t, client, target)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("POST %s succeeded with %s, want it refused", target, resp.Status)
			}
			if !errors.Is(err, ErrBlocked) {
				t.Fatalf("POST %s: %v, want ErrBlocked", target, err)
			}
			t.Logf("refused: %v", err)
		})
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback server received %d requests", n)
	}
}

func TestProductionTransportDialRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	conn, err := NewTransport(production).DialContext(context.Background(), "tcp", srv.Listener.Addr().String())
	if err == nil {
		conn.Close()
		t.Fatal("dial to loopback succeeded")
	}
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("dial: %v, want ErrBlocked", err)
	}
}

// TestControl checks the dial-time guard on addresses the tests must not send packets to;
// the guard runs before connect, so it is called directly.
func TestControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		network, address string
		blocked          bool
	}{
		{"tcp4", "127.0.0.1:443", true},
		{"tcp4", "127.1.2.3:8080", true},
		{"tcp6", "[::1]:443", true},
		{"tcp4", "10.0.0.1:443", true},
		{"tcp4", "10.255.255.255:80", true},
		{"tcp4", "172.16.0.1:443", true},
		{"tcp4", "192.168.1.1:443", true},
		{"tcp4", "169.254.169.254:80", true},
		{"tcp4", "100.64.0.1:443", true},
		{"tcp4", "0.0.0.0:443", true},
		{"tcp4", "224.0.0.1:443", true},
		{"tcp4", "255.255.255.255:443", true},
		{"tcp6", "[::]:443", true},
		{"tcp6", "[fe80::1]:443", true},
		{"tcp6", "[fc00::1]:443", true},
		{"tcp6", "[fd00::2]:443", true},
		{"tcp6", "[ff02::1]:443", true},
		{"tcp6", "[::ffff:127.0.0.1]:443", true},
		{"tcp6", "[::ffff:10.0.0.1]:443", true},
		{"udp4", "93.184.215.14:443", true},
		{"tcp4", "93.184.215.14:443", false},
		{"tcp4", "93.184.215.14:8443", false},
		{"tcp4", "8.8.8.8:80", false},
		{"tcp6", "[2606:4700:4700::1111]:443", false},
	}
	prod := control(production)
	if control(dev) != nil {
		t.Error("dev options install a dial guard")
	}
	for _, tt := range tests {
		t.Run(tt.network+"/"+tt.address, func(t *testing.T) {
			t.Parallel()
			err := prod(tt.network, tt.address, nil)
			if tt.blocked && !errors.Is(err, ErrBlocked) {
				t.Errorf("control = %v, want ErrBlocked", err)
			}
			if !tt.blocked && err != nil {
				t.Errorf("control = %v, want nil", err)
			}
		})
	}
}

func TestDevAllowsLoopback(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	resp, err := post(t, NewClient(dev), srv.URL)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("got %s %q, want 200 ok", resp.Status, body)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	var followed atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { followed.Add(1) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	resp, err := post(t, NewClient(dev), srv.URL+"/hook")
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status = %d, want 302", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); loc != "/elsewhere" {
		t.Errorf("Location = %q, want /elsewhere", loc)
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("redirect followed %d times", n)
	}
}

func TestInsecureSkipVerify(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	if resp, err := post(t, NewClient(dev), srv.URL); err == nil {
		resp.Body.Close()
		t.Fatal("self-signed certificate accepted without InsecureSkipVerify")
	}
	resp, err := post(t, NewClient(Options{AllowPrivate: true, InsecureSkipVerify: true}), srv.URL)
	if err != nil {
		t.Fatalf("POST with InsecureSkipVerify: %v", err)
	}
	resp.Body.Close()
}

func TestTransportSettings(t *testing.T) {
	t.Parallel()
	tr := NewTransport(production)
	if tr.Proxy != nil {
		t.Error("transport uses a proxy; the proxy would dial past the guard")
	}
	if tr.MaxIdleConnsPerHost < 100 {
		t.Errorf("MaxIdleConnsPerHost = %d, want >= 100", tr.MaxIdleConnsPerHost)
	}
	if tr.DisableKeepAlives {
		t.Error("keep-alives disabled")
	}
	if tr.TLSClientConfig != nil && tr.TLSClientConfig.InsecureSkipVerify {
		t.Error("production transport skips TLS verification")
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	long := "https://example.com/" + strings.Repeat("a", MaxURLLength-len("https://example.com/"))
	tests := []struct {
		url     string
		opts    Options
		want    error  // nil, ErrInvalidURL or ErrBlocked
		message string // substring of the error
	}{
		{url: "https://example.com/hooks", opts: production},
		{url: "https://example.com", opts: production},
		{url: "https://example.com:8443/hooks?x=1", opts: production},
		{url: "HTTPS://Example.COM/hooks", opts: production},
		{url: "https://example.com/devices/{device_id}/events?type={eventType}", opts: production},
		{url: "https://93.184.215.14/hooks", opts: production},
		{url: "https://[2606:4700:4700::1111]/hooks", opts: production},
		{url: long, opts: production},
		{url: long + "a", opts: production, want: ErrInvalidURL, message: "at most 512 characters"},
		{url: "", opts: production, want: ErrInvalidURL, message: "must not be empty"},
		{url: "http://example.com/hooks", opts: production, want: ErrInvalidURL, message: "must use https"},
		{url: "http://example.com/hooks", opts: Options{AllowHTTP: true}},
		{url: "ftp://example.com/x", opts: dev, want: ErrInvalidURL, message: `scheme "ftp" is not supported`},
		{url: "javascript:alert(1)", opts: dev, want: ErrInvalidURL, message: "not supported"},
		{url: "https:example.com", opts: production, want: ErrInvalidURL, message: "must be of the form"},
		{url: "example.com/hooks", opts: production, want: ErrInvalidURL, message: "must be absolute"},
		{url: "/hooks", opts: production, want: ErrInvalidURL, message: "must be absolute"},
		{url: "https:///hooks", opts: production, want: ErrInvalidURL, message: "must have a host"},
		{url: "https://:443/hooks", opts: production, want: ErrInvalidURL, message: "must have a host"},
		{url: "https://user:pass@example.com/", opts: production, want: ErrInvalidURL, message: "user information"},
		{url: "https://user@example.com/", opts: dev, want: ErrInvalidURL, message: "user information"},
		{url: "https://exa mple.com/", opts: production, want: ErrInvalidURL, message: "cannot be parsed"},
		{url: "https://example.com:99999999/", opts: production, want: ErrInvalidURL, message: "port 99999999 is out of range"},
		{url: "https://example.com:0/", opts: production, want: ErrInvalidURL, message: "out of range"},
		{url: "https://127.0.0.1/hooks", opts: production, want: ErrBlocked, message: "127.0.0.1 is not a public address"},
		{url: "https://127.0.0.1:8080/hooks", opts: Options{AllowHTTP: true}, want: ErrBlocked},
		{url: "https://[::1]/hooks", opts: production, want: ErrBlocked},
		{url: "https://[::ffff:127.0.0.1]/hooks", opts: production, want: ErrBlocked},
		{url: "https://10.0.0.1/hooks", opts: production, want: ErrBlocked},
		{url: "https://192.168.0.10/hooks", opts: production, want: ErrBlocked},
		{url: "https://169.254.169.254/latest/meta-data/", opts: production, want: ErrBlocked},
		{url: "https://0.0.0.0/", opts: production, want: ErrBlocked},
		{url: "https://[fe80::1%25eth0]/", opts: production, want: ErrBlocked},
		{url: "https://localhost/hooks", opts: production, want: ErrBlocked, message: "localhost is a local address"},
		{url: "https://LOCALHOST./hooks", opts: production, want: ErrBlocked},
		{url: "https://api.localhost/hooks", opts: production, want: ErrBlocked},
		{url: "https://localhost.example.com/hooks", opts: production},
		{url: "http://127.0.0.1:8080/hooks", opts: dev},
		{url: "http://localhost:8080/hooks", opts: dev},
		{url: "https://10.0.0.1/hooks", opts: Options{AllowPrivate: true}},
		{url: "http://10.0.0.1/hooks", opts: Options{AllowPrivate: true}, want: ErrInvalidURL, message: "must use https"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			err := CheckURL(tt.url, tt.opts)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckURL(%q, %+v) = %v, want nil", tt.url, tt.opts, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("CheckURL(%q, %+v) = %v, want %v", tt.url, tt.opts, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err, tt.message)
			}
		})
	}
}

func post(t *testing.T, c *http.Client, target string) (*http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(`{"type":"ping"}`))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	return c.Do(req)
}

// newServer6 starts a server on [::1], or returns nil (after logging) on a machine without
// IPv6 loopback; TestControl covers ::1 either way.
func newServer6(t *testing.T, hits *atomic.Int32) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Logf("no IPv6 loopback (%v); [::1] is covered by TestControl only", err)
		return nil
	}
	srv := &httptest.Server{
		Listener: ln,
		Config:   &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })},
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}
