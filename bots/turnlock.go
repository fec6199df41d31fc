package bots

import (
	"context"
	"fmt"
	"sync"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// identityCustomer remembers which customer an identity belonged to at its last turn.
type identityCustomer struct {
	identity   string // channel NUL external id
	customerID string
}

// customerLock returns the mutex that serialises the customer's turns in this process.
func (e *Engine) customerLock(customerID string) *sync.Mutex {
	return &e.locks[fnv32(customerID)%uint32(len(e.locks))]
}

// resolveTurn reads who wrote and their open conversation with the bot, and returns with
// the customer's lock held: the conversation is always read under it. When the identity's
// customer is remembered from an earlier turn its lock is taken first and one read does;
// otherwise (a first turn here, a collision in the direct-mapped memo, or an identity
// linked to another customer since) the conversation is read again under the right lock.
// The memo only picks which lock to try first, so a stale entry costs a read, never a
// wrong answer.
func (e *Engine) resolveTurn(ctx context.Context, botID string, in tandem.Inbound) (*storage.TurnStart, *sync.Mutex, error) {
	key := string(in.Channel) + "\x00" + in.ExternalID
	memo := &e.customerOf[fnv32(key)%uint32(len(e.customerOf))]
	var mu *sync.Mutex
	if g := memo.Load(); g != nil && g.identity == key {
		mu = e.customerLock(g.customerID)
		mu.Lock()
	}
	ts, err := e.store.ResolveTurn(ctx, botID, in.Channel, in.ExternalID)
	if err != nil {
		if mu != nil {
			mu.Unlock()
		}
		return nil, nil, fmt.Errorf("handle message: %w", err)
	}
	if right := e.customerLock(ts.Customer.ID); right != mu {
		if mu != nil {
			mu.Unlock()
		}
		mu = right
		mu.Lock()
		if ts.Conversation, err = e.findOpenConversation(ctx, botID, ts.Customer.ID); err != nil {
			mu.Unlock()
			return nil, nil, err
		}
		memo.Store(&identityCustomer{identity: key, customerID: ts.Customer.ID})
	}
	return ts, mu, nil
}

// findOpenConversation returns the customer's open conversation with the bot, nil when
// there is none.
func (e *Engine) findOpenConversation(ctx context.Context, botID, customerID string) (*tandem.Conversation, error) {
	c, err := e.store.FindOpenConversation(ctx, botID, customerID)
	if tandem.ErrorCode(err) == tandem.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find open conversation: %w", err)
	}
	return c, nil
}
