package storagetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// testSupervision covers what supervising handoffs needs: a ticket's language, its
// escalation at most once, conditional moves (transfer) and agents' routing fields.
func testSupervision(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	open := func(t *testing.T, ext, bot string, created time.Time) *tandem.Ticket {
		t.Helper()
		cust, _ := resolve(t, s, tandem.ChannelSMS, ext)
		conv := newConversation(t, s, bot, cust.ID, tandem.ChannelSMS)
		tk := &tandem.Ticket{ConversationID: conv.ID, BotID: bot, Queue: "q", Priority: 1, Language: "fr", CreatedAt: created}
		must(t, s.CreateTicket(ctx, tk))
		return tk
	}
	audits := func(t *testing.T, ticketID string) int {
		t.Helper()
		es, err := s.ListAudit(ctx, storage.AuditFilter{Subject: ticketID, Action: "ticket.escalate"})
		must(t, err)
		return len(es)
	}
	escalation := func(ticketID string) storage.TicketEscalation {
		return storage.TicketEscalation{At: when, Reason: "waited 10m", Raise: 2,
			Audit: &tandem.AuditEntry{Actor: "system", Action: "ticket.escalate", Subject: ticketID}}
	}
	t.Run("ClaimTicket/Capacity", func(t *testing.T) {
		t.Parallel()
		a := &tandem.Agent{Name: "Cap", Email: "capacity@example.com", Role: tandem.AgentRoleAgent, Capacity: 2}
		must(t, s.CreateAgent(ctx, a))
		var tickets []*tandem.Ticket
		for i := range 5 {
			tickets = append(tickets, open(t, fmt.Sprintf("+1555097%d", i), "bot", when))
		}
		// Five claims at once by an agent who may hold two: two win, three are told why.
		var wg sync.WaitGroup
		errs := make([]error, len(tickets))
		for i, tk := range tickets {
			wg.Go(func() { _, errs[i] = s.ClaimTicket(ctx, tk.ID, a.ID, when) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch tandem.ErrorCode(err) {
			case "":
				won++
			case tandem.ECONFLICT:
				if msg := tandem.ErrorMessage(err); msg != tandem.ErrorMessage(storage.AtCapacity(2, 2)) {
					t.Errorf("refusal %q, want the capacity message", msg)
				}
			default:
				t.Errorf("claim: %v", err)
			}
		}
		if won != 2 {
			t.Errorf("%d claims won, want the agent's capacity of 2", won)
		}
		held, err := s.ListTickets(ctx, storage.TicketFilter{AgentID: a.ID, Status: tandem.TicketClaimed})
		must(t, err)
		if len(held) != 2 {
			t.Errorf("the agent holds %d tickets, want 2", len(held))
		}
	})
	t.Run("UpdateTicket/Capacity", func(t *testing.T) {
		t.Parallel()
		a := &tandem.Agent{Name: "Tess", Email: "transfer-capacity@example.com", Role: tandem.AgentRoleAgent, Capacity: 4}
		must(t, s.CreateAgent(ctx, a))
		// Tess holds one ticket already; six transfers to her and two claims by her race
		// for the three places left.
		held := open(t, "+15550996", "bot", when)
		_, err := s.ClaimTicket(ctx, held.ID, a.ID, when)
		must(t, err)
		var transfers, claims []*tandem.Ticket
		for i := range 6 {
			tk := open(t, fmt.Sprintf("+1555098%d", i), "bot", when)
			if i%2 == 1 { // some held by another agent, some queued
				_, err := s.ClaimTicket(ctx, tk.ID, "agent-other", when)
				must(t, err)
			}
			transfers = append(transfers, tk)
		}
		for i := range 2 {
			claims = append(claims, open(t, fmt.Sprintf("+1555099%d", i), "bot", when))
		}
		errs := make([]error, len(transfers)+len(claims))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, tk := range transfers {
			wg.Go(func() {
				<-start
				cur, err := s.FindTicketByID(ctx, tk.ID)
				if err != nil {
					errs[i] = err
					return
				}
				_, errs[i] = s.UpdateTicket(ctx, tk.ID, storage.TicketUpdate{Status: ptr(tandem.TicketClaimed), AgentID: &a.ID, ClaimedAt: ptr(when),
					IfStatus: &cur.Status, IfAgentID: &cur.AgentID, IfAgentBelowCapacity: true})
			})
		}
		for i, tk := range claims {
			wg.Go(func() {
				<-start
				_, errs[len(transfers)+i] = s.ClaimTicket(ctx, tk.ID, a.ID, when)
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch tandem.ErrorCode(err) {
			case "":
				won++
			case tandem.ECONFLICT:
				if msg := tandem.ErrorMessage(err); msg != tandem.ErrorMessage(storage.AtCapacity(4, 4)) {
					t.Errorf("move %d refused with %q, want the capacity message", i, msg)
				}
			default:
				t.Errorf("move %d: %v", i, err)
			}
		}
		if won != 3 {
			t.Errorf("%d transfers and claims won, want the 3 places left", won)
		}
		got, err := s.ListTickets(ctx, storage.TicketFilter{AgentID: a.ID, Status: tandem.TicketClaimed})
		must(t, err)
		if len(got) != 4 {
			t.Errorf("the agent holds %d tickets, want their capacity of 4", len(got))
		}
		// A refused transfer changed nothing.
		for i, tk := range transfers {
			if errs[i] == nil {
				continue
			}
			cur, err := s.FindTicketByID(ctx, tk.ID)
			must(t, err)
			if cur.AgentID == a.ID {
				t.Errorf("refused transfer %d moved the ticket: %+v", i, cur)
			}
		}
		// At capacity, moving a ticket she holds already is not counted against her.
		_, err = s.UpdateTicket(ctx, held.ID, storage.TicketUpdate{AgentID: &a.ID, Queue: ptr("vip"), IfAgentBelowCapacity: true})
		must(t, err)
		// Without the flag, or to an agent with no row or no limit, nothing is counted.
		_, err = s.UpdateTicket(ctx, transfers[0].ID, storage.TicketUpdate{Priority: ptr(5), IfAgentBelowCapacity: true})
		must(t, err)
		free := open(t, "+15550997", "bot", when)
		_, err = s.UpdateTicket(ctx, free.ID, storage.TicketUpdate{Status: ptr(tandem.TicketClaimed), AgentID: ptr("agent-without-row"),
			IfAgentBelowCapacity: true})
		must(t, err)
	})
	t.Run("CreateTicket/Language", func(t *testing.T) {
		t.Parallel()
		tk := open(t, "+15550800", "bot", when)
		got, err := s.FindTicketByID(ctx, tk.ID)
		must(t, err)
		if got.Language != "fr" || got.Escalated() || got.Escalation != "" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("EscalateTicket/OK", func(t *testing.T) {
		t.Parallel()
		tk := open(t, "+15550801", "bot", when)
		got, err := s.EscalateTicket(ctx, tk.ID, escalation(tk.ID))
		must(t, err)
		if !got.Escalated() || got.Escalation != "waited 10m" || got.Priority != 3 || got.Status != tandem.TicketQueued {
			t.Fatalf("escalated = %+v", got)
		}
		wantTime(t, "EscalatedAt", *got.EscalatedAt, when)
		stored, err := s.FindTicketByID(ctx, tk.ID)
		must(t, err)
		if !stored.Escalated() || stored.Priority != 3 {
			t.Errorf("stored = %+v", stored)
		}
		if n := audits(t, tk.ID); n != 1 {
			t.Errorf("audit entries = %d, want 1", n)
		}
	})
	t.Run("EscalateTicket/ErrConflict", func(t *testing.T) {
		t.Parallel()
		again := open(t, "+15550802", "bot", when)
		_, err := s.EscalateTicket(ctx, again.ID, escalation(again.ID))
		must(t, err)
		_, err = s.EscalateTicket(ctx, again.ID, escalation(again.ID))
		wantCode(t, err, tandem.ECONFLICT)
		closed := open(t, "+15550803", "bot", when)
		_, err = s.UpdateTicket(ctx, closed.ID, storage.TicketUpdate{Status: ptr(tandem.TicketClosed), ClosedAt: ptr(when)})
		must(t, err)
		_, err = s.EscalateTicket(ctx, closed.ID, escalation(closed.ID))
		wantCode(t, err, tandem.ECONFLICT)
		claimed := open(t, "+15550805", "bot", when)
		_, err = s.ClaimTicket(ctx, claimed.ID, "agent-1", when)
		must(t, err)
		queuedOnly := escalation(claimed.ID)
		queuedOnly.QueuedOnly = true
		_, err = s.EscalateTicket(ctx, claimed.ID, queuedOnly)
		wantCode(t, err, tandem.ECONFLICT)
		if _, err := s.EscalateTicket(ctx, claimed.ID, escalation(claimed.ID)); err != nil {
			t.Errorf("escalate a claimed ticket: %v", err)
		}
		got, err := s.FindTicketByID(ctx, again.ID)
		must(t, err)
		if got.Priority != 3 {
			t.Errorf("priority = %d after a refused second escalation, want 3", got.Priority)
		}
		if a, c := audits(t, again.ID), audits(t, closed.ID); a != 1 || c != 0 {
			t.Errorf("audit entries = %d and %d, want 1 and 0", a, c)
		}
	})
	t.Run("EscalateTicket/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.EscalateTicket(ctx, "missing", escalation("missing"))
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("EscalateTicket/Race", func(t *testing.T) {
		t.Parallel()
		tk := open(t, "+15550804", "bot", when)
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = s.EscalateTicket(ctx, tk.ID, escalation(tk.ID))
			})
		}
		close(start)
		wg.Wait()
		winners := 0
		for i, err := range errs {
			switch tandem.ErrorCode(err) {
			case "":
				winners++
			case tandem.ECONFLICT:
			default:
				t.Errorf("escalation %d: %v", i, err)
			}
		}
		if winners != 1 {
			t.Errorf("winners = %d, want exactly 1", winners)
		}
		if n := audits(t, tk.ID); n != 1 {
			t.Errorf("audit entries = %d, want 1", n)
		}
		got, err := s.FindTicketByID(ctx, tk.ID)
		must(t, err)
		if got.Priority != 3 {
			t.Errorf("priority = %d, want raised once to 3", got.Priority)
		}
	})
	t.Run("ListTickets/Waiting", func(t *testing.T) {
		t.Parallel()
		var ids []string
		for i := range 3 {
			ids = append(ids, open(t, fmt.Sprintf("+1555081%d", i), "waitbot", when.Add(time.Duration(i)*time.Minute)).ID)
		}
		open(t, "+15550819", "otherbot", when) // another bot's
		_, err := s.EscalateTicket(ctx, ids[0], escalation(ids[0]))
		must(t, err)
		tests := []struct {
			name string
			f    storage.TicketFilter
			want []string
		}{
			{"Bot", storage.TicketFilter{BotID: "waitbot"}, ids},
			{"CreatedBefore", storage.TicketFilter{BotID: "waitbot", CreatedBefore: when.Add(90 * time.Second)}, ids[:2]},
			{"NotEscalated", storage.TicketFilter{BotID: "waitbot", Status: tandem.TicketQueued, Escalated: ptr(false)}, ids[1:]},
			{"Escalated", storage.TicketFilter{BotID: "waitbot", Escalated: ptr(true)}, ids[:1]},
		}
		for _, tt := range tests {
			got, err := s.ListTickets(ctx, tt.f)
			must(t, err)
			var gotIDs []string
			for _, tk := range got {
				gotIDs = append(gotIDs, tk.ID)
			}
			if !slices.Equal(gotIDs, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, gotIDs, tt.want)
			}
		}
	})
	t.Run("UpdateTicket/Conditional", func(t *testing.T) {
		t.Parallel()
		tk := open(t, "+15550820", "bot", when)
		_, err := s.ClaimTicket(ctx, tk.ID, "agent-1", when)
		must(t, err)
		// Moved by agent-1 while they hold it: back to a queue, claim cleared.
		got, err := s.UpdateTicket(ctx, tk.ID, storage.TicketUpdate{Status: ptr(tandem.TicketQueued), AgentID: ptr(""), Queue: ptr("billing"),
			ClaimedAt: &time.Time{}, IfStatus: ptr(tandem.TicketClaimed), IfAgentID: ptr("agent-1")})
		must(t, err)
		if got.Status != tandem.TicketQueued || got.AgentID != "" || got.Queue != "billing" || got.ClaimedAt != nil {
			t.Fatalf("moved = %+v", got)
		}
		// The same move again finds the ticket changed.
		_, err = s.UpdateTicket(ctx, tk.ID, storage.TicketUpdate{Queue: ptr("vip"), IfStatus: ptr(tandem.TicketClaimed), IfAgentID: ptr("agent-1")})
		wantCode(t, err, tandem.ECONFLICT)
		_, err = s.UpdateTicket(ctx, tk.ID, storage.TicketUpdate{IfAgentID: ptr("agent-2")})
		wantCode(t, err, tandem.ECONFLICT)
		// Given to agent-2 directly.
		got, err = s.UpdateTicket(ctx, tk.ID, storage.TicketUpdate{Status: ptr(tandem.TicketClaimed), AgentID: ptr("agent-2"), ClaimedAt: ptr(when),
			IfStatus: ptr(tandem.TicketQueued)})
		must(t, err)
		if got.AgentID != "agent-2" || got.ClaimedAt == nil || got.Queue != "billing" {
			t.Fatalf("given = %+v", got)
		}
		wantTime(t, "ClaimedAt", *got.ClaimedAt, when)
		_, err = s.UpdateTicket(ctx, "missing", storage.TicketUpdate{Queue: ptr("x"), IfStatus: ptr(tandem.TicketQueued)})
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("UpdateAgent/OK", func(t *testing.T) {
		t.Parallel()
		a := &tandem.Agent{Name: "Cy", Email: "cy@example.com", Skills: []string{"old"}}
		must(t, s.CreateAgent(ctx, a))
		got, err := s.UpdateAgent(ctx, a.ID, storage.AgentUpdate{Role: ptr(tandem.AgentRoleSupervisor), Skills: []string{"billing", "vip"},
			Languages: []string{"en", "fr"}, Capacity: ptr(2)})
		must(t, err)
		if got.Role != tandem.AgentRoleSupervisor || !slices.Equal(got.Skills, []string{"billing", "vip"}) ||
			!slices.Equal(got.Languages, []string{"en", "fr"}) || got.Capacity != 2 || got.Name != "Cy" {
			t.Fatalf("updated = %+v", got)
		}
		got, err = s.UpdateAgent(ctx, a.ID, storage.AgentUpdate{Skills: []string{}})
		must(t, err)
		if len(got.Skills) != 0 || got.Skills == nil || got.Capacity != 2 {
			t.Errorf("cleared = %+v", got)
		}
		found, err := s.FindAgentByID(ctx, a.ID)
		must(t, err)
		if len(found.Skills) != 0 || !slices.Equal(found.Languages, []string{"en", "fr"}) {
			t.Errorf("stored = %+v", found)
		}
	})
	t.Run("UpdateAgent/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.UpdateAgent(ctx, "missing", storage.AgentUpdate{Capacity: ptr(1)})
		wantCode(t, err, tandem.ENOTFOUND)
		_, err = s.UpdateAgent(ctx, "missing", storage.AgentUpdate{})
		wantCode(t, err, tandem.ENOTFOUND)
	})
}
