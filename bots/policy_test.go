package bots_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/bots/demo"
	"github.com/tandemhq/tandem/internal/teststore"
	"github.com/tandemhq/tandem/storage"
)

func TestHandleMessageErrors(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tests := []struct {
		name string
		in   tandem.Inbound
		code string
	}{
		{"ErrUnknownBot", tandem.Inbound{BotID: "nope", Channel: tandem.ChannelSMS, ExternalID: "x", Text: "hi"}, tandem.ENOTFOUND},
		{"ErrEmptyText", tandem.Inbound{BotID: "demo", Channel: tandem.ChannelSMS, ExternalID: "x", Text: "  "}, tandem.EINVALID},
		{"ErrNoIdentity", tandem.Inbound{BotID: "demo", Channel: tandem.ChannelSMS, Text: "hi"}, tandem.EINVALID},
		{"ErrForeignConversation", tandem.Inbound{BotID: "demo", Channel: tandem.ChannelSMS, ExternalID: "y", Text: "hi",
			ConversationID: f.say(t, tandem.ChannelSMS, "x", "hi").ConversationID}, tandem.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.engine.HandleMessage(context.Background(), tt.in)
			if got := tandem.ErrorCode(err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
		})
	}
}

func TestDuplicateProviderID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t)
	in := tandem.Inbound{BotID: "demo", Channel: tandem.ChannelSMS, ExternalID: phone, Text: "hi", ProviderID: "SM123"}
	first, err := f.engine.HandleMessage(ctx, in)
	if err != nil || first.Duplicate || len(first.Replies) == 0 {
		t.Fatalf("first = %+v, %v", first, err)
	}
	again, err := f.engine.HandleMessage(ctx, in)
	if err != nil || !again.Duplicate || len(again.Replies) != 0 || again.Decision.Kind != tandem.DecisionDuplicate {
		t.Fatalf("retry = %+v, %v", again, err)
	}
	msgs, err := f.store.ListMessages(ctx, first.ConversationID, storage.MessageFilter{})
	if err != nil || len(msgs) != 1+len(first.Replies) {
		t.Fatalf("messages = %d, %v; want the retry dropped", len(msgs), err)
	}
	if msgs[0].Annotations == nil || msgs[1].Decision == nil || msgs[1].Decision.Reason == "" {
		t.Fatalf("stored turn lacks annotations or decision: %+v", msgs[:2])
	}
}

func TestHandoffTriggers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		profile map[string]string
		msgs    []string
		reason  string // substring of the handoff reason
	}{
		{"OKVIP", map[string]string{"tier": "gold"}, []string{"hi"}, "VIP customer (tier=gold)"},
		{"OKNegativeTrend", nil, []string{"this is terrible, my order is late again", "awful service, I am furious and angry", "worst store ever, I hate this, useless"}, "negative sentiment trend"},
		{"OKRequested", nil, []string{"agent please"}, "customer asked for a human"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			if tt.profile != nil {
				c, _, err := f.store.ResolveIdentity(ctx, tandem.ChannelSMS, phone)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.store.UpdateCustomer(ctx, c.ID, storage.CustomerUpdate{Profile: tt.profile}); err != nil {
					t.Fatal(err)
				}
			}
			var last *tandem.Turn
			for _, m := range tt.msgs {
				last = f.say(t, tandem.ChannelSMS, phone, m)
				if last.Handoff != nil {
					break
				}
			}
			if last.Handoff == nil || last.Decision.Kind != tandem.DecisionHandoff {
				t.Fatalf("no handoff: %s %q", last.Decision.Kind, last.Decision.Reason)
			}
			if !strings.Contains(last.Handoff.Reason, tt.reason) || last.Handoff.Queue != "support" {
				t.Fatalf("handoff = %+v, want reason with %q", last.Handoff, tt.reason)
			}
			ticket, err := f.store.FindActiveTicket(ctx, last.ConversationID)
			if err != nil || ticket.ID != last.Handoff.TicketID {
				t.Fatalf("ticket = %+v, %v", ticket, err)
			}
			// While the human has it, the bot stays silent.
			relay := f.say(t, tandem.ChannelSMS, phone, "hello?")
			if relay.Decision.Kind != tandem.DecisionRelay || len(relay.Replies) != 0 {
				t.Fatalf("relay turn = %+v", relay)
			}
			// Returned to the bot, it answers again (and a VIP is not bounced straight back).
			if err := f.engine.ReturnToBot(ctx, last.ConversationID, "agent:a1"); err != nil {
				t.Fatal(err)
			}
			back := f.say(t, tandem.ChannelSMS, phone, "how long does shipping take?")
			if back.Decision.Kind != tandem.DecisionKnowledge || back.ConversationID != last.ConversationID {
				t.Fatalf("after return: %s %q", back.Decision.Kind, back.Decision.Reason)
			}
			tk, err := f.store.FindTicketByID(ctx, ticket.ID)
			if err != nil || tk.Status != tandem.TicketReturned {
				t.Fatalf("ticket after return = %+v, %v", tk, err)
			}
		})
	}
}

func TestFlowExpires(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.say(t, tandem.ChannelWebChat, "v", "I want to return something")
	f.clock.Add(31 * time.Minute)
	turn := f.say(t, tandem.ChannelWebChat, "v", "how long does shipping take?")
	if turn.Decision.Kind != tandem.DecisionKnowledge || !strings.Contains(turn.Decision.Reason, "expired") {
		t.Fatalf("turn = %s %q", turn.Decision.Kind, turn.Decision.Reason)
	}
	// The expired flow does not swallow an order number any more.
	if again := f.say(t, tandem.ChannelWebChat, "v", "A100001"); again.Decision.Kind == tandem.DecisionFlow {
		t.Fatalf("expired flow continued: %q", again.Decision.Reason)
	}
}

// TestConcurrentMessagesOneConversation: messages a customer sends at once land in one
// conversation and none of their turns is lost.
func TestConcurrentMessagesOneConversation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t)
	const n = 8
	ids := make(chan string, n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			turn, err := f.engine.HandleMessage(ctx, tandem.Inbound{BotID: "demo", Channel: tandem.ChannelSMS, ExternalID: phone,
				Text: "how long does shipping take?", ProviderID: "m" + string(rune('a'+i))})
			if err != nil {
				errs <- err
				return
			}
			ids <- turn.ConversationID
		}()
	}
	seen := map[string]bool{}
	for range n {
		select {
		case err := <-errs:
			t.Fatal(err)
		case id := <-ids:
			seen[id] = true
		}
	}
	if len(seen) != 1 {
		t.Fatalf("%d conversations, want 1", len(seen))
	}
	for id := range seen {
		msgs, err := f.store.ListMessages(ctx, id, storage.MessageFilter{})
		if err != nil || len(msgs) != 2*n {
			t.Fatalf("messages = %d, %v; want %d", len(msgs), err, 2*n)
		}
	}
}

// deskRecorder is an in-process Desk that records what the engine told it.
type deskRecorder struct {
	mu      sync.Mutex
	msgs    []string
	tickets []string
}

func (r *deskRecorder) TicketOpened(ctx context.Context, conv *tandem.Conversation, ticketID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tickets = append(r.tickets, conv.ID+": "+ticketID)
	return nil
}

func (r *deskRecorder) Relay(ctx context.Context, conv *tandem.Conversation, msg *tandem.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, conv.ID+": "+msg.Text)
	return nil
}

func TestDeskDuringHandoff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := teststore.All[0].Open(t)
	rec := &deskRecorder{}
	reg := bots.NewRegistry(bots.RegistryConfig{NLU: sharedNLU})
	if _, err := reg.LoadFS(ctx, demo.FS, demo.Root); err != nil {
		t.Fatal(err)
	}
	e := bots.New(st, reg, bots.WithDesk(rec))
	say := func(text string) *tandem.Turn {
		turn, err := e.HandleMessage(ctx, tandem.Inbound{BotID: "demo", Channel: tandem.ChannelSMS, ExternalID: phone, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return turn
	}
	say("hi")
	h := say("I want to talk to a human")
	say("my order never arrived")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if want := h.ConversationID + ": my order never arrived"; len(rec.msgs) != 1 || rec.msgs[0] != want {
		t.Fatalf("relayed %q, want only %q", rec.msgs, want)
	}
	if h.Handoff == nil {
		t.Fatal("no handoff")
	}
	if want := h.ConversationID + ": " + h.Handoff.TicketID; len(rec.tickets) != 1 || rec.tickets[0] != want {
		t.Fatalf("desk told of tickets %q, want only %q", rec.tickets, want)
	}
}
