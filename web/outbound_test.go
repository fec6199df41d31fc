package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/web"
)

const testAPIKey = "test-key-0123456789abcdef"

// scriptedOutbound answers proactive messages for the "demo" bot: user "optout" opted out,
// flow "busy" hits the daily limit; everything else is sent.
type scriptedOutbound struct {
	mu   sync.Mutex
	got  []web.OutboundRequest
	send web.OutboundFunc
}

func newScriptedOutbound() *scriptedOutbound {
	o := &scriptedOutbound{}
	o.send = func(ctx context.Context, req web.OutboundRequest) (*tandem.Turn, error) {
		o.mu.Lock()
		o.got = append(o.got, req)
		o.mu.Unlock()
		switch {
		case req.BotID != "demo":
			return nil, tandem.Errorf(tandem.ENOTFOUND, "no bot %q", req.BotID)
		case req.ExternalID == "optout":
			return nil, tandem.Errorf(tandem.EFORBIDDEN, "the customer opted out of proactive messages")
		case req.Flow == "busy":
			return nil, tandem.Errorf(tandem.ECONFLICT, "daily limit of 1 proactive messages reached")
		}
		text := req.Text
		if text == "" {
			text = "Your order " + req.Slots["order"] + " is delayed."
		}
		return &tandem.Turn{ConversationID: "conv-out", CustomerID: "cust-1",
			Replies:  []tandem.Reply{{Text: text}},
			Decision: tandem.Decision{Kind: "outbound", Reason: "proactive message"}}, nil
	}
	return o
}

func (o *scriptedOutbound) last() web.OutboundRequest {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.got) == 0 {
		return web.OutboundRequest{}
	}
	return o.got[len(o.got)-1]
}

func TestOutbound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		keys    []string
		auth    string
		bot     string
		body    string
		status  int
		code    string
		message string
	}{
		{"OKText", []string{testAPIKey}, "Bearer " + testAPIKey, "demo", `{"channel":"sms","user":"+15550100","text":"Hello!"}`, 200, "", ""},
		{"OKFlowWithSlots", []string{"other-key-0123456789", testAPIKey}, "Bearer " + testAPIKey, "demo", `{"channel":"sms","user":"+15550100","flow":"delay","slots":{"order":"A100001"},"reason":"delay notice"}`, 200, "", ""},
		{"ErrDisabled", nil, "Bearer " + testAPIKey, "demo", `{"channel":"sms","user":"+15550100","text":"Hello!"}`, 403, tandem.EFORBIDDEN, "no API key configured"},
		{"ErrNoKey", []string{testAPIKey}, "", "demo", `{"channel":"sms","user":"+15550100","text":"Hello!"}`, 401, tandem.EUNAUTHORIZED, "API key is required"},
		{"ErrWrongKey", []string{testAPIKey}, "Bearer " + testAPIKey + "x", "demo", `{"channel":"sms","user":"+15550100","text":"Hello!"}`, 401, tandem.EUNAUTHORIZED, "invalid API key"},
		{"ErrBasicAuth", []string{testAPIKey}, "Basic " + testAPIKey, "demo", `{"channel":"sms","user":"+15550100","text":"Hello!"}`, 401, tandem.EUNAUTHORIZED, "API key is required"},
		{"ErrUnknownBot", []string{testAPIKey}, "Bearer " + testAPIKey, "nobot", `{"channel":"sms","user":"+15550100","text":"Hello!"}`, 404, tandem.ENOTFOUND, "nobot"},
		{"ErrChannel", []string{testAPIKey}, "Bearer " + testAPIKey, "demo", `{"channel":"pigeon","user":"+15550100","text":"Hello!"}`, 400, tandem.EINVALID, `"channel"`},
		{"ErrNoUser", []string{testAPIKey}, "Bearer " + testAPIKey, "demo", `{"channel":"sms","text":"Hello!"}`, 400, tandem.EINVALID, `"user"`},
		{"ErrNothingToSay", []string{testAPIKey}, "Bearer " + testAPIKey, "demo", `{"channel":"sms","user":"+15550100"}`, 400, tandem.EINVALID, "exactly one"},
		{"ErrTwoThingsToSay", []string{testAPIKey}, "Bearer " + testAPIKey, "demo", `{"channel":"sms","user":"+15550100","text":"hi","flow":"delay"}`, 400, tandem.EINVALID, "exactly one"},
		{"OKTemplate", []string{testAPIKey}, "Bearer " + testAPIKey, "demo", `{"channel":"whatsapp","user":"+15550100","template":"shipping_delay_notice","slots":{"order":"A100001"}}`, 200, "", ""},
		{"ErrTemplateAndText", []string{testAPIKey}, "Bearer " + testAPIKey, "demo", `{"channel":"whatsapp","user":"+15550100","text":"hi","template":"reopen"}`, 400, tandem.EINVALID, "exactly one"},
		{"ErrTextTooLong", []string{testAPIKey}, "Bearer " + testAPIKey, "demo", `{"channel":"sms","user":"+15550100","text":"` + strings.Repeat("a", 4097) + `"}`, 413, tandem.ETOOLARGE, "limit"},
		{"ErrUnknownField", []string{testAPIKey}, "Bearer " + testAPIKey, "demo", `{"channel":"sms","user":"+15550100","text":"hi","to":"x"}`, 400, tandem.EINVALID, "unknown field"},
		{"ErrOptedOut", []string{testAPIKey}, "Bearer " + testAPIKey, "demo", `{"channel":"sms","user":"optout","text":"hi"}`, 403, tandem.EFORBIDDEN, "opted out"},
		{"ErrDailyLimit", []string{testAPIKey}, "Bearer " + testAPIKey, "demo", `{"channel":"sms","user":"+15550100","flow":"busy"}`, 409, tandem.ECONFLICT, "daily limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := newScriptedOutbound()
			f := setup(t, func(o *options) {
				o.cfg.APIKeys = tt.keys
				o.outbound = out.send
			})
			req := httptest.NewRequest(http.MethodPost, "/api/v1/bots/"+tt.bot+"/outbound", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", jsonType)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			f.srv.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if tt.status != 200 {
				e := decodeErrorBody(t, rec.Body.String())
				if e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.message) {
					t.Errorf("error = %+v, want code %q and a message with %q", e.Error, tt.code, tt.message)
				}
				if (tt.status == 401 || tt.status == 400 || tt.status == 413) && len(out.got) != 0 {
					t.Errorf("rejected request reached the engine: %+v", out.got)
				}
				return
			}
			var resp web.PostMessageResponse
			mustUnmarshal(t, rec.Body.Bytes(), &resp)
			if resp.ConversationID != "conv-out" || len(resp.Replies) != 1 || resp.Decision == nil || resp.Decision.Kind != "outbound" {
				t.Errorf("response = %+v", resp)
			}
		})
	}

	t.Run("OKRequestPassedOn", func(t *testing.T) {
		t.Parallel()
		out := newScriptedOutbound()
		f := setup(t, func(o *options) { o.cfg.APIKeys = []string{testAPIKey}; o.outbound = out.send })
		req := httptest.NewRequest(http.MethodPost, "/api/v1/bots/demo/outbound", strings.NewReader(
			`{"channel":"whatsapp","user":"+15550100","flow":"delay","slots":{"order":"A100001"},"reason":"delay notice"}`))
		req.Header.Set("Content-Type", jsonType)
		req.Header.Set("Authorization", "Bearer "+testAPIKey)
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		want := web.OutboundRequest{BotID: "demo", Channel: tandem.ChannelWhatsApp, ExternalID: "+15550100", Flow: "delay",
			Slots: map[string]string{"order": "A100001"}, Reason: "delay notice"}
		if got := out.last(); !reflect.DeepEqual(got, want) {
			t.Errorf("outbound got %+v, want %+v", got, want)
		}
		m := f.do(t, http.MethodGet, "/metrics", "", "").Body.String()
		if !strings.Contains(m, `tandem_turns_total{bot="demo",decision="outbound"} 1`) {
			t.Error("outbound turn not counted")
		}
		if strings.Contains(f.logs.String(), testAPIKey) {
			t.Error("the API key was logged")
		}
	})

	t.Run("OKTemplatePassedOn", func(t *testing.T) {
		t.Parallel()
		out := newScriptedOutbound()
		f := setup(t, func(o *options) { o.cfg.APIKeys = []string{testAPIKey}; o.outbound = out.send })
		req := httptest.NewRequest(http.MethodPost, "/api/v1/bots/demo/outbound", strings.NewReader(
			`{"channel":"whatsapp","user":"+15550100","template":"shipping_delay_notice","slots":{"order":"A100001"}}`))
		req.Header.Set("Content-Type", jsonType)
		req.Header.Set("Authorization", "Bearer "+testAPIKey)
		f.srv.ServeHTTP(httptest.NewRecorder(), req)
		want := web.OutboundRequest{BotID: "demo", Channel: tandem.ChannelWhatsApp, ExternalID: "+15550100",
			Template: "shipping_delay_notice", Slots: map[string]string{"order": "A100001"}}
		if got := out.last(); !reflect.DeepEqual(got, want) {
			t.Errorf("outbound got %+v, want %+v", got, want)
		}
	})

	t.Run("ErrRouteAbsentWithoutOutbound", func(t *testing.T) {
		t.Parallel()
		f := setup(t, func(o *options) { o.cfg.APIKeys = []string{testAPIKey} })
		rec := f.do(t, http.MethodPost, "/api/v1/bots/demo/outbound", jsonType, `{}`)
		if rec.Code != 404 {
			t.Errorf("status = %d, want 404", rec.Code)
		}
	})
}
