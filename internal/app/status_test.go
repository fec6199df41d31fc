package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/storage"
)

// signedStatus builds Twilio's status callback for message sid, posted to the app at base
// and signed, with token, for the public URL signedURL.
func signedStatus(t *testing.T, base, signedURL, token, sid, status string) *http.Request {
	t.Helper()
	form := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status},
		"AccountSid": {"AC0123456789abcdef0123456789abcdef"}, "From": {"+15005550006"}, "To": {"+15550199"}, "ApiVersion": {"2010-04-01"}}
	return twilioRequest(t, base+"/webhooks/sms/demo/status", signedURL, token, form)
}

// TestSMSStatusCallbacks checks the wiring of Twilio's status callbacks: on an https base
// URL the bot's SMS asks for them at /webhooks/sms/{bot}/status, a signed "delivered"
// marks the delivery delivered and is counted, a forged one is refused; with
// status_callbacks: false none is asked for and the route does not exist.
func TestSMSStatusCallbacks(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprint("On=", on), func(t *testing.T) {
			t.Parallel()
			api := &twilioAPI{}
			srv := httptest.NewServer(api)
			defer srv.Close()
			const public, token = "https://support.example.com", "twiliotoken0123"
			a, base := startApp(t, "", func(c *config.Config) {
				c.BaseURL = public
				c.Connectors = []config.Connector{{Bot: "demo", Channel: "sms", AccountSID: "AC0123456789abcdef0123456789abcdef", From: "+15005550006",
					APIURL: srv.URL, AuthToken: token}}
				if !on {
					c.Connectors[0].StatusCallbacks = new(bool)
				}
			})
			do := func(req *http.Request) int {
				t.Helper()
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			if got := do(signedSMS(t, base, public+"/webhooks/sms/demo", token, "how long does shipping take?", "SM0001")); got != http.StatusOK {
				t.Fatalf("webhook status %d, want 200", got)
			}
			deadline := time.Now().Add(15 * time.Second)
			for len(api.messages()) == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			sent := api.messages()
			if len(sent) == 0 {
				t.Fatal("the bot's answer never reached Twilio")
			}
			statusURL := public + "/webhooks/sms/demo/status"
			if !on {
				if _, set := sent[0]["StatusCallback"]; set {
					t.Errorf("StatusCallback sent with status_callbacks: false: %q", sent[0].Get("StatusCallback"))
				}
				if got := do(signedStatus(t, base, statusURL, token, fmt.Sprintf("SM%032d", 1), "delivered")); got == http.StatusOK {
					t.Errorf("status route answers %d with status_callbacks: false, want it absent", got)
				}
				return
			}
			if got := sent[0].Get("StatusCallback"); got != statusURL {
				t.Fatalf("StatusCallback = %q, want %q", got, statusURL)
			}
			sid := fmt.Sprintf("SM%032d", 1)
			ctx := context.Background()
			var dl *tandem.Delivery
			for time.Now().Before(deadline) {
				ds, err := a.Store().ListDeliveries(ctx, storage.DeliveryFilter{Channel: tandem.ChannelSMS})
				if err != nil {
					t.Fatal(err)
				}
				if len(ds) == 1 && ds[0].ProviderID == sid {
					dl = &ds[0]
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if dl == nil {
				t.Fatalf("no delivery recorded as %s", sid)
			}
			// Forged (signed for another URL): refused, nothing changes.
			if got := do(signedStatus(t, base, "https://evil.example.com/webhooks/sms/demo/status", token, sid, "delivered")); got != http.StatusForbidden {
				t.Errorf("forged status callback = %d, want 403", got)
			}
			if d, err := a.Store().FindDelivery(ctx, dl.MessageID); err != nil || d.Status != tandem.DeliverySent {
				t.Fatalf("after a forged callback, delivery = %+v, %v; want still sent", d, err)
			}
			if got := do(signedStatus(t, base, statusURL, token, sid, "delivered")); got != http.StatusOK {
				t.Fatalf("status callback = %d, want 200", got)
			}
			if d, err := a.Store().FindDelivery(ctx, dl.MessageID); err != nil || d.Status != tandem.DeliveryDelivered || d.DeliveredAt.IsZero() {
				t.Fatalf("after the callback, delivery = %+v, %v; want delivered", d, err)
			}
			resp, err := http.Get(base + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			metrics, _ := io.ReadAll(resp.Body)
			if want := `tandem_delivery_status_total{channel="sms",status="delivered"} 1`; !strings.Contains(string(metrics), want) {
				t.Errorf("/metrics lacks %q", want)
			}
		})
	}
}
