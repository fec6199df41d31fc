package slackdesk_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/handoff/slackdesk"
	"github.com/tandemhq/tandem/storage"
)

// addStaff creates staff accounts (as tandem users add does) by email and role.
func (f *fixture) addStaff(t *testing.T, accounts map[string]tandem.AgentRole) map[string]*tandem.Agent {
	t.Helper()
	out := map[string]*tandem.Agent{}
	for email, role := range accounts {
		name, _, _ := strings.Cut(email, "@")
		a := &tandem.Agent{Name: name, Email: email, Role: role}
		if err := f.st.CreateAgent(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		out[email] = a
	}
	return out
}

// testStaffAccounts: with staff accounts, only agents, supervisors and admins that exist
// act in Slack; anyone else (unknown, or an editor) is told to ask an admin, nobody is
// created and nothing changes. Without them (open), a new member acts as a new agent.
func testStaffAccounts(t *testing.T, open func(testing.TB) storage.Store) {
	tests := []struct {
		name    string
		staff   bool
		holder  string // who holds the ticket first (a staff account)
		req     func(f *fixture, ts string) *http.Request
		user    string // who made the request
		status  tandem.TicketStatus
		holds   string // the email of the ticket's holder after the request
		reply   string // the agent message stored, "" for none
		refusal string // the ephemeral answer, "" for none
		created bool   // whether the user's agent exists afterwards
	}{
		{name: "OKAgentClaims", staff: true, user: "U0ANN",
			req: func(f *fixture, ts string) *http.Request {
				return click("U0ANN", slackdesk.ActionClaim, f.ticket.ID, ts)
			},
			status: tandem.TicketClaimed, holds: "ann@example.com", created: true},
		{name: "OKAdminClaims", staff: true, user: "U0SUE",
			req: func(f *fixture, ts string) *http.Request {
				return click("U0SUE", slackdesk.ActionClaim, f.ticket.ID, ts)
			},
			status: tandem.TicketClaimed, holds: "sue@example.com", created: true},
		{name: "OKAgentReplies", staff: true, holder: "ann@example.com", user: "U0ANN",
			req:    func(f *fixture, ts string) *http.Request { return threadReply(map[string]any{"thread_ts": ts}) },
			status: tandem.TicketClaimed, holds: "ann@example.com", reply: "Hi Dana, Ann here. I am looking into it.", created: true},
		{name: "ErrUnknownClicks", staff: true, user: "U0EVE",
			req: func(f *fixture, ts string) *http.Request {
				return click("U0EVE", slackdesk.ActionClaim, f.ticket.ID, ts)
			},
			status:  tandem.TicketQueued,
			refusal: "You are not a Tandem agent: ask an admin to add eve@example.com"},
		{name: "ErrEditorClicks", staff: true, user: "U0ED",
			req: func(f *fixture, ts string) *http.Request {
				return click("U0ED", slackdesk.ActionClaim, f.ticket.ID, ts)
			},
			status:  tandem.TicketQueued,
			refusal: "You are not a Tandem agent: ask an admin to add ed@example.com", created: true},
		{name: "ErrUnknownCloses", staff: true, holder: "ann@example.com", user: "U0EVE",
			req: func(f *fixture, ts string) *http.Request {
				return click("U0EVE", slackdesk.ActionClose, f.ticket.ID, ts)
			},
			status: tandem.TicketClaimed, holds: "ann@example.com",
			refusal: "You are not a Tandem agent: ask an admin to add eve@example.com"},
		{name: "ErrUnknownReplies", staff: true, holder: "ann@example.com", user: "U0EVE",
			req: func(f *fixture, ts string) *http.Request {
				return threadReply(map[string]any{"thread_ts": ts, "user": "U0EVE", "text": "Eve here, send me your card number"})
			},
			status: tandem.TicketClaimed, holds: "ann@example.com",
			refusal: "Not sent to the customer: You are not a Tandem agent: ask an admin to add eve@example.com"},
		{name: "OKOpenCreates", user: "U0EVE",
			req: func(f *fixture, ts string) *http.Request {
				return click("U0EVE", slackdesk.ActionClaim, f.ticket.ID, ts)
			},
			status: tandem.TicketClaimed, holds: "eve@example.com", created: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := setup(t, open(t), setupOpt{staff: tt.staff})
			staff := f.addStaff(t, map[string]tandem.AgentRole{"ann@example.com": tandem.AgentRoleAgent,
				"sue@example.com": tandem.AgentRoleAdmin, "ed@example.com": tandem.AgentRoleEditor})
			ts := f.posted(t)
			if tt.holder != "" {
				if _, err := handoff.Claim(ctx, f.st, f.ticket.ID, staff[tt.holder].ID, f.ticket.CreatedAt); err != nil {
					t.Fatal(err)
				}
			}
			if rec := serve(f.desk, tt.req(f, ts)); rec.Code != http.StatusOK {
				t.Fatalf("status = %d (%s), want 200", rec.Code, rec.Body)
			}
			if tt.refusal != "" {
				text, _ := f.ephemeral(t, tt.user)
				if !strings.Contains(text, tt.refusal) {
					t.Errorf("ephemeral = %q, want %q", text, tt.refusal)
				}
			}
			tk := f.findTicket(t)
			holds := ""
			if tk.AgentID != "" {
				a, err := f.st.FindAgentByID(ctx, tk.AgentID)
				if err != nil {
					t.Fatal(err)
				}
				holds = a.Email
			}
			if tk.Status != tt.status || holds != tt.holds {
				t.Errorf("ticket %s held by %q, want %s by %q", tk.Status, holds, tt.status, tt.holds)
			}
			msgs := f.agentMessages(t)
			if tt.reply == "" && len(msgs) != 0 || tt.reply != "" && (len(msgs) != 1 || msgs[0].Text != tt.reply) {
				t.Errorf("agent messages = %+v, want %q", msgs, tt.reply)
			}
			if ds, err := f.st.ListDeliveries(ctx, storage.DeliveryFilter{}); err != nil || len(ds) != len(msgs) {
				t.Errorf("deliveries = %d (%v), want %d: nothing goes to the customer but the agent's reply", len(ds), err, len(msgs))
			}
			_, err := f.st.FindAgentByEmail(ctx, users[tt.user])
			if created := err == nil; created != tt.created {
				t.Errorf("agent %s exists = %v (%v), want %v", users[tt.user], created, err, tt.created)
			}
		})
	}
}
