package secretbox

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"
)

type record struct {
	Headers map[string]string `json:"headers,omitempty"`
}

func TestSealJSONRoundTrip(t *testing.T) {
	t.Parallel()
	b := newBox(t)
	in := record{Headers: map[string]string{"Authorization": "Bearer s3cr3t-xyz"}}
	sealed, err := b.SealJSON(in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("s3cr3t")) || bytes.Contains(sealed, []byte("Authorization")) {
		t.Fatal("sealed value shows the plaintext")
	}
	var out record
	if err := b.OpenJSON(sealed, &out); err != nil || !reflect.DeepEqual(out, in) {
		t.Fatalf("OpenJSON = %+v, %v; want %+v", out, err, in)
	}

	if err := newBox(t).OpenJSON(sealed, &out); !errors.Is(err, ErrOpen) {
		t.Errorf("another key: %v, want ErrOpen", err)
	}
	notJSON, err := b.Seal([]byte("{"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.OpenJSON(notJSON, &out); err == nil || errors.Is(err, ErrOpen) {
		t.Errorf("sealed non-JSON: %v, want a decode error", err)
	}
	if _, err := b.SealJSON(func() {}); err == nil {
		t.Error("SealJSON of a func did not fail")
	}
}

// FuzzOpenJSON: bytes that SealJSON did not make never open (and never panic), and a
// record of any strings survives SealJSON and OpenJSON.
func FuzzOpenJSON(f *testing.F) {
	b, err := New(GenerateKey())
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{1, 2, 3}, "Authorization", "Bearer s3cr3t-xyz")
	f.Add(make([]byte, 40), "X-Api-Key", "")
	f.Fuzz(func(t *testing.T, junk []byte, name, value string) {
		var out record
		if err := b.OpenJSON(junk, &out); !errors.Is(err, ErrOpen) {
			t.Fatalf("OpenJSON(%x) = %v, want ErrOpen", junk, err)
		}
		if !utf8.ValidString(name) || !utf8.ValidString(value) {
			return // JSON carries text: invalid UTF-8 comes back replaced
		}
		in := record{Headers: map[string]string{name: value}}
		sealed, err := b.SealJSON(in)
		if err != nil {
			t.Fatal(err)
		}
		out = record{}
		if err := b.OpenJSON(sealed, &out); err != nil || !reflect.DeepEqual(out, in) {
			t.Fatalf("round trip of %+v: %+v, %v", in, out, err)
		}
	})
}
