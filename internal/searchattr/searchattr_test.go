package searchattr_test

import (
	"errors"
	"maps"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/hookd/hookd/internal/searchattr"
)

// Ensure runs against a real Temporal server in cmd/hookd's tests (startup_test.go): at
// start, in hookd migrate, refused by a server that may not register.

func TestMissingErrorGivesTheCommands(t *testing.T) {
	t.Parallel()
	denied := serviceerror.NewPermissionDenied("Request unauthorized.", "")
	err := error(&searchattr.MissingError{
		Namespace: searchattr.Namespace{Name: "hookd.a1b2c", Address: "hookd.a1b2c.tmprl.cloud:7233", APIKey: true},
		Missing:   map[string]enumspb.IndexedValueType{"HookdWebhookId": enumspb.INDEXED_VALUE_TYPE_KEYWORD, "HookdAttempts": enumspb.INDEXED_VALUE_TYPE_INT},
		Err:       denied,
	})
	for _, want := range []string{
		"search attributes HookdAttempts, HookdWebhookId are missing in Temporal namespace hookd.a1b2c",
		"Request unauthorized",
		`temporal operator search-attribute create --address hookd.a1b2c.tmprl.cloud:7233 --tls --api-key "$TEMPORAL_API_KEY" --namespace hookd.a1b2c --name HookdAttempts --type Int --name HookdWebhookId --type Keyword`,
		"tcld namespace search-attributes add --namespace hookd.a1b2c --search-attribute HookdAttempts=Int --search-attribute HookdWebhookId=Keyword",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	var pd *serviceerror.PermissionDenied
	if !errors.As(err, &pd) {
		t.Errorf("%v does not wrap the server's answer", err)
	}
}

func TestMissing(t *testing.T) {
	t.Parallel()
	const (
		keyword = enumspb.INDEXED_VALUE_TYPE_KEYWORD
		integer = enumspb.INDEXED_VALUE_TYPE_INT
	)
	type attrs = map[string]enumspb.IndexedValueType
	tests := []struct {
		name    string
		have    attrs
		want    attrs
		missing attrs
		errHas  []string
	}{
		{name: "all missing", have: nil, want: attrs{"A": keyword, "B": integer}, missing: attrs{"A": keyword, "B": integer}},
		{name: "all there", have: attrs{"A": keyword, "B": integer, "Other": keyword}, want: attrs{"A": keyword, "B": integer}, missing: attrs{}},
		{name: "some missing", have: attrs{"A": keyword}, want: attrs{"A": keyword, "B": integer}, missing: attrs{"B": integer}},
		{
			name:   "type clash",
			have:   attrs{"A": integer, "B": keyword},
			want:   attrs{"A": keyword, "B": integer, "C": keyword},
			errHas: []string{"A is registered as Int, want Keyword", "B is registered as Keyword, want Int"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			missing, err := searchattr.Missing(tt.have, tt.want)
			if len(tt.errHas) > 0 {
				if err == nil {
					t.Fatalf("err = nil, want one naming %q", tt.errHas)
				}
				for _, s := range tt.errHas {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("err = %q, want it to contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if !maps.Equal(missing, tt.missing) {
				t.Errorf("missing = %v, want %v", missing, tt.missing)
			}
		})
	}
}
