package engine

import (
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/store"
)

func TestSummaryAndDetailsNameTheDelivery(t *testing.T) {
	t.Parallel()
	del := store.Delivery{ID: "dlv_1", OrgID: "org_1", WebhookID: "wh_1", EventID: "order-1", EventType: "order.created"}
	if got, want := summary(del), "order.created to wh_1"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	d := details(del)
	for _, want := range []string{"**dlv_1**", "`order-1`", "(order.created)", "**wh_1**", "org_1", "`GET /v1/deliveries/dlv_1`"} {
		if !strings.Contains(d, want) {
			t.Errorf("details %q lack %q", d, want)
		}
	}

	batched := store.Delivery{ID: "dlv_2", OrgID: "org_1", WebhookID: "wh_1", BatchID: "bat_1", EventType: "order.created"}
	if got, want := summary(batched), "batch of wh_1"; got != want {
		t.Errorf("batch summary %q, want %q", got, want)
	}
	if d := details(batched); !strings.Contains(d, "**bat_1**") || !strings.Contains(d, "webhookId=wh_1") {
		t.Errorf("batch details %q", d)
	}

	del.TargetHost, batched.TargetHost = "hooks.example.com:8443", "hooks.example.com"
	if got, want := summary(del), "order.created to wh_1 at hooks.example.com:8443"; got != want {
		t.Errorf("summary with host %q, want %q", got, want)
	}
	if got, want := summary(batched), "batch of wh_1 at hooks.example.com"; got != want {
		t.Errorf("batch summary with host %q, want %q", got, want)
	}
}

func TestCodeSpanHoldsAnyEventID(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"order-1", "`order-1`"},
		{"a`b\n**c**", "`ab**c**`"},
		{strings.Repeat("é", 120), "`" + strings.Repeat("é", 100) + "…`"},
	}
	for _, tc := range tests {
		if got := codeSpan(tc.in, 100); got != tc.want {
			t.Errorf("codeSpan(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
