package handoff_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
)

func closeNoSurvey(ctx context.Context, s handoff.DeskStore, ticketID, agentID string, now time.Time) error {
	return handoff.Close(ctx, s, ticketID, agentID, now, nil)
}

func TestParseRating(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		score int
		ok    bool
	}{
		{"4", 4, true},
		{" 5 ", 5, true},
		{"1", 1, true},
		{"4/5", 4, true},
		{"4 / 5", 4, true},
		{"3 out of 5", 3, true},
		{"5 stars", 5, true},
		{"1 star", 1, true},
		{"5!", 5, true},
		{"Great", 5, true},
		{"great!", 5, true},
		{"very good", 5, true},
		{"good", 4, true},
		{"meh", 3, true},
		{"bad", 2, true},
		{"terrible.", 1, true},
		{"⭐⭐⭐⭐", 4, true},
		{"★★", 2, true},
		{"4 ⭐", 4, true},
		{"👍", 5, true},
		{"👍️", 5, true}, // with the emoji presentation selector
		{"👎", 1, true},
		{"6", 0, false},
		{"0", 0, false},
		{"10", 0, false},
		{"3.5", 0, false},
		{"-1", 0, false},
		{"4/10", 0, false},
		{"⭐⭐⭐⭐⭐⭐", 0, false},
		{"I want a refund", 0, false},
		{"where is my order?", 0, false},
		{"good morning", 0, false},
		{"ok", 0, false},
		{"", 0, false},
		{"   ", 0, false},
	}
	for _, tt := range tests {
		score, ok := handoff.ParseRating(tt.in)
		if score != tt.score || ok != tt.ok {
			t.Errorf("ParseRating(%q) = %d, %v; want %d, %v", tt.in, score, ok, tt.score, tt.ok)
		}
	}
}

func FuzzParseRating(f *testing.F) {
	for _, s := range []string{"4", "5 stars", "great", "⭐⭐", "👍", "I want a refund", "6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		score, ok := handoff.ParseRating(s)
		if ok != (score >= 1 && score <= 5) {
			t.Fatalf("ParseRating(%q) = %d, %v", s, score, ok)
		}
	})
}

const question = "How did we do? Reply with a number from 1 (bad) to 5 (great)."

func surveys(botID string) string {
	if botID == "demo" {
		return question
	}
	return ""
}

// testCloseSurvey checks that closing a ticket of a bot that surveys gives the conversation
// back to the bot with the survey pending and the question stored, and in the outbox on a
// pushed channel (SMS) but not on the web chat.
func testCloseSurvey(t *testing.T, open func(testing.TB) storage.Store) {
	tests := []struct {
		name    string
		ch      tandem.Channel
		ext     string
		surveys handoff.Surveys
		asked   bool
	}{
		{"OKWebChat", tandem.ChannelWebChat, "web-7", surveys, true},
		{"OKSMS", tandem.ChannelSMS, "+15550199", surveys, true},
		{"OKBotAsksNone", tandem.ChannelSMS, "+15550198", func(string) string { return "" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := open(t)
			d := setupDeskOn(t, st, tt.ch, tt.ext)
			if _, err := handoff.Claim(ctx, st, d.ticket.ID, d.ann.ID, t0); err != nil {
				t.Fatal(err)
			}
			closedAt := t0.Add(time.Minute)
			if err := handoff.Close(ctx, st, d.ticket.ID, d.ann.ID, closedAt, tt.surveys); err != nil {
				t.Fatal(err)
			}
			tk, err := st.FindTicketByID(ctx, d.ticket.ID)
			if err != nil || tk.Status != tandem.TicketClosed {
				t.Fatalf("ticket = %+v, %v; want closed", tk, err)
			}
			conv, err := st.FindConversationByID(ctx, d.conv.ID)
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := st.ListMessages(ctx, d.conv.ID, storage.MessageFilter{})
			if err != nil {
				t.Fatal(err)
			}
			deliveries, err := st.ListDeliveries(ctx, storage.DeliveryFilter{})
			if err != nil {
				t.Fatal(err)
			}
			audit := d.audit(t, handoff.ActionClose)
			if len(audit) != 1 {
				t.Fatalf("close audit = %+v", audit)
			}
			if !tt.asked {
				if conv.Status != tandem.StatusClosed || len(msgs) != 0 || len(deliveries) != 0 {
					t.Errorf("not asked: conversation %s, %d messages, %d deliveries; want closed, none", conv.Status, len(msgs), len(deliveries))
				}
				return
			}
			if conv.Status != tandem.StatusOpen {
				t.Errorf("conversation %s, want open (the bot awaits the answer)", conv.Status)
			}
			var state struct {
				CSAT handoff.PendingSurvey `json:"csat"`
			}
			if err := json.Unmarshal(conv.State, &state); err != nil {
				t.Fatal(err)
			}
			want := handoff.PendingSurvey{TicketID: d.ticket.ID, Queue: "support", AgentID: d.ann.ID, AskedAt: closedAt}
			if state.CSAT != want {
				t.Errorf("pending survey = %+v, want %+v", state.CSAT, want)
			}
			if len(msgs) != 1 || msgs[0].Role != tandem.RoleBot || msgs[0].Text != question || msgs[0].Decision == nil || msgs[0].Decision.Kind != tandem.DecisionSurvey {
				t.Fatalf("messages = %+v, want the question", msgs)
			}
			if audit[0].Detail["survey_message_id"] != msgs[0].ID {
				t.Errorf("close audit = %+v", audit[0])
			}
			switch {
			case tt.ch.Pushed() && (len(deliveries) != 1 || deliveries[0].MessageID != msgs[0].ID || deliveries[0].To != tt.ext || deliveries[0].Reply.Text != question):
				t.Errorf("deliveries = %+v, want the question to %s", deliveries, tt.ext)
			case !tt.ch.Pushed() && len(deliveries) != 0:
				t.Errorf("web chat deliveries = %+v, want none", deliveries)
			}
		})
	}
}
