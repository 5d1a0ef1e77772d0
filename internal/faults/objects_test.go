//go:build faults

package faults

import (
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// objects are one of each kind of object an organization has, for the routes with an id
// in their path.
type objects struct {
	eventType, webhook, event, delivery, replay string
}

// seedObjects creates, as key, an event type, a webhook to rc, an event (so a delivery)
// and a replay of that delivery, and waits until all of it has settled (delivered, the
// replay completed), so that nothing changes in the database afterwards.
func (e *env) seedObjects(t *testing.T, key, prefix string, rc *receiver) objects {
	t.Helper()
	o := objects{eventType: "fault." + prefix}
	o.webhook = e.webhook(key, prefix, rc.URL, o.eventType, nil)
	ev := e.must(http.StatusAccepted, http.MethodPost, "/v1/events", key, map[string]any{"id": prefix + "-1", "type": o.eventType, "data": map[string]any{"n": 1}})
	o.event = prefix + "-1"
	ds, _ := ev["deliveries"].([]any)
	if len(ds) != 1 {
		t.Fatalf("event of %s: %d deliveries, want 1", prefix, len(ds))
	}
	o.delivery, _ = ds[0].(map[string]any)["id"].(string)
	e.waitField(t, key, "/v1/deliveries/"+o.delivery, "status", "succeeded", time.Minute)
	rp := e.must(http.StatusAccepted, http.MethodPost, "/v1/replays", key, map[string]any{"deliveryIds": []string{o.delivery}})
	o.replay, _ = rp["id"].(string)
	e.waitField(t, key, "/v1/replays/"+o.replay, "status", "completed", time.Minute)
	e.waitField(t, key, "/v1/deliveries/"+o.delivery, "status", "succeeded", time.Minute)
	return o
}

// waitField waits (at most within) until GET path answers a JSON object whose field is
// want.
func (e *env) waitField(t *testing.T, key, path, field, want string, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		v := e.must(http.StatusOK, http.MethodGet, path, key, nil)
		if v[field] == want {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %s is %v after %v, want %s", path, field, v[field], within, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// fill puts o's ids into the path parameters of path: a route under /v1/<kind>/ takes
// the id of that kind. It fails for a path parameter of a kind o does not know, so a new
// id route is not left out silently.
func (o objects) fill(path string) (string, error) {
	if !strings.Contains(path, "{") {
		return path, nil
	}
	rest, ok := strings.CutPrefix(path, "/v1/")
	if !ok {
		return "", fmt.Errorf("%s: a path parameter outside /v1", path)
	}
	kind, _, _ := strings.Cut(rest, "/")
	id := map[string]string{
		"event-types": o.eventType, "webhooks": o.webhook, "events": o.event,
		"deliveries": o.delivery, "replays": o.replay,
	}[kind]
	if id == "" {
		return "", fmt.Errorf("%s: no object of kind %q to fill its path with (teach objects and seedObjects)", path, kind)
	}
	start, end := strings.Index(path, "{"), strings.Index(path, "}")
	if strings.Contains(path[end+1:], "{") {
		return "", fmt.Errorf("%s: more than one path parameter", path)
	}
	return path[:start] + id + path[end+1:], nil
}

// keysCreate runs `hookd keys create` for org and role against hookd's database and
// returns the key.
func (e *env) keysCreate(t *testing.T, org, role string) string {
	t.Helper()
	cmd := exec.Command(hookdBin, "keys", "create", "--role", role, "--org", org)
	cmd.Env = e.hookd.Env
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("hookd keys create --org %s --role %s: %v %s", org, role, err, stderr)
	}
	return strings.TrimSpace(string(out))
}
