package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/webhook"
)

// secretPrefixLen is how much of a secret reads show: "whsec_" and four characters.
const secretPrefixLen = 10

// CreateWebhook stores a new webhook, its settings in canonical form
// (webhook.Settings.Canonical), those among webhook.Secrets sealed. The caller sets w.ID
// and w.Secret (stored sealed); SecretPrefix defaults to the secret's first 10
// characters, Status to ENABLED and EventsPolicy to include. Counters and timestamps are
// the store's.
func (s *Store) CreateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	if w.ID == "" || w.Secret == "" {
		return Webhook{}, fmt.Errorf("create webhook: id and secret are required")
	}
	sealed, err := s.box.Seal([]byte(w.Secret))
	if err != nil {
		return Webhook{}, fmt.Errorf("seal webhook secret: %w", err)
	}
	if w.SecretPrefix == "" {
		w.SecretPrefix = w.Secret[:min(len(w.Secret), secretPrefixLen)]
	}
	settings := storedSettings(w.Settings)
	secrets, err := s.box.SealJSON(settings.Secrets())
	if err != nil {
		return Webhook{}, fmt.Errorf("seal webhook secrets: %w", err)
	}
	var r webhookRow
	// The event types it names are held (FOR KEY SHARE) until the insert commits, and it
	// inserts only if every one is there: a DeleteEventType waits for it and then sees
	// the webhook, or ran first and the type is gone (ErrEventTypeMissing).
	err = s.pool.QueryRow(ctx, `
        WITH types AS (
            SELECT t.name FROM event_types t WHERE t.org_id = $2 AND t.name = ANY ($4::text[]) FOR KEY SHARE
        )
        INSERT INTO webhooks AS w (id, org_id, settings, events, events_policy, status, secret_enc, secret_prefix, secrets_enc)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
        WHERE (SELECT count(*) FROM types) = cardinality($4::text[])
        RETURNING `+webhookCols,
		w.ID, w.OrgID, settings, settings.Events, settings.EventsPolicy, cmp.Or(w.Status, WebhookEnabled),
		sealed, w.SecretPrefix, secrets,
	).Scan(r.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return Webhook{}, fmt.Errorf("create webhook: %w", ErrEventTypeMissing)
	}
	if err != nil {
		return Webhook{}, wrap("create webhook", err)
	}
	return s.webhookOf(&r)
}

// ListWebhooks pages through the organization's webhooks, newest first.
func (s *Store) ListWebhooks(ctx context.Context, orgID string, p Page) ([]Webhook, string, error) {
	pg, err := keyset(p, "webhooks", orgID, nil)
	if err != nil {
		return nil, "", listErr("list webhooks", err)
	}
	rows, err := s.pool.Query(ctx, `
        SELECT `+webhookCols+`, w.seq FROM webhooks w
        WHERE w.org_id = $1 AND w.seq < $2 ORDER BY w.seq DESC LIMIT $3`, orgID, pg.before, pg.fetch)
	if err != nil {
		return nil, "", wrap("list webhooks", err)
	}
	out, next, err := collectPage(rows, pg, func(row pgx.CollectableRow, seq *int64) (Webhook, error) {
		var r webhookRow
		if err := row.Scan(withSeq(r.dest(), seq)...); err != nil {
			return Webhook{}, err
		}
		return s.webhookOf(&r)
	})
	return out, next, wrap("list webhooks", err)
}

// GetWebhook returns one webhook of the organization (secret opened), or ErrNotFound.
func (s *Store) GetWebhook(ctx context.Context, orgID, id string) (Webhook, error) {
	return s.queryWebhook(ctx, "get webhook",
		`SELECT `+webhookCols+` FROM webhooks w WHERE w.org_id = $1 AND w.id = $2`, orgID, id)
}

// UpdateWebhook replaces the settings of a webhook (in canonical form, sealed where
// secret, as CreateWebhook stores them) and its status; the signing secret and counters
// are not touched, except that setting status ENABLED on a webhook that was not enabled
// clears its consecutive failure count and its failing flag (a lossy webhook queues
// again). ErrNotFound if it does not exist.
func (s *Store) UpdateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	settings := storedSettings(w.Settings)
	secrets, err := s.box.SealJSON(settings.Secrets())
	if err != nil {
		return Webhook{}, fmt.Errorf("seal webhook secrets: %w", err)
	}
	// As in CreateWebhook, the event types it names are held until the update commits;
	// one it does not name already must still be there.
	updated, err := s.queryWebhook(ctx, "update webhook", `
        WITH types AS (
            SELECT t.name FROM event_types t WHERE t.org_id = $1 AND t.name = ANY ($4::text[]) FOR KEY SHARE
        )
        UPDATE webhooks w SET settings = $3, events = $4, events_policy = $5, status = $6,
            secrets_enc = $7,
            consecutive_failures = CASE WHEN $6 = 'ENABLED' AND w.status <> 'ENABLED' THEN 0
                                        ELSE w.consecutive_failures END,
            failing = CASE WHEN $6 = 'ENABLED' AND w.status <> 'ENABLED' THEN false ELSE w.failing END,
            updated_at = now()
        WHERE w.org_id = $1 AND w.id = $2
          AND NOT EXISTS (SELECT 1 FROM unnest($4::text[]) AS n (name)
                          WHERE n.name NOT IN (SELECT name FROM types) AND n.name <> ALL (w.events))
        RETURNING `+webhookCols,
		w.OrgID, w.ID, settings, settings.Events, settings.EventsPolicy, cmp.Or(w.Status, WebhookEnabled), secrets)
	if !errors.Is(err, ErrNotFound) {
		return updated, err
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhooks WHERE org_id = $1 AND id = $2)`,
		w.OrgID, w.ID).Scan(&exists); err != nil {
		return Webhook{}, wrap("update webhook", err)
	}
	if exists {
		return Webhook{}, fmt.Errorf("update webhook: %w", ErrEventTypeMissing)
	}
	return Webhook{}, fmt.Errorf("update webhook: %w", ErrNotFound)
}

// DeleteWebhook deletes a webhook with its deliveries and their attempts; ErrNotFound if
// it does not exist.
func (s *Store) DeleteWebhook(ctx context.Context, orgID, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhooks WHERE org_id = $1 AND id = $2`, orgID, id)
	if err != nil {
		return wrap("delete webhook", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete webhook: %w", ErrNotFound)
	}
	return nil
}

func (s *Store) queryWebhook(ctx context.Context, op, sql string, args ...any) (Webhook, error) {
	var r webhookRow
	if err := s.pool.QueryRow(ctx, sql, args...).Scan(r.dest()...); err != nil {
		return Webhook{}, wrap(op, err)
	}
	return s.webhookOf(&r)
}

// storedSettings is s as the webhooks row holds it: canonical, with the default events
// policy (include) and header text PostgreSQL can store.
func storedSettings(s webhook.Settings) webhook.Settings {
	s = s.Canonical().WithDefaults()
	s.EventsPolicy = cmp.Or(s.EventsPolicy, webhook.EventsInclude)
	s.Headers = cleanMap(s.Headers)
	return s
}

// openSecrets opens the sealed secrets of webhook id; none sealed (NULL) gives none.
func (s *Store) openSecrets(id string, sealed []byte) (webhook.Secrets, error) {
	var sec webhook.Secrets
	if sealed == nil {
		return sec, nil
	}
	if err := s.box.OpenJSON(sealed, &sec); err != nil {
		return webhook.Secrets{}, fmt.Errorf("open secrets of webhook %s: %w", id, err)
	}
	return sec, nil
}

// sealPlainHeaders seals the custom headers that webhooks rows still hold in plaintext in
// their settings column (written before migration 005, which cannot seal without the key,
// or by an older hookd during an upgrade) into their sealed secrets, and removes them from
// settings. Open runs it, so no plaintext header value outlives the first start of this
// version. It is safe to run concurrently with itself and with writes: a row is changed
// only if it still holds the headers that were sealed. A row it cannot read (its sealed
// secrets do not open because HOOKD_SECRET_KEY changed, or its headers are not a map of
// strings) is left as it is, since sealing it would lose what it holds; reads of it fail
// as they do.
func (s *Store) sealPlainHeaders(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `
        SELECT w.id, w.settings->'headers', w.secrets_enc FROM webhooks w WHERE w.settings ? 'headers'`)
	if err != nil {
		return wrap("find plaintext headers", err)
	}
	type plainRow struct {
		id      string
		headers []byte // the JSON as stored, to compare with when sealing
		secrets []byte
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (plainRow, error) {
		var r plainRow
		return r, row.Scan(&r.id, &r.headers, &r.secrets)
	})
	if err != nil {
		return wrap("find plaintext headers", err)
	}
	var batch pgx.Batch
	for _, r := range found {
		sec, err := s.openSecrets(r.id, r.secrets)
		if err != nil {
			continue
		}
		var headers map[string]string
		if err := json.Unmarshal(r.headers, &headers); err != nil {
			continue
		}
		sec.Headers = cleanMap(headers)
		sealed, err := s.box.SealJSON(sec)
		if err != nil {
			return fmt.Errorf("seal headers of webhook %s: %w", r.id, err)
		}
		batch.Queue(`
            UPDATE webhooks SET secrets_enc = $2, settings = settings - 'headers'
            WHERE id = $1 AND settings->'headers' = $3::jsonb`, r.id, sealed, string(r.headers))
	}
	if batch.Len() == 0 {
		return nil
	}
	return wrap("seal plaintext headers", s.pool.SendBatch(ctx, &batch).Close())
}
