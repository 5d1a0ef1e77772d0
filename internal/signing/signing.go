// Package signing signs and verifies webhook requests per Standard Webhooks
// (https://www.standardwebhooks.com/): the webhook-id, webhook-timestamp and
// webhook-signature headers, with "v1," HMAC-SHA256 signatures keyed by "whsec_" secrets.
//
// The HMAC itself comes from the Standard Webhooks reference library; this package adds
// secret generation and validation, signing with several secrets at once (for rotation
// grace periods) and verification at an injectable time. It also makes the body-only
// HMAC of hmac-body webhooks (BodySignature, API.md "hmac-body").
package signing

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Header names of Standard Webhooks.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// Bounds on the decoded key of a secret, from the Standard Webhooks specification.
const (
	MinSecretBytes = 24
	MaxSecretBytes = 64
	secretBytes    = 32 // what NewSecret makes
)

// Tolerance is how far a webhook-timestamp may be from the verifier's clock, either way.
const Tolerance = 5 * time.Minute

// Errors returned by Sign and Verify; compare with errors.Is.
var (
	// ErrInvalidSecret: the secret is not "whsec_" + base64 of 24..64 bytes.
	ErrInvalidSecret = errors.New("invalid signing secret")
	// ErrMissingHeaders: the id, timestamp or signature is empty.
	ErrMissingHeaders = standardwebhooks.ErrRequiredHeaders
	// ErrInvalidTimestamp: the timestamp is not Unix seconds.
	ErrInvalidTimestamp = standardwebhooks.ErrInvalidHeaders
	// ErrMessageTooOld and ErrMessageTooNew: the timestamp is outside Tolerance.
	ErrMessageTooOld = standardwebhooks.ErrMessageTooOld
	ErrMessageTooNew = standardwebhooks.ErrMessageTooNew
	// ErrNoMatchingSignature: no v1 signature in the header matches the secret.
	ErrNoMatchingSignature = standardwebhooks.ErrNoMatchingSignature
)

// NewSecret returns a fresh secret: "whsec_" + base64 of 32 random bytes.
func NewSecret() (string, error) {
	key := make([]byte, secretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// ValidSecret reports whether s is "whsec_" followed by standard, padded base64 of 24 to 64
// bytes. Sign accepts only valid secrets.
func ValidSecret(s string) bool {
	_, err := decodeSecret(s)
	return err == nil
}

func decodeSecret(s string) ([]byte, error) {
	b64, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: missing %q prefix", ErrInvalidSecret, SecretPrefix)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(b64)
	// The decoder skips newlines; only the canonical encoding is a valid secret.
	if err != nil || base64.StdEncoding.EncodeToString(key) != b64 {
		return nil, fmt.Errorf("%w: not base64", ErrInvalidSecret)
	}
	if len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
		return nil, fmt.Errorf("%w: key is %d bytes, want %d to %d", ErrInvalidSecret, len(key), MinSecretBytes, MaxSecretBytes)
	}
	return key, nil
}

// Sign returns the webhook-signature header value for one request: "v1,<base64>" per
// secret, space-separated, in the order given (during a rotation grace period pass the new
// secret and the old one). ts is sent as webhook-timestamp in Unix seconds. Errors never
// contain the secret.
func Sign(msgID string, ts time.Time, body []byte, secrets ...string) (string, error) {
	if len(secrets) == 0 {
		return "", fmt.Errorf("sign: %w: no secret", ErrInvalidSecret)
	}
	sigs := make([]string, 0, len(secrets))
	for i, s := range secrets {
		key, err := decodeSecret(s)
		if err != nil {
			return "", fmt.Errorf("sign with secret %d: %w", i, err)
		}
		wh, err := standardwebhooks.NewWebhookRaw(key)
		if err != nil {
			return "", fmt.Errorf("sign with secret %d: %w", i, err)
		}
		sig, err := wh.Sign(msgID, ts, body)
		if err != nil {
			return "", fmt.Errorf("sign with secret %d: %w", i, err)
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

// Timestamp formats ts as a webhook-timestamp header value (Unix seconds).
func Timestamp(ts time.Time) string {
	return strconv.FormatInt(ts.Unix(), 10)
}

// Verify checks a request as a receiver would, at the current time: the timestamp must be
// within Tolerance and one of the v1 signatures must match secret. See VerifyAt.
func Verify(msgID, tsHeader, sigHeader string, body []byte, secret string) error {
	return VerifyAt(msgID, tsHeader, sigHeader, body, secret, time.Now())
}

// VerifyAt is Verify with the clock passed in, for tests and replays. The secret only needs
// the "whsec_" prefix and base64 (verification is lenient about key length, like the
// reference libraries).
func VerifyAt(msgID, tsHeader, sigHeader string, body []byte, secret string, now time.Time) error {
	if msgID == "" || tsHeader == "" || sigHeader == "" {
		return fmt.Errorf("verify signature: %w", ErrMissingHeaders)
	}
	b64, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return fmt.Errorf("verify signature: %w: missing %q prefix", ErrInvalidSecret, SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) == 0 {
		return fmt.Errorf("verify signature: %w: not base64", ErrInvalidSecret)
	}
	sec, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return fmt.Errorf("verify signature: %w: timestamp is not Unix seconds", ErrInvalidTimestamp)
	}
	ts := time.Unix(sec, 0)
	if now.Sub(ts) > Tolerance {
		return fmt.Errorf("verify signature: %w", ErrMessageTooOld)
	}
	if ts.Sub(now) > Tolerance {
		return fmt.Errorf("verify signature: %w", ErrMessageTooNew)
	}
	wh, err := standardwebhooks.NewWebhookRaw(key)
	if err != nil {
		return fmt.Errorf("verify signature: %w", err)
	}
	h := http.Header{}
	h.Set(HeaderID, msgID)
	h.Set(HeaderTimestamp, tsHeader)
	h.Set(HeaderSignature, sigHeader)
	// The timestamp was checked above against our own clock.
	if err := wh.VerifyIgnoringTimestamp(body, h); err != nil {
		if errors.Is(err, ErrNoMatchingSignature) {
			// The library's message adds nothing but noise.
			return fmt.Errorf("verify signature: %w", ErrNoMatchingSignature)
		}
		return fmt.Errorf("verify signature: %w", err)
	}
	return nil
}
