// Package secretbox encrypts the secrets hookd stores (webhook signing secrets, target
// credentials) with AES-256-GCM under one key from configuration.
//
// A sealed value is version byte 1, a random 12-byte nonce, then the ciphertext with its
// 16-byte tag. The version byte leaves room for key rotation later.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of an AES-256 key.
const KeySize = 32

const version1 byte = 1

// ErrOpen is returned by Open for anything that is not a value sealed with this key:
// truncated, tampered with, or sealed under another key.
var ErrOpen = errors.New("secretbox: cannot open sealed value")

// Box seals and opens values under one key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secretbox: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("new gcm: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext with a fresh random nonce; sealing the same value twice gives
// different results.
func (b *Box) Seal(plaintext []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+b.aead.Overhead())
	out[0] = version1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	return b.aead.Seal(out, out[1:], plaintext, out[:1]), nil
}

// Open decrypts what Seal made, or returns ErrOpen.
func (b *Box) Open(sealed []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(sealed) < 1+ns+b.aead.Overhead() || sealed[0] != version1 {
		return nil, ErrOpen
	}
	plaintext, err := b.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], sealed[:1])
	if err != nil {
		return nil, ErrOpen
	}
	return plaintext, nil
}

// SealJSON seals the JSON encoding of v: a small record of secrets kept as one value, such
// as a webhook's custom header values and target credentials (webhook.Secrets). It fails
// only if v cannot be encoded.
func (b *Box) SealJSON(v any) ([]byte, error) {
	plaintext, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode sealed value: %w", err)
	}
	return b.Seal(plaintext)
}

// OpenJSON opens what SealJSON sealed and decodes it into v (as json.Unmarshal does):
// ErrOpen if it cannot be opened, another error if it does not decode into v.
func (b *Box) OpenJSON(sealed []byte, v any) error {
	plaintext, err := b.Open(sealed)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(plaintext, v); err != nil {
		return fmt.Errorf("decode sealed value: %w", err)
	}
	return nil
}

// GenerateKey returns a new random 32-byte key.
func GenerateKey() []byte {
	key := make([]byte, KeySize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (it crashes the program instead)
	return key
}

// EncodeKey is the base64 form of key that ParseKey reads (for configuration files).
func EncodeKey(key []byte) string {
	return base64.StdEncoding.EncodeToString(key)
}

// ParseKey decodes a base64 key (standard or URL alphabet, padded or not) and checks that
// it is 32 bytes long.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	var key []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, errors.New("secretbox: key is not valid base64")
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("secretbox: key is %d bytes, want %d", len(key), KeySize)
	}
	return key, nil
}
