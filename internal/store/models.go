package store

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/webhook"
)

// Sentinel errors the API maps to problem+json. Compare with errors.Is.
var (
	// ErrNotFound: no row with that id in that organization.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique constraint or state rule forbids the change.
	ErrConflict = errors.New("conflict")
)

// Role is what an API key may do within its organization.
type Role string

const (
	RoleAdmin     Role = "admin"
	RolePublisher Role = "publisher"
	RoleViewer    Role = "viewer"
)

// Organization owns every other record.
type Organization struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// APIKey is a stored key; only the SHA-256 of the plaintext is kept.
type APIKey struct {
	ID         string
	OrgID      string
	Role       Role
	Name       string
	Prefix     string // first characters of the plaintext, for display
	Hash       []byte // sha256(plaintext)
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// EventType is a named kind of event; Builtin types (ping, webhook.disabled) cannot be deleted.
type EventType struct {
	OrgID       string
	Name        string
	Description string
	Schema      json.RawMessage // optional JSON Schema, nil when absent
	Builtin     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Webhook statuses (see webhook.StatusEnabled).
const (
	WebhookEnabled             = webhook.StatusEnabled
	WebhookDisabled            = webhook.StatusDisabled
	WebhookDisabledDueToErrors = webhook.StatusDisabledDueToErrors
)

// Webhook is a subscriber endpoint: the settings an admin writes, and what hookd keeps
// beside them. The settings are stored in one jsonb column (see webhook.Settings); what
// SQL filters or updates on has columns of its own.
type Webhook struct {
	ID    string
	OrgID string
	webhook.Settings
	Status       string // WebhookEnabled, WebhookDisabled or WebhookDisabledDueToErrors
	Secret       string // "whsec_..." plaintext; stored encrypted
	SecretPrefix string
	// GraceSecrets are the webhook's past secrets still in a rotation's grace period,
	// newest first (plaintext; stored encrypted): each still signs, after Secret.
	GraceSecrets        []string
	AttemptCount        int64
	ConsecutiveFailures int
	LastTriggeredAt     *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Receives reports whether the webhook is sent deliveries of eventType: every type when
// it is enabled, and otherwise only pings, which are how an admin tests a receiver before
// enabling it (API.md: deliveries of a disabled webhook stop).
func (w Webhook) Receives(eventType string) bool {
	return w.Status == WebhookEnabled || eventType == EventTypePing
}

// Event is what a producer posted. ID is unique per organization.
type Event struct {
	OrgID     string
	ID        string
	Type      string
	Timestamp time.Time
	Data      json.RawMessage // a JSON object
	CreatedAt time.Time
	// Level is the event's severity, one of webhook.Levels; "" is stored as
	// webhook.DefaultEventLevel.
	Level string
}

// Delivery statuses.
const (
	StatusPending   = delivery.StatusPending
	StatusRetrying  = delivery.StatusRetrying
	StatusSucceeded = delivery.StatusSucceeded
	StatusFailed    = delivery.StatusFailed
	StatusCanceled  = delivery.StatusCanceled
)

// Delivery is one webhook × event notification.
type Delivery struct {
	ID              string
	OrgID           string
	WebhookID       string
	EventID         string
	EventType       string
	Status          string
	AttemptCount    int
	NextAttemptAt   *time.Time
	LastAttemptAt   *time.Time
	LastStatusCode  *int
	LastError       string
	WorkflowStarted bool
	WorkflowRunID   string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	// BatchID names the batch a throttled webhook's delivery went out in ("" if none):
	// the delivery shares the batch's attempts and outcome.
	BatchID string
	// TargetHost is the host (and port) of the webhook's URL, set only on the deliveries
	// an ingest returns (for the workflow's summary in the Temporal UI); never stored.
	TargetHost string
}

// Attempt is one HTTP request of a delivery, with what came back.
type Attempt struct {
	ID              string
	DeliveryID      string
	OrgID           string
	Number          int    // 1-based, per delivery
	Trigger         string // "auto" | "manual" | "replay"
	State           string // AttemptSending, AttemptCompleted or AttemptInterrupted
	RequestedAt     time.Time
	DurationMs      int64 // 0 unless State is AttemptCompleted
	RequestURL      string
	RequestMethod   string
	RequestHeaders  map[string]string // secrets masked before storing
	ResponseStatus  *int
	ResponseHeaders map[string]string
	ResponseBody    string // first 64 KiB, valid UTF-8
	Error           string
	RetryAfterMs    *int64
	// ActivityKey names the execution of the attempt activity that made the attempt
	// ("<run id>/<activity id>"), unique per delivery, so that a re-execution finds it
	// instead of sending again; "" (stored as NULL) for none.
	ActivityKey string
	// Outcome is the delivery.Outcome the activity decided on; "" (stored as NULL) for
	// attempts recorded before outcomes were.
	Outcome string
	// ReplayID is the replay an attempt with trigger replay was made for ("" for none):
	// at most one attempt per replay and delivery (BeginAttempt, BeginBatchAttempt).
	ReplayID string
}

// States of an attempt. An attempt is recorded sending before its request goes out
// (BeginAttempt) and completed after (CompleteAttempt); one its worker never completed
// (it died, or was stopped past its grace period, with the request in flight) is closed
// interrupted, with InterruptedError as its error, when the next attempt of its delivery
// begins or when CloseStaleAttempts finds it.
const (
	AttemptSending     = "sending"
	AttemptCompleted   = "completed"
	AttemptInterrupted = "interrupted"
)

// InterruptedError is the error of an interrupted attempt: its request was sent (or about
// to be), and what came back, if anything, is unknown.
const InterruptedError = "no response recorded: the worker stopped while the request was in flight"

// Page asks for one page of a list, newest first.
type Page struct {
	Limit  int    // 1..250, callers clamp
	Cursor string // opaque, from a previous NextCursor; "" for the first page
}

// DeliveryFilter narrows ListDeliveries; zero fields do not filter.
type DeliveryFilter struct {
	Status    string
	WebhookID string
	EventID   string
	EventType string
	Since     *time.Time
	Until     *time.Time
}

// DeliveryIDs returns the ids of ds, in order.
func DeliveryIDs(ds []Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}
