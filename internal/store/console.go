package store

import (
	"context"
	"fmt"
	"time"
)

// PortalTicket is a single-use ticket for the web console (POST /v1/portal/tickets):
// exchanged before ExpiresAt, it becomes a ConsoleSession of OrgID with Role. Only the
// SHA-256 of the plaintext is kept. KeyID is the admin key that minted it.
type PortalTicket struct {
	Hash      []byte
	OrgID     string
	Role      Role
	KeyID     string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// ConsoleSession is a signed-in web console, named by its cookie, of which only the
// SHA-256 is kept (Hash). KeyID is the API key that signed in, or, when FromTicket, the
// key that minted the exchanged ticket: revoking that key ends the session.
type ConsoleSession struct {
	ID         int64
	Hash       []byte
	OrgID      string
	Role       Role
	KeyID      string
	FromTicket bool
	ExpiresAt  time.Time
	CreatedAt  time.Time
}

const consoleSessionCols = "s.id, s.hash, s.org_id, s.role, s.key_id, s.from_ticket, s.expires_at, s.created_at"

func consoleSessionDest(s *ConsoleSession) []any {
	return []any{&s.ID, &s.Hash, &s.OrgID, &s.Role, &s.KeyID, &s.FromTicket, &s.ExpiresAt, &s.CreatedAt}
}

// InsertPortalTicket stores a ticket. ErrNotFound when its organization or key does not
// exist, ErrConflict when its hash is already stored.
func (s *Store) InsertPortalTicket(ctx context.Context, t PortalTicket) error {
	_, err := s.pool.Exec(ctx, `
        INSERT INTO portal_tickets (hash, org_id, role, key_id, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		t.Hash, t.OrgID, string(t.Role), t.KeyID, t.ExpiresAt)
	return wrap("insert portal ticket", err)
}

// exchangeTicketSQL consumes the ticket and makes its session in one statement: of two
// concurrent exchanges one deletes the row and the other finds none. An expired ticket is
// deleted too, and makes no session. Its minting key must still be unrevoked.
const exchangeTicketSQL = `
WITH t AS (
    DELETE FROM portal_tickets WHERE hash = $1 RETURNING org_id, role, key_id, expires_at
)
INSERT INTO console_sessions AS s (hash, org_id, role, key_id, from_ticket, expires_at)
SELECT $2, t.org_id, t.role, t.key_id, true, $4
FROM t JOIN api_keys k ON k.id = t.key_id AND k.revoked_at IS NULL
WHERE t.expires_at > $3
RETURNING ` + consoleSessionCols

// ExchangePortalTicket consumes the ticket with hash ticketHash, valid at now, and makes a
// session of its organization and role whose cookie hashes to sessionHash, expiring at
// expiresAt. The ticket is gone afterwards whatever the outcome; an unknown, used or
// expired ticket (or one whose minting key was revoked) is ErrNotFound.
func (s *Store) ExchangePortalTicket(ctx context.Context, ticketHash, sessionHash []byte, now, expiresAt time.Time) (ConsoleSession, error) {
	var cs ConsoleSession
	err := s.pool.QueryRow(ctx, exchangeTicketSQL, ticketHash, sessionHash, now, expiresAt).Scan(consoleSessionDest(&cs)...)
	return cs, wrap("exchange portal ticket", err)
}

// InsertConsoleSession stores a session signed in with an API key (cs.FromTicket false)
// and returns it as stored. ErrNotFound when its organization or key does not exist.
func (s *Store) InsertConsoleSession(ctx context.Context, cs ConsoleSession) (ConsoleSession, error) {
	var out ConsoleSession
	err := s.pool.QueryRow(ctx, `
        INSERT INTO console_sessions AS s (hash, org_id, role, key_id, from_ticket, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        RETURNING `+consoleSessionCols,
		cs.Hash, cs.OrgID, string(cs.Role), cs.KeyID, cs.FromTicket, cs.ExpiresAt,
	).Scan(consoleSessionDest(&out)...)
	return out, wrap("insert console session", err)
}

// ConsoleSessionByHash finds the session whose cookie hashes to hash, valid at now: not
// expired, and its key not revoked. Otherwise ErrNotFound, and a session found expired or
// of a revoked key is deleted on sight.
func (s *Store) ConsoleSessionByHash(ctx context.Context, hash []byte, now time.Time) (ConsoleSession, error) {
	var cs ConsoleSession
	var live bool
	err := s.pool.QueryRow(ctx, `
        SELECT `+consoleSessionCols+`, s.expires_at > $2 AND k.revoked_at IS NULL
        FROM console_sessions s JOIN api_keys k ON k.id = s.key_id
        WHERE s.hash = $1`, hash, now,
	).Scan(append(consoleSessionDest(&cs), &live)...)
	if err != nil {
		return ConsoleSession{}, wrap("get console session", err)
	}
	if !live {
		if _, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE id = $1`, cs.ID); err != nil {
			return ConsoleSession{}, wrap("delete dead console session", err)
		}
		return ConsoleSession{}, fmt.Errorf("get console session: %w", ErrNotFound)
	}
	return cs, nil
}

// DeleteConsoleSession deletes the session whose cookie hashes to hash (sign-out); an
// unknown hash is no error.
func (s *Store) DeleteConsoleSession(ctx context.Context, hash []byte) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE hash = $1`, hash)
	return wrap("delete console session", err)
}

// DeleteExpiredConsole deletes every session and ticket expired at now (both indexed by
// expiry) and returns how many rows went. The API runs it at each sign-in and ticket mint,
// so dead rows never pile up.
func (s *Store) DeleteExpiredConsole(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `
        WITH t AS (DELETE FROM portal_tickets WHERE expires_at <= $1 RETURNING 1),
             s AS (DELETE FROM console_sessions WHERE expires_at <= $1 RETURNING 1)
        SELECT (SELECT count(*) FROM t) + (SELECT count(*) FROM s)`, now).Scan(&n)
	return n, wrap("delete expired console rows", err)
}
