package activities

import (
	"net/http"
	"time"

	"github.com/hookd/hookd/internal/signing"
	"github.com/hookd/hookd/internal/store"
)

// signRequest sets the signature headers of one request of webhook wh: the Standard
// Webhooks headers for message id msgID at time at over body, and the body-only HMAC
// header of an hmac-body webhook. TODO(signatures): every valid secret during a
// rotation's grace period; hmac-body.
func signRequest(req *http.Request, wh store.Webhook, msgID string, at time.Time, body []byte) error {
	sig, err := signing.Sign(msgID, at, body, wh.Secret)
	if err != nil {
		return err
	}
	req.Header.Set(signing.HeaderID, msgID)
	req.Header.Set(signing.HeaderTimestamp, signing.Timestamp(at))
	req.Header.Set(signing.HeaderSignature, sig)
	return nil
}
