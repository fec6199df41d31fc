package storagetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// testNotes checks agents' internal notes: stored with their audit entry, listed across
// the customer's conversations, never among the conversation's messages.
func testNotes(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	setup := func(t *testing.T, ext string) (*tandem.Customer, *tandem.Conversation, *tandem.Ticket) {
		t.Helper()
		cust, _ := resolve(t, s, tandem.ChannelSMS, ext)
		conv := newConversation(t, s, "notes", cust.ID, tandem.ChannelSMS)
		tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "notes", Queue: "q"}
		must(t, s.CreateTicket(ctx, tk))
		return cust, conv, tk
	}
	t.Run("CreateNote/OK", func(t *testing.T) {
		t.Parallel()
		cust, conv, tk := setup(t, "+15550900")
		must(t, s.CreateMessage(ctx, &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleCustomer, Channel: tandem.ChannelSMS, Text: "hi"}))
		n := &tandem.Note{ConversationID: conv.ID, TicketID: tk.ID, AuthorID: "agent-1", Text: "called by phone", CreatedAt: when}
		audit := &tandem.AuditEntry{Actor: "agent:agent-1", Action: "ticket.note", Subject: tk.ID}
		must(t, s.CreateNote(ctx, n, audit))
		if n.ID == "" || audit.ID == 0 {
			t.Fatalf("note %+v, audit %+v: ids not assigned", n, audit)
		}
		later := &tandem.Note{ConversationID: conv.ID, TicketID: tk.ID, AuthorID: "agent-2", Text: "refund approved"}
		must(t, s.CreateNote(ctx, later, nil))
		got, err := s.ListCustomerNotes(ctx, cust.ID, storage.MessageFilter{})
		must(t, err)
		if len(got) != 2 || got[0].ID != n.ID || got[1].ID != later.ID {
			t.Fatalf("notes = %+v, want the two oldest first", got)
		}
		if g := got[0]; g.ConversationID != conv.ID || g.TicketID != tk.ID || g.AuthorID != "agent-1" || g.Text != "called by phone" {
			t.Errorf("note = %+v", g)
		}
		wantTime(t, "CreatedAt", got[0].CreatedAt, when)
		newest, err := s.ListCustomerNotes(ctx, cust.ID, storage.MessageFilter{Limit: 1})
		must(t, err)
		if len(newest) != 1 || newest[0].ID != later.ID {
			t.Errorf("newest note = %+v, want %s", newest, later.ID)
		}
		es, err := s.ListAudit(ctx, storage.AuditFilter{Subject: tk.ID, Action: "ticket.note"})
		must(t, err)
		if len(es) != 1 {
			t.Errorf("audit = %+v, want one entry", es)
		}
		// A note is not a message: the transcript does not hold it.
		ms, err := s.ListMessages(ctx, conv.ID, storage.MessageFilter{})
		must(t, err)
		ms2, err := s.ListCustomerMessages(ctx, cust.ID, storage.MessageFilter{})
		must(t, err)
		for _, m := range append(ms, ms2...) {
			if m.Text != "hi" {
				t.Errorf("a message %q besides the customer's", m.Text)
			}
		}
	})
	t.Run("ListCustomerNotes/OtherCustomer", func(t *testing.T) {
		t.Parallel()
		_, conv, tk := setup(t, "+15550901")
		must(t, s.CreateNote(ctx, &tandem.Note{ConversationID: conv.ID, TicketID: tk.ID, AuthorID: "a", Text: "x"}, nil))
		other, _ := resolve(t, s, tandem.ChannelSMS, "+15550902")
		got, err := s.ListCustomerNotes(ctx, other.ID, storage.MessageFilter{})
		must(t, err)
		if got == nil || len(got) != 0 {
			t.Errorf("another customer's notes = %#v, want an empty list", got)
		}
	})
	t.Run("CreateNote/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		cust, conv, tk := setup(t, "+15550903")
		audit := &tandem.AuditEntry{Actor: "agent:a", Action: "ticket.note", Subject: "no-such-ticket"}
		wantCode(t, s.CreateNote(ctx, &tandem.Note{ConversationID: conv.ID, TicketID: "no-such-ticket", AuthorID: "a", Text: "x"}, audit), tandem.ENOTFOUND)
		wantCode(t, s.CreateNote(ctx, &tandem.Note{ConversationID: "no-such-conversation", TicketID: tk.ID, AuthorID: "a", Text: "x"}, nil), tandem.ENOTFOUND)
		got, err := s.ListCustomerNotes(ctx, cust.ID, storage.MessageFilter{})
		must(t, err)
		es, err := s.ListAudit(ctx, storage.AuditFilter{Subject: "no-such-ticket"})
		must(t, err)
		if len(got) != 0 || len(es) != 0 {
			t.Errorf("a refused note stored %d notes, %d audit entries", len(got), len(es))
		}
	})
	t.Run("CreateNote/ErrDuplicate", func(t *testing.T) {
		t.Parallel()
		cust, conv, tk := setup(t, "+15550904")
		n := func() *tandem.Note {
			return &tandem.Note{ConversationID: conv.ID, TicketID: tk.ID, AuthorID: "a", Text: "x", ProviderID: "slack:C1:" + tk.ID}
		}
		must(t, s.CreateNote(ctx, n(), nil))
		wantCode(t, s.CreateNote(ctx, n(), &tandem.AuditEntry{Actor: "agent:a", Action: "ticket.note.retry", Subject: tk.ID}), tandem.EDUPLICATE)
		got, err := s.ListCustomerNotes(ctx, cust.ID, storage.MessageFilter{Since: time.Now().Add(-time.Hour)})
		must(t, err)
		es, err := s.ListAudit(ctx, storage.AuditFilter{Action: "ticket.note.retry"})
		must(t, err)
		if len(got) != 1 || len(es) != 0 {
			t.Errorf("after a retry: %d notes, %d audit entries; want 1 and 0", len(got), len(es))
		}
		// Notes without a provider id never collide.
		must(t, s.CreateNote(ctx, &tandem.Note{ConversationID: conv.ID, TicketID: tk.ID, AuthorID: "a", Text: "y"}, nil))
		must(t, s.CreateNote(ctx, &tandem.Note{ConversationID: conv.ID, TicketID: tk.ID, AuthorID: "a", Text: "z"}, nil))
	})
	t.Run("RedactNotes", func(t *testing.T) {
		t.Parallel()
		cust, conv, tk := setup(t, "+15550905")
		base := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC) // older than other tests' notes
		for i, text := range []string{"old: a@x.example", "old too: b@x.example", "new: c@x.example"} {
			must(t, s.CreateNote(ctx, &tandem.Note{ConversationID: conv.ID, TicketID: tk.ID, AuthorID: "a", Text: text,
				CreatedAt: base.Add(time.Duration(i) * time.Hour)}, nil))
		}
		redact := func(s string) string { return strings.Split(s, ":")[0] + ": [EMAIL]" }
		cutoff := base.Add(90 * time.Minute)
		total := 0
		for {
			n, err := s.RedactNotes(ctx, cutoff, 1, redact)
			must(t, err)
			if n == 0 {
				break
			}
			total += n
		}
		if total != 2 {
			t.Errorf("redacted %d notes, want the 2 before the cutoff", total)
		}
		got, err := s.ListCustomerNotes(ctx, cust.ID, storage.MessageFilter{})
		must(t, err)
		want := []string{"old: [EMAIL]", "old too: [EMAIL]", "new: c@x.example"}
		for i, n := range got {
			if i >= len(want) || n.Text != want[i] {
				t.Errorf("note %d = %q, want %q", i, n.Text, want)
			}
		}
		_, err = s.RedactNotes(ctx, cutoff, 0, redact)
		wantCode(t, err, tandem.EINVALID)
		_, err = s.RedactNotes(ctx, cutoff, 1, nil)
		wantCode(t, err, tandem.EINVALID)
	})
}
