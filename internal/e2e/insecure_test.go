package e2e

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAllowInvalidCertsThroughHookd: hookd as it runs (the worker wired by cmd/hookd)
// delivers to a TLS receiver whose certificate it cannot verify (httptest's self-signed
// one on 127.0.0.1) only for the webhook that sets allowInvalidCerts; the other's attempt
// is refused over the certificate, and nothing of it reaches the receiver.
func TestAllowInvalidCertsThroughHookd(t *testing.T) {
	t.Parallel()
	in := startHookd(t, options{})
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)

	allowed, _ := in.webhook(srv.URL+"/allowed", map[string]any{"allowInvalidCerts": true})
	refused, _ := in.webhook(srv.URL+"/refused", map[string]any{"maxRetries": 0})
	r := in.postEvent("order-tls", map[string]any{"orderId": "o-1"})
	if r.status != http.StatusAccepted {
		t.Fatalf("POST /v1/events = %d: %s", r.status, r.raw)
	}
	dlv := map[string]string{}
	for _, d := range r.list("deliveries") {
		dlv[d["webhookId"].(string)] = d["id"].(string)
	}

	in.deliveryStatus(dlv[allowed], "succeeded", 30*time.Second)
	d := in.deliveryStatus(dlv[refused], "failed", 30*time.Second)
	attempts := d.list("attempts")
	if len(attempts) != 1 || attempts[0]["response"] != nil {
		t.Fatalf("refused delivery %s, want one attempt without a response", d.raw)
	}
	if msg, _ := attempts[0]["error"].(string); !strings.Contains(msg, "certificate") {
		t.Fatalf("attempt error %q does not name the certificate", msg)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(paths) != 1 || paths[0] != "/allowed" {
		t.Fatalf("the receiver got %v, want /allowed only", paths)
	}
}
