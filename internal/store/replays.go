package store

import "time"

// Statuses of a replay (API.md "Replays").
const (
	ReplayRunning   = "running"
	ReplayCompleted = "completed"
	ReplayCanceled  = "canceled"
	ReplayFailed    = "failed"
)

// ReplayFilter is what a replay resends: either DeliveryIDs (whatever their status), or
// the deliveries created in [Since, Until) narrowed by the other fields, with Status
// "failed" (the default) or "all".
type ReplayFilter struct {
	DeliveryIDs []string   `json:"deliveryIds,omitempty"`
	Since       *time.Time `json:"since,omitempty"`
	Until       *time.Time `json:"until,omitempty"`
	WebhookID   string     `json:"webhookId,omitempty"`
	EventTypes  []string   `json:"eventTypes,omitempty"`
	Status      string     `json:"status,omitempty"` // "failed" | "all"; "" with ids
}

// Replay is one replay with its progress. Succeeded and Failed count the replay's own
// attempts that have come back (2xx, or anything else); Replayed counts the deliveries it
// has asked to attempt, Skipped those it matched but found no longer replayable.
type Replay struct {
	ID            string
	OrgID         string
	Status        string
	Filter        ReplayFilter
	RatePerSecond int
	Matched       int64
	Replayed      int64
	Skipped       int64
	Succeeded     int64
	Failed        int64
	Cursor        int64 // last position handled
	Error         string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	FinishedAt    *time.Time
}
