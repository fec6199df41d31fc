// Package connectors defines how customer channels plug into Tandem. Each channel is an
// adapter in a subpackage named after its technology (webchat, twilio, discord, slack); the
// integrator's REST channel is served by package web. Adapters never import each other.
//
// The delivery contract every adapter keeps:
//   - Inbound: a provider's webhook or gateway event is verified (signature), bounded (size),
//     turned into a tandem.Inbound with the provider's message id, and handed to the Receiver;
//     the provider is acknowledged only after Receive returns, i.e. after the message is
//     committed. A provider retry of the same message id is dropped by the store
//     (Turn.Duplicate) and acknowledged again, so nothing is processed twice.
//   - Outbound: Send delivers one reply and is idempotent for a given key, so the job queue
//     can retry it after a crash or a provider's "retry later" without duplicating messages.
package connectors

import (
	"context"
	"net/http"

	"github.com/tandemhq/tandem"
)

// Receiver is the engine as a connector sees it: store the inbound message, run the turn.
// bots.Engine satisfies it.
type Receiver interface {
	HandleMessage(ctx context.Context, in tandem.Inbound) (*tandem.Turn, error)
}

// Outgoing is one reply to deliver to a customer on a connector's channel.
type Outgoing struct {
	// IdempotencyKey is stable across retries of the same delivery (e.g. the bot message id).
	IdempotencyKey string
	BotID          string
	To             string // the customer's id on the channel (phone number, user id, ...)
	Reply          tandem.Reply
}

// Connector is one customer channel. Implementations are safe for concurrent use.
type Connector interface {
	// Channel names the channel (tandem.ChannelSMS, ...).
	Channel() tandem.Channel
	// Handler serves the provider's webhooks; nil for connectors that hold a gateway
	// connection instead (Discord).
	Handler(r Receiver) http.Handler
	// Send delivers o and returns the provider's message id. Errors are *tandem.Error:
	// EINVALID for a delivery that can never succeed (bad address), anything else may be
	// retried; the same IdempotencyKey never delivers twice.
	Send(ctx context.Context, o Outgoing) (providerID string, err error)
}
