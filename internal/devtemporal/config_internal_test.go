package devtemporal

import (
	"testing"

	"go.temporal.io/server/common/dynamicconfig"
)

// TestForceSearchAttributesRefreshOnlyDuringStartup guards a fix worth 2x throughput:
// forcing the search attribute cache to refresh on every read serializes every upsert.
func TestForceSearchAttributesRefreshOnlyDuringStartup(t *testing.T) {
	t.Parallel()
	force := dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key()
	forced := func(dc *dynamicconfig.MemoryClient) bool {
		for _, v := range dc.GetValue(force) {
			if b, ok := v.Value.(bool); ok && b {
				return true
			}
		}
		return false
	}

	dc, endStartup := dynamicConfigClient(Options{})
	if !forced(dc) {
		t.Fatal("not forced during start-up: search attributes added at start would not be usable at once")
	}
	endStartup()
	if forced(dc) {
		t.Fatal("still forced after start-up")
	}
	if got := dc.GetValue(dynamicconfig.HistoryCacheHostLevelMaxSize.Key()); len(got) != 1 || got[0].Value != 1000 {
		t.Errorf("history cache size = %v, want the dev default 1000", got)
	}

	// An explicit setting wins and stays.
	dc, endStartup = dynamicConfigClient(Options{DynamicConfig: map[string]any{force.String(): true}})
	endStartup()
	if !forced(dc) {
		t.Error("an explicit forceSearchAttributesCacheRefreshOnRead=true was dropped")
	}
}
