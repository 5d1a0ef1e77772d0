package webhook

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/signing"
	"github.com/hookd/hookd/internal/validation"
)

func TestCheckSignature(t *testing.T) {
	t.Parallel()
	hmacBody := func(header, encoding string) func(*Settings) {
		return func(s *Settings) { s.Signature = Signature{Scheme: SchemeHMACBody, Header: header, Encoding: encoding} }
	}
	tests := []struct {
		name string
		edit func(*Settings)
		want []string
	}{
		{"standard", func(*Settings) {}, nil},
		{"seed 000: fg-webhook-signature hex", hmacBody("fg-webhook-signature", "hex"), nil},
		{"seed 003: X-Signature base64", hmacBody("X-Signature", "base64"), nil},
		{"standard with a header and encoding", func(s *Settings) {
			s.Signature = Signature{Scheme: SchemeStandard, Header: "X-Sig", Encoding: "hex"}
		}, []string{
			`signature.header: is only for scheme "hmac-body"`,
			`signature.encoding: is only for scheme "hmac-body"`,
		}},
		{"unknown scheme", func(s *Settings) { s.Signature = Signature{Scheme: "hmac-sha1"} },
			[]string{`signature.scheme: must be "standard" or "hmac-body"`}},
		{"no scheme", func(s *Settings) { s.Signature = Signature{} },
			[]string{`signature.scheme: is required: "standard" or "hmac-body"`}},
		{"hmac-body without a header", hmacBody("", "hex"),
			[]string{`signature.header: is required with scheme "hmac-body"`}},
		{"unknown encoding", hmacBody("X-Signature", "base64url"),
			[]string{`signature.encoding: must be "hex" or "base64"`}},
		{"no encoding (the API's decoding defaults it)", hmacBody("X-Signature", ""),
			[]string{`signature.encoding: must be "hex" or "base64"`}},
		{"not a header name", hmacBody("X Signature", "hex"),
			[]string{"signature.header: is not a valid header name"}},
		{"a colon", hmacBody("X-Signature:", "hex"),
			[]string{"signature.header: is not a valid header name"}},
		{"too long", hmacBody("X-"+strings.Repeat("s", 127), "hex"),
			[]string{"signature.header: must be at most 128 characters"}},
		{"webhook-*", hmacBody("Webhook-Body-Signature", "hex"),
			[]string{"signature.header: webhook-* headers are reserved for the Standard Webhooks signature"}},
		{"webhook-signature in lower case", hmacBody("webhook-signature", "hex"),
			[]string{"signature.header: webhook-* headers are reserved for the Standard Webhooks signature"}},
		{"Content-Type", hmacBody("content-type", "hex"),
			[]string{"signature.header: is set by hookd and cannot carry the signature"}},
		{"User-Agent", hmacBody("User-Agent", "hex"),
			[]string{"signature.header: is set by hookd and cannot carry the signature"}},
		{"Authorization", hmacBody("AUTHORIZATION", "base64"),
			[]string{"signature.header: is set by hookd and cannot carry the signature"}},
		{"Host", hmacBody("Host", "hex"),
			[]string{"signature.header: is set by hookd and cannot carry the signature"}},
		{"Content-Length", hmacBody("Content-Length", "hex"),
			[]string{"signature.header: is set by hookd and cannot carry the signature"}},
		{"Transfer-Encoding", hmacBody("Transfer-Encoding", "hex"),
			[]string{"signature.header: is set by hookd and cannot carry the signature"}},
		{"also a custom header, in another case", func(s *Settings) {
			hmacBody("X-Signature", "base64")(s)
			s.Headers = map[string]string{"x-signature": "static", "X-Tenant": "t1"}
		}, []string{`signature.header: is also among the custom headers (as "x-signature"); remove it there`}},
		{"a custom header of another name", func(s *Settings) {
			hmacBody("X-Signature", "base64")(s)
			s.Headers = map[string]string{"X-Signature-Version": "1"}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := valid()
			tt.edit(&s)
			got := problems(t, s.Validate(netguard.Options{}))
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestSignatureJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     Signature
		unknown  []string // fields named by the *validation.Errors
		bad      bool     // any other error
	}{
		{"standard", `{"scheme":"standard"}`, Signature{Scheme: "standard"}, nil, false},
		{"hmac-body", `{"scheme":"hmac-body","header":"X-Signature","encoding":"base64"}`,
			Signature{Scheme: "hmac-body", Header: "X-Signature", Encoding: "base64"}, nil, false},
		{"hmac-body defaults to hex", `{"scheme":"hmac-body","header":"fg-webhook-signature"}`,
			Signature{Scheme: "hmac-body", Header: "fg-webhook-signature", Encoding: "hex"}, nil, false},
		{"a null encoding is absent", `{"scheme":"hmac-body","header":"X-Sig","encoding":null}`,
			Signature{Scheme: "hmac-body", Header: "X-Sig", Encoding: "hex"}, nil, false},
		{"standard gets no encoding", `{"scheme":"standard","header":"X-Sig"}`,
			Signature{Scheme: "standard", Header: "X-Sig"}, nil, false},
		{"unknown members", `{"scheme":"hmac-body","header":"X-Sig","encodng":"base64","Secret":"x"}`,
			Signature{}, []string{"signature.Secret", "signature.encodng"}, false},
		{"member names are case sensitive", `{"Scheme":"standard"}`, Signature{}, []string{"signature.Scheme"}, false},
		{"not an object", `"standard"`, Signature{}, nil, true},
		{"a wrong type", `{"scheme":1}`, Signature{}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got Signature
			err := json.Unmarshal([]byte(tt.in), &got)
			var v *validation.Errors
			switch {
			case tt.unknown != nil:
				if !errors.As(err, &v) {
					t.Fatalf("error %v, want a *validation.Errors", err)
				}
				var fields []string
				for _, f := range v.Errors {
					fields = append(fields, f.Field)
				}
				if !slices.Equal(fields, tt.unknown) {
					t.Errorf("fields %q, want %q", fields, tt.unknown)
				}
			case tt.bad:
				if err == nil || errors.As(err, &v) {
					t.Errorf("error %v, want a decoding error", err)
				}
			case err != nil:
				t.Fatal(err)
			case got != tt.want:
				t.Errorf("decoded %+v, want %+v", got, tt.want)
			}
		})
	}

	// null leaves the value as it was; the stored form reads back as written.
	sig := Signature{Scheme: "hmac-body", Header: "X-Signature", Encoding: "base64"}
	if err := json.Unmarshal([]byte("null"), &sig); err != nil || sig.Header != "X-Signature" {
		t.Errorf("null: %+v, %v", sig, err)
	}
	stored, err := json.Marshal(sig)
	if err != nil {
		t.Fatal(err)
	}
	var back Signature
	if err := json.Unmarshal(stored, &back); err != nil || back != sig {
		t.Errorf("round trip of %s: %+v, %v", stored, back, err)
	}
}

// TestEncodingsAreSignings: the activity hands Encoding to signing.BodySignature as is.
func TestEncodingsAreSignings(t *testing.T) {
	t.Parallel()
	if EncodingHex != signing.EncodingHex || EncodingBase64 != signing.EncodingBase64 {
		t.Fatalf("webhook encodings %q, %q differ from signing's %q, %q",
			EncodingHex, EncodingBase64, signing.EncodingHex, signing.EncodingBase64)
	}
}
