package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/internal/ids"
	"github.com/hookd/hookd/internal/store"
)

// replayer starts, reads and cancels replays (API.md "Replays").
type replayer interface {
	// StartReplay records a replay of the organization's deliveries that f matches, at
	// ratePerSecond, and starts its workflow; it answers the replay with Matched counted.
	StartReplay(ctx context.Context, orgID string, f store.ReplayFilter, ratePerSecond int) (store.Replay, error)
	GetReplay(ctx context.Context, orgID, id string) (store.Replay, error)
	ListReplays(ctx context.Context, orgID string, p store.Page) ([]store.Replay, string, error)
	// CancelReplay stops a running replay; store.ErrConflict (wrapped) for a finished one.
	CancelReplay(ctx context.Context, orgID, id string) (store.Replay, error)
}

// Limits of POST /v1/replays.
const (
	// defaultReplayRate and maxReplayRate bound ratePerSecond (API.md "Replays").
	defaultReplayRate = 50
	maxReplayRate     = 1000
	// maxReplayIDs caps deliveryIds: a larger replay is one by since and until.
	maxReplayIDs = 1000
	// maxReplayEventTypes caps eventTypes, as a webhook's events are capped.
	maxReplayEventTypes = 250
	// replayFutureSlack is how far past the API's clock until may be. A replay matches
	// the deliveries that exist when it starts, so a later until would promise deliveries
	// it never resends; a minute absorbs the skew between a client's clock and ours.
	replayFutureSlack = time.Minute
)

// replayInput is the body of POST /v1/replays: deliveryIds, or since and until with the
// optional webhookId, eventTypes and status; ratePerSecond with either.
type replayInput struct {
	DeliveryIDs   *[]string `json:"deliveryIds"`
	Since         *string   `json:"since"`
	Until         *string   `json:"until"`
	WebhookID     *string   `json:"webhookId"`
	EventTypes    *[]string `json:"eventTypes"`
	Status        *string   `json:"status"`
	RatePerSecond *int      `json:"ratePerSecond"`
}

// filter checks the shape of in, adding a problem to v for each bad field, and returns
// the filter and rate it gives (meaningful only when v stays empty). now is the API's
// clock, against which until is checked.
func (in replayInput) filter(now time.Time, v *ValidationError) (store.ReplayFilter, int) {
	var f store.ReplayFilter
	rate := defaultReplayRate
	if in.RatePerSecond != nil {
		if r := *in.RatePerSecond; r >= 1 && r <= maxReplayRate {
			rate = r
		} else {
			v.Add("ratePerSecond", "must be an integer from 1 to %d", maxReplayRate)
		}
	}
	// A field refused by its JSON type (already named) counts as given.
	if in.DeliveryIDs != nil || v.Has("deliveryIds") {
		if in.DeliveryIDs != nil {
			f.DeliveryIDs = checkReplayIDs(*in.DeliveryIDs, v)
		}
		const byRange = "applies only to a replay by since and until; a replay by deliveryIds resends them whatever their status"
		for _, field := range []struct {
			name  string
			given bool
		}{
			{"since", in.Since != nil}, {"until", in.Until != nil}, {"webhookId", in.WebhookID != nil},
			{"eventTypes", in.EventTypes != nil}, {"status", in.Status != nil},
		} {
			if field.given {
				v.Add(field.name, "%s", byRange)
			}
		}
		return f, rate
	}

	const either = "is required: give since and until, or deliveryIds"
	if in.Since == nil {
		v.Add("since", "%s", either)
	} else if t, ok := parseTime(v, "since", *in.Since); ok {
		f.Since = &t
	}
	if in.Until == nil {
		v.Add("until", "%s", either)
	} else if t, ok := parseTime(v, "until", *in.Until); ok {
		switch {
		case t.After(now.Add(replayFutureSlack)):
			v.Add("until", "must not be more than %v past the current time (%s): a replay resends deliveries that exist when it starts", replayFutureSlack, timestamp(now))
		case f.Since != nil && !t.After(*f.Since):
			v.Add("until", "must be after since")
		}
		f.Until = &t
	}
	if in.WebhookID != nil {
		if ids.HasPrefix(*in.WebhookID, ids.Webhook) && len(*in.WebhookID) <= maxQueryID {
			f.WebhookID = *in.WebhookID
		} else {
			v.Add("webhookId", "must be a webhook id (wh_…)")
		}
	}
	if in.EventTypes != nil {
		f.EventTypes = checkReplayEventTypes(*in.EventTypes, v)
	}
	f.Status = store.StatusFailed
	if in.Status != nil {
		if s := *in.Status; s == store.StatusFailed || s == "all" {
			f.Status = s
		} else {
			v.Add("status", "must be failed or all")
		}
	}
	return f, rate
}

// checkReplayIDs checks a replay's deliveryIds: 1 to maxReplayIDs delivery ids, none
// repeated; each bad one is named by its index.
func checkReplayIDs(list []string, v *ValidationError) []string {
	switch {
	case len(list) == 0:
		v.Add("deliveryIds", "must name at least one delivery")
		return nil
	case len(list) > maxReplayIDs:
		v.Add("deliveryIds", "must name at most %d deliveries; replay more by since and until", maxReplayIDs)
		return nil
	}
	first := make(map[string]int, len(list))
	for i, id := range list {
		field := "deliveryIds[" + strconv.Itoa(i) + "]"
		if j, seen := first[id]; seen {
			v.Add(field, "repeats deliveryIds[%d]", j)
			continue
		}
		first[id] = i
		if !ids.HasPrefix(id, ids.Delivery) || len(id) > maxQueryID {
			v.Add(field, "must be a delivery id (dlv_…)")
		}
	}
	return list
}

// checkReplayEventTypes checks a replay's eventTypes: 1 to maxReplayEventTypes valid
// names, none repeated. Whether the organization has them is checked apart.
func checkReplayEventTypes(list []string, v *ValidationError) []string {
	switch {
	case len(list) == 0:
		v.Add("eventTypes", "must name at least one event type; leave it out to replay every type")
		return nil
	case len(list) > maxReplayEventTypes:
		v.Add("eventTypes", "must name at most %d event types", maxReplayEventTypes)
		return nil
	}
	for i, name := range list {
		field := "eventTypes[" + strconv.Itoa(i) + "]"
		if j := slices.Index(list[:i], name); j >= 0 {
			v.Add(field, "repeats eventTypes[%d]", j)
			continue
		}
		checkEventTypeName(v, field, name)
	}
	return list
}

// checkReplayNames adds a problem for a webhookId or an event type of f that the
// organization does not have, as a webhook naming an unknown event type gets one.
func (s *server) checkReplayNames(ctx context.Context, orgID string, f store.ReplayFilter, v *ValidationError) error {
	if f.WebhookID != "" && !v.Has("webhookId") {
		_, err := s.store.GetWebhook(ctx, orgID, f.WebhookID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			v.Add("webhookId", "no webhook %q in this organization", f.WebhookID)
		case err != nil:
			return err
		}
	}
	if len(f.EventTypes) == 0 || v.Has("eventTypes") {
		return nil
	}
	missing, err := s.store.MissingEventTypes(ctx, orgID, f.EventTypes)
	if err != nil {
		return err
	}
	for i, name := range f.EventTypes {
		if slices.Contains(missing, name) {
			v.Add("eventTypes["+strconv.Itoa(i)+"]", "unknown event type %q", name)
		}
	}
	return nil
}

// createReplay starts a replay and answers 202 with it, matched counted. The replay is
// committed first: if its workflow cannot be started now, the reconciler starts it.
func (s *server) createReplay(c *gin.Context) {
	var in replayInput
	var v ValidationError
	if err := bindObject(c, &in, &v); err != nil {
		fail(c, err)
		return
	}
	ctx, org := c.Request.Context(), caller(c).OrgID
	f, rate := in.filter(s.now(), &v)
	if err := s.checkReplayNames(ctx, org, f, &v); err != nil {
		fail(c, err)
		return
	}
	if err := v.Err(); err != nil {
		fail(c, err)
		return
	}
	r, err := s.svc.StartReplay(ctx, org, f, rate)
	if err != nil {
		fail(c, err) // a *ValidationError names the ids that are not the organization's
		return
	}
	c.Header("Location", "/v1/replays/"+r.ID)
	c.JSON(http.StatusAccepted, viewReplay(r))
}

func (s *server) listReplays(c *gin.Context) {
	page, err := pageOnly(c)
	if err != nil {
		fail(c, err)
		return
	}
	rows, next, err := s.svc.ListReplays(c.Request.Context(), caller(c).OrgID, page)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(rows, next, viewReplay))
}

func (s *server) getReplay(c *gin.Context) {
	id := c.Param("id")
	r, err := s.svc.GetReplay(c.Request.Context(), caller(c).OrgID, id)
	if err != nil {
		fail(c, describe(err, "no replay %q", id))
		return
	}
	c.JSON(http.StatusOK, viewReplay(r))
}

// cancelReplay stops a running replay: deliveries it has not asked to attempt yet are
// left alone. A finished replay is a 409. The record stops it, so an engine that cannot
// be reached does not fail the cancel.
func (s *server) cancelReplay(c *gin.Context) {
	id := c.Param("id")
	r, err := s.svc.CancelReplay(c.Request.Context(), caller(c).OrgID, id)
	if errors.Is(err, store.ErrConflict) {
		fail(c, describe(err, "replay %q is %s; only a running replay can be canceled", id, r.Status))
		return
	}
	if err != nil {
		fail(c, describe(err, "no replay %q", id))
		return
	}
	c.JSON(http.StatusAccepted, viewReplay(r))
}

// replayView is a replay with its progress. Its filter has every key, null where the
// replay did not set it.
type replayView struct {
	ID            string           `json:"id"`
	Status        string           `json:"status"`
	Filter        replayFilterView `json:"filter"`
	RatePerSecond int              `json:"ratePerSecond"`
	Matched       int64            `json:"matched"`
	Replayed      int64            `json:"replayed"`
	Skipped       int64            `json:"skipped"`
	Succeeded     int64            `json:"succeeded"`
	Failed        int64            `json:"failed"`
	Error         *string          `json:"error"`
	CreatedAt     string           `json:"createdAt"`
	UpdatedAt     string           `json:"updatedAt"`
	FinishedAt    *string          `json:"finishedAt"`
}

type replayFilterView struct {
	DeliveryIDs []string `json:"deliveryIds"`
	Since       *string  `json:"since"`
	Until       *string  `json:"until"`
	WebhookID   *string  `json:"webhookId"`
	EventTypes  []string `json:"eventTypes"`
	Status      *string  `json:"status"`
}

func viewReplay(r store.Replay) replayView {
	f := r.Filter
	return replayView{
		ID: r.ID, Status: r.Status, RatePerSecond: r.RatePerSecond,
		Filter: replayFilterView{
			DeliveryIDs: f.DeliveryIDs, Since: optTimestamp(f.Since), Until: optTimestamp(f.Until),
			WebhookID: optString(f.WebhookID), EventTypes: f.EventTypes, Status: optString(f.Status),
		},
		Matched: r.Matched, Replayed: r.Replayed, Skipped: r.Skipped, Succeeded: r.Succeeded, Failed: r.Failed,
		Error: optString(r.Error), CreatedAt: timestamp(r.CreatedAt), UpdatedAt: timestamp(r.UpdatedAt),
		FinishedAt: optTimestamp(r.FinishedAt),
	}
}
