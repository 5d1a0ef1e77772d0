package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// MaxPastSecrets is how many past signing secrets a webhook keeps in their grace periods
// (webhook_secrets): a rotation beyond it ends the oldest at once, so a loop of rotations
// cannot make every request carry hundreds of signatures.
const MaxPastSecrets = 10

// RotateSecret makes newSecret the signing secret of webhook webhookID of the
// organization (API.md "rotate-secret") and returns the webhook as read afterwards. The
// secret it replaces keeps signing for grace (it moves to webhook_secrets, sealed, with
// expires_at now()+grace); grace 0 ends it at once. No past secret outlives the new grace
// period either (each expires at the earlier of its own end and now()+grace), so once it
// is over only newSecret signs; expired rows of the webhook are deleted, and beyond
// MaxPastSecrets the oldest are. All in one transaction, which waits for a concurrent
// rotation of the same webhook. The caller validates newSecret (signing.ValidSecret).
// ErrNotFound if the webhook does not exist.
func (s *Store) RotateSecret(ctx context.Context, orgID, webhookID, newSecret string, grace time.Duration) (Webhook, error) {
	if newSecret == "" || grace < 0 {
		return Webhook{}, errors.New("rotate secret: a secret and a grace period of 0 or more are required")
	}
	sealed, err := s.box.Seal([]byte(newSecret))
	if err != nil {
		return Webhook{}, fmt.Errorf("seal webhook secret: %w", err)
	}
	prefix := newSecret[:min(len(newSecret), secretPrefixLen)]
	graceMicros := grace.Microseconds()
	var r webhookRow
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var found bool
		if err := tx.QueryRow(ctx, `SELECT true FROM webhooks WHERE org_id = $1 AND id = $2 FOR UPDATE`,
			orgID, webhookID).Scan(&found); err != nil {
			return err
		}
		var b pgx.Batch
		b.Queue(`
            UPDATE webhook_secrets SET expires_at = now() + $2 * interval '1 microsecond'
            WHERE webhook_id = $1 AND expires_at > now() + $2 * interval '1 microsecond'`, webhookID, graceMicros)
		b.Queue(`DELETE FROM webhook_secrets WHERE webhook_id = $1 AND expires_at <= now()`, webhookID)
		if grace > 0 {
			b.Queue(`
                INSERT INTO webhook_secrets (webhook_id, secret_enc, secret_prefix, expires_at)
                SELECT id, secret_enc, secret_prefix, now() + $2 * interval '1 microsecond'
                FROM webhooks WHERE id = $1`, webhookID, graceMicros)
		}
		b.Queue(`
            DELETE FROM webhook_secrets WHERE webhook_id = $1 AND id NOT IN (
                SELECT id FROM webhook_secrets WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2)`,
			webhookID, MaxPastSecrets)
		b.Queue(`
            UPDATE webhooks w SET secret_enc = $2, secret_prefix = $3, updated_at = now()
            WHERE w.id = $1
            RETURNING `+webhookCols, webhookID, sealed, prefix).QueryRow(func(row pgx.Row) error {
			return row.Scan(r.dest()...)
		})
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return Webhook{}, wrap("rotate secret", err)
	}
	return s.webhookOf(&r)
}
