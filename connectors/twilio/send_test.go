package twilio_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/connectors/twilio"
)

// sent is what twilio-go put on the wire.
type sent struct {
	method, path, contentType, user, password string
	authOK                                    bool
	form                                      url.Values
}

func TestSend(t *testing.T) {
	t.Parallel()
	qr := []tandem.QuickReply{{Title: "Track it", Payload: "track"}, {Title: "Talk to a human", Payload: "agent"}}
	short := tandem.Reply{Text: "Your order shipped today.", QuickReplies: qr}
	long := tandem.Reply{Text: strings.Repeat("Standard shipping takes three to five business days. ", 20), QuickReplies: qr}
	tests := []struct {
		name       string
		channel    tandem.Channel
		modify     func(*twilio.Config)
		basePath   string // appended to the server URL given to WithBaseURL
		to         string
		reply      tandem.Reply
		wantTo     string
		wantFrom   string
		wantMGSID  string
		wantBody   string // exact, when set
		wantInBody []string
		maxSegs    int // the body must fit this many SMS segments, when set
	}{
		{name: "OKSMS", channel: tandem.ChannelSMS, to: "+15558675310", reply: short,
			wantTo: "+15558675310", wantFrom: testSender,
			wantBody: "Your order shipped today.\nReply: Track it / Talk to a human"},
		{name: "OKSMSBoundedBySegments", channel: tandem.ChannelSMS, modify: func(c *twilio.Config) { c.MaxSegments = 2 },
			to: "+15558675310", reply: long, wantTo: "+15558675310", wantFrom: testSender,
			wantInBody: []string{"Standard shipping", "...", "Reply: Track it / Talk to a human"}, maxSegs: 2},
		{name: "OKSMSSegmentsFromFunc", channel: tandem.ChannelSMS,
			modify: func(c *twilio.Config) { c.MaxSegments, c.MaxSegmentsFunc = 5, func() int { return 1 } },
			to:     "+15558675310", reply: long, wantTo: "+15558675310", wantFrom: testSender,
			wantInBody: []string{"Reply: Track it"}, maxSegs: 1},
		{name: "OKSMSSegmentsFuncUnsetFallsBack", channel: tandem.ChannelSMS,
			modify: func(c *twilio.Config) { c.MaxSegments, c.MaxSegmentsFunc = 2, func() int { return 0 } },
			to:     "+15558675310", reply: long, wantTo: "+15558675310", wantFrom: testSender,
			wantInBody: []string{"Reply: Track it"}, maxSegs: 2},
		{name: "OKSMSDefaultSegments", channel: tandem.ChannelSMS, to: "+15558675310", reply: long,
			wantTo: "+15558675310", wantFrom: testSender, wantInBody: []string{"Reply: Track it"}, maxSegs: twilio.DefaultMaxSegments},
		{name: "OKWhatsApp", channel: tandem.ChannelWhatsApp, to: "+15558675310", reply: short,
			wantTo: "whatsapp:+15558675310", wantFrom: "whatsapp:" + testSender,
			wantBody: "Your order shipped today.\nReply: Track it / Talk to a human"},
		{name: "OKWhatsAppFullText", channel: tandem.ChannelWhatsApp, to: "+15558675310", reply: long,
			wantTo: "whatsapp:+15558675310", wantFrom: "whatsapp:" + testSender,
			wantBody: strings.TrimSpace(long.Text) + "\nReply: Track it / Talk to a human"},
		{name: "OKWhatsAppPrefixNotDoubled", channel: tandem.ChannelWhatsApp, to: "whatsapp:+15558675310", reply: short,
			wantTo: "whatsapp:+15558675310", wantFrom: "whatsapp:" + testSender, wantInBody: []string{short.Text}},
		{name: "OKMessagingService", channel: tandem.ChannelSMS,
			modify: func(c *twilio.Config) { c.From, c.MessagingServiceSID = "", testService },
			to:     "+15558675310", reply: short, wantTo: "+15558675310", wantMGSID: testService, wantInBody: []string{short.Text}},
		{name: "OKWhatsAppMessagingService", channel: tandem.ChannelWhatsApp,
			modify: func(c *twilio.Config) { c.From, c.MessagingServiceSID = "", testService },
			to:     "+15558675310", reply: short, wantTo: "whatsapp:+15558675310", wantMGSID: testService, wantInBody: []string{short.Text}},
		{name: "OKBaseURLWithPath", channel: tandem.ChannelSMS, basePath: "/proxy/", to: "+15558675310", reply: short,
			wantTo: "+15558675310", wantFrom: testSender, wantInBody: []string{short.Text}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got sent
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				got.method, got.path, got.contentType = r.Method, r.URL.Path, r.Header.Get("Content-Type")
				got.user, got.password, got.authOK = r.BasicAuth()
				got.form, _ = url.ParseQuery(string(body))
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write(messageJSON(testMsgSID, got.form.Get("From"), got.form.Get("To"), got.form.Get("Body")))
			}))
			defer api.Close()
			cfg := testConfig(tt.channel)
			if tt.modify != nil {
				tt.modify(&cfg)
			}
			c := newConnector(t, cfg, api, twilio.WithBaseURL(api.URL+tt.basePath))
			id, err := c.Send(context.Background(), connectors.Outgoing{IdempotencyKey: "m1", BotID: "demo", To: tt.to, Reply: tt.reply})
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if id != testMsgSID {
				t.Errorf("id = %q, want %q", id, testMsgSID)
			}
			wantPath := strings.TrimSuffix(tt.basePath, "/") + "/2010-04-01/Accounts/" + testSID + "/Messages.json"
			if got.method != http.MethodPost || got.path != wantPath {
				t.Errorf("request = %s %s, want POST %s", got.method, got.path, wantPath)
			}
			if got.contentType != "application/x-www-form-urlencoded" {
				t.Errorf("content type = %q", got.contentType)
			}
			if !got.authOK || got.user != testSID || got.password != testToken {
				t.Errorf("basic auth = %q/%q (%v), want the account sid and auth token", got.user, got.password, got.authOK)
			}
			f := got.form
			if f.Get("To") != tt.wantTo || f.Get("From") != tt.wantFrom || f.Get("MessagingServiceSid") != tt.wantMGSID {
				t.Errorf("To, From, MessagingServiceSid = %q, %q, %q; want %q, %q, %q",
					f.Get("To"), f.Get("From"), f.Get("MessagingServiceSid"), tt.wantTo, tt.wantFrom, tt.wantMGSID)
			}
			body := f.Get("Body")
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("Body = %q, want %q", body, tt.wantBody)
			}
			for _, w := range tt.wantInBody {
				if !strings.Contains(body, w) {
					t.Errorf("Body %q lacks %q", body, w)
				}
			}
			if n, _ := twilio.SMSSegments(body); tt.maxSegs > 0 && n > tt.maxSegs {
				t.Errorf("Body takes %d segments, want at most %d", n, tt.maxSegs)
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		retryAfter time.Duration // > 0: a *connectors.RetryLaterError with this delay
		invalid    bool          // EINVALID: never deliverable
		twilioCode int           // the *client.TwilioRestError kept in the chain, when set
	}{
		{name: "ErrRateLimited", retryAfter: twilio.DefaultRetryAfter, twilioCode: 20429,
			handler: func(w http.ResponseWriter, _ *http.Request) { restError(w, 429, 20429, "Too Many Requests") }},
		{name: "ErrRateLimitedRetryAfter", retryAfter: 5 * time.Second, twilioCode: 20429,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "5")
				restError(w, 429, 20429, "Too Many Requests")
			}},
		{name: "ErrRateLimitedRetryAfterDate", retryAfter: 90 * time.Second, twilioCode: 20429,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", testNow.Add(90*time.Second).Format(http.TimeFormat))
				restError(w, 429, 20429, "Too Many Requests")
			}},
		{name: "ErrRateLimitedNoBody", retryAfter: 3 * time.Second,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "3")
				w.WriteHeader(http.StatusTooManyRequests)
			}},
		{name: "ErrInvalidTo", invalid: true, twilioCode: 21211,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				restError(w, 400, 21211, "Invalid 'To' Phone Number: +1555867XXXX")
			}},
		{name: "ErrUnsubscribed", invalid: true, twilioCode: 21610,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				restError(w, 400, 21610, "Attempt to send to unsubscribed recipient")
			}},
		{name: "ErrNotMobile", invalid: true, twilioCode: 21614,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				restError(w, 400, 21614, "'To' number is not a valid mobile number")
			}},
		{name: "ErrWhatsAppNotFound", invalid: true, twilioCode: 63003,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				restError(w, 400, 63003, "Channel could not find To address")
			}},
		{name: "ErrSenderNotOwned", twilioCode: 21606, // the operator can fix the sender, then it sends
			handler: func(w http.ResponseWriter, _ *http.Request) {
				restError(w, 400, 21606, "The From phone number is not a valid, SMS-capable inbound phone number")
			}},
		{name: "ErrAuthentication", twilioCode: 20003,
			handler: func(w http.ResponseWriter, _ *http.Request) { restError(w, 401, 20003, "Authenticate") }},
		{name: "ErrServer", twilioCode: 20500,
			handler: func(w http.ResponseWriter, _ *http.Request) { restError(w, 500, 20500, "Internal Server Error") }},
		{name: "ErrGatewayHTML",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				_, _ = io.WriteString(w, "<html><body>502 Bad Gateway</body></html>")
			}},
		{name: "ErrNoSid",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusCreated)
				_, _ = io.WriteString(w, `{"status":"queued"}`)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := httptest.NewServer(tt.handler)
			defer api.Close()
			_, err := newConnector(t, testConfig(tandem.ChannelSMS), api).Send(context.Background(),
				connectors.Outgoing{IdempotencyKey: "m1", BotID: "demo", To: "+15558675310", Reply: tandem.Reply{Text: "hi"}})
			if err == nil {
				t.Fatal("Send succeeded")
			}
			after, retryLater := connectors.RetryAfter(err)
			if retryLater != (tt.retryAfter > 0) || after != tt.retryAfter {
				t.Errorf("RetryAfter(%v) = %s, %v; want %s", err, after, retryLater, tt.retryAfter)
			}
			if code := tandem.ErrorCode(err); (code == tandem.EINVALID) != tt.invalid {
				t.Errorf("code = %q for %v, want invalid %v", code, err, tt.invalid)
			}
			var rest *twclient.TwilioRestError
			if tt.twilioCode != 0 && (!errors.As(err, &rest) || rest.Code != tt.twilioCode) {
				t.Errorf("error %v does not wrap Twilio error %d", err, tt.twilioCode)
			}
		})
	}
}

func TestSendContext(t *testing.T) {
	t.Parallel()
	t.Run("ErrCanceled", func(t *testing.T) {
		t.Parallel()
		arrived, release := make(chan struct{}), make(chan struct{})
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			close(arrived)
			<-release // Twilio does not answer until the caller has given up
		}))
		defer api.Close()
		defer close(release)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-arrived; cancel() }()
		_, err := newConnector(t, testConfig(tandem.ChannelSMS), api).Send(ctx,
			connectors.Outgoing{To: "+15558675310", Reply: tandem.Reply{Text: "hi"}})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Send = %v, want context.Canceled", err)
		}
		if tandem.ErrorCode(err) == tandem.EINVALID {
			t.Errorf("a cancelled send is final: %v", err)
		}
	})
	t.Run("ErrNoRecipient", func(t *testing.T) {
		t.Parallel()
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t.Error("a send without a recipient reached Twilio")
		}))
		defer api.Close()
		_, err := newConnector(t, testConfig(tandem.ChannelWhatsApp), api).Send(context.Background(),
			connectors.Outgoing{To: "whatsapp:", Reply: tandem.Reply{Text: "hi"}})
		if tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("Send = %v, want EINVALID", err)
		}
	})
}
