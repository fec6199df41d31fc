package tandem

import "time"

// TicketStatus is where a handoff ticket stands.
type TicketStatus string

// Ticket states.
const (
	TicketQueued   TicketStatus = "queued"
	TicketClaimed  TicketStatus = "claimed"
	TicketClosed   TicketStatus = "closed"
	TicketReturned TicketStatus = "returned" // given back to the bot
)

// Ticket is a request for a human to take a conversation.
type Ticket struct {
	ID             string
	ConversationID string
	BotID          string
	Queue          string
	Priority       int
	Reason         string
	Status         TicketStatus
	AgentID        string
	// DeskRef is the desk's own reference to the ticket's card (e.g. a Slack channel and
	// message ts), so replies in the card's thread find the ticket; empty until a desk
	// posts one.
	DeskRef string
	// Language is the customer's language when the ticket was opened (as NLU detected it
	// in the message that handed off), for routing to agents who speak it; "" when unknown.
	Language string
	// EscalatedAt is when the ticket was escalated to supervisors (it waited too long, or
	// the customer wrote something strongly negative); nil when it was not. A ticket is
	// escalated at most once; Escalation says why.
	EscalatedAt *time.Time
	Escalation  string
	CreatedAt   time.Time
	ClaimedAt   *time.Time
	ClosedAt    *time.Time
}

// Escalated reports whether the ticket was escalated.
func (t *Ticket) Escalated() bool { return t.EscalatedAt != nil }

// AgentRole grants what an agent may do.
type AgentRole string

// Agent roles.
const (
	AgentRoleAgent      AgentRole = "agent"
	AgentRoleSupervisor AgentRole = "supervisor"
	AgentRoleEditor     AgentRole = "editor"
	AgentRoleAdmin      AgentRole = "admin"
)

// Agent is a human who works handoffs or curates knowledge.
type Agent struct {
	ID        string
	Name      string
	Email     string
	Role      AgentRole
	Skills    []string
	Languages []string
	Capacity  int
	CreatedAt time.Time
}

// AuditEntry is one append-only record of who did what.
type AuditEntry struct {
	ID      int64
	At      time.Time
	Actor   string // "agent:<id>", "system", "customer:<id>"
	Action  string // "identity.link", "ticket.claim", "document.publish", ...
	Subject string // the id acted on
	Detail  map[string]string
}

// AuditQuestionUnanswered is the audit action a turn appends for a customer question the
// knowledge base had no confident answer to, with Detail "question" (personal data
// redacted), "bot", "language" and "reason". The editors' unanswered report reads them.
const AuditQuestionUnanswered = "question.unanswered"

// AuditCSATResponse is the audit action a turn appends when the customer rates a closed
// ticket, with Subject the ticket id and Detail "score", "bot", "queue", "agent_id" and
// "conversation_id".
const AuditCSATResponse = "csat.response"

// CSATResponse is a customer's rating of a closed handoff ticket (customer satisfaction).
type CSATResponse struct {
	TicketID       string
	ConversationID string
	BotID          string
	Queue          string
	AgentID        string // the agent who closed the ticket
	Score          int    // 1 (bad) to 5 (great)
	At             time.Time
}

// Note is an agent's internal note on a handed-off conversation ("customer called by
// phone, refund approved by finance"): for agents only. Notes are kept apart from the
// conversation's messages, so nothing that reads messages (the customer's transcript,
// delivery, NLU, suggested replies, summaries) can ever show or send one.
type Note struct {
	ID             string
	ConversationID string
	TicketID       string // the ticket it was written on
	AuthorID       string // the agent
	Text           string
	// ProviderID, when set, is the desk's own id of the note (a Slack message's channel
	// and ts), so a desk's retry is dropped.
	ProviderID string
	CreatedAt  time.Time
}
