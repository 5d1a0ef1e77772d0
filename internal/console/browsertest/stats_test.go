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
	byMinute := func() []request {
		var out []request
		for _, r := range p.guard.sent("/v1/stats/timeseries?") {
			if strings.Contains(r.url, "interval=minute") {
				out = append(out, r)
			}
		}
		return out
	}
	if asked := byMinute(); len(asked) != 0 {
		t.Fatalf("the page asked for the timeseries by minute before the interval was chosen: %v", asked)
	}

	p.choose("Interval", "minute")
	eventually(t, stepTimeout, func() string {
		if asked := byMinute(); len(asked) == 0 || asked[0].status != 200 {
			return fmt.Sprintf("timeseries requests by minute: %v, want one answered 200", asked)
		}
		return ""
	})
	// By minute the chart has 60 buckets (the last hour), by hour 24: three bars each
	// (succeeded, failed, other).
	p.waitFor("the chart redrawn by minute", `document.querySelectorAll(".ct-chart svg .ct-bar").length >= 3 * 60 && `+barsDrawn)
}
