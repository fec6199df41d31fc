package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage/sqlite"
)

// TestBackgroundCheckpoint checks that committed writes reach the database file without any
// commit crossing the writer's (backstop) autocheckpoint: the background checkpointer copies
// the WAL. Without it the file would stay at its size after migrations.
func TestBackgroundCheckpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tandem.db")
	s, err := sqlite.Open(ctx, path, sqlite.Config{Migrate: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cust, _, err := s.ResolveIdentity(ctx, tandem.ChannelREST, "checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	conv := &tandem.Conversation{BotID: "b", CustomerID: cust.ID, Channel: tandem.ChannelREST}
	if err := s.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	const n, size = 300, 2048 // ≈ 600 KiB of messages, far below the backstop
	for range n {
		m := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelREST, Text: strings.Repeat("x", size)}
		if err := s.CreateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() >= n*size {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("database file is %d bytes 15 s after %d bytes were committed: the WAL was not checkpointed", fi.Size(), n*size)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
