package bots_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/sqlite"
)

// openCounter counts FindOpenConversation calls: the engine's re-reads under the
// customer's lock.
type openCounter struct {
	storage.Store
	n atomic.Int32
}

func (s *openCounter) FindOpenConversation(ctx context.Context, botID, customerID string) (*tandem.Conversation, error) {
	s.n.Add(1)
	return s.Store.FindOpenConversation(ctx, botID, customerID)
}

// TestTurnReadsUnderCustomerLock checks when a turn must read the open conversation again
// because its first read was not made under the customer's lock: on an identity's first
// turn in this engine and after the identity moved to another customer, not otherwise.
func TestTurnReadsUnderCustomerLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"), sqlite.Config{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	counter := &openCounter{Store: st}
	f := setupStore(t, counter)

	first := f.say(t, tandem.ChannelSMS, "+15550700", "hi")
	other := f.say(t, tandem.ChannelSMS, "+15550701", "hi")
	steps := []struct {
		name       string
		before     func(t *testing.T)
		wantReads  int32
		wantCust   string
		wantConvID string
	}{
		{name: "remembered identity", wantReads: 0, wantCust: first.CustomerID, wantConvID: first.ConversationID},
		{name: "identity moved to another customer",
			before: func(t *testing.T) {
				id, err := st.FindIdentity(ctx, tandem.ChannelSMS, "+15550700")
				if err != nil {
					t.Fatal(err)
				}
				if err := st.LinkIdentity(ctx, id.ID, other.CustomerID, "test"); err != nil {
					t.Fatal(err)
				}
			},
			wantReads: 1, wantCust: other.CustomerID},
		{name: "remembered again", wantReads: 0, wantCust: other.CustomerID},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before(t)
		}
		n := counter.n.Load()
		turn := f.say(t, tandem.ChannelSMS, "+15550700", "thanks")
		if got := counter.n.Load() - n; got != s.wantReads {
			t.Errorf("%s: %d reads of the open conversation, want %d", s.name, got, s.wantReads)
		}
		if turn.CustomerID != s.wantCust || (s.wantConvID != "" && turn.ConversationID != s.wantConvID) {
			t.Errorf("%s: turn in %s/%s, want customer %s (conversation %q)", s.name, turn.CustomerID, turn.ConversationID, s.wantCust, s.wantConvID)
		}
	}
}
