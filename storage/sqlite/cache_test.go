package sqlite

import (
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
