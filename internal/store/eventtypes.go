package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CreateEventType stores a new event type of et.OrgID (Builtin is ignored: only the store
// makes built-ins). ErrConflict when the name exists; ErrNotFound for an unknown
// organization.
func (s *Store) CreateEventType(ctx context.Context, et EventType) (EventType, error) {
	var out EventType
	err := s.pool.QueryRow(ctx, `
        INSERT INTO event_types AS t (org_id, name, description, schema) VALUES ($1, $2, $3, $4)
        RETURNING `+eventTypeCols,
		et.OrgID, et.Name, et.Description, nullJSON(et.Schema),
	).Scan(eventTypeDest(&out)...)
	return out, wrap("create event type", err)
}

// ListEventTypes pages through the organization's event types, newest first.
func (s *Store) ListEventTypes(ctx context.Context, orgID string, p Page) ([]EventType, string, error) {
	pg, err := keyset(p, "event types", orgID, nil)
	if err != nil {
		return nil, "", listErr("list event types", err)
	}
	rows, err := s.pool.Query(ctx, `
        SELECT `+eventTypeCols+`, t.seq FROM event_types t
        WHERE t.org_id = $1 AND t.seq < $2 ORDER BY t.seq DESC LIMIT $3`, orgID, pg.before, pg.fetch)
	if err != nil {
		return nil, "", wrap("list event types", err)
	}
	out, next, err := collectPage(rows, pg, func(row pgx.CollectableRow, seq *int64) (EventType, error) {
		var t EventType
		return t, row.Scan(withSeq(eventTypeDest(&t), seq)...)
	})
	return out, next, wrap("list event types", err)
}

// GetEventType returns one event type of the organization, or ErrNotFound.
func (s *Store) GetEventType(ctx context.Context, orgID, name string) (EventType, error) {
	var t EventType
	err := s.pool.QueryRow(ctx, `SELECT `+eventTypeCols+` FROM event_types t WHERE t.org_id = $1 AND t.name = $2`,
		orgID, name).Scan(eventTypeDest(&t)...)
	return t, wrap("get event type", err)
}

// UpdateEventType replaces the description and schema of an event type (built-ins
// included); ErrNotFound if it does not exist.
func (s *Store) UpdateEventType(ctx context.Context, et EventType) (EventType, error) {
	var out EventType
	err := s.pool.QueryRow(ctx, `
        UPDATE event_types t SET description = $3, schema = $4, updated_at = now()
        WHERE t.org_id = $1 AND t.name = $2
        RETURNING `+eventTypeCols,
		et.OrgID, et.Name, et.Description, nullJSON(et.Schema),
	).Scan(eventTypeDest(&out)...)
	return out, wrap("update event type", err)
}

// ErrEventTypeMissing: a webhook write names an event type the organization no longer
// has (deleted after the caller checked; see DeleteEventType), so nothing was written.
// The webhook writes answer it once they hold the types they name while they write.
var ErrEventTypeMissing = errors.New("a named event type is missing")

// WebhookRef names a webhook in an answer about something else: its id and name.
type WebhookRef struct {
	ID   string
	Name string
}

// EventTypeInUseError is DeleteEventType's refusal of an event type that webhooks name in
// their events: with policy include they receive it, with exclude they name it to be left
// out; either way the webhook could not be saved back as read once the type is gone
// (issue 8 item 7). It wraps ErrConflict.
type EventTypeInUseError struct {
	Name     string
	Webhooks []WebhookRef // oldest first
}

func (e *EventTypeInUseError) Error() string {
	return fmt.Sprintf("event type %s is named by %d webhooks", e.Name, len(e.Webhooks))
}

func (e *EventTypeInUseError) Unwrap() error { return ErrConflict }

// DeleteEventType deletes an event type that no webhook names: ErrNotFound if it does not
// exist, ErrConflict for a built-in, *EventTypeInUseError (an ErrConflict) naming every
// webhook of the organization whose events list it, whatever their policy and status.
// A refusal deletes nothing. Events of the type are left as they are.
//
// It takes the type's row lock (FOR UPDATE) before it looks for webhooks, so a webhook
// write that holds the rows of the types it names (FOR KEY SHARE, taken by the statement
// that writes the webhook) either committed before the look, and is seen, or waits for
// this deletion and then finds the type gone.
func (s *Store) DeleteEventType(ctx context.Context, orgID, name string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap("delete event type", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	var builtin bool
	err = tx.QueryRow(ctx, `SELECT builtin FROM event_types WHERE org_id = $1 AND name = $2 FOR UPDATE`,
		orgID, name).Scan(&builtin)
	if err != nil {
		return wrap("delete event type", err)
	}
	if builtin {
		return fmt.Errorf("delete event type %s: built-in: %w", name, ErrConflict)
	}
	// A new statement: under READ COMMITTED it sees every webhook committed while the
	// lock above waited.
	rows, err := tx.Query(ctx, `
        WITH refs AS (
            SELECT w.id, w.settings->>'name' AS name, w.seq FROM webhooks w
            WHERE w.org_id = $1 AND $2 = ANY (w.events)
        ), del AS (
            DELETE FROM event_types t WHERE t.org_id = $1 AND t.name = $2 AND NOT EXISTS (SELECT 1 FROM refs)
        )
        SELECT refs.id, COALESCE(refs.name, '') FROM refs ORDER BY refs.seq`, orgID, name)
	if err != nil {
		return wrap("delete event type", err)
	}
	refs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (WebhookRef, error) {
		var r WebhookRef
		return r, row.Scan(&r.ID, &r.Name)
	})
	if err != nil {
		return wrap("delete event type", err)
	}
	if len(refs) > 0 {
		return &EventTypeInUseError{Name: name, Webhooks: refs}
	}
	return wrap("delete event type", tx.Commit(ctx))
}

// MissingEventTypes returns the names (deduplicated, in the order given) that are not
// event types of the organization.
func (s *Store) MissingEventTypes(ctx context.Context, orgID string, names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
        SELECT n.name FROM unnest($2::text[]) WITH ORDINALITY AS n (name, i)
        WHERE NOT EXISTS (SELECT 1 FROM event_types t WHERE t.org_id = $1 AND t.name = n.name)
        ORDER BY n.i`, orgID, names)
	if err != nil {
		return nil, wrap("find missing event types", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap("find missing event types", err)
	}
	var missing []string
	seen := make(map[string]bool, len(found))
	for _, n := range found {
		if !seen[n] {
			seen[n] = true
			missing = append(missing, n)
		}
	}
	return missing, nil
}

// nullJSON stores an absent (nil or empty) JSON value as SQL NULL.
func nullJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}
