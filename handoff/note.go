package handoff

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tandemhq/tandem"
)

// ActionNote is the audit action of AddNote. Its detail holds ids and the note's size,
// never its text: the audit log outlives an erased customer's notes.
const ActionNote = "ticket.note"

// MaxInternalNoteBytes bounds an internal note's text (MaxNoteBytes bounds a transfer's
// note).
const MaxInternalNoteBytes = 4096

// NoteRequest is an agent's internal note on a ticket's conversation.
type NoteRequest struct {
	TicketID string
	By       *tandem.Agent
	Text     string
	// ProviderID, when set, is the desk's own id of the note (e.g. a Slack message's
	// channel and ts, prefixed with the desk), so a desk's retry is dropped.
	ProviderID string
	At         time.Time
}

// AddNote stores an internal note on the ticket's conversation, for agents only: it is never
// sent to the customer's channel nor shown in their transcript, and nothing reads it to
// answer them (notes are not messages; see tandem.Note). Any agent, supervisor or admin may
// add one, holding the ticket or not, whatever the ticket's status. The note and its
// ticket.note audit entry are one transaction. Errors: EINVALID for an empty note,
// ETOOLARGE over MaxInternalNoteBytes, EFORBIDDEN for someone whose role does not work
// tickets, ENOTFOUND for an unknown ticket, EDUPLICATE for a ProviderID stored before (a
// desk's retry; nothing is stored).
func AddNote(ctx context.Context, s DeskStore, r NoteRequest) (*tandem.Note, error) {
	text := strings.TrimSpace(r.Text)
	switch {
	case r.By == nil:
		return nil, tandem.Errorf(tandem.EINVALID, "note: who writes it is unknown")
	case !slices.Contains(InboxRoles, r.By.Role):
		return nil, tandem.Errorf(tandem.EFORBIDDEN, "only agents, supervisors and admins can add notes to tickets")
	case text == "":
		return nil, tandem.Errorf(tandem.EINVALID, "the note is empty")
	case len(text) > MaxInternalNoteBytes:
		return nil, tandem.Errorf(tandem.ETOOLARGE, "the note is %d bytes; the limit is %d", len(text), MaxInternalNoteBytes)
	}
	t, err := s.FindTicketByID(ctx, r.TicketID)
	if err != nil {
		return nil, fmt.Errorf("note: %w", err)
	}
	n := &tandem.Note{ID: uuid.Must(uuid.NewV7()).String(), ConversationID: t.ConversationID, TicketID: t.ID, AuthorID: r.By.ID, Text: text,
		ProviderID: r.ProviderID, CreatedAt: r.At}
	audit := &tandem.AuditEntry{At: r.At, Actor: Actor(r.By.ID), Action: ActionNote, Subject: t.ID,
		Detail: map[string]string{"conversation_id": t.ConversationID, "note_id": n.ID, "bytes": strconv.Itoa(len(text))}}
	if err := s.CreateNote(ctx, n, audit); err != nil {
		return nil, fmt.Errorf("note: %w", err)
	}
	return n, nil
}
