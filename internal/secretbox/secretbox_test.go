package secretbox

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"
)

func newBox(t *testing.T) *Box {
	t.Helper()
	b, err := New(GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	b := newBox(t)
	for _, tc := range []struct {
		name      string
		plaintext []byte
	}{
		{"empty", []byte{}},
		{"secret", []byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")},
		{"binary", bytes.Repeat([]byte{0, 255, 7}, 1000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sealed, err := b.Seal(tc.plaintext)
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.plaintext) > 4 && bytes.Contains(sealed, tc.plaintext) {
				t.Fatal("sealed value contains the plaintext")
			}
			got, err := b.Open(sealed)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.plaintext) {
				t.Fatalf("Open = %q, want %q", got, tc.plaintext)
			}
		})
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	t.Parallel()
	b := newBox(t)
	x, _ := b.Seal([]byte("same"))
	y, _ := b.Seal([]byte("same"))
	if bytes.Equal(x, y) {
		t.Fatal("two seals of the same value are equal")
	}
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	b := newBox(t)
	sealed, err := b.Seal([]byte("whsec_abc"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 1
		return c
	}
	for _, tc := range []struct {
		name string
		box  *Box
		in   []byte
	}{
		{"nil", b, nil},
		{"truncated", b, sealed[:len(sealed)-1]},
		{"version", b, flip(0)},
		{"nonce", b, flip(1)},
		{"ciphertext", b, flip(len(sealed) - 17)},
		{"tag", b, flip(len(sealed) - 1)},
		{"other key", newBox(t), sealed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.box.Open(tc.in); !errors.Is(err, ErrOpen) {
				t.Fatalf("Open = %v, want ErrOpen", err)
			}
		})
	}
}

func TestNewRejectsWrongKeySize(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 24, 31, 33} {
		if _, err := New(make([]byte, n)); err == nil {
			t.Errorf("New with %d-byte key succeeded", n)
		}
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	key := GenerateKey()
	for _, tc := range []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"std", EncodeKey(key), false},
		{"raw std", base64.RawStdEncoding.EncodeToString(key), false},
		{"url", base64.URLEncoding.EncodeToString(key), false},
		{"raw url with spaces", " " + base64.RawURLEncoding.EncodeToString(key) + "\n", false},
		{"short", base64.StdEncoding.EncodeToString(key[:16]), true},
		{"not base64", "this is not base64!", true},
		{"empty", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseKey(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseKey err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && !bytes.Equal(got, key) {
				t.Fatal("ParseKey returned a different key")
			}
		})
	}
}
