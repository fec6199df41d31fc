package webchat_test

import (
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors/webchat"
)

// rate sends a feedback frame and returns the answer.
func (c *client) rate(messageID string, helpful bool) frame {
	c.t.Helper()
	b, _ := json.Marshal(map[string]any{"type": "feedback", "message_id": messageID, "helpful": helpful})
	c.send(websocket.MessageText, string(b))
	return c.next()
}

// TestFeedback: a visitor rates the bot's knowledge answers in their conversation; voting
// again replaces the vote, which the transcript carries after a reconnect. A vote the
// store refuses gets an error frame naming the message and changes nothing.
func TestFeedback(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var observed []tandem.AnswerFeedback
	seen := func() []tandem.AnswerFeedback {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(observed)
	}
	f := setup(t, func(c *webchat.Config) {
		c.ObserveFeedback = func(v tandem.AnswerFeedback) {
			mu.Lock()
			defer mu.Unlock()
			observed = append(observed, v)
		}
	})
	jar := newJar(t)
	c, _ := f.dial(t, jar, "bot=demo")
	turn := c.say("how long is shipping?", "1")
	if turn.Type != "turn" || len(turn.Replies) != 1 || turn.Replies[0].ID == "" {
		t.Fatalf("turn = %+v, want one reply with its message id", turn)
	}
	if st := c.next(); st.Type != "status" { // the first message opened the conversation
		t.Fatalf("after the first turn got %+v, want its status", st)
	}
	answer := turn.Replies[0].ID
	f.world.mu.Lock()
	plain := f.world.add(turn.ConversationID, tandem.Message{Role: tandem.RoleBot, Text: "Hello!"}) // cites nothing
	f.world.mu.Unlock()

	t.Run("OK", func(t *testing.T) {
		if got := c.rate(answer, true); got.Type != "feedback" || got.MessageID != answer || got.Helpful == nil || !*got.Helpful {
			t.Fatalf("answer = %+v, want the vote confirmed", got)
		}
		// Changing one's mind replaces the vote.
		if got := c.rate(answer, false); got.Type != "feedback" || *got.Helpful {
			t.Fatalf("second answer = %+v", got)
		}
		v, ok := f.world.vote(answer)
		if !ok || v.Helpful || v.CustomerID != "cust-"+f.world.inbound()[0].ExternalID {
			t.Errorf("stored vote = %+v, %v", v, ok)
		}
		if o := seen(); len(o) != 2 || o[1].BotID != "demo" || o[1].Helpful {
			t.Errorf("observed = %+v, want both votes, the last not helpful", o)
		}
		// A new tab shows the chosen state.
		_, tr := f.dial(t, jar, "bot=demo")
		var found bool
		for _, m := range tr.Messages {
			switch {
			case m.ID == answer:
				found = m.Helpful != nil && !*m.Helpful
			case m.Helpful != nil:
				t.Errorf("message %s carries a vote it never got", m.ID)
			}
		}
		if !found {
			t.Errorf("transcript %+v does not carry the vote on %s", tr.Messages, answer)
		}
	})

	other, _ := f.dial(t, newJar(t), "bot=demo")
	stranger, _ := f.dial(t, newJar(t), "bot=demo")
	other.say("and returns?", "1") // the other visitor has a conversation of their own
	other.next()                   // and its status
	question := customerMessage(t, f, turn.ConversationID)
	tests := []struct {
		name    string
		c       *client
		message string
		code    string
		wantID  string // the message id the error frame names
	}{
		{"ErrUnknownMessage", c, "m999", tandem.ENOTFOUND, "m999"},
		{"ErrOtherCustomer", other, answer, tandem.EFORBIDDEN, answer},
		{"ErrNoConversation", stranger, answer, tandem.ENOTFOUND, answer},
		{"ErrNotKnowledgeAnswer", c, plain.ID, tandem.EINVALID, plain.ID},
		{"ErrCustomerMessage", c, question, tandem.EINVALID, question},
		{"ErrMalformedID", c, "m 1", tandem.EINVALID, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.c.rate(tt.message, true)
			if got.Type != "error" || got.Code != tt.code || got.MessageID != tt.wantID || len(got.Message) < 3 {
				t.Errorf("answer = %+v %s, want error %q about %q", got, got.Message, tt.code, tt.wantID)
			}
			if v, _ := f.world.vote(answer); v.Helpful {
				t.Errorf("the refused vote changed the stored one: %+v", v)
			}
			if _, ok := f.world.vote(tt.message); ok && tt.message != answer {
				t.Errorf("a refused vote was stored on %s", tt.message)
			}
			if ok := tt.c.say("still there?", tt.name); ok.Type != "turn" {
				t.Errorf("after the refused vote got %+v, want the socket to keep working", ok)
			}
		})
	}
	t.Run("ErrNoHelpful", func(t *testing.T) {
		c.send(websocket.MessageText, `{"type":"feedback","message_id":"`+answer+`"}`)
		if got := c.next(); got.Type != "error" || got.Code != tandem.EINVALID || got.MessageID != answer {
			t.Errorf("answer = %+v", got)
		}
		if o := seen(); len(o) != 2 {
			t.Errorf("refused votes were observed: %+v", o)
		}
	})
}

// customerMessage returns the id of the first customer message of conv.
func customerMessage(t *testing.T, f *fixture, conv string) string {
	t.Helper()
	f.world.mu.Lock()
	defer f.world.mu.Unlock()
	for _, m := range f.world.msgs[conv] {
		if m.Role == tandem.RoleCustomer {
			return m.ID
		}
	}
	t.Fatal("no customer message")
	return ""
}
