package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// testLookups checks that the look-ups of every turn (ResolveIdentity, FindOpenConversation)
// see each committed write at once, and that changing what they return changes nothing
// stored: a store may answer them from a cache, and these are the ways a cache goes stale.
func testLookups(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	t.Run("ResolveIdentity/AfterUpdateCustomer", func(t *testing.T) {
		t.Parallel()
		c, _ := resolve(t, s, tandem.ChannelWebChat, "lookup-profile")
		c.Profile["tier"] = "changed by caller"
		again, _ := resolve(t, s, tandem.ChannelWebChat, "lookup-profile")
		if len(again.Profile) != 0 {
			t.Fatalf("profile after caller's change = %v, want empty", again.Profile)
		}
		_, err := s.UpdateCustomer(ctx, c.ID, storage.CustomerUpdate{DisplayName: ptr("Ada"), Profile: map[string]string{"tier": "gold"}})
		must(t, err)
		got, _ := resolve(t, s, tandem.ChannelWebChat, "lookup-profile")
		if got.DisplayName != "Ada" || got.Profile["tier"] != "gold" {
			t.Errorf("after update: %+v", got)
		}
	})
	t.Run("FindOpenConversation/AfterWrites", func(t *testing.T) {
		t.Parallel()
		cust, _ := resolve(t, s, tandem.ChannelWebChat, "lookup-conv")
		find := func() *tandem.Conversation {
			t.Helper()
			c, err := s.FindOpenConversation(ctx, "bot", cust.ID)
			if tandem.ErrorCode(err) == tandem.ENOTFOUND {
				return nil
			}
			must(t, err)
			return c
		}
		if find() != nil {
			t.Fatal("open conversation before any")
		}
		a := &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelWebChat, Status: tandem.StatusOpen, CreatedAt: when}
		must(t, s.CreateConversation(ctx, a))
		if got := find(); got == nil || got.ID != a.ID {
			t.Fatalf("after create: %+v, want %s", got, a.ID)
		}
		must(t, s.RecordTurn(ctx, storage.TurnRecord{ConversationID: a.ID, Update: storage.ConversationUpdate{State: []byte(`{"turns":1}`)}}))
		got := find()
		if got == nil || string(got.State) != `{"turns":1}` {
			t.Fatalf("after turn: %+v", got)
		}
		got.State[2] = 'X'
		if got := find(); string(got.State) != `{"turns":1}` {
			t.Errorf("state after caller's change = %s", got.State)
		}
		// Closed by a turn: the customer has no open conversation until b is created.
		must(t, s.RecordTurn(ctx, storage.TurnRecord{ConversationID: a.ID, Update: storage.ConversationUpdate{Status: ptr(tandem.StatusClosed)}}))
		if got := find(); got != nil {
			t.Fatalf("after closing a: %+v", got)
		}
		b := &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusOpen, CreatedAt: time.Now().Add(time.Hour)}
		must(t, s.CreateConversation(ctx, b))
		if got := find(); got == nil || got.ID != b.ID {
			t.Fatalf("after create: %+v, want %s", got, b.ID)
		}
		// Reopening a while b is open is refused and changes no look-up.
		_, err := s.UpdateConversation(ctx, a.ID, storage.ConversationUpdate{Status: ptr(tandem.StatusOpen)})
		wantCode(t, err, tandem.EDUPLICATE)
		if got := find(); got == nil || got.ID != b.ID {
			t.Fatalf("after refused reopen: %+v, want %s", got, b.ID)
		}
		_, err = s.UpdateConversation(ctx, b.ID, storage.ConversationUpdate{Status: ptr(tandem.StatusClosed)})
		must(t, err)
		if got := find(); got != nil {
			t.Fatalf("after closing b: %+v", got)
		}
		// Reopened by a turn, a is the open one again.
		must(t, s.RecordTurn(ctx, storage.TurnRecord{ConversationID: a.ID, Update: storage.ConversationUpdate{Status: ptr(tandem.StatusOpen)}}))
		if got := find(); got == nil || got.ID != a.ID {
			t.Fatalf("after reopening a: %+v, want %s", got, a.ID)
		}
		must(t, s.RecordTurn(ctx, storage.TurnRecord{ConversationID: a.ID, Update: storage.ConversationUpdate{Status: ptr(tandem.StatusClosed)}}))
		if got := find(); got != nil {
			t.Fatalf("after closing all: %+v", got)
		}
	})
	t.Run("LinkIdentity/Lookups", func(t *testing.T) {
		t.Parallel()
		web, webID := resolve(t, s, tandem.ChannelWebChat, "lookup-link")
		known, _ := resolve(t, s, tandem.ChannelSMS, "+15550177")
		conv := newConversation(t, s, "bot", web.ID, tandem.ChannelWebChat)
		if c, err := s.FindOpenConversation(ctx, "bot", web.ID); err != nil || c.ID != conv.ID {
			t.Fatalf("before link: %v, %v", c, err)
		}
		must(t, s.LinkIdentity(ctx, webID.ID, known.ID, "agent:a1"))
		if c, _ := resolve(t, s, tandem.ChannelWebChat, "lookup-link"); c.ID != known.ID {
			t.Errorf("identity resolves to %s after link, want %s", c.ID, known.ID)
		}
		_, err := s.FindOpenConversation(ctx, "bot", web.ID)
		wantCode(t, err, tandem.ENOTFOUND)
		if c, err := s.FindOpenConversation(ctx, "bot", known.ID); err != nil || c.ID != conv.ID {
			t.Errorf("after link: %v, %v; want %s", c, err, conv.ID)
		}
		fresh, err := s.UnlinkIdentity(ctx, webID.ID, "agent:a1")
		must(t, err)
		if c, _ := resolve(t, s, tandem.ChannelWebChat, "lookup-link"); c.ID != fresh.ID {
			t.Errorf("identity resolves to %s after unlink, want %s", c.ID, fresh.ID)
		}
		if c, err := s.FindOpenConversation(ctx, "bot", fresh.ID); err != nil || c.ID != conv.ID {
			t.Errorf("after unlink: %v, %v; want %s", c, err, conv.ID)
		}
	})
}
