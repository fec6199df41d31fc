// Package connectors defines how customer channels plug into Tandem. Each channel is an
// adapter in a subpackage named after its technology (twilio, slack, discord, and webchat,
// the chat page's WebSocket); the integrators' REST channel is served by package web.
// Adapters never import each other; connectors/connectortest is the conformance suite
// every webhook and gateway adapter runs.
//
// The delivery contract every adapter keeps:
//   - Inbound: a provider's webhook or gateway event is verified (signature), bounded (size),
//     turned into a tandem.Inbound with the provider's message id, and handed to the Receiver;
//     the provider is acknowledged only after Receive returns, i.e. after the message is
//     committed. A provider retry of the same message id is dropped by the store
//     (Turn.Duplicate) and acknowledged again, so nothing is processed twice. A message the
//     engine refuses (EINVALID) is answered 400; a store failure is answered 5xx, so the
//     provider retries it.
//   - Outbound: the engine writes each reply to the outbox in the turn's own transaction;
//     the delivery worker (package jobs) calls Send until it succeeds, with backoff. Send
//     reports a provider's "retry later" as *RetryLaterError, which snoozes the delivery
//     without counting an attempt. A crash between a provider accepting a message and the
//     worker recording it makes the worker send it again, so delivery is at least once;
//     adapters pass Outgoing.IdempotencyKey to providers that accept one.
package connectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tandemhq/tandem"
)

// Receiver is the engine as a connector sees it: store the inbound message, run the turn.
// bots.Engine satisfies it.
type Receiver interface {
	HandleMessage(ctx context.Context, in tandem.Inbound) (*tandem.Turn, error)
}

// Outgoing is one message to deliver to a customer on a connector's channel.
type Outgoing struct {
	// IdempotencyKey is stable across retries of the same delivery (the stored message id).
	IdempotencyKey string
	BotID          string
	To             string // the customer's id on the channel (phone number, user id, ...)
	Reply          tandem.Reply
}

// Connector is one bot's presence on one customer channel. Implementations are safe for
// concurrent use.
type Connector interface {
	// Channel names the channel (tandem.ChannelSMS, ...).
	Channel() tandem.Channel
	// Handler serves the provider's webhooks; nil for connectors that hold a gateway
	// connection instead (see Gateway).
	Handler(r Receiver) http.Handler
	// Send delivers o and returns the provider's message id. Errors: *tandem.Error with
	// code EINVALID for a delivery that can never succeed (bad address, blocked), also
	// wrapping ErrOutsideWindow when it could succeed once the customer writes again, a
	// *RetryLaterError when the provider asks to slow down; anything else may be retried.
	// A connector whose channel has no templates sends o.Reply.Text and ignores
	// o.Reply.Template.
	Send(ctx context.Context, o Outgoing) (providerID string, err error)
}

// Gateway is a connector that receives over a connection it holds (Discord's gateway)
// instead of webhooks. Run returns when ctx is done or the connection fails for good.
// A gateway does not redeliver events, so the adapter retries a failed Receive itself
// (the store drops a repeat by provider id); an interaction the provider wants answered
// within seconds may be acknowledged before the turn commits.
type Gateway interface {
	Run(ctx context.Context, r Receiver) error
}

// ErrOutsideWindow is wrapped, with an EINVALID *tandem.Error, by Send when the channel
// refuses a free-form message because the customer last wrote too long ago (WhatsApp's
// 24-hour window, see tandem.Channel.ReplyWindow): until they write again only a template
// (tandem.Reply.Template) gets through. The delivery worker may hold such a delivery
// instead of failing it (jobs.DeliveryConfig.HoldFunc).
var ErrOutsideWindow = errors.New("the channel's window for free-form messages is closed")

// RetryLaterError is a provider's "retry later" (HTTP 429, a rate-limit error): the delivery
// is snoozed for After and not counted as a failed attempt.
type RetryLaterError struct {
	After time.Duration
	Err   error
}

func (e *RetryLaterError) Error() string {
	return fmt.Sprintf("provider asks to retry after %s: %v", e.After, e.Err)
}

func (e *RetryLaterError) Unwrap() error { return e.Err }

// RetryAfter reports whether err is a provider's "retry later" and for how long.
func RetryAfter(err error) (time.Duration, bool) {
	var e *RetryLaterError
	if errors.As(err, &e) {
		return e.After, true
	}
	return 0, false
}

// MaxWebhookBytes bounds a provider's webhook body. Providers send a few KiB; anything
// larger is refused with 413 before it is parsed.
const MaxWebhookBytes = 64 << 10

// ReadWebhook reads a provider's webhook body, bounded by MaxWebhookBytes. When the request
// cannot be used (not a POST, too large, unreadable) it has already answered it (405, 413,
// 400) and ok is false.
func ReadWebhook(w http.ResponseWriter, r *http.Request) (body []byte, ok bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBytes))
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			http.Error(w, fmt.Sprintf("request body larger than %d bytes", MaxWebhookBytes), http.StatusRequestEntityTooLarge)
			return nil, false
		}
		http.Error(w, "cannot read request body", http.StatusBadRequest)
		return nil, false
	}
	return body, true
}

// AckStatus is the status that answers a provider once Receiver.HandleMessage returned err:
// 200 when the message is stored (or was, for a retry), 400 when the engine refuses it
// (EINVALID), 413 for ETOOLARGE, and 503 when it is not stored, so the provider retries.
func AckStatus(err error) int {
	switch tandem.ErrorCode(err) {
	case "", tandem.EDUPLICATE:
		return http.StatusOK
	case tandem.EINVALID:
		return http.StatusBadRequest
	case tandem.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusServiceUnavailable
}
