package tandem

import "time"

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery states.
const (
	DeliveryPending DeliveryStatus = "pending" // waiting for its first or next attempt
	DeliverySent    DeliveryStatus = "sent"    // the provider accepted it
	DeliveryFailed  DeliveryStatus = "failed"  // it can never be delivered, or attempts ran out
	// DeliveryHeld waits for the customer to write again: the channel refused it because
	// its window for free-form messages is closed (see Channel.ReplyWindow).
	DeliveryHeld DeliveryStatus = "held"
)

// Delivery is one stored message on its way to a customer's channel: the outbox entry the
// delivery worker sends until the provider accepts it. It is written in the same
// transaction as the message, so a message is never stored without its delivery.
type Delivery struct {
	// MessageID is the message delivered (a bot or agent message): the delivery's key and
	// the idempotency key sent to providers.
	MessageID string
	BotID     string
	Channel   Channel
	To        string // the customer's id on Channel (phone number, user id, ...)
	Reply     Reply
	Status    DeliveryStatus
	// Attempts counts the sends tried; a provider's "retry later" does not count.
	Attempts int
	// NextAt is when a pending delivery is due (or its lease ends, while a worker sends it).
	NextAt     time.Time
	LastError  string
	ProviderID string // the provider's message id, once sent
	CreatedAt  time.Time
	UpdatedAt  time.Time
}
