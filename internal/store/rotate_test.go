package store_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/signing"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
)

func freshSecret(t *testing.T) string {
	t.Helper()
	s, err := signing.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func rotate(t *testing.T, s *store.Store, w store.Webhook, grace time.Duration) (store.Webhook, string) {
	t.Helper()
	secret := freshSecret(t)
	got, err := s.RotateSecret(context.Background(), w.OrgID, w.ID, secret, grace)
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	return got, secret
}

// pastSecrets counts the webhook's rows in webhook_secrets, expired or not.
func pastSecrets(t *testing.T, s *store.Store, webhookID string) int {
	t.Helper()
	var n int
	if err := s.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM webhook_secrets WHERE webhook_id = $1`, webhookID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRotateSecret: the new secret is current, the old one signs through its grace period
// (sealed in webhook_secrets), every read shows the same, and a rotation with grace 0
// ends every past secret at once.
func TestRotateSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	w := newWebhook(t, s, o.ID, nil)
	first := w.Secret

	rotated, second := rotate(t, s, w, time.Hour)
	if rotated.Secret != second || rotated.SecretPrefix != second[:10] {
		t.Fatalf("rotated: secret %q prefix %q, want %q", rotated.Secret, rotated.SecretPrefix, second)
	}
	if !slices.Equal(rotated.GraceSecrets, []string{first}) {
		t.Fatalf("grace secrets %q, want the first secret", rotated.GraceSecrets)
	}
	if rotated.UpdatedAt.Before(w.UpdatedAt) || rotated.Name != w.Name || rotated.Headers["X-Team"] != "core" {
		t.Fatalf("rotated webhook %+v, was %+v", rotated, w)
	}
	var raw string
	if err := s.Pool().QueryRow(ctx, `SELECT row_to_json(ws)::text FROM webhook_secrets ws WHERE webhook_id = $1`,
		w.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, strings.TrimPrefix(first, "whsec_")) || !strings.Contains(raw, first[:10]) {
		t.Errorf("webhook_secrets row %s: want the secret sealed and its prefix kept", raw)
	}

	third := ""
	rotated, third = rotate(t, s, rotated, time.Hour)
	want := []string{second, first} // newest first
	got, err := s.GetWebhook(ctx, o.ID, w.ID)
	if err != nil || got.Secret != third || !slices.Equal(got.GraceSecrets, want) {
		t.Fatalf("get: secret %q grace %q (%v); want %q, %q", got.Secret, got.GraceSecrets, err, third, want)
	}
	listed, _, err := s.ListWebhooks(ctx, o.ID, store.Page{Limit: 10})
	if err != nil || len(listed) != 1 || !slices.Equal(listed[0].GraceSecrets, want) {
		t.Fatalf("list: %+v, %v", listed, err)
	}
	if !slices.Equal(rotated.GraceSecrets, want) {
		t.Fatalf("rotated: grace %q, want %q", rotated.GraceSecrets, want)
	}

	rotated, fourth := rotate(t, s, rotated, 0)
	if rotated.Secret != fourth || len(rotated.GraceSecrets) != 0 {
		t.Fatalf("after a rotation with grace 0: secret %q grace %q", rotated.Secret, rotated.GraceSecrets)
	}
	if n := pastSecrets(t, s, w.ID); n != 0 {
		t.Errorf("%d past secrets kept after a rotation with grace 0", n)
	}
}

// TestRotateSecretExpiry: a past secret stops signing when its grace period ends, and
// the next rotation deletes it; a shorter grace period ends the earlier ones with it.
func TestRotateSecretExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	w := newWebhook(t, s, o.ID, nil)
	w, _ = rotate(t, s, w, time.Hour)
	if _, err := s.Pool().Exec(ctx, `UPDATE webhook_secrets SET expires_at = now() - interval '1 second'
        WHERE webhook_id = $1`, w.ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetWebhook(ctx, o.ID, w.ID)
	if err != nil || len(got.GraceSecrets) != 0 {
		t.Fatalf("after the grace period: grace %q, %v; want none", got.GraceSecrets, err)
	}
	if n := pastSecrets(t, s, w.ID); n != 1 {
		t.Fatalf("%d rows, want the expired one until the next rotation", n)
	}

	// The expired row goes; a secret given a day is cut to the next rotation's hour.
	givenADay := w.Secret
	w, next := rotate(t, s, w, 24*time.Hour)
	w, _ = rotate(t, s, w, time.Hour)
	if want := []string{next, givenADay}; !slices.Equal(w.GraceSecrets, want) {
		t.Fatalf("grace %q, want %q", w.GraceSecrets, want)
	}
	var latest time.Time
	var n int
	if err := s.Pool().QueryRow(ctx, `SELECT max(expires_at), count(*) FROM webhook_secrets WHERE webhook_id = $1`,
		w.ID).Scan(&latest, &n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d rows, want 2 (the expired one deleted)", n)
	}
	if latest.After(time.Now().Add(time.Hour + time.Minute)) {
		t.Errorf("a past secret expires at %v, after the last rotation's hour", latest)
	}
}

// TestRotateSecretKeepsAtMostMaxPastSecrets: past the cap, the oldest go.
func TestRotateSecretKeepsAtMostMaxPastSecrets(t *testing.T) {
	t.Parallel()
	s := storetest.New(t)
	o := newOrg(t, s)
	w := newWebhook(t, s, o.ID, nil)
	var current []string
	for range store.MaxPastSecrets + 3 {
		current = append(current, w.Secret)
		w, _ = rotate(t, s, w, time.Hour)
	}
	slices.Reverse(current)
	if !slices.Equal(w.GraceSecrets, current[:store.MaxPastSecrets]) {
		t.Fatalf("grace secrets %d, want the newest %d of %d", len(w.GraceSecrets), store.MaxPastSecrets, len(current))
	}
	if n := pastSecrets(t, s, w.ID); n != store.MaxPastSecrets {
		t.Errorf("%d rows, want %d", n, store.MaxPastSecrets)
	}
}

// TestRotateSecretNotFound: an unknown id or another organization's webhook is
// ErrNotFound, and the other organization's webhook is unchanged.
func TestRotateSecretNotFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o, other := newOrg(t, s), newOrg(t, s)
	w := newWebhook(t, s, o.ID, nil)
	_, err := s.RotateSecret(ctx, o.ID, "wh_missing", freshSecret(t), time.Hour)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.RotateSecret(ctx, other.ID, w.ID, freshSecret(t), time.Hour)
	wantErr(t, err, store.ErrNotFound)
	got, err := s.GetWebhook(ctx, o.ID, w.ID)
	if err != nil || got.Secret != w.Secret || len(got.GraceSecrets) != 0 || pastSecrets(t, s, w.ID) != 0 {
		t.Fatalf("another organization's rotation changed the webhook: %+v, %v", got, err)
	}
}

// TestRotateSecretConcurrently: rotations of one webhook at the same time each keep the
// secret they replaced; none is lost or kept twice.
func TestRotateSecretConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	w := newWebhook(t, s, o.ID, nil)
	const n = 6
	secrets := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		secrets[i] = freshSecret(t)
		wg.Go(func() {
			if _, err := s.RotateSecret(ctx, o.ID, w.ID, secrets[i], time.Hour); err != nil {
				t.Errorf("rotate %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	got, err := s.GetWebhook(ctx, o.ID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	all := append([]string{got.Secret}, got.GraceSecrets...)
	slices.Sort(all)
	want := append([]string{w.Secret}, secrets...)
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Fatalf("current and past secrets %q, want every one of %q once", all, want)
	}
}
