package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// bodyMAC is the body signature computed independently of BodySignature: HMAC-SHA256 of
// body keyed with the secret string's bytes.
func bodyMAC(body []byte, secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

func TestBodySignature(t *testing.T) {
	t.Parallel()
	body := []byte(`{"timestamp":"2026-11-30T12:00:00Z","payload":{"type":"device.created"}}` + "\n")
	want := bodyMAC(body, specSecret)
	tests := []struct {
		encoding string
		want     string
	}{
		{EncodingHex, hex.EncodeToString(want)},
		{EncodingBase64, base64.StdEncoding.EncodeToString(want)},
	}
	for _, tt := range tests {
		t.Run(tt.encoding, func(t *testing.T) {
			t.Parallel()
			got, err := BodySignature(body, specSecret, tt.encoding)
			if err != nil || got != tt.want {
				t.Fatalf("BodySignature = %q, %v; want %q", got, err, tt.want)
			}
			if err := VerifyBody(body, specSecret, tt.encoding, got); err != nil {
				t.Errorf("VerifyBody of its own signature: %v", err)
			}
		})
	}
}

// TestBodySignatureKey: the key is the whole secret string, prefix included, not the
// decoded key Standard Webhooks uses, and the exact bytes are signed.
func TestBodySignatureKey(t *testing.T) {
	t.Parallel()
	body := []byte(`{"a":1}`)
	got, err := BodySignature(body, specSecret, EncodingHex)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(specSecret, SecretPrefix))
	for name, other := range map[string][]byte{
		"decoded key":    bodyMAC(body, string(key)),
		"without prefix": bodyMAC(body, strings.TrimPrefix(specSecret, SecretPrefix)),
		"other body":     bodyMAC([]byte(`{"a": 1}`), specSecret),
	} {
		if hex.EncodeToString(other) == got {
			t.Errorf("the signature equals the one with the %s", name)
		}
	}
	// A known answer (Python's hmac over the same key and body), so a change of key or
	// message is seen even if bodyMAC changed with it.
	if want := "45ec03b2b33403c8043a90de06bedad0827183927115fd7e448ef97eeb13c5be"; got != want {
		t.Errorf("BodySignature = %s, want %s", got, want)
	}
	if got, _ := BodySignature(body, specSecret, EncodingBase64); got != "RewDsrM0A8gEOpDeBr7a0IJxg5JxFf1+RI75fusTxb4=" {
		t.Errorf("BodySignature(base64) = %s", got)
	}
}

func TestBodySignatureUnknownEncoding(t *testing.T) {
	t.Parallel()
	for _, enc := range []string{"", "HEX", "base64url", "raw"} {
		if got, err := BodySignature([]byte("x"), specSecret, enc); !errors.Is(err, ErrUnknownEncoding) || got != "" {
			t.Errorf("BodySignature(encoding %q) = %q, %v; want ErrUnknownEncoding", enc, got, err)
		}
		if err := VerifyBody([]byte("x"), specSecret, enc, "00"); !errors.Is(err, ErrUnknownEncoding) {
			t.Errorf("VerifyBody(encoding %q) = %v; want ErrUnknownEncoding", enc, err)
		}
	}
	if _, err := BodySignature(nil, specSecret, "nope"); err != nil && strings.Contains(err.Error(), specSecret) {
		t.Errorf("error %q leaks the secret", err)
	}
}

func TestVerifyBody(t *testing.T) {
	t.Parallel()
	body := []byte(`{"events":[{"id":"1"}]}`)
	sum := bodyMAC(body, specSecret)
	hexSig, b64Sig := hex.EncodeToString(sum), base64.StdEncoding.EncodeToString(sum)
	tests := []struct {
		name, encoding, sig, secret string
		body                        []byte
		ok                          bool
	}{
		{"hex", EncodingHex, hexSig, specSecret, body, true},
		{"hex upper case", EncodingHex, strings.ToUpper(hexSig), specSecret, body, true},
		{"base64", EncodingBase64, b64Sig, specSecret, body, true},
		{"spaces around", EncodingBase64, " " + b64Sig + " ", specSecret, body, true},
		{"other secret", EncodingHex, hexSig, newSecretString(), body, false},
		{"body changed", EncodingHex, hexSig, specSecret, append([]byte(nil), append(body, ' ')...), false},
		{"hex given as base64", EncodingBase64, hexSig, specSecret, body, false},
		{"base64 given as hex", EncodingHex, b64Sig, specSecret, body, false},
		{"truncated", EncodingHex, hexSig[:62], specSecret, body, false},
		{"empty", EncodingHex, "", specSecret, body, false},
		{"unpadded base64", EncodingBase64, strings.TrimRight(b64Sig, "="), specSecret, body, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := VerifyBody(tt.body, tt.secret, tt.encoding, tt.sig)
			if tt.ok && err != nil {
				t.Fatalf("VerifyBody: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrBodySignatureMismatch) {
				t.Fatalf("VerifyBody = %v, want ErrBodySignatureMismatch", err)
			}
		})
	}
}

// FuzzVerifyBody: whatever the signature a receiver is sent, VerifyBody never panics and
// accepts only the one BodySignature makes.
func FuzzVerifyBody(f *testing.F) {
	f.Add([]byte(`{"a":1}`), "hex", "00")
	f.Add([]byte(``), "base64", "====")
	f.Add([]byte(`x`), "base64", "AAAA")
	f.Fuzz(func(t *testing.T, body []byte, encoding, sig string) {
		err := VerifyBody(body, specSecret, encoding, sig)
		if err != nil {
			return
		}
		want, werr := BodySignature(body, specSecret, encoding)
		if werr != nil {
			t.Fatalf("VerifyBody accepted an encoding BodySignature refuses: %q", encoding)
		}
		got := strings.TrimSpace(sig)
		if encoding == EncodingHex {
			got = strings.ToLower(got)
		}
		if got != want {
			t.Fatalf("VerifyBody accepted %q for %q, want %q", sig, body, want)
		}
	})
}

func newSecretString() string {
	s, err := NewSecret()
	if err != nil {
		panic(err)
	}
	return s
}
