package bots_test

import (
	"context"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/teststore"
	"github.com/tandemhq/tandem/storage"
)

// TestTurnDeliveries checks that replies on channels whose messages are pushed (SMS, Slack,
// ...) are put in the outbox with the turn, addressed to the identity the customer wrote
// from, and that replies returned to the caller (REST) are not.
func TestTurnDeliveries(t *testing.T) {
	t.Parallel()
	for _, b := range teststore.All {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			f := setupStore(t, b.Open(t))
			ctx := context.Background()

			turn := f.say(t, tandem.ChannelSMS, "+15550100", "hello")
			if len(turn.Replies) == 0 {
				t.Fatal("no replies")
			}
			msgs, err := f.store.ListMessages(ctx, turn.ConversationID, storage.MessageFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var bot []tandem.Message
			for _, m := range msgs {
				if m.Role == tandem.RoleBot {
					bot = append(bot, m)
				}
			}
			if len(bot) != len(turn.Replies) {
				t.Fatalf("%d bot messages for %d replies", len(bot), len(turn.Replies))
			}
			for i, m := range bot {
				d, err := f.store.FindDelivery(ctx, m.ID)
				if err != nil {
					t.Fatalf("reply %q has no delivery: %v", m.Text, err)
				}
				if d.Channel != tandem.ChannelSMS || d.To != "+15550100" || d.BotID != "demo" || d.Status != tandem.DeliveryPending ||
					d.Reply.Text != turn.Replies[i].Text || len(d.Reply.QuickReplies) != len(turn.Replies[i].QuickReplies) {
					t.Errorf("delivery = %+v, want reply %+v to +15550100 on sms", d, turn.Replies[i])
				}
			}

			rest := f.say(t, tandem.ChannelREST, "visitor-1", "hello")
			msgs, err = f.store.ListMessages(ctx, rest.ConversationID, storage.MessageFilter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				if _, err := f.store.FindDelivery(ctx, m.ID); tandem.ErrorCode(err) != tandem.ENOTFOUND {
					t.Errorf("REST message %q has a delivery (err %v); REST replies go to the caller", m.Text, err)
				}
			}
		})
	}
}
