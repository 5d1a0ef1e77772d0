package browsertest

import (
	"fmt"
	"strings"
	"testing"
)

// barsDrawn is true when the chart's SVG holds a bar of non-zero height (Chartist draws a
// bar as a line from its base to its value).
const barsDrawn = `[...document.querySelectorAll(".ct-chart svg .ct-bar")].some(b => b.getAttribute("y1") !== b.getAttribute("y2"))`

func TestStatisticsChart(t *testing.T) {
	s := start(t)
	o := s.newOrg(t)
	o.failedAndSucceeded()

	p := s.newPage(t, 1280)
	p.signIn(o.key)
	p.clickLink("Statistics")
	p.waitFor("an SVG chart with bars", barsDrawn)
	if n := len(p.guard.sent("/v1/stats/timeseries?")); n != 1 {
		t.Fatalf("the page asked for the timeseries %d times, want once", n)
	}

	p.choose("Interval", "minute")
	eventually(t, stepTimeout, func() string {
		asked := p.guard.sent("/v1/stats/timeseries?")
		if len(asked) != 2 || !strings.Contains(asked[1].url, "interval=minute") || asked[1].status != 200 {
			return fmt.Sprintf("timeseries requests: %v, want a second one with interval=minute answered 200", asked)
		}
		return ""
	})
	// By minute the chart has 60 buckets (the last hour), by hour 24: three bars each
	// (succeeded, failed, other).
	p.waitFor("the chart redrawn by minute", `document.querySelectorAll(".ct-chart svg .ct-bar").length >= 3 * 60 && `+barsDrawn)
}
