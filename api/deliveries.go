package api

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

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

// errSchedulerDown answers a retry or cancel that could not reach Temporal; nothing was
// changed, so the caller can simply try again.
func errSchedulerDown(cause error) error {
	return &httpError{status: http.StatusServiceUnavailable, detail: "the workflow engine is unreachable; nothing was changed, try again", cause: cause}
}

// retryDelivery asks for an attempt now, in any status; from then on the delivery makes
// no automatic retries. A canceled delivery becomes pending again first (so its outcome
// is recorded); the others keep their status until the attempt reports.
func (s *server) retryDelivery(c *gin.Context) {
	id := c.Param("id")
	ctx, org := c.Request.Context(), caller(c).OrgID
	d, _, err := s.store.GetDelivery(ctx, org, id)
	if err != nil {
		fail(c, describe(err, "no delivery %q", id))
		return
	}
	reopened := false
	if d.Status == store.StatusCanceled {
		next, err := s.store.TransitionDelivery(ctx, org, id, []string{store.StatusCanceled}, store.StatusPending)
		switch {
		case err == nil:
			d, reopened = next, true
		case errors.Is(err, store.ErrConflict):
			d = next // changed meanwhile; retry whatever it is now
		default:
			fail(c, describe(err, "no delivery %q", id))
			return
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.scheduleTimeout)
	defer cancel()
	if err := s.sched.Retry(sctx, d); err != nil {
		if reopened {
			s.revert(sctx, org, id, store.StatusPending, store.StatusCanceled)
		}
		fail(c, errSchedulerDown(err))
		return
	}
	if !d.WorkflowStarted {
		if err := s.store.MarkWorkflowsStarted(sctx, []string{id}); err != nil {
			s.log.WarnContext(ctx, "mark retried delivery started failed", "err", err, "delivery", id)
		}
	}
	c.JSON(http.StatusAccepted, viewDelivery(d))
}

// cancelDelivery stops a pending or retrying delivery; any other status is a 409.
func (s *server) cancelDelivery(c *gin.Context) {
	id := c.Param("id")
	ctx, org := c.Request.Context(), caller(c).OrgID
	before, _, err := s.store.GetDelivery(ctx, org, id)
	if err != nil {
		fail(c, describe(err, "no delivery %q", id))
		return
	}
	from := []string{store.StatusPending, store.StatusRetrying}
	d, err := s.store.TransitionDelivery(ctx, org, id, from, store.StatusCanceled)
	if errors.Is(err, store.ErrConflict) {
		fail(c, describe(err, "delivery %q is %s; only pending or retrying deliveries can be canceled", id, d.Status))
		return
	}
	if err != nil {
		fail(c, describe(err, "no delivery %q", id))
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.scheduleTimeout)
	defer cancel()
	if err := s.sched.Cancel(sctx, d); err != nil {
		s.revert(sctx, org, id, store.StatusCanceled, before.Status)
		fail(c, errSchedulerDown(err))
		return
	}
	c.JSON(http.StatusAccepted, viewDelivery(d))
}

// revert undoes a status change whose workflow signal failed, best effort: if the status
// moved on meanwhile, it is left alone.
func (s *server) revert(ctx context.Context, orgID, id, from, to string) {
	if !slices.Contains(deliveryStatuses, to) || from == to {
		return
	}
	if _, err := s.store.TransitionDelivery(ctx, orgID, id, []string{from}, to); err != nil {
		s.log.WarnContext(ctx, "revert delivery status after failed signal", "err", err, "delivery", id, "from", from, "to", to)
	}
}
