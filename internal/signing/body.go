package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Encodings of a body signature (API.md "hmac-body"): lower-case hex, as seed 000's
// fg-webhook-signature, or standard padded base64, as seed 003's X-Signature.
const (
	EncodingHex    = "hex"
	EncodingBase64 = "base64"
)

// ErrUnknownEncoding: a body signature's encoding is neither EncodingHex nor
// EncodingBase64.
var ErrUnknownEncoding = errors.New("unknown signature encoding")

// ErrBodySignatureMismatch: a body signature does not match the body and secret.
var ErrBodySignatureMismatch = errors.New("body signature does not match")

// BodySignature returns the body-only signature of an hmac-body webhook (API.md
// "hmac-body"): HMAC-SHA256 of the exact body bytes, keyed with the UTF-8 bytes of the
// whole secret string ("whsec_…", prefix included, not base64-decoded as Standard
// Webhooks does), in encoding (EncodingHex or EncodingBase64). It signs with any secret;
// validate secrets where they are written (ValidSecret). Errors never contain the secret.
func BodySignature(body []byte, secret, encoding string) (string, error) {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	sum := mac.Sum(nil)
	switch encoding {
	case EncodingHex:
		return hex.EncodeToString(sum), nil
	case EncodingBase64:
		return base64.StdEncoding.EncodeToString(sum), nil
	}
	return "", fmt.Errorf("body signature: %w %q", ErrUnknownEncoding, encoding)
}

// VerifyBody checks a body signature as a receiver would: sig (hex in either case, or
// base64, per encoding; surrounding spaces ignored) must be BodySignature of body with
// secret, compared in constant time. It returns nil, ErrBodySignatureMismatch or
// ErrUnknownEncoding.
func VerifyBody(body []byte, secret, encoding, sig string) error {
	sig = strings.TrimSpace(sig)
	var (
		got []byte
		err error
	)
	switch encoding {
	case EncodingHex:
		got, err = hex.DecodeString(sig)
	case EncodingBase64:
		got, err = base64.StdEncoding.Strict().DecodeString(sig)
	default:
		return fmt.Errorf("verify body signature: %w %q", ErrUnknownEncoding, encoding)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return fmt.Errorf("verify body signature: %w", ErrBodySignatureMismatch)
	}
	return nil
}
