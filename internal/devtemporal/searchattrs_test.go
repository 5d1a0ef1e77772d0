package devtemporal

import (
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
)

func TestOptionsWithDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     Options
		check  func(t *testing.T, o Options)
		errHas string
	}{
		{
			name: "zero value",
			check: func(t *testing.T, o Options) {
				if o.IP != DefaultIP || o.UIPort != DefaultUIPort || o.FrontendPort != 0 || o.HTTPPort != 0 ||
					o.Namespace != DefaultNamespace || o.Retention != DefaultRetention ||
					o.NumHistoryShards != DefaultNumHistoryShards || o.Logger == nil || o.LogLevel == nil || o.DBFile != "" {
					t.Errorf("defaults = %+v", o)
				}
			},
		},
		{
			name: "localhost and relative file",
			in:   Options{IP: "localhost", DBFile: "x/temporal.db", UIPort: Disabled, HTTPPort: Disabled},
			check: func(t *testing.T, o Options) {
				if o.IP != "127.0.0.1" || !strings.HasSuffix(o.DBFile, "/x/temporal.db") || !strings.HasPrefix(o.DBFile, "/") {
					t.Errorf("got IP %q DBFile %q", o.IP, o.DBFile)
				}
				if o.UIPort != Disabled || o.HTTPPort != Disabled {
					t.Errorf("Disabled ports changed: %+v", o)
				}
			},
		},
		{name: "host name", in: Options{IP: "example.com"}, errHas: "not an IP address"},
		{name: "negative frontend port", in: Options{FrontendPort: -1}, errHas: "FrontendPort -1"},
		{name: "port too big", in: Options{UIPort: 70000}, errHas: "UIPort 70000"},
		{name: "URI characters in file", in: Options{DBFile: "a?b.db"}, errHas: "DBFile"},
		{name: "search attribute without type", in: Options{SearchAttributes: map[string]enumspb.IndexedValueType{"X": 0}}, errHas: `"X"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := tt.in.withDefaults()
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("err = %v, want one containing %q", err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			tt.check(t, o)
		})
	}
}
