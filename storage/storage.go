// Package storage defines the persistence contract of Tandem. Two adapters implement it:
// storage/postgres (PostgreSQL + pgvector, for production with many replicas) and
// storage/sqlite (embedded, the zero-setup default). storage/storagetest is the one
// conformance suite both must pass.
//
// All methods are safe for concurrent use. Errors are *tandem.Error with code ENOTFOUND
// when a looked-up row does not exist, EDUPLICATE when a unique key is taken (both backends
// translate their driver's unique violation), EINVALID for bad arguments; anything else is
// an internal error wrapped with the operation's name.
package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/tandemhq/tandem"
)

// Store is everything Tandem persists.
type Store interface {
	CustomerStore
	ConversationStore
	TicketStore
	NoteStore
	AgentStore
	KnowledgeStore
	AuditStore
	OutboxStore
	ReportStore
	RetentionStore
	SignInStore
	FeedbackStore

	// Ping checks the store can serve requests (readiness).
	Ping(ctx context.Context) error
	// Close releases connections. The store must not be used afterwards.
	Close() error
}

// CustomerStore keeps customers and their channel identities.
type CustomerStore interface {
	// ResolveIdentity returns the customer and identity for (channel, externalID), creating
	// both atomically when the identity is new. Concurrent calls for the same identity
	// return the same customer.
	ResolveIdentity(ctx context.Context, channel tandem.Channel, externalID string) (*tandem.Customer, *tandem.Identity, error)
	FindCustomerByID(ctx context.Context, id string) (*tandem.Customer, error)
	// UpdateCustomer sets the non-nil fields; Profile keys are merged (an empty value deletes).
	UpdateCustomer(ctx context.Context, id string, upd CustomerUpdate) (*tandem.Customer, error)
	FindIdentity(ctx context.Context, channel tandem.Channel, externalID string) (*tandem.Identity, error)
	ListIdentities(ctx context.Context, customerID string) ([]tandem.Identity, error)
	// LinkIdentity moves a proven identity to customerID, marks it verified, moves that
	// identity's conversations too, and writes an audit entry with actor, all in one
	// transaction. Linking to the customer it already belongs to is a no-op. When a moved
	// not-closed conversation and one of customerID's are with the same bot, one is closed
	// in the same transaction, so the customer keeps one not-closed conversation per bot:
	// the one with a human (status handoff) is kept, else the newer (by UpdatedAt, then
	// ID). The closed one's queued or claimed ticket is closed with it. The audit entry's
	// detail lists closed conversations under "closed_conversations".
	LinkIdentity(ctx context.Context, identityID, customerID, actor string) error
	// UnlinkIdentity reverses a link: the identity gets a new customer of its own (audited),
	// with the conversations LinkIdentity would move; the new customer has none, so none
	// is closed.
	UnlinkIdentity(ctx context.Context, identityID, actor string) (*tandem.Customer, error)
}

// CustomerUpdate holds the fields to change; nil means unchanged.
type CustomerUpdate struct {
	DisplayName *string
	Profile     map[string]string
}

// ConversationStore keeps conversations and their messages.
//
// A customer has at most one not-closed conversation with a bot (on any channel), whatever
// the number of replicas writing: the store enforces it, so two replicas answering a new
// customer's first messages at once cannot split the customer's history between two
// conversations. A write that would make a second one returns EDUPLICATE and changes
// nothing.
type ConversationStore interface {
	// CreateConversation assigns ID, CreatedAt and UpdatedAt when empty. A not-closed
	// conversation for a bot and customer that already have one returns EDUPLICATE (the
	// caller continues in FindOpenConversation's); so does a taken ID.
	CreateConversation(ctx context.Context, c *tandem.Conversation) error
	FindConversationByID(ctx context.Context, id string) (*tandem.Conversation, error)
	// FindOpenConversation returns the customer's not-closed conversation with the bot
	// (there is at most one) on any channel, or ENOTFOUND.
	FindOpenConversation(ctx context.Context, botID, customerID string) (*tandem.Conversation, error)
	// UpdateConversation sets the non-nil fields and bumps UpdatedAt. Reopening a closed
	// conversation, or giving a not-closed one to another customer, while that customer
	// has another not-closed conversation with the bot returns EDUPLICATE; unknown id:
	// ENOTFOUND.
	UpdateConversation(ctx context.Context, id string, upd ConversationUpdate) (*tandem.Conversation, error)
	ListConversations(ctx context.Context, f ConversationFilter) ([]tandem.Conversation, error)

	// CreateMessage stores a message, assigning ID and CreatedAt when empty. A message whose
	// (Channel, ProviderID) was stored before returns EDUPLICATE and changes nothing.
	CreateMessage(ctx context.Context, m *tandem.Message) error
	// FindMessageByProviderID returns the message the channel's provider sent with that id,
	// or ENOTFOUND: how a provider's retry is recognised before the bot acts on it again.
	FindMessageByProviderID(ctx context.Context, channel tandem.Channel, providerID string) (*tandem.Message, error)
	// SetMessageAnnotations records NLU results on a stored message.
	SetMessageAnnotations(ctx context.Context, id string, a *tandem.Annotations) error
	// RecordTurn stores the bot's replies and the conversation's new state in one
	// transaction: the unit of work at the end of every engine turn. An Update that would
	// give the customer a second not-closed conversation with the bot (as in
	// UpdateConversation) returns EDUPLICATE and stores nothing.
	RecordTurn(ctx context.Context, t TurnRecord) error
	// ListMessages returns a conversation's messages oldest first.
	ListMessages(ctx context.Context, conversationID string, f MessageFilter) ([]tandem.Message, error)
	// ListCustomerMessages returns a customer's messages across all their conversations and
	// channels, oldest first: the agent's single timeline.
	ListCustomerMessages(ctx context.Context, customerID string, f MessageFilter) ([]tandem.Message, error)

	// ResolveTurn is ResolveIdentity(channel, externalID) followed by FindOpenConversation
	// for that customer and botID in one call: the reads that begin every engine turn (one
	// statement on PostgreSQL when the identity exists).
	ResolveTurn(ctx context.Context, botID string, channel tandem.Channel, externalID string) (*TurnStart, error)
}

// TurnStart is what a turn reads before the bot acts.
type TurnStart struct {
	Customer *tandem.Customer
	Identity *tandem.Identity
	// Conversation is the customer's not-closed conversation with the bot, nil when there
	// is none.
	Conversation *tandem.Conversation
}

// ResolveTurnInSteps is ResolveTurn made of its two reads: what an adapter whose reads are
// cheap does, and PostgreSQL's path for an identity it has not stored yet.
func ResolveTurnInSteps(ctx context.Context, s interface {
	ResolveIdentity(ctx context.Context, channel tandem.Channel, externalID string) (*tandem.Customer, *tandem.Identity, error)
	FindOpenConversation(ctx context.Context, botID, customerID string) (*tandem.Conversation, error)
}, botID string, channel tandem.Channel, externalID string) (*TurnStart, error) {
	cust, ident, err := s.ResolveIdentity(ctx, channel, externalID)
	if err != nil {
		return nil, err
	}
	conv, err := s.FindOpenConversation(ctx, botID, cust.ID)
	switch {
	case tandem.ErrorCode(err) == tandem.ENOTFOUND:
		conv = nil
	case err != nil:
		return nil, fmt.Errorf("resolve turn: %w", err)
	}
	return &TurnStart{Customer: cust, Identity: ident, Conversation: conv}, nil
}

// TurnRecord is what one engine turn persists after the inbound message.
type TurnRecord struct {
	ConversationID string
	// Inbound, when set, is the customer message the turn answered, created first in the
	// same transaction (ID and CreatedAt assigned when empty): for messages with no provider
	// id there is nothing to de-duplicate, so they need not be stored on their own first.
	Inbound     *tandem.Message
	InboundID   string              // the customer message the turn answered, stored before
	Annotations *tandem.Annotations // stored on the inbound message when non-nil
	Replies     []*tandem.Message   // bot messages to create (IDs assigned)
	Update      ConversationUpdate
	// Audit entries are appended in the same transaction (ID and, when zero, At assigned),
	// so what a turn reports (an unanswered question) costs no commit of its own and is
	// stored only with the turn.
	Audit []*tandem.AuditEntry
	// Deliveries put replies on their way to the customer's channel in the same
	// transaction (the outbox): a reply is never stored without its delivery. Each
	// delivery's MessageID names one of Replies; Status, NextAt (now) and the times are
	// assigned.
	Deliveries []*tandem.Delivery
	// CSAT, when set, is the customer's rating of a closed ticket, stored in the same
	// transaction; a ticket rated before keeps its first rating (the new one is dropped
	// without error), so a resent answer is a no-op.
	CSAT *tandem.CSATResponse
	// CheckState makes the turn a compare-and-swap of the conversation's state: it is
	// recorded only if the state is still PrevState (nil matches a conversation with no
	// state), the one the turn started from; otherwise nothing is stored and the error is
	// ECONFLICT. Two replicas answering one customer at once cannot then overwrite each
	// other's slots and flow step: the later turn is told to start again.
	CheckState bool
	PrevState  []byte
}

// ConversationUpdate holds the fields to change; nil means unchanged.
type ConversationUpdate struct {
	Status     *tandem.ConversationStatus
	Channel    *tandem.Channel
	State      []byte // nil means unchanged; use an empty non-nil slice to clear
	CustomerID *string
}

// ConversationFilter selects conversations; zero fields match everything.
type ConversationFilter struct {
	BotID         string
	CustomerID    string
	Status        tandem.ConversationStatus
	UpdatedBefore time.Time
	Limit         int // 0 means a default of 100
	Offset        int
}

// MessageFilter limits message listings.
type MessageFilter struct {
	Since time.Time // only messages created at or after
	Limit int       // 0 means all (the newest Limit when set, still returned oldest first)
}

// TicketStore keeps handoff tickets.
type TicketStore interface {
	// CreateTicket assigns ID and CreatedAt. A conversation has at most one ticket that is
	// queued or claimed; a second returns EDUPLICATE.
	CreateTicket(ctx context.Context, t *tandem.Ticket) error
	FindTicketByID(ctx context.Context, id string) (*tandem.Ticket, error)
	// FindActiveTicket returns the conversation's queued or claimed ticket, or ENOTFOUND.
	FindActiveTicket(ctx context.Context, conversationID string) (*tandem.Ticket, error)
	// ClaimTicket gives a queued ticket to agentID, unless the agent already holds their
	// Capacity of claimed tickets (AtCapacity; 0 or no agent row: no limit), checked
	// atomically with the claim; a ticket someone else claimed first
	// returns ECONFLICT (exactly one of concurrent claimers wins).
	ClaimTicket(ctx context.Context, id, agentID string, at time.Time) (*tandem.Ticket, error)
	// UpdateTicket sets the non-nil fields. With IfStatus or IfAgentID set it is a
	// compare-and-swap: a ticket whose status or agent is no longer that returns ECONFLICT
	// and changes nothing, so of two desks moving one ticket at once exactly one wins. With
	// IfAgentBelowCapacity it also enforces the receiving agent's capacity as ClaimTicket
	// does, atomically with the update (AtCapacity, nothing changed): concurrent transfers
	// and claims to one agent never leave them holding more than Capacity.
	UpdateTicket(ctx context.Context, id string, upd TicketUpdate) (*tandem.Ticket, error)
	// EscalateTicket marks an active (queued or claimed) ticket escalated, at most once: it
	// sets EscalatedAt and Escalation, raises Priority by Raise and appends Audit, in one
	// transaction with one conditional write. A ticket escalated before, or no longer
	// active, returns ECONFLICT and changes nothing, so of concurrent escalators (the
	// workers of several replicas, a turn) exactly one succeeds and one audit entry is
	// written. Unknown id: ENOTFOUND.
	EscalateTicket(ctx context.Context, id string, e TicketEscalation) (*tandem.Ticket, error)
	ListTickets(ctx context.Context, f TicketFilter) ([]tandem.Ticket, error)
}

// TicketUpdate holds the fields to change; nil means unchanged.
type TicketUpdate struct {
	Status  *tandem.TicketStatus
	AgentID *string
	Queue   *string
	// ClaimedAt sets when the ticket was claimed; a pointer to the zero time clears it (a
	// ticket sent back to a queue).
	ClaimedAt *time.Time
	Priority  *int
	ClosedAt  *time.Time
	DeskRef   *string
	// IfStatus and IfAgentID make the update conditional (see TicketStore.UpdateTicket).
	IfStatus  *tandem.TicketStatus
	IfAgentID *string
	// IfAgentBelowCapacity, with AgentID naming an agent, makes the update conditional on
	// that agent holding fewer than their Capacity of claimed tickets (this one not
	// counted; 0 or no agent row: no limit), else AtCapacity: a transfer to an agent.
	IfAgentBelowCapacity bool
}

// TicketEscalation is what EscalateTicket records.
type TicketEscalation struct {
	At     time.Time
	Reason string // why, for the agents to read
	Raise  int    // added to the ticket's priority
	// QueuedOnly escalates only a queued ticket (one escalated for waiting): a ticket an
	// agent claimed meanwhile returns ECONFLICT.
	QueuedOnly bool
	// Audit, when set, is appended in the same transaction (ID and, when zero, At assigned).
	Audit *tandem.AuditEntry
}

// TicketFilter selects tickets; zero fields match everything. Results are oldest first.
type TicketFilter struct {
	BotID   string
	Queue   string
	Status  tandem.TicketStatus
	AgentID string
	DeskRef string
	// CreatedBefore, when set, selects tickets created before it.
	CreatedBefore time.Time
	// Escalated, when set, selects escalated tickets (true) or the others (false).
	Escalated *bool
	Limit     int
}

// NoteStore keeps agents' internal notes on conversations (tandem.Note). Notes live apart
// from messages, so no reader of messages can show one to a customer. Deleting a
// conversation (retention, erasure) deletes its notes.
type NoteStore interface {
	// CreateNote stores n, assigning ID and CreatedAt when empty, with audit (when non-nil;
	// ID and, when zero, At assigned) in one transaction. An unknown conversation or ticket
	// returns ENOTFOUND; a note whose ProviderID was stored before returns EDUPLICATE;
	// nothing is stored then.
	CreateNote(ctx context.Context, n *tandem.Note, audit *tandem.AuditEntry) error
	// ListCustomerNotes returns the notes on a customer's conversations, oldest first
	// (Limit: the newest Limit, still oldest first).
	ListCustomerNotes(ctx context.Context, customerID string, f MessageFilter) ([]tandem.Note, error)
}

// AgentStore keeps human agents.
type AgentStore interface {
	// CreateAgent assigns ID; a taken email returns EDUPLICATE.
	CreateAgent(ctx context.Context, a *tandem.Agent) error
	FindAgentByID(ctx context.Context, id string) (*tandem.Agent, error)
	FindAgentByEmail(ctx context.Context, email string) (*tandem.Agent, error)
	ListAgents(ctx context.Context) ([]tandem.Agent, error)
	// UpdateAgent sets the non-nil fields; unknown id: ENOTFOUND. Changing the role of the
	// only admin to another returns LastAdmin (ECONFLICT) and changes nothing, checked
	// atomically: of two admins demoting each other at once, on any replicas, exactly one
	// succeeds, so there is always an admin once there was one.
	UpdateAgent(ctx context.Context, id string, upd AgentUpdate) (*tandem.Agent, error)

	// FindAgentCredentials returns the password state of agent id; unknown id: ENOTFOUND.
	FindAgentCredentials(ctx context.Context, id string) (*AgentCredentials, error)
	// SetAgentPassword replaces the agent's password hash with newHash when it still is
	// oldHash (else ECONFLICT: someone set it meanwhile, so a one-time link was used), records
	// at as PasswordChangedAt and bumps SessionEpoch; unknown id: ENOTFOUND.
	SetAgentPassword(ctx context.Context, id, oldHash, newHash string, at time.Time) (*AgentCredentials, error)
	// RevokeAgentSessions bumps the agent's SessionEpoch (sign-out); unknown id: ENOTFOUND.
	RevokeAgentSessions(ctx context.Context, id string) (*AgentCredentials, error)
}

// AgentCredentials is what signs an agent in. It is kept apart from tandem.Agent so a
// password hash never travels with the agent into pages and logs.
type AgentCredentials struct {
	AgentID string
	// PasswordHash is the encoded password hash; "" until the agent sets a password.
	PasswordHash      string
	PasswordChangedAt *time.Time
	// SessionEpoch is carried by sessions: bumping it ends every session issued before.
	SessionEpoch int64
}

// AgentUpdate holds the fields to change; nil means unchanged (an empty non-nil list
// clears Skills or Languages).
type AgentUpdate struct {
	Name      *string
	Role      *tandem.AgentRole
	Skills    []string
	Languages []string
	Capacity  *int
}

// KnowledgeStore keeps knowledge documents, their chunks and embeddings, and searches them.
type KnowledgeStore interface {
	// EnsureCollection creates the collection or returns the existing one unchanged.
	EnsureCollection(ctx context.Context, c tandem.Collection) (*tandem.Collection, error)
	FindCollection(ctx context.Context, name string) (*tandem.Collection, error)
	// UpdateCollection records a new embedder and dimension (after a re-embed).
	UpdateCollection(ctx context.Context, c tandem.Collection) error
	ListCollections(ctx context.Context) ([]tandem.Collection, error)

	// PutDocument stores a document with its chunks. When a document with the same ID
	// exists: an equal ContentHash is a no-op (changed=false); otherwise Version is
	// incremented and the chunks are replaced, atomically. Chunk embeddings must have the
	// collection's dimension.
	PutDocument(ctx context.Context, d *tandem.Document, chunks []tandem.Chunk) (changed bool, err error)
	FindDocumentByID(ctx context.Context, id string) (*tandem.Document, error)
	ListDocuments(ctx context.Context, f DocumentFilter) ([]tandem.Document, error)
	SetDocumentStatus(ctx context.Context, id string, status tandem.DocumentStatus) error
	// ReviewDocument moves a document from one status to another and stores the review
	// round as its latest (replacing the previous), atomically. A document that is no longer
	// at c.From and c.Version (edited or reviewed meanwhile) gives ECONFLICT, a missing one
	// ENOTFOUND.
	ReviewDocument(ctx context.Context, c ReviewChange) error
	// FindDocumentReview returns a document's latest review round; ENOTFOUND when it has
	// none. Deleting the document deletes it.
	FindDocumentReview(ctx context.Context, documentID string) (*tandem.DocumentReview, error)
	DeleteDocument(ctx context.Context, id string) error
	ListChunks(ctx context.Context, documentID string) ([]tandem.Chunk, error)
	// ReplaceEmbeddings overwrites the embeddings of the given chunks (re-embed).
	ReplaceEmbeddings(ctx context.Context, chunks []tandem.Chunk) error

	// SearchText ranks chunks by full-text relevance (PostgreSQL tsvector, SQLite an
	// in-memory inverted index; both BM25), best first; Score is larger for better hits.
	SearchText(ctx context.Context, query string, f SearchFilter) ([]tandem.ScoredChunk, error)
	// SearchVector ranks chunks by cosine similarity to vec, best first; Score is the
	// cosine similarity.
	SearchVector(ctx context.Context, vec []float32, f SearchFilter) ([]tandem.ScoredChunk, error)
}

// ReviewChange is one review transition of a document (see ReviewDocument).
type ReviewChange struct {
	Version  int // the version reviewed
	From, To tandem.DocumentStatus
	Review   tandem.DocumentReview // DocumentID names the document
}

// DocumentFilter selects documents; zero fields match everything.
type DocumentFilter struct {
	Collection string
	Status     tandem.DocumentStatus
	Tag        string
	Query      string // substring of the title
	Limit      int
	Offset     int
}

// SearchFilter restricts a search; zero fields match everything.
type SearchFilter struct {
	Collections []string
	Tags        []string // a chunk matches when its document has any of them
	Language    string
	Status      tandem.DocumentStatus
	Limit       int // 0 means 10
}

// AuditStore is the append-only audit log.
type AuditStore interface {
	// AppendAudit assigns ID and, when zero, At.
	AppendAudit(ctx context.Context, e *tandem.AuditEntry) error
	ListAudit(ctx context.Context, f AuditFilter) ([]tandem.AuditEntry, error)
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	Subject string
	Action  string
	Limit   int
}

// OutboxStore keeps messages on their way to customers' channels. Deliveries are written
// with their messages (TurnRecord.Deliveries, EnqueueDeliveries) and drained by the
// delivery worker of every replica: claims are leases, so a worker that dies mid-send
// leaves its deliveries to another once the lease ends.
type OutboxStore interface {
	// EnqueueDeliveries stores pending deliveries, due now. A delivery whose message
	// already has one is left unchanged (EnqueueDeliveries is idempotent); a delivery whose
	// message does not exist returns ENOTFOUND and stores nothing.
	EnqueueDeliveries(ctx context.Context, ds []*tandem.Delivery) error
	// ClaimDeliveries leases up to limit pending deliveries due at now, oldest due first:
	// each gets Attempts+1 and NextAt = now+lease, so no other claimer (on this or another
	// replica) gets it until the lease ends.
	ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]tandem.Delivery, error)
	// UpdateDelivery sets the non-nil fields: sent with the provider's id, a new NextAt to
	// retry or snooze, failed with the last error. Unknown message: ENOTFOUND. A delivery
	// not matching upd.IfStatus/IfProviderID is left unchanged: ECONFLICT.
	UpdateDelivery(ctx context.Context, messageID string, upd DeliveryUpdate) (*tandem.Delivery, error)
	FindDelivery(ctx context.Context, messageID string) (*tandem.Delivery, error)
	// FindDeliveryByProviderID returns the delivery the provider knows as providerID (the
	// id Send returned) on channel ch. Unknown or empty id: ENOTFOUND.
	FindDeliveryByProviderID(ctx context.Context, ch tandem.Channel, providerID string) (*tandem.Delivery, error)
	// ListDeliveries returns matching deliveries, oldest first.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]tandem.Delivery, error)
	// ReleaseHeldDeliveries makes the held deliveries (tandem.DeliveryHeld) of bot botID to
	// recipient to on channel ch pending and due at now, and returns how many it released:
	// the customer wrote again, so the channel takes them. Each is released once, whatever
	// the number of concurrent callers.
	ReleaseHeldDeliveries(ctx context.Context, botID string, ch tandem.Channel, to string, now time.Time) (int, error)
}

// DeliveryUpdate holds the fields to change; nil means unchanged.
type DeliveryUpdate struct {
	Status      *tandem.DeliveryStatus
	Attempts    *int
	NextAt      *time.Time
	LastError   *string
	ProviderID  *string
	DeliveredAt *time.Time // when the provider reported it delivered
	// IfStatus and IfProviderID are preconditions, checked in the same step (nil: none),
	// so a late or concurrent status report never moves a delivery backwards.
	IfStatus     *tandem.DeliveryStatus
	IfProviderID *string
}

// DeliveryFilter selects deliveries; zero fields match everything.
type DeliveryFilter struct {
	Status  tandem.DeliveryStatus
	BotID   string
	Channel tandem.Channel
	To      string // the recipient
	// MessageIDs, when set, selects the deliveries of these messages (a transcript's).
	MessageIDs []string
	Limit      int // 0 means a default of 100
}
