package store

import "fmt"

// Column lists and scan destinations, kept side by side so they cannot drift apart. The
// table aliases are fixed: o, k, t, w, e, d, a.

const orgCols = "o.id, o.name, o.created_at"

func orgDest(o *Organization) []any { return []any{&o.ID, &o.Name, &o.CreatedAt} }

const apiKeyCols = "k.id, k.org_id, k.role, k.name, k.prefix, k.hash, k.created_at, k.last_used_at"

func apiKeyDest(k *APIKey) []any {
	return []any{&k.ID, &k.OrgID, &k.Role, &k.Name, &k.Prefix, &k.Hash, &k.CreatedAt, &k.LastUsedAt}
}

const eventTypeCols = "t.org_id, t.name, t.description, t.schema, t.builtin, t.created_at, t.updated_at"

func eventTypeDest(t *EventType) []any {
	return []any{&t.OrgID, &t.Name, &t.Description, &t.Schema, &t.Builtin, &t.CreatedAt, &t.UpdatedAt}
}

const webhookCols = "w.id, w.org_id, w.settings, w.events, w.events_policy, w.status, w.secret_enc, " +
	"w.secret_prefix, w.attempt_count, w.consecutive_failures, w.last_triggered_at, w.created_at, w.updated_at, " +
	"w.secrets_enc, w.settings->'headers', " +
	"ARRAY(SELECT ws.secret_enc FROM webhook_secrets ws WHERE ws.webhook_id = w.id AND ws.expires_at > now() " +
	"ORDER BY ws.id DESC)"

// webhookRow holds a scanned webhook before its secrets are opened.
type webhookRow struct {
	w       Webhook
	secret  []byte
	secrets []byte
	// plainHeaders are headers still in the settings column (see sealPlainHeaders).
	plainHeaders map[string]string
	// grace are the sealed past secrets still in their grace period, newest first.
	grace [][]byte
}

func (r *webhookRow) dest() []any {
	w := &r.w
	return []any{&w.ID, &w.OrgID, &w.Settings, &w.Events, &w.EventsPolicy, &w.Status, &r.secret,
		&w.SecretPrefix, &w.AttemptCount, &w.ConsecutiveFailures, &w.LastTriggeredAt, &w.CreatedAt, &w.UpdatedAt,
		&r.secrets, &r.plainHeaders, &r.grace}
}

func (s *Store) webhookOf(r *webhookRow) (Webhook, error) {
	w := r.w
	plain, err := s.box.Open(r.secret)
	if err != nil {
		return Webhook{}, fmt.Errorf("open secret of webhook %s: %w", w.ID, err)
	}
	w.Secret = string(plain)
	for _, sealed := range r.grace {
		past, err := s.box.Open(sealed)
		if err != nil {
			return Webhook{}, fmt.Errorf("open past secret of webhook %s: %w", w.ID, err)
		}
		w.GraceSecrets = append(w.GraceSecrets, string(past))
	}
	sec, err := s.openSecrets(w.ID, r.secrets)
	if err != nil {
		return Webhook{}, err
	}
	if r.plainHeaders != nil {
		// Written before migration 005 or by an older hookd since: newer than any sealed.
		sec.Headers = r.plainHeaders
	}
	w.Settings = w.Settings.WithSecrets(sec).WithDefaults()
	if w.Events == nil {
		w.Events = []string{}
	}
	return w, nil
}

const eventCols = "e.org_id, e.id, e.type, e.occurred_at, e.data, e.created_at, e.level"

func eventDest(e *Event) []any {
	return []any{&e.OrgID, &e.ID, &e.Type, &e.Timestamp, &e.Data, &e.CreatedAt, &e.Level}
}

const deliveryCols = "d.id, d.org_id, d.webhook_id, d.event_id, d.event_type, d.status, d.attempt_count, " +
	"d.next_attempt_at, d.last_attempt_at, d.last_status_code, d.last_error, d.workflow_started, " +
	"d.workflow_run_id, d.created_at, d.updated_at, COALESCE(d.batch_id, '')"

func deliveryDest(d *Delivery) []any {
	return []any{&d.ID, &d.OrgID, &d.WebhookID, &d.EventID, &d.EventType, &d.Status, &d.AttemptCount,
		&d.NextAttemptAt, &d.LastAttemptAt, &d.LastStatusCode, &d.LastError, &d.WorkflowStarted,
		&d.WorkflowRunID, &d.CreatedAt, &d.UpdatedAt, &d.BatchID}
}

const attemptCols = "a.id, a.delivery_id, a.org_id, a.number, a.trigger, a.requested_at, a.duration_ms, " +
	"a.request_url, a.request_method, a.request_headers, a.response_status, a.response_headers, " +
	"a.response_body, a.error, a.retry_after_ms, COALESCE(a.activity_key, ''), COALESCE(a.outcome, ''), a.state"

func attemptDest(a *Attempt) []any {
	return []any{&a.ID, &a.DeliveryID, &a.OrgID, &a.Number, &a.Trigger, &a.RequestedAt, &a.DurationMs,
		&a.RequestURL, &a.RequestMethod, &a.RequestHeaders, &a.ResponseStatus, &a.ResponseHeaders,
		&a.ResponseBody, &a.Error, &a.RetryAfterMs, &a.ActivityKey, &a.Outcome, &a.State}
}

// withSeq appends the destination for a trailing seq column.
func withSeq(dest []any, seq *int64) []any { return append(dest, seq) }
