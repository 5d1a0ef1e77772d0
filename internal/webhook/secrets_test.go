package webhook

import (
	"reflect"
	"testing"

	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/redact"
)

func TestKeepMaskedHeaders(t *testing.T) {
	t.Parallel()
	stored := map[string]string{"Authorization": "Bearer s3cr3t-xyz", "X-Api-Key": "k1", "X-Tenant": "t1"}
	tests := []struct {
		name  string
		given map[string]string
		want  map[string]string
	}{
		{"absent", nil, nil},
		{"sent back as read", map[string]string{"Authorization": redact.Masked, "X-Api-Key": redact.Masked, "X-Tenant": "t1"}, stored},
		{"any case", map[string]string{"authorization": redact.Masked}, map[string]string{"authorization": "Bearer s3cr3t-xyz"}},
		{"with spaces around (a receiver would strip them)", map[string]string{"Authorization": " " + redact.Masked + "\t"},
			map[string]string{"Authorization": "Bearer s3cr3t-xyz"}},
		{"new value", map[string]string{"Authorization": "Bearer new", "X-Api-Key": redact.Masked},
			map[string]string{"Authorization": "Bearer new", "X-Api-Key": "k1"}},
		{"dropped", map[string]string{"X-Tenant": "t2"}, map[string]string{"X-Tenant": "t2"}},
		{"nothing stored to keep", map[string]string{"X-Auth-Token": redact.Masked}, map[string]string{"X-Auth-Token": redact.Masked}},
		{"not a credential: the mask is a value", map[string]string{"X-Tenant": redact.Masked}, map[string]string{"X-Tenant": redact.Masked}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := KeepMaskedHeaders(tt.given, stored); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("KeepMaskedHeaders(%v) = %v, want %v", tt.given, got, tt.want)
			}
		})
	}
	if stored["Authorization"] != "Bearer s3cr3t-xyz" {
		t.Error("KeepMaskedHeaders changed the stored headers")
	}
}

// TestValidateRefusesMaskedCredential: the mask is never stored as a credential's value
// (it would be sent to the receiver); as another header's value it is just a value.
func TestValidateRefusesMaskedCredential(t *testing.T) {
	t.Parallel()
	s := valid()
	s.Headers = map[string]string{"X-Auth-Token": redact.Masked, "X-Tenant": redact.Masked, "X-Api-Key": redact.Masked + " ",
		"X-Jwt": "\u00a0" + redact.Masked + "\u200b"}
	got := problems(t, s.Validate(netguard.Options{}))
	want := []string{
		"headers.X-Api-Key: is or holds the mask reads show in place of a value; give the value itself",
		"headers.X-Auth-Token: is or holds the mask reads show in place of a value; give the value itself",
		"headers.X-Jwt: is or holds the mask reads show in place of a value; give the value itself",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Validate: %q, want %q", got, want)
	}
}

func TestSecretsRoundTrip(t *testing.T) {
	t.Parallel()
	s := valid()
	s.Headers = map[string]string{"Authorization": "Bearer s3cr3t-xyz"}
	back := Defaults().WithSecrets(s.Secrets())
	if !reflect.DeepEqual(back.Headers, s.Headers) {
		t.Errorf("headers %v, want %v", back.Headers, s.Headers)
	}
	if h := Defaults().WithSecrets(Secrets{}).Headers; h == nil || len(h) != 0 {
		t.Errorf("no secrets give headers %#v, want an empty map", h)
	}
}
