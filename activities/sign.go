package activities

import (
	"net/http"
	"slices"
	"time"

	"github.com/hookd/hookd/internal/signing"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/webhook"
)

// signRequest sets the signature headers of one request of webhook wh (API.md "What a
// receiver gets"): the Standard Webhooks headers for message id msgID at time at over
// body, with one v1 signature per valid secret (the current one first, then those still
// in a rotation's grace period, newest first), and for an hmac-body webhook its header
// with the body's HMAC keyed with the current (newest) secret only.
func signRequest(req *http.Request, wh store.Webhook, msgID string, at time.Time, body []byte) error {
	sig, err := signing.Sign(msgID, at, body, signingSecrets(wh)...)
	if err != nil {
		return err
	}
	req.Header.Set(signing.HeaderID, msgID)
	req.Header.Set(signing.HeaderTimestamp, signing.Timestamp(at))
	req.Header.Set(signing.HeaderSignature, sig)
	if wh.Signature.Scheme == webhook.SchemeHMACBody {
		bodySig, err := signing.BodySignature(body, wh.Secret, wh.Signature.Encoding)
		if err != nil {
			return err
		}
		req.Header.Set(wh.Signature.Header, bodySig)
	}
	return nil
}

// signingSecrets are the secrets wh signs with: Secret, then each of GraceSecrets not
// already among them (a rotation back to a past secret signs once with it).
func signingSecrets(wh store.Webhook) []string {
	secrets := make([]string, 0, 1+len(wh.GraceSecrets))
	for _, s := range append([]string{wh.Secret}, wh.GraceSecrets...) {
		if !slices.Contains(secrets, s) {
			secrets = append(secrets, s)
		}
	}
	return secrets
}
