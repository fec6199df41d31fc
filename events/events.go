// Package events carries live notifications between the parts of Tandem that change a
// conversation (the engine, agent desks) and the parts that show it live (the web chat's
// socket, the agents' inbox pages), across replicas. It is a contract with two adapters:
// events/memory, an in-process bus for a single process (SQLite mode), and events/postgres,
// LISTEN/NOTIFY for replicas that share a PostgreSQL database. events/eventstest is the
// conformance suite both pass.
//
// An event is a hint, not data: it says that something happened to a conversation (a
// message was stored, its status changed), and the subscriber reads the new state from the
// store. Delivery is therefore deliberately weak, and every subscriber must be written for it:
//
//   - At most once, best effort. An event published while a subscriber is slow, while a
//     replica's listening connection is being re-established, or by a process that crashes
//     right after its write, may never arrive. Events are never redelivered.
//   - Gaps are announced when the bus knows about them: a subscriber that fell behind, or
//     whose replica lost its connection to the database, receives an Event with Kind
//     KindMissed for its topic; it must then refetch what it shows from the store.
//   - After Subscribe returns, events published later reach the subscriber (unless lost as
//     above); events published before are not replayed. A subscriber that shows state reads
//     the store AFTER subscribing, so nothing falls between its read and its first event.
//   - Order is the publishers' order per publishing process and topic, not a global one.
//   - A subscriber may receive its own topic's events more than once in spirit (two events
//     for one change) and must treat refetching as idempotent.
//
// Publishers never wait for subscribers: Publish returns once the event is handed to the
// transport (a channel send that cannot block, a NOTIFY).
package events

import (
	"context"
	"time"

	"github.com/tandemhq/tandem"
)

// Kind says what happened to a topic's conversation.
type Kind string

// Kinds of events.
const (
	// KindMessage: a message was stored in the conversation (MessageID names it).
	KindMessage Kind = "message"
	// KindStatus: the conversation's status or its handoff ticket changed (claimed, closed,
	// given back to the bot).
	KindStatus Kind = "status"
	// KindMissed: the bus may have dropped events of this topic for this subscriber; refetch.
	// Only buses send it, never publishers.
	KindMissed Kind = "missed"
	// KindNote: an agent added an internal note to the conversation. It is for agents'
	// pages; the event carries no text, so a customer's view that rereads its transcript
	// on it finds nothing new (notes are not messages).
	KindNote Kind = "note"
	// KindTyping: someone (Role) is typing a message in the conversation. It changes nothing
	// stored: subscribers show it for a few seconds instead of refetching. Publishers send
	// it at most every few seconds per typist, and only while a human has the conversation.
	KindTyping Kind = "typing"
)

// MaxTopicBytes bounds a topic (a conversation id).
const MaxTopicBytes = 256

// TopicTickets is the reserved topic of the handoff queue as a whole: a ticket was opened,
// claimed, closed or given back (the agents' inbox redraws its queue). It cannot be a
// conversation id, which the stores generate as UUIDs.
const TopicTickets = "tandem.tickets"

// Event is one notification about a conversation.
type Event struct {
	// Topic is the conversation id, or TopicTickets.
	Topic string `json:"topic"`
	// Kind says what happened.
	Kind Kind `json:"kind"`
	// MessageID is the stored message of a KindMessage event; empty otherwise.
	MessageID string `json:"message_id,omitempty"`
	// Role is who is typing in a KindTyping event (customer or agent); empty otherwise.
	Role tandem.Role `json:"role,omitempty"`
	// TicketID is the ticket a TopicTickets event is about, when the publisher names it,
	// so a page showing one ticket can ignore the others' news; empty otherwise.
	TicketID string `json:"ticket_id,omitempty"`
	// At is when it happened, by the publisher's clock.
	At time.Time `json:"at"`
}

// Bus publishes events and fans them out to subscribers of their topic, in this process and,
// for buses that span replicas, in every process on the same transport. Implementations are
// safe for concurrent use.
type Bus interface {
	// Publish sends e to the subscribers of e.Topic without waiting for them. It returns a
	// *tandem.Error with code EINVALID for an empty or oversized topic, an unknown kind or an
	// event too large for the transport, and a wrapped transport error when it could not be
	// sent (the event is then lost; the change it announces is already in the store).
	Publish(ctx context.Context, e Event) error
	// Subscribe returns a channel of the events published to topic from now on. The
	// channel is closed when ctx ends or the bus is closed; the subscriber must keep
	// reading it until then. Errors: EINVALID for a bad topic, ECONFLICT when the bus is
	// closed.
	Subscribe(ctx context.Context, topic string) (<-chan Event, error)
}
