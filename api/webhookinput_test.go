package api

import (
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/hookd/hookd/internal/webhook"
)

// TestWebhookInputCoversSettings: a setting added to webhook.Settings is also writable
// (webhookInput), shown (webhookView) and documented (openapi.yaml WebhookFields).
func TestWebhookInputCoversSettings(t *testing.T) {
	t.Parallel()
	var settings []string // Go field names, plus the status an admin writes beside them
	for f := range reflect.TypeFor[webhook.Settings]().Fields() {
		settings = append(settings, f.Name)
	}
	settings = append(settings, "Status", "Secret")
	var inputs []string
	for f := range reflect.TypeFor[webhookInput]().Fields() {
		inputs = append(inputs, f.Name)
	}
	if !slices.Equal(inputs, settings) {
		t.Errorf("webhookInput fields %q, want webhook.Settings', Status and Secret, in order: %q", inputs, settings)
	}

	names := slices.Sorted(maps.Keys(jsonFields(reflect.TypeFor[webhookInput]())))
	views := jsonFields(reflect.TypeFor[webhookView]())
	var doc struct {
		Components struct {
			Schemas struct {
				WebhookFields struct {
					Properties map[string]any `yaml:"properties"`
				} `yaml:"WebhookFields"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	documented := slices.Sorted(maps.Keys(doc.Components.Schemas.WebhookFields.Properties))
	if !slices.Equal(documented, names) {
		t.Errorf("openapi.yaml WebhookFields has %q, want the writable fields %q", documented, names)
	}
	for _, name := range names {
		if _, ok := views[name]; !ok {
			t.Errorf("webhookView does not show %q", name)
		}
	}
}
