package storagetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

func testCustomers(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	t.Run("ResolveIdentity/OK", func(t *testing.T) {
		t.Parallel()
		c1, i1 := resolve(t, s, tandem.ChannelSMS, "+15550001")
		if c1.ID == "" || i1.ID == "" || i1.CustomerID != c1.ID || i1.Channel != tandem.ChannelSMS || i1.ExternalID != "+15550001" || i1.Verified {
			t.Fatalf("new identity = %+v customer %+v", i1, c1)
		}
		c2, i2 := resolve(t, s, tandem.ChannelSMS, "+15550001")
		if c2.ID != c1.ID || i2.ID != i1.ID {
			t.Errorf("second resolve = %s/%s, want %s/%s", c2.ID, i2.ID, c1.ID, i1.ID)
		}
		wantTime(t, "identity CreatedAt", i2.CreatedAt, i1.CreatedAt)
		c3, _ := resolve(t, s, tandem.ChannelWhatsApp, "+15550001")
		if c3.ID == c1.ID {
			t.Errorf("same external id on another channel got the same customer")
		}
	})
	t.Run("ResolveIdentity/ErrInvalid", func(t *testing.T) {
		t.Parallel()
		_, _, err := s.ResolveIdentity(ctx, tandem.ChannelSMS, "")
		wantCode(t, err, tandem.EINVALID)
	})
	t.Run("ResolveIdentity/Concurrent", func(t *testing.T) {
		t.Parallel()
		const n = 16
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, _, err := s.ResolveIdentity(ctx, tandem.ChannelWebChat, "visitor-race")
				errs[i] = err
				if c != nil {
					ids[i] = c.ID
				}
			}()
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("call %d: %v", i, errs[i])
			}
			if ids[i] != ids[0] {
				t.Fatalf("call %d got customer %s, call 0 got %s", i, ids[i], ids[0])
			}
		}
		got, err := s.ListIdentities(ctx, ids[0])
		must(t, err)
		if len(got) != 1 {
			t.Errorf("identities = %d, want 1", len(got))
		}
	})
	t.Run("FindCustomerByID/OK", func(t *testing.T) {
		t.Parallel()
		c, _ := resolve(t, s, tandem.ChannelEmail, "find@example.com")
		got, err := s.FindCustomerByID(ctx, c.ID)
		must(t, err)
		if got.ID != c.ID || got.Profile == nil {
			t.Errorf("got %+v", got)
		}
		wantTime(t, "CreatedAt", got.CreatedAt, c.CreatedAt)
	})
	t.Run("FindCustomerByID/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.FindCustomerByID(ctx, "missing")
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("UpdateCustomer/OK", func(t *testing.T) {
		t.Parallel()
		c, _ := resolve(t, s, tandem.ChannelEmail, "update@example.com")
		_, err := s.UpdateCustomer(ctx, c.ID, storage.CustomerUpdate{DisplayName: ptr("Ada"), Profile: map[string]string{"tier": "gold", "city": "Paris"}})
		must(t, err)
		got, err := s.UpdateCustomer(ctx, c.ID, storage.CustomerUpdate{Profile: map[string]string{"city": "", "lang": "fr"}})
		must(t, err)
		want := map[string]string{"tier": "gold", "lang": "fr"}
		if got.DisplayName != "Ada" || !mapsEqual(got.Profile, want) {
			t.Errorf("got %q %v, want Ada %v", got.DisplayName, got.Profile, want)
		}
		again, err := s.FindCustomerByID(ctx, c.ID)
		must(t, err)
		if again.DisplayName != "Ada" || !mapsEqual(again.Profile, want) {
			t.Errorf("stored %q %v, want Ada %v", again.DisplayName, again.Profile, want)
		}
	})
	t.Run("UpdateCustomer/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.UpdateCustomer(ctx, "missing", storage.CustomerUpdate{DisplayName: ptr("x")})
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("FindIdentity/OK", func(t *testing.T) {
		t.Parallel()
		_, i := resolve(t, s, tandem.ChannelDiscord, "u-42")
		got, err := s.FindIdentity(ctx, tandem.ChannelDiscord, "u-42")
		must(t, err)
		if got.ID != i.ID || got.CustomerID != i.CustomerID {
			t.Errorf("got %+v, want %+v", got, i)
		}
	})
	t.Run("FindIdentity/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.FindIdentity(ctx, tandem.ChannelDiscord, "nobody")
		wantCode(t, err, tandem.ENOTFOUND)
	})
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func testIdentities(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	t.Run("LinkIdentity/OK", func(t *testing.T) {
		t.Parallel()
		web, webID := resolve(t, s, tandem.ChannelWebChat, "visitor-link")
		known, smsID := resolve(t, s, tandem.ChannelSMS, "+15550100")
		conv := newConversation(t, s, "bot", web.ID, tandem.ChannelWebChat)
		m := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelWebChat, Text: "hi from web"}
		must(t, s.CreateMessage(ctx, m))

		must(t, s.LinkIdentity(ctx, webID.ID, known.ID, "agent:a1"))

		got, err := s.FindIdentity(ctx, tandem.ChannelWebChat, "visitor-link")
		must(t, err)
		if got.CustomerID != known.ID || !got.Verified {
			t.Errorf("linked identity = %+v, want customer %s verified", got, known.ID)
		}
		c, err := s.FindConversationByID(ctx, conv.ID)
		must(t, err)
		if c.CustomerID != known.ID {
			t.Errorf("conversation customer = %s, want %s", c.CustomerID, known.ID)
		}
		ids, err := s.ListIdentities(ctx, known.ID)
		must(t, err)
		if len(ids) != 2 {
			t.Errorf("identities of target = %d, want 2", len(ids))
		}
		msgs, err := s.ListCustomerMessages(ctx, known.ID, storage.MessageFilter{})
		must(t, err)
		if len(msgs) != 1 || msgs[0].ID != m.ID {
			t.Errorf("customer messages after link = %v", msgs)
		}
		audit, err := s.ListAudit(ctx, storage.AuditFilter{Subject: webID.ID, Action: "identity.link"})
		must(t, err)
		if len(audit) != 1 || audit[0].Actor != "agent:a1" {
			t.Fatalf("audit = %+v, want one identity.link by agent:a1", audit)
		}

		// Linking again to the same customer is a no-op (no second audit entry).
		must(t, s.LinkIdentity(ctx, webID.ID, known.ID, "agent:a1"))
		audit, err = s.ListAudit(ctx, storage.AuditFilter{Subject: webID.ID, Action: "identity.link"})
		must(t, err)
		if len(audit) != 1 {
			t.Errorf("audit after no-op link = %d entries, want 1", len(audit))
		}

		// Unlink: the web identity gets a customer of its own and takes its conversation.
		fresh, err := s.UnlinkIdentity(ctx, webID.ID, "agent:a2")
		must(t, err)
		if fresh.ID == known.ID || fresh.ID == web.ID {
			t.Errorf("unlink customer = %s, want a new one", fresh.ID)
		}
		got, err = s.FindIdentity(ctx, tandem.ChannelWebChat, "visitor-link")
		must(t, err)
		if got.CustomerID != fresh.ID || got.Verified {
			t.Errorf("unlinked identity = %+v, want customer %s unverified", got, fresh.ID)
		}
		c, err = s.FindConversationByID(ctx, conv.ID)
		must(t, err)
		if c.CustomerID != fresh.ID {
			t.Errorf("conversation after unlink = %s, want %s", c.CustomerID, fresh.ID)
		}
		sms, err := s.FindIdentity(ctx, tandem.ChannelSMS, "+15550100")
		must(t, err)
		if sms.ID != smsID.ID || sms.CustomerID != known.ID {
			t.Errorf("other identity moved: %+v", sms)
		}
		audit, err = s.ListAudit(ctx, storage.AuditFilter{Subject: webID.ID, Action: "identity.unlink"})
		must(t, err)
		if len(audit) != 1 || audit[0].Actor != "agent:a2" {
			t.Errorf("unlink audit = %+v", audit)
		}
	})
	t.Run("LinkIdentity/BothOpen", func(t *testing.T) {
		t.Parallel()
		open, handoff := tandem.StatusOpen, tandem.StatusHandoff
		for i, tt := range []struct {
			name string
			// The moved (web) and the target's (SMS) conversation with "bot" are updated at
			// these times, with these statuses; the target's is with otherBot when set. A
			// conversation in handoff has a queued ticket.
			moved, target             time.Time
			movedStatus, targetStatus tandem.ConversationStatus
			otherBot                  bool
			closeMoved                bool // the moved one is closed; else the target's
		}{
			{name: "HumanKeptOverNewer", moved: when.Add(time.Hour), target: when, movedStatus: open, targetStatus: handoff, closeMoved: true},
			{name: "HumanKeptOverOlder", moved: when, target: when.Add(time.Hour), movedStatus: open, targetStatus: handoff, closeMoved: true},
			{name: "HumanKeptMoved", moved: when, target: when.Add(time.Hour), movedStatus: handoff, targetStatus: open},
			{name: "BothHumanNewerKept", moved: when.Add(time.Hour), target: when, movedStatus: handoff, targetStatus: handoff},
			{name: "BothBotNewerKept", moved: when, target: when.Add(time.Hour), movedStatus: open, targetStatus: open, closeMoved: true},
			{name: "OtherBots", moved: when, target: when.Add(time.Hour), movedStatus: open, targetStatus: handoff, otherBot: true},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				web, webID := resolve(t, s, tandem.ChannelWebChat, fmt.Sprintf("visitor-both-open-%d", i))
				known, _ := resolve(t, s, tandem.ChannelSMS, fmt.Sprintf("+1555011%d", i))
				targetBot := "bot"
				if tt.otherBot {
					targetBot = "other-bot"
				}
				moved := &tandem.Conversation{BotID: "bot", CustomerID: web.ID, Channel: tandem.ChannelWebChat, Status: tt.movedStatus, CreatedAt: tt.moved}
				must(t, s.CreateConversation(ctx, moved))
				target := &tandem.Conversation{BotID: targetBot, CustomerID: known.ID, Channel: tandem.ChannelSMS, Status: tt.targetStatus, CreatedAt: tt.target}
				must(t, s.CreateConversation(ctx, target))
				tickets := map[string]*tandem.Ticket{}
				for _, c := range []*tandem.Conversation{moved, target} {
					if c.Status == handoff {
						tk := &tandem.Ticket{ConversationID: c.ID, BotID: c.BotID, Queue: "support", Status: tandem.TicketQueued}
						must(t, s.CreateTicket(ctx, tk))
						tickets[c.ID] = tk
					}
				}
				// Look both up first, so a store that caches them must forget them.
				if c, err := s.FindOpenConversation(ctx, "bot", web.ID); err != nil || c.ID != moved.ID {
					t.Fatalf("before link: %v, %v; want %s", c, err, moved.ID)
				}
				if c, err := s.FindOpenConversation(ctx, targetBot, known.ID); err != nil || c.ID != target.ID {
					t.Fatalf("before link: %v, %v; want %s", c, err, target.ID)
				}

				must(t, s.LinkIdentity(ctx, webID.ID, known.ID, "agent:a1"))

				newer, older := moved, target // kept, closed
				if tt.closeMoved {
					newer, older = target, moved
				}
				wantOpen := map[string]string{moved.ID: "bot", target.ID: targetBot}
				var wantClosed string
				if !tt.otherBot {
					wantOpen = map[string]string{newer.ID: "bot"}
					wantClosed = older.ID
				}
				for _, c := range []*tandem.Conversation{moved, target} {
					got, err := s.FindConversationByID(ctx, c.ID)
					must(t, err)
					if got.CustomerID != known.ID {
						t.Errorf("conversation %s belongs to %s, want %s", c.ID, got.CustomerID, known.ID)
					}
					if closed := got.Status == tandem.StatusClosed; closed != (c.ID == wantClosed) {
						t.Errorf("conversation %s status %s, want closed: %v", c.ID, got.Status, c.ID == wantClosed)
					}
					if c.ID != wantClosed && got.Status != c.Status {
						t.Errorf("conversation %s status %s, want %s kept", c.ID, got.Status, c.Status)
					}
				}
				for id, bot := range wantOpen {
					if got, err := s.FindOpenConversation(ctx, bot, known.ID); err != nil || got.ID != id {
						t.Errorf("open conversation with %s after link: %v, %v; want %s", bot, got, err, id)
					}
				}
				open, err := s.ListConversations(ctx, storage.ConversationFilter{CustomerID: known.ID})
				must(t, err)
				var n int
				for _, c := range open {
					if c.Status != tandem.StatusClosed {
						n++
					}
				}
				if n != len(wantOpen) {
					t.Errorf("%d not-closed conversations after link, want %d", n, len(wantOpen))
				}
				// The closed conversation's ticket is closed with it; the kept one's stays.
				for conv, tk := range tickets {
					got, err := s.FindTicketByID(ctx, tk.ID)
					must(t, err)
					want := tandem.TicketQueued
					if conv == wantClosed {
						want = tandem.TicketClosed
					}
					if got.Status != want || (want == tandem.TicketClosed) != (got.ClosedAt != nil) {
						t.Errorf("ticket of conversation %s: %s (closed at %v), want %s", conv, got.Status, got.ClosedAt, want)
					}
				}
				audit, err := s.ListAudit(ctx, storage.AuditFilter{Subject: webID.ID, Action: "identity.link"})
				must(t, err)
				if len(audit) != 1 || audit[0].Detail["to_customer"] != known.ID || audit[0].Detail["closed_conversations"] != wantClosed {
					t.Errorf("audit = %+v, want one identity.link closing %q", audit, wantClosed)
				}
			})
		}
	})
	t.Run("LinkIdentity/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		c, i := resolve(t, s, tandem.ChannelWebChat, "visitor-link-missing")
		wantCode(t, s.LinkIdentity(ctx, "missing", c.ID, "system"), tandem.ENOTFOUND)
		wantCode(t, s.LinkIdentity(ctx, i.ID, "missing", "system"), tandem.ENOTFOUND)
	})
	t.Run("UnlinkIdentity/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.UnlinkIdentity(ctx, "missing", "system")
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("ListIdentities/OK", func(t *testing.T) {
		t.Parallel()
		got, err := s.ListIdentities(ctx, "nobody")
		must(t, err)
		if len(got) != 0 {
			t.Errorf("got %v", got)
		}
	})
}
