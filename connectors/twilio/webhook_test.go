package twilio_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/connectors/connectortest"
	"github.com/tandemhq/tandem/connectors/twilio"
)

// secretText is a message body that must never appear in logs above debug level.
const secretText = "my card is 4242 please check order 1009"

func TestWebhook(t *testing.T) {
	t.Parallel()
	const customer = "+15558675310"
	sms := func() url.Values { return inboundForm(tandem.ChannelSMS, customer, secretText, testMsgSID) }
	stored := &tandem.Turn{ConversationID: "c1", CustomerID: "u1", MessageID: "m1"}
	tests := []struct {
		name      string
		channel   tandem.Channel // the connector's
		req       func() *http.Request
		turn      *tandem.Turn
		engineErr error
		status    int
		want      *tandem.Inbound // the one call the engine gets; nil: no call
		wantLog   string
	}{
		{name: "OKSMS", channel: tandem.ChannelSMS, turn: stored, status: http.StatusOK,
			req: func() *http.Request { return webhook(sms(), testToken, testHook) },
			want: &tandem.Inbound{BotID: "demo", Channel: tandem.ChannelSMS, ExternalID: customer, Text: secretText,
				ProviderID: testMsgSID, ReceivedAt: testNow}},
		{name: "OKWhatsApp", channel: tandem.ChannelWhatsApp, turn: stored, status: http.StatusOK,
			req: func() *http.Request {
				return webhook(inboundForm(tandem.ChannelWhatsApp, customer, secretText, testMsgSID), testToken, testHook)
			},
			want: &tandem.Inbound{BotID: "demo", Channel: tandem.ChannelWhatsApp, ExternalID: customer, Text: secretText,
				ProviderID: testMsgSID, ReceivedAt: testNow}},
		{name: "OKDuplicate", channel: tandem.ChannelSMS, turn: &tandem.Turn{ConversationID: "c1", Duplicate: true},
			status: http.StatusOK, req: func() *http.Request { return webhook(sms(), testToken, testHook) },
			want: &tandem.Inbound{BotID: "demo", Channel: tandem.ChannelSMS, ExternalID: customer, Text: secretText,
				ProviderID: testMsgSID, ReceivedAt: testNow}},
		{name: "OKMediaOnlyIgnored", channel: tandem.ChannelSMS, turn: stored, status: http.StatusOK,
			wantLog: "media-only message ignored",
			req: func() *http.Request {
				f := sms()
				f.Set("Body", "")
				f.Set("NumMedia", "1")
				f.Set("MediaContentType0", "image/jpeg")
				f.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/"+testSID+"/Messages/"+testMsgSID+"/Media/ME1")
				return webhook(f, testToken, testHook)
			}},
		{name: "ErrMissingMessageSid", channel: tandem.ChannelSMS, turn: stored, status: http.StatusBadRequest,
			req: func() *http.Request { f := sms(); f.Del("MessageSid"); return webhook(f, testToken, testHook) }},
		{name: "ErrMissingFrom", channel: tandem.ChannelSMS, turn: stored, status: http.StatusBadRequest,
			req: func() *http.Request { f := sms(); f.Del("From"); return webhook(f, testToken, testHook) }},
		{name: "ErrWhatsAppOnSMSConnector", channel: tandem.ChannelSMS, turn: stored, status: http.StatusBadRequest,
			req: func() *http.Request {
				return webhook(inboundForm(tandem.ChannelWhatsApp, customer, secretText, testMsgSID), testToken, testHook)
			}},
		{name: "ErrSignedForOtherURL", channel: tandem.ChannelSMS, turn: stored, status: http.StatusForbidden,
			req: func() *http.Request { return webhook(sms(), testToken, "https://bot.example.com/twilio/sms?bot=other") }},
		{name: "ErrSignedWithOtherToken", channel: tandem.ChannelSMS, turn: stored, status: http.StatusForbidden,
			req: func() *http.Request { return webhook(sms(), "0000000000000000000000000000dead", testHook) }},
		{name: "ErrNoSignature", channel: tandem.ChannelSMS, turn: stored, status: http.StatusForbidden,
			req: func() *http.Request { return webhook(sms(), "", testHook) }},
		{name: "ErrBodyChangedAfterSigning", channel: tandem.ChannelSMS, turn: stored, status: http.StatusForbidden,
			req: func() *http.Request {
				req := webhook(sms(), testToken, testHook)
				f := sms()
				f.Set("Body", "transfer all my points")
				req.Body = io.NopCloser(strings.NewReader(f.Encode()))
				return req
			}},
		{name: "ErrRepeatedParameter", channel: tandem.ChannelSMS, turn: stored, status: http.StatusBadRequest,
			req: func() *http.Request { f := sms(); f.Add("Body", "second"); return webhook(f, testToken, testHook) }},
		{name: "ErrMalformedBody", channel: tandem.ChannelSMS, turn: stored, status: http.StatusBadRequest,
			req: func() *http.Request {
				req := webhook(sms(), testToken, testHook)
				req.Body = io.NopCloser(strings.NewReader("Body=%zz"))
				return req
			}},
		{name: "ErrTooLarge", channel: tandem.ChannelSMS, turn: stored, status: http.StatusRequestEntityTooLarge,
			req: func() *http.Request {
				f := sms()
				f.Set("Body", strings.Repeat("a", connectors.MaxWebhookBytes))
				return webhook(f, testToken, testHook)
			}},
		{name: "ErrMethod", channel: tandem.ChannelSMS, turn: stored, status: http.StatusMethodNotAllowed,
			req: func() *http.Request { return httptest.NewRequest(http.MethodGet, testHook, nil) }},
		{name: "ErrEngineRefuses", channel: tandem.ChannelSMS, engineErr: tandem.Errorf(tandem.EINVALID, "empty message"),
			status: http.StatusBadRequest, req: func() *http.Request { return webhook(sms(), testToken, testHook) },
			want: &tandem.Inbound{BotID: "demo", Channel: tandem.ChannelSMS, ExternalID: customer, Text: secretText,
				ProviderID: testMsgSID, ReceivedAt: testNow}},
		{name: "ErrEngineTooLarge", channel: tandem.ChannelSMS, engineErr: tandem.Errorf(tandem.ETOOLARGE, "message too long"),
			status: http.StatusRequestEntityTooLarge, req: func() *http.Request { return webhook(sms(), testToken, testHook) },
			want: &tandem.Inbound{BotID: "demo", Channel: tandem.ChannelSMS, ExternalID: customer, Text: secretText,
				ProviderID: testMsgSID, ReceivedAt: testNow}},
		{name: "ErrStore", channel: tandem.ChannelSMS, engineErr: errors.New("pq: connection refused to 10.0.0.5"),
			status: http.StatusServiceUnavailable, req: func() *http.Request { return webhook(sms(), testToken, testHook) },
			want: &tandem.Inbound{BotID: "demo", Channel: tandem.ChannelSMS, ExternalID: customer, Text: secretText,
				ProviderID: testMsgSID, ReceivedAt: testNow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := httptest.NewServer(http.NotFoundHandler())
			defer api.Close()
			logger, logs := newLogger(slog.LevelInfo)
			eng := &connectortest.Receiver{Turn: tt.turn, Err: tt.engineErr}
			h := newConnector(t, testConfig(tt.channel), api, twilio.WithLogger(logger)).Handler(eng)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req())

			if rec.Code != tt.status {
				t.Errorf("status = %d (%q), want %d", rec.Code, rec.Body, tt.status)
			}
			calls := eng.Calls()
			switch {
			case tt.want == nil && len(calls) != 0:
				t.Errorf("engine called with %+v, want no call", calls)
			case tt.want != nil && (len(calls) != 1 || calls[0] != *tt.want):
				t.Errorf("engine calls = %+v, want one with %+v", calls, *tt.want)
			}
			if tt.status == http.StatusOK {
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
					t.Errorf("content type = %q, want text/xml", ct)
				}
				if !strings.HasSuffix(rec.Body.String(), "<Response></Response>") {
					t.Errorf("body = %q, want empty TwiML", rec.Body)
				}
			}
			if tt.engineErr != nil && strings.Contains(rec.Body.String(), tt.engineErr.Error()) {
				t.Errorf("the engine's error reached Twilio: %q", rec.Body)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, logs)
			}
			if strings.Contains(logs.String(), secretText) {
				t.Errorf("a message body was logged above debug level:\n%s", logs)
			}
		})
	}
}

// FuzzWebhook feeds the webhook handler arbitrary bodies and signatures: it must never
// panic, and the engine must only ever see a message whose signature verifies, checked
// with the test's own signer.
func FuzzWebhook(f *testing.F) {
	valid := inboundForm(tandem.ChannelSMS, "+15558675310", "where is my order?", testMsgSID).Encode()
	f.Add(valid, true, "")
	f.Add(valid, false, "")
	f.Add(valid, false, "bm90IGEgc2lnbmF0dXJl")
	f.Add(inboundForm(tandem.ChannelWhatsApp, "+15558675310", "hola", testMsgSID).Encode(), true, "")
	f.Add("MessageSid=SM1&From=%2B1555&Body=hi&NumMedia=1", true, "")
	f.Add("MessageSid=SM1&From=whatsapp%3A&Body=", true, "")
	f.Add("Body=%zz&From=+1", true, "")
	f.Add("a=1&a=2", true, "")
	f.Add("", false, "")
	f.Fuzz(func(t *testing.T, body string, signIt bool, sig string) {
		api := httptest.NewServer(http.NotFoundHandler())
		defer api.Close()
		eng := &connectortest.Receiver{Turn: &tandem.Turn{ConversationID: "c1"}}
		c := newConnector(t, testConfig(tandem.ChannelSMS), api)
		req := httptest.NewRequest(http.MethodPost, testHook, strings.NewReader(body))
		form, parseErr := url.ParseQuery(body)
		if signIt && parseErr == nil {
			sig = sign(testToken, testHook, form)
		}
		req.Header.Set("X-Twilio-Signature", sig)
		rec := httptest.NewRecorder()
		c.Handler(eng).ServeHTTP(rec, req)

		calls := eng.Calls()
		if len(calls) == 0 {
			return
		}
		if parseErr != nil || sig != sign(testToken, testHook, form) {
			t.Fatalf("engine reached without a valid signature: body %q, signature %q", body, sig)
		}
		in := calls[0]
		if len(calls) != 1 || in.ProviderID == "" || in.ExternalID == "" || in.BotID != "demo" || rec.Code != http.StatusOK {
			t.Fatalf("calls = %+v, status %d", calls, rec.Code)
		}
	})
}
