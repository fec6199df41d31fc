// Package handoff moves conversations between the bot and human agents: it opens tickets
// when the engine hands a conversation over and gives conversations back to the bot, and
// (desk.go) does what agents do with a ticket: claim, reply, close, give back, each audited,
// and (note.go) keeps their internal notes, which customers never see.
// supervise.go supervises handoffs: escalation of tickets that waited too long or whose
// customer is upset (at most once, raising the priority), transfer to another queue or
// agent, agents' capacity, and the queue's order and routing marks (skills, languages).
// Desks (the web inbox, Slack) are HTTP or chat front ends over these operations.
package handoff

import (
	"context"
	"fmt"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// Store is the part of the store handoff needs.
type Store interface {
	CreateTicket(ctx context.Context, t *tandem.Ticket) error
	FindActiveTicket(ctx context.Context, conversationID string) (*tandem.Ticket, error)
	UpdateTicket(ctx context.Context, id string, upd storage.TicketUpdate) (*tandem.Ticket, error)
	UpdateConversation(ctx context.Context, id string, upd storage.ConversationUpdate) (*tandem.Conversation, error)
	AppendAudit(ctx context.Context, e *tandem.AuditEntry) error
}

// Request is what a new ticket says: the queue it waits in, why, how urgent it is and the
// customer's language ("" when unknown), which routing matches with agents' skills and
// languages (see Matches).
type Request struct {
	Queue    string
	Reason   string
	Priority int
	Language string
}

// Open queues a ticket for conv. When the conversation already has a queued or claimed
// ticket, that ticket is returned unchanged (idempotent). The caller sets the
// conversation's status to handoff (the engine does it in the turn's transaction).
func Open(ctx context.Context, s Store, conv *tandem.Conversation, r Request) (*tandem.Ticket, error) {
	t := &tandem.Ticket{ConversationID: conv.ID, BotID: conv.BotID, Queue: r.Queue, Priority: r.Priority,
		Reason: r.Reason, Language: r.Language, Status: tandem.TicketQueued}
	err := s.CreateTicket(ctx, t)
	if tandem.ErrorCode(err) == tandem.EDUPLICATE {
		existing, ferr := s.FindActiveTicket(ctx, conv.ID)
		if ferr != nil {
			return nil, fmt.Errorf("open ticket: %w", ferr)
		}
		return existing, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open ticket: %w", err)
	}
	return t, nil
}

// Return gives a conversation back to the bot: its active ticket becomes returned and the
// conversation open again, audited with actor ("agent:<id>", "system").
func Return(ctx context.Context, s Store, conversationID, actor string, now time.Time) error {
	t, err := s.FindActiveTicket(ctx, conversationID)
	switch tandem.ErrorCode(err) {
	case "":
		st := tandem.TicketReturned
		if _, err := s.UpdateTicket(ctx, t.ID, storage.TicketUpdate{Status: &st, ClosedAt: &now}); err != nil {
			return fmt.Errorf("return ticket: %w", err)
		}
	case tandem.ENOTFOUND:
	default:
		return fmt.Errorf("return to bot: %w", err)
	}
	open := tandem.StatusOpen
	if _, err := s.UpdateConversation(ctx, conversationID, storage.ConversationUpdate{Status: &open}); err != nil {
		return fmt.Errorf("return to bot: %w", err)
	}
	if err := s.AppendAudit(ctx, &tandem.AuditEntry{Actor: actor, Action: ActionReturn, Subject: conversationID}); err != nil {
		return fmt.Errorf("return to bot: %w", err)
	}
	return nil
}
