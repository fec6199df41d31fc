package twilio_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
)

const testContentSID = "HX0123456789abcdef0123456789abcdef"

// TestSendTemplate checks what twilio-go puts on the wire for a reply with a template: the
// template's ContentSid and ContentVariables on WhatsApp (no Body), its text on SMS, and a
// clear refusal, before any request, of what Twilio could never send.
func TestSendTemplate(t *testing.T) {
	t.Parallel()
	tmpl := &tandem.Template{Name: "reopen", ContentSID: testContentSID, Variables: map[string]string{"1": "Ada", "2": "A100001"}}
	tests := []struct {
		name      string
		channel   tandem.Channel
		reply     tandem.Reply
		wantForm  map[string]string // exact values; "" means absent
		wantVars  map[string]string
		wantError string // EINVALID, and no request made
	}{
		{name: "OKWhatsAppTemplate", channel: tandem.ChannelWhatsApp,
			reply:    tandem.Reply{Text: "Hi Ada, we have a reply for you.", Template: tmpl},
			wantForm: map[string]string{"ContentSid": testContentSID, "Body": "", "To": "whatsapp:+15558675310"},
			wantVars: tmpl.Variables},
		{name: "OKWhatsAppTemplateNoVariables", channel: tandem.ChannelWhatsApp,
			reply:    tandem.Reply{Text: "We have a reply for you.", Template: &tandem.Template{Name: "plain", ContentSID: testContentSID}},
			wantForm: map[string]string{"ContentSid": testContentSID, "ContentVariables": "", "Body": ""}},
		{name: "OKSMSSendsTheText", channel: tandem.ChannelSMS,
			reply:    tandem.Reply{Text: "Hi Ada, we have a reply for you.", Template: tmpl},
			wantForm: map[string]string{"ContentSid": "", "ContentVariables": "", "Body": "Hi Ada, we have a reply for you."}},
		{name: "ErrBadContentSID", channel: tandem.ChannelWhatsApp,
			reply:     tandem.Reply{Text: "x", Template: &tandem.Template{Name: "bad", ContentSID: "HXnothex"}},
			wantError: "content sid"},
		{name: "ErrNoText", channel: tandem.ChannelWhatsApp, reply: tandem.Reply{Text: "  "}, wantError: "no text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var forms []url.Values
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				form, _ := url.ParseQuery(string(body))
				mu.Lock()
				forms = append(forms, form)
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write(messageJSON(testMsgSID, form.Get("From"), form.Get("To"), form.Get("Body")))
			}))
			defer api.Close()
			_, err := newConnector(t, testConfig(tt.channel), api).Send(context.Background(),
				connectors.Outgoing{IdempotencyKey: "m1", BotID: "demo", To: "+15558675310", Reply: tt.reply})
			if tt.wantError != "" {
				if tandem.ErrorCode(err) != tandem.EINVALID || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("Send = %v, want EINVALID about %q", err, tt.wantError)
				}
				if len(forms) != 0 {
					t.Errorf("%d requests made for a reply Twilio cannot send", len(forms))
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if len(forms) != 1 {
				t.Fatalf("%d requests, want 1", len(forms))
			}
			f := forms[0]
			for k, want := range tt.wantForm {
				if got := f.Get(k); got != want || (want == "" && f.Has(k)) {
					t.Errorf("%s = %q (sent %v), want %q", k, got, f.Has(k), want)
				}
			}
			if tt.wantVars != nil {
				var got map[string]string
				if err := json.Unmarshal([]byte(f.Get("ContentVariables")), &got); err != nil {
					t.Fatalf("ContentVariables %q: %v", f.Get("ContentVariables"), err)
				}
				if len(got) != len(tt.wantVars) || got["1"] != tt.wantVars["1"] || got["2"] != tt.wantVars["2"] {
					t.Errorf("ContentVariables = %v, want %v", got, tt.wantVars)
				}
			}
		})
	}
}

// TestSendOutsideWindow checks that Twilio's 63016 (a free-form WhatsApp message more than
// 24 hours after the customer's last one) is a permanent error wrapping
// connectors.ErrOutsideWindow, unlike other 4xx errors the operator can fix.
func TestSendOutsideWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		code    int
		outside bool
		invalid bool
	}{
		{name: "ErrOutsideWindow", status: 400, code: 63016, outside: true, invalid: true},
		{name: "ErrUnsubscribedIsNotWindow", status: 400, code: 21610, invalid: true},
		{name: "ErrSenderIsNotWindow", status: 400, code: 21606},
		{name: "ErrServer", status: 500, code: 63016}, // a 5xx is retried whatever its code
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				restError(w, tt.status, tt.code, "Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Template.")
			}))
			defer api.Close()
			_, err := newConnector(t, testConfig(tandem.ChannelWhatsApp), api).Send(context.Background(),
				connectors.Outgoing{IdempotencyKey: "m1", BotID: "demo", To: "+15558675310", Reply: tandem.Reply{Text: "late reply"}})
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if got := errors.Is(err, connectors.ErrOutsideWindow); got != tt.outside {
				t.Errorf("errors.Is(%v, ErrOutsideWindow) = %v, want %v", err, got, tt.outside)
			}
			if got := tandem.ErrorCode(err) == tandem.EINVALID; got != tt.invalid {
				t.Errorf("code = %q, want invalid %v", tandem.ErrorCode(err), tt.invalid)
			}
			var rest *twclient.TwilioRestError
			if !errors.As(err, &rest) || rest.Code != tt.code {
				t.Errorf("error %v does not wrap Twilio error %d", err, tt.code)
			}
		})
	}
}
