package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
)

// TestLookupCacheRace checks a read that raced a commit cannot cache what it read.
func TestLookupCacheRace(t *testing.T) {
	t.Parallel()
	c := newLookupCache()
	cust := &tandem.Customer{ID: "c1", DisplayName: "old"}
	id := &tandem.Identity{ID: "i1", CustomerID: "c1", Channel: tandem.ChannelSMS, ExternalID: "+1"}
	gen := c.generation()
	c.updatedCustomer(&tandem.Customer{ID: "c1", DisplayName: "new"}) // commits while the read runs
	c.putIdentity(gen, cust, id)
	if _, _, ok := c.identity(tandem.ChannelSMS, "+1"); ok {
		t.Fatal("a read older than a commit was cached")
	}
	c.putIdentity(c.generation(), cust, id)
	if got, _, ok := c.identity(tandem.ChannelSMS, "+1"); !ok || got.DisplayName != "old" {
		t.Fatalf("fresh read not cached: %v, %v", got, ok)
	}

	now := time.Now()
	conv := &tandem.Conversation{ID: "a", BotID: "b", CustomerID: "c1", Status: tandem.StatusOpen, UpdatedAt: now}
	gen = c.generation()
	c.wroteConversation(&tandem.Conversation{ID: "a", BotID: "b", CustomerID: "c1", Status: tandem.StatusClosed, UpdatedAt: now}, false)
	c.putOpen(gen, conv)
	if _, ok := c.openConversation("b", "c1"); ok {
		t.Fatal("a conversation read before it was closed was cached")
	}
}

// TestLookupCacheOtherWriter checks the cache forgets what another process changed: a
// customer erased by the CLI while a server runs on the same file.
func TestLookupCacheOtherWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	server, err := Open(ctx, path, Config{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	cust, _, err := server.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550960") // now cached
	if err != nil {
		t.Fatal(err)
	}
	version := server.noticeOtherWriters(0)

	cli, err := Open(ctx, path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.EraseCustomer(ctx, cust.ID, "cli"); err != nil {
		t.Fatal(err)
	}
	cli.Close()

	server.noticeOtherWriters(version) // what the writer does every otherWritersPoll
	again, _, err := server.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550960")
	if err != nil {
		t.Fatal(err)
	}
	if again.ID == cust.ID {
		t.Error("the server still resolves the identity to the erased customer")
	}
}
