package web_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/web"
)

const jsonType = "application/json"

type errorJSON struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func decodeErrorBody(t *testing.T, body string) errorJSON {
	t.Helper()
	var e errorJSON
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %q is not {\"error\":{\"code\",\"message\"}}: %v", body, err)
	}
	return e
}

func TestPostMessage(t *testing.T) {
	t.Parallel()
	atLimit := strings.Repeat("a", web.DefaultMaxMessageBytes)
	tests := []struct {
		name        string
		bot         string
		contentType string
		body        string
		status      int
		code        string // error code, for error responses
		message     string // substring of the error message
	}{
		{"OK", "demo", jsonType, `{"user":"u1","text":"How long does shipping take?"}`, 200, "", ""},
		{"OKCharset", "demo", "application/json; charset=utf-8", `{"user":"u1","text":"hi"}`, 200, "", ""},
		{"OKTextAtLimit", "demo", jsonType, `{"user":"u1","text":"` + atLimit + `"}`, 200, "", ""},
		{"OKHandoff", "demo", jsonType, `{"user":"u1","text":"human"}`, 200, "", ""},
		{"ErrMalformedJSON", "demo", jsonType, `{"user":"u1","text":`, 400, tandem.EINVALID, "malformed JSON"},
		{"ErrSyntax", "demo", jsonType, `{"user" "u1"}`, 400, tandem.EINVALID, "malformed JSON"},
		{"ErrEmptyBody", "demo", jsonType, ``, 400, tandem.EINVALID, "empty"},
		{"ErrTrailingData", "demo", jsonType, `{"user":"u1","text":"hi"} {}`, 400, tandem.EINVALID, "after the JSON object"},
		{"ErrUnknownField", "demo", jsonType, `{"user":"u1","text":"hi","txet":"x"}`, 400, tandem.EINVALID, `unknown field "txet"`},
		{"ErrWrongType", "demo", jsonType, `{"user":"u1","text":5}`, 400, tandem.EINVALID, `"text"`},
		{"ErrArrayBody", "demo", jsonType, `[{"user":"u1","text":"hi"}]`, 400, tandem.EINVALID, "must be a JSON object"},
		{"ErrNullBody", "demo", jsonType, `null`, 400, tandem.EINVALID, `"user" is required`},
		{"ErrUnknownBot", "nobot", jsonType, `{"user":"u1","text":"hi"}`, 404, tandem.ENOTFOUND, "nobot"},
		{"ErrInvalidBotName", "-bad-", jsonType, `{"user":"u1","text":"hi"}`, 404, tandem.ENOTFOUND, "no bot"},
		{"ErrEmptyText", "demo", jsonType, `{"user":"u1","text":"  \n "}`, 400, tandem.EINVALID, `"text" is empty`},
		{"ErrMissingText", "demo", jsonType, `{"user":"u1"}`, 400, tandem.EINVALID, `"text" is empty`},
		{"ErrMissingUser", "demo", jsonType, `{"text":"hi"}`, 400, tandem.EINVALID, `"user" is required`},
		{"ErrLongUser", "demo", jsonType, `{"user":"` + strings.Repeat("u", 257) + `","text":"hi"}`, 400, tandem.EINVALID, `"user" is longer`},
		{"ErrTextTooLong", "demo", jsonType, `{"user":"u1","text":"` + atLimit + `b"}`, 413, tandem.ETOOLARGE, "the limit is 4096"},
		{"ErrBodyTooLarge", "demo", jsonType, `{"user":"u1","text":"` + strings.Repeat("a", 64<<10) + `"}`, 413, tandem.ETOOLARGE, "request body is larger"},
		{"ErrContentType", "demo", "text/plain", `{"user":"u1","text":"hi"}`, 415, tandem.EINVALID, "application/json"},
		{"ErrNoContentType", "demo", "", `{"user":"u1","text":"hi"}`, 415, tandem.EINVALID, "application/json"},
		{"ErrFormContentType", "demo", "application/x-www-form-urlencoded", `user=u1&text=hi`, 415, tandem.EINVALID, "application/json"},
		{"ErrUnknownConversation", "demo", jsonType, `{"user":"u1","text":"hi","conversation_id":"nope"}`, 404, tandem.ENOTFOUND, "nope"},
		{"ErrEngineConflict", "demo", jsonType, `{"user":"u1","text":"conflict"}`, 409, tandem.EDUPLICATE, "already stored"},
		{"ErrEngineInternal", "demo", jsonType, `{"user":"u1","text":"boom"}`, 500, tandem.EINTERNAL, "internal error"},
		{"ErrEngineNoTurn", "demo", jsonType, `{"user":"u1","text":"noturn"}`, 500, tandem.EINTERNAL, "internal error"},
		{"ErrPanic", "demo", jsonType, `{"user":"u1","text":"panic"}`, 500, tandem.EINTERNAL, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			rec := f.do(t, http.MethodPost, "/api/v1/bots/"+tt.bot+"/messages", tt.contentType, tt.body)
			if got := rec.Code; got != tt.status {
				t.Fatalf("status = %d, want %d; body %s", got, tt.status, rec.Body)
			}
			if got, want := rec.Header().Get("Content-Type"), "application/json; charset=utf-8"; got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
			if tt.status == 200 {
				return
			}
			e := decodeErrorBody(t, rec.Body.String())
			if e.Error.Code != tt.code {
				t.Errorf("error code = %q, want %q", e.Error.Code, tt.code)
			}
			if !strings.Contains(e.Error.Message, tt.message) {
				t.Errorf("error message = %q, want it to contain %q", e.Error.Message, tt.message)
			}
			if strings.Contains(rec.Body.String(), "secret") {
				t.Errorf("error body leaks internal details: %s", rec.Body)
			}
		})
	}
}

func TestPostMessageResponse(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		rec := f.do(t, http.MethodPost, "/api/v1/bots/demo/messages", jsonType,
			`{"user":"visitor-1","text":"  How long does shipping take?  ","message_id":"p-1"}`)
		if rec.Code != 200 {
			t.Fatalf("status = %d; body %s", rec.Code, rec.Body)
		}
		var got map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"conversation_id": "conv-1",
			"customer_id":     "cust-visitor-1",
			"message_id":      "msg-1",
			"language":        "en",
			"replies": []any{map[string]any{
				"text": "Standard shipping takes 3–5 business days.",
				"citations": []any{map[string]any{
					"doc_id": "shipping-policy", "title": "Shipping policy", "url": "https://help.example.com/shipping"}},
				"quick_replies": []any{map[string]any{"title": "Track my order", "payload": "Where is my order?"}},
			}},
			"intent":    map[string]any{"name": "shipping_time", "confidence": 0.9},
			"sentiment": map[string]any{"label": "neutral", "score": 0.0},
			"decision":  map[string]any{"kind": "knowledge", "reason": "answered from the knowledge base"},
			"handoff":   nil,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("response =\n%v\nwant\n%v", got, want)
		}
		in := f.engine.lastInbound()
		wantIn := tandem.Inbound{BotID: "demo", Channel: tandem.ChannelREST, ExternalID: "visitor-1",
			Text: "How long does shipping take?", ProviderID: "p-1", ReceivedAt: in.ReceivedAt}
		if in != wantIn || in.ReceivedAt.IsZero() {
			t.Errorf("engine got %+v, want %+v", in, wantIn)
		}
	})
	t.Run("OKRating", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		rec := f.do(t, http.MethodPost, "/api/v1/bots/demo/messages", jsonType, `{"user":"visitor-1","text":"4 stars"}`)
		var got web.PostMessageResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
			t.Fatalf("status %d, %v: %s", rec.Code, err, rec.Body)
		}
		if got.CSATScore != 4 || got.Decision == nil || got.Decision.Kind != tandem.DecisionSurvey {
			t.Errorf("response = %+v, want the rating 4 and decision survey", got)
		}
	})
	t.Run("OKDuplicate", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		body := `{"user":"u1","text":"hi","message_id":"p-9"}`
		first := f.do(t, http.MethodPost, "/api/v1/bots/demo/messages", jsonType, body)
		second := f.do(t, http.MethodPost, "/api/v1/bots/demo/messages", jsonType, body)
		if first.Code != 200 || second.Code != 200 {
			t.Fatalf("statuses = %d, %d; want 200, 200", first.Code, second.Code)
		}
		var a, b web.PostMessageResponse
		mustUnmarshal(t, first.Body.Bytes(), &a)
		mustUnmarshal(t, second.Body.Bytes(), &b)
		if a.Duplicate || !b.Duplicate {
			t.Errorf("duplicate = %v, %v; want false, true", a.Duplicate, b.Duplicate)
		}
		if b.ConversationID != a.ConversationID || len(b.Replies) != 0 || b.Replies == nil {
			t.Errorf("duplicate response = %+v, want same conversation and an empty replies array", b)
		}
		if !strings.Contains(second.Body.String(), `"replies":[]`) {
			t.Errorf("body %s: replies must be an empty array, not null", second.Body)
		}
	})
	t.Run("OKContinue", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		first := f.do(t, http.MethodPost, "/api/v1/bots/demo/messages", jsonType, `{"user":"u1","text":"hi"}`)
		var a web.PostMessageResponse
		mustUnmarshal(t, first.Body.Bytes(), &a)
		second := f.do(t, http.MethodPost, "/api/v1/bots/demo/messages", jsonType,
			`{"user":"u1","text":"human","conversation_id":"`+a.ConversationID+`"}`)
		var b web.PostMessageResponse
		mustUnmarshal(t, second.Body.Bytes(), &b)
		if b.ConversationID != a.ConversationID {
			t.Errorf("conversation = %q, want %q", b.ConversationID, a.ConversationID)
		}
		if b.Handoff == nil || b.Handoff.Queue != "support" || b.Decision == nil || b.Decision.Kind != tandem.DecisionHandoff {
			t.Errorf("handoff = %+v, decision = %+v; want the support queue and a handoff decision", b.Handoff, b.Decision)
		}
		if got := b.Replies[0].Citations; got == nil || len(got) != 0 {
			t.Errorf("citations = %#v, want an empty array", got)
		}
	})
}

func TestGetConversation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		path   string // appended to /api/v1/conversations/ ; "{id}" is replaced by a real id
		status int
		code   string
		roles  []tandem.Role
	}{
		{"OK", "{id}", 200, "", []tandem.Role{tandem.RoleCustomer, tandem.RoleBot, tandem.RoleCustomer, tandem.RoleBot}},
		{"OKLimit", "{id}?limit=1", 200, "", []tandem.Role{tandem.RoleBot}},
		{"OKSince", "{id}?since=2026-11-24T12:00:01Z", 200, "", []tandem.Role{tandem.RoleBot, tandem.RoleBot}},
		{"ErrNotFound", "nope", 404, tandem.ENOTFOUND, nil},
		{"ErrLimitZero", "{id}?limit=0", 400, tandem.EINVALID, nil},
		{"ErrLimitText", "{id}?limit=many", 400, tandem.EINVALID, nil},
		{"ErrSince", "{id}?since=yesterday", 400, tandem.EINVALID, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			var turn web.PostMessageResponse
			for _, text := range []string{"How long does shipping take?", "Where is my order?"} {
				body := `{"user":"u1","text":"` + text + `"`
				if turn.ConversationID != "" {
					body += `,"conversation_id":"` + turn.ConversationID + `"`
				}
				rec := f.do(t, http.MethodPost, "/api/v1/bots/demo/messages", jsonType, body+"}")
				mustUnmarshal(t, rec.Body.Bytes(), &turn)
			}
			rec := f.do(t, http.MethodGet, "/api/v1/conversations/"+strings.ReplaceAll(tt.path, "{id}", turn.ConversationID), "", "")
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				if e := decodeErrorBody(t, rec.Body.String()); e.Error.Code != tt.code {
					t.Errorf("code = %q, want %q", e.Error.Code, tt.code)
				}
				return
			}
			var got web.TranscriptResponse
			mustUnmarshal(t, rec.Body.Bytes(), &got)
			var roles []tandem.Role
			for _, m := range got.Messages {
				roles = append(roles, m.Role)
				if m.Text == "" || m.Time.IsZero() || m.Channel != tandem.ChannelREST {
					t.Errorf("message %+v lacks text, time or channel", m)
				}
			}
			if !reflect.DeepEqual(roles, tt.roles) {
				t.Errorf("roles = %v, want %v", roles, tt.roles)
			}
			if got.ID != turn.ConversationID || got.BotID != "demo" || got.Status != tandem.StatusOpen {
				t.Errorf("conversation = %+v", got)
			}
		})
	}

	t.Run("OKAnnotations", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		rec := f.do(t, http.MethodPost, "/api/v1/bots/demo/messages", jsonType, `{"user":"u1","text":"shipping?"}`)
		var turn web.PostMessageResponse
		mustUnmarshal(t, rec.Body.Bytes(), &turn)
		rec = f.do(t, http.MethodGet, "/api/v1/conversations/"+turn.ConversationID, "", "")
		var got web.TranscriptResponse
		mustUnmarshal(t, rec.Body.Bytes(), &got)
		if len(got.Messages) != 2 {
			t.Fatalf("messages = %d, want 2", len(got.Messages))
		}
		customer, bot := got.Messages[0], got.Messages[1]
		if customer.Intent == nil || customer.Intent.Name != "shipping_time" || customer.Sentiment == nil {
			t.Errorf("customer message intent/sentiment = %+v/%+v", customer.Intent, customer.Sentiment)
		}
		if bot.Decision == nil || bot.Decision.Kind != tandem.DecisionKnowledge {
			t.Errorf("bot decision = %+v, want knowledge", bot.Decision)
		}
		if !reflect.DeepEqual(bot.Citations, []tandem.Citation{shippingCitation}) {
			t.Errorf("bot citations = %+v", bot.Citations)
		}
		if customer.Citations != nil || customer.Decision != nil || bot.Intent != nil {
			t.Errorf("absent fields must stay absent: %+v %+v", customer, bot)
		}
	})
}

func TestMaxMessageBytesConfigurable(t *testing.T) {
	t.Parallel()
	f := setup(t, func(o *options) { o.cfg.MaxMessageBytes = 10 })
	tests := []struct {
		name   string
		text   string
		status int
	}{
		{"OK", "0123456789", 200},
		{"ErrTooLarge", "0123456789x", 413},
		{"ErrTooLargeMultibyte", "ééééééé", 413}, // 7 runes, 14 bytes
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := f.do(t, http.MethodPost, "/api/v1/bots/demo/messages", jsonType, `{"user":"u","text":"`+tt.text+`"}`)
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
		})
	}
}

func mustUnmarshal(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("unmarshal %s: %v", data, err)
	}
}
