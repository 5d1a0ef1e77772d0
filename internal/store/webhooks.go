package store

import (
	"cmp"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/webhook"
)

// secretPrefixLen is how much of a secret reads show: "whsec_" and four characters.
const secretPrefixLen = 10

// CreateWebhook stores a new webhook, its settings in canonical form
// (webhook.Settings.Canonical). The caller sets w.ID and w.Secret (stored sealed);
// SecretPrefix defaults to the secret's first 10 characters, Status to ENABLED and
// EventsPolicy to include. Counters and timestamps are the store's.
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
	var r webhookRow
	err = s.pool.QueryRow(ctx, `
        INSERT INTO webhooks AS w (id, org_id, settings, events, events_policy, status, secret_enc, secret_prefix)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        RETURNING `+webhookCols,
		w.ID, w.OrgID, settings, settings.Events, settings.EventsPolicy, cmp.Or(w.Status, WebhookEnabled),
		sealed, w.SecretPrefix,
	).Scan(r.dest()...)
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

// UpdateWebhook replaces the settings of a webhook (in canonical form, as CreateWebhook
// stores them) and its status; the secret and counters are not touched, except that
// setting status ENABLED on a webhook that was not enabled clears its consecutive failure
// count. ErrNotFound if it does not exist.
func (s *Store) UpdateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	settings := storedSettings(w.Settings)
	return s.queryWebhook(ctx, "update webhook", `
        UPDATE webhooks w SET settings = $3, events = $4, events_policy = $5, status = $6,
            consecutive_failures = CASE WHEN $6 = 'ENABLED' AND w.status <> 'ENABLED' THEN 0
                                        ELSE w.consecutive_failures END,
            updated_at = now()
        WHERE w.org_id = $1 AND w.id = $2
        RETURNING `+webhookCols,
		w.OrgID, w.ID, settings, settings.Events, settings.EventsPolicy, cmp.Or(w.Status, WebhookEnabled))
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
	s = s.Canonical()
	s.EventsPolicy = cmp.Or(s.EventsPolicy, webhook.EventsInclude)
	s.Headers = cleanMap(s.Headers)
	return s
}
