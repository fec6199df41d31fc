package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// testResolveTurn checks that ResolveTurn answers as ResolveIdentity then
// FindOpenConversation would.
func testResolveTurn(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	t.Run("NewIdentity", func(t *testing.T) {
		t.Parallel()
		ts, err := s.ResolveTurn(ctx, "bot", tandem.ChannelSMS, "+15550900")
		must(t, err)
		if ts.Customer == nil || ts.Identity == nil || ts.Identity.CustomerID != ts.Customer.ID || ts.Conversation != nil {
			t.Fatalf("turn start = %+v", ts)
		}
		cust, ident := resolve(t, s, tandem.ChannelSMS, "+15550900")
		if cust.ID != ts.Customer.ID || ident.ID != ts.Identity.ID {
			t.Errorf("ResolveIdentity = %s/%s after ResolveTurn made %s/%s", cust.ID, ident.ID, ts.Customer.ID, ts.Identity.ID)
		}
	})
	t.Run("OpenConversation", func(t *testing.T) {
		t.Parallel()
		cust, ident := resolve(t, s, tandem.ChannelSMS, "+15550901")
		// older is closed after newer's time: updated later, and still not the open one.
		older := &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusOpen, CreatedAt: when}
		must(t, s.CreateConversation(ctx, older))
		_, err := s.UpdateConversation(ctx, older.ID, storage.ConversationUpdate{Status: ptr(tandem.StatusClosed)})
		must(t, err)
		newer := &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelWebChat, Status: tandem.StatusHandoff,
			State: []byte("state"), CreatedAt: when.Add(time.Hour)}
		must(t, s.CreateConversation(ctx, newer))
		must(t, s.CreateConversation(ctx, &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusClosed, CreatedAt: when.Add(2 * time.Hour)}))
		must(t, s.CreateConversation(ctx, &tandem.Conversation{BotID: "other", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusOpen, CreatedAt: when.Add(3 * time.Hour)}))
		ts, err := s.ResolveTurn(ctx, "bot", tandem.ChannelSMS, "+15550901")
		must(t, err)
		if ts.Customer.ID != cust.ID || ts.Identity.ID != ident.ID || ts.Customer.Profile == nil {
			t.Errorf("customer %+v, identity %+v; want %s, %s", ts.Customer, ts.Identity, cust.ID, ident.ID)
		}
		c := ts.Conversation
		if c == nil {
			t.Fatalf("no conversation, want the not-closed %s", newer.ID)
		}
		if c.ID != newer.ID || c.BotID != "bot" || c.CustomerID != cust.ID || c.Channel != tandem.ChannelWebChat ||
			c.Status != tandem.StatusHandoff || string(c.State) != "state" {
			t.Errorf("conversation = %+v, want %+v", c, newer)
		}
		wantTime(t, "CreatedAt", c.CreatedAt, when.Add(time.Hour))
		wantTime(t, "UpdatedAt", c.UpdatedAt, when.Add(time.Hour))
	})
	t.Run("OnlyClosed", func(t *testing.T) {
		t.Parallel()
		cust, _ := resolve(t, s, tandem.ChannelSMS, "+15550902")
		must(t, s.CreateConversation(ctx, &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusClosed}))
		ts, err := s.ResolveTurn(ctx, "bot", tandem.ChannelSMS, "+15550902")
		must(t, err)
		if ts.Customer.ID != cust.ID || ts.Conversation != nil {
			t.Errorf("turn start = %+v, want customer %s and no conversation", ts, cust.ID)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		t.Parallel()
		_, err := s.ResolveTurn(ctx, "bot", tandem.ChannelSMS, "")
		wantCode(t, err, tandem.EINVALID)
	})
}
