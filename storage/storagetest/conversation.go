package storagetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

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
	t.Run("CreateConversation/ErrSecondOpen", func(t *testing.T) {
		t.Parallel()
		cust, _ := resolve(t, s, tandem.ChannelSMS, "+15550207")
		other, _ := resolve(t, s, tandem.ChannelSMS, "+15550208")
		first := newConversation(t, s, "bot", cust.ID, tandem.ChannelSMS)
		for _, tt := range []struct {
			name     string
			bot      string
			customer string
			status   tandem.ConversationStatus
			want     string // error code; empty: created
		}{
			{"Open", "bot", cust.ID, tandem.StatusOpen, tandem.EDUPLICATE},
			{"HandoffOnOtherChannel", "bot", cust.ID, tandem.StatusHandoff, tandem.EDUPLICATE},
			{"OtherBot", "other-bot", cust.ID, tandem.StatusOpen, ""},
			{"OtherCustomer", "bot", other.ID, tandem.StatusOpen, ""},
			{"Closed", "bot", cust.ID, tandem.StatusClosed, ""},
			{"ClosedAgain", "bot", cust.ID, tandem.StatusClosed, ""},
		} {
			c := &tandem.Conversation{BotID: tt.bot, CustomerID: tt.customer, Channel: tandem.ChannelWebChat, Status: tt.status}
			if got := tandem.ErrorCode(s.CreateConversation(ctx, c)); got != tt.want {
				t.Errorf("%s: error code %q, want %q", tt.name, got, tt.want)
			}
		}
		got, err := s.FindOpenConversation(ctx, "bot", cust.ID)
		must(t, err)
		if got.ID != first.ID {
			t.Errorf("open conversation = %s, want the first %s", got.ID, first.ID)
		}
	})
	t.Run("CreateConversation/ConcurrentSecondOpen", func(t *testing.T) {
		t.Parallel()
		cust, _ := resolve(t, s, tandem.ChannelSMS, "+15550209")
		const n = 8
		convs := make([]*tandem.Conversation, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			convs[i] = &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusOpen}
			wg.Go(func() {
				<-start
				errs[i] = s.CreateConversation(ctx, convs[i])
			})
		}
		close(start)
		wg.Wait()
		var won []string
		for i, err := range errs {
			switch tandem.ErrorCode(err) {
			case "":
				won = append(won, convs[i].ID)
			case tandem.EDUPLICATE:
			default:
				t.Errorf("create %d: %v, want success or EDUPLICATE", i, err)
			}
		}
		if len(won) != 1 {
			t.Fatalf("%d of %d concurrent creates succeeded, want exactly 1", len(won), n)
		}
		got, err := s.FindOpenConversation(ctx, "bot", cust.ID)
		must(t, err)
		if got.ID != won[0] {
			t.Errorf("open conversation = %s, want the one created %s", got.ID, won[0])
		}
		all, err := s.ListConversations(ctx, storage.ConversationFilter{CustomerID: cust.ID})
		must(t, err)
		if len(all) != 1 {
			t.Errorf("customer has %d conversations, want 1", len(all))
		}
	})
	t.Run("UpdateConversation/ErrSecondOpen", func(t *testing.T) {
		t.Parallel()
		cust, _ := resolve(t, s, tandem.ChannelSMS, "+15550210")
		other, _ := resolve(t, s, tandem.ChannelSMS, "+15550211")
		closed := &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusClosed, State: []byte("closed")}
		must(t, s.CreateConversation(ctx, closed))
		open := newConversation(t, s, "bot", cust.ID, tandem.ChannelWebChat)
		others := newConversation(t, s, "bot", other.ID, tandem.ChannelSMS)
		for _, tt := range []struct {
			name string
			do   func() error
		}{
			{"Reopen", func() error {
				_, err := s.UpdateConversation(ctx, closed.ID, storage.ConversationUpdate{Status: ptr(tandem.StatusOpen)})
				return err
			}},
			{"HandOffClosed", func() error {
				_, err := s.UpdateConversation(ctx, closed.ID, storage.ConversationUpdate{Status: ptr(tandem.StatusHandoff)})
				return err
			}},
			{"MoveToCustomer", func() error {
				_, err := s.UpdateConversation(ctx, others.ID, storage.ConversationUpdate{CustomerID: ptr(cust.ID)})
				return err
			}},
			{"RecordTurnReopen", func() error {
				return s.RecordTurn(ctx, storage.TurnRecord{ConversationID: closed.ID,
					Replies: []*tandem.Message{{Channel: tandem.ChannelSMS, Text: "welcome back"}},
					Update:  storage.ConversationUpdate{Status: ptr(tandem.StatusOpen), State: []byte("reopened")}})
			}},
		} {
			if got := tandem.ErrorCode(tt.do()); got != tandem.EDUPLICATE {
				t.Errorf("%s: error code %q, want %q", tt.name, got, tandem.EDUPLICATE)
			}
		}
		// Nothing changed: not the rows, not what the look-ups return.
		for _, want := range []*tandem.Conversation{closed, open, others} {
			got, err := s.FindConversationByID(ctx, want.ID)
			must(t, err)
			if got.Status != want.Status || got.CustomerID != want.CustomerID || string(got.State) != string(want.State) {
				t.Errorf("after refused updates: %+v, want %+v", got, want)
			}
		}
		msgs, err := s.ListMessages(ctx, closed.ID, storage.MessageFilter{})
		must(t, err)
		if len(msgs) != 0 {
			t.Errorf("refused turn stored %d messages", len(msgs))
		}
		for cust, want := range map[string]string{cust.ID: open.ID, other.ID: others.ID} {
			got, err := s.FindOpenConversation(ctx, "bot", cust)
			must(t, err)
			if got.ID != want {
				t.Errorf("open conversation of %s = %s, want %s", cust, got.ID, want)
			}
		}
		// Once the open one is closed, the closed one may be reopened.
		_, err = s.UpdateConversation(ctx, open.ID, storage.ConversationUpdate{Status: ptr(tandem.StatusClosed)})
		must(t, err)
		_, err = s.UpdateConversation(ctx, closed.ID, storage.ConversationUpdate{Status: ptr(tandem.StatusOpen)})
		must(t, err)
		if got, err := s.FindOpenConversation(ctx, "bot", cust.ID); err != nil || got.ID != closed.ID {
			t.Errorf("after reopening: %v, %v; want %s", got, err, closed.ID)
		}
	})
	t.Run("FindOpenConversation/OK", func(t *testing.T) {
		t.Parallel()
		cust, _ := resolve(t, s, tandem.ChannelSMS, "+15550202")
		// older is closed after newer's time: updated later, and still not the open one.
		older := &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusOpen, CreatedAt: when}
		must(t, s.CreateConversation(ctx, older))
		_, err := s.UpdateConversation(ctx, older.ID, storage.ConversationUpdate{Status: ptr(tandem.StatusClosed)})
		must(t, err)
		newer := &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelWebChat, Status: tandem.StatusHandoff, CreatedAt: when.Add(time.Hour)}
		must(t, s.CreateConversation(ctx, newer))
		closed := &tandem.Conversation{BotID: "bot", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusClosed, CreatedAt: when.Add(2 * time.Hour)}
		must(t, s.CreateConversation(ctx, closed))
		other := &tandem.Conversation{BotID: "other", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusOpen, CreatedAt: when.Add(3 * time.Hour)}
		must(t, s.CreateConversation(ctx, other))
		got, err := s.FindOpenConversation(ctx, "bot", cust.ID)
		must(t, err)
		if got.ID != newer.ID {
			t.Errorf("open conversation = %s, want the not-closed %s", got.ID, newer.ID)
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
		found, err := s.FindMessageByProviderID(ctx, tandem.ChannelSMS, "SM-dup")
		must(t, err)
		if found.ID != m.ID || found.Text != "once" {
			t.Errorf("FindMessageByProviderID = %+v, want the first", found)
		}
		_, err = s.FindMessageByProviderID(ctx, tandem.ChannelWhatsApp, "SM-dup")
		wantCode(t, err, tandem.ENOTFOUND)
		_, err = s.FindMessageByProviderID(ctx, tandem.ChannelSMS, "")
		wantCode(t, err, tandem.ENOTFOUND)
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
	t.Run("RecordTurn/WithInbound", func(t *testing.T) {
		t.Parallel()
		_, conv := setup(t, "+15550390")
		in := &tandem.Message{Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: "where is my parcel?",
			Annotations: &tandem.Annotations{Language: "en", Intent: tandem.IntentScore{Name: "tracking", Confidence: 0.9}}}
		reply := &tandem.Message{Role: tandem.RoleBot, Channel: tandem.ChannelSMS, Text: "On its way"}
		must(t, s.RecordTurn(ctx, storage.TurnRecord{ConversationID: conv.ID, Inbound: in, Replies: []*tandem.Message{reply},
			Update: storage.ConversationUpdate{State: []byte("state-3")}}))
		if in.ID == "" || in.ConversationID != conv.ID || in.CreatedAt.IsZero() {
			t.Errorf("inbound not assigned: %+v", in)
		}
		got, err := s.ListMessages(ctx, conv.ID, storage.MessageFilter{})
		must(t, err)
		if len(got) != 2 || got[0].ID != in.ID || got[0].Annotations == nil || got[0].Annotations.Intent.Name != "tracking" || got[1].ID != reply.ID {
			t.Fatalf("messages = %+v", got)
		}
	})
	t.Run("RecordTurn/CheckState", func(t *testing.T) {
		t.Parallel()
		// A turn that started from a state another turn has since replaced stores nothing.
		_, conv := setup(t, "+15550392")
		turn := func(prev []byte, next, text string) error {
			return s.RecordTurn(ctx, storage.TurnRecord{ConversationID: conv.ID, CheckState: true, PrevState: prev,
				Inbound: &tandem.Message{Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: text},
				Replies: []*tandem.Message{{Channel: tandem.ChannelSMS, Text: "re: " + text}},
				Update:  storage.ConversationUpdate{State: []byte(next)}})
		}
		must(t, turn(conv.State, "state-a", "first"))                       // from the state it was created with
		wantCode(t, turn(conv.State, "state-b", "stale"), tandem.ECONFLICT) // started before "first" was recorded
		must(t, turn([]byte("state-a"), "state-c", "second"))
		got, err := s.ListMessages(ctx, conv.ID, storage.MessageFilter{})
		must(t, err)
		if len(got) != 4 || got[0].Text != "first" || got[2].Text != "second" {
			t.Errorf("messages = %+v, want the first and second turns only", got)
		}
		c, err := s.FindConversationByID(ctx, conv.ID)
		must(t, err)
		if string(c.State) != "state-c" {
			t.Errorf("state = %q, want state-c", c.State)
		}
		err = s.RecordTurn(ctx, storage.TurnRecord{ConversationID: "missing", CheckState: true, Update: storage.ConversationUpdate{State: []byte("x")}})
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("RecordTurn/Audit", func(t *testing.T) {
		t.Parallel()
		// A turn's audit entries are stored with it, and only with it.
		_, conv := setup(t, "+15550393")
		audit := func(q string) []*tandem.AuditEntry {
			return []*tandem.AuditEntry{{Actor: "system", Action: "question.unanswered", Subject: conv.ID, Detail: map[string]string{"question": q}}}
		}
		turn := func(prev []byte, next, text string, a []*tandem.AuditEntry) error {
			return s.RecordTurn(ctx, storage.TurnRecord{ConversationID: conv.ID, CheckState: true, PrevState: prev,
				Inbound: &tandem.Message{Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: text},
				Update:  storage.ConversationUpdate{State: []byte(next)}, Audit: a})
		}
		recorded := audit("meaning of life?")
		must(t, turn(conv.State, "state-a", "meaning of life?", recorded))
		if recorded[0].ID == 0 || recorded[0].At.IsZero() {
			t.Errorf("entry not assigned: %+v", recorded[0])
		}
		wantCode(t, turn(conv.State, "state-b", "stale", audit("stale")), tandem.ECONFLICT)
		got, err := s.ListAudit(ctx, storage.AuditFilter{Subject: conv.ID})
		must(t, err)
		if len(got) != 1 || got[0].ID != recorded[0].ID || got[0].Detail["question"] != "meaning of life?" {
			t.Errorf("audit = %+v, want the recorded turn's entry only", got)
		}
	})
	t.Run("RecordTurn/ManyReplies", func(t *testing.T) {
		t.Parallel()
		// More messages than one insert statement may carry keep their order.
		_, conv := setup(t, "+15550391")
		in := &tandem.Message{Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: "tell me everything"}
		var replies []*tandem.Message
		for i := range 9 {
			replies = append(replies, &tandem.Message{Channel: tandem.ChannelSMS, Text: fmt.Sprintf("part %d", i)})
		}
		must(t, s.RecordTurn(ctx, storage.TurnRecord{ConversationID: conv.ID, Inbound: in, Replies: replies,
			Update: storage.ConversationUpdate{State: []byte("state-4")}}))
		got, err := s.ListMessages(ctx, conv.ID, storage.MessageFilter{})
		must(t, err)
		if len(got) != 10 || got[0].ID != in.ID {
			t.Fatalf("%d messages, first %+v; want the inbound and 9 replies", len(got), got[0])
		}
		for i, m := range got[1:] {
			if m.ID != replies[i].ID || m.Text != fmt.Sprintf("part %d", i) || m.Role != tandem.RoleBot {
				t.Errorf("message %d = %q (%s), want part %d", i+1, m.Text, m.Role, i)
			}
		}
	})
	t.Run("RecordTurn/WithInboundErrNotFound", func(t *testing.T) {
		t.Parallel()
		// A turn of a missing conversation stores nothing, not even its inbound message.
		in := &tandem.Message{Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: "hello?"}
		err := s.RecordTurn(ctx, storage.TurnRecord{ConversationID: "missing", Inbound: in, Update: storage.ConversationUpdate{State: []byte("x")}})
		if tandem.ErrorCode(err) != tandem.ENOTFOUND && tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("err = %v, want not_found or invalid", err)
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
