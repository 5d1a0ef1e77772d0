// Package auth owns hookd's API keys and what each role may do: it mints keys, hashes them
// for storage and lookup, parses Authorization headers, and answers permission questions.
// It never stores anything; internal/store keeps only the hash and a display prefix.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/hookd/hookd/internal/ids"
	"github.com/hookd/hookd/internal/store"
)

const (
	// KeyPrefix starts every plaintext API key, so a leaked key is recognisable in logs
	// and by secret scanners.
	KeyPrefix = "hk_"
	// keyBytes of randomness give 256 bits: guessing is hopeless, so a fast hash suffices.
	keyBytes = 32
	// displayLen is how much of the plaintext is kept for display ("hk_" + 8 characters).
	displayLen = len(KeyPrefix) + 8
	// maxKeyLen bounds what we bother hashing from an Authorization header.
	maxKeyLen = 256
)

// NewKey mints a random API key. The plaintext is shown to its owner once and never stored;
// prefix is safe to display; hash is what the store keeps and looks keys up by.
func NewKey() (plaintext, prefix string, hash []byte) {
	b := make([]byte, keyBytes)
	rand.Read(b) // never fails (crypto/rand crashes the program rather than return an error)
	plaintext = KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return plaintext, plaintext[:displayLen], Hash(plaintext)
}

// Hash returns the SHA-256 of a plaintext key. Keys carry 256 bits of randomness, so a
// slow password hash would add latency to every request and no security.
func Hash(plaintext string) []byte {
	sum := sha256.Sum256([]byte(plaintext))
	return sum[:]
}

// Issue mints a key for an organization and returns its plaintext and the record to
// store with store.InsertAPIKey. Use it for `hookd keys create`, dev bootstrap and tests.
func Issue(orgID string, role store.Role, name string) (plaintext string, key store.APIKey) {
	plaintext, _, _ = NewKey()
	return plaintext, Record(orgID, role, name, plaintext)
}

// Record returns the record to store for a plaintext key chosen elsewhere (an operator's
// HOOKD_ADMIN_KEY, say): its hash and a display prefix, never the plaintext.
func Record(orgID string, role store.Role, name, plaintext string) store.APIKey {
	return store.APIKey{
		ID:     ids.New(ids.APIKey),
		OrgID:  orgID,
		Role:   role,
		Name:   name,
		Prefix: plaintext[:min(displayLen, len(plaintext))],
		Hash:   Hash(plaintext),
	}
}

// BearerToken extracts the token from an Authorization header value ("Bearer <token>",
// scheme case-insensitive). It reports false for any other scheme, an empty token, or a
// token too long to be one of ours.
func BearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" || len(token) > maxKeyLen {
		return "", false
	}
	return token, true
}
