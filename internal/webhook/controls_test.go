package webhook

import (
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/netguard"
)

// TestThrottleRefusesOneEventsShape: a throttled webhook sends batches, so a body template
// or an event's URL placeholder is a 422; {webhookId} is fine.
func TestThrottleRefusesOneEventsShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*Settings)
		want []string
	}{
		{"template", func(s *Settings) { s.BodyTemplate = `{"id": "{eventId}"}` },
			[]string{`bodyTemplate: cannot be combined with throttle: a batch is sent as {"events": [...]}`}},
		{"event placeholder", func(s *Settings) { s.URL = "https://example.com/d/{device_id}" },
			[]string{"url: with throttle may hold only the {webhookId} placeholder: a batch has many events"}},
		{"webhook id", func(s *Settings) { s.URL = "https://example.com/w/{webhookId}" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := valid()
			s.Throttle = Duration(time.Second)
			tt.edit(&s)
			if got := problems(t, s.Validate(netguard.Options{})); !slices.Equal(got, tt.want) {
				t.Errorf("Validate() = %q, want %q", got, tt.want)
			}
			s.Throttle = 0
			if got := problems(t, s.Validate(netguard.Options{})); got != nil {
				t.Errorf("without throttle: %q", got)
			}
		})
	}
}
