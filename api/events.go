package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/internal/ids"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/webhook"
)

// eventInput is the body of POST /v1/events.
type eventInput struct {
	ID        *string         `json:"id"`
	Type      *string         `json:"type"`
	Timestamp *string         `json:"timestamp"`
	Level     *string         `json:"level"`
	Data      json.RawMessage `json:"data"`
}

// createEvent checks the request's shape and has the service publish the event: 202 for
// a new one, 200 with the original event's body for a repeated id.
func (s *server) createEvent(c *gin.Context) {
	var in eventInput
	var v ValidationError
	if err := bindObject(c, &in, &v); err != nil {
		fail(c, err)
		return
	}
	ev := s.eventOf(caller(c).OrgID, in, &v)
	res, err := s.svc.Publish(c.Request.Context(), ev, &v)
	if err != nil {
		fail(c, err)
		return
	}
	if s.ingest != nil {
		s.ingest.ObserveIngest(res.Created, len(res.Deliveries))
	}
	status := http.StatusAccepted
	if !res.Created {
		status = http.StatusOK
	}
	c.JSON(status, viewAccepted(res.Event, res.Deliveries))
}

// eventOf checks the request's shape, adding each problem to v, and returns the event to
// publish; a malformed type is left "" and malformed data nil, for the service's checks.
func (s *server) eventOf(orgID string, in eventInput, v *ValidationError) store.Event {
	ev := store.Event{OrgID: orgID, ID: ids.New(ids.Event), Timestamp: s.now().UTC().Truncate(time.Microsecond)}
	if in.ID != nil && checkEventID(v, "id", *in.ID) {
		ev.ID = *in.ID
	}
	if in.Timestamp != nil {
		if t, ok := parseTime(v, "timestamp", *in.Timestamp); ok {
			ev.Timestamp = t
		}
	}
	ev.Level = webhook.DefaultEventLevel
	if in.Level != nil {
		if slices.Contains(webhook.Levels, *in.Level) {
			ev.Level = *in.Level
		} else {
			v.Add("level", "must be one of %s", strings.Join(webhook.Levels, ", "))
		}
	}
	switch trimmed := bytes.TrimSpace(in.Data); {
	case len(trimmed) == 0 || string(trimmed) == "null":
		v.Add("data", "is required (a JSON object)")
	case trimmed[0] != '{':
		v.Add("data", "must be a JSON object")
	default:
		var buf bytes.Buffer
		if err := json.Compact(&buf, trimmed); err != nil {
			v.Add("data", "must be valid JSON")
			break
		}
		ev.Data = buf.Bytes()
	}
	if in.Type == nil {
		v.Add("type", "is required")
	} else if checkEventTypeName(v, "type", *in.Type) {
		ev.Type = *in.Type
	}
	return ev
}

func (s *server) listEvents(c *gin.Context) {
	page, err := pageOnly(c)
	if err != nil {
		fail(c, err)
		return
	}
	rows, next, err := s.store.ListEvents(c.Request.Context(), caller(c).OrgID, page)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(rows, next, viewEvent))
}

func (s *server) getEvent(c *gin.Context) {
	id := c.Param("id")
	ev, ds, err := s.store.GetEvent(c.Request.Context(), caller(c).OrgID, id)
	if err != nil {
		fail(c, describe(err, "no event %q", id))
		return
	}
	out := eventDetailView{eventView: viewEvent(ev), Deliveries: make([]deliveryView, 0, len(ds))}
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, viewDelivery(d))
	}
	c.JSON(http.StatusOK, out)
}
