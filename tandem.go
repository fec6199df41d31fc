// Package tandem holds the shared vocabulary of the Tandem customer-conversation framework:
// customers and their channel identities, conversations and messages, NLU annotations and
// engine decisions, handoff tickets and agents, knowledge documents, and the error type.
// It imports only the standard library; every other package may import it.
package tandem

import "time"

// Channel names the medium a message travelled over.
type Channel string

// Channels Tandem knows.
const (
	ChannelREST     Channel = "rest"
	ChannelWebChat  Channel = "webchat"
	ChannelSMS      Channel = "sms"
	ChannelWhatsApp Channel = "whatsapp"
	ChannelSlack    Channel = "slack"
	ChannelDiscord  Channel = "discord"
	ChannelEmail    Channel = "email"
	ChannelTerminal Channel = "terminal"
)

// Pushed reports whether messages to customers on c are pushed to them by a connector
// through the outbox (SMS, WhatsApp, Slack, Discord, email), rather than handed to the
// caller that is waiting for them (REST, web chat, terminal).
func (c Channel) Pushed() bool {
	switch c {
	case ChannelSMS, ChannelWhatsApp, ChannelSlack, ChannelDiscord, ChannelEmail:
		return true
	}
	return false
}

// ReplyWindow is how long after the customer's last message the channel accepts free-form
// messages to them: 24 hours on WhatsApp (later, only pre-approved templates), zero on
// channels without such a window.
func (c Channel) ReplyWindow() time.Duration {
	if c == ChannelWhatsApp {
		return 24 * time.Hour
	}
	return 0
}

// Role says who wrote a message.
type Role string

// Roles of message authors.
const (
	RoleCustomer Role = "customer"
	RoleBot      Role = "bot"
	RoleAgent    Role = "agent"
	RoleSystem   Role = "system"
)

// Customer is a person the bot talks to, across any number of channel identities.
type Customer struct {
	ID          string
	DisplayName string
	// Profile holds fields set by flows, agents or integrations (name, email, tier, ...).
	Profile   map[string]string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Identity is one way to reach a customer: a phone number, an email, a web visitor id,
// a Slack or Discord user. (Channel, ExternalID) is unique.
type Identity struct {
	ID         string
	CustomerID string
	Channel    Channel
	ExternalID string
	// Verified is true once the customer proved they own this identity (one-time code, signed link).
	Verified  bool
	CreatedAt time.Time
}

// ConversationStatus is the lifecycle state of a conversation.
type ConversationStatus string

// Conversation states.
const (
	StatusOpen    ConversationStatus = "open"    // the bot is answering
	StatusHandoff ConversationStatus = "handoff" // queued for or held by a human agent
	StatusClosed  ConversationStatus = "closed"
)

// Conversation is one thread between a customer and a bot (and possibly agents). It can span
// channels: Channel is the one the customer last wrote from, where replies go by default.
type Conversation struct {
	ID         string
	BotID      string
	CustomerID string
	Channel    Channel
	Status     ConversationStatus
	// State is the engine's serialised dialogue state (active flow, step, slots, counters).
	State     []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Message is one utterance in a conversation.
type Message struct {
	ID             string
	ConversationID string
	Role           Role
	Channel        Channel
	Text           string
	// ProviderID is the id the channel provider gave the message; (Channel, ProviderID) is
	// unique when set, which is how provider retries are dropped.
	ProviderID string
	// AuthorID is the agent id for agent messages, empty otherwise.
	AuthorID    string
	Annotations *Annotations // NLU results, on customer messages
	Decision    *Decision    // why the bot said this, on bot messages
	Citations   []Citation
	CreatedAt   time.Time
}

// IntentScore is one candidate intent with its confidence in [0, 1].
type IntentScore struct {
	Name       string  `json:"name"`
	Confidence float64 `json:"confidence"`
}

// IntentOutOfScope is the intent name used when the bot cannot help with a message.
const IntentOutOfScope = "oos"

// Entity is a typed value found in a message.
type Entity struct {
	Type  string `json:"type"`  // email, phone, date, time, money, number, or a bot-defined name
	Value string `json:"value"` // normalised: E.164 phone, RFC 3339 date, "12.50 USD", ...
	Text  string `json:"text"`  // the span as written
	Start int    `json:"start"` // byte offsets into the message text
	End   int    `json:"end"`
}

// Sentiment labels.
const (
	SentimentNegative = "negative"
	SentimentNeutral  = "neutral"
	SentimentPositive = "positive"
)

// Sentiment is how a message feels: a label and a score in [-1, 1].
type Sentiment struct {
	Label string  `json:"label"`
	Score float64 `json:"score"`
}

// Annotations are what NLU found in a customer message.
type Annotations struct {
	Language  string        `json:"language"`
	Intent    IntentScore   `json:"intent"`
	Intents   []IntentScore `json:"intents,omitempty"` // top candidates, best first
	Entities  []Entity      `json:"entities,omitempty"`
	Sentiment Sentiment     `json:"sentiment"`
	// PII lists the kinds of personal data found (card, email, phone, iban, national_id).
	PII []string `json:"pii,omitempty"`
}

// DecisionKind names the policy step that produced a reply.
type DecisionKind string

// Decision kinds, in policy order.
const (
	DecisionSurvey    DecisionKind = "survey"    // the customer rated a closed ticket (CSAT)
	DecisionRelay     DecisionKind = "relay"     // a human has the conversation
	DecisionFlow      DecisionKind = "flow"      // an active flow step
	DecisionIntent    DecisionKind = "intent"    // intent mapped to a response or flow
	DecisionKnowledge DecisionKind = "knowledge" // answered from the knowledge base
	DecisionFallback  DecisionKind = "fallback"  // clarify or offer a human
	DecisionHandoff   DecisionKind = "handoff"   // handed to a human
	DecisionDuplicate DecisionKind = "duplicate" // provider retry, dropped
)

// Decision records why the bot did what it did in a turn.
type Decision struct {
	Kind   DecisionKind `json:"kind"`
	Reason string       `json:"reason"`
	Flow   string       `json:"flow,omitempty"`
	Step   string       `json:"step,omitempty"`
	Intent string       `json:"intent,omitempty"`
}

// Citation points a reply at the knowledge it came from.
type Citation struct {
	DocID   string `json:"doc_id"`
	Title   string `json:"title"`
	URL     string `json:"url,omitempty"`
	ChunkID string `json:"chunk_id,omitempty"`
}
