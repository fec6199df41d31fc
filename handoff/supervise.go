package handoff

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// Supervision of handoffs: escalation to supervisors, transfer between queues and agents,
// and the routing facts (capacity, skills, languages) the desks use.

// Audit actions of supervision.
const (
	ActionEscalate = "ticket.escalate"
	ActionTransfer = "ticket.transfer"
)

// Escalation kinds: why a ticket was escalated, and the reason label of the
// tandem_tickets_escalated_total metric.
const (
	EscalationWait      = "wait"      // it waited queued longer than its bot allows
	EscalationSentiment = "sentiment" // the customer wrote something strongly negative
)

// EscalationRaise is what escalating adds to a ticket's priority.
const EscalationRaise = 1

// MaxQueueBytes bounds a queue name given to Transfer.
const MaxQueueBytes = 64

// TicketWatcher is an agents' desk that shows tickets and redraws one when it changes
// elsewhere (another desk's claim, an escalation); *slackdesk.Desk satisfies it.
// TicketChanged must not wait for the desk's own network calls.
type TicketWatcher interface {
	TicketChanged(ctx context.Context, ticketID string) error
}

// EscalationStore is the part of the store escalation needs; storage.Store satisfies it.
type EscalationStore interface {
	EscalateTicket(ctx context.Context, id string, e storage.TicketEscalation) (*tandem.Ticket, error)
}

// Escalator escalates tickets to supervisors: the escalation worker (jobs.Escalations)
// and the engine's turns share one. It is safe for concurrent use.
type Escalator struct {
	Store EscalationStore
	// Desks are told about each escalation so they redraw the ticket.
	Desks []TicketWatcher
	// Observe, when set, is told the kind of each escalation made (the app counts them).
	Observe func(kind string)
	Logger  *slog.Logger // nil: slog.Default()
}

// Escalate escalates the ticket at now, once: it raises the ticket's priority by
// EscalationRaise, records reason and appends a ticket.escalate audit entry (actor
// system, detail kind and reason) in one transaction, then tells the desks. A ticket
// escalated before, or no longer queued or claimed (no longer queued, for
// EscalationWait), is ECONFLICT and nothing is done: of
// concurrent callers on any number of replicas exactly one escalates.
func (e *Escalator) Escalate(ctx context.Context, ticketID, kind, reason string, now time.Time) (*tandem.Ticket, error) {
	t, err := e.Store.EscalateTicket(ctx, ticketID, storage.TicketEscalation{At: now, Reason: reason, Raise: EscalationRaise,
		QueuedOnly: kind == EscalationWait,
		Audit: &tandem.AuditEntry{At: now, Actor: "system", Action: ActionEscalate, Subject: ticketID,
			Detail: map[string]string{"kind": kind, "reason": reason}}})
	if err != nil {
		return nil, fmt.Errorf("escalate: %w", err)
	}
	if e.Observe != nil {
		e.Observe(kind)
	}
	tellDesks(ctx, e.Desks, ticketID, e.Logger)
	return t, nil
}

// tellDesks tells the desks that a ticket changed. The change is stored already, so a
// failure is logged: the desk catches up when it next draws the ticket.
func tellDesks(ctx context.Context, desks []TicketWatcher, ticketID string, logger *slog.Logger) {
	for _, d := range desks {
		if err := d.TicketChanged(ctx, ticketID); err != nil {
			if logger == nil {
				logger = slog.Default()
			}
			logger.WarnContext(ctx, "handoff: tell a desk a ticket changed", "ticket_id", ticketID, "error", err)
		}
	}
}

// TransferRequest moves a ticket to another queue or to another agent.
type TransferRequest struct {
	TicketID string
	// By is who asks: the agent holding the ticket, or a supervisor or admin (any active
	// ticket).
	By *tandem.Agent
	// ToQueue sends the ticket back to waiting, unclaimed, in this queue; ToAgent (an agent
	// id) gives it to that agent, claimed, within their capacity. Set exactly one.
	ToQueue string
	ToAgent string
	// Note, optional, is for the receiving side; it is kept in the audit entry.
	Note string
	At   time.Time
}

// MaxNoteBytes bounds a transfer's note.
const MaxNoteBytes = 1024

// Transfer moves a queued or claimed ticket as r says and appends a ticket.transfer audit
// entry with the agent as actor and detail from_queue, to_queue, from_agent, to_agent and
// note. Refusals, with a message for the agent: EINVALID for a request naming no target,
// both, an unknown agent or a bad queue name; ECONFLICT when r.By neither holds the ticket
// nor supervises, when the ticket is closed or already where it would go, when the
// receiving agent is at capacity, and when the ticket changed while being moved (the move
// is a compare-and-swap: of two concurrent moves exactly one wins).
func Transfer(ctx context.Context, s DeskStore, r TransferRequest) (*tandem.Ticket, error) {
	r.ToQueue, r.ToAgent, r.Note = strings.TrimSpace(r.ToQueue), strings.TrimSpace(r.ToAgent), strings.TrimSpace(r.Note)
	switch {
	case r.By == nil:
		return nil, tandem.Errorf(tandem.EINVALID, "transfer: who transfers is unknown")
	case (r.ToQueue == "") == (r.ToAgent == ""):
		return nil, tandem.Errorf(tandem.EINVALID, "choose either a queue or an agent to transfer the ticket to")
	case r.ToQueue != "" && !validQueue(r.ToQueue):
		return nil, tandem.Errorf(tandem.EINVALID, "a queue name is 1 to %d bytes of printable text", MaxQueueBytes)
	case len(r.Note) > MaxNoteBytes:
		return nil, tandem.Errorf(tandem.ETOOLARGE, "the note is %d bytes; the limit is %d", len(r.Note), MaxNoteBytes)
	}
	t, err := s.FindTicketByID(ctx, r.TicketID)
	if err != nil {
		return nil, fmt.Errorf("transfer: %w", err)
	}
	if t.Status != tandem.TicketQueued && t.Status != tandem.TicketClaimed {
		return nil, tandem.Errorf(tandem.ECONFLICT, "the ticket is %s: it cannot be transferred", t.Status)
	}
	if err := MayTransfer(t, r.By); err != nil {
		return nil, err
	}
	upd := storage.TicketUpdate{IfStatus: &t.Status, IfAgentID: &t.AgentID}
	var to *tandem.Agent
	detail := map[string]string{"conversation_id": t.ConversationID, "from_queue": t.Queue, "from_agent": t.AgentID}
	if r.ToQueue != "" {
		if t.Status == tandem.TicketQueued && t.Queue == r.ToQueue {
			return nil, tandem.Errorf(tandem.ECONFLICT, "the ticket already waits in queue %s", r.ToQueue)
		}
		queued, none := tandem.TicketQueued, ""
		upd.Status, upd.AgentID, upd.Queue, upd.ClaimedAt = &queued, &none, &r.ToQueue, &time.Time{}
		detail["to_queue"] = r.ToQueue
	} else {
		to, err = s.FindAgentByID(ctx, r.ToAgent)
		if tandem.ErrorCode(err) == tandem.ENOTFOUND {
			return nil, tandem.Errorf(tandem.EINVALID, "there is no such agent to transfer to")
		}
		if err != nil {
			return nil, fmt.Errorf("transfer: %w", err)
		}
		if !slices.Contains(InboxRoles, to.Role) {
			return nil, tandem.Errorf(tandem.EINVALID, "%s is an %s: only agents, supervisors and admins work tickets", agentName(to), to.Role)
		}
		if t.Status == tandem.TicketClaimed && t.AgentID == to.ID {
			return nil, tandem.Errorf(tandem.ECONFLICT, "%s already holds this ticket", agentName(to))
		}
		if err := checkCapacity(ctx, s, to, agentName(to)+" is"); err != nil {
			return nil, err
		}
		claimed := tandem.TicketClaimed
		upd.Status, upd.AgentID, upd.ClaimedAt = &claimed, &to.ID, &r.At
		upd.IfAgentBelowCapacity = true // the store checks again, atomically with the move
		detail["to_agent"], detail["to_queue"] = to.ID, t.Queue
	}
	if r.Note != "" {
		detail["note"] = r.Note
	}
	moved, err := s.UpdateTicket(ctx, t.ID, upd)
	if tandem.ErrorCode(err) == tandem.ECONFLICT {
		// Either the ticket moved or the receiver filled up meanwhile (storage.AtCapacity,
		// worded for the agent themself): say which, in the sender's words.
		if to != nil {
			if cerr := checkCapacity(ctx, s, to, agentName(to)+" is"); cerr != nil {
				return nil, cerr
			}
		}
		return nil, tandem.Errorf(tandem.ECONFLICT, "the ticket changed while you were transferring it; look at it again")
	}
	if err != nil {
		return nil, fmt.Errorf("transfer: %w", err)
	}
	if err := s.AppendAudit(ctx, &tandem.AuditEntry{At: r.At, Actor: Actor(r.By.ID), Action: ActionTransfer, Subject: t.ID,
		Detail: detail}); err != nil {
		return nil, fmt.Errorf("transfer: %w", err)
	}
	return moved, nil
}

// MayTransfer returns nil when a may transfer t: the agent holding it, or a supervisor or
// admin; else ECONFLICT with a message for the agent. Desks use it to offer the transfer
// form only to who may use it; Transfer checks it again.
func MayTransfer(t *tandem.Ticket, a *tandem.Agent) error {
	holds := t.Status == tandem.TicketClaimed && t.AgentID == a.ID
	if !holds && !Supervises(a) {
		return tandem.Errorf(tandem.ECONFLICT, "only the agent holding this ticket, or a supervisor, can transfer it")
	}
	return nil
}

// Supervises reports whether a may act on tickets it does not hold (transfer them).
func Supervises(a *tandem.Agent) bool {
	return a.Role == tandem.AgentRoleSupervisor || a.Role == tandem.AgentRoleAdmin
}

// checkCapacity refuses with ECONFLICT when a already holds Capacity claimed tickets
// (Capacity 0 is unlimited); who starts the message ("you are", "Ann is"). It is the
// friendly early answer to a claim or a transfer: the store checks again atomically with
// the move (ClaimTicket, UpdateTicket with IfAgentBelowCapacity), so concurrent claims and
// transfers to one agent, on any replicas, never leave them over capacity.
func checkCapacity(ctx context.Context, s DeskStore, a *tandem.Agent, who string) error {
	if a.Capacity <= 0 {
		return nil
	}
	held, err := s.ListTickets(ctx, storage.TicketFilter{AgentID: a.ID, Status: tandem.TicketClaimed, Limit: a.Capacity})
	if err != nil {
		return fmt.Errorf("capacity: %w", err)
	}
	if len(held) >= a.Capacity {
		return tandem.Errorf(tandem.ECONFLICT, "%s at capacity: holding %d conversations of %d; close, give back or transfer one first",
			who, len(held), a.Capacity)
	}
	return nil
}

// Matches reports whether t suits a, for desks to point agents at their tickets: a must
// have skills or languages, the ticket's queue must be one of a's skills (when a has
// any), and its language one of a's languages (when a has any and the ticket's language
// is known).
func Matches(t *tandem.Ticket, a *tandem.Agent) bool {
	if len(a.Skills) == 0 && len(a.Languages) == 0 {
		return false
	}
	if len(a.Skills) > 0 && !slices.Contains(a.Skills, t.Queue) {
		return false
	}
	if len(a.Languages) > 0 && t.Language != "" && !slices.ContainsFunc(a.Languages, func(l string) bool { return strings.EqualFold(l, t.Language) }) {
		return false
	}
	return true
}

// SortQueue orders tickets as agents should take them: escalated first, then by
// priority (highest first), then oldest first.
func SortQueue(ts []tandem.Ticket) {
	slices.SortStableFunc(ts, func(a, b tandem.Ticket) int {
		if a.Escalated() != b.Escalated() {
			if a.Escalated() {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.Priority, a.Priority), a.CreatedAt.Compare(b.CreatedAt))
	})
}

func validQueue(q string) bool {
	if q == "" || len(q) > MaxQueueBytes {
		return false
	}
	return !strings.ContainsFunc(q, func(r rune) bool { return !unicode.IsPrint(r) })
}

func agentName(a *tandem.Agent) string {
	if a.Name != "" {
		return a.Name
	}
	return a.Email
}
