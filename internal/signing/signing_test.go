package signing

import (
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test vector published with the Standard Webhooks specification.
const (
	specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specMsgID  = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTS     = 1614265330
	specBody   = `{"test": 2432232314}`
	specSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignSpecVector(t *testing.T) {
	t.Parallel()
	got, err := Sign(specMsgID, time.Unix(specTS, 0), []byte(specBody), specSecret)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if got != specSig {
		t.Fatalf("Sign = %q, want %q", got, specSig)
	}
	if err := VerifyAt(specMsgID, "1614265330", specSig, []byte(specBody), specSecret, time.Unix(specTS+10, 0)); err != nil {
		t.Fatalf("VerifyAt(spec vector): %v", err)
	}
}

func TestSignMultipleSecrets(t *testing.T) {
	t.Parallel()
	other := newSecret(t)
	ts := time.Unix(specTS, 0)
	got, err := Sign(specMsgID, ts, []byte(specBody), specSecret, other)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	parts := strings.Split(got, " ")
	if len(parts) != 2 {
		t.Fatalf("Sign = %q, want two space-separated signatures", got)
	}
	if parts[0] != specSig {
		t.Errorf("first signature = %q, want the spec's %q", parts[0], specSig)
	}
	single, err := Sign(specMsgID, ts, []byte(specBody), other)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if parts[1] != single {
		t.Errorf("second signature = %q, want %q", parts[1], single)
	}
	// A receiver holding either secret accepts the request.
	for _, secret := range []string{specSecret, other} {
		if err := VerifyAt(specMsgID, Timestamp(ts), got, []byte(specBody), secret, ts); err != nil {
			t.Errorf("VerifyAt with one of the secrets: %v", err)
		}
	}
	if err := VerifyAt(specMsgID, Timestamp(ts), got, []byte(specBody), newSecret(t), ts); !errors.Is(err, ErrNoMatchingSignature) {
		t.Errorf("VerifyAt with a third secret = %v, want ErrNoMatchingSignature", err)
	}
}

func TestSignErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		secrets []string
	}{
		{"no secret", nil},
		{"no prefix", []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
		{"not base64", []string{"whsec_!!!!"}},
		{"too short", []string{"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 23))}},
		{"too long", []string{"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65))}},
		{"one bad among good", []string{specSecret, "whsec_"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sig, err := Sign(specMsgID, time.Unix(specTS, 0), []byte(specBody), tt.secrets...)
			if !errors.Is(err, ErrInvalidSecret) {
				t.Fatalf("Sign = (%q, %v), want ErrInvalidSecret", sig, err)
			}
			for _, s := range tt.secrets {
				if len(s) > len("whsec_") && strings.Contains(err.Error(), s) {
					t.Errorf("error %q leaks the secret", err)
				}
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, b := newSecret(t), newSecret(t)
	if a == b {
		t.Fatal("two secrets are equal")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, SecretPrefix))
	if err != nil || len(key) != 32 {
		t.Fatalf("secret %q decodes to %d bytes (%v), want 32", a, len(key), err)
	}
}

func TestValidSecret(t *testing.T) {
	t.Parallel()
	enc := func(n int) string { return SecretPrefix + base64.StdEncoding.EncodeToString(make([]byte, n)) }
	tests := []struct {
		secret string
		want   bool
	}{
		{specSecret, true},
		{enc(24), true},
		{enc(32), true},
		{enc(64), true},
		{enc(23), false},
		{enc(65), false},
		{"", false},
		{"whsec_", false},
		{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", false},
		{"WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", false},
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", false},                           // truncated
		{"whsec_" + base64.RawStdEncoding.EncodeToString(make([]byte, 32)), false}, // unpadded
		{"whsec_" + base64.URLEncoding.EncodeToString([]byte(strings.Repeat("\xff", 30))), false},
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.secret, func(t *testing.T) {
			t.Parallel()
			if got := ValidSecret(tt.secret); got != tt.want {
				t.Errorf("ValidSecret(%q) = %v, want %v", tt.secret, got, tt.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	ts := time.Unix(specTS, 0)
	tsHeader := Timestamp(ts)
	body := []byte(specBody)
	tests := []struct {
		name     string
		msgID    string
		tsHeader string
		sig      string
		body     []byte
		secret   string
		now      time.Time
		want     error
	}{
		{"valid", specMsgID, tsHeader, specSig, body, specSecret, ts, nil},
		{"valid at tolerance edge (old)", specMsgID, tsHeader, specSig, body, specSecret, ts.Add(Tolerance), nil},
		{"valid at tolerance edge (new)", specMsgID, tsHeader, specSig, body, specSecret, ts.Add(-Tolerance), nil},
		{"valid among others", specMsgID, tsHeader, "v1,bm9wZQ== v2,xyz garbage " + specSig, body, specSecret, ts, nil},
		{"wrong secret", specMsgID, tsHeader, specSig, body, newSecret(t), ts, ErrNoMatchingSignature},
		{"stale timestamp", specMsgID, tsHeader, specSig, body, specSecret, ts.Add(Tolerance + time.Second), ErrMessageTooOld},
		{"future timestamp", specMsgID, tsHeader, specSig, body, specSecret, ts.Add(-Tolerance - time.Second), ErrMessageTooNew},
		{"tampered body", specMsgID, tsHeader, specSig, []byte(`{"test": 2432232315}`), specSecret, ts, ErrNoMatchingSignature},
		{"tampered id", "msg_other", tsHeader, specSig, body, specSecret, ts, ErrNoMatchingSignature},
		{"tampered timestamp", specMsgID, Timestamp(ts.Add(time.Second)), specSig, body, specSecret, ts, ErrNoMatchingSignature},
		{"wrong version", specMsgID, tsHeader, "v2," + strings.TrimPrefix(specSig, "v1,"), body, specSecret, ts, ErrNoMatchingSignature},
		{"bare signature", specMsgID, tsHeader, strings.TrimPrefix(specSig, "v1,"), body, specSecret, ts, ErrNoMatchingSignature},
		{"missing id", "", tsHeader, specSig, body, specSecret, ts, ErrMissingHeaders},
		{"missing timestamp", specMsgID, "", specSig, body, specSecret, ts, ErrMissingHeaders},
		{"missing signature", specMsgID, tsHeader, "", body, specSecret, ts, ErrMissingHeaders},
		{"timestamp not a number", specMsgID, "yesterday", specSig, body, specSecret, ts, ErrInvalidTimestamp},
		{"timestamp huge", specMsgID, "99999999999999999999", specSig, body, specSecret, ts, ErrInvalidTimestamp},
		{"secret without prefix", specMsgID, tsHeader, specSig, body, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", ts, ErrInvalidSecret},
		{"secret not base64", specMsgID, tsHeader, specSig, body, "whsec_%%%", ts, ErrInvalidSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := VerifyAt(tt.msgID, tt.tsHeader, tt.sig, tt.body, tt.secret, tt.now)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("VerifyAt: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyAt = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestVerifyNow covers Verify's use of the real clock.
func TestVerifyNow(t *testing.T) {
	t.Parallel()
	secret := newSecret(t)
	now := time.Now()
	body := []byte(`{"hello":"world"}`)
	sig, err := Sign("dlv_1", now, body, secret)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if err := Verify("dlv_1", Timestamp(now), sig, body, secret); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := Verify("dlv_1", Timestamp(now.Add(-time.Hour)), sig, body, secret); !errors.Is(err, ErrMessageTooOld) {
		t.Fatalf("Verify an hour-old timestamp = %v, want ErrMessageTooOld", err)
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(specMsgID, "1614265330", specSig, []byte(specBody), int64(specTS))
	f.Add("", "", "", []byte(nil), int64(0))
	f.Add("dlv_x", "-1", "v1, v1,,, ,v1", []byte("{}"), int64(-1))
	f.Add("a.b.c", "9223372036854775807", "v1,"+strings.Repeat("A", 44), []byte("\x00\xff"), int64(1<<62))
	f.Fuzz(func(t *testing.T, msgID, tsHeader, sigHeader string, body []byte, nowUnix int64) {
		now := time.Unix(nowUnix, 0)
		// Arbitrary input never panics and never verifies by accident.
		if err := VerifyAt(msgID, tsHeader, sigHeader, body, specSecret, now); err == nil {
			sec, err := strconv.ParseInt(tsHeader, 10, 64)
			if err != nil {
				t.Fatalf("VerifyAt accepted timestamp %q", tsHeader)
			}
			want, err := Sign(msgID, time.Unix(sec, 0), body, specSecret)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			// The reference library ignores anything after a second comma.
			if !slices.ContainsFunc(strings.Split(sigHeader, " "), func(f string) bool { return f == want || strings.HasPrefix(f, want+",") }) {
				t.Fatalf("VerifyAt accepted %q, which lacks the real signature %q", sigHeader, want)
			}
		}
		// Whatever was signed verifies, and a changed body does not.
		if msgID == "" {
			return
		}
		sig, err := Sign(msgID, now, body, specSecret)
		if err != nil {
			t.Fatalf("Sign: %v", err)
		}
		if err := VerifyAt(msgID, Timestamp(now), sig, body, specSecret, now); err != nil {
			t.Fatalf("VerifyAt(own signature): %v", err)
		}
		tampered := append([]byte{'x'}, body...)
		if err := VerifyAt(msgID, Timestamp(now), sig, tampered, specSecret, now); !errors.Is(err, ErrNoMatchingSignature) {
			t.Fatalf("VerifyAt(tampered body) = %v, want ErrNoMatchingSignature", err)
		}
	})
}

func newSecret(t *testing.T) string {
	t.Helper()
	s, err := NewSecret()
	if err != nil {
		t.Fatalf("NewSecret: %v", err)
	}
	return s
}
