package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
)

func TestCreateOrganizationAddsBuiltinEventTypes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	if o.ID == "" || o.Name != "acme" || o.CreatedAt.IsZero() {
		t.Fatalf("organization = %+v", o)
	}
	for _, name := range []string{store.EventTypePing, store.EventTypeWebhookDisabled} {
		et, err := s.GetEventType(ctx, o.ID, name)
		if err != nil {
			t.Fatalf("builtin %s: %v", name, err)
		}
		if !et.Builtin {
			t.Errorf("%s is not marked builtin", name)
		}
	}
}

func TestEnsureOrganizationIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	first, err := s.EnsureOrganization(ctx, "org_dev", "dev")
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.EnsureOrganization(ctx, "org_dev", "renamed")
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != "org_dev" || second.Name != "dev" || !second.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("second ensure = %+v, want the first %+v", second, first)
	}
	if n := count(t, s, "organizations"); n != 1 {
		t.Fatalf("%d organizations, want 1", n)
	}
	if n := count(t, s, "event_types"); n != 2 {
		t.Fatalf("%d event types, want the 2 built-ins", n)
	}
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	hash := sha256.Sum256([]byte("hk_plaintext"))
	k := store.APIKey{OrgID: o.ID, Role: store.RolePublisher, Name: "ci", Prefix: "hk_plai", Hash: hash[:]}
	if err := s.InsertAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	got, err := s.APIKeyByHash(ctx, hash[:])
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == "" || got.OrgID != o.ID || got.Role != store.RolePublisher || got.Name != "ci" ||
		got.Prefix != "hk_plai" || !bytes.Equal(got.Hash, hash[:]) || got.CreatedAt.IsZero() {
		t.Fatalf("APIKeyByHash = %+v", got)
	}

	t.Run("duplicate hash", func(t *testing.T) {
		wantErr(t, s.InsertAPIKey(ctx, k), store.ErrConflict)
	})
	t.Run("unknown organization", func(t *testing.T) {
		other := sha256.Sum256([]byte("other"))
		wantErr(t, s.InsertAPIKey(ctx, store.APIKey{OrgID: "org_nope", Role: store.RoleAdmin, Hash: other[:]}), store.ErrNotFound)
	})
	t.Run("unknown hash", func(t *testing.T) {
		other := sha256.Sum256([]byte("unknown"))
		_, err := s.APIKeyByHash(ctx, other[:])
		wantErr(t, err, store.ErrNotFound)
	})
	t.Run("revoked", func(t *testing.T) {
		wantErr(t, s.RevokeAPIKey(ctx, "org_other", got.ID), store.ErrNotFound)
		if err := s.RevokeAPIKey(ctx, o.ID, got.ID); err != nil {
			t.Fatal(err)
		}
		_, err := s.APIKeyByHash(ctx, hash[:])
		wantErr(t, err, store.ErrNotFound)
	})
}
