package netguard

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// newTLSServer is a TLS receiver on 127.0.0.1 with httptest's self-signed certificate,
// counting the requests that reach its handler.
func newTLSServer(t *testing.T, hits *atomic.Int32) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "ok")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// TestInsecureSkipVerifyKeepsTheGuard: skipping TLS verification relaxes nothing else; a
// production client that skips it still refuses loopback before any handshake.
func TestInsecureSkipVerifyKeepsTheGuard(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := newTLSServer(t, &hits)
	resp, err := post(t, NewClient(Options{InsecureSkipVerify: true}), srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("POST %s succeeded with %s, want it refused", srv.URL, resp.Status)
	}
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("POST %s: %v, want ErrBlocked", srv.URL, err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback server received %d requests", n)
	}
}

// TestCertificateVerifiedUnlessSkipped: a client verifies the receiver's certificate
// unless its options skip it, and the refusal is a certificate verification error, which
// an attempt's error shows.
func TestCertificateVerifiedUnlessSkipped(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := newTLSServer(t, &hits)

	resp, err := post(t, NewClient(dev), srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("self-signed certificate accepted without InsecureSkipVerify")
	}
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) || errors.Is(err, ErrBlocked) {
		t.Fatalf("POST: %v, want a certificate verification error", err)
	}

	resp, err = post(t, NewClient(Options{AllowPrivate: true, InsecureSkipVerify: true}), srv.URL)
	if err != nil {
		t.Fatalf("POST with InsecureSkipVerify: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok" || hits.Load() != 1 {
		t.Fatalf("got %s %q after %d requests, want 200 ok after 1", resp.Status, body, hits.Load())
	}
}

// TestInsecureTransportOtherwiseTheSame: the insecure transport differs from the secure
// one only in skipping verification: no proxy (which would dial past the guard), the same
// pooling, HTTP/2 where offered.
func TestInsecureTransportOtherwiseTheSame(t *testing.T) {
	t.Parallel()
	secure, insecure := NewTransport(production), NewTransport(Options{InsecureSkipVerify: true})
	if insecure.TLSClientConfig == nil || !insecure.TLSClientConfig.InsecureSkipVerify {
		t.Fatal("InsecureSkipVerify transport verifies certificates")
	}
	if insecure.Proxy != nil || insecure.MaxIdleConnsPerHost != secure.MaxIdleConnsPerHost ||
		insecure.ForceAttemptHTTP2 != secure.ForceAttemptHTTP2 || insecure.TLSHandshakeTimeout != secure.TLSHandshakeTimeout {
		t.Fatalf("insecure transport %+v differs from %+v beyond TLS verification", insecure, secure)
	}
}
