package handoff_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/internal/teststore"
	"github.com/tandemhq/tandem/storage"
)

// desk is a handed-off web chat conversation with its queued ticket and two agents.
type desk struct {
	st       storage.Store
	conv     *tandem.Conversation
	ticket   *tandem.Ticket
	ann, bob *tandem.Agent
}

var t0 = time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)

func setupDesk(t *testing.T, st storage.Store) *desk {
	t.Helper()
	return setupDeskOn(t, st, tandem.ChannelWebChat, "web-1")
}

// setupDeskOn is setupDesk with the customer writing from ext on ch.
func setupDeskOn(t *testing.T, st storage.Store, ch tandem.Channel, ext string) *desk {
	t.Helper()
	ctx := context.Background()
	c, _, err := st.ResolveIdentity(ctx, ch, ext)
	if err != nil {
		t.Fatal(err)
	}
	conv := &tandem.Conversation{BotID: "demo", CustomerID: c.ID, Channel: ch, Status: tandem.StatusHandoff}
	if err := st.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	tk, err := handoff.Open(ctx, st, conv, handoff.Request{Queue: "support", Reason: "customer asked for a human"})
	if err != nil {
		t.Fatal(err)
	}
	d := &desk{st: st, conv: conv, ticket: tk}
	if d.ann, err = handoff.SignIn(ctx, st, "Ann@example.com"); err != nil {
		t.Fatal(err)
	}
	if d.bob, err = handoff.SignIn(ctx, st, "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *desk) audit(t *testing.T, action string) []tandem.AuditEntry {
	t.Helper()
	es, err := d.st.ListAudit(context.Background(), storage.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestDesk(t *testing.T) {
	t.Parallel()
	for _, s := range teststore.All {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			t.Run("SignIn", func(t *testing.T) { t.Parallel(); testSignIn(t, s.Open(t)) })
			t.Run("FindStaffAgent", func(t *testing.T) { t.Parallel(); testFindStaffAgent(t, s.Open(t)) })
			t.Run("ClaimRace", func(t *testing.T) { t.Parallel(); testClaimRace(t, s.Open(t)) })
			t.Run("Claim", func(t *testing.T) { t.Parallel(); testClaim(t, s.Open) })
			t.Run("Reply", func(t *testing.T) { t.Parallel(); testReply(t, s.Open) })
			t.Run("ReplyPushed", func(t *testing.T) { t.Parallel(); testReplyPushed(t, s.Open(t)) })
			t.Run("CloseAndGiveBack", func(t *testing.T) { t.Parallel(); testCloseAndGiveBack(t, s.Open) })
			t.Run("ListActive", func(t *testing.T) { t.Parallel(); testListActive(t, s.Open(t)) })
			t.Run("CloseSurvey", func(t *testing.T) { t.Parallel(); testCloseSurvey(t, s.Open) })
		})
	}
}

func testSignIn(t *testing.T, st storage.Store) {
	ctx := context.Background()
	d := setupDesk(t, st)
	again, err := handoff.SignIn(ctx, st, " ann@EXAMPLE.com ")
	if err != nil || again.ID != d.ann.ID {
		t.Fatalf("second sign-in = %+v, %v; want agent %s", again, err, d.ann.ID)
	}
	if d.ann.Role != tandem.AgentRoleAgent || d.ann.Name != "ann" {
		t.Errorf("agent = %+v", d.ann)
	}
	for _, bad := range []string{"", "not an email", "Ann <ann@example.com>"} {
		if _, err := handoff.SignIn(ctx, st, bad); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("SignIn(%q) = %v, want invalid", bad, err)
		}
	}
}

// testFindStaffAgent: only existing agents whose role works tickets are found; nobody is
// created, and the refusal names the address to add.
func testFindStaffAgent(t *testing.T, st storage.Store) {
	ctx := context.Background()
	for email, role := range map[string]tandem.AgentRole{"sup@example.com": tandem.AgentRoleSupervisor,
		"admin@example.com": tandem.AgentRoleAdmin, "ed@example.com": tandem.AgentRoleEditor, "ann@example.com": tandem.AgentRoleAgent} {
		if err := st.CreateAgent(ctx, &tandem.Agent{Name: email, Email: email, Role: role}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, email string
		code        string
	}{
		{name: "OKAgent", email: " Ann@Example.com"},
		{name: "OKSupervisor", email: "sup@example.com"},
		{name: "OKAdmin", email: "admin@example.com"},
		{name: "ErrEditor", email: "ed@example.com", code: tandem.EFORBIDDEN},
		{name: "ErrUnknown", email: "eve@example.com", code: tandem.EFORBIDDEN},
		{name: "ErrMalformed", email: "eve", code: tandem.EINVALID},
	}
	for _, tt := range tests {
		a, err := handoff.FindStaffAgent(ctx, st, tt.email)
		if got := tandem.ErrorCode(err); got != tt.code {
			t.Errorf("%s: FindStaffAgent(%q) = %v, want code %q", tt.name, tt.email, err, tt.code)
			continue
		}
		if err == nil && a.Email != strings.ToLower(strings.TrimSpace(tt.email)) {
			t.Errorf("%s: found %s", tt.name, a.Email)
		}
		if tt.code == tandem.EFORBIDDEN && !strings.Contains(tandem.ErrorMessage(err), "ask an admin to add "+tt.email) {
			t.Errorf("%s: message %q does not name the address", tt.name, tandem.ErrorMessage(err))
		}
	}
	if _, err := st.FindAgentByEmail(ctx, "eve@example.com"); tandem.ErrorCode(err) != tandem.ENOTFOUND {
		t.Errorf("FindAgentByEmail(eve) = %v, want no agent created", err)
	}
}

// testClaimRace has two agents claim one ticket at once: exactly one wins, the other is
// told someone else was first.
func testClaimRace(t *testing.T, st storage.Store) {
	ctx := context.Background()
	d := setupDesk(t, st)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, a := range []*tandem.Agent{d.ann, d.bob} {
		wg.Go(func() { _, errs[i] = handoff.Claim(ctx, st, d.ticket.ID, a.ID, t0) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case tandem.ErrorCode(err) != tandem.ECONFLICT || !strings.Contains(tandem.ErrorMessage(err), "another agent claimed"):
			t.Errorf("losing claim = %v, want conflict: another agent claimed", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d claims won, want 1 (%v)", won, errs)
	}
	if got := d.audit(t, handoff.ActionClaim); len(got) != 1 {
		t.Errorf("claim audit entries = %d, want 1", len(got))
	}
}

func testClaim(t *testing.T, open func(testing.TB) storage.Store) {
	tests := []struct {
		name   string
		before func(d *desk) error
		ticket func(d *desk) string
		code   string
	}{
		{"OK", nil, func(d *desk) string { return d.ticket.ID }, ""},
		{"OKAgain", func(d *desk) error {
			_, err := handoff.Claim(context.Background(), d.st, d.ticket.ID, d.ann.ID, t0)
			return err
		},
			func(d *desk) string { return d.ticket.ID }, ""},
		{"ErrTakenByOther", func(d *desk) error {
			_, err := handoff.Claim(context.Background(), d.st, d.ticket.ID, d.bob.ID, t0)
			return err
		},
			func(d *desk) string { return d.ticket.ID }, tandem.ECONFLICT},
		{"ErrReturned", func(d *desk) error { return handoff.Return(context.Background(), d.st, d.conv.ID, "system", t0) },
			func(d *desk) string { return d.ticket.ID }, tandem.ECONFLICT},
		{"ErrUnknownTicket", nil, func(*desk) string { return "nope" }, tandem.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := setupDesk(t, open(t))
			if tt.before != nil {
				if err := tt.before(d); err != nil {
					t.Fatal(err)
				}
			}
			got, err := handoff.Claim(context.Background(), d.st, tt.ticket(d), d.ann.ID, t0)
			if code := tandem.ErrorCode(err); code != tt.code {
				t.Fatalf("code = %q (%v), want %q", code, err, tt.code)
			}
			if err == nil && (got.Status != tandem.TicketClaimed || got.AgentID != d.ann.ID) {
				t.Errorf("ticket = %+v, want claimed by %s", got, d.ann.ID)
			}
		})
	}
}

func testReply(t *testing.T, open func(testing.TB) storage.Store) {
	claim := func(d *desk) error {
		_, err := handoff.Claim(context.Background(), d.st, d.ticket.ID, d.ann.ID, t0)
		return err
	}
	tests := []struct {
		name   string
		before func(d *desk) error
		text   string
		code   string
	}{
		{"OK", claim, "  Hi, Ann here. Let me look.  ", ""},
		{"ErrNotClaimed", nil, "hello", tandem.ECONFLICT},
		{"ErrHeldByOther", func(d *desk) error {
			_, err := handoff.Claim(context.Background(), d.st, d.ticket.ID, d.bob.ID, t0)
			return err
		}, "hello", tandem.ECONFLICT},
		{"ErrNotInHandoff", func(d *desk) error {
			if err := claim(d); err != nil {
				return err
			}
			open := tandem.StatusOpen
			_, err := d.st.UpdateConversation(context.Background(), d.conv.ID, storage.ConversationUpdate{Status: &open})
			return err
		}, "hello", tandem.ECONFLICT},
		{"ErrEmpty", claim, "   ", tandem.EINVALID},
		{"ErrTooLarge", claim, strings.Repeat("x", handoff.MaxReplyBytes+1), tandem.ETOOLARGE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d := setupDesk(t, open(t))
			if tt.before != nil {
				if err := tt.before(d); err != nil {
					t.Fatal(err)
				}
			}
			m, err := handoff.Reply(ctx, d.st, handoff.AgentReply{TicketID: d.ticket.ID, AgentID: d.ann.ID, Text: tt.text, At: t0})
			if code := tandem.ErrorCode(err); code != tt.code {
				t.Fatalf("code = %q (%v), want %q", code, err, tt.code)
			}
			msgs, lerr := d.st.ListMessages(ctx, d.conv.ID, storage.MessageFilter{})
			if lerr != nil {
				t.Fatal(lerr)
			}
			if err != nil {
				if len(msgs) != 0 {
					t.Errorf("a refused reply stored %d messages", len(msgs))
				}
				return
			}
			if len(msgs) != 1 {
				t.Fatalf("stored %d messages, want 1", len(msgs))
			}
			got := msgs[0]
			if got.ID != m.ID || got.Role != tandem.RoleAgent || got.AuthorID != d.ann.ID ||
				got.Channel != tandem.ChannelWebChat || got.Text != "Hi, Ann here. Let me look." {
				t.Errorf("stored %+v", got)
			}
			if a := d.audit(t, handoff.ActionReply); len(a) != 1 || a[0].Actor != "agent:"+d.ann.ID || a[0].Subject != d.conv.ID {
				t.Errorf("audit = %+v", a)
			}
		})
	}
}

func testCloseAndGiveBack(t *testing.T, open func(testing.TB) storage.Store) {
	tests := []struct {
		name       string
		op         func(ctx context.Context, s handoff.DeskStore, ticketID, agentID string, now time.Time) error
		claim      bool
		code       string
		ticket     tandem.TicketStatus
		conv       tandem.ConversationStatus
		auditEntry string
	}{
		{"OKClose", closeNoSurvey, true, "", tandem.TicketClosed, tandem.StatusClosed, handoff.ActionClose},
		{"OKGiveBack", handoff.GiveBack, true, "", tandem.TicketReturned, tandem.StatusOpen, handoff.ActionReturn},
		{"ErrCloseUnclaimed", closeNoSurvey, false, tandem.ECONFLICT, tandem.TicketQueued, tandem.StatusHandoff, ""},
		{"ErrGiveBackUnclaimed", handoff.GiveBack, false, tandem.ECONFLICT, tandem.TicketQueued, tandem.StatusHandoff, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d := setupDesk(t, open(t))
			if tt.claim {
				if _, err := handoff.Claim(ctx, d.st, d.ticket.ID, d.ann.ID, t0); err != nil {
					t.Fatal(err)
				}
			}
			err := tt.op(ctx, d.st, d.ticket.ID, d.ann.ID, t0.Add(time.Minute))
			if code := tandem.ErrorCode(err); code != tt.code {
				t.Fatalf("code = %q (%v), want %q", code, err, tt.code)
			}
			tk, err := d.st.FindTicketByID(ctx, d.ticket.ID)
			if err != nil {
				t.Fatal(err)
			}
			conv, err := d.st.FindConversationByID(ctx, d.conv.ID)
			if err != nil {
				t.Fatal(err)
			}
			if tk.Status != tt.ticket || conv.Status != tt.conv {
				t.Errorf("ticket %s, conversation %s; want %s, %s", tk.Status, conv.Status, tt.ticket, tt.conv)
			}
			if tt.auditEntry != "" {
				if a := d.audit(t, tt.auditEntry); len(a) != 1 || a[0].Actor != "agent:"+d.ann.ID {
					t.Errorf("audit %s = %+v", tt.auditEntry, a)
				}
			}
			// A finished ticket takes no more replies.
			if _, err := handoff.Reply(ctx, d.st, handoff.AgentReply{TicketID: d.ticket.ID, AgentID: d.ann.ID, Text: "still there?", At: t0}); tandem.ErrorCode(err) != tandem.ECONFLICT {
				t.Errorf("reply after %s = %v, want conflict", tt.name, err)
			}
		})
	}
}

func testListActive(t *testing.T, st storage.Store) {
	ctx := context.Background()
	d := setupDesk(t, st)
	if _, err := handoff.Claim(ctx, st, d.ticket.ID, d.ann.ID, t0); err != nil {
		t.Fatal(err)
	}
	var ids []string
	ids = append(ids, d.ticket.ID)
	for _, ext := range []string{"web-2", "web-3"} {
		c, _, err := st.ResolveIdentity(ctx, tandem.ChannelWebChat, ext)
		if err != nil {
			t.Fatal(err)
		}
		conv := &tandem.Conversation{BotID: "demo", CustomerID: c.ID, Channel: tandem.ChannelWebChat, Status: tandem.StatusHandoff}
		if err := st.CreateConversation(ctx, conv); err != nil {
			t.Fatal(err)
		}
		tk, err := handoff.Open(ctx, st, conv, handoff.Request{Queue: "support", Reason: "r"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
		if ext == "web-3" {
			if err := handoff.Return(ctx, st, conv.ID, "system", t0); err != nil {
				t.Fatal(err)
			}
			ids = ids[:len(ids)-1]
		}
	}
	got, err := handoff.ListActive(ctx, st, 0)
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []string
	for _, tk := range got {
		gotIDs = append(gotIDs, tk.ID)
	}
	if strings.Join(gotIDs, ",") != strings.Join(ids, ",") {
		t.Errorf("active = %v, want %v (claimed and queued, oldest first, no returned)", gotIDs, ids)
	}
}

// testReplyPushed checks that an agent's reply to a customer on a pushed channel (SMS) is
// put in the outbox, addressed to the customer's number, with the message; a web chat
// reply is not (the chat page fetches it).
func testReplyPushed(t *testing.T, st storage.Store) {
	ctx := context.Background()
	d := setupDeskOn(t, st, tandem.ChannelSMS, "+15550123")
	if _, err := handoff.Claim(ctx, st, d.ticket.ID, d.ann.ID, t0); err != nil {
		t.Fatal(err)
	}
	m, err := handoff.Reply(ctx, st, handoff.AgentReply{TicketID: d.ticket.ID, AgentID: d.ann.ID, Text: "Hi, Ann here.",
		ProviderID: "slack:C1:1700000000.000100", At: t0})
	if err != nil {
		t.Fatal(err)
	}
	// The desk's retry of the same chat message stores nothing and sends nothing.
	again, err := handoff.Reply(ctx, st, handoff.AgentReply{TicketID: d.ticket.ID, AgentID: d.ann.ID, Text: "Hi, Ann here.",
		ProviderID: "slack:C1:1700000000.000100", At: t0})
	if tandem.ErrorCode(err) != tandem.EDUPLICATE || again != nil {
		t.Fatalf("retried reply: %v, %v; want EDUPLICATE", again, err)
	}
	if msgs, err := st.ListMessages(ctx, d.conv.ID, storage.MessageFilter{}); err != nil || len(msgs) != 1 {
		t.Fatalf("messages after a retried reply: %d, %v; want 1", len(msgs), err)
	}
	if ds, err := st.ListDeliveries(ctx, storage.DeliveryFilter{}); err != nil || len(ds) != 1 {
		t.Fatalf("deliveries after a retried reply: %d, %v; want 1", len(ds), err)
	}
	got, err := st.FindDelivery(ctx, m.ID)
	if err != nil {
		t.Fatalf("the agent's SMS reply has no delivery: %v", err)
	}
	if got.Channel != tandem.ChannelSMS || got.To != "+15550123" || got.BotID != "demo" || got.Reply.Text != "Hi, Ann here." || got.Status != tandem.DeliveryPending {
		t.Errorf("delivery = %+v", got)
	}

	web := setupDeskOn(t, st, tandem.ChannelWebChat, "web-9")
	if _, err := handoff.Claim(ctx, st, web.ticket.ID, web.ann.ID, t0); err != nil {
		t.Fatal(err)
	}
	m, err = handoff.Reply(ctx, st, handoff.AgentReply{TicketID: web.ticket.ID, AgentID: web.ann.ID, Text: "Hello.", At: t0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.FindDelivery(ctx, m.ID); tandem.ErrorCode(err) != tandem.ENOTFOUND {
		t.Errorf("a web chat reply has a delivery (err %v)", err)
	}
}
