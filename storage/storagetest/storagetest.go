// Package storagetest is the conformance suite every storage.Store implementation must pass.
// An adapter's tests call Run with a constructor that returns a fresh, empty, migrated store:
//
//	func TestStore(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store { return openTemp(t) }, storagetest.Features{})
//	}
//
// Run calls newStore once per group of subtests; subtests run in parallel on that store, so
// the store must be safe for concurrent use (the contract requires it anyway). Behaviour that
// legitimately differs between backends is declared in Features, never skipped.
package storagetest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// Features declares where a backend's behaviour legitimately differs.
type Features struct {
	// TextStopWords is true when full-text search ignores English stop words (PostgreSQL's
	// english configuration), so a query made only of stop words finds nothing.
	TextStopWords bool
}

// Run exercises every Store method and documented behaviour. features may be omitted.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store, features ...Features) {
	var f Features
	if len(features) > 0 {
		f = features[0]
	}
	groups := []struct {
		name string
		fn   func(t *testing.T, s storage.Store, f Features)
	}{
		{"Customers", testCustomers},
		{"Identities", testIdentities},
		{"Conversations", testConversations},
		{"Messages", testMessages},
		{"Tickets", testTickets},
		{"Agents", testAgents},
		{"Collections", testCollections},
		{"Documents", testDocuments},
		{"SearchText", testSearchText},
		{"SearchVector", testSearchVector},
		{"Audit", testAudit},
		{"Ping", testPing},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.fn(t, newStore(t), f)
		})
	}
}

// wantCode fails unless err carries the tandem error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := tandem.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// when is a fixed instant with sub-microsecond digits, in a non-UTC zone: stores must
// return it in UTC, truncated to the microsecond.
var when = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("X", 3600))

func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	want = want.UTC().Truncate(time.Microsecond)
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("%s = %v, want %v (UTC)", what, got, want)
	}
}

func newConversation(t *testing.T, s storage.Store, bot, customerID string, ch tandem.Channel) *tandem.Conversation {
	t.Helper()
	c := &tandem.Conversation{BotID: bot, CustomerID: customerID, Channel: ch, Status: tandem.StatusOpen}
	must(t, s.CreateConversation(context.Background(), c))
	return c
}

func resolve(t *testing.T, s storage.Store, ch tandem.Channel, ext string) (*tandem.Customer, *tandem.Identity) {
	t.Helper()
	c, i, err := s.ResolveIdentity(context.Background(), ch, ext)
	must(t, err)
	return c, i
}

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

func testConversations(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	t.Run("CreateConversation/OK", func(t *testing.T) {
		t.Parallel()
		cust, _ := resolve(t, s, tandem.ChannelSMS, "+15550200")
		c := &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusOpen, State: []byte{0, 1, 2, 255}, CreatedAt: when}
		must(t, s.CreateConversation(ctx, c))
		if c.ID == "" || c.UpdatedAt.IsZero() {
			t.Fatalf("not assigned: %+v", c)
		}
		got, err := s.FindConversationByID(ctx, c.ID)
		must(t, err)
		if got.BotID != "bot" || got.CustomerID != cust.ID || got.Channel != tandem.ChannelSMS || got.Status != tandem.StatusOpen || string(got.State) != string(c.State) {
			t.Errorf("got %+v, want %+v", got, c)
		}
		wantTime(t, "CreatedAt", got.CreatedAt, when)
		wantTime(t, "returned CreatedAt", c.CreatedAt, when)
	})
	t.Run("CreateConversation/ErrDuplicate", func(t *testing.T) {
		t.Parallel()
		cust, _ := resolve(t, s, tandem.ChannelSMS, "+15550201")
		c := newConversation(t, s, "bot", cust.ID, tandem.ChannelSMS)
		again := &tandem.Conversation{ID: c.ID, BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelSMS}
		wantCode(t, s.CreateConversation(ctx, again), tandem.EDUPLICATE)
	})
	t.Run("FindConversationByID/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.FindConversationByID(ctx, "missing")
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("FindOpenConversation/OK", func(t *testing.T) {
		t.Parallel()
		cust, _ := resolve(t, s, tandem.ChannelSMS, "+15550202")
		older := &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusOpen, CreatedAt: when}
		must(t, s.CreateConversation(ctx, older))
		newer := &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelWebChat, Status: tandem.StatusHandoff, CreatedAt: when.Add(time.Hour)}
		must(t, s.CreateConversation(ctx, newer))
		closed := &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusClosed, CreatedAt: when.Add(2 * time.Hour)}
		must(t, s.CreateConversation(ctx, closed))
		other := &tandem.Conversation{BotID: "other", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusOpen, CreatedAt: when.Add(3 * time.Hour)}
		must(t, s.CreateConversation(ctx, other))
		got, err := s.FindOpenConversation(ctx, "bot", cust.ID)
		must(t, err)
		if got.ID != newer.ID {
			t.Errorf("open conversation = %s, want newest not-closed %s", got.ID, newer.ID)
		}
	})
	t.Run("FindOpenConversation/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		cust, _ := resolve(t, s, tandem.ChannelSMS, "+15550203")
		must(t, s.CreateConversation(ctx, &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusClosed}))
		_, err := s.FindOpenConversation(ctx, "bot", cust.ID)
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("UpdateConversation/OK", func(t *testing.T) {
		t.Parallel()
		cust, _ := resolve(t, s, tandem.ChannelSMS, "+15550204")
		other, _ := resolve(t, s, tandem.ChannelSMS, "+15550205")
		c := &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusOpen, State: []byte("s1"), CreatedAt: when}
		must(t, s.CreateConversation(ctx, c))
		got, err := s.UpdateConversation(ctx, c.ID, storage.ConversationUpdate{Status: ptr(tandem.StatusHandoff), Channel: ptr(tandem.ChannelWebChat)})
		must(t, err)
		if got.Status != tandem.StatusHandoff || got.Channel != tandem.ChannelWebChat || string(got.State) != "s1" || got.CustomerID != cust.ID {
			t.Errorf("after update: %+v", got)
		}
		if !got.UpdatedAt.After(when) {
			t.Errorf("UpdatedAt %v not bumped", got.UpdatedAt)
		}
		got, err = s.UpdateConversation(ctx, c.ID, storage.ConversationUpdate{State: []byte{}, CustomerID: ptr(other.ID)})
		must(t, err)
		if len(got.State) != 0 || got.CustomerID != other.ID || got.Status != tandem.StatusHandoff {
			t.Errorf("after clearing state: %+v", got)
		}
		again, err := s.FindConversationByID(ctx, c.ID)
		must(t, err)
		if len(again.State) != 0 || again.CustomerID != other.ID {
			t.Errorf("stored: %+v", again)
		}
	})
	t.Run("UpdateConversation/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.UpdateConversation(ctx, "missing", storage.ConversationUpdate{Status: ptr(tandem.StatusClosed)})
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("ListConversations/OK", func(t *testing.T) {
		t.Parallel()
		cust, _ := resolve(t, s, tandem.ChannelSMS, "+15550206")
		var ids []string
		for i, st := range []tandem.ConversationStatus{tandem.StatusOpen, tandem.StatusClosed, tandem.StatusClosed} {
			c := &tandem.Conversation{BotID: "list-bot", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: st, CreatedAt: when.Add(time.Duration(i) * time.Minute)}
			must(t, s.CreateConversation(ctx, c))
			ids = append(ids, c.ID)
		}
		tests := []struct {
			name string
			f    storage.ConversationFilter
			want []string
		}{
			{"Bot", storage.ConversationFilter{BotID: "list-bot"}, []string{ids[2], ids[1], ids[0]}},
			{"Customer", storage.ConversationFilter{CustomerID: cust.ID}, []string{ids[2], ids[1], ids[0]}},
			{"Status", storage.ConversationFilter{BotID: "list-bot", Status: tandem.StatusClosed}, []string{ids[2], ids[1]}},
			{"UpdatedBefore", storage.ConversationFilter{BotID: "list-bot", UpdatedBefore: when.Add(90 * time.Second)}, []string{ids[1], ids[0]}},
			{"LimitOffset", storage.ConversationFilter{BotID: "list-bot", Limit: 1, Offset: 1}, []string{ids[1]}},
			{"None", storage.ConversationFilter{BotID: "no-such-bot"}, nil},
		}
		for _, tt := range tests {
			got, err := s.ListConversations(ctx, tt.f)
			must(t, err)
			var gotIDs []string
			for _, c := range got {
				gotIDs = append(gotIDs, c.ID)
			}
			if !slices.Equal(gotIDs, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, gotIDs, tt.want)
			}
		}
	})
}

func testMessages(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	setup := func(t *testing.T, ext string) (*tandem.Customer, *tandem.Conversation) {
		cust, _ := resolve(t, s, tandem.ChannelSMS, ext)
		return cust, newConversation(t, s, "bot", cust.ID, tandem.ChannelSMS)
	}
	t.Run("CreateMessage/OK", func(t *testing.T) {
		t.Parallel()
		_, conv := setup(t, "+15550300")
		m := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: "héllo 👋", ProviderID: "SM1", CreatedAt: when,
			Annotations: &tandem.Annotations{Language: "en", Intent: tandem.IntentScore{Name: "greet", Confidence: 0.9}, PII: []string{"phone"}}}
		must(t, s.CreateMessage(ctx, m))
		agent := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleAgent, Channel: tandem.ChannelSMS, Text: "hi", AuthorID: "agent-1", CreatedAt: when.Add(time.Second),
			Decision: &tandem.Decision{Kind: tandem.DecisionRelay, Reason: "agent"}, Citations: []tandem.Citation{{DocID: "d1", Title: "T", URL: "u", ChunkID: "c1"}}}
		must(t, s.CreateMessage(ctx, agent))
		if m.ID == "" {
			t.Fatal("no ID assigned")
		}
		got, err := s.ListMessages(ctx, conv.ID, storage.MessageFilter{})
		must(t, err)
		if len(got) != 2 {
			t.Fatalf("messages = %d, want 2", len(got))
		}
		g := got[0]
		if g.ID != m.ID || g.Text != m.Text || g.ProviderID != "SM1" || g.Role != tandem.RoleCustomer || g.Annotations == nil || g.Annotations.Intent.Name != "greet" || g.Decision != nil {
			t.Errorf("got %+v", g)
		}
		wantTime(t, "CreatedAt", g.CreatedAt, when)
		a := got[1]
		if a.AuthorID != "agent-1" || a.Decision == nil || a.Decision.Kind != tandem.DecisionRelay || len(a.Citations) != 1 || a.Citations[0].ChunkID != "c1" || a.Annotations != nil {
			t.Errorf("got %+v", a)
		}
	})
	t.Run("CreateMessage/ErrDuplicate", func(t *testing.T) {
		t.Parallel()
		_, conv := setup(t, "+15550301")
		m := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: "once", ProviderID: "SM-dup"}
		must(t, s.CreateMessage(ctx, m))
		again := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: "retry", ProviderID: "SM-dup"}
		wantCode(t, s.CreateMessage(ctx, again), tandem.EDUPLICATE)
		// The same provider id on another channel is a different message.
		must(t, s.CreateMessage(ctx, &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelWhatsApp, Text: "wa", ProviderID: "SM-dup"}))
		// Empty provider ids never collide.
		must(t, s.CreateMessage(ctx, &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleBot, Channel: tandem.ChannelSMS, Text: "a"}))
		must(t, s.CreateMessage(ctx, &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleBot, Channel: tandem.ChannelSMS, Text: "b"}))
		got, err := s.ListMessages(ctx, conv.ID, storage.MessageFilter{})
		must(t, err)
		if len(got) != 4 || got[0].Text != "once" {
			t.Errorf("messages = %+v, want 4 starting with the first", got)
		}
	})
	t.Run("CreateMessage/ConcurrentDuplicate", func(t *testing.T) {
		// A provider retrying while the first delivery is being stored: one insert wins,
		// the others get EDUPLICATE and leave nothing behind.
		t.Parallel()
		_, conv := setup(t, "+15550308")
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.CreateMessage(ctx, &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: fmt.Sprint(i), ProviderID: "SM-race"})
			}()
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch tandem.ErrorCode(err) {
			case "":
				ok++
			case tandem.EDUPLICATE:
			default:
				t.Errorf("insert %d: %v", i, err)
			}
		}
		got, err := s.ListMessages(ctx, conv.ID, storage.MessageFilter{})
		must(t, err)
		if ok != 1 || len(got) != 1 {
			t.Errorf("successful inserts = %d, stored = %d; want 1 and 1", ok, len(got))
		}
	})
	t.Run("CreateMessage/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		err := s.CreateMessage(ctx, &tandem.Message{ConversationID: "missing", Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: "x"})
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("SetMessageAnnotations/OK", func(t *testing.T) {
		t.Parallel()
		_, conv := setup(t, "+15550302")
		m := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: "hello"}
		must(t, s.CreateMessage(ctx, m))
		a := &tandem.Annotations{Language: "fr", Sentiment: tandem.Sentiment{Label: tandem.SentimentNegative, Score: -0.5},
			Entities: []tandem.Entity{{Type: "email", Value: "a@b.c", Text: "a@b.c", Start: 1, End: 6}}}
		must(t, s.SetMessageAnnotations(ctx, m.ID, a))
		got, err := s.ListMessages(ctx, conv.ID, storage.MessageFilter{})
		must(t, err)
		if got[0].Annotations == nil || got[0].Annotations.Language != "fr" || got[0].Annotations.Sentiment.Score != -0.5 || len(got[0].Annotations.Entities) != 1 {
			t.Errorf("annotations = %+v", got[0].Annotations)
		}
	})
	t.Run("SetMessageAnnotations/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		wantCode(t, s.SetMessageAnnotations(ctx, "missing", &tandem.Annotations{}), tandem.ENOTFOUND)
	})
	t.Run("RecordTurn/OK", func(t *testing.T) {
		t.Parallel()
		_, conv := setup(t, "+15550303")
		in := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: "refund?", ProviderID: "SM-turn"}
		must(t, s.CreateMessage(ctx, in))
		replies := []*tandem.Message{
			{Role: tandem.RoleBot, Channel: tandem.ChannelSMS, Text: "Here is how", Decision: &tandem.Decision{Kind: tandem.DecisionKnowledge, Reason: "kb"}, Citations: []tandem.Citation{{DocID: "d", Title: "Refunds"}}},
			{Channel: tandem.ChannelSMS, Text: "Anything else?"},
		}
		err := s.RecordTurn(ctx, storage.TurnRecord{ConversationID: conv.ID, InboundID: in.ID,
			Annotations: &tandem.Annotations{Language: "en", Intent: tandem.IntentScore{Name: "refund", Confidence: 0.8}},
			Replies:     replies, Update: storage.ConversationUpdate{State: []byte("state-2"), Status: ptr(tandem.StatusOpen)}})
		must(t, err)
		if replies[0].ID == "" || replies[1].ID == "" || replies[1].ConversationID != conv.ID || replies[1].Role != tandem.RoleBot {
			t.Errorf("replies not assigned: %+v %+v", replies[0], replies[1])
		}
		got, err := s.ListMessages(ctx, conv.ID, storage.MessageFilter{})
		must(t, err)
		if len(got) != 3 || got[0].Annotations == nil || got[0].Annotations.Intent.Name != "refund" || got[1].Decision == nil || got[2].Text != "Anything else?" {
			t.Fatalf("messages = %+v", got)
		}
		c, err := s.FindConversationByID(ctx, conv.ID)
		must(t, err)
		if string(c.State) != "state-2" {
			t.Errorf("state = %q", c.State)
		}
	})
	t.Run("RecordTurn/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, conv := setup(t, "+15550304")
		err := s.RecordTurn(ctx, storage.TurnRecord{ConversationID: conv.ID, InboundID: "missing", Annotations: &tandem.Annotations{},
			Replies: []*tandem.Message{{Role: tandem.RoleBot, Channel: tandem.ChannelSMS, Text: "lost"}}})
		wantCode(t, err, tandem.ENOTFOUND)
		err = s.RecordTurn(ctx, storage.TurnRecord{ConversationID: "missing", Update: storage.ConversationUpdate{State: []byte("x")}})
		wantCode(t, err, tandem.ENOTFOUND)
		got, err := s.ListMessages(ctx, conv.ID, storage.MessageFilter{})
		must(t, err)
		if len(got) != 0 {
			t.Errorf("failed turn left %d messages", len(got))
		}
	})
	t.Run("ListMessages/OK", func(t *testing.T) {
		t.Parallel()
		_, conv := setup(t, "+15550305")
		for i := range 5 {
			must(t, s.CreateMessage(ctx, &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: fmt.Sprint(i), CreatedAt: when.Add(time.Duration(i) * time.Second)}))
		}
		// Same timestamp as message 4: insertion order breaks the tie.
		must(t, s.CreateMessage(ctx, &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleBot, Channel: tandem.ChannelSMS, Text: "5", CreatedAt: when.Add(4 * time.Second)}))
		tests := []struct {
			name string
			f    storage.MessageFilter
			want string
		}{
			{"All", storage.MessageFilter{}, "012345"},
			{"Limit", storage.MessageFilter{Limit: 2}, "45"},
			{"Since", storage.MessageFilter{Since: when.Add(3 * time.Second)}, "345"},
			{"SinceLimit", storage.MessageFilter{Since: when.Add(time.Second), Limit: 3}, "345"},
		}
		for _, tt := range tests {
			got, err := s.ListMessages(ctx, conv.ID, tt.f)
			must(t, err)
			var texts string
			for _, m := range got {
				texts += m.Text
			}
			if texts != tt.want {
				t.Errorf("%s: got %q, want %q", tt.name, texts, tt.want)
			}
		}
	})
	t.Run("ListCustomerMessages/OK", func(t *testing.T) {
		t.Parallel()
		cust, conv := setup(t, "+15550306")
		web := newConversation(t, s, "other-bot", cust.ID, tandem.ChannelWebChat)
		otherCust, otherConv := setup(t, "+15550307")
		_ = otherCust
		add := func(c *tandem.Conversation, ch tandem.Channel, text string, d time.Duration) {
			must(t, s.CreateMessage(ctx, &tandem.Message{ConversationID: c.ID, Role: tandem.RoleCustomer, Channel: ch, Text: text, CreatedAt: when.Add(d)}))
		}
		add(conv, tandem.ChannelSMS, "a", 0)
		add(web, tandem.ChannelWebChat, "b", time.Second)
		add(otherConv, tandem.ChannelSMS, "x", 2*time.Second)
		add(conv, tandem.ChannelSMS, "c", 3*time.Second)
		got, err := s.ListCustomerMessages(ctx, cust.ID, storage.MessageFilter{})
		must(t, err)
		var texts string
		for _, m := range got {
			texts += m.Text
		}
		if texts != "abc" {
			t.Errorf("timeline = %q, want abc", texts)
		}
		got, err = s.ListCustomerMessages(ctx, cust.ID, storage.MessageFilter{Limit: 2})
		must(t, err)
		if len(got) != 2 || got[0].Text != "b" || got[1].Text != "c" {
			t.Errorf("limited timeline = %+v", got)
		}
	})
}

func testTickets(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	setup := func(t *testing.T, ext string) *tandem.Conversation {
		cust, _ := resolve(t, s, tandem.ChannelSMS, ext)
		return newConversation(t, s, "bot", cust.ID, tandem.ChannelSMS)
	}
	t.Run("CreateTicket/OK", func(t *testing.T) {
		t.Parallel()
		conv := setup(t, "+15550400")
		tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "billing", Priority: 2, Reason: "asked", CreatedAt: when}
		must(t, s.CreateTicket(ctx, tk))
		if tk.ID == "" || tk.Status != tandem.TicketQueued {
			t.Fatalf("ticket = %+v", tk)
		}
		got, err := s.FindTicketByID(ctx, tk.ID)
		must(t, err)
		if got.Queue != "billing" || got.Priority != 2 || got.Reason != "asked" || got.Status != tandem.TicketQueued || got.ClaimedAt != nil || got.ClosedAt != nil {
			t.Errorf("got %+v", got)
		}
		wantTime(t, "CreatedAt", got.CreatedAt, when)
		active, err := s.FindActiveTicket(ctx, conv.ID)
		must(t, err)
		if active.ID != tk.ID {
			t.Errorf("active = %s, want %s", active.ID, tk.ID)
		}
	})
	t.Run("CreateTicket/ErrDuplicate", func(t *testing.T) {
		t.Parallel()
		conv := setup(t, "+15550401")
		first := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}
		must(t, s.CreateTicket(ctx, first))
		wantCode(t, s.CreateTicket(ctx, &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}), tandem.EDUPLICATE)
		_, err := s.ClaimTicket(ctx, first.ID, "agent-1", when)
		must(t, err)
		wantCode(t, s.CreateTicket(ctx, &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}), tandem.EDUPLICATE)
		_, err = s.UpdateTicket(ctx, first.ID, storage.TicketUpdate{Status: ptr(tandem.TicketClosed), ClosedAt: ptr(when)})
		must(t, err)
		// Once closed, a new handoff may be opened.
		must(t, s.CreateTicket(ctx, &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}))
	})
	t.Run("FindTicketByID/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.FindTicketByID(ctx, "missing")
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("FindActiveTicket/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		conv := setup(t, "+15550402")
		tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}
		must(t, s.CreateTicket(ctx, tk))
		_, err := s.UpdateTicket(ctx, tk.ID, storage.TicketUpdate{Status: ptr(tandem.TicketReturned)})
		must(t, err)
		_, err = s.FindActiveTicket(ctx, conv.ID)
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("ClaimTicket/OK", func(t *testing.T) {
		t.Parallel()
		conv := setup(t, "+15550403")
		tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}
		must(t, s.CreateTicket(ctx, tk))
		got, err := s.ClaimTicket(ctx, tk.ID, "agent-1", when)
		must(t, err)
		if got.Status != tandem.TicketClaimed || got.AgentID != "agent-1" || got.ClaimedAt == nil {
			t.Fatalf("claimed = %+v", got)
		}
		wantTime(t, "ClaimedAt", *got.ClaimedAt, when)
		stored, err := s.FindTicketByID(ctx, tk.ID)
		must(t, err)
		if stored.AgentID != "agent-1" || stored.ClaimedAt == nil {
			t.Errorf("stored = %+v", stored)
		}
		wantTime(t, "stored ClaimedAt", *stored.ClaimedAt, when)
	})
	t.Run("ClaimTicket/ErrConflict", func(t *testing.T) {
		t.Parallel()
		conv := setup(t, "+15550404")
		tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}
		must(t, s.CreateTicket(ctx, tk))
		_, err := s.ClaimTicket(ctx, tk.ID, "agent-1", when)
		must(t, err)
		_, err = s.ClaimTicket(ctx, tk.ID, "agent-2", when)
		wantCode(t, err, tandem.ECONFLICT)
	})
	t.Run("ClaimTicket/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.ClaimTicket(ctx, "missing", "agent-1", when)
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("ClaimTicket/Race", func(t *testing.T) {
		t.Parallel()
		conv := setup(t, "+15550405")
		tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}
		must(t, s.CreateTicket(ctx, tk))
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = s.ClaimTicket(ctx, tk.ID, fmt.Sprintf("agent-%d", i), when)
			}()
		}
		close(start)
		wg.Wait()
		winners := 0
		winner := ""
		for i, err := range errs {
			switch tandem.ErrorCode(err) {
			case "":
				winners++
				winner = fmt.Sprintf("agent-%d", i)
			case tandem.ECONFLICT:
			default:
				t.Errorf("claim %d: %v", i, err)
			}
		}
		if winners != 1 {
			t.Fatalf("winners = %d, want exactly 1", winners)
		}
		got, err := s.FindTicketByID(ctx, tk.ID)
		must(t, err)
		if got.AgentID != winner {
			t.Errorf("agent = %s, want winner %s", got.AgentID, winner)
		}
	})
	t.Run("UpdateTicket/OK", func(t *testing.T) {
		t.Parallel()
		conv := setup(t, "+15550406")
		tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}
		must(t, s.CreateTicket(ctx, tk))
		got, err := s.UpdateTicket(ctx, tk.ID, storage.TicketUpdate{Queue: ptr("vip"), Priority: ptr(9), AgentID: ptr("agent-3"), Status: ptr(tandem.TicketClosed), ClosedAt: ptr(when)})
		must(t, err)
		if got.Queue != "vip" || got.Priority != 9 || got.AgentID != "agent-3" || got.Status != tandem.TicketClosed || got.ClosedAt == nil {
			t.Fatalf("got %+v", got)
		}
		wantTime(t, "ClosedAt", *got.ClosedAt, when)
	})
	t.Run("UpdateTicket/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.UpdateTicket(ctx, "missing", storage.TicketUpdate{Queue: ptr("x")})
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("ListTickets/OK", func(t *testing.T) {
		t.Parallel()
		var ids []string
		for i := range 3 {
			conv := setup(t, fmt.Sprintf("+1555041%d", i))
			tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "list-q", CreatedAt: when.Add(time.Duration(i) * time.Minute)}
			must(t, s.CreateTicket(ctx, tk))
			ids = append(ids, tk.ID)
		}
		_, err := s.ClaimTicket(ctx, ids[1], "list-agent", when)
		must(t, err)
		tests := []struct {
			name string
			f    storage.TicketFilter
			want []string
		}{
			{"Queue", storage.TicketFilter{Queue: "list-q"}, ids},
			{"Status", storage.TicketFilter{Queue: "list-q", Status: tandem.TicketQueued}, []string{ids[0], ids[2]}},
			{"Agent", storage.TicketFilter{AgentID: "list-agent"}, []string{ids[1]}},
			{"Limit", storage.TicketFilter{Queue: "list-q", Limit: 2}, ids[:2]},
		}
		for _, tt := range tests {
			got, err := s.ListTickets(ctx, tt.f)
			must(t, err)
			var gotIDs []string
			for _, tk := range got {
				gotIDs = append(gotIDs, tk.ID)
			}
			if !slices.Equal(gotIDs, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, gotIDs, tt.want)
			}
		}
	})
}

func testAgents(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	t.Run("CreateAgent/OK", func(t *testing.T) {
		t.Parallel()
		a := &tandem.Agent{Name: "Ada", Email: "ada@example.com", Role: tandem.AgentRoleSupervisor, Skills: []string{"billing", "vip"}, Languages: []string{"en", "fr"}, Capacity: 3, CreatedAt: when}
		must(t, s.CreateAgent(ctx, a))
		if a.ID == "" {
			t.Fatal("no ID")
		}
		for _, find := range []func() (*tandem.Agent, error){
			func() (*tandem.Agent, error) { return s.FindAgentByID(ctx, a.ID) },
			func() (*tandem.Agent, error) { return s.FindAgentByEmail(ctx, "ADA@example.com") },
		} {
			got, err := find()
			must(t, err)
			if got.ID != a.ID || got.Name != "Ada" || got.Role != tandem.AgentRoleSupervisor || !slices.Equal(got.Skills, a.Skills) || !slices.Equal(got.Languages, a.Languages) || got.Capacity != 3 {
				t.Errorf("got %+v, want %+v", got, a)
			}
			wantTime(t, "CreatedAt", got.CreatedAt, when)
		}
	})
	t.Run("CreateAgent/ErrDuplicate", func(t *testing.T) {
		t.Parallel()
		must(t, s.CreateAgent(ctx, &tandem.Agent{Name: "Bob", Email: "bob@example.com", Role: tandem.AgentRoleAgent}))
		wantCode(t, s.CreateAgent(ctx, &tandem.Agent{Name: "Bob 2", Email: "Bob@Example.com", Role: tandem.AgentRoleAgent}), tandem.EDUPLICATE)
	})
	t.Run("FindAgent/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.FindAgentByID(ctx, "missing")
		wantCode(t, err, tandem.ENOTFOUND)
		_, err = s.FindAgentByEmail(ctx, "missing@example.com")
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("ListAgents/OK", func(t *testing.T) {
		t.Parallel()
		must(t, s.CreateAgent(ctx, &tandem.Agent{Name: "Zed", Email: "zed@example.com", Role: tandem.AgentRoleAdmin}))
		got, err := s.ListAgents(ctx)
		must(t, err)
		found := false
		for _, a := range got {
			if a.Email == "zed@example.com" {
				found = true
				if a.Skills == nil || a.Languages == nil {
					t.Errorf("nil lists for %+v", a)
				}
			}
		}
		if !found {
			t.Errorf("zed not listed in %+v", got)
		}
	})
}

func testCollections(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	t.Run("EnsureCollection/OK", func(t *testing.T) {
		t.Parallel()
		c, err := s.EnsureCollection(ctx, tandem.Collection{Name: "faq", BotID: "bot", Embedder: "hash-v1", Dimension: 8, CreatedAt: when})
		must(t, err)
		if c.Name != "faq" || c.Embedder != "hash-v1" || c.Dimension != 8 {
			t.Fatalf("got %+v", c)
		}
		wantTime(t, "CreatedAt", c.CreatedAt, when)
		again, err := s.EnsureCollection(ctx, tandem.Collection{Name: "faq", Embedder: "other", Dimension: 16})
		must(t, err)
		if again.Embedder != "hash-v1" || again.Dimension != 8 {
			t.Errorf("existing collection changed: %+v", again)
		}
		must(t, s.UpdateCollection(ctx, tandem.Collection{Name: "faq", BotID: "bot", Embedder: "minilm", Dimension: 384}))
		got, err := s.FindCollection(ctx, "faq")
		must(t, err)
		if got.Embedder != "minilm" || got.Dimension != 384 {
			t.Errorf("after update: %+v", got)
		}
		list, err := s.ListCollections(ctx)
		must(t, err)
		if !slices.ContainsFunc(list, func(c tandem.Collection) bool { return c.Name == "faq" }) {
			t.Errorf("list = %+v", list)
		}
	})
	t.Run("EnsureCollection/ErrInvalid", func(t *testing.T) {
		t.Parallel()
		_, err := s.EnsureCollection(ctx, tandem.Collection{})
		wantCode(t, err, tandem.EINVALID)
	})
	t.Run("FindCollection/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.FindCollection(ctx, "missing")
		wantCode(t, err, tandem.ENOTFOUND)
		wantCode(t, s.UpdateCollection(ctx, tandem.Collection{Name: "missing"}), tandem.ENOTFOUND)
	})
}

func testDocuments(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	_, err := s.EnsureCollection(ctx, tandem.Collection{Name: "docs", Embedder: "test", Dimension: 3})
	must(t, err)
	_, err = s.EnsureCollection(ctx, tandem.Collection{Name: "other", Embedder: "test", Dimension: 3})
	must(t, err)
	t.Run("PutDocument/OK", func(t *testing.T) {
		t.Parallel()
		d := &tandem.Document{Collection: "docs", Title: "Refund policy", Source: "kb/refund.md", URL: "https://x/refund", Tags: []string{"billing"}, Language: "en", ContentHash: "h1", Status: tandem.DocumentPublished, Body: "body 1"}
		chunks := []tandem.Chunk{{Ordinal: 0, Heading: "Refunds", Text: "one", Embedding: []float32{1, 0, 0}}, {Ordinal: 1, Text: "two", Embedding: []float32{0, 1, 0.5}}}
		changed, err := s.PutDocument(ctx, d, chunks)
		must(t, err)
		if !changed || d.ID == "" || d.Version != 1 || chunks[0].ID == "" || chunks[1].DocumentID != d.ID {
			t.Fatalf("changed=%v doc=%+v chunks=%+v", changed, d, chunks)
		}
		got, err := s.FindDocumentByID(ctx, d.ID)
		must(t, err)
		if got.Title != d.Title || got.URL != d.URL || got.Source != d.Source || !slices.Equal(got.Tags, d.Tags) || got.Language != "en" || got.Version != 1 || got.ContentHash != "h1" || got.Status != tandem.DocumentPublished || got.Body != "body 1" {
			t.Errorf("got %+v", got)
		}
		wantTime(t, "UpdatedAt", got.UpdatedAt, d.UpdatedAt)
		stored, err := s.ListChunks(ctx, d.ID)
		must(t, err)
		if len(stored) != 2 || stored[0].Heading != "Refunds" || stored[1].Text != "two" || !slices.Equal(stored[1].Embedding, []float32{0, 1, 0.5}) || stored[0].Collection != "docs" {
			t.Fatalf("chunks = %+v", stored)
		}

		// Same hash: nothing changes.
		same := &tandem.Document{ID: d.ID, Collection: "docs", Title: "Other title", ContentHash: "h1", Status: tandem.DocumentDraft}
		changed, err = s.PutDocument(ctx, same, []tandem.Chunk{{Text: "ignored"}})
		must(t, err)
		if changed || same.Version != 1 || same.Title != "Refund policy" {
			t.Errorf("same hash: changed=%v doc=%+v", changed, same)
		}
		// New hash: version bump and chunk replacement.
		next := &tandem.Document{ID: d.ID, Collection: "docs", Title: "Refund policy v2", ContentHash: "h2", Status: tandem.DocumentPublished, Tags: []string{"billing"}}
		changed, err = s.PutDocument(ctx, next, []tandem.Chunk{{Ordinal: 0, Text: "replaced", Embedding: []float32{0, 0, 1}}})
		must(t, err)
		if !changed || next.Version != 2 {
			t.Errorf("new hash: changed=%v version=%d", changed, next.Version)
		}
		wantTime(t, "CreatedAt kept", next.CreatedAt, d.CreatedAt)
		stored, err = s.ListChunks(ctx, d.ID)
		must(t, err)
		if len(stored) != 1 || stored[0].Text != "replaced" {
			t.Errorf("chunks after change = %+v", stored)
		}
	})
	t.Run("PutDocument/ErrInvalid", func(t *testing.T) {
		t.Parallel()
		_, err := s.PutDocument(ctx, &tandem.Document{Collection: "docs", Title: "Bad", ContentHash: "x"}, []tandem.Chunk{{Text: "t", Embedding: []float32{1, 2}}})
		wantCode(t, err, tandem.EINVALID)
		_, err = s.PutDocument(ctx, &tandem.Document{Collection: "docs"}, nil)
		wantCode(t, err, tandem.EINVALID)
	})
	t.Run("PutDocument/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.PutDocument(ctx, &tandem.Document{Collection: "missing", Title: "T", ContentHash: "x"}, nil)
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("FindDocumentByID/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.FindDocumentByID(ctx, "missing")
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("ListDocuments/OK", func(t *testing.T) {
		t.Parallel()
		put := func(coll, title string, tags []string, st tandem.DocumentStatus) string {
			d := &tandem.Document{Collection: coll, Title: title, Tags: tags, ContentHash: title, Status: st}
			_, err := s.PutDocument(ctx, d, nil)
			must(t, err)
			return d.ID
		}
		a := put("other", "Alpha 100% guide", []string{"x"}, tandem.DocumentPublished)
		b := put("other", "Beta_notes", []string{"y"}, tandem.DocumentDraft)
		c := put("other", "Gamma guide", []string{"x", "y"}, tandem.DocumentDraft)
		tests := []struct {
			name string
			f    storage.DocumentFilter
			want []string
		}{
			{"Collection", storage.DocumentFilter{Collection: "other"}, []string{a, b, c}},
			{"Status", storage.DocumentFilter{Collection: "other", Status: tandem.DocumentDraft}, []string{b, c}},
			{"Tag", storage.DocumentFilter{Collection: "other", Tag: "x"}, []string{a, c}},
			{"Query", storage.DocumentFilter{Collection: "other", Query: "GUIDE"}, []string{a, c}},
			{"QueryPercent", storage.DocumentFilter{Collection: "other", Query: "100%"}, []string{a}},
			{"QueryUnderscore", storage.DocumentFilter{Collection: "other", Query: "a_n"}, []string{b}},
			{"LimitOffset", storage.DocumentFilter{Collection: "other", Limit: 1, Offset: 1}, []string{b}},
		}
		for _, tt := range tests {
			got, err := s.ListDocuments(ctx, tt.f)
			must(t, err)
			var ids []string
			for _, d := range got {
				ids = append(ids, d.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, ids, tt.want)
			}
		}
	})
	t.Run("SetDocumentStatus/OK", func(t *testing.T) {
		t.Parallel()
		d := &tandem.Document{Collection: "docs", Title: "Draft doc", ContentHash: "d", Status: tandem.DocumentDraft}
		_, err := s.PutDocument(ctx, d, nil)
		must(t, err)
		must(t, s.SetDocumentStatus(ctx, d.ID, tandem.DocumentPublished))
		got, err := s.FindDocumentByID(ctx, d.ID)
		must(t, err)
		if got.Status != tandem.DocumentPublished {
			t.Errorf("status = %s", got.Status)
		}
	})
	t.Run("SetDocumentStatus/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		wantCode(t, s.SetDocumentStatus(ctx, "missing", tandem.DocumentPublished), tandem.ENOTFOUND)
	})
	t.Run("DeleteDocument/OK", func(t *testing.T) {
		t.Parallel()
		d := &tandem.Document{Collection: "docs", Title: "Doomed", ContentHash: "z"}
		_, err := s.PutDocument(ctx, d, []tandem.Chunk{{Text: "bye"}})
		must(t, err)
		must(t, s.DeleteDocument(ctx, d.ID))
		_, err = s.FindDocumentByID(ctx, d.ID)
		wantCode(t, err, tandem.ENOTFOUND)
		chunks, err := s.ListChunks(ctx, d.ID)
		must(t, err)
		if len(chunks) != 0 {
			t.Errorf("chunks left: %d", len(chunks))
		}
		wantCode(t, s.DeleteDocument(ctx, d.ID), tandem.ENOTFOUND)
	})
	t.Run("ReplaceEmbeddings/OK", func(t *testing.T) {
		t.Parallel()
		d := &tandem.Document{Collection: "docs", Title: "Re-embed", ContentHash: "r"}
		chunks := []tandem.Chunk{{Text: "a", Embedding: []float32{1, 0, 0}}, {Ordinal: 1, Text: "b"}}
		_, err := s.PutDocument(ctx, d, chunks)
		must(t, err)
		chunks[0].Embedding = []float32{0, 1, 0}
		chunks[1].Embedding = []float32{0, 0, 1}
		must(t, s.ReplaceEmbeddings(ctx, chunks))
		got, err := s.ListChunks(ctx, d.ID)
		must(t, err)
		if !slices.Equal(got[0].Embedding, []float32{0, 1, 0}) || !slices.Equal(got[1].Embedding, []float32{0, 0, 1}) {
			t.Errorf("embeddings = %v %v", got[0].Embedding, got[1].Embedding)
		}
		wantCode(t, s.ReplaceEmbeddings(ctx, []tandem.Chunk{{ID: "missing", Embedding: []float32{1, 1, 1}}}), tandem.ENOTFOUND)
	})
}

// kbFixture loads a small knowledge base for the search tests.
type kbFixture struct {
	refund, shipping, password, draft, french, other string // document ids
}

func loadKB(t *testing.T, s storage.Store) kbFixture {
	ctx := context.Background()
	for _, name := range []string{"kb", "kb2"} {
		_, err := s.EnsureCollection(ctx, tandem.Collection{Name: name, Embedder: "test", Dimension: 3})
		must(t, err)
	}
	put := func(coll, title string, tags []string, lang string, st tandem.DocumentStatus, text string, vec []float32) string {
		d := &tandem.Document{Collection: coll, Title: title, URL: "https://kb/" + title, Tags: tags, Language: lang, ContentHash: title, Status: st}
		_, err := s.PutDocument(ctx, d, []tandem.Chunk{{Heading: title, Text: text, Embedding: vec}})
		must(t, err)
		return d.ID
	}
	return kbFixture{
		refund:   put("kb", "Refund policy", []string{"billing"}, "en", tandem.DocumentPublished, "You can get a refund within 30 days of purchase. Refunds go back to the original card.", []float32{1, 0, 0}),
		shipping: put("kb", "Shipping times", []string{"orders"}, "en", tandem.DocumentPublished, "Orders ship within two business days; delivery takes three to five days.", []float32{0, 1, 0}),
		password: put("kb", "Reset your password", []string{"account"}, "en", tandem.DocumentPublished, "Click forgot password on the sign in page to reset it.", []float32{0, 0, 1}),
		draft:    put("kb", "Refund exceptions draft", []string{"billing"}, "en", tandem.DocumentDraft, "Refund exceptions for gift cards are not final.", []float32{0.9, 0.1, 0}),
		french:   put("kb", "Politique de remboursement", []string{"billing"}, "fr", tandem.DocumentPublished, "Remboursement sous 30 jours. refund", []float32{0.8, 0, 0.2}),
		other:    put("kb2", "Refund for partners", []string{"partners"}, "en", tandem.DocumentPublished, "Partners request a refund through their account manager.", []float32{0.95, 0, 0.05}),
	}
}

func docIDs(hits []tandem.ScoredChunk) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.DocumentID)
	}
	return out
}

func testSearchText(t *testing.T, s storage.Store, f Features) {
	ctx := context.Background()
	kb := loadKB(t, s)
	t.Run("AfterChange", func(t *testing.T) {
		// Not parallel: it runs before the others, which then see its final state.
		_, err := s.EnsureCollection(ctx, tandem.Collection{Name: "kb3", Embedder: "test", Dimension: 3})
		must(t, err)
		d := &tandem.Document{Collection: "kb3", Title: "Warranty", ContentHash: "1", Status: tandem.DocumentPublished}
		_, err = s.PutDocument(ctx, d, []tandem.Chunk{{Text: "warranty covers batteries"}})
		must(t, err)
		d2 := &tandem.Document{ID: d.ID, Collection: "kb3", Title: "Warranty", ContentHash: "2", Status: tandem.DocumentPublished}
		_, err = s.PutDocument(ctx, d2, []tandem.Chunk{{Text: "warranty covers screens"}})
		must(t, err)
		only := storage.SearchFilter{Collections: []string{"kb3"}}
		got, err := s.SearchText(ctx, "batteries", only)
		must(t, err)
		if len(got) != 0 {
			t.Errorf("old chunk still found: %v", got)
		}
		got, err = s.SearchText(ctx, "screens", only)
		must(t, err)
		if len(got) != 1 {
			t.Errorf("new chunk not found: %v", got)
		}
		must(t, s.SetDocumentStatus(ctx, d.ID, tandem.DocumentDraft))
		got, err = s.SearchText(ctx, "screens", storage.SearchFilter{Collections: []string{"kb3"}, Status: tandem.DocumentPublished})
		must(t, err)
		if len(got) != 0 {
			t.Errorf("draft found as published: %v", got)
		}
		must(t, s.DeleteDocument(ctx, d.ID))
		got, err = s.SearchText(ctx, "screens", only)
		must(t, err)
		if len(got) != 0 {
			t.Errorf("deleted chunk found: %v", got)
		}
	})
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		got, err := s.SearchText(ctx, "How do I get my money refunded?", storage.SearchFilter{Collections: []string{"kb"}, Status: tandem.DocumentPublished, Language: "en"})
		must(t, err)
		if len(got) == 0 || got[0].DocumentID != kb.refund {
			t.Fatalf("hits = %v, want refund first", docIDs(got))
		}
		h := got[0]
		if h.DocumentTitle != "Refund policy" || h.DocumentURL != "https://kb/Refund policy" || h.Text == "" || h.Collection != "kb" || h.ID == "" || h.Score <= 0 {
			t.Errorf("hit = %+v", h)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Score > got[i-1].Score {
				t.Errorf("not sorted by score: %v", got)
			}
		}
		got, err = s.SearchText(ctx, "delivery days", storage.SearchFilter{})
		must(t, err)
		if len(got) == 0 || got[0].DocumentID != kb.shipping {
			t.Errorf("delivery hits = %v, want shipping first", docIDs(got))
		}
	})
	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name string
			f    storage.SearchFilter
			want []string // as a set
		}{
			{"None", storage.SearchFilter{}, []string{kb.refund, kb.draft, kb.french, kb.other}},
			{"Collections", storage.SearchFilter{Collections: []string{"kb2"}}, []string{kb.other}},
			{"Tags", storage.SearchFilter{Tags: []string{"partners", "account"}}, []string{kb.other}},
			{"Language", storage.SearchFilter{Language: "fr"}, []string{kb.french}},
			{"Published", storage.SearchFilter{Collections: []string{"kb"}, Status: tandem.DocumentPublished}, []string{kb.refund, kb.french}},
			{"Draft", storage.SearchFilter{Status: tandem.DocumentDraft}, []string{kb.draft}},
			{"Limit", storage.SearchFilter{Collections: []string{"kb2"}, Limit: 1}, []string{kb.other}},
		}
		for _, tt := range tests {
			got, err := s.SearchText(ctx, "refund", tt.f)
			must(t, err)
			ids := docIDs(got)
			slices.Sort(ids)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(ids, want) {
				t.Errorf("%s: got %v, want %v", tt.name, ids, want)
			}
		}
		got, err := s.SearchText(ctx, "refund", storage.SearchFilter{Limit: 2})
		must(t, err)
		if len(got) != 2 {
			t.Errorf("limit 2 returned %d", len(got))
		}
	})
	t.Run("StopWords", func(t *testing.T) {
		t.Parallel()
		got, err := s.SearchText(ctx, "the and of", storage.SearchFilter{})
		must(t, err)
		if f.TextStopWords && len(got) != 0 {
			t.Errorf("stop-word query found %v", docIDs(got))
		}
		if !f.TextStopWords && len(got) == 0 {
			t.Errorf("stop-word query found nothing; set Features.TextStopWords if intended")
		}
	})
	t.Run("ErrNone", func(t *testing.T) {
		// Hostile or odd input must never become a query error.
		t.Parallel()
		for _, q := range []string{"", "   ", `"`, `refund"`, `refund" OR 1=1 --`, "AND OR NOT", "NEAR(refund password)", "refund*", "^refund", "title:refund",
			"(((", "a & b | !c <-> d", `'; DROP TABLE chunks; --`, "\x00\xff", "返金はできますか", "ré-fund", "-refund", "+refund", "{col}: x", "refund:*"} {
			if _, err := s.SearchText(ctx, q, storage.SearchFilter{}); err != nil {
				t.Errorf("SearchText(%q): %v", q, err)
			}
		}
		got, err := s.SearchText(ctx, `refund" OR "`, storage.SearchFilter{Collections: []string{"kb2"}})
		must(t, err)
		if len(got) != 1 {
			t.Errorf("quoted refund: %v", docIDs(got))
		}
	})
}

func testSearchVector(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	kb := loadKB(t, s)
	t.Run("AfterChange", func(t *testing.T) {
		// Not parallel: it runs before the others, which then see its final state.
		_, err := s.EnsureCollection(ctx, tandem.Collection{Name: "vec", Embedder: "test", Dimension: 3})
		must(t, err)
		only := storage.SearchFilter{Collections: []string{"vec"}, Status: tandem.DocumentPublished}
		a := &tandem.Document{Collection: "vec", Title: "A", ContentHash: "1", Status: tandem.DocumentPublished}
		_, err = s.PutDocument(ctx, a, []tandem.Chunk{{Text: "a", Embedding: []float32{1, 0, 0}}})
		must(t, err)
		b := &tandem.Document{Collection: "vec", Title: "B", ContentHash: "1", Status: tandem.DocumentPublished}
		bChunks := []tandem.Chunk{{Text: "b", Embedding: []float32{0, 1, 0}}}
		_, err = s.PutDocument(ctx, b, bChunks)
		must(t, err)
		top := func() string {
			t.Helper()
			got, err := s.SearchVector(ctx, []float32{0, 0.2, 1}, only)
			must(t, err)
			if len(got) == 0 {
				return ""
			}
			return got[0].DocumentID
		}
		if got := top(); got != b.ID {
			t.Fatalf("top = %s, want B %s", got, b.ID)
		}
		// New version of A points at the query.
		a2 := &tandem.Document{ID: a.ID, Collection: "vec", Title: "A", ContentHash: "2", Status: tandem.DocumentPublished}
		_, err = s.PutDocument(ctx, a2, []tandem.Chunk{{Text: "a2", Embedding: []float32{0, 0, 1}}})
		must(t, err)
		if got := top(); got != a.ID {
			t.Fatalf("after update top = %s, want A %s", got, a.ID)
		}
		// Unpublish A: B again.
		must(t, s.SetDocumentStatus(ctx, a.ID, tandem.DocumentDraft))
		if got := top(); got != b.ID {
			t.Fatalf("after unpublish top = %s, want B", got)
		}
		must(t, s.SetDocumentStatus(ctx, a.ID, tandem.DocumentPublished))
		if got := top(); got != a.ID {
			t.Fatalf("after republish top = %s, want A", got)
		}
		// Re-embed B onto the query.
		bChunks[0].Embedding = []float32{0, 0.2, 1}
		must(t, s.ReplaceEmbeddings(ctx, bChunks))
		got, err := s.SearchVector(ctx, []float32{0, 0.2, 1}, only)
		must(t, err)
		if len(got) != 2 || got[0].DocumentID != b.ID || math.Abs(got[0].Score-1) > 1e-5 {
			t.Fatalf("after re-embed = %v", got)
		}
		must(t, s.DeleteDocument(ctx, b.ID))
		if got := top(); got != a.ID {
			t.Fatalf("after delete top = %s, want A", got)
		}
	})
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		got, err := s.SearchVector(ctx, []float32{2, 0, 0}, storage.SearchFilter{Collections: []string{"kb"}})
		must(t, err)
		want := []string{kb.refund, kb.draft, kb.french, kb.password, kb.shipping}
		// password (0,0,1) scores 0 like shipping; compare only the clear part of the order.
		if ids := docIDs(got); len(ids) != 5 || !slices.Equal(ids[:3], want[:3]) {
			t.Fatalf("order = %v, want %v", ids, want)
		}
		if math.Abs(got[0].Score-1) > 1e-5 {
			t.Errorf("best score = %v, want 1", got[0].Score)
		}
		wantDraft := 0.9 / math.Sqrt(0.82)
		if math.Abs(got[1].Score-wantDraft) > 1e-4 {
			t.Errorf("second score = %v, want %v", got[1].Score, wantDraft)
		}
		h := got[0]
		if h.DocumentTitle != "Refund policy" || h.DocumentURL == "" || h.Text == "" || h.Heading != "Refund policy" || h.Collection != "kb" {
			t.Errorf("hit = %+v", h)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		q := []float32{1, 0, 0}
		tests := []struct {
			name string
			f    storage.SearchFilter
			want []string // in order
		}{
			{"All", storage.SearchFilter{Limit: 3}, []string{kb.refund, kb.other, kb.draft}},
			{"Collections", storage.SearchFilter{Collections: []string{"kb2"}}, []string{kb.other}},
			{"Tags", storage.SearchFilter{Tags: []string{"account", "partners"}}, []string{kb.other, kb.password}},
			{"Language", storage.SearchFilter{Language: "fr"}, []string{kb.french}},
			{"Published", storage.SearchFilter{Collections: []string{"kb"}, Status: tandem.DocumentPublished, Limit: 2}, []string{kb.refund, kb.french}},
			{"Draft", storage.SearchFilter{Status: tandem.DocumentDraft}, []string{kb.draft}},
		}
		for _, tt := range tests {
			got, err := s.SearchVector(ctx, q, tt.f)
			must(t, err)
			if ids := docIDs(got); !slices.Equal(ids, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, ids, tt.want)
			}
		}
	})
	t.Run("ErrNone", func(t *testing.T) {
		t.Parallel()
		// A query of another dimension matches nothing rather than failing.
		got, err := s.SearchVector(ctx, []float32{1, 0}, storage.SearchFilter{})
		must(t, err)
		if len(got) != 0 {
			t.Errorf("wrong dimension matched %v", docIDs(got))
		}
	})
}

func testAudit(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		e1 := &tandem.AuditEntry{Actor: "agent:1", Action: "ticket.claim", Subject: "t-audit", Detail: map[string]string{"queue": "q"}, At: when}
		must(t, s.AppendAudit(ctx, e1))
		e2 := &tandem.AuditEntry{Actor: "system", Action: "ticket.close", Subject: "t-audit"}
		must(t, s.AppendAudit(ctx, e2))
		if e1.ID == 0 || e2.ID <= e1.ID || e2.At.IsZero() {
			t.Fatalf("ids %d %d at %v", e1.ID, e2.ID, e2.At)
		}
		got, err := s.ListAudit(ctx, storage.AuditFilter{Subject: "t-audit"})
		must(t, err)
		if len(got) != 2 || got[0].ID != e2.ID || got[1].ID != e1.ID {
			t.Fatalf("got %+v, want newest first", got)
		}
		if got[1].Actor != "agent:1" || got[1].Detail["queue"] != "q" {
			t.Errorf("entry = %+v", got[1])
		}
		wantTime(t, "At", got[1].At, when)
		got, err = s.ListAudit(ctx, storage.AuditFilter{Subject: "t-audit", Action: "ticket.claim"})
		must(t, err)
		if len(got) != 1 || got[0].ID != e1.ID {
			t.Errorf("by action = %+v", got)
		}
		got, err = s.ListAudit(ctx, storage.AuditFilter{Limit: 1})
		must(t, err)
		if len(got) != 1 {
			t.Errorf("limit = %d entries", len(got))
		}
	})
}

func testPing(t *testing.T, s storage.Store, _ Features) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}
