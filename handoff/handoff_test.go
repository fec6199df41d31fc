package handoff_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/sqlite"
)

func setup(t *testing.T) (*sqlite.Store, *tandem.Conversation) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"), sqlite.Config{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c, _, err := st.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550100")
	if err != nil {
		t.Fatal(err)
	}
	conv := &tandem.Conversation{BotID: "demo", CustomerID: c.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusHandoff}
	if err := st.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	return st, conv
}

func TestOpenIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, conv := setup(t)
	first, err := handoff.Open(ctx, st, conv, handoff.Request{Queue: "support", Reason: "asked for a human"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := handoff.Open(ctx, st, conv, handoff.Request{Queue: "support", Reason: "again", Priority: 1})
	if err != nil {
		t.Fatal(err)
	}
	if first.ID != second.ID || second.Status != tandem.TicketQueued || second.Reason != "asked for a human" {
		t.Fatalf("second = %+v, want the first ticket %s", second, first.ID)
	}
}

func TestReturn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		withTicket bool
		convID     func(conv *tandem.Conversation) string
		code       string
	}{
		{"OK", true, func(c *tandem.Conversation) string { return c.ID }, ""},
		{"OKNoTicket", false, func(c *tandem.Conversation) string { return c.ID }, ""},
		{"ErrUnknownConversation", false, func(*tandem.Conversation) string { return "nope" }, tandem.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, conv := setup(t)
			var ticket *tandem.Ticket
			if tt.withTicket {
				var err error
				if ticket, err = handoff.Open(ctx, st, conv, handoff.Request{Queue: "support", Reason: "r"}); err != nil {
					t.Fatal(err)
				}
			}
			err := handoff.Return(ctx, st, tt.convID(conv), "agent:a1", time.Now())
			if got := tandem.ErrorCode(err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
			if err != nil {
				return
			}
			c, err := st.FindConversationByID(ctx, conv.ID)
			if err != nil || c.Status != tandem.StatusOpen {
				t.Fatalf("conversation = %+v, %v", c, err)
			}
			if ticket != nil {
				tk, err := st.FindTicketByID(ctx, ticket.ID)
				if err != nil || tk.Status != tandem.TicketReturned || tk.ClosedAt == nil {
					t.Fatalf("ticket = %+v, %v", tk, err)
				}
			}
			audit, err := st.ListAudit(ctx, storage.AuditFilter{Action: "conversation.return_to_bot"})
			if err != nil || len(audit) != 1 || audit[0].Actor != "agent:a1" {
				t.Fatalf("audit = %+v, %v", audit, err)
			}
		})
	}
}
