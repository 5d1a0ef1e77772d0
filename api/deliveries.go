package api

import (
	"errors"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/internal/dispatch"
	"github.com/hookd/hookd/internal/ids"
	"github.com/hookd/hookd/internal/store"
)

var deliveryStatuses = []string{store.StatusPending, store.StatusRetrying, store.StatusSucceeded, store.StatusFailed, store.StatusCanceled}

// deliveryQuery reads the filters and page of GET /v1/deliveries, naming every bad one.
func deliveryQuery(c *gin.Context) (store.DeliveryFilter, store.Page, error) {
	var v ValidationError
	var f store.DeliveryFilter
	page := pageQuery(c, &v)
	if s, ok := c.GetQuery("status"); ok {
		if slices.Contains(deliveryStatuses, s) {
			f.Status = s
		} else {
			v.Add("status", "must be one of pending, retrying, succeeded, failed, canceled")
		}
	}
	if s, ok := c.GetQuery("webhookId"); ok {
		if ids.HasPrefix(s, ids.Webhook) && len(s) <= maxQueryID {
			f.WebhookID = s
		} else {
			v.Add("webhookId", "must be a webhook id (wh_…)")
		}
	}
	if s, ok := c.GetQuery("eventId"); ok && checkEventID(&v, "eventId", s) {
		f.EventID = s
	}
	if s, ok := c.GetQuery("eventType"); ok && checkEventTypeName(&v, "eventType", s) {
		f.EventType = s
	}
	if s, ok := c.GetQuery("since"); ok {
		if t, ok := parseTime(&v, "since", s); ok {
			f.Since = &t
		}
	}
	if s, ok := c.GetQuery("until"); ok {
		if t, ok := parseTime(&v, "until", s); ok {
			f.Until = &t
		}
	}
	if f.Since != nil && f.Until != nil && f.Until.Before(*f.Since) {
		v.Add("until", "must not be before since")
	}
	return f, page, v.Err()
}

func (s *server) listDeliveries(c *gin.Context) {
	f, page, err := deliveryQuery(c)
	if err != nil {
		fail(c, err)
		return
	}
	rows, next, err := s.store.ListDeliveries(c.Request.Context(), caller(c).OrgID, f, page)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(rows, next, viewDelivery))
}

func (s *server) getDelivery(c *gin.Context) {
	id := c.Param("id")
	d, attempts, err := s.store.GetDelivery(c.Request.Context(), caller(c).OrgID, id)
	if err != nil {
		fail(c, describe(err, "no delivery %q", id))
		return
	}
	out := deliveryDetailView{deliveryView: viewDelivery(d), Attempts: make([]attemptView, 0, len(attempts))}
	for _, a := range attempts {
		out.Attempts = append(out.Attempts, viewAttempt(a))
	}
	c.JSON(http.StatusOK, out)
}

// steerFailure maps what the service answered a retry or cancel to the caller's problem.
func steerFailure(err error, id string) error {
	if errors.Is(err, dispatch.ErrUnavailable) {
		// Nothing was changed, so the caller can simply try again.
		return &httpError{status: http.StatusServiceUnavailable, detail: "the workflow engine is unreachable; nothing was changed, try again", cause: err}
	}
	return describe(err, "no delivery %q", id)
}

// retryDelivery asks for an attempt now, in any status; from then on the delivery makes
// no automatic retries (the service reopens a canceled one first).
func (s *server) retryDelivery(c *gin.Context) {
	id := c.Param("id")
	d, err := s.svc.Retry(c.Request.Context(), caller(c).OrgID, id)
	if errors.Is(err, dispatch.ErrWebhookNotEnabled) {
		fail(c, describe(err, "delivery %q belongs to webhook %q, which is not enabled; enable it to retry", id, d.WebhookID))
		return
	}
	if err != nil {
		fail(c, steerFailure(err, id))
		return
	}
	c.JSON(http.StatusAccepted, viewDelivery(d))
}

// cancelDelivery stops a pending or retrying delivery; any other status is a 409.
func (s *server) cancelDelivery(c *gin.Context) {
	id := c.Param("id")
	d, err := s.svc.Cancel(c.Request.Context(), caller(c).OrgID, id)
	if errors.Is(err, store.ErrConflict) {
		fail(c, describe(err, "delivery %q is %s; only pending or retrying deliveries can be canceled", id, d.Status))
		return
	}
	if err != nil {
		fail(c, steerFailure(err, id))
		return
	}
	c.JSON(http.StatusAccepted, viewDelivery(d))
}
