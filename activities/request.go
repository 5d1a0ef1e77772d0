package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/ids"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/redact"
	"github.com/hookd/hookd/internal/render"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/webhook"
)

// message is what one request of an attempt carries.
type message struct {
	ID          string // the Standard Webhooks message id: the delivery id (or a batch's)
	URL         string // the target, placeholders filled
	Body        []byte
	ContentType string // the Content-Type header's value
}

type sendResult struct {
	attempt    store.Attempt
	outcome    delivery.Outcome
	statusCode int
	retryAfter time.Duration
}

// prepare renders, signs and authenticates the delivery and builds its request, stamped
// with the time of the attempt. The result describes the request; when there is none to
// send (rendering, signing or authenticating failed) req is nil and the result is the
// attempt's outcome, with the error.
func (a *Activities) prepare(ctx context.Context, ac store.AttemptContext, trigger string) (req *http.Request, res sendResult) {
	wh := ac.Webhook
	started := a.now()
	res = sendResult{outcome: delivery.OutcomeRetry, attempt: store.Attempt{
		ID:            ids.New(ids.Attempt),
		DeliveryID:    ac.Delivery.ID,
		OrgID:         ac.Delivery.OrgID,
		Trigger:       trigger,
		RequestedAt:   started.UTC(),
		RequestURL:    maskURL(wh.URL),
		RequestMethod: wh.Method,
	}}
	fail := func(err error) (*http.Request, sendResult) {
		res.attempt.Error = err.Error()
		res.attempt.DurationMs = a.now().Sub(started).Milliseconds()
		return nil, res
	}
	m, err := renderMessage(ac, started)
	if err != nil {
		if missing := (*render.MissingError)(nil); errors.As(err, &missing) || errors.Is(err, render.ErrTooLarge) {
			res.outcome = delivery.OutcomeFailed // no retry brings the value
		}
		return fail(err)
	}
	res.attempt.RequestURL = maskURL(m.URL)
	req, err = a.newRequest(ctx, wh, m, started)
	if err != nil {
		return fail(err)
	}
	res.attempt.RequestHeaders = maskHeaders(req.Header)
	if sig := wh.Signature; sig.Scheme == webhook.SchemeHMACBody {
		// Whatever its name, the body signature is a credential of this body.
		res.attempt.RequestHeaders[http.CanonicalHeaderKey(sig.Header)] = redact.Masked
	}
	return req, res
}

// newRequest builds the signed, authenticated request of message m of webhook wh at time
// at: wh's method to m's URL with m's body; Content-Type (m's) and User-Agent, which the
// webhook's custom headers replace when they name them, then the custom headers (see
// setHeaders); the signature headers; the credentials. m need not be one delivery's (a
// batch is a message too). An error names no credential of the URL (maskURLError).
func (a *Activities) newRequest(ctx context.Context, wh store.Webhook, m message, at time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, wh.Method, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", maskURLError(err))
	}
	setHeaders(req.Header, wh.Headers, m.ContentType, a.UserAgent)
	if err := signRequest(req, wh, m.ID, at, m.Body); err != nil {
		return nil, fmt.Errorf("sign body: %w", err)
	}
	if err := a.authorize(ctx, req, wh); err != nil {
		return nil, err
	}
	return req, nil
}

// client is the HTTP client for wh's target: InsecureClient, which verifies no TLS
// certificate, for a webhook that allows invalid certificates (seed 003's
// allowInvalidCerts), Client for the others. Both refuse the same addresses (netguard).
func (a *Activities) client(wh store.Webhook) *http.Client {
	if wh.AllowInvalidCerts && a.InsecureClient != nil {
		return a.InsecureClient
	}
	return a.Client
}

// send sends req, allowing wh's timeout to answer, and completes res, which describes req
// (see prepare), with what happened. A 401 to a request whose credentials reauthorize can
// refresh (OAuth2's token) sends it once more within the same timeout, and the second
// answer is the attempt's; a refresh that fails leaves the 401 with the refresh's error.
// The duration runs from the first send.
func (a *Activities) send(req *http.Request, wh store.Webhook, res sendResult) sendResult {
	ctx, cancel := context.WithTimeout(req.Context(), time.Duration(wh.TimeoutSeconds)*time.Second)
	defer cancel()
	started := a.now()
	resp, err := a.client(wh).Do(req.WithContext(ctx))
	var refreshErr error
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		resp, err, refreshErr = a.sendReauthorized(ctx, req, wh, resp)
	}
	if err != nil {
		if errors.Is(err, netguard.ErrBlocked) {
			// The target resolves to an address hookd must not reach: retrying won't help.
			res.outcome = delivery.OutcomeFailed
		}
		res.attempt.Error = maskURLError(err).Error()
		res.attempt.DurationMs = a.now().Sub(started).Milliseconds()
		a.logSent(req.Context(), wh, res)
		return res
	}
	defer resp.Body.Close()
	kept, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	// Drain a little more so the connection can be reused; a huge body is cut off.
	_, _ = io.CopyN(io.Discard, resp.Body, maxResponseBody)

	res.statusCode = resp.StatusCode
	res.outcome = delivery.Classify(resp.StatusCode)
	code := resp.StatusCode
	res.attempt.ResponseStatus = &code
	res.attempt.ResponseHeaders = flattenHeaders(resp.Header)
	res.attempt.ResponseBody = string(kept) // the store makes it valid UTF-8
	scrubEchoes(&res, req, wh)
	res.attempt.DurationMs = a.now().Sub(started).Milliseconds()
	if readErr != nil {
		res.attempt.Error = fmt.Sprintf("read response body: %v", readErr)
	}
	if res.outcome != delivery.OutcomeSucceeded {
		switch {
		case refreshErr != nil:
			res.attempt.Error = fmt.Sprintf("receiver answered %d; refreshing the credentials failed: %v", resp.StatusCode, refreshErr)
		case res.attempt.Error == "":
			res.attempt.Error = fmt.Sprintf("receiver answered %d", resp.StatusCode)
		}
		if d, ok := delivery.ParseRetryAfter(resp.Header.Get("Retry-After"), a.now()); ok {
			res.retryAfter = d
			ms := d.Milliseconds()
			res.attempt.RetryAfterMs = &ms
		}
	}
	a.logSent(req.Context(), wh, res)
	return res
}

// logSent logs what an attempt got, at debug level, with its webhook's id; the log
// handler (internal/tracing.LogHandler) adds the workflow's, the delivery's or batch's and
// the trace's from ctx. Nothing of the request: its URL, headers and body may hold
// secrets; the error is the one recorded, cut to the host (hostOnly).
func (a *Activities) logSent(ctx context.Context, wh store.Webhook, res sendResult) {
	a.logger().DebugContext(ctx, "attempt sent", "webhook_id", wh.ID, "status_code", res.statusCode,
		"outcome", res.outcome, "duration_ms", res.attempt.DurationMs, "error", hostOnly(res.attempt.Error))
}

// sendReauthorized answers resp, a 401 to req: when reauthorize sets fresh credentials on
// req, it closes resp and sends req once more (with its body anew), returning that answer;
// otherwise it returns resp, with the refresh's error if refreshing failed.
func (a *Activities) sendReauthorized(ctx context.Context, req *http.Request, wh store.Webhook, resp *http.Response) (_ *http.Response, err, refreshErr error) {
	again, refreshErr := a.reauthorize(ctx, req, wh)
	if refreshErr != nil || !again {
		return resp, nil, refreshErr
	}
	_, _ = io.CopyN(io.Discard, resp.Body, maxResponseBody) // so the connection can be reused
	resp.Body.Close()
	if req.GetBody != nil {
		if req.Body, err = req.GetBody(); err != nil {
			return nil, fmt.Errorf("send again: %w", err), nil
		}
	}
	resp, err = a.client(wh).Do(req.WithContext(ctx))
	return resp, err, nil
}
