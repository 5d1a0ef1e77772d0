package store_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/ids"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
)

// randomHash stands for the SHA-256 of a random secret (a ticket or a cookie).
func randomHash() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	sum := sha256.Sum256(b)
	return sum[:]
}

// newKey stores an admin key of the organization and returns its id.
func newKey(t *testing.T, s *store.Store, orgID string) string {
	t.Helper()
	k := store.APIKey{ID: ids.New(ids.APIKey), OrgID: orgID, Role: store.RoleAdmin, Name: "ops", Prefix: "hk_x", Hash: randomHash()}
	if err := s.InsertAPIKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	return k.ID
}

func countRows(t *testing.T, s *store.Store, table string) int {
	t.Helper()
	var n int
	if err := s.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPortalTicketExchange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	org := newOrg(t, s)
	key := newKey(t, s, org.ID)
	now := time.Now().UTC().Truncate(time.Microsecond)
	mint := func(expires time.Time) []byte {
		t.Helper()
		h := randomHash()
		if err := s.InsertPortalTicket(ctx, store.PortalTicket{Hash: h, OrgID: org.ID, Role: store.RoleViewer, KeyID: key, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
		return h
	}

	ticket := mint(now.Add(time.Minute))
	sessionHash := randomHash()
	cs, err := s.ExchangePortalTicket(ctx, ticket, sessionHash, now, now.Add(8*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if cs.OrgID != org.ID || cs.Role != store.RoleViewer || cs.KeyID != key || !cs.FromTicket || !cs.ExpiresAt.Equal(now.Add(8*time.Hour)) {
		t.Fatalf("session %+v", cs)
	}
	got, err := s.ConsoleSessionByHash(ctx, sessionHash, now)
	if err != nil || got.ID != cs.ID {
		t.Fatalf("session by hash: %+v %v", got, err)
	}
	if _, err := s.ExchangePortalTicket(ctx, ticket, randomHash(), now, now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second exchange: %v, want ErrNotFound", err)
	}

	t.Run("expired", func(t *testing.T) {
		ticket := mint(now)
		if _, err := s.ExchangePortalTicket(ctx, ticket, randomHash(), now, now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired ticket: %v", err)
		}
		if _, err := s.ExchangePortalTicket(ctx, ticket, randomHash(), now.Add(-time.Hour), now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an expired ticket tried was not consumed: %v", err)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		ticket := mint(now.Add(time.Minute))
		const n = 10
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = s.ExchangePortalTicket(ctx, ticket, randomHash(), now, now.Add(time.Hour)) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrNotFound):
				t.Fatal(err)
			}
		}
		if won != 1 {
			t.Fatalf("%d exchanges won", won)
		}
	})

	t.Run("unknown key or organization", func(t *testing.T) {
		err := s.InsertPortalTicket(ctx, store.PortalTicket{Hash: randomHash(), OrgID: org.ID, Role: store.RoleAdmin, KeyID: "key_none", ExpiresAt: now})
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown key: %v", err)
		}
		err = s.InsertPortalTicket(ctx, store.PortalTicket{Hash: randomHash(), OrgID: org.ID, Role: store.RolePublisher, KeyID: key, ExpiresAt: now})
		if err == nil {
			t.Fatal("a publisher ticket was stored")
		}
	})
}

func TestConsoleSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	org := newOrg(t, s)
	key := newKey(t, s, org.ID)
	now := time.Now().UTC().Truncate(time.Microsecond)
	insert := func(keyID string, expires time.Time) []byte {
		t.Helper()
		h := randomHash()
		if _, err := s.InsertConsoleSession(ctx, store.ConsoleSession{Hash: h, OrgID: org.ID, Role: store.RoleAdmin, KeyID: keyID, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
		return h
	}

	live := insert(key, now.Add(time.Hour))
	if cs, err := s.ConsoleSessionByHash(ctx, live, now); err != nil || cs.FromTicket || cs.KeyID != key {
		t.Fatalf("live session: %+v %v", cs, err)
	}
	if _, err := s.ConsoleSessionByHash(ctx, randomHash(), now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}

	t.Run("expired sessions are deleted on sight", func(t *testing.T) {
		h := insert(key, now.Add(time.Minute))
		if _, err := s.ConsoleSessionByHash(ctx, h, now.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired session: %v", err)
		}
		if _, err := s.ConsoleSessionByHash(ctx, h, now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the expired session was not deleted: %v", err)
		}
	})

	t.Run("a revoked key ends its sessions", func(t *testing.T) {
		other := newKey(t, s, org.ID)
		h := insert(other, now.Add(time.Hour))
		if err := s.RevokeAPIKey(ctx, org.ID, other); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsoleSessionByHash(ctx, h, now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("session of a revoked key: %v", err)
		}
	})

	t.Run("sign-out", func(t *testing.T) {
		h := insert(key, now.Add(time.Hour))
		if err := s.DeleteConsoleSession(ctx, h); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsoleSessionByHash(ctx, h, now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("signed-out session: %v", err)
		}
		if err := s.DeleteConsoleSession(ctx, h); err != nil {
			t.Fatalf("signing out twice: %v", err)
		}
	})

	t.Run("purge", func(t *testing.T) {
		insert(key, now.Add(-time.Second))
		if err := s.InsertPortalTicket(ctx, store.PortalTicket{Hash: randomHash(), OrgID: org.ID, Role: store.RoleAdmin, KeyID: key, ExpiresAt: now}); err != nil {
			t.Fatal(err)
		}
		n, err := s.DeleteExpiredConsole(ctx, now)
		if err != nil || n != 2 {
			t.Fatalf("purged %d, %v; want 2", n, err)
		}
		if _, err := s.ConsoleSessionByHash(ctx, live, now); err != nil {
			t.Fatalf("the live session was purged: %v", err)
		}
	})

	t.Run("an organization's rows go with it", func(t *testing.T) {
		o := newOrg(t, s)
		k := newKey(t, s, o.ID)
		if _, err := s.InsertConsoleSession(ctx, store.ConsoleSession{Hash: randomHash(), OrgID: o.ID, Role: store.RoleViewer, KeyID: k, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertPortalTicket(ctx, store.PortalTicket{Hash: randomHash(), OrgID: o.ID, Role: store.RoleViewer, KeyID: k, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		sessions, tickets := countRows(t, s, "console_sessions"), countRows(t, s, "portal_tickets")
		if _, err := s.Pool().Exec(ctx, `DELETE FROM organizations WHERE id = $1`, o.ID); err != nil {
			t.Fatal(err)
		}
		if countRows(t, s, "console_sessions") != sessions-1 || countRows(t, s, "portal_tickets") != tickets-1 {
			t.Fatal("the organization's session or ticket outlived it")
		}
	})
}
