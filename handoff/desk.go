package handoff

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// What an agent's desk (the web inbox, later Slack) does to a ticket. Each operation
// appends an audit entry with the agent as actor (see Actor) and returns a *tandem.Error:
// ENOTFOUND for an unknown ticket, ECONFLICT when the ticket or conversation is not in a
// state that allows the operation (the message says why, for the agent to read), EINVALID
// for bad input. The store's writes of one operation are not one transaction: a failure
// half-way leaves a state the same operation can be repeated from.

// Audit actions appended by desk operations (ActionReturn is appended by Return).
const (
	ActionClaim  = "ticket.claim"
	ActionReply  = "conversation.agent_reply"
	ActionClose  = "ticket.close"
	ActionReturn = "conversation.return_to_bot"
)

// AgentReply is what an agent sends a customer from a desk.
type AgentReply struct {
	TicketID string
	AgentID  string
	Text     string
	// ProviderID, when set, is the desk's own id of the agent's message (e.g. a Slack
	// message's channel and ts, prefixed with the desk), so a desk's retry is dropped.
	ProviderID string
	At         time.Time
}

// MaxReplyBytes bounds the text of an agent's reply.
const MaxReplyBytes = 4096

// DeskStore is the part of the store desk operations need; storage.Store satisfies it.
type DeskStore interface {
	Store
	FindTicketByID(ctx context.Context, id string) (*tandem.Ticket, error)
	ClaimTicket(ctx context.Context, id, agentID string, at time.Time) (*tandem.Ticket, error)
	ListTickets(ctx context.Context, f storage.TicketFilter) ([]tandem.Ticket, error)
	FindConversationByID(ctx context.Context, id string) (*tandem.Conversation, error)
	RecordTurn(ctx context.Context, t storage.TurnRecord) error
	CreateNote(ctx context.Context, n *tandem.Note, audit *tandem.AuditEntry) error
	ListIdentities(ctx context.Context, customerID string) ([]tandem.Identity, error)
	CreateAgent(ctx context.Context, a *tandem.Agent) error
	FindAgentByID(ctx context.Context, id string) (*tandem.Agent, error)
	FindAgentByEmail(ctx context.Context, email string) (*tandem.Agent, error)
}

var _ DeskStore = storage.Store(nil)

// Actor is the audit actor of an agent.
func Actor(agentID string) string { return "agent:" + agentID }

// SignIn returns the agent with email, creating one (role agent, named after the address)
// when there is none. It is safe to call concurrently for the same email. The address is
// not proven: desks that use it must stand behind their own access control.
func SignIn(ctx context.Context, s DeskStore, email string) (*tandem.Agent, error) {
	email, err := ParseEmail(email)
	if err != nil {
		return nil, err
	}
	a, err := s.FindAgentByEmail(ctx, email)
	if tandem.ErrorCode(err) != tandem.ENOTFOUND {
		if err != nil {
			return nil, fmt.Errorf("sign in: %w", err)
		}
		return a, nil
	}
	name, _, _ := strings.Cut(email, "@")
	a = &tandem.Agent{Name: name, Email: email, Role: tandem.AgentRoleAgent}
	switch err := s.CreateAgent(ctx, a); tandem.ErrorCode(err) {
	case "":
		if err := s.AppendAudit(ctx, &tandem.AuditEntry{Actor: Actor(a.ID), Action: "agent.create", Subject: a.ID}); err != nil {
			return nil, fmt.Errorf("sign in: %w", err)
		}
		return a, nil
	case tandem.EDUPLICATE: // created concurrently
		if a, err = s.FindAgentByEmail(ctx, email); err != nil {
			return nil, fmt.Errorf("sign in: %w", err)
		}
		return a, nil
	default:
		return nil, fmt.Errorf("sign in: %w", err)
	}
}

// InboxRoles are the roles that work tickets: the web inbox and the Slack desk let them in
// (an admin may do everything; an editor only edits the knowledge base).
var InboxRoles = []tandem.AgentRole{tandem.AgentRoleAgent, tandem.AgentRoleSupervisor, tandem.AgentRoleAdmin}

// FindStaffAgent returns the existing agent with email when their role works tickets (see
// InboxRoles); it never creates one. It is how a desk that knows a person only by an email
// address someone else proved (a Slack profile) checks them against the staff accounts
// (staff_auth: accounts). Errors: EINVALID for a malformed address; EFORBIDDEN, with a
// message for the person naming the address an admin should add, when there is no such
// agent or their role does not work tickets.
func FindStaffAgent(ctx context.Context, s DeskStore, email string) (*tandem.Agent, error) {
	email, err := ParseEmail(email)
	if err != nil {
		return nil, err
	}
	a, err := s.FindAgentByEmail(ctx, email)
	switch {
	case tandem.ErrorCode(err) == tandem.ENOTFOUND || err == nil && !slices.Contains(InboxRoles, a.Role):
		return nil, tandem.Errorf(tandem.EFORBIDDEN, "You are not a Tandem agent: ask an admin to add %s", email)
	case err != nil:
		return nil, fmt.Errorf("find staff agent: %w", err)
	}
	return a, nil
}

// ListActive returns the queued and claimed tickets in SortQueue's order (escalated first,
// then by priority, then oldest), at most limit (0: all). Escalated tickets are listed
// first, so a long queue does not hide them.
func ListActive(ctx context.Context, s DeskStore, limit int) ([]tandem.Ticket, error) {
	var out []tandem.Ticket
	seen := map[string]bool{}
	for _, escalated := range []bool{true, false} {
		for _, st := range []tandem.TicketStatus{tandem.TicketQueued, tandem.TicketClaimed} {
			ts, err := s.ListTickets(ctx, storage.TicketFilter{Status: st, Escalated: &escalated, Limit: limit})
			if err != nil {
				return nil, fmt.Errorf("list active tickets: %w", err)
			}
			for _, t := range ts {
				if !seen[t.ID] { // escalated between the two reads
					seen[t.ID] = true
					out = append(out, t)
				}
			}
		}
	}
	SortQueue(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Claim gives a queued ticket to agentID. Claiming a ticket the agent already holds is a
// no-op (no second audit entry); a ticket another agent claimed first, or one that is
// closed or returned, is ECONFLICT, and so is a claim by an agent who already holds their
// Capacity of claimed tickets (0: unlimited).
func Claim(ctx context.Context, s DeskStore, ticketID, agentID string, now time.Time) (*tandem.Ticket, error) {
	before, err := s.FindTicketByID(ctx, ticketID)
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	if before.Status == tandem.TicketClaimed && before.AgentID == agentID {
		return before, nil
	}
	if before.Status == tandem.TicketQueued {
		agent, err := s.FindAgentByID(ctx, agentID)
		if err != nil {
			return nil, fmt.Errorf("claim: %w", err)
		}
		if err := checkCapacity(ctx, s, agent, "you are"); err != nil {
			return nil, err
		}
	}
	t, err := s.ClaimTicket(ctx, ticketID, agentID, now)
	if tandem.ErrorCode(err) == tandem.ECONFLICT {
		if now, ferr := s.FindTicketByID(ctx, ticketID); ferr == nil && now.Status == tandem.TicketQueued {
			return nil, err // still queued: the agent reached capacity (storage.AtCapacity)
		}
		return nil, refusal(ctx, s, ticketID, agentID)
	}
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	if err := s.AppendAudit(ctx, &tandem.AuditEntry{At: now, Actor: Actor(agentID), Action: ActionClaim, Subject: t.ID,
		Detail: map[string]string{"conversation_id": t.ConversationID}}); err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	return t, nil
}

// Reply stores an agent's message in the ticket's conversation, on the channel the customer
// last wrote from, and returns it. The agent must hold the ticket and the conversation must
// be with a human (status handoff). On channels whose messages are pushed (SMS, WhatsApp,
// Slack, Discord) the message's delivery to the customer's newest identity there is written
// to the outbox in the same transaction as the message and its audit entry; the web chat
// reads agent messages from the transcript (its socket is told by the desk's event).
//
// A reply whose ProviderID was stored before (a desk's retry of the same chat message)
// returns EDUPLICATE and stores nothing, in the same transaction: no crash or race can
// send it twice.
func Reply(ctx context.Context, s DeskStore, r AgentReply) (*tandem.Message, error) {
	ticketID, agentID, now := r.TicketID, r.AgentID, r.At
	text := strings.TrimSpace(r.Text)
	switch {
	case text == "":
		return nil, tandem.Errorf(tandem.EINVALID, "the reply is empty")
	case len(text) > MaxReplyBytes:
		return nil, tandem.Errorf(tandem.ETOOLARGE, "the reply is %d bytes; the limit is %d", len(text), MaxReplyBytes)
	}
	t, err := held(ctx, s, ticketID, agentID)
	if err != nil {
		return nil, fmt.Errorf("reply: %w", err)
	}
	conv, err := s.FindConversationByID(ctx, t.ConversationID)
	if err != nil {
		return nil, fmt.Errorf("reply: %w", err)
	}
	if conv.Status != tandem.StatusHandoff {
		return nil, tandem.Errorf(tandem.ECONFLICT, "the conversation is %s, not with a human: it cannot take an agent's reply", conv.Status)
	}
	m := &tandem.Message{ID: uuid.Must(uuid.NewV7()).String(), ConversationID: conv.ID, Role: tandem.RoleAgent,
		Channel: conv.Channel, Text: text, AuthorID: agentID, ProviderID: r.ProviderID, CreatedAt: now}
	rec := storage.TurnRecord{ConversationID: conv.ID, Replies: []*tandem.Message{m},
		Audit: []*tandem.AuditEntry{{At: now, Actor: Actor(agentID), Action: ActionReply, Subject: conv.ID,
			Detail: map[string]string{"ticket_id": t.ID, "message_id": m.ID}}}}
	if conv.Channel.Pushed() {
		// The reply goes where the customer last wrote from.
		to, err := address(ctx, s, conv)
		if err != nil {
			return nil, fmt.Errorf("reply: %w", err)
		}
		rec.Deliveries = []*tandem.Delivery{{MessageID: m.ID, BotID: conv.BotID, Channel: conv.Channel, To: to,
			Reply: tandem.Reply{Text: text}}}
	}
	// The message, its delivery and the audit entry are one transaction.
	if err := s.RecordTurn(ctx, rec); err != nil {
		return nil, fmt.Errorf("reply: %w", err)
	}
	return m, nil
}

// address returns the customer's id on the conversation's channel: their newest identity
// there (a customer may have proven two phone numbers).
func address(ctx context.Context, s DeskStore, conv *tandem.Conversation) (string, error) {
	ids, err := s.ListIdentities(ctx, conv.CustomerID)
	if err != nil {
		return "", err
	}
	var best *tandem.Identity
	for i := range ids {
		if ids[i].Channel == conv.Channel && (best == nil || ids[i].CreatedAt.After(best.CreatedAt)) {
			best = &ids[i]
		}
	}
	if best == nil {
		return "", tandem.Errorf(tandem.ECONFLICT, "the customer has no %s identity to send the reply to", conv.Channel)
	}
	return best.ExternalID, nil
}

// Close ends a ticket the agent holds: the ticket becomes closed and its conversation
// closed, so the customer's next message starts a new conversation with the bot.
//
// When surveys gives the ticket's bot a CSAT question, the conversation is given back to
// the bot instead, with fresh state holding only the pending survey (PendingSurvey), and
// the question is stored in it as a bot message, with its delivery on pushed channels, in
// the same transaction as the close's audit entry (as in Reply). The engine reads the
// customer's next message as the answer when it is a rating, and then closes the
// conversation; anything else is answered as a new question in it. A customer with no
// identity on the conversation's channel is not asked.
func Close(ctx context.Context, s DeskStore, ticketID, agentID string, now time.Time, surveys Surveys) error {
	t, err := held(ctx, s, ticketID, agentID)
	if err != nil {
		return fmt.Errorf("close: %w", err)
	}
	st := tandem.TicketClosed
	if _, err := s.UpdateTicket(ctx, t.ID, storage.TicketUpdate{Status: &st, ClosedAt: &now}); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	audit := &tandem.AuditEntry{At: now, Actor: Actor(agentID), Action: ActionClose, Subject: t.ID,
		Detail: map[string]string{"conversation_id": t.ConversationID}}
	if surveys != nil {
		if q := surveys(t.BotID); q != "" {
			asked, err := survey(ctx, s, t, q, audit, now)
			if asked || err != nil {
				return err
			}
		}
	}
	closed := tandem.StatusClosed
	if _, err := s.UpdateConversation(ctx, t.ConversationID, storage.ConversationUpdate{Status: &closed}); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	if err := s.AppendAudit(ctx, audit); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}

// survey asks the customer of the closed ticket t question (see Close). It reports false,
// having stored nothing, when the customer cannot be reached on the conversation's channel.
func survey(ctx context.Context, s DeskStore, t *tandem.Ticket, question string, audit *tandem.AuditEntry, now time.Time) (bool, error) {
	conv, err := s.FindConversationByID(ctx, t.ConversationID)
	if err != nil {
		return false, fmt.Errorf("close: %w", err)
	}
	m := &tandem.Message{ID: uuid.Must(uuid.NewV7()).String(), ConversationID: conv.ID, Role: tandem.RoleBot,
		Channel: conv.Channel, Text: question, CreatedAt: now,
		Decision: &tandem.Decision{Kind: tandem.DecisionSurvey, Reason: "asked how the handoff went after the agent closed ticket " + t.ID}}
	open := tandem.StatusOpen
	audit.Detail["survey_message_id"] = m.ID
	rec := storage.TurnRecord{ConversationID: conv.ID, Replies: []*tandem.Message{m}, Audit: []*tandem.AuditEntry{audit},
		Update: storage.ConversationUpdate{Status: &open,
			State: surveyState(PendingSurvey{TicketID: t.ID, Queue: t.Queue, AgentID: t.AgentID, AskedAt: now})}}
	if conv.Channel.Pushed() {
		to, err := address(ctx, s, conv)
		switch {
		case tandem.ErrorCode(err) == tandem.ECONFLICT:
			return false, nil
		case err != nil:
			return false, fmt.Errorf("close: %w", err)
		}
		rec.Deliveries = []*tandem.Delivery{{MessageID: m.ID, BotID: conv.BotID, Channel: conv.Channel, To: to,
			Reply: tandem.Reply{Text: question}}}
	}
	if err := s.RecordTurn(ctx, rec); err != nil {
		return false, fmt.Errorf("close: %w", err)
	}
	return true, nil
}

// GiveBack returns a ticket the agent holds to the bot (see Return): the bot answers the
// customer's next message.
func GiveBack(ctx context.Context, s DeskStore, ticketID, agentID string, now time.Time) error {
	t, err := held(ctx, s, ticketID, agentID)
	if err != nil {
		return fmt.Errorf("give back: %w", err)
	}
	return Return(ctx, s, t.ConversationID, Actor(agentID), now)
}

// held returns the ticket when agentID holds it, else ECONFLICT saying why not.
func held(ctx context.Context, s DeskStore, ticketID, agentID string) (*tandem.Ticket, error) {
	t, err := s.FindTicketByID(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	switch {
	case t.Status == tandem.TicketClaimed && t.AgentID == agentID:
		return t, nil
	case t.Status == tandem.TicketQueued:
		return nil, tandem.Errorf(tandem.ECONFLICT, "claim the ticket first")
	}
	return nil, refusal(ctx, s, ticketID, agentID)
}

// refusal explains why agentID cannot act on a ticket that is not queued.
func refusal(ctx context.Context, s DeskStore, ticketID, agentID string) error {
	t, err := s.FindTicketByID(ctx, ticketID)
	switch {
	case err != nil:
		return err
	case t.Status == tandem.TicketClaimed && t.AgentID != agentID:
		return tandem.Errorf(tandem.ECONFLICT, "another agent claimed this ticket first")
	case t.Status == tandem.TicketClaimed:
		return tandem.Errorf(tandem.ECONFLICT, "you already hold this ticket")
	default:
		return tandem.Errorf(tandem.ECONFLICT, "the ticket is %s", t.Status)
	}
}
