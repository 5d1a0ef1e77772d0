package store

import (
	"context"
	"fmt"

	"github.com/hookd/hookd/internal/ids"
)

// Built-in event types every organization has; they cannot be deleted.
const (
	EventTypePing            = "ping"
	EventTypeWebhookDisabled = "webhook.disabled"
)

var builtinEventTypes = []EventType{
	{Name: EventTypePing, Description: "A test notification sent by the ping route to one webhook."},
	{Name: EventTypeWebhookDisabled, Description: "hookd disabled a webhook after too many failed deliveries."},
}

// ensureOrgSQL inserts the organization (unless it exists) and its built-in event types
// in one statement, and returns the organization as stored.
var ensureOrgSQL = `
WITH ins AS (
    INSERT INTO organizations AS o (id, name) VALUES ($1, $2)
    ON CONFLICT (id) DO NOTHING
    RETURNING ` + orgCols + `
), types AS (
    INSERT INTO event_types (org_id, name, description, builtin)
    SELECT $1, n, d, true FROM unnest($3::text[], $4::text[]) AS b (n, d)
    ON CONFLICT (org_id, name) DO NOTHING
)
SELECT * FROM ins
UNION ALL
SELECT ` + orgCols + ` FROM organizations o WHERE o.id = $1 AND NOT EXISTS (SELECT 1 FROM ins)`

// CreateOrganization creates an organization with a new id and its built-in event types
// (ping, webhook.disabled).
func (s *Store) CreateOrganization(ctx context.Context, name string) (Organization, error) {
	o, err := s.ensureOrganization(ctx, ids.New(ids.Organization), name)
	return o, wrap("create organization", err)
}

// EnsureOrganization creates organization id unless it exists, and makes sure it has the
// built-in event types. It is idempotent (hookd dev runs it at every start); an existing
// organization keeps its name.
func (s *Store) EnsureOrganization(ctx context.Context, id, name string) (Organization, error) {
	o, err := s.ensureOrganization(ctx, id, name)
	return o, wrap("ensure organization", err)
}

func (s *Store) ensureOrganization(ctx context.Context, id, name string) (Organization, error) {
	names := make([]string, len(builtinEventTypes))
	descs := make([]string, len(builtinEventTypes))
	for i, t := range builtinEventTypes {
		names[i], descs[i] = t.Name, t.Description
	}
	var o Organization
	err := s.pool.QueryRow(ctx, ensureOrgSQL, id, name, names, descs).Scan(orgDest(&o)...)
	return o, err
}

// InsertAPIKey stores a key (k.ID is minted when empty). The hash must be unique:
// ErrConflict otherwise; ErrNotFound when the organization does not exist.
func (s *Store) InsertAPIKey(ctx context.Context, k APIKey) error {
	if k.ID == "" {
		k.ID = ids.New(ids.APIKey)
	}
	_, err := s.pool.Exec(ctx,
		`INSERT INTO api_keys (id, org_id, role, name, prefix, hash) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.OrgID, string(k.Role), k.Name, k.Prefix, k.Hash)
	return wrap("insert api key", err)
}

// APIKeyByHash finds the unrevoked key with this SHA-256 hash; ErrNotFound otherwise.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (APIKey, error) {
	var k APIKey
	err := s.pool.QueryRow(ctx,
		`SELECT `+apiKeyCols+` FROM api_keys k WHERE k.hash = $1 AND k.revoked_at IS NULL`, hash,
	).Scan(apiKeyDest(&k)...)
	return k, wrap("get api key", err)
}

// RevokeAPIKey revokes a key of the organization; APIKeyByHash no longer finds it.
// Revoking a revoked key is a no-op; an unknown id is ErrNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, orgID, id string) error {
	tag, err := s.pool.Exec(ctx,
		`UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE org_id = $1 AND id = $2`, orgID, id)
	if err != nil {
		return wrap("revoke api key", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoke api key: %w", ErrNotFound)
	}
	return nil
}
