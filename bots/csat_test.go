package bots_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
)

// handedOffAndClosed hands the customer's conversation to an agent, who closes the ticket:
// the demo bot asks its CSAT question. It returns the conversation and the ticket.
func handedOffAndClosed(t *testing.T, f *fixture, ch tandem.Channel, who string) (string, string) {
	t.Helper()
	ctx := context.Background()
	turn := f.say(t, ch, who, "agent please")
	if turn.Handoff == nil {
		t.Fatalf("no handoff: %+v", turn.Decision)
	}
	agent, err := handoff.SignIn(ctx, f.store, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := handoff.Claim(ctx, f.store, turn.Handoff.TicketID, agent.ID, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := handoff.Close(ctx, f.store, turn.Handoff.TicketID, agent.ID, f.clock.Now(), f.engine.Bots().Survey); err != nil {
		t.Fatal(err)
	}
	msgs, err := f.store.ListMessages(ctx, turn.ConversationID, storage.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(msgs, func(m tandem.Message) bool { return m.Text == bots.DefaultCSATQuestion && m.Role == tandem.RoleBot }) {
		t.Fatalf("messages %+v, want the CSAT question", msgs)
	}
	return turn.ConversationID, turn.Handoff.TicketID
}

func TestCSATSurvey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name   string
		ch     tandem.Channel
		wait   time.Duration // before the answer
		answer string
		score  int // 0: not taken as a rating
		kind   tandem.DecisionKind
		note   string // in the decision's reason
	}{
		{"OKRatingWebChat", tandem.ChannelWebChat, time.Minute, "4/5", 4, tandem.DecisionSurvey, "rated ticket"},
		{"OKRatingSMS", tandem.ChannelSMS, time.Hour, "great!", 5, tandem.DecisionSurvey, "rated ticket"},
		{"OKStars", tandem.ChannelSMS, time.Minute, "⭐⭐", 2, tandem.DecisionSurvey, "rated ticket"},
		{"OKNotRating", tandem.ChannelSMS, time.Minute, "how long does shipping take?", 0, tandem.DecisionKnowledge, "dropped: the message is not a rating"},
		{"OKOutOfRange", tandem.ChannelWebChat, time.Minute, "6", 0, tandem.DecisionFallback, "dropped"},
		{"OKExpired", tandem.ChannelSMS, 25 * time.Hour, "5", 0, tandem.DecisionFallback, "expired after 24h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			who := "+15550100142"
			if tt.ch == tandem.ChannelWebChat {
				who = "visitor-42"
			}
			convID, ticketID := handedOffAndClosed(t, f, tt.ch, who)
			f.clock.Add(tt.wait)
			turn := f.say(t, tt.ch, who, tt.answer)
			if turn.Decision.Kind != tt.kind || !strings.Contains(turn.Decision.Reason, tt.note) || turn.CSATScore != tt.score {
				t.Fatalf("answer turn: %s %q score %d; want %s with %q, score %d", turn.Decision.Kind, turn.Decision.Reason, turn.CSATScore, tt.kind, tt.note, tt.score)
			}
			if turn.ConversationID != convID {
				t.Errorf("the answer went to conversation %s, want %s (the surveyed one)", turn.ConversationID, convID)
			}
			conv, err := f.store.FindConversationByID(ctx, convID)
			if err != nil {
				t.Fatal(err)
			}
			stats, err := f.store.CSATStats(ctx, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			audit, err := f.store.ListAudit(ctx, storage.AuditFilter{Action: tandem.AuditCSATResponse})
			if err != nil {
				t.Fatal(err)
			}
			if tt.score == 0 {
				if conv.Status != tandem.StatusOpen || len(stats.ByQueue) != 0 || len(audit) != 0 {
					t.Errorf("not a rating: conversation %s, stats %+v, audit %+v; want open, none", conv.Status, stats, audit)
				}
				return
			}
			if joined(turn) != bots.DefaultCSATThanks+"\n" || conv.Status != tandem.StatusClosed {
				t.Errorf("rating turn said %q, conversation %s; want the thanks, closed", joined(turn), conv.Status)
			}
			if want := []storage.CSATGroup{{Key: "support", Count: 1, Sum: tt.score}}; len(stats.ByQueue) != 1 || stats.ByQueue[0] != want[0] {
				t.Errorf("stats by queue = %+v, want %+v", stats.ByQueue, want)
			}
			if len(audit) != 1 || audit[0].Subject != ticketID || audit[0].Detail["score"] != string(rune('0'+tt.score)) {
				t.Errorf("audit = %+v", audit)
			}
			// The rating skipped NLU: its message carries no annotations.
			msgs, err := f.store.ListMessages(ctx, convID, storage.MessageFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if rated := msgs[len(msgs)-2]; rated.Text != tt.answer || rated.Annotations != nil {
				t.Errorf("rating message = %+v, want %q without annotations", rated, tt.answer)
			}
			if tt.ch.Pushed() {
				thanks := msgs[len(msgs)-1]
				if d, err := f.store.FindDelivery(ctx, thanks.ID); err != nil || d.Reply.Text != bots.DefaultCSATThanks || d.To != who {
					t.Errorf("thanks delivery = %+v, %v", d, err)
				}
			}
			// The same answer again is a new conversation's first message, not a rating.
			again := f.say(t, tt.ch, who, tt.answer)
			if again.Decision.Kind == tandem.DecisionSurvey || again.ConversationID == convID {
				t.Errorf("second answer: %s in %s", again.Decision.Kind, again.ConversationID)
			}
			if stats, err := f.store.CSATStats(ctx, time.Time{}); err != nil || stats.ByQueue[0].Count != 1 {
				t.Errorf("stats after a second answer = %+v, %v; want one rating", stats, err)
			}
		})
	}
}
