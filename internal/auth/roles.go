package auth

import "github.com/hookd/hookd/internal/store"

// Permission is one kind of thing a request does; each route requires exactly one.
type Permission int

const (
	// ReadEvents covers reads of events (and their deliveries): every role.
	ReadEvents Permission = iota + 1
	// Publish covers POST /v1/events: admin and publisher.
	Publish
	// Read covers reads of everything else (event types, webhooks, deliveries): admin and viewer.
	Read
	// Manage covers every other change (event types, webhooks, retries, keys): admin only.
	Manage
)

// String names the permission for logs and error details.
func (p Permission) String() string {
	switch p {
	case ReadEvents:
		return "read events"
	case Publish:
		return "publish events"
	case Read:
		return "read"
	case Manage:
		return "manage"
	}
	return "unknown"
}

// ValidRole reports whether r is one of the roles hookd knows.
func ValidRole(r store.Role) bool {
	switch r {
	case store.RoleAdmin, store.RolePublisher, store.RoleViewer:
		return true
	}
	return false
}

// Allowed reports whether a key with role r may do p. Unknown roles may do nothing.
func Allowed(r store.Role, p Permission) bool {
	switch r {
	case store.RoleAdmin:
		return p >= ReadEvents && p <= Manage
	case store.RolePublisher:
		return p == ReadEvents || p == Publish
	case store.RoleViewer:
		return p == ReadEvents || p == Read
	}
	return false
}
