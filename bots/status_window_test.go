package bots_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/internal/teststore"
)

const windowStatusURL = "https://bot.example.com/webhooks/whatsapp/demo/status"

// statusCallback posts Twilio's status callback for message sid to the connector's status
// handler, signed with the auth token as Twilio signs it, and returns the answer's status.
func (f *windowFixture) statusCallback(t *testing.T, sid, status, errorCode string) int {
	t.Helper()
	form := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status},
		"AccountSid": {"AC0123456789abcdef0123456789abcdef"}, "From": {"whatsapp:+15017122661"},
		"To": {"whatsapp:" + windowCustomer}, "ApiVersion": {"2010-04-01"}}
	if errorCode != "" {
		form.Set("ErrorCode", errorCode)
	}
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	signed := windowStatusURL
	for _, k := range keys {
		signed += k + form.Get(k)
	}
	mac := hmac.New(sha1.New, []byte("f00dfacef00dfacef00dfacef00dface"))
	mac.Write([]byte(signed))
	req := httptest.NewRequest(http.MethodPost, windowStatusURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	w := httptest.NewRecorder()
	f.wa.StatusHandler(f.d).ServeHTTP(w, req)
	return w.Code
}

// TestReopenWindowLateRefusal runs an agent's late WhatsApp reply that Twilio accepted and
// WhatsApp refused afterwards (error 63016 in a status callback only): it is held as if
// refused at once, the reopen template is sent once whatever the number of callbacks, and
// when the customer writes the reply goes out again and is reported delivered.
func TestReopenWindowLateRefusal(t *testing.T) {
	t.Parallel()
	for _, b := range teststore.All {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := b.Open(t)
			f := newWindowFixture(t, st, reopenYAML)
			asked := f.write(t, "I want to talk to a human", "SMin1", time.Now().Add(-25*time.Hour))
			f.deliver(t)
			before, _ := f.api.snapshot()
			agent := f.lateAgent(t, asked)
			m, err := handoff.Reply(ctx, st, handoff.AgentReply{TicketID: asked.Handoff.TicketID, AgentID: agent.ID,
				Text: "Your refund was issued today.", At: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if n := f.deliver(t); n != 1 {
				t.Fatalf("claimed %d, want the reply", n)
			}
			find := func() *tandem.Delivery {
				t.Helper()
				dl, err := st.FindDelivery(ctx, m.ID)
				if err != nil {
					t.Fatal(err)
				}
				return dl
			}
			first := find()
			if first.Status != tandem.DeliverySent {
				t.Fatalf("reply is %s, want sent (Twilio accepted it)", first.Status)
			}

			// WhatsApp refuses it later; Twilio reports it (and a late "sent") twice.
			for _, s := range []string{"failed", "sent", "failed"} {
				code := ""
				if s == "failed" {
					code = "63016"
				}
				if got := f.statusCallback(t, first.ProviderID, s, code); got != http.StatusOK {
					t.Fatalf("status callback %s = %d, want 200", s, got)
				}
			}
			if dl := find(); dl.Status != tandem.DeliveryHeld || !strings.Contains(dl.LastError, "63016") {
				t.Fatalf("reply after the late refusal = %s (%s), want held for 63016", dl.Status, dl.LastError)
			}
			if n := f.deliver(t); n != 1 {
				t.Fatalf("claimed %d, want the reopen template once", n)
			}
			if n := f.deliver(t); n != 0 {
				t.Fatalf("claimed %d more, want none while the reply is held", n)
			}
			sent, _ := f.api.snapshot()
			wantTemplate := "template " + reopenSID + ` {"1":"there"}`
			if got := sent[len(before):]; !slices.Equal(got, []string{m.Text, wantTemplate}) {
				t.Fatalf("sent %q, want the reply Twilio accepted and the reopen template", got)
			}
			// A callback for a message no delivery knows is acknowledged.
			if got := f.statusCallback(t, fmt.Sprintf("SM%032d", 999), "delivered", ""); got != http.StatusOK {
				t.Errorf("callback for an unknown sid = %d, want 200", got)
			}

			// The customer writes: the reply goes out again, and this time is delivered.
			f.write(t, "ok, what is it?", "SMin2", time.Now())
			if n := f.deliver(t); n != 1 {
				t.Fatalf("claimed %d after the customer wrote, want the held reply", n)
			}
			again := find()
			if again.Status != tandem.DeliverySent || again.ProviderID == first.ProviderID {
				t.Fatalf("released reply = %s as %s, want sent again under a new sid", again.Status, again.ProviderID)
			}
			// A late report on the first send does not touch the second.
			if got := f.statusCallback(t, first.ProviderID, "delivered", ""); got != http.StatusOK {
				t.Fatalf("late callback = %d, want 200", got)
			}
			if got := f.statusCallback(t, again.ProviderID, "delivered", ""); got != http.StatusOK {
				t.Fatalf("delivered callback = %d, want 200", got)
			}
			if dl := find(); dl.Status != tandem.DeliveryDelivered || dl.DeliveredAt.IsZero() || dl.ProviderID != again.ProviderID {
				t.Errorf("reply = %+v, want delivered under the second sid", dl)
			}
		})
	}
}
