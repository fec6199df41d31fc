package sqlite

import (
	"maps"
	"slices"
	"sync"

	"github.com/tandemhq/tandem"
)

// lookupCache keeps the rows every turn reads: identities with their customers, and each
// customer's newest open conversation per bot. It is coherent because this process is the
// only writer (as the in-memory knowledge index already assumes): every write that changes
// a cached row updates or drops it in a hook the writer goroutine runs right after the
// commit, in commit order. A read that missed the cache inserts what it read from the
// database only if no hook ran since it started, so a read racing a commit can never put
// back a row the commit changed.
type lookupCache struct {
	mu         sync.Mutex
	gen        uint64 // incremented by every hook
	identities map[identityKey]tandem.Identity
	customers  map[string]tandem.Customer
	open       map[openKey]tandem.Conversation
}

type identityKey struct {
	channel    tandem.Channel
	externalID string
}

type openKey struct{ botID, customerID string }

// maxCached bounds each map; a full map is emptied (the cache only saves reads).
const maxCached = 100_000

func newLookupCache() *lookupCache {
	return &lookupCache{identities: map[identityKey]tandem.Identity{}, customers: map[string]tandem.Customer{}, open: map[openKey]tandem.Conversation{}}
}

// generation returns the value a reader passes to a put after reading the database.
func (c *lookupCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// identity returns copies of a cached identity and its customer.
func (c *lookupCache) identity(ch tandem.Channel, externalID string) (*tandem.Customer, *tandem.Identity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.identities[identityKey{ch, externalID}]
	if !ok {
		return nil, nil, false
	}
	cust, ok := c.customers[i.CustomerID]
	if !ok {
		return nil, nil, false
	}
	cust.Profile = maps.Clone(cust.Profile)
	return &cust, &i, true
}

// putIdentity caches what a reader read when no hook ran since gen.
func (c *lookupCache) putIdentity(gen uint64, cust *tandem.Customer, i *tandem.Identity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.setIdentityLocked(cust, i)
	}
}

func (c *lookupCache) setIdentityLocked(cust *tandem.Customer, i *tandem.Identity) {
	if len(c.identities) >= maxCached {
		clear(c.identities)
	}
	if len(c.customers) >= maxCached {
		clear(c.customers)
	}
	c.identities[identityKey{i.Channel, i.ExternalID}] = *i
	cc := *cust
	cc.Profile = maps.Clone(cust.Profile)
	c.customers[cust.ID] = cc
}

// openConversation returns a copy of the customer's cached newest open conversation.
func (c *lookupCache) openConversation(botID, customerID string) (*tandem.Conversation, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	conv, ok := c.open[openKey{botID, customerID}]
	if !ok {
		return nil, false
	}
	conv.State = slices.Clone(conv.State)
	return &conv, true
}

// putOpen caches what a reader read when no hook ran since gen.
func (c *lookupCache) putOpen(gen uint64, conv *tandem.Conversation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.open) >= maxCached {
		clear(c.open)
	}
	cc := *conv
	cc.State = slices.Clone(conv.State)
	c.open[openKey{conv.BotID, conv.CustomerID}] = cc
}

// The hooks below run in the writer goroutine after a commit.

// createdIdentity records a new identity and customer.
func (c *lookupCache) createdIdentity(cust *tandem.Customer, i *tandem.Identity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.setIdentityLocked(cust, i)
}

// updatedCustomer replaces a cached customer.
func (c *lookupCache) updatedCustomer(cust *tandem.Customer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if _, ok := c.customers[cust.ID]; ok {
		cc := *cust
		cc.Profile = maps.Clone(cust.Profile)
		c.customers[cust.ID] = cc
	}
}

// movedIdentity forgets what a link or unlink changed: the identity and which customer
// every conversation belongs to.
func (c *lookupCache) movedIdentity(i *tandem.Identity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.identities, identityKey{i.Channel, i.ExternalID})
	clear(c.open)
}

// wroteConversation records a created or updated conversation (its row as committed); moved
// says its customer may have changed.
func (c *lookupCache) wroteConversation(conv *tandem.Conversation, moved bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if moved {
		clear(c.open)
		return
	}
	k := openKey{conv.BotID, conv.CustomerID}
	cached, ok := c.open[k]
	if !ok {
		return // nothing known about the customer's other conversations
	}
	open := conv.Status != tandem.StatusClosed
	switch {
	case open && newerConversation(conv, &cached):
		cc := *conv
		cc.State = slices.Clone(conv.State)
		c.open[k] = cc
	case cached.ID == conv.ID:
		// Closed, or its updated_at went back (a clock step): another may be newest now.
		delete(c.open, k)
	}
}

// newerConversation orders conversations as FindOpenConversation does: updated_at, then id.
func newerConversation(a, b *tandem.Conversation) bool {
	if !a.UpdatedAt.Equal(b.UpdatedAt) {
		return a.UpdatedAt.After(b.UpdatedAt)
	}
	return a.ID >= b.ID
}

// erasedCustomer forgets an erased customer, their identities and open conversations.
func (c *lookupCache) erasedCustomer(id string, idents []tandem.Identity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.customers, id)
	for _, i := range idents {
		delete(c.identities, identityKey{i.Channel, i.ExternalID})
	}
	for k := range c.open {
		if k.customerID == id {
			delete(c.open, k)
		}
	}
}

// reset forgets everything: another process wrote to the database.
func (c *lookupCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.identities)
	clear(c.customers)
	clear(c.open)
}
