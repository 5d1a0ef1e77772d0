package browsertest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// attemptShown is true when the delivery page shows the attempt numbered n.
func attemptShown(n int) string {
	return fmt.Sprintf(`[...document.querySelectorAll("article.attempt h3")].some(h => norm(h.textContent) === "Attempt %d")`, n)
}

// listed is true when the page lists a link to the delivery.
func listed(id string) string {
	return `!!link(` + js(id) + `)`
}

func TestFindAFailedDeliveryAndRetryIt(t *testing.T) {
	s := start(t)
	o := s.newOrg(t)
	x := o.failedAndSucceeded()

	p := s.newPage(t, 1280)
	p.signIn(o.key)
	p.clickLink("Deliveries")
	p.waitFor("both deliveries listed", listed(x.failed)+" && "+listed(x.succeeded))

	p.choose("Status", "failed")
	p.waitFor("only the failed delivery listed",
		`location.hash.includes("status=failed") && `+listed(x.failed)+` && !`+listed(x.succeeded))

	p.click("link(" + js(x.failed) + ")")
	p.waitFor("the delivery page with its failed attempt",
		`location.hash === "#/deliveries/`+x.failed+`" && `+attemptShown(1)+` && text().includes("500")`)
	if p.has(attemptShown(2)) {
		t.Fatal("the delivery page shows a second attempt before any retry")
	}
	temporal := eval[string](p, `link("Open in Temporal UI") ? link("Open in Temporal UI").href : ""`)
	workflowID := o.must(http.StatusOK, http.MethodGet, "/v1/deliveries/"+x.failed, nil).str("workflowId")
	if !strings.HasPrefix(temporal, "http://127.0.0.1:1/") || workflowID == "" || !strings.Contains(temporal, workflowID) {
		t.Errorf("Open in Temporal UI links to %q, want the Temporal UI's page of workflow %q", temporal, workflowID)
	}

	before := x.failing.requests(x.failed)
	x.failing.failing.Store(false)
	p.clickButton("Retry")
	eventually(t, time.Minute, func() string {
		if n := x.failing.requests(x.failed); n != before+1 {
			return fmt.Sprintf("the receiver got %d requests for %s, want %d", n, x.failed, before+1)
		}
		return ""
	})
	p.waitFor("the retry's attempt on the delivery page", attemptShown(2)+` && text().includes("manual")`)
	o.waitStatus(x.failed, "succeeded")
	p.waitFor("the delivery shown succeeded", `document.querySelector("dl.facts") && norm(document.querySelector("dl.facts").textContent).includes("succeeded")`)
	if p.has(`alertText()`) {
		t.Errorf("the delivery page shows an alert: %s", eval[string](p, `alertText()`))
	}
}
