package store_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookd/hookd/internal/secretbox"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/storetest"
)

// credential is a header value that must never be found in a webhooks row.
const credential = "Bearer s3cr3t-xyz"

// rawWebhook is the whole webhooks row as PostgreSQL holds it, as text (bytea in hex).
func rawWebhook(t *testing.T, pool interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, id string) string {
	t.Helper()
	var raw string
	if err := pool.QueryRow(context.Background(),
		`SELECT row_to_json(w)::text FROM webhooks w WHERE id = $1`, id).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestHeaderValuesAreSealed: no header value is stored in plaintext, by create or by
// update, and every read (get, list, the attempt's load) gives the real values back.
func TestHeaderValuesAreSealed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	o := newOrg(t, s)
	newEventType(t, s, o.ID, "a.b")
	headers := map[string]string{"Authorization": credential, "X-Tenant": "tenant-7f3a"}
	w := newWebhook(t, s, o.ID, func(w *store.Webhook) { w.Headers = headers }, "a.b")
	if !reflect.DeepEqual(w.Headers, headers) {
		t.Fatalf("created with headers %v, want %v", w.Headers, headers)
	}
	raw := rawWebhook(t, s.Pool(), w.ID)
	for _, plain := range []string{"s3cr3t-xyz", "tenant-7f3a", "Authorization"} {
		if strings.Contains(raw, plain) {
			t.Errorf("the webhooks row holds %q: %s", plain, raw)
		}
	}
	if !strings.Contains(raw, `"secrets_enc":"\\x01`) {
		t.Errorf("no sealed secrets in the row: %s", raw)
	}

	got, err := s.GetWebhook(ctx, o.ID, w.ID)
	if err != nil || !reflect.DeepEqual(got.Headers, headers) {
		t.Fatalf("get: headers %v, %v; want %v", got.Headers, err, headers)
	}
	listed, _, err := s.ListWebhooks(ctx, o.ID, store.Page{Limit: 10})
	if err != nil || len(listed) != 1 || !reflect.DeepEqual(listed[0].Headers, headers) {
		t.Fatalf("list: %+v, %v", listed, err)
	}
	res := ingest(t, s, o.ID, "evt_1", "a.b")
	ac, err := s.LoadAttempt(ctx, res.Deliveries[0].ID, "")
	if err != nil || !reflect.DeepEqual(ac.Webhook.Headers, headers) {
		t.Fatalf("load attempt: headers %v, %v; want %v", ac.Webhook.Headers, err, headers)
	}

	got.Headers = map[string]string{"x-api-key": "k-9b1e77"}
	updated, err := s.UpdateWebhook(ctx, got)
	if want := map[string]string{"X-Api-Key": "k-9b1e77"}; err != nil || !reflect.DeepEqual(updated.Headers, want) {
		t.Fatalf("update: headers %v, %v; want %v", updated.Headers, err, want)
	}
	if raw := rawWebhook(t, s.Pool(), w.ID); strings.Contains(raw, "k-9b1e77") || strings.Contains(raw, "s3cr3t") {
		t.Errorf("after update the row holds a header value: %s", raw)
	}
	got.Headers = nil
	if updated, err = s.UpdateWebhook(ctx, got); err != nil || updated.Headers == nil || len(updated.Headers) != 0 {
		t.Fatalf("update to no headers: %v, %v", updated.Headers, err)
	}
}

// TestPlainHeadersAreSealedOnOpen: rows written before migration 005 (headers in the
// settings column) read back the same after the upgrade and end up sealed, with no
// plaintext left, when the store opens; so does a row an older hookd writes during the
// upgrade, which until then reads as written. A row whose secrets cannot be opened is left
// alone and does not stop the store from opening.
func TestPlainHeadersAreSealedOnOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := migratedTo(t, 3)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	sealedSecret, err := storetest.Box().Seal([]byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
	if err != nil {
		t.Fatal(err)
	}
	insert := func(id, headers string) {
		t.Helper()
		if _, err := pool.Exec(ctx, `
            INSERT INTO webhooks (id, org_id, settings, secret_enc, secret_prefix)
            VALUES ($1, 'org_1', jsonb_build_object('name', 'old', 'url', 'https://example.com/h',
                'headers', $2::jsonb, 'timeoutSeconds', 30, 'maxRetries', 5, 'retrySchedule', '["1m"]'::jsonb),
                $3, 'whsec_MfKQ')`, id, headers, sealedSecret); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `INSERT INTO organizations (id, name) VALUES ('org_1', 'acme')`); err != nil {
		t.Fatal(err)
	}
	insert("wh_old", `{"Authorization": "`+credential+`", "X-Tenant": "t1"}`)
	insert("wh_none", `{}`)

	s := migrateAndOpen(t, ctx, url)
	wantHeaders := map[string]map[string]string{
		"wh_old":  {"Authorization": credential, "X-Tenant": "t1"},
		"wh_none": {},
	}
	checkSealed := func(when string) {
		t.Helper()
		for id, want := range wantHeaders {
			w, err := s.GetWebhook(ctx, "org_1", id)
			if err != nil || !reflect.DeepEqual(w.Headers, want) || w.Name != "old" {
				t.Errorf("%s: %s reads headers %v, name %q, %v; want %v", when, id, w.Headers, w.Name, err, want)
			}
			raw := rawWebhook(t, pool, id)
			if strings.Contains(raw, "s3cr3t") || strings.Contains(raw, `"headers"`) || strings.Contains(raw, `"secrets_enc":null`) {
				t.Errorf("%s: %s is not sealed: %s", when, id, raw)
			}
		}
	}
	checkSealed("after the upgrade")

	// An older hookd, still running during the upgrade, writes headers the old way: they
	// read as written, and the next start seals them.
	if _, err := pool.Exec(ctx, `UPDATE webhooks SET settings = settings || '{"headers": {"Cookie": "sid=9f2c"}}'
        WHERE id = 'wh_old'`); err != nil {
		t.Fatal(err)
	}
	w, err := s.GetWebhook(ctx, "org_1", "wh_old")
	if want := map[string]string{"Cookie": "sid=9f2c"}; err != nil || !reflect.DeepEqual(w.Headers, want) {
		t.Fatalf("headers an older hookd wrote read as %v, %v; want %v", w.Headers, err, want)
	}
	// A row sealed under another key is left as it is.
	otherBox, err := secretbox.New(secretbox.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := otherBox.SealJSON(map[string]any{"headers": map[string]string{"A": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	insert("wh_foreign", `{"X-Key": "plain"}`)
	if _, err := pool.Exec(ctx, `UPDATE webhooks SET secrets_enc = $1 WHERE id = 'wh_foreign'`, foreign); err != nil {
		t.Fatal(err)
	}

	again, err := store.Open(ctx, url, storetest.Box())
	if err != nil {
		t.Fatalf("open with a row it cannot seal: %v", err)
	}
	again.Close()
	wantHeaders["wh_old"] = map[string]string{"Cookie": "sid=9f2c"}
	checkSealed("after the next start")
	if raw := rawWebhook(t, pool, "wh_foreign"); !strings.Contains(raw, `"X-Key": "plain"`) {
		t.Errorf("a row that cannot be opened was changed: %s", raw)
	}
}
