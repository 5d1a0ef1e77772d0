package activities

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/signing"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/webhook"
)

// signedRequest is one request as a receiver got it.
type signedRequest struct {
	header http.Header
	body   []byte
}

// signReceiver keeps every request a test receiver gets.
type signReceiver struct {
	mu   sync.Mutex
	reqs []signedRequest
}

func (l *signReceiver) handle(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	l.mu.Lock()
	l.reqs = append(l.reqs, signedRequest{header: r.Header.Clone(), body: body})
	l.mu.Unlock()
}

func (l *signReceiver) last(t *testing.T) signedRequest {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.reqs) == 0 {
		t.Fatal("the receiver got no request")
	}
	return l.reqs[len(l.reqs)-1]
}

// standardVerifiesSig reports whether a receiver holding secret accepts got with the
// Standard Webhooks reference library (timestamp tolerance included).
func standardVerifiesSig(t *testing.T, got signedRequest, secret string) error {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	return wh.Verify(got.body, got.header)
}

// bodySigVerifies reports whether a receiver holding secret accepts got's body-only
// signature in header, computed here with crypto/hmac over the exact body bytes keyed
// with the secret string, as seed 000's and seed 003's receivers do.
func bodySigVerifies(got signedRequest, header, encoding, secret string) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(got.body)
	want := mac.Sum(nil)
	var sig []byte
	var err error
	switch encoding {
	case "hex":
		sig, err = hex.DecodeString(got.header.Get(header))
	case "base64":
		sig, err = base64.StdEncoding.DecodeString(got.header.Get(header))
	}
	return err == nil && hmac.Equal(sig, want)
}

// attemptNewSignedDelivery ingests another event for f's webhook and runs its first attempt.
func (f *fixture) attemptNewSignedDelivery(t *testing.T, eventID string) AttemptResult {
	t.Helper()
	res, err := f.st.IngestEvent(context.Background(), store.Event{
		OrgID: f.webhook.OrgID, ID: eventID, Type: "order.created", Timestamp: time.Now().UTC(),
		Data: []byte(`{"orderId":"` + eventID + `","note":"naïve \u00e9 </tag> & \"quoted\""}`),
	})
	if err != nil || len(res.Deliveries) != 1 {
		t.Fatalf("ingest %s: %v (%d deliveries)", eventID, err, len(res.Deliveries))
	}
	f.dlv = res.Deliveries[0]
	out := f.attempt(t, AttemptInput{})
	if out.Outcome != delivery.OutcomeSucceeded {
		t.Fatalf("attempt of %s: %+v", eventID, out)
	}
	return out
}

// TestHMACBodySignature: an hmac-body webhook's receiver verifies seed 000's
// fg-webhook-signature (hex) and seed 003's X-Signature (base64) over the exact body
// bytes, beside the Standard Webhooks headers; the attempt record does not hold it.
func TestHMACBodySignature(t *testing.T) {
	t.Parallel()
	for _, sig := range []webhook.Signature{
		{Scheme: webhook.SchemeHMACBody, Header: "fg-webhook-signature", Encoding: "hex"},
		{Scheme: webhook.SchemeHMACBody, Header: "X-Signature", Encoding: "base64"},
	} {
		t.Run(sig.Header, func(t *testing.T) {
			t.Parallel()
			var log signReceiver
			f := newFixture(t, log.handle, func(w *store.Webhook) { w.Signature = sig })
			if res := f.attempt(t, AttemptInput{}); res.Outcome != delivery.OutcomeSucceeded {
				t.Fatalf("attempt: %+v", res)
			}
			got := log.last(t)
			if !bodySigVerifies(got, sig.Header, sig.Encoding, f.webhook.Secret) {
				t.Fatalf("%s %q does not verify over the body %s", sig.Header, got.header.Get(sig.Header), got.body)
			}
			other := map[string]string{"hex": "base64", "base64": "hex"}[sig.Encoding]
			if bodySigVerifies(got, sig.Header, other, f.webhook.Secret) {
				t.Errorf("%s verifies in %s too", sig.Header, other)
			}
			if err := standardVerifiesSig(t, got, f.webhook.Secret); err != nil {
				t.Errorf("Standard Webhooks signature: %v", err)
			}
			if n := len(strings.Fields(got.header.Get(signing.HeaderSignature))); n != 1 {
				t.Errorf("%d v1 signatures, want 1 before any rotation", n)
			}
			_, atts, _ := f.load(t)
			for name, value := range atts[0].RequestHeaders {
				if strings.Contains(value, got.header.Get(sig.Header)) {
					t.Errorf("the attempt record holds the body signature under %s", name)
				}
			}
		})
	}
}

// TestStandardSchemeSendsNoBodySignature: a standard webhook's request has only the
// Standard Webhooks signature headers.
func TestStandardSchemeSendsNoBodySignature(t *testing.T) {
	t.Parallel()
	var log signReceiver
	f := newFixture(t, log.handle, nil)
	f.attempt(t, AttemptInput{})
	got := log.last(t)
	for name := range got.header {
		if lower := strings.ToLower(name); strings.Contains(lower, "sig") && lower != signing.HeaderSignature {
			t.Errorf("a standard webhook sent %s", name)
		}
	}
	if err := standardVerifiesSig(t, got, f.webhook.Secret); err != nil {
		t.Fatal(err)
	}
}

// TestRotationSigning: after a rotation, during its grace period, a request carries one
// v1 signature per secret and a receiver holding either the old or the new secret
// accepts it, while the body signature uses the new one; once the grace period is over,
// only the new secret signs.
func TestRotationSigning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const header = "fg-webhook-signature"
	var log signReceiver
	f := newFixture(t, log.handle, func(w *store.Webhook) {
		w.Signature = webhook.Signature{Scheme: webhook.SchemeHMACBody, Header: header, Encoding: "hex"}
	})
	old := f.webhook.Secret
	newer, err := signing.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.RotateSecret(ctx, f.webhook.OrgID, f.webhook.ID, newer, time.Hour); err != nil {
		t.Fatal(err)
	}

	f.attemptNewSignedDelivery(t, "evt_during_grace")
	got := log.last(t)
	if sigs := strings.Fields(got.header.Get(signing.HeaderSignature)); len(sigs) != 2 ||
		!strings.HasPrefix(sigs[0], "v1,") || !strings.HasPrefix(sigs[1], "v1,") {
		t.Fatalf("webhook-signature %q, want two v1 signatures", got.header.Get(signing.HeaderSignature))
	}
	for name, secret := range map[string]string{"old": old, "new": newer} {
		if err := standardVerifiesSig(t, got, secret); err != nil {
			t.Errorf("a receiver holding the %s secret refuses the request: %v", name, err)
		}
	}
	if !bodySigVerifies(got, header, "hex", newer) || bodySigVerifies(got, header, "hex", old) {
		t.Errorf("during the grace period the body signature is not the new secret's alone")
	}

	// The grace period ends a second from now, by the database's clock.
	if _, err := f.st.Pool().Exec(ctx, `UPDATE webhook_secrets SET expires_at = now() + interval '1 second'
        WHERE webhook_id = $1`, f.webhook.ID); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		wh, err := f.st.GetWebhook(ctx, f.webhook.OrgID, f.webhook.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(wh.GraceSecrets) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the grace period did not end")
		}
	}

	f.attemptNewSignedDelivery(t, "evt_after_grace")
	got = log.last(t)
	if sigs := strings.Fields(got.header.Get(signing.HeaderSignature)); len(sigs) != 1 {
		t.Fatalf("webhook-signature %q, want one signature after the grace period", got.header.Get(signing.HeaderSignature))
	}
	if err := standardVerifiesSig(t, got, newer); err != nil {
		t.Errorf("the new secret: %v", err)
	}
	if err := standardVerifiesSig(t, got, old); err == nil {
		t.Error("a receiver holding the old secret still accepts the request after the grace period")
	}
	if !bodySigVerifies(got, header, "hex", newer) {
		t.Error("the body signature is not the new secret's")
	}
}

// TestSigningSecrets: the current secret first, then the past ones, each once.
func TestSigningSecrets(t *testing.T) {
	t.Parallel()
	got := signingSecrets(store.Webhook{Secret: "a", GraceSecrets: []string{"b", "a", "c", "b"}})
	if strings.Join(got, " ") != "a b c" {
		t.Fatalf("signingSecrets = %q, want a b c", got)
	}
}
