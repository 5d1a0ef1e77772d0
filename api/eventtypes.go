package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/internal/schema"
	"github.com/hookd/hookd/internal/store"
)

// eventTypeInput is the body of POST /v1/event-types and PUT /v1/event-types/{name}.
type eventTypeInput struct {
	Name        *string         `json:"name"`
	Description *string         `json:"description"`
	Schema      json.RawMessage `json:"schema"`
}

// check validates the description and schema, returning the schema to store (nil for
// none). The schema is compiled here, within internal/schema's limits (size, depth,
// reference cycles, applications per value), so a schema that could not validate events
// is refused when it is written, naming the path inside it ("schema.$defs.a.$ref").
func (in eventTypeInput) check(v *ValidationError) json.RawMessage {
	if in.Description != nil {
		checkDescription(v, "description", *in.Description)
	}
	if len(in.Schema) == 0 || string(in.Schema) == "null" {
		return nil
	}
	if _, verr := schema.Compile(in.Schema, "schema"); verr != nil {
		v.Errors = append(v.Errors, verr.Errors...)
		return nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, in.Schema); err != nil {
		v.Add("schema", "must be valid JSON")
		return nil
	}
	return json.RawMessage(compact.Bytes())
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (s *server) listEventTypes(c *gin.Context) {
	page, err := pageOnly(c)
	if err != nil {
		fail(c, err)
		return
	}
	rows, next, err := s.store.ListEventTypes(c.Request.Context(), caller(c).OrgID, page)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(rows, next, viewEventType))
}

func (s *server) createEventType(c *gin.Context) {
	var in eventTypeInput
	var v ValidationError
	if err := bindObject(c, &in, &v); err != nil {
		fail(c, err)
		return
	}
	name := deref(in.Name)
	checkEventTypeName(&v, "name", name)
	schema := in.check(&v)
	if err := v.Err(); err != nil {
		fail(c, err)
		return
	}
	et, err := s.store.CreateEventType(c.Request.Context(), store.EventType{
		OrgID: caller(c).OrgID, Name: name, Description: deref(in.Description), Schema: schema,
	})
	if err != nil {
		fail(c, describe(err, "event type %q already exists", name))
		return
	}
	c.Header("Location", "/v1/event-types/"+et.Name)
	c.JSON(http.StatusCreated, viewEventType(et))
}

func (s *server) getEventType(c *gin.Context) {
	name := c.Param("name")
	et, err := s.store.GetEventType(c.Request.Context(), caller(c).OrgID, name)
	if err != nil {
		fail(c, describe(err, "no event type %q", name))
		return
	}
	c.JSON(http.StatusOK, viewEventType(et))
}

// updateEventType replaces description and schema (PUT semantics: an absent field is
// cleared). The name in the body, if any, must match the path. Built-in types are fixed.
func (s *server) updateEventType(c *gin.Context) {
	name := c.Param("name")
	var in eventTypeInput
	var v ValidationError
	if err := bindObject(c, &in, &v); err != nil {
		fail(c, err)
		return
	}
	if in.Name != nil && *in.Name != name {
		v.Add("name", "cannot be changed; it must be %q or absent", name)
	}
	schema := in.check(&v)
	if err := v.Err(); err != nil {
		fail(c, err)
		return
	}
	ctx, org := c.Request.Context(), caller(c).OrgID
	cur, err := s.store.GetEventType(ctx, org, name)
	if err != nil {
		fail(c, describe(err, "no event type %q", name))
		return
	}
	if cur.Builtin {
		fail(c, errorf(http.StatusConflict, "event type %q is built in and cannot be changed", name))
		return
	}
	cur.Description, cur.Schema = deref(in.Description), schema
	et, err := s.store.UpdateEventType(ctx, cur)
	if err != nil {
		fail(c, describe(err, "no event type %q", name))
		return
	}
	c.JSON(http.StatusOK, viewEventType(et))
}

// deleteEventType deletes an event type no webhook names. One that webhooks name (in an
// include or an exclude list) is a 409 naming them in the detail and, for programs, in
// the problem's `webhooks` member; nothing is deleted.
func (s *server) deleteEventType(c *gin.Context) {
	name := c.Param("name")
	err := s.store.DeleteEventType(c.Request.Context(), caller(c).OrgID, name)
	var inUse *store.EventTypeInUseError
	switch {
	case errors.As(err, &inUse):
		writeInUse(c, inUse)
	case errors.Is(err, store.ErrConflict):
		fail(c, describe(err, "event type %q is built in and cannot be deleted", name))
	case err != nil:
		fail(c, describe(err, "no event type %q", name))
	default:
		c.Status(http.StatusNoContent)
	}
}

// maxNamedInDetail is how many webhooks a 409's detail names; its `webhooks` member lists
// them all.
const maxNamedInDetail = 10

// webhookRef is a webhook named in a problem: its id and name.
type webhookRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// inUseProblem is the 409 of deleting an event type that webhooks name: a problem with
// the extension member `webhooks` (RFC 9457 §3.2).
type inUseProblem struct {
	problem
	Webhooks []webhookRef `json:"webhooks"`
}

// writeInUse answers the 409 of an event type in use. It writes the problem itself, since
// the shared problem shape has no extension members.
func writeInUse(c *gin.Context, e *store.EventTypeInUseError) {
	refs := make([]webhookRef, len(e.Webhooks))
	named := make([]string, 0, min(len(e.Webhooks), maxNamedInDetail))
	for i, w := range e.Webhooks {
		refs[i] = webhookRef{ID: w.ID, Name: w.Name}
		if i < maxNamedInDetail {
			named = append(named, fmt.Sprintf("%s (%q)", w.ID, w.Name))
		}
	}
	list := strings.Join(named, ", ")
	if more := len(e.Webhooks) - len(named); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	p := inUseProblem{
		problem: newProblem(http.StatusConflict, fmt.Sprintf(
			"event type %q is named in the events of %d webhook(s): %s; remove it from their events (or delete them) first",
			e.Name, len(e.Webhooks), list)),
		Webhooks: refs,
	}
	body, err := json.Marshal(p)
	if err != nil { // cannot happen for this type
		fail(c, err)
		return
	}
	c.Data(http.StatusConflict, problemContentType, body)
	c.Abort()
}
