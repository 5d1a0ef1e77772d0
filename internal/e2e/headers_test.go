package e2e

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hookd/hookd/internal/delivery"
)

// TestCredentialHeaderReachesTheReceiverOnly: a credential header kept through a PATCH
// that sent back its masked value reaches the receiver as it was written, and is masked
// in the attempt record; the value is in no log line, no Temporal payload and no column
// of the webhooks row.
func TestCredentialHeaderReachesTheReceiverOnly(t *testing.T) {
	t.Parallel()
	const credential = "Bearer s3cr3t-xyz"
	in := startHookd(t, options{env: []string{"HOOKD_LOG_LEVEL=debug"}})
	rc := newReceiver(t, nil)
	whID, _ := in.webhook(rc.URL, map[string]any{
		"headers": map[string]string{"Authorization": credential, "X-Tenant": "acme-eu"},
	})

	read := in.must(http.StatusOK, http.MethodGet, "/v1/webhooks/"+whID, nil)
	headers, _ := read.body["headers"].(map[string]any)
	if headers["Authorization"] != "********" || headers["X-Tenant"] != "acme-eu" {
		t.Fatalf("GET shows headers %v", headers)
	}
	headers["X-Tenant"] = "acme-us"
	in.must(http.StatusOK, http.MethodPatch, "/v1/webhooks/"+whID, map[string]any{"headers": headers})

	r := in.postEvent("order-h1", map[string]any{"orderId": "o-1"})
	if r.status != http.StatusAccepted {
		t.Fatalf("POST /v1/events = %d: %s", r.status, r.raw)
	}
	dlvID := deliveryTo(t, r, whID)
	got := rc.waitFor(t, 1, 20*time.Second)[0]
	if got.header.Get("Authorization") != credential || got.header.Get("X-Tenant") != "acme-us" {
		t.Fatalf("receiver got Authorization %q, X-Tenant %q", got.header.Get("Authorization"), got.header.Get("X-Tenant"))
	}

	d := in.deliveryStatus(dlvID, "succeeded", 10*time.Second)
	attempts := d.list("attempts")
	if len(attempts) != 1 {
		t.Fatalf("attempts %s", d.raw)
	}
	request, _ := attempts[0]["request"].(map[string]any)
	recorded, _ := request["headers"].(map[string]any)
	if recorded["Authorization"] != "********" || recorded["X-Tenant"] != "acme-us" {
		t.Fatalf("attempt request headers %v", recorded)
	}
	if strings.Contains(string(d.raw), "s3cr3t") {
		t.Fatalf("the delivery shows the credential: %s", d.raw)
	}

	ctx := context.Background()
	var row string
	if err := in.db().QueryRow(ctx, `SELECT row_to_json(w)::text FROM webhooks w WHERE id = $1`, whID).Scan(&row); err != nil {
		t.Fatal(err)
	}
	var attemptRows string
	if err := in.db().QueryRow(ctx, `SELECT COALESCE(json_agg(a)::text, '') FROM attempts a`).Scan(&attemptRows); err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"the webhooks row": row, "the attempts": attemptRows, "the log": in.dev.LogTail(0)} {
		if text == "" {
			t.Errorf("%s is empty", what)
		}
		if strings.Contains(text, "s3cr3t") {
			t.Errorf("%s holds the credential", what)
		}
	}

	h := in.workflowHistory(delivery.WorkflowID(dlvID), "")
	b, err := proto.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Events) == 0 || bytes.Contains(b, []byte("s3cr3t")) {
		t.Errorf("history of %d events holds the credential", len(h.Events))
	}
}
