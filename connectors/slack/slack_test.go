package slack

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/connectors/connectortest"
)

const (
	testSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	testToken  = "xoxb-1234-5678-test"
	testTeam   = "T0TEAM"
	testBot    = "demo"
	testDM     = "D0DM"
)

// testNow stamps inbound messages; signatures use the wall clock, which slack-go checks.
var testNow = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

// signature is Slack's v0 request signature, computed here independently of slack-go.
func signature(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:", ts)
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// signedRequest is a webhook request as Slack sends it, signed at time at.
func signedRequest(ctype string, body []byte, at time.Time) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/slack", bytes.NewReader(body))
	ts := strconv.FormatInt(at.Unix(), 10)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", signature(testSecret, ts, body))
	return req
}

// messageEvent is an Events API event_callback carrying one message event; fields
// overrides or (with a nil value) removes fields of the message.
func messageEvent(fields map[string]any) []byte {
	ev := map[string]any{
		"type": "message", "channel": testDM, "channel_type": "im", "user": "U0CUSTOMER",
		"text": "where is my order?", "ts": "1700000000.000100", "event_ts": "1700000000.000100",
		"client_msg_id": "5f2a5bd6-0000-4b0b-9c1d-000000000001",
	}
	for k, v := range fields {
		if v == nil {
			delete(ev, k)
		} else {
			ev[k] = v
		}
	}
	return callback(ev)
}

// callback wraps an inner event as Slack's Events API does.
func callback(ev map[string]any) []byte {
	b, err := json.Marshal(map[string]any{
		"token": "legacy-token", "team_id": testTeam, "api_app_id": "A0APP", "type": "event_callback",
		"event": ev, "event_id": "Ev0001", "event_time": 1700000000,
		"authorizations": []map[string]any{{"team_id": testTeam, "user_id": "U0APPBOT", "is_bot": true}},
	})
	if err != nil {
		panic(err)
	}
	return b
}

func newConnector(t testing.TB, api *httptest.Server) *Connector {
	t.Helper()
	c, err := New(Config{BotID: testBot, BotToken: testToken, SigningSecret: testSecret},
		WithAPIURL(api.URL), WithHTTPClient(api.Client()), WithNow(func() time.Time { return testNow }),
		WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// provider speaks Slack's wire protocol for connectortest.
type provider struct{}

func (provider) Connector(t *testing.T, api *httptest.Server) connectors.Connector {
	return newConnector(t, api)
}

func (provider) SendOK(w http.ResponseWriter, r *http.Request) string {
	if r.URL.Path != "/chat.postMessage" {
		http.Error(w, `{"ok":false,"error":"unknown_method"}`, http.StatusNotFound)
		return ""
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true,"channel":"D0DM","ts":"1700000001.000200","message":{"type":"message","text":"x"}}`)
	return "D0DM:1700000001.000200"
}

func (provider) RateLimited(w http.ResponseWriter, r *http.Request, after time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(after/time.Second)))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
}

func (provider) BadAddress(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":false,"error":"channel_not_found"}`)
}

// SentText is what the customer reads: the text of the section blocks, unescaped.
func (provider) SentText(t *testing.T, r *http.Request, body []byte) string {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		t.Errorf("chat.postMessage body is not a form: %v", err)
		return ""
	}
	var text []string
	for _, b := range decodeBlocks(t, form.Get("blocks")).BlockSet {
		if s, ok := b.(*slackapi.SectionBlock); ok && s.Text != nil {
			text = append(text, plainText(s.Text.Text))
		}
	}
	return strings.Join(text, "")
}

func (provider) Recipient() string { return "T0SHOP/U0ANN" }

func (provider) Features() connectortest.Features {
	return connectortest.Features{Webhook: true, ExactRetryAfter: true}
}

func (provider) Webhook(t *testing.T, from, text, providerID string) *http.Request {
	return signedRequest("application/json", messageEvent(map[string]any{"user": from, "text": text, "ts": providerID}), time.Now())
}

func (provider) Unsigned(t *testing.T, req *http.Request) *http.Request {
	req.Header.Set("X-Slack-Signature", "v0="+strings.Repeat("0", 64))
	return req
}

func (provider) Inbound(from string) (tandem.Channel, string) {
	return tandem.ChannelSlack, testTeam + "/" + from
}

func decodeBlocks(t *testing.T, s string) slackapi.Blocks {
	t.Helper()
	var blocks slackapi.Blocks
	if err := json.Unmarshal([]byte(s), &blocks); err != nil {
		t.Fatalf("blocks %q: %v", s, err)
	}
	return blocks
}

func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, provider{})
}

func TestConfig(t *testing.T) {
	t.Parallel()
	ok := Config{BotID: "demo", BotToken: " xoxb-1-2-abc\n", SigningSecret: "s3cret\n"}
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"OK", ok, true},
		{"ErrNoBot", Config{BotToken: ok.BotToken, SigningSecret: ok.SigningSecret}, false},
		{"ErrNoToken", Config{BotID: "demo", SigningSecret: ok.SigningSecret}, false},
		{"ErrUserToken", Config{BotID: "demo", BotToken: "xoxp-1-2", SigningSecret: ok.SigningSecret}, false},
		{"ErrNoSecret", Config{BotID: "demo", BotToken: ok.BotToken}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.WithDefaults().Validate()
			if tc.ok != (err == nil) {
				t.Fatalf("Validate() = %v, want ok %v", err, tc.ok)
			}
			if err != nil && tandem.ErrorCode(err) != tandem.EINVALID {
				t.Errorf("code = %q, want EINVALID", tandem.ErrorCode(err))
			}
			if _, nerr := New(tc.cfg); (nerr == nil) != tc.ok {
				t.Errorf("New error = %v, want ok %v", nerr, tc.ok)
			}
		})
	}
	t.Run("OKMasked", func(t *testing.T) {
		t.Parallel()
		if got := fmt.Sprint(ok.LogValue()); strings.Contains(got, "xoxb") || strings.Contains(got, "s3cret") {
			t.Errorf("LogValue() = %s, shows a secret", got)
		}
	})
}

// postMessage records what the client library sent to chat.postMessage.
type postMessage struct {
	mu    sync.Mutex
	path  string
	form  url.Values
	calls int
}

func (p *postMessage) record(r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.path, p.form = r.URL.Path, form
	p.calls++
}

func TestSend(t *testing.T) {
	t.Parallel()
	reply := tandem.Reply{
		Text:         "Refunds take 5 days & arrive <soon>.",
		Citations:    []tandem.Citation{{DocID: "d1", Title: "Refund policy", URL: "https://help.example.com/refunds"}},
		QuickReplies: []tandem.QuickReply{{Title: "Talk to a human", Payload: "handoff"}},
	}
	json200 := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, body)
		}
	}
	okHandler := json200(`{"ok":true,"channel":"D0DM","ts":"1700000001.000200"}`)
	for _, tc := range []struct {
		name     string
		to       string
		api      http.HandlerFunc
		wantID   string
		wantTo   string        // the channel sent to chat.postMessage, "" when nothing is sent
		wantCode string        // tandem error code, "" for success
		retry    time.Duration // a *RetryLaterError with this delay
	}{
		{name: "OK", to: "T0TEAM/U0CUSTOMER", api: okHandler, wantID: "D0DM:1700000001.000200", wantTo: "U0CUSTOMER"},
		{name: "OKBareID", to: "U0CUSTOMER", api: okHandler, wantID: "D0DM:1700000001.000200", wantTo: "U0CUSTOMER"},
		{name: "ErrRateLimited", to: "T0TEAM/U0CUSTOMER", wantTo: "U0CUSTOMER", retry: 12 * time.Second, wantCode: tandem.EINTERNAL,
			api: func(w http.ResponseWriter, r *http.Request) { provider{}.RateLimited(w, r, 12*time.Second) }},
		{name: "ErrRateLimitedNoHeader", to: "U0CUSTOMER", wantTo: "U0CUSTOMER", retry: defaultRetryAfter, wantCode: tandem.EINTERNAL,
			api: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTooManyRequests) }},
		{name: "ErrChannelNotFound", to: "U0CUSTOMER", wantTo: "U0CUSTOMER", wantCode: tandem.EINVALID, api: json200(`{"ok":false,"error":"channel_not_found"}`)},
		{name: "ErrUserNotFound", to: "U0CUSTOMER", wantTo: "U0CUSTOMER", wantCode: tandem.EINVALID, api: json200(`{"ok":false,"error":"user_not_found"}`)},
		{name: "ErrArchived", to: "U0CUSTOMER", wantTo: "U0CUSTOMER", wantCode: tandem.EINVALID, api: json200(`{"ok":false,"error":"is_archived"}`)},
		{name: "ErrCannotDMBot", to: "U0CUSTOMER", wantTo: "U0CUSTOMER", wantCode: tandem.EINVALID, api: json200(`{"ok":false,"error":"cannot_dm_bot"}`)},
		{name: "ErrUserDisabled", to: "U0CUSTOMER", wantTo: "U0CUSTOMER", wantCode: tandem.EINVALID, api: json200(`{"ok":false,"error":"user_disabled"}`)},
		{name: "ErrInvalidBlocks", to: "U0CUSTOMER", wantTo: "U0CUSTOMER", wantCode: tandem.EINVALID, api: json200(`{"ok":false,"error":"invalid_blocks"}`)},
		{name: "ErrTokenRevoked", to: "U0CUSTOMER", wantTo: "U0CUSTOMER", wantCode: tandem.EINTERNAL, api: json200(`{"ok":false,"error":"token_revoked"}`)},
		{name: "ErrNoTimestamp", to: "U0CUSTOMER", wantTo: "U0CUSTOMER", wantCode: tandem.EINTERNAL, api: json200(`{"ok":false}`)},
		{name: "ErrServer", to: "U0CUSTOMER", wantTo: "U0CUSTOMER", wantCode: tandem.EINTERNAL,
			api: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "<html>oops</html>", http.StatusServiceUnavailable)
			}},
		{name: "ErrNoRecipient", to: "T0TEAM/", wantCode: tandem.EINVALID, api: okHandler},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got postMessage
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got.record(r)
				tc.api(w, r)
			}))
			defer api.Close()
			id, err := newConnector(t, api).Send(context.Background(),
				connectors.Outgoing{IdempotencyKey: "m1", BotID: testBot, To: tc.to, Reply: reply})
			if code := tandem.ErrorCode(err); code != tc.wantCode {
				t.Fatalf("Send error = %v (code %q), want code %q", err, code, tc.wantCode)
			}
			after, isRetry := connectors.RetryAfter(err)
			if isRetry != (tc.retry > 0) || after != tc.retry {
				t.Errorf("retry later = %v, %s; want %v, %s", isRetry, after, tc.retry > 0, tc.retry)
			}
			if id != tc.wantID {
				t.Errorf("provider id = %q, want %q", id, tc.wantID)
			}
			if tc.wantTo == "" {
				if got.calls != 0 {
					t.Errorf("Slack was called %d times, want none", got.calls)
				}
				return
			}
			if got.path != "/chat.postMessage" || got.form.Get("channel") != tc.wantTo || got.form.Get("token") != testToken {
				t.Errorf("sent %s channel=%q token=%q, want /chat.postMessage channel=%q and the bot token",
					got.path, got.form.Get("channel"), got.form.Get("token"), tc.wantTo)
			}
			if g, w := got.form.Get("text"), "Refunds take 5 days &amp; arrive &lt;soon&gt;."; g != w {
				t.Errorf("fallback text = %q, want %q", g, w)
			}
			wantBlocks := `[{"type":"section","text":{"type":"mrkdwn","text":"Refunds take 5 days &amp; arrive &lt;soon&gt;."}},` +
				`{"type":"context","elements":[{"type":"mrkdwn","text":"Source: \u003chttps://help.example.com/refunds|Refund policy\u003e"}]},` +
				`{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"Talk to a human","emoji":true},"action_id":"quick_reply_0","value":"handoff"}]}]`
			if g := got.form.Get("blocks"); !jsonEqual(t, g, wantBlocks) {
				t.Errorf("blocks =\n%s\nwant\n%s", g, wantBlocks)
			}
		})
	}
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("%q: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return bytes.Equal(xs, ys)
}
