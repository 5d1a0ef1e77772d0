package activities

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/webhook"
)

// TestScrubEchoes: a receiver that echoes the request's credentials back (an error page
// showing the Authorization header, say) leaves none of them in the attempt record.
func TestScrubEchoes(t *testing.T) {
	t.Parallel()
	wh := store.Webhook{Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", GraceSecrets: []string{"whsec_oldoldoldoldoldoldoldoldoldold"}}
	wh.Auth = webhook.Auth{Type: webhook.AuthOAuth2, ClientSecret: "client-secret-77"}
	req, err := http.NewRequest(http.MethodPost, "https://example.com/hook", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer access-token-123")
	req.Header.Set("X-Api-Key", "api-key-456")
	req.Header.Set("X-Team", "core-team")
	basic, err := http.NewRequest(http.MethodPost, "https://example.com/hook", nil)
	if err != nil {
		t.Fatal(err)
	}
	basic.SetBasicAuth("account", "p4ssw0rd-basic")

	secrets := []string{"access-token-123", "api-key-456", "client-secret-77", wh.Secret, wh.GraceSecrets[0]}
	res := sendResult{attempt: store.Attempt{
		ResponseBody:    "you sent Authorization: Bearer access-token-123, X-Api-Key: api-key-456, " + strings.Join(secrets[2:], " ") + ", team core-team",
		ResponseHeaders: map[string]string{"X-Echo": "access-token-123", "Server": "echo"},
	}}
	scrubEchoes(&res, req, wh)
	for _, s := range secrets {
		if strings.Contains(res.attempt.ResponseBody, s) || strings.Contains(res.attempt.ResponseHeaders["X-Echo"], s) {
			t.Errorf("the record keeps %q: body %q, headers %v", s, res.attempt.ResponseBody, res.attempt.ResponseHeaders)
		}
	}
	if !strings.Contains(res.attempt.ResponseBody, "team core-team") || res.attempt.ResponseHeaders["Server"] != "echo" {
		t.Errorf("scrubbed more than credentials: %q, %v", res.attempt.ResponseBody, res.attempt.ResponseHeaders)
	}

	// Echoed lowercased, or percent-encoded as a query or form would carry it.
	res = sendResult{attempt: store.Attempt{ResponseBody: "auth " + strings.ToLower(req.Header.Get("Authorization")) +
		" q=" + url.QueryEscape(req.Header.Get("Authorization"))}}
	scrubEchoes(&res, req, wh)
	if strings.Contains(strings.ToLower(res.attempt.ResponseBody), "access-token-123") {
		t.Errorf("a transformed echo kept the token: %q", res.attempt.ResponseBody)
	}

	res = sendResult{attempt: store.Attempt{ResponseBody: "auth " + basic.Header.Get("Authorization") + " pw p4ssw0rd-basic"}}
	scrubEchoes(&res, basic, store.Webhook{})
	if strings.Contains(res.attempt.ResponseBody, "p4ssw0rd-basic") || strings.Contains(res.attempt.ResponseBody, basic.Header.Get("Authorization")[6:]) {
		t.Errorf("basic credentials kept: %q", res.attempt.ResponseBody)
	}
}
