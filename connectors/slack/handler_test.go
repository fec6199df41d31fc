package slack

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/connectors/connectortest"
)

// fixture is a connector's webhook handler in front of a scripted engine.
type fixture struct {
	engine  *connectortest.Receiver
	handler http.Handler
}

func setup(t *testing.T, turn *tandem.Turn, err error) fixture {
	t.Helper()
	api := httptest.NewServer(http.NotFoundHandler()) // inbound handling never calls Slack
	t.Cleanup(api.Close)
	e := &connectortest.Receiver{Turn: turn, Err: err}
	return fixture{engine: e, handler: newConnector(t, api).Handler(e)}
}

func (f fixture) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

var stored = &tandem.Turn{ConversationID: "c1", CustomerID: "u1", MessageID: "m1"}

func TestHandlerMessage(t *testing.T) {
	t.Parallel()
	want := tandem.Inbound{BotID: testBot, Channel: tandem.ChannelSlack, ExternalID: "T0TEAM/U0CUSTOMER",
		Text: "where is my order?", ProviderID: "D0DM:1700000000.000100", ReceivedAt: testNow}
	for _, tc := range []struct {
		name   string
		fields map[string]any
		want   tandem.Inbound
	}{
		{"OK", nil, want},
		{"OKSlackConnect", map[string]any{"user_team": "T0OTHER", "source_team": "T0OTHER"},
			func() tandem.Inbound { w := want; w.ExternalID = "T0OTHER/U0CUSTOMER"; return w }()},
		{"OKThreadReply", map[string]any{"thread_ts": "1699999999.000100"}, want},
		{"OKFileShare", map[string]any{"subtype": "file_share", "files": []map[string]any{{"id": "F0SCREEN", "name": "error.png"}}}, want},
		{"OKUnescaped", map[string]any{"text": "is 1 &lt; 2 &amp;&amp; 3 &gt; 2? see <https://shop.example.com/o/1|my order> or <mailto:a@b.example|a@b.example>, <@U0APPBOT>"},
			func() tandem.Inbound {
				w := want
				w.Text = "is 1 < 2 && 3 > 2? see my order or a@b.example, <@U0APPBOT>"
				return w
			}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, stored, nil)
			rec := f.serve(signedRequest("application/json", messageEvent(tc.fields), time.Now()))
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d (%s), want 200", rec.Code, rec.Body)
			}
			calls := f.engine.Calls()
			if len(calls) != 1 {
				t.Fatalf("engine called %d times, want 1", len(calls))
			}
			if got := calls[0]; got != tc.want {
				t.Errorf("inbound =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

// TestHandlerRetry: Slack's retry of a message carries the same channel and ts, so the
// engine sees the same provider id and drops it, and the retry is acknowledged.
func TestHandlerRetry(t *testing.T) {
	t.Parallel()
	f := setup(t, stored, nil)
	body := messageEvent(nil)
	first := f.serve(signedRequest("application/json", body, time.Now()))
	f.engine.Turn = &tandem.Turn{ConversationID: "c1", Duplicate: true}
	req := signedRequest("application/json", body, time.Now())
	req.Header.Set("X-Slack-Retry-Num", "1")
	req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	retry := f.serve(req)
	if first.Code != http.StatusOK || retry.Code != http.StatusOK {
		t.Errorf("status = %d then %d, want 200 both times", first.Code, retry.Code)
	}
	calls := f.engine.Calls()
	if len(calls) != 2 || calls[0].ProviderID != calls[1].ProviderID || calls[0].ProviderID == "" {
		t.Errorf("provider ids = %+v, want the same one twice", calls)
	}
}

func TestHandlerIgnored(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"OKPublicChannel", messageEvent(map[string]any{"channel_type": "channel", "channel": "C0PUBLIC"})},
		{"OKGroupDM", messageEvent(map[string]any{"channel_type": "mpim"})},
		{"OKEdit", messageEvent(map[string]any{"subtype": "message_changed",
			"message": map[string]any{"type": "message", "user": "U0CUSTOMER", "text": "edited", "ts": "1700000000.000100"}})},
		{"OKJoin", messageEvent(map[string]any{"subtype": "channel_join"})},
		{"OKBotMessage", messageEvent(map[string]any{"subtype": "bot_message", "bot_id": "B0OTHER", "user": nil})},
		{"OKOtherBot", messageEvent(map[string]any{"bot_id": "B0OTHER", "user": "U0OTHERBOT"})},
		{"OKOwnBotUser", messageEvent(map[string]any{"user": "U0APPBOT"})},
		{"OKNoUser", messageEvent(map[string]any{"user": nil})},
		{"OKNoText", messageEvent(map[string]any{"text": " "})},
		{"OKFileOnly", messageEvent(map[string]any{"subtype": "file_share", "text": "", "files": []map[string]any{{"id": "F0SCREEN"}}})},
		{"OKReaction", callback(map[string]any{"type": "reaction_added", "user": "U0CUSTOMER", "reaction": "thumbsup",
			"item": map[string]any{"type": "message", "channel": testDM, "ts": "1700000000.000100"}})},
		{"OKUnknownInner", callback(map[string]any{"type": "brand_new_event_type"})},
		{"OKAppRateLimited", []byte(`{"token":"x","type":"app_rate_limited","team_id":"T0TEAM","minute_rate_limited":1518467820,"api_app_id":"A0APP"}`)},
		{"OKUnknownOuter", []byte(`{"type":"something_new"}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, stored, nil)
			rec := f.serve(signedRequest("application/json", tc.body, time.Now()))
			if rec.Code != http.StatusOK {
				t.Errorf("status = %d (%s), want 200 so Slack does not retry", rec.Code, rec.Body)
			}
			if n := len(f.engine.Calls()); n != 0 {
				t.Errorf("engine called %d times, want 0", n)
			}
		})
	}
}

func TestHandlerURLVerification(t *testing.T) {
	t.Parallel()
	f := setup(t, stored, nil)
	body := []byte(`{"token":"legacy","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	rec := f.serve(signedRequest("application/json", body, time.Now()))
	if rec.Code != http.StatusOK || rec.Body.String() != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("got %d %q, want 200 and the challenge", rec.Code, rec.Body)
	}
	if n := len(f.engine.Calls()); n != 0 {
		t.Errorf("engine called %d times, want 0", n)
	}
}

// TestHandlerRefused: requests that are not Slack's, or not well formed, never reach the engine.
func TestHandlerRefused(t *testing.T) {
	t.Parallel()
	body := messageEvent(nil)
	resign := func(secret string, at time.Time) func(*http.Request) {
		return func(r *http.Request) {
			ts := strconvTime(at)
			r.Header.Set("X-Slack-Request-Timestamp", ts)
			r.Header.Set("X-Slack-Signature", signature(secret, ts, body))
		}
	}
	for _, tc := range []struct {
		name   string
		req    *http.Request
		modify func(*http.Request)
		want   int
	}{
		{"ErrStaleTimestamp", signedRequest("application/json", body, time.Now()), resign(testSecret, time.Now().Add(-10*time.Minute)), http.StatusUnauthorized},
		{"ErrFutureTimestamp", signedRequest("application/json", body, time.Now()), resign(testSecret, time.Now().Add(10*time.Minute)), http.StatusUnauthorized},
		{"ErrWrongSecret", signedRequest("application/json", body, time.Now()), resign("another-secret", time.Now()), http.StatusUnauthorized},
		{"ErrTimestampNotSigned", signedRequest("application/json", body, time.Now()), func(r *http.Request) {
			r.Header.Set("X-Slack-Request-Timestamp", strconvTime(time.Now().Add(time.Second)))
		}, http.StatusUnauthorized},
		{"ErrNoSignature", signedRequest("application/json", body, time.Now()), func(r *http.Request) {
			r.Header.Del("X-Slack-Signature")
		}, http.StatusUnauthorized},
		{"ErrNoTimestamp", signedRequest("application/json", body, time.Now()), func(r *http.Request) {
			r.Header.Del("X-Slack-Request-Timestamp")
		}, http.StatusUnauthorized},
		{"ErrBodyChanged", signedRequest("application/json", body, time.Now()), func(r *http.Request) {
			r.Body = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Replace(string(body), "U0CUSTOMER", "U0VICTIM", 1))).Body
		}, http.StatusUnauthorized},
		{"ErrTooLarge", signedRequest("application/json", messageEvent(map[string]any{"text": strings.Repeat("a", connectors.MaxWebhookBytes)}), time.Now()), nil, http.StatusRequestEntityTooLarge},
		{"ErrMalformed", signedRequest("application/json", []byte(`{"type":"event_callback","event":`), time.Now()), nil, http.StatusBadRequest},
		{"ErrMalformedMessage", signedRequest("application/json", []byte(`{"type":"event_callback","event":{"type":"message","text":7}}`), time.Now()), nil, http.StatusBadRequest},
		{"ErrContentType", signedRequest("text/plain", body, time.Now()), nil, http.StatusUnsupportedMediaType},
		{"ErrMethod", httptest.NewRequest(http.MethodGet, "/slack", nil), nil, http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, stored, nil)
			if tc.modify != nil {
				tc.modify(tc.req)
			}
			rec := f.serve(tc.req)
			if rec.Code != tc.want {
				t.Errorf("status = %d (%s), want %d", rec.Code, rec.Body, tc.want)
			}
			if n := len(f.engine.Calls()); n != 0 {
				t.Errorf("engine called %d times, want 0", n)
			}
		})
	}
}

// TestHandlerAck: Slack is acknowledged according to what the engine did with the message.
func TestHandlerAck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		turn *tandem.Turn
		err  error
		want int
	}{
		{"OK", stored, nil, http.StatusOK},
		{"OKDuplicate", &tandem.Turn{ConversationID: "c1", Duplicate: true}, nil, http.StatusOK},
		{"OKDuplicateError", nil, tandem.Errorf(tandem.EDUPLICATE, "already stored"), http.StatusOK},
		{"ErrInvalid", nil, tandem.Errorf(tandem.EINVALID, "empty message"), http.StatusBadRequest},
		{"ErrTooLarge", nil, tandem.Errorf(tandem.ETOOLARGE, "message too long"), http.StatusRequestEntityTooLarge},
		{"ErrStore", nil, errors.New("pq: connection refused to db.internal:5432"), http.StatusServiceUnavailable},
		{"ErrInternal", nil, tandem.Errorf(tandem.EINTERNAL, "secret internal detail"), http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, tc.turn, tc.err)
			rec := f.serve(signedRequest("application/json", messageEvent(nil), time.Now()))
			if rec.Code != tc.want {
				t.Errorf("status = %d (%s), want %d", rec.Code, rec.Body, tc.want)
			}
			if n := len(f.engine.Calls()); n != 1 {
				t.Errorf("engine called %d times, want 1", n)
			}
			if body := rec.Body.String(); strings.Contains(body, "db.internal") || strings.Contains(body, "secret internal") {
				t.Errorf("internal error leaked to Slack: %q", body)
			}
		})
	}
}

// blockActions is an interactivity request for a click on a button, form-encoded as Slack
// posts it.
func blockActions(actionID, value string) []byte {
	payload, err := json.Marshal(map[string]any{
		"type": "block_actions",
		"user": map[string]any{"id": "U0CUSTOMER", "username": "ana", "team_id": "T0OTHER"},
		"team": map[string]any{"id": testTeam, "domain": "acme"}, "api_app_id": "A0APP", "token": "legacy",
		"container":  map[string]any{"type": "message", "message_ts": "1700000001.000200", "channel_id": testDM, "is_ephemeral": false},
		"channel":    map[string]any{"id": testDM, "name": "directmessage"},
		"trigger_id": "123.456.abc", "response_url": "https://hooks.slack.com/actions/T0TEAM/1/abc",
		"actions": []map[string]any{{
			"action_id": actionID, "block_id": "b1", "type": "button", "value": value,
			"text": map[string]any{"type": "plain_text", "text": "Track it", "emoji": true}, "action_ts": "1700000002.123456",
		}},
	})
	if err != nil {
		panic(err)
	}
	return []byte(url.Values{"payload": {string(payload)}}.Encode())
}

func TestHandlerInteraction(t *testing.T) {
	t.Parallel()
	const form = "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name string
		req  *http.Request
		want int
		in   *tandem.Inbound // the message the engine gets, nil for none
	}{
		{"OK", signedRequest(form, blockActions("quick_reply_0", "track"), time.Now()), http.StatusOK,
			&tandem.Inbound{BotID: testBot, Channel: tandem.ChannelSlack, ExternalID: "T0OTHER/U0CUSTOMER",
				Text: "track", ProviderID: "action:1700000002.123456:U0CUSTOMER", ReceivedAt: testNow}},
		{"OKOtherAction", signedRequest(form, blockActions("approve", "yes"), time.Now()), http.StatusOK, nil},
		{"OKViewSubmission", signedRequest(form, []byte(url.Values{"payload": {`{"type":"view_submission","user":{"id":"U0CUSTOMER"}}`}}.Encode()), time.Now()), http.StatusOK, nil},
		{"ErrSignature", func() *http.Request {
			r := signedRequest(form, blockActions("quick_reply_0", "track"), time.Now())
			r.Header.Set("X-Slack-Signature", signature("another-secret", r.Header.Get("X-Slack-Request-Timestamp"), blockActions("quick_reply_0", "track")))
			return r
		}(), http.StatusUnauthorized, nil},
		{"ErrNoPayload", signedRequest(form, []byte("foo=bar"), time.Now()), http.StatusBadRequest, nil},
		{"ErrMalformedPayload", signedRequest(form, []byte("payload=%7B"), time.Now()), http.StatusBadRequest, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, stored, nil)
			rec := f.serve(tc.req)
			if rec.Code != tc.want {
				t.Errorf("status = %d (%s), want %d", rec.Code, rec.Body, tc.want)
			}
			calls := f.engine.Calls()
			switch {
			case tc.in == nil && len(calls) != 0:
				t.Errorf("engine got %+v, want nothing", calls)
			case tc.in != nil && (len(calls) != 1 || calls[0] != *tc.in):
				t.Errorf("engine got %+v, want %+v", calls, *tc.in)
			}
		})
	}
}

func strconvTime(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
