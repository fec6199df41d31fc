package bots_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/teststore"
	"github.com/tandemhq/tandem/storage"
)

// racingStore is a store shared with another replica that answers the same customer: before
// each of the engine's first races turns is recorded, that replica records its own turn of
// the conversation, replacing the state the engine's turn started from.
type racingStore struct {
	storage.Store
	races   atomic.Int32
	records atomic.Int32
}

func (s *racingStore) RecordTurn(ctx context.Context, t storage.TurnRecord) error {
	s.records.Add(1)
	if n := s.races.Add(-1); n >= 0 {
		other := storage.TurnRecord{ConversationID: t.ConversationID,
			Update: storage.ConversationUpdate{State: fmt.Appendf(nil, `{"turns":41,"race":%d}`, n)}}
		if err := s.Store.RecordTurn(ctx, other); err != nil {
			return err
		}
	}
	return s.Store.RecordTurn(ctx, t)
}

// TestTurnRace checks that a turn whose conversation another replica changed meanwhile starts
// again from the stored state, stores the customer's message once, and, when it keeps
// losing, still keeps the message.
func TestTurnRace(t *testing.T) {
	t.Parallel()
	for _, store := range teststore.All {
		for _, tt := range []struct {
			name       string
			providerID string
			races      int32
			wantErr    string // error code; empty: the turn succeeds
			records    int32
		}{
			{name: "OKREST", races: 1, records: 2},
			{name: "OKProviderID", providerID: "SM-race", races: 1, records: 2},
			{name: "ErrConflictKeepsMessage", races: 100, wantErr: tandem.ECONFLICT, records: 3},
			{name: "ErrConflictKeepsProviderMessage", providerID: "SM-lost", races: 100, wantErr: tandem.ECONFLICT, records: 3},
		} {
			t.Run(store.Name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				st := &racingStore{Store: store.Open(t)}
				f := setupStore(t, st)
				ctx := context.Background()
				// A first turn without races opens the conversation.
				f.say(t, tandem.ChannelSMS, "+15550177", "hi there")
				st.records.Store(0)
				st.races.Store(tt.races)
				turn, err := f.engine.HandleMessage(ctx, tandem.Inbound{BotID: "demo", Channel: tandem.ChannelSMS,
					ExternalID: "+15550177", Text: "thanks!", ProviderID: tt.providerID})
				if got := tandem.ErrorCode(err); got != tt.wantErr {
					t.Fatalf("error code %q (%v), want %q", got, err, tt.wantErr)
				}
				if got := st.records.Load(); got != tt.records {
					t.Errorf("turns recorded %d times, want %d", got, tt.records)
				}
				cust, _, err := st.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550177")
				if err != nil {
					t.Fatal(err)
				}
				conv, err := st.FindOpenConversation(ctx, "demo", cust.ID)
				if err != nil {
					t.Fatal(err)
				}
				msgs, err := st.ListMessages(ctx, conv.ID, storage.MessageFilter{})
				if err != nil {
					t.Fatal(err)
				}
				var thanks int
				for _, m := range msgs {
					if m.Role == tandem.RoleCustomer && m.Text == "thanks!" {
						thanks++
					}
				}
				if thanks != 1 {
					t.Errorf("the customer's message is stored %d times, want once", thanks)
				}
				if tt.wantErr != "" {
					return
				}
				if turn.Duplicate || len(turn.Replies) == 0 {
					t.Errorf("turn = %+v, want an answered turn", turn)
				}
				// The turn started again from the other replica's state.
				var state struct{ Turns int }
				if err := json.Unmarshal(conv.State, &state); err != nil || state.Turns != 42 {
					t.Errorf("state %s (%v), want the other replica's 41 turns and this one", conv.State, err)
				}
			})
		}
	}
}

// TestTurnRaceActionKey checks that a turn that starts again sends its flow's HTTP action
// again with the same idempotency key, so the action server can drop the repeat.
func TestTurnRaceActionKey(t *testing.T) {
	t.Parallel()
	for _, store := range teststore.All {
		t.Run(store.Name, func(t *testing.T) {
			t.Parallel()
			st := &racingStore{Store: store.Open(t)}
			f := setupStore(t, st)
			f.say(t, tandem.ChannelSMS, "+15550178", "hi there")
			st.races.Store(1)
			turn := f.say(t, tandem.ChannelSMS, "+15550178", "where is my order A123456?")
			keys := f.actions.Keys()
			want := turn.MessageID + "/order_status/lookup/1"
			if len(keys) != 2 || keys[0] != want || keys[1] != want {
				t.Errorf("action keys = %q, want %q twice (the turn ran twice)", keys, want)
			}
		})
	}
}

// openingStore is a store shared with another replica that answers a new customer's first
// message at the same moment as the engine: the engine's turn reads that the customer has
// no conversation with the bot, and the other replica's conversation, holding its own
// customer message, is stored before the engine's CreateConversation.
type openingStore struct {
	storage.Store
	// hide makes ResolveTurn and FindOpenConversation report no conversation until the
	// engine tries to create one: the other replica committed after the turn's reads.
	hide atomic.Bool
	// openOnCreate makes the other replica open its conversation just before the engine's
	// CreateConversation; closeAfter makes it close it again before the engine reads it.
	openOnCreate, closeAfter bool
	other                    atomic.Pointer[tandem.Conversation]
	dupes                    atomic.Int32 // the engine's creates that found the other's
}

// openOther stores the other replica's conversation with its customer's message.
func (s *openingStore) openOther(ctx context.Context, botID, customerID string) error {
	c := &tandem.Conversation{BotID: botID, CustomerID: customerID, Channel: tandem.ChannelSMS, Status: tandem.StatusOpen}
	if err := s.Store.CreateConversation(ctx, c); err != nil {
		return fmt.Errorf("other replica's conversation: %w", err)
	}
	s.other.Store(c)
	return s.Store.CreateMessage(ctx, &tandem.Message{ConversationID: c.ID, Role: tandem.RoleCustomer,
		Channel: tandem.ChannelSMS, Text: "other replica's message"})
}

func (s *openingStore) ResolveTurn(ctx context.Context, botID string, ch tandem.Channel, externalID string) (*storage.TurnStart, error) {
	ts, err := s.Store.ResolveTurn(ctx, botID, ch, externalID)
	if err == nil && s.hide.Load() {
		ts.Conversation = nil
	}
	return ts, err
}

func (s *openingStore) FindOpenConversation(ctx context.Context, botID, customerID string) (*tandem.Conversation, error) {
	if s.hide.Load() {
		return nil, tandem.Errorf(tandem.ENOTFOUND, "no open conversation (hidden)")
	}
	return s.Store.FindOpenConversation(ctx, botID, customerID)
}

func (s *openingStore) CreateConversation(ctx context.Context, c *tandem.Conversation) error {
	s.hide.Store(false)
	if s.openOnCreate && s.other.Load() == nil {
		if err := s.openOther(ctx, c.BotID, c.CustomerID); err != nil {
			return err
		}
	}
	err := s.Store.CreateConversation(ctx, c)
	if tandem.ErrorCode(err) == tandem.EDUPLICATE {
		s.dupes.Add(1)
		if s.closeAfter {
			closed := tandem.StatusClosed
			if _, err := s.Store.UpdateConversation(ctx, s.other.Load().ID, storage.ConversationUpdate{Status: &closed}); err != nil {
				return err
			}
		}
	}
	return err
}

// TestConversationRace checks that a turn which read that a new customer has no
// conversation, while another replica opened one, continues in that one: the customer
// keeps one open conversation holding both replicas' messages. When the other replica's
// conversation is closed again before the turn reads it, the turn starts again and opens
// a conversation of its own.
func TestConversationRace(t *testing.T) {
	t.Parallel()
	for _, store := range teststore.All {
		for _, tt := range []struct {
			name string
			// existing: the other replica's conversation is stored before the turn starts
			// and hidden from its reads; otherwise it is stored just before the engine's create.
			existing   bool
			closeAfter bool
			wantConvs  int // the customer's conversations with the bot
			inOther    bool
		}{
			{name: "OKOpenedBeforeReads", existing: true, wantConvs: 1, inOther: true},
			{name: "OKOpenedBeforeCreate", wantConvs: 1, inOther: true},
			{name: "OKOpenedAndClosed", closeAfter: true, wantConvs: 2},
		} {
			t.Run(store.Name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				st := &openingStore{Store: store.Open(t), openOnCreate: !tt.existing, closeAfter: tt.closeAfter}
				f := setupStore(t, st)
				if tt.existing {
					cust, _, err := st.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550179")
					if err != nil {
						t.Fatal(err)
					}
					if err := st.openOther(ctx, "demo", cust.ID); err != nil {
						t.Fatal(err)
					}
					st.hide.Store(true)
				}
				turn := f.say(t, tandem.ChannelSMS, "+15550179", "hi there")
				if got := st.dupes.Load(); got != 1 {
					t.Errorf("the engine's creates refused as a second open conversation: %d, want 1", got)
				}
				other := st.other.Load()
				if got := turn.ConversationID == other.ID; got != tt.inOther {
					t.Errorf("turn in the other replica's conversation %s: %v, want %v (turn in %s)", other.ID, got, tt.inOther, turn.ConversationID)
				}
				convs, err := st.ListConversations(ctx, storage.ConversationFilter{BotID: "demo", CustomerID: turn.CustomerID})
				if err != nil {
					t.Fatal(err)
				}
				var open int
				for _, c := range convs {
					if c.Status != tandem.StatusClosed {
						open++
					}
				}
				if len(convs) != tt.wantConvs || open != 1 {
					t.Errorf("customer's conversations: %d (%d not closed), want %d (1 not closed)", len(convs), open, tt.wantConvs)
				}
				conv, err := st.FindOpenConversation(ctx, "demo", turn.CustomerID)
				if err != nil {
					t.Fatal(err)
				}
				if conv.ID != turn.ConversationID {
					t.Errorf("open conversation %s, want the turn's %s", conv.ID, turn.ConversationID)
				}
				msgs, err := st.ListMessages(ctx, conv.ID, storage.MessageFilter{})
				if err != nil {
					t.Fatal(err)
				}
				var texts []string
				for _, m := range msgs {
					if m.Role == tandem.RoleCustomer {
						texts = append(texts, m.Text)
					}
				}
				want := []string{"hi there"}
				if tt.inOther {
					want = []string{"other replica's message", "hi there"}
				}
				if !slices.Equal(texts, want) {
					t.Errorf("customer messages in the open conversation = %q, want %q", texts, want)
				}
			})
		}
	}
}
