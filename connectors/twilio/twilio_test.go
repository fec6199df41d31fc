package twilio_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/connectors/connectortest"
	"github.com/tandemhq/tandem/connectors/twilio"
)

const (
	testSID     = "AC0123456789abcdef0123456789abcdef"
	testToken   = "f00dfacef00dfacef00dfacef00dface"
	testHook    = "https://bot.example.com/twilio/sms?bot=demo"
	testSender  = "+15017122661"
	testMsgSID  = "SM1f0e8ae6ade43cb3c0ce4525424e404f"
	testService = "MG9752274e9e519418a7406176694466fa"
)

var testNow = time.Date(2026, 11, 25, 3, 25, 0, 0, time.UTC)

// sign signs a webhook as Twilio does, independently of twilio-go: base64 of the
// HMAC-SHA1, keyed with the auth token, of the URL followed by every parameter's name and
// value, sorted by name.
func sign(token, rawURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(rawURL)
	for _, k := range keys {
		for _, v := range form[k] {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func testConfig(ch tandem.Channel) twilio.Config {
	return twilio.Config{BotID: "demo", Channel: ch, AccountSID: testSID, AuthToken: testToken,
		From: testSender, WebhookURL: testHook}
}

func newConnector(t *testing.T, cfg twilio.Config, api *httptest.Server, opts ...twilio.Option) *twilio.Connector {
	t.Helper()
	opts = append([]twilio.Option{twilio.WithBaseURL(api.URL), twilio.WithHTTPClient(api.Client()),
		twilio.WithNow(func() time.Time { return testNow }), twilio.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	c, err := twilio.New(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// inboundForm is the form Twilio posts for an incoming message.
func inboundForm(ch tandem.Channel, from, text, sid string) url.Values {
	f := url.Values{
		"ToCountry": {"US"}, "ToState": {"CA"}, "SmsMessageSid": {sid}, "NumMedia": {"0"},
		"ToCity": {"SAN FRANCISCO"}, "FromZip": {"94105"}, "SmsSid": {sid}, "FromState": {"CA"},
		"SmsStatus": {"received"}, "FromCity": {"SAN FRANCISCO"}, "Body": {text}, "FromCountry": {"US"},
		"To": {testSender}, "ToZip": {"94105"}, "NumSegments": {"1"}, "MessageSid": {sid},
		"AccountSid": {testSID}, "From": {from}, "ApiVersion": {"2010-04-01"},
	}
	if ch == tandem.ChannelWhatsApp {
		f.Set("From", "whatsapp:"+from)
		f.Set("To", "whatsapp:"+testSender)
		f.Set("WaId", strings.TrimPrefix(from, "+"))
		f.Set("ProfileName", "Ada")
		for _, k := range []string{"ToCountry", "ToState", "ToCity", "FromZip", "FromState", "FromCity", "FromCountry", "ToZip"} {
			f.Del(k)
		}
	}
	return f
}

// webhook returns Twilio's POST of form to testHook, signed for signedURL with token.
func webhook(form url.Values, token, signedURL string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, testHook, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("I-Twilio-Idempotency-Token", "b5ef2d6e-cc6a-4a1b-a2a1-6bd0b6a3f4a1")
	if token != "" {
		req.Header.Set("X-Twilio-Signature", sign(token, signedURL, form))
	}
	return req
}

// messageJSON is the Messages API's answer to a create, as Twilio writes it.
func messageJSON(sid, from, to, body string) []byte {
	uri := "/2010-04-01/Accounts/" + testSID + "/Messages/" + sid
	b, _ := json.Marshal(map[string]any{
		"account_sid": testSID, "api_version": "2010-04-01", "body": body,
		"date_created": "Wed, 25 Nov 2026 03:25:00 +0000", "date_sent": nil,
		"date_updated": "Wed, 25 Nov 2026 03:25:00 +0000", "direction": "outbound-api",
		"error_code": nil, "error_message": nil, "from": from, "messaging_service_sid": nil,
		"num_media": "0", "num_segments": "1", "price": nil, "price_unit": "USD", "sid": sid,
		"status": "queued", "subresource_uris": map[string]string{"media": uri + "/Media.json"},
		"to": to, "uri": uri + ".json",
	})
	return b
}

// restError writes a Twilio REST error as the API does.
func restError(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"code": code, "message": message,
		"more_info": "https://www.twilio.com/docs/errors/" + itoa(code), "status": status})
	_, _ = w.Write(b)
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// provider speaks Twilio's wire protocol to the conformance suite for one channel.
type provider struct{ channel tandem.Channel }

func (p provider) Connector(t *testing.T, api *httptest.Server) connectors.Connector {
	return newConnector(t, testConfig(p.channel), api)
}

func (p provider) SendOK(w http.ResponseWriter, r *http.Request) string {
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+testSID+"/Messages.json" {
		restError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return ""
	}
	_ = r.ParseForm()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(messageJSON(testMsgSID, r.PostForm.Get("From"), r.PostForm.Get("To"), r.PostForm.Get("Body")))
	return testMsgSID
}

// RateLimited answers as Twilio's API does: 429 with error 20429 and no delay, which is why
// the adapter declares no ExactRetryAfter.
func (p provider) RateLimited(w http.ResponseWriter, _ *http.Request, _ time.Duration) {
	restError(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
}

func (p provider) BadAddress(w http.ResponseWriter, _ *http.Request) {
	restError(w, http.StatusBadRequest, 21211, "Invalid 'To' Phone Number: +1500555XXXX")
}

func (p provider) SentText(t *testing.T, r *http.Request, body []byte) string {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		t.Errorf("send body is not a form: %v", err)
	}
	return form.Get("Body")
}

func (provider) Recipient() string { return "+15005550006" }

func (p provider) Features() connectortest.Features {
	return connectortest.Features{Webhook: true, ExactRetryAfter: false}
}

func (p provider) Webhook(t *testing.T, from, text, providerID string) *http.Request {
	return webhook(inboundForm(p.channel, from, text, providerID), testToken, testHook)
}

// Unsigned replaces the signature with one made with another account's token.
func (p provider) Unsigned(t *testing.T, req *http.Request) *http.Request {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.Header.Set("X-Twilio-Signature", sign("0000000000000000000000000000dead", testHook, form))
	return req
}

func (p provider) Inbound(from string) (tandem.Channel, string) { return p.channel, from }

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, ch := range []tandem.Channel{tandem.ChannelSMS, tandem.ChannelWhatsApp} {
		t.Run(string(ch), func(t *testing.T) {
			t.Parallel()
			connectortest.Run(t, provider{channel: ch})
		})
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*twilio.Config)
		ok     bool
	}{
		{"OKSMS", func(*twilio.Config) {}, true},
		{"OKWhatsApp", func(c *twilio.Config) { c.Channel = tandem.ChannelWhatsApp }, true},
		{"OKMessagingService", func(c *twilio.Config) { c.From, c.MessagingServiceSID = "", testService }, true},
		{"ErrNoBot", func(c *twilio.Config) { c.BotID = "" }, false},
		{"ErrChannel", func(c *twilio.Config) { c.Channel = tandem.ChannelSlack }, false},
		{"ErrAccountSID", func(c *twilio.Config) { c.AccountSID = "SK0123456789abcdef0123456789abcdef" }, false},
		{"ErrNoToken", func(c *twilio.Config) { c.AuthToken = "" }, false},
		{"ErrTokenChars", func(c *twilio.Config) { c.AuthToken = "abc:def" }, false},
		{"ErrNoSender", func(c *twilio.Config) { c.From = "" }, false},
		{"ErrBothSenders", func(c *twilio.Config) { c.MessagingServiceSID = testService }, false},
		{"ErrFromWhatsAppPrefix", func(c *twilio.Config) { c.From = "whatsapp:" + testSender }, false},
		{"ErrFromNotE164", func(c *twilio.Config) { c.From = "5017122661" }, false},
		{"ErrServiceSID", func(c *twilio.Config) { c.From, c.MessagingServiceSID = "", "PN9752274e9e519418a7406176694466fa" }, false},
		{"ErrNoWebhookURL", func(c *twilio.Config) { c.WebhookURL = "" }, false},
		{"ErrRelativeWebhookURL", func(c *twilio.Config) { c.WebhookURL = "/twilio/sms" }, false},
		{"ErrMaxSegments", func(c *twilio.Config) { c.MaxSegments = 11 }, false},
		{"ErrNegativeMaxSegments", func(c *twilio.Config) { c.MaxSegments = -1 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(tandem.ChannelSMS)
			tt.modify(&cfg)
			err := cfg.WithDefaults().Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tt.ok && tandem.ErrorCode(err) != tandem.EINVALID {
				t.Fatalf("Validate = %v, want EINVALID", err)
			}
			if _, err := twilio.New(cfg); (err == nil) != tt.ok {
				t.Errorf("New error = %v, want ok %v", err, tt.ok)
			}
		})
	}
	t.Run("OKDefaults", func(t *testing.T) {
		t.Parallel()
		if got := (twilio.Config{}).WithDefaults().MaxSegments; got != twilio.DefaultMaxSegments {
			t.Errorf("MaxSegments = %d, want %d", got, twilio.DefaultMaxSegments)
		}
		if got := (twilio.Config{MaxSegments: 5}).WithDefaults().MaxSegments; got != 5 {
			t.Errorf("MaxSegments = %d, want 5 kept", got)
		}
	})
	t.Run("ErrBaseURL", func(t *testing.T) {
		t.Parallel()
		if _, err := twilio.New(testConfig(tandem.ChannelSMS), twilio.WithBaseURL("api.twilio.com")); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("New = %v, want EINVALID for a base URL without scheme", err)
		}
	})
}

// logBuffer collects a connector's log lines; safe for concurrent writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger(level slog.Level) (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: level})), b
}
