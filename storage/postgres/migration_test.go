package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// TestMigrationOneOpen checks that migration 0007 leaves each customer one not-closed
// conversation per bot, the one FindOpenConversation returned before it (newest by
// updated_at, then id), and that the index then refuses a second.
func TestMigrationOneOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t)
	c1, _, err := s.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550301")
	if err != nil {
		t.Fatal(err)
	}
	c2, _, err := s.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550302")
	if err != nil {
		t.Fatal(err)
	}
	at := func(h int) time.Time { return time.Date(2026, 1, 1, h, 0, 0, 0, time.UTC) }
	rows := []struct {
		id, bot, customer, status string
		updated                   time.Time
		want                      string // status after the migration
	}{
		{"conv-a", "bot", c1.ID, "open", at(1), "closed"},
		{"conv-b", "bot", c1.ID, "handoff", at(2), "closed"},
		{"conv-c", "bot", c1.ID, "open", at(2), "open"}, // same time as conv-b, greater id
		{"conv-d", "bot", c1.ID, "closed", at(3), "closed"},
		{"conv-e", "other-bot", c1.ID, "open", at(1), "open"},
		{"conv-f", "bot", c2.ID, "handoff", at(1), "handoff"},
	}
	// The schema as it was before 0007, holding what it allowed.
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DROP INDEX conversations_one_open`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM schema_migrations WHERE version = 7`); err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := tx.Exec(ctx, `INSERT INTO conversations (`+conversationCols+`) VALUES ($1, $2, $3, 'sms', $4, NULL, $5, $5)`,
				r.id, r.bot, r.customer, r.status, r.updated); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Migrate(ctx); err != nil || n != 1 {
		t.Fatalf("Migrate = %d, %v; want 1 applied", n, err)
	}
	for _, r := range rows {
		c, err := s.FindConversationByID(ctx, r.id)
		if err != nil {
			t.Fatal(err)
		}
		if string(c.Status) != r.want || !c.UpdatedAt.Equal(r.updated) {
			t.Errorf("%s: status %s updated %v, want %s and %v kept", r.id, c.Status, c.UpdatedAt, r.want, r.updated)
		}
	}
	err = s.CreateConversation(ctx, &tandem.Conversation{BotID: "bot", CustomerID: c1.ID, Channel: tandem.ChannelSMS})
	if got := tandem.ErrorCode(err); got != tandem.EDUPLICATE {
		t.Errorf("second open conversation after the migration: %q (%v), want %q", got, err, tandem.EDUPLICATE)
	}
}

// TestTurnUpdateHOT checks that a turn's update of its conversation stays a HOT update
// with conversations_one_open in place (see migrations 0003 and 0007): no index holds a
// column a turn changes, and a turn that keeps the status keeps the index's predicate.
// Only a change of status (a handoff, a close) must update the index.
func TestTurnUpdateHOT(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t)
	cust, _, err := s.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550303")
	if err != nil {
		t.Fatal(err)
	}
	handoff, web := tandem.StatusHandoff, tandem.ChannelWebChat
	for _, tt := range []struct {
		name string
		upd  storage.ConversationUpdate
		hot  bool
	}{
		{"State", storage.ConversationUpdate{State: []byte(`{"turns":1}`)}, true},
		{"StateAndChannel", storage.ConversationUpdate{State: []byte(`{"turns":2}`), Channel: &web}, true},
		{"Nothing", storage.ConversationUpdate{}, true},
		{"Handoff", storage.ConversationUpdate{Status: &handoff}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conv := &tandem.Conversation{BotID: "bot-" + tt.name, CustomerID: cust.ID, Channel: tandem.ChannelSMS}
			if err := s.CreateConversation(ctx, conv); err != nil {
				t.Fatal(err)
			}
			// The transaction's statistics (which may include updates of the connection's
			// earlier transactions not reported yet) count the update at once.
			err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
				stats := func() (upd, hot int, err error) {
					err = tx.QueryRow(ctx, `SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables
						WHERE relname = 'conversations' AND schemaname = current_schema()`).Scan(&upd, &hot)
					return upd, hot, err
				}
				upd0, hot0, err := stats()
				if err != nil {
					return fmt.Errorf("statistics: %w", err)
				}
				if _, err := tx.Exec(ctx, updateTurnConversationSQL, s.updateConversationArgs(conv.ID, tt.upd)...); err != nil {
					return fmt.Errorf("update: %w", err)
				}
				upd, hot, err := stats()
				if err != nil {
					return fmt.Errorf("statistics: %w", err)
				}
				if upd-upd0 != 1 || (hot-hot0 == 1) != tt.hot {
					t.Errorf("updates %d, HOT %d; want 1 update, HOT: %v", upd-upd0, hot-hot0, tt.hot)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
