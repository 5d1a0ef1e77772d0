package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/internal/ids"
	"github.com/hookd/hookd/internal/store"
)

// eventInput is the body of POST /v1/events.
type eventInput struct {
	ID        *string         `json:"id"`
	Type      *string         `json:"type"`
	Timestamp *string         `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// createEvent validates an event, stores it with one delivery per matching webhook in one
// transaction, starts the deliveries' workflows and answers 202. A repeated id answers
// 200 with the original event's body (whatever the repeat contained) and starts any of
// its deliveries that are still unstarted. Once the transaction commits the answer is
// 202/200 even if Temporal is unreachable: the rows are durable and the reconciler
// starts their workflows.
func (s *server) createEvent(c *gin.Context) {
	var in eventInput
	var v ValidationError
	if err := bindObject(c, &in, &v); err != nil {
		fail(c, err)
		return
	}
	ctx, org := c.Request.Context(), caller(c).OrgID
	ev, err := s.checkEvent(ctx, org, in, &v)
	if err != nil {
		fail(c, err)
		return
	}
	res, err := s.store.IngestEvent(ctx, ev)
	if err != nil {
		fail(c, err)
		return
	}
	s.startWorkflows(ctx, res.Deliveries)
	status := http.StatusAccepted
	if !res.Created {
		status = http.StatusOK
	}
	c.JSON(status, viewAccepted(res.Event, res.Deliveries))
}

// checkEvent validates the request and returns the event to store.
func (s *server) checkEvent(ctx context.Context, orgID string, in eventInput, v *ValidationError) (store.Event, error) {
	ev := store.Event{OrgID: orgID, ID: ids.New(ids.Event), Timestamp: s.now().UTC().Truncate(time.Microsecond)}
	if in.ID != nil && checkEventID(v, "id", *in.ID) {
		ev.ID = *in.ID
	}
	if in.Timestamp != nil {
		if t, ok := parseTime(v, "timestamp", *in.Timestamp); ok {
			ev.Timestamp = t
		}
	}
	dataOK := false
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
		ev.Data, dataOK = buf.Bytes(), true
	}
	typeOK := false
	if in.Type == nil {
		v.Add("type", "is required")
	} else if checkEventTypeName(v, "type", *in.Type) {
		ev.Type, typeOK = *in.Type, true
	}
	if !typeOK {
		return ev, v.Err()
	}
	et, err := s.store.GetEventType(ctx, orgID, ev.Type)
	switch {
	case errors.Is(err, store.ErrNotFound):
		v.Add("type", "unknown event type %q; create it with POST /v1/event-types", ev.Type)
		return ev, v.Err()
	case err != nil:
		return ev, err
	case et.Builtin:
		v.Add("type", "%q is sent by hookd itself and cannot be posted", ev.Type)
		return ev, v.Err()
	}
	if dataOK {
		sch, err := s.schemas.get(et)
		if err != nil {
			return ev, err
		}
		if sch != nil {
			if err := validateData(sch, ev.Data, "data"); err != nil {
				var dv *ValidationError
				if errors.As(err, &dv) {
					v.Errors = append(v.Errors, dv.Errors...)
				}
			}
		}
	}
	return ev, v.Err()
}

// startWorkflows starts the workflows of the deliveries not yet started and records that
// they are. Failure is logged, not returned: the deliveries are committed, and the
// reconciler starts whatever is left. It outlives a client that hangs up, up to
// scheduleTimeout.
func (s *server) startWorkflows(ctx context.Context, ds []store.Delivery) {
	var todo []store.Delivery
	for _, d := range ds {
		if !d.WorkflowStarted && d.Status == store.StatusPending {
			todo = append(todo, d)
		}
	}
	if len(todo) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.scheduleTimeout)
	defer cancel()
	if err := s.sched.Schedule(ctx, todo); err != nil {
		s.log.WarnContext(ctx, "start delivery workflows failed; the reconciler will start them",
			"err", err, "deliveries", len(todo), "first", todo[0].ID)
		return
	}
	if err := s.store.MarkWorkflowsStarted(ctx, store.DeliveryIDs(todo)); err != nil {
		s.log.WarnContext(ctx, "mark delivery workflows started failed; the reconciler will retry (starts are idempotent)",
			"err", err, "deliveries", len(todo))
	}
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
