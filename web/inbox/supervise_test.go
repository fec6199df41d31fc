package inbox_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
)

// addTicket queues another customer's ticket in queue, created at created.
func (f *fixture) addTicket(t *testing.T, ext, queue, lang string, created time.Time) *tandem.Ticket {
	t.Helper()
	ctx := context.Background()
	cust, _, err := f.store.ResolveIdentity(ctx, tandem.ChannelSMS, ext)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.UpdateCustomer(ctx, cust.ID, storage.CustomerUpdate{Profile: map[string]string{"name": "Customer " + ext}}); err != nil {
		t.Fatal(err)
	}
	conv := &tandem.Conversation{BotID: "demo", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusHandoff}
	if err := f.store.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "demo", Queue: queue, Language: lang, Reason: "asked", CreatedAt: created}
	if err := f.store.CreateTicket(ctx, tk); err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestQueueSupervision checks the queue's order (escalated first, then priority, then
// oldest), the escalated badge with its reason and the tickets marked for the agent.
func TestQueueSupervision(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t) // "support", created at now
	older := f.addTicket(t, "+15550001", "billing", "fr", now.Add(-time.Minute))
	urgent := f.addTicket(t, "+15550002", "billing", "en", now.Add(2*time.Minute))
	if _, err := f.store.UpdateTicket(ctx, urgent.ID, storage.TicketUpdate{Priority: ptr(1)}); err != nil {
		t.Fatal(err)
	}
	late := f.addTicket(t, "+15550003", "support", "en", now.Add(3*time.Minute))
	esc := &handoff.Escalator{Store: f.store}
	if _, err := esc.Escalate(ctx, late.ID, handoff.EscalationWait, "waited 12m in queue support (limit 10m)", now.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	c := f.signIn(t, "ann@example.com")
	ann, err := f.store.FindAgentByEmail(ctx, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.UpdateAgent(ctx, ann.ID, storage.AgentUpdate{Skills: []string{"billing"}, Languages: []string{"en"}}); err != nil {
		t.Fatal(err)
	}
	res, body := f.do(t, get("/inbox/", c))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d\n%s", res.StatusCode, body)
	}
	var order []string
	for _, id := range []string{late.ID, urgent.ID, older.ID, f.ticket.ID} {
		order = append(order, id)
		if !strings.Contains(body, `data-ticket="`+id+`"`) {
			t.Fatalf("queue lacks ticket %s", id)
		}
	}
	for i := 1; i < len(order); i++ {
		if strings.Index(body, `data-ticket="`+order[i-1]+`"`) > strings.Index(body, `data-ticket="`+order[i]+`"`) {
			t.Errorf("ticket %d of %v is listed before ticket %d", i, order, i-1)
		}
	}
	row := func(id string) string {
		start := strings.Index(body, `data-ticket="`+id+`"`)
		end := strings.Index(body[start:], "</tr>")
		return body[start : start+end]
	}
	for _, tt := range []struct {
		name    string
		id      string
		want    []string
		notWant []string
	}{
		{"Escalated", late.ID, []string{"badge-escalated", "Escalated: waited 12m in queue support (limit 10m)"}, []string{"badge-match"}},
		{"ForYou", urgent.ID, []string{"badge-match", "billing"}, []string{"badge-escalated"}},
		{"OtherLanguage", older.ID, nil, []string{"badge-match", "badge-escalated"}},
	} {
		r := row(tt.id)
		for _, w := range tt.want {
			if !strings.Contains(r, w) {
				t.Errorf("%s: row lacks %q:\n%s", tt.name, w, r)
			}
		}
		for _, w := range tt.notWant {
			if strings.Contains(r, w) {
				t.Errorf("%s: row has %q:\n%s", tt.name, w, r)
			}
		}
	}
}

// TestTransferForm checks who is offered the transfer form: the holder and supervisors.
func TestTransferForm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name   string
		claim  bool             // ann claims the ticket first
		role   tandem.AgentRole // ann's role
		want   bool
		labels []string
	}{
		{"OKHolder", true, tandem.AgentRoleAgent, true, []string{`id="transfer-queue"`, `<option value="support">`, "bob (holds 0 of 2)"}},
		{"OKSupervisor", false, tandem.AgentRoleSupervisor, true, []string{`id="transfer-agent"`}},
		{"NotHolder", false, tandem.AgentRoleAgent, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			c := f.signIn(t, "ann@example.com")
			f.signIn(t, "bob@example.com")
			ann, err := f.store.FindAgentByEmail(ctx, "ann@example.com")
			if err != nil {
				t.Fatal(err)
			}
			bob, err := f.store.FindAgentByEmail(ctx, "bob@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.store.UpdateAgent(ctx, bob.ID, storage.AgentUpdate{Capacity: ptr(2)}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.store.UpdateAgent(ctx, ann.ID, storage.AgentUpdate{Role: &tt.role}); err != nil {
				t.Fatal(err)
			}
			if tt.claim {
				if _, err := handoff.Claim(ctx, f.store, f.ticket.ID, ann.ID, now); err != nil {
					t.Fatal(err)
				}
			}
			_, body := f.do(t, get("/inbox/tickets/"+f.ticket.ID, c))
			if got := strings.Contains(body, `id="transfer"`); got != tt.want {
				t.Fatalf("transfer form shown = %v, want %v", got, tt.want)
			}
			for _, l := range tt.labels {
				if !strings.Contains(body, l) {
					t.Errorf("page lacks %q", l)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestTicketHistory: the ticket page tells who claimed, transferred (with the note) and
// escalated the ticket, oldest first.
func TestTicketHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t)
	c := f.signIn(t, "ann@example.com")
	f.signIn(t, "bob@example.com")
	ann, err := f.store.FindAgentByEmail(ctx, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := f.store.FindAgentByEmail(ctx, "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := handoff.Claim(ctx, f.store, f.ticket.ID, ann.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := handoff.Transfer(ctx, f.store, handoff.TransferRequest{TicketID: f.ticket.ID, By: ann, ToAgent: bob.ID,
		Note: "wants a refund <today>", At: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	_, body := f.do(t, get("/inbox/tickets/"+f.ticket.ID, c))
	i, j := strings.Index(body, "ann claimed it"), strings.Index(body, "ann gave it to bob: <q>wants a refund &lt;today&gt;</q>")
	if !strings.Contains(body, `id="ticket-history"`) || i < 0 || j < 0 || i > j {
		t.Errorf("history missing or out of order (claim at %d, transfer at %d):\n%s", i, j, body)
	}
}
