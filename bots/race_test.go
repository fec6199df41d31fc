package bots_test

import (
	"context"
	"encoding/json"
	"fmt"
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
