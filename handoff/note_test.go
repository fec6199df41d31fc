package handoff_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/internal/teststore"
	"github.com/tandemhq/tandem/storage"
)

func TestAddNote(t *testing.T) {
	t.Parallel()
	for _, s := range teststore.All {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d := setupDeskOn(t, s.Open(t), tandem.ChannelSMS, "+15550123")
			if _, err := handoff.Claim(ctx, d.st, d.ticket.ID, d.ann.ID, t0); err != nil {
				t.Fatal(err)
			}
			editor := &tandem.Agent{Name: "Ed", Email: "ed@example.com", Role: tandem.AgentRoleEditor}
			if err := d.st.CreateAgent(ctx, editor); err != nil {
				t.Fatal(err)
			}

			t.Run("OK", func(t *testing.T) {
				// Bob does not hold the ticket: any agent may add a note.
				n, err := handoff.AddNote(ctx, d.st, handoff.NoteRequest{TicketID: d.ticket.ID, By: d.bob, Text: "  customer called, refund approved  ", At: t0})
				if err != nil {
					t.Fatal(err)
				}
				if n.Text != "customer called, refund approved" || n.AuthorID != d.bob.ID || n.ConversationID != d.conv.ID || n.TicketID != d.ticket.ID {
					t.Errorf("note = %+v", n)
				}
				got, err := d.st.ListCustomerNotes(ctx, d.conv.CustomerID, storage.MessageFilter{})
				if err != nil || len(got) != 1 || got[0].ID != n.ID {
					t.Fatalf("notes = %+v, %v", got, err)
				}
				es := d.audit(t, handoff.ActionNote)
				if len(es) != 1 || es[0].Actor != handoff.Actor(d.bob.ID) || es[0].Subject != d.ticket.ID || es[0].Detail["note_id"] != n.ID {
					t.Errorf("audit = %+v", es)
				}
				if strings.Contains(es[0].Detail["bytes"]+es[0].Detail["conversation_id"], "refund") {
					t.Errorf("audit detail holds the note's text: %+v", es[0].Detail)
				}
				// Nothing reaches the customer: no message, no delivery.
				ms, err := d.st.ListMessages(ctx, d.conv.ID, storage.MessageFilter{})
				if err != nil || len(ms) != 0 {
					t.Errorf("messages = %+v, %v; want none", ms, err)
				}
				ds, err := d.st.ListDeliveries(ctx, storage.DeliveryFilter{})
				if err != nil || len(ds) != 0 {
					t.Errorf("deliveries = %+v, %v; want none", ds, err)
				}
			})
			t.Run("Retry", func(t *testing.T) {
				r := handoff.NoteRequest{TicketID: d.ticket.ID, By: d.ann, Text: "once", ProviderID: "slack:C1:1.2", At: t0}
				if _, err := handoff.AddNote(ctx, d.st, r); err != nil {
					t.Fatal(err)
				}
				_, err := handoff.AddNote(ctx, d.st, r)
				if tandem.ErrorCode(err) != tandem.EDUPLICATE {
					t.Errorf("retry: %v, want %s", err, tandem.EDUPLICATE)
				}
			})
			for _, tc := range []struct {
				name string
				r    handoff.NoteRequest
				code string
			}{
				{"ErrEmpty", handoff.NoteRequest{TicketID: d.ticket.ID, By: d.ann, Text: " \n "}, tandem.EINVALID},
				{"ErrNoAuthor", handoff.NoteRequest{TicketID: d.ticket.ID, Text: "x"}, tandem.EINVALID},
				{"ErrTooLarge", handoff.NoteRequest{TicketID: d.ticket.ID, By: d.ann, Text: strings.Repeat("x", handoff.MaxInternalNoteBytes+1)}, tandem.ETOOLARGE},
				{"ErrEditor", handoff.NoteRequest{TicketID: d.ticket.ID, By: editor, Text: "x"}, tandem.EFORBIDDEN},
				{"ErrNotFound", handoff.NoteRequest{TicketID: "no-such-ticket", By: d.ann, Text: "x"}, tandem.ENOTFOUND},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before, _ := d.st.ListCustomerNotes(ctx, d.conv.CustomerID, storage.MessageFilter{})
					_, err := handoff.AddNote(ctx, d.st, tc.r)
					if got := tandem.ErrorCode(err); got != tc.code {
						t.Errorf("error %v, want code %s", err, tc.code)
					}
					after, _ := d.st.ListCustomerNotes(ctx, d.conv.CustomerID, storage.MessageFilter{})
					if len(after) != len(before) {
						t.Errorf("a refused note was stored")
					}
				})
			}
			t.Run("ClosedTicket", func(t *testing.T) {
				if err := handoff.Close(ctx, d.st, d.ticket.ID, d.ann.ID, t0, nil); err != nil {
					t.Fatal(err)
				}
				if _, err := handoff.AddNote(ctx, d.st, handoff.NoteRequest{TicketID: d.ticket.ID, By: d.ann, Text: "followed up by email", At: t0}); err != nil {
					t.Errorf("note on a closed ticket: %v", err)
				}
			})
		})
	}
}
