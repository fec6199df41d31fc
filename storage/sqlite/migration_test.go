package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/tandemhq/tandem"
)

// TestMigrationOneOpen checks that migration 0007 leaves each customer one not-closed
// conversation per bot, the one FindOpenConversation returned before it (newest by
// updated_at, then id), and that the index then refuses a second.
func TestMigrationOneOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"), Config{Migrate: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c1, _, err := s.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550301")
	if err != nil {
		t.Fatal(err)
	}
	c2, _, err := s.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550302")
	if err != nil {
		t.Fatal(err)
	}
	rows := []struct {
		id, bot, customer, status string
		updated                   int64
		want                      string // status after the migration
	}{
		{"conv-a", "bot", c1.ID, "open", 1, "closed"},
		{"conv-b", "bot", c1.ID, "handoff", 2, "closed"},
		{"conv-c", "bot", c1.ID, "open", 2, "open"}, // same time as conv-b, greater id
		{"conv-d", "bot", c1.ID, "closed", 3, "closed"},
		{"conv-e", "other-bot", c1.ID, "open", 1, "open"},
		{"conv-f", "bot", c2.ID, "handoff", 1, "handoff"},
	}
	// The schema as it was before 0007, holding what it allowed.
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DROP INDEX conversations_one_open; DELETE FROM schema_migrations WHERE version = 7`); err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, insertConversationSQL, r.id, r.bot, r.customer, "sms", r.status, nil, r.updated, r.updated); err != nil {
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
		if string(c.Status) != r.want || c.UpdatedAt.UnixMicro() != r.updated {
			t.Errorf("%s: status %s updated %d, want %s and %d kept", r.id, c.Status, c.UpdatedAt.UnixMicro(), r.want, r.updated)
		}
	}
	err = s.CreateConversation(ctx, &tandem.Conversation{BotID: "bot", CustomerID: c1.ID, Channel: tandem.ChannelSMS})
	if got := tandem.ErrorCode(err); got != tandem.EDUPLICATE {
		t.Errorf("second open conversation after the migration: %q (%v), want %q", got, err, tandem.EDUPLICATE)
	}
}
