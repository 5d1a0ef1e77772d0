package auth

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/store"
)

func TestNewKey(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		plain, prefix, hash := NewKey()
		if !strings.HasPrefix(plain, KeyPrefix) {
			t.Fatalf("key %q lacks %q", plain, KeyPrefix)
		}
		if len(plain) != len(KeyPrefix)+43 {
			t.Fatalf("key length %d, want %d", len(plain), len(KeyPrefix)+43)
		}
		if !strings.HasPrefix(plain, prefix) || len(prefix) != 11 {
			t.Fatalf("prefix %q is not the first 11 characters of the key", prefix)
		}
		want := sha256.Sum256([]byte(plain))
		if !bytes.Equal(hash, want[:]) || !bytes.Equal(Hash(plain), hash) {
			t.Fatal("hash is not sha256 of the plaintext")
		}
		if seen[plain] {
			t.Fatal("duplicate key")
		}
		seen[plain] = true
	}
}

func TestIssue(t *testing.T) {
	t.Parallel()
	plain, k := Issue("org_1", store.RoleViewer, "ci")
	if !strings.HasPrefix(k.ID, "key_") || k.OrgID != "org_1" || k.Role != store.RoleViewer || k.Name != "ci" {
		t.Fatalf("unexpected record %+v", k)
	}
	if !bytes.Equal(k.Hash, Hash(plain)) || !strings.HasPrefix(plain, k.Prefix) {
		t.Fatal("record does not match plaintext")
	}
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		token  string
		ok     bool
	}{
		{"Bearer hk_abc", "hk_abc", true},
		{"bearer  hk_abc ", "hk_abc", true},
		{"BEARER hk_abc", "hk_abc", true},
		{"Basic dXNlcjpwYXNz", "", false},
		{"Bearer", "", false},
		{"Bearer   ", "", false},
		{"", "", false},
		{"hk_abc", "", false},
		{"Bearer " + strings.Repeat("x", 300), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			t.Parallel()
			token, ok := BearerToken(tt.header)
			if token != tt.token || ok != tt.ok {
				t.Fatalf("BearerToken(%q) = %q, %v; want %q, %v", tt.header, token, ok, tt.token, tt.ok)
			}
		})
	}
}

func TestAllowed(t *testing.T) {
	t.Parallel()
	perms := []Permission{ReadEvents, Publish, Read, Manage}
	want := map[store.Role][]bool{
		store.RoleAdmin:     {true, true, true, true},
		store.RolePublisher: {true, true, false, false},
		store.RoleViewer:    {true, false, true, false},
		"owner":             {false, false, false, false},
		"":                  {false, false, false, false},
	}
	for role, allowed := range want {
		for i, p := range perms {
			t.Run(string(role)+"/"+p.String(), func(t *testing.T) {
				t.Parallel()
				if got := Allowed(role, p); got != allowed[i] {
					t.Fatalf("Allowed(%q, %v) = %v, want %v", role, p, got, allowed[i])
				}
			})
		}
	}
	if Allowed(store.RoleAdmin, Permission(0)) || Allowed(store.RoleAdmin, Permission(99)) {
		t.Fatal("admin allowed an unknown permission")
	}
	if !ValidRole(store.RolePublisher) || ValidRole("owner") {
		t.Fatal("ValidRole wrong")
	}
}
