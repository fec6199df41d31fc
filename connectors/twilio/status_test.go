package twilio_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/connectors/twilio"
)

const testStatusHook = "https://bot.example.com/webhooks/sms/demo/status"

// statusForm is the form Twilio posts to a message's StatusCallback.
func statusForm(ch tandem.Channel, sid, status, errorCode string) url.Values {
	to, from := "+15558675310", testSender
	if ch == tandem.ChannelWhatsApp {
		to, from = "whatsapp:"+to, "whatsapp:"+from
	}
	f := url.Values{"SmsSid": {sid}, "SmsStatus": {status}, "MessageStatus": {status}, "To": {to},
		"MessageSid": {sid}, "AccountSid": {testSID}, "From": {from}, "ApiVersion": {"2010-04-01"}}
	if errorCode != "" {
		f.Set("ErrorCode", errorCode)
	}
	return f
}

// statusCallback returns Twilio's POST of form to testStatusHook, signed for signedURL.
func statusCallback(form url.Values, token, signedURL string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, testStatusHook, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set(twilio.SignatureHeader, sign(token, signedURL, form))
	}
	return req
}

// statusRecorder is a connectors.StatusReceiver that keeps what it is told.
type statusRecorder struct {
	mu      sync.Mutex
	reports []connectors.StatusReport
	err     error
}

func (r *statusRecorder) HandleStatus(_ context.Context, rep connectors.StatusReport) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reports = append(r.reports, rep)
	return r.err
}

func TestSendStatusCallback(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		channel tandem.Channel
		url     string
	}{
		{"OKSMS", tandem.ChannelSMS, testStatusHook},
		{"OKWhatsApp", tandem.ChannelWhatsApp, "https://bot.example.com/webhooks/whatsapp/demo/status"},
		{"OKNoneWhenUnset", tandem.ChannelSMS, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got url.Values
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := r.ParseForm(); err != nil {
					t.Errorf("parse form: %v", err)
				}
				got = r.PostForm
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write(messageJSON(testMsgSID, r.PostForm.Get("From"), r.PostForm.Get("To"), r.PostForm.Get("Body")))
			}))
			defer api.Close()
			cfg := testConfig(tt.channel)
			cfg.StatusCallbackURL = tt.url
			c := newConnector(t, cfg, api)
			if _, err := c.Send(context.Background(), connectors.Outgoing{To: "+15558675310", Reply: tandem.Reply{Text: "hi"}}); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if _, set := got["StatusCallback"]; got.Get("StatusCallback") != tt.url || set != (tt.url != "") {
				t.Fatalf("StatusCallback = %q (set %v), want %q", got.Get("StatusCallback"), set, tt.url)
			}
		})
	}
}

func TestStatusHandler(t *testing.T) {
	t.Parallel()
	const sid = testMsgSID
	tests := []struct {
		name    string
		channel tandem.Channel
		req     func() *http.Request
		recvErr error
		status  int
		want    *connectors.StatusReport // nil: the receiver is not called
		reason  string                   // in want.Reason
	}{
		{name: "OKDelivered", channel: tandem.ChannelSMS, status: http.StatusOK,
			req: func() *http.Request {
				return statusCallback(statusForm(tandem.ChannelSMS, sid, "delivered", ""), testToken, testStatusHook)
			},
			want: &connectors.StatusReport{Channel: tandem.ChannelSMS, ProviderID: sid, Status: "delivered", Outcome: connectors.StatusDelivered}},
		{name: "OKRead", channel: tandem.ChannelWhatsApp, status: http.StatusOK,
			req: func() *http.Request {
				return statusCallback(statusForm(tandem.ChannelWhatsApp, sid, "read", ""), testToken, testStatusHook)
			},
			want: &connectors.StatusReport{Channel: tandem.ChannelWhatsApp, ProviderID: sid, Status: "read", Outcome: connectors.StatusDelivered}},
		{name: "OKSentIsProgress", channel: tandem.ChannelSMS, status: http.StatusOK,
			req: func() *http.Request {
				return statusCallback(statusForm(tandem.ChannelSMS, sid, "sent", ""), testToken, testStatusHook)
			},
			want: &connectors.StatusReport{Channel: tandem.ChannelSMS, ProviderID: sid, Status: "sent", Outcome: connectors.StatusProgress}},
		{name: "OKUnknownStatusIsOther", channel: tandem.ChannelSMS, status: http.StatusOK,
			req: func() *http.Request {
				return statusCallback(statusForm(tandem.ChannelSMS, sid, "teleported", ""), testToken, testStatusHook)
			},
			want: &connectors.StatusReport{Channel: tandem.ChannelSMS, ProviderID: sid, Status: "other", Outcome: connectors.StatusProgress}},
		{name: "OKUndeliveredLandline", channel: tandem.ChannelSMS, status: http.StatusOK, reason: "landline or its carrier is unreachable (error 30006)",
			req: func() *http.Request {
				return statusCallback(statusForm(tandem.ChannelSMS, sid, "undelivered", "30006"), testToken, testStatusHook)
			},
			want: &connectors.StatusReport{Channel: tandem.ChannelSMS, ProviderID: sid, Status: "undelivered", Outcome: connectors.StatusFailed}},
		{name: "OKFailedUnknownCode", channel: tandem.ChannelSMS, status: http.StatusOK, reason: "errors/12345 (error 12345)",
			req: func() *http.Request {
				return statusCallback(statusForm(tandem.ChannelSMS, sid, "failed", "12345"), testToken, testStatusHook)
			},
			want: &connectors.StatusReport{Channel: tandem.ChannelSMS, ProviderID: sid, Status: "failed", Outcome: connectors.StatusFailed}},
		{name: "OKWhatsAppOutsideWindow", channel: tandem.ChannelWhatsApp, status: http.StatusOK, reason: "error 63016",
			req: func() *http.Request {
				return statusCallback(statusForm(tandem.ChannelWhatsApp, sid, "failed", "63016"), testToken, testStatusHook)
			},
			want: &connectors.StatusReport{Channel: tandem.ChannelWhatsApp, ProviderID: sid, Status: "failed", Outcome: connectors.StatusFailed, OutsideWindow: true}},
		{name: "OKUnknownSidAcknowledged", channel: tandem.ChannelSMS, status: http.StatusOK,
			recvErr: tandem.Errorf(tandem.ENOTFOUND, "no delivery"),
			req: func() *http.Request {
				return statusCallback(statusForm(tandem.ChannelSMS, sid, "delivered", ""), testToken, testStatusHook)
			},
			want: &connectors.StatusReport{Channel: tandem.ChannelSMS, ProviderID: sid, Status: "delivered", Outcome: connectors.StatusDelivered}},
		{name: "ErrStoreDown", channel: tandem.ChannelSMS, status: http.StatusInternalServerError,
			recvErr: errors.New("store down"),
			req: func() *http.Request {
				return statusCallback(statusForm(tandem.ChannelSMS, sid, "delivered", ""), testToken, testStatusHook)
			},
			want: &connectors.StatusReport{Channel: tandem.ChannelSMS, ProviderID: sid, Status: "delivered", Outcome: connectors.StatusDelivered}},
		{name: "ErrForgedSignature", channel: tandem.ChannelSMS, status: http.StatusForbidden,
			req: func() *http.Request {
				return statusCallback(statusForm(tandem.ChannelSMS, sid, "delivered", ""), "0000000000000000000000000000dead", testStatusHook)
			}},
		{name: "ErrSignedForInboundURL", channel: tandem.ChannelSMS, status: http.StatusForbidden,
			req: func() *http.Request {
				return statusCallback(statusForm(tandem.ChannelSMS, sid, "delivered", ""), testToken, testHook)
			}},
		{name: "ErrNoSignature", channel: tandem.ChannelSMS, status: http.StatusForbidden,
			req: func() *http.Request {
				return statusCallback(statusForm(tandem.ChannelSMS, sid, "delivered", ""), "", testStatusHook)
			}},
		{name: "ErrStatusChangedAfterSigning", channel: tandem.ChannelSMS, status: http.StatusForbidden,
			req: func() *http.Request {
				req := statusCallback(statusForm(tandem.ChannelSMS, sid, "failed", "30003"), testToken, testStatusHook)
				forged := statusForm(tandem.ChannelSMS, sid, "delivered", "")
				req.Body = io.NopCloser(strings.NewReader(forged.Encode()))
				return req
			}},
		{name: "ErrMissingStatus", channel: tandem.ChannelSMS, status: http.StatusBadRequest,
			req: func() *http.Request {
				f := statusForm(tandem.ChannelSMS, sid, "delivered", "")
				f.Del("MessageStatus")
				return statusCallback(f, testToken, testStatusHook)
			}},
		{name: "ErrTooLarge", channel: tandem.ChannelSMS, status: http.StatusRequestEntityTooLarge,
			req: func() *http.Request {
				f := statusForm(tandem.ChannelSMS, sid, "delivered", "")
				f.Set("Padding", strings.Repeat("x", connectors.MaxWebhookBytes))
				return statusCallback(f, testToken, testStatusHook)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := httptest.NewServer(http.NotFoundHandler())
			defer api.Close()
			cfg := testConfig(tt.channel)
			cfg.StatusCallbackURL = testStatusHook
			rec := &statusRecorder{err: tt.recvErr}
			w := httptest.NewRecorder()
			newConnector(t, cfg, api).StatusHandler(rec).ServeHTTP(w, tt.req())
			if w.Code != tt.status {
				t.Fatalf("status = %d (%s), want %d", w.Code, w.Body, tt.status)
			}
			if tt.want == nil {
				if len(rec.reports) != 0 {
					t.Fatalf("receiver got %+v, want no call", rec.reports)
				}
				return
			}
			if len(rec.reports) != 1 {
				t.Fatalf("receiver got %d reports, want 1", len(rec.reports))
			}
			got := rec.reports[0]
			if !strings.Contains(got.Reason, tt.reason) || (tt.reason == "" && got.Reason != "") {
				t.Errorf("reason = %q, want it to contain %q", got.Reason, tt.reason)
			}
			got.Reason = ""
			if got != *tt.want {
				t.Errorf("report = %+v, want %+v", got, *tt.want)
			}
		})
	}
}

func TestStatusHandlerOff(t *testing.T) {
	t.Parallel()
	api := httptest.NewServer(http.NotFoundHandler())
	defer api.Close()
	if h := newConnector(t, testConfig(tandem.ChannelSMS), api).StatusHandler(&statusRecorder{}); h != nil {
		t.Fatal("StatusHandler without a StatusCallbackURL is not nil")
	}
	cfg := testConfig(tandem.ChannelSMS)
	cfg.StatusCallbackURL = "/relative"
	if _, err := twilio.New(cfg); tandem.ErrorCode(err) != tandem.EINVALID {
		t.Fatalf("New with a relative status callback url = %v, want EINVALID", err)
	}
}
