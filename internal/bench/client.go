package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// API is the little of hookd's REST API the benchmark uses, over one keep-alive
// connection pool.
type API struct {
	URL  string // http://host:port
	Key  string // an admin key
	HTTP *http.Client
}

// NewAPI returns a client for url whose pool keeps up to conns idle connections.
func NewAPI(url, key string, conns int) *API {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns
	tr.MaxIdleConnsPerHost = conns
	return &API{URL: url, Key: key, HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// call sends in as JSON and decodes a 2xx answer into out (when not nil). Any other
// status is an error carrying the body.
func (a *API) call(ctx context.Context, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.URL+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+a.Key)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// Ready reports whether GET /readyz answers 200.
func (a *API) Ready(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// CreateEventType creates an event type.
func (a *API) CreateEventType(ctx context.Context, name, description string) error {
	_, err := a.call(ctx, http.MethodPost, "/v1/event-types", map[string]any{"name": name, "description": description}, nil)
	return err
}

// WebhookSpec is the part of a webhook the benchmark sets.
type WebhookSpec struct {
	Name          string   `json:"name"`
	URL           string   `json:"url"`
	Events        []string `json:"events"`
	RetrySchedule []string `json:"retrySchedule,omitempty"`
	MaxRetries    int      `json:"maxRetries"`
	Timeout       int      `json:"timeoutSeconds"`
	Throttle      string   `json:"throttle,omitempty"`
}

// CreateWebhook creates a webhook and returns its id.
func (a *API) CreateWebhook(ctx context.Context, w WebhookSpec) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	if _, err := a.call(ctx, http.MethodPost, "/v1/webhooks", w, &out); err != nil {
		return "", err
	}
	return out.ID, nil
}

// DeleteWebhook deletes a webhook; its waiting deliveries give up at their next attempt.
func (a *API) DeleteWebhook(ctx context.Context, id string) error {
	_, err := a.call(ctx, http.MethodDelete, "/v1/webhooks/"+id, nil, nil)
	return err
}

// PostEvent posts one event with the caller's id and returns the status and the ids of
// the deliveries hookd made for it.
func (a *API) PostEvent(ctx context.Context, id, eventType string, data any) (int, []string, error) {
	var out struct {
		Deliveries []struct {
			ID string `json:"id"`
		} `json:"deliveries"`
	}
	status, err := a.call(ctx, http.MethodPost, "/v1/events", map[string]any{"id": id, "type": eventType, "data": data}, &out)
	if err != nil {
		return status, nil, err
	}
	ids := make([]string, len(out.Deliveries))
	for i, d := range out.Deliveries {
		ids[i] = d.ID
	}
	return status, ids, nil
}
