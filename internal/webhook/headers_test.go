package webhook

import (
	"reflect"
	"testing"

	"github.com/hookd/hookd/internal/netguard"
)

// TestHeadersHookdSets: of the headers hookd sets itself, Content-Type and User-Agent may
// be given (they replace hookd's, see activities), in any case; the transport's and the
// Standard Webhooks signature's are refused, each problem naming the header as given.
func TestHeadersHookdSets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		headers map[string]string
		want    []string
	}{
		{name: "Content-Type and User-Agent are overridable",
			headers: map[string]string{"Content-Type": "application/cloudevents+json", "User-Agent": "acme-relay/2"}},
		{name: "in any case",
			headers: map[string]string{"content-type": "text/plain", "USER-AGENT": "x"}},
		{name: "the signature's are refused", headers: map[string]string{
			"webhook-id": "1", "Webhook-Timestamp": "2", "WEBHOOK-SIGNATURE": "v1,x",
		}, want: []string{
			"headers.WEBHOOK-SIGNATURE: webhook-* headers are reserved for the Standard Webhooks signature",
			"headers.Webhook-Timestamp: webhook-* headers are reserved for the Standard Webhooks signature",
			"headers.webhook-id: webhook-* headers are reserved for the Standard Webhooks signature",
		}},
		{name: "the transport's are refused", headers: map[string]string{
			"Transfer-Encoding": "chunked", "connection": "close", "TE": "trailers", "Content-Type": "text/plain",
		}, want: []string{
			"headers.TE: is set by hookd and cannot be overridden",
			"headers.Transfer-Encoding: is set by hookd and cannot be overridden",
			"headers.connection: is set by hookd and cannot be overridden",
		}},
		{name: "Content-Type given twice", headers: map[string]string{"Content-Type": "a/b", "content-type": "c/d"},
			want: []string{"headers.content-type: is given twice (header names are case-insensitive)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := valid()
			s.Headers = tt.headers
			if got := problems(t, s.Validate(netguard.Options{})); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
