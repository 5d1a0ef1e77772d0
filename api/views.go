package api

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/redact"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/webhook"
)

// This file holds the JSON shapes of answers: camelCase, RFC 3339 UTC times, null for
// absent values rather than omitted keys, so every object has a fixed set of keys.

// timestamp formats t as RFC 3339 in UTC with as many fractional digits as it has
// (PostgreSQL keeps microseconds).
func timestamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

func optTimestamp(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := timestamp(*t)
	return &s
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// list is the envelope of every list answer.
type list[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

func newList[R, T any](rows []R, next string, view func(R) T) list[T] {
	out := list[T]{Data: make([]T, 0, len(rows)), NextCursor: optString(next)}
	for _, r := range rows {
		out.Data = append(out.Data, view(r))
	}
	return out
}

type eventTypeView struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Builtin     bool            `json:"builtin"`
	CreatedAt   string          `json:"createdAt"`
	UpdatedAt   string          `json:"updatedAt"`
}

func viewEventType(et store.EventType) eventTypeView {
	schema := et.Schema
	if len(schema) == 0 {
		schema = json.RawMessage("null")
	}
	return eventTypeView{
		Name: et.Name, Description: et.Description, Schema: schema, Builtin: et.Builtin,
		CreatedAt: timestamp(et.CreatedAt), UpdatedAt: timestamp(et.UpdatedAt),
	}
}

type webhookView struct {
	ID                  string            `json:"id"`
	Name                string            `json:"name"`
	Description         string            `json:"description"`
	URL                 string            `json:"url"`
	Events              []string          `json:"events"`
	EventsPolicy        string            `json:"eventsPolicy"`
	Headers             map[string]string `json:"headers"`
	TimeoutSeconds      int               `json:"timeoutSeconds"`
	MaxRetries          int               `json:"maxRetries"`
	RetrySchedule       []string          `json:"retrySchedule"`
	Method              string            `json:"method"`
	ContentType         string            `json:"contentType"`
	BodyTemplate        *string           `json:"bodyTemplate"`
	Auth                webhook.Auth      `json:"auth"`
	Signature           webhook.Signature `json:"signature"`
	FailureLimit        int               `json:"failureLimit"`
	Throttle            webhook.Duration  `json:"throttle"`
	DiscardAfter        webhook.Duration  `json:"discardAfter"`
	Lossy               bool              `json:"lossy"`
	AllowInvalidCerts   bool              `json:"allowInvalidCerts"`
	Level               string            `json:"level"`
	Status              string            `json:"status"`
	Secret              string            `json:"secret,omitempty"` // create only
	SecretPrefix        string            `json:"secretPrefix"`
	AttemptCount        int64             `json:"attemptCount"`
	ConsecutiveFailures int               `json:"consecutiveFailures"`
	LastTriggeredAt     *string           `json:"lastTriggeredAt"`
	CreatedAt           string            `json:"createdAt"`
	UpdatedAt           string            `json:"updatedAt"`
}

// viewWebhook shows w to any role: the values of credential headers masked (redact),
// never the signing secret (which create adds, once).
func viewWebhook(w store.Webhook) webhookView {
	events := w.Events
	if events == nil {
		events = []string{}
	}
	return webhookView{
		ID: w.ID, Name: w.Name, Description: w.Description, URL: w.URL,
		Events: events, EventsPolicy: w.EventsPolicy, Headers: redact.Headers(w.Headers),
		TimeoutSeconds: w.TimeoutSeconds, MaxRetries: w.MaxRetries,
		RetrySchedule: delivery.FormatSchedule(w.RetrySchedule),
		Method:        w.Method, ContentType: w.ContentType, BodyTemplate: optString(w.BodyTemplate),
		Auth: webhook.MaskedAuth(w.Auth), Signature: w.Signature, FailureLimit: w.FailureLimit,
		Throttle: w.Throttle, DiscardAfter: w.DiscardAfter, Lossy: w.Lossy,
		AllowInvalidCerts: w.AllowInvalidCerts, Level: w.Level,
		Status:       w.Status,
		SecretPrefix: w.SecretPrefix, AttemptCount: w.AttemptCount,
		ConsecutiveFailures: w.ConsecutiveFailures, LastTriggeredAt: optTimestamp(w.LastTriggeredAt),
		CreatedAt: timestamp(w.CreatedAt), UpdatedAt: timestamp(w.UpdatedAt),
	}
}

type eventView struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Level     string          `json:"level"`
	Data      json.RawMessage `json:"data"`
	CreatedAt string          `json:"createdAt"`
}

func viewEvent(ev store.Event) eventView {
	data := ev.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	return eventView{ID: ev.ID, Type: ev.Type, Timestamp: timestamp(ev.Timestamp), Level: ev.Level, Data: data, CreatedAt: timestamp(ev.CreatedAt)}
}

type eventDetailView struct {
	eventView
	Deliveries []deliveryView `json:"deliveries"`
}

// acceptedView answers POST /v1/events, the same on the first post and on repeats.
type acceptedView struct {
	ID         string             `json:"id"`
	Type       string             `json:"type"`
	Timestamp  string             `json:"timestamp"`
	Deliveries []acceptedDelivery `json:"deliveries"`
}

type acceptedDelivery struct {
	ID        string `json:"id"`
	WebhookID string `json:"webhookId"`
}

func viewAccepted(ev store.Event, ds []store.Delivery) acceptedView {
	out := acceptedView{ID: ev.ID, Type: ev.Type, Timestamp: timestamp(ev.Timestamp), Deliveries: make([]acceptedDelivery, 0, len(ds))}
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, acceptedDelivery{ID: d.ID, WebhookID: d.WebhookID})
	}
	sort.Slice(out.Deliveries, func(i, j int) bool { return out.Deliveries[i].ID < out.Deliveries[j].ID })
	return out
}

type deliveryView struct {
	ID             string  `json:"id"`
	WebhookID      string  `json:"webhookId"`
	EventID        string  `json:"eventId"`
	EventType      string  `json:"eventType"`
	Status         string  `json:"status"`
	AttemptCount   int     `json:"attemptCount"`
	NextAttemptAt  *string `json:"nextAttemptAt"`
	LastAttemptAt  *string `json:"lastAttemptAt"`
	LastStatusCode *int    `json:"lastStatusCode"`
	LastError      *string `json:"lastError"`
	// BatchID names the batch a throttled webhook's delivery went out in (null if none):
	// its attempts and outcome are the batch's, and so is its workflow.
	BatchID       *string `json:"batchId"`
	WorkflowID    string  `json:"workflowId"`
	WorkflowRunID *string `json:"workflowRunId"`
	CreatedAt     string  `json:"createdAt"`
	UpdatedAt     string  `json:"updatedAt"`
}

func viewDelivery(d store.Delivery) deliveryView {
	workflowID := delivery.WorkflowID(d.ID)
	if d.BatchID != "" {
		workflowID = dispatch.BatchWorkflowID(d.BatchID)
	}
	return deliveryView{
		ID: d.ID, WebhookID: d.WebhookID, EventID: d.EventID, EventType: d.EventType,
		Status: d.Status, AttemptCount: d.AttemptCount,
		NextAttemptAt: optTimestamp(d.NextAttemptAt), LastAttemptAt: optTimestamp(d.LastAttemptAt),
		LastStatusCode: d.LastStatusCode, LastError: optString(d.LastError),
		BatchID: optString(d.BatchID), WorkflowID: workflowID, WorkflowRunID: optString(d.WorkflowRunID),
		CreatedAt: timestamp(d.CreatedAt), UpdatedAt: timestamp(d.UpdatedAt),
	}
}

type deliveryDetailView struct {
	deliveryView
	Attempts []attemptView `json:"attempts"`
}

type attemptView struct {
	ID          string           `json:"id"`
	Number      int              `json:"number"`
	Trigger     string           `json:"trigger"`
	State       string           `json:"state"` // sending, completed or interrupted (store.Attempt)
	RequestedAt string           `json:"requestedAt"`
	DurationMs  *int64           `json:"durationMs"` // null unless completed
	Request     attemptRequest   `json:"request"`
	Response    *attemptResponse `json:"response"` // null when no response came back
	Error       *string          `json:"error"`
	RetryAfter  *string          `json:"retryAfter"` // e.g. "30s"; null without Retry-After
}

type attemptRequest struct {
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers"`
}

type attemptResponse struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func viewAttempt(a store.Attempt) attemptView {
	v := attemptView{
		ID: a.ID, Number: a.Number, Trigger: a.Trigger, State: a.State, RequestedAt: timestamp(a.RequestedAt),
		// Masked when recorded; masked again for records made under an older rule.
		Request: attemptRequest{URL: redact.URL(a.RequestURL), Method: a.RequestMethod, Headers: redact.Headers(a.RequestHeaders)},
		Error:   optString(a.Error),
	}
	if a.State == store.AttemptCompleted {
		v.DurationMs = &a.DurationMs
	}
	if a.ResponseStatus != nil {
		v.Response = &attemptResponse{Status: *a.ResponseStatus, Headers: nonNil(a.ResponseHeaders), Body: a.ResponseBody}
	}
	if a.RetryAfterMs != nil {
		s := delivery.FormatSchedule([]time.Duration{time.Duration(*a.RetryAfterMs) * time.Millisecond})[0]
		v.RetryAfter = &s
	}
	return v
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
