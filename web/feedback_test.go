package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/teststore"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web"
)

// TestFeedbackAPI: POST /api/v1/messages/{id}/feedback rates a knowledge answer stored in a
// real store; voting again replaces the vote; bad requests get JSON errors and change
// nothing.
func TestFeedbackAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := teststore.All[0].Open(t)
	f := setup(t, func(o *options) { o.feedback = st })
	cust, _, err := st.ResolveIdentity(ctx, tandem.ChannelREST, "user-1")
	if err != nil {
		t.Fatal(err)
	}
	conv := &tandem.Conversation{BotID: "demo", CustomerID: cust.ID, Channel: tandem.ChannelREST, Status: tandem.StatusOpen}
	if err := st.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	q := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelREST, Text: "How long does shipping take?"}
	answer := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleBot, Channel: tandem.ChannelREST, Text: "3–5 days.",
		Citations: []tandem.Citation{shippingCitation}}
	plain := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleBot, Channel: tandem.ChannelREST, Text: "Hello!"}
	if err := st.RecordTurn(ctx, storage.TurnRecord{ConversationID: conv.ID, Inbound: q, Replies: []*tandem.Message{answer, plain}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.ResolveIdentity(ctx, tandem.ChannelREST, "user-2"); err != nil {
		t.Fatal(err)
	}
	url := "/api/v1/messages/" + answer.ID + "/feedback"
	vote := func() storage.RatedAnswer {
		t.Helper()
		got, err := st.ListAnswerFeedback(ctx, storage.AnswerFeedbackFilter{ConversationID: conv.ID})
		if err != nil || len(got) != 1 {
			t.Fatalf("votes = %+v, %v; want one", got, err)
		}
		return got[0]
	}

	t.Run("OK", func(t *testing.T) {
		rec := f.do(t, http.MethodPost, url, "application/json", `{"helpful":true}`)
		var resp web.FeedbackResponse
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &resp) != nil || !resp.Helpful ||
			resp.ConversationID != conv.ID || resp.CustomerID != cust.ID {
			t.Fatalf("status %d, body %s", rec.Code, rec.Body)
		}
		// Changing one's mind replaces the vote; "user" names the conversation's customer.
		rec = f.do(t, http.MethodPost, url, "application/json", `{"helpful":false,"comment":" too vague ","user":"user-1"}`)
		if rec.Code != http.StatusOK {
			t.Fatalf("second vote: status %d, body %s", rec.Code, rec.Body)
		}
		if v := vote(); v.Helpful || v.Comment != "too vague" || v.Question != q.Text {
			t.Errorf("stored vote = %+v", v)
		}
		if n := counter(t, f, "demo", "false"); n != 1 {
			t.Errorf("tandem_answer_feedback_total{bot=demo,helpful=false} = %v, want 1", n)
		}
	})

	tests := []struct {
		name, target, contentType, body string
		status                          int
		code                            string
	}{
		{"ErrUnknownMessage", "/api/v1/messages/no-such/feedback", "application/json", `{"helpful":true}`, http.StatusNotFound, tandem.ENOTFOUND},
		{"ErrNotKnowledgeAnswer", "/api/v1/messages/" + plain.ID + "/feedback", "application/json", `{"helpful":true}`, http.StatusBadRequest, tandem.EINVALID},
		{"ErrCustomerMessage", "/api/v1/messages/" + q.ID + "/feedback", "application/json", `{"helpful":true}`, http.StatusBadRequest, tandem.EINVALID},
		{"ErrOtherUser", url, "application/json", `{"helpful":true,"user":"user-2"}`, http.StatusForbidden, tandem.EFORBIDDEN},
		{"ErrUnknownUser", url, "application/json", `{"helpful":true,"user":"nobody"}`, http.StatusForbidden, tandem.EFORBIDDEN},
		{"ErrNoHelpful", url, "application/json", `{"comment":"x"}`, http.StatusBadRequest, tandem.EINVALID},
		{"ErrHelpfulString", url, "application/json", `{"helpful":"yes"}`, http.StatusBadRequest, tandem.EINVALID},
		{"ErrUnknownField", url, "application/json", `{"helpful":true,"stars":5}`, http.StatusBadRequest, tandem.EINVALID},
		{"ErrMalformed", url, "application/json", `{"helpful":`, http.StatusBadRequest, tandem.EINVALID},
		{"ErrCommentTooLong", url, "application/json", `{"helpful":true,"comment":"` + strings.Repeat("x", tandem.MaxFeedbackCommentBytes+1) + `"}`,
			http.StatusRequestEntityTooLarge, tandem.ETOOLARGE},
		{"ErrContentType", url, "text/plain", `{"helpful":true}`, http.StatusUnsupportedMediaType, tandem.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.do(t, http.MethodPost, tt.target, tt.contentType, tt.body)
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if rec.Code != tt.status || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Code != tt.code || e.Error.Message == "" {
				t.Errorf("status %d, body %s; want %d %s", rec.Code, rec.Body, tt.status, tt.code)
			}
			if v := vote(); v.Helpful || v.Comment != "too vague" {
				t.Errorf("a refused vote changed the stored one: %+v", v)
			}
		})
	}
	t.Run("ErrMethod", func(t *testing.T) {
		if rec := f.do(t, http.MethodGet, url, "", ""); rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("GET: status %d", rec.Code)
		}
	})
}

// counter reads tandem_answer_feedback_total{bot,helpful}.
func counter(t *testing.T, f *fixture, bot, helpful string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "tandem_answer_feedback_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["bot"] == bot && labels["helpful"] == helpful {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
