package slack

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors/connectortest"
)

// FuzzEvents feeds arbitrary bodies to the webhook handler, as Events API JSON or as an
// interactivity form. Whatever the body, the handler does not panic; without a valid
// signature nothing reaches the engine; with one, the engine only ever gets a complete
// Slack message.
func FuzzEvents(f *testing.F) {
	f.Add(messageEvent(nil), false)
	f.Add(messageEvent(map[string]any{"user_team": "T0OTHER", "text": "a &lt;b&gt; <https://x.example|x> <@U1>"}), false)
	f.Add(messageEvent(map[string]any{"subtype": "message_changed"}), false)
	f.Add(messageEvent(map[string]any{"user": "U0APPBOT"}), false)
	f.Add(callback(map[string]any{"type": "reaction_added"}), false)
	f.Add([]byte(`{"type":"url_verification","challenge":"abc"}`), false)
	f.Add([]byte(`{"type":"event_callback","event":null}`), false)
	f.Add([]byte(`{"type":"event_callback","event":{"type":"message","channel_type":"im","user":"U1","ts":"1"}}`), false)
	f.Add(blockActions("quick_reply_0", "track"), true)
	f.Add([]byte(`payload={"type":"block_actions","actions":[{"type":"button","action_id":"quick_reply_1"}]}`), true)

	api := httptest.NewServer(http.NotFoundHandler())
	defer api.Close()
	conn := newConnector(f, api)
	f.Fuzz(func(t *testing.T, body []byte, form bool) {
		ctype := "application/json"
		if form {
			ctype = "application/x-www-form-urlencoded"
		}
		e := &connectortest.Receiver{Turn: stored}
		h := conn.Handler(e)

		unsigned := signedRequest(ctype, body, time.Now())
		unsigned.Header.Set("X-Slack-Signature", signature("not-the-secret", unsigned.Header.Get("X-Slack-Request-Timestamp"), body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, unsigned)
		if n := len(e.Calls()); n != 0 || (rec.Code != http.StatusUnauthorized && rec.Code != http.StatusRequestEntityTooLarge) {
			t.Fatalf("unsigned request: status %d, engine called %d times", rec.Code, n)
		}

		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, signedRequest(ctype, bytes.Clone(body), time.Now()))
		calls := e.Calls()
		if len(calls) > 1 {
			t.Fatalf("engine called %d times for one request", len(calls))
		}
		for _, in := range calls {
			if in.BotID != testBot || in.Channel != tandem.ChannelSlack || in.ExternalID == "" ||
				strings.HasSuffix(in.ExternalID, "/") || in.ProviderID == "" || in.ReceivedAt != testNow {
				t.Errorf("engine got an incomplete message %+v", in)
			}
		}
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest && rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("signed request: status %d, want 200, 400 or 413", rec.Code)
		}
	})
}
