package redact

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSensitive(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"Authorization": true, "authorization": true, "Proxy-Authorization": true, "Cookie": true,
		"X-Api-Key": true, "X-API-KEY": true, "X-Auth-Token": true, "X-Signature-Token": true,
		"X-Client-Secret": true, "X-Password": true, "X-Session-Id": true, "X-Hub-Signature-256": true,
		"Webhook-Signature": true, "Idempotency-Key": true,
		"X-Pwd": true, "X-Passphrase": true, "X-Credential": true, "X-Hmac": true, "X-Sig": true,
		"X-Jwt": true, "X-Bearer": true, "X-Private": true, "X-Access": true,
		"X-Tenant": false, "Content-Type": false, "User-Agent": false, "Webhook-Id": false,
		"Accept": false, "X-Request-Id": false, "": false,
	} {
		if got := Sensitive(name); got != want {
			t.Errorf("Sensitive(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestIsMask(t *testing.T) {
	t.Parallel()
	for value, want := range map[string]bool{
		Masked: true, " " + Masked: true, Masked + " ": true, "\t" + Masked + "\t": true,
		"": false, "*******": false, Masked + "x": false, "x " + Masked: false,
	} {
		if got := IsMask(value); got != want {
			t.Errorf("IsMask(%q) = %v, want %v", value, got, want)
		}
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	in := map[string]string{
		"Authorization":     "Bearer s3cr3t-xyz",
		"Cookie":            "sid=abc",
		"X-Api-Key":         "k-123",
		"X-Signature-Token": "tok",
		"X-Tenant":          "t1",
		"Webhook-Signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
		"Webhook-Id":        "dlv_1",
	}
	want := map[string]string{
		"Authorization":     Masked,
		"Cookie":            Masked,
		"X-Api-Key":         Masked,
		"X-Signature-Token": Masked,
		"X-Tenant":          "t1",
		"Webhook-Signature": "v1,K5oZfzN…",
		"Webhook-Id":        "dlv_1",
	}
	got := Headers(in)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Headers\n%v\nwant\n%v", got, want)
	}
	if in["Authorization"] != "Bearer s3cr3t-xyz" {
		t.Error("Headers changed its argument")
	}
	if !reflect.DeepEqual(Headers(got), got) {
		t.Error("Headers of masked headers changed them")
	}
	if m := Headers(nil); m == nil || len(m) != 0 {
		t.Errorf("Headers(nil) = %#v, want an empty map", m)
	}
	if got := Header("webhook-signature", "v1,short"); got != "v1,short" {
		t.Errorf("a short signature became %q", got)
	}
}

// FuzzHeader: whatever the name and value, a sensitive value is never shown past the
// signature's 10 bytes, the answer is valid UTF-8 when the value is, and showing what
// Header showed changes nothing (a read of a record written masked shows the same).
func FuzzHeader(f *testing.F) {
	f.Add("Authorization", "Bearer s3cr3t-xyz")
	f.Add("webhook-signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=")
	f.Add("Webhook-Signature", "v1,ééééééééé")
	f.Add("X-Tenant", "t1")
	f.Fuzz(func(t *testing.T, name, value string) {
		shown := Header(name, value)
		if again := Header(name, shown); again != shown {
			t.Fatalf("Header(%q, %q) = %q, then %q", name, value, shown, again)
		}
		if utf8.ValidString(value) && !utf8.ValidString(shown) {
			t.Fatalf("Header(%q, %q) = %q is not valid UTF-8", name, value, shown)
		}
		switch {
		case strings.EqualFold(name, "webhook-signature"):
			if len(value) > signatureKept && len(strings.TrimSuffix(shown, "…")) > signatureKept {
				t.Fatalf("signature shown as %q", shown)
			}
		case Sensitive(name):
			if shown != Masked {
				t.Fatalf("Header(%q, %q) = %q, want it masked", name, value, shown)
			}
		default:
			if shown != value {
				t.Fatalf("Header(%q, %q) = %q, want the value", name, value, shown)
			}
		}
	})
}
