package tandem

import "time"

// Inbound is a customer message as a connector hands it to the engine.
type Inbound struct {
	BotID      string
	Channel    Channel
	ExternalID string // the customer's id on that channel (phone number, visitor id, ...)
	Text       string
	ProviderID string // the provider's message id, for de-duplication; may be empty
	// ConversationID, when set, continues that conversation (e.g. the web widget's session).
	ConversationID string
	ReceivedAt     time.Time
}

// QuickReply is a suggested answer the customer can tap.
type QuickReply struct {
	Title   string `json:"title"`
	Payload string `json:"payload"`
}

// Reply is one message the bot sends back; connectors render it for their channel.
type Reply struct {
	// MessageID is the stored bot message of the reply, set once the turn is recorded (what
	// a customer's feedback on the answer names); empty in deliveries.
	MessageID    string       `json:"message_id,omitempty"`
	Text         string       `json:"text"`
	Citations    []Citation   `json:"citations,omitempty"`
	QuickReplies []QuickReply `json:"quick_replies,omitempty"`
}

// HandoffInfo tells the caller that a human was asked to take over.
type HandoffInfo struct {
	TicketID string `json:"ticket_id"`
	Queue    string `json:"queue"`
	Reason   string `json:"reason"`
}

// Turn is the engine's answer to one inbound message.
type Turn struct {
	ConversationID string
	CustomerID     string
	MessageID      string // the stored inbound message
	Duplicate      bool   // the inbound was a provider retry and was dropped
	Replies        []Reply
	Annotations    Annotations
	Decision       Decision
	Handoff        *HandoffInfo
	// ActiveFlow and ActiveStep are the flow in progress after the turn and the step it
	// waits in; empty when no flow is active.
	ActiveFlow string
	ActiveStep string
	// CSATScore is the customer's rating (1 to 5) when the turn answered a satisfaction
	// survey (Decision.Kind DecisionSurvey), else 0.
	CSATScore int
}
