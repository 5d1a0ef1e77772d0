package bench

import (
	"net/http"
	"strings"
	"testing"
)

func TestReceiverRecordsAndAnswers(t *testing.T) {
	t.Parallel()
	rc, err := StartReceiver()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	url := rc.Open("retry", func(_ string, attempt int) int {
		if attempt == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	post := func(url, id string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"eventId":"ev-1","payload":{}}`))
		req.Header.Set("webhook-id", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(url+"/0", "dlv_1"); got != http.StatusServiceUnavailable {
		t.Errorf("first attempt answered %d, want 503", got)
	}
	if got := post(url+"/0", "dlv_1"); got != http.StatusOK {
		t.Errorf("second attempt answered %d, want 200", got)
	}
	if got := post(rc.URL+"/unknown/0", "dlv_2"); got != http.StatusNotFound {
		t.Errorf("a path of no scenario answered %d, want 404", got)
	}
	got := rc.Receipts("retry")
	if len(got) != 2 {
		t.Fatalf("%d receipts, want 2", len(got))
	}
	for i, r := range got {
		if r.DeliveryID != "dlv_1" || r.EventID != "ev-1" || r.Attempt != i+1 || r.At.IsZero() {
			t.Errorf("receipt %d = %+v", i, r)
		}
	}
	if got[0].Status != 503 || got[1].Status != 200 {
		t.Errorf("statuses %d, %d; want 503, 200", got[0].Status, got[1].Status)
	}
}
