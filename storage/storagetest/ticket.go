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

func testTickets(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	setup := func(t *testing.T, ext string) *tandem.Conversation {
		cust, _ := resolve(t, s, tandem.ChannelSMS, ext)
		return newConversation(t, s, "bot", cust.ID, tandem.ChannelSMS)
	}
	t.Run("CreateTicket/OK", func(t *testing.T) {
		t.Parallel()
		conv := setup(t, "+15550400")
		tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "billing", Priority: 2, Reason: "asked", CreatedAt: when}
		must(t, s.CreateTicket(ctx, tk))
		if tk.ID == "" || tk.Status != tandem.TicketQueued {
			t.Fatalf("ticket = %+v", tk)
		}
		got, err := s.FindTicketByID(ctx, tk.ID)
		must(t, err)
		if got.Queue != "billing" || got.Priority != 2 || got.Reason != "asked" || got.Status != tandem.TicketQueued || got.ClaimedAt != nil || got.ClosedAt != nil {
			t.Errorf("got %+v", got)
		}
		wantTime(t, "CreatedAt", got.CreatedAt, when)
		active, err := s.FindActiveTicket(ctx, conv.ID)
		must(t, err)
		if active.ID != tk.ID {
			t.Errorf("active = %s, want %s", active.ID, tk.ID)
		}
	})
	t.Run("CreateTicket/ErrDuplicate", func(t *testing.T) {
		t.Parallel()
		conv := setup(t, "+15550401")
		first := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}
		must(t, s.CreateTicket(ctx, first))
		wantCode(t, s.CreateTicket(ctx, &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}), tandem.EDUPLICATE)
		_, err := s.ClaimTicket(ctx, first.ID, "agent-1", when)
		must(t, err)
		wantCode(t, s.CreateTicket(ctx, &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}), tandem.EDUPLICATE)
		_, err = s.UpdateTicket(ctx, first.ID, storage.TicketUpdate{Status: ptr(tandem.TicketClosed), ClosedAt: ptr(when)})
		must(t, err)
		// Once closed, a new handoff may be opened.
		must(t, s.CreateTicket(ctx, &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}))
	})
	t.Run("FindTicketByID/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.FindTicketByID(ctx, "missing")
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("FindActiveTicket/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		conv := setup(t, "+15550402")
		tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}
		must(t, s.CreateTicket(ctx, tk))
		_, err := s.UpdateTicket(ctx, tk.ID, storage.TicketUpdate{Status: ptr(tandem.TicketReturned)})
		must(t, err)
		_, err = s.FindActiveTicket(ctx, conv.ID)
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("ClaimTicket/OK", func(t *testing.T) {
		t.Parallel()
		conv := setup(t, "+15550403")
		tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}
		must(t, s.CreateTicket(ctx, tk))
		got, err := s.ClaimTicket(ctx, tk.ID, "agent-1", when)
		must(t, err)
		if got.Status != tandem.TicketClaimed || got.AgentID != "agent-1" || got.ClaimedAt == nil {
			t.Fatalf("claimed = %+v", got)
		}
		wantTime(t, "ClaimedAt", *got.ClaimedAt, when)
		stored, err := s.FindTicketByID(ctx, tk.ID)
		must(t, err)
		if stored.AgentID != "agent-1" || stored.ClaimedAt == nil {
			t.Errorf("stored = %+v", stored)
		}
		wantTime(t, "stored ClaimedAt", *stored.ClaimedAt, when)
	})
	t.Run("ClaimTicket/ErrConflict", func(t *testing.T) {
		t.Parallel()
		conv := setup(t, "+15550404")
		tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}
		must(t, s.CreateTicket(ctx, tk))
		_, err := s.ClaimTicket(ctx, tk.ID, "agent-1", when)
		must(t, err)
		_, err = s.ClaimTicket(ctx, tk.ID, "agent-2", when)
		wantCode(t, err, tandem.ECONFLICT)
	})
	t.Run("ClaimTicket/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.ClaimTicket(ctx, "missing", "agent-1", when)
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("ClaimTicket/Race", func(t *testing.T) {
		t.Parallel()
		conv := setup(t, "+15550405")
		tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}
		must(t, s.CreateTicket(ctx, tk))
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = s.ClaimTicket(ctx, tk.ID, fmt.Sprintf("agent-%d", i), when)
			}()
		}
		close(start)
		wg.Wait()
		winners := 0
		winner := ""
		for i, err := range errs {
			switch tandem.ErrorCode(err) {
			case "":
				winners++
				winner = fmt.Sprintf("agent-%d", i)
			case tandem.ECONFLICT:
			default:
				t.Errorf("claim %d: %v", i, err)
			}
		}
		if winners != 1 {
			t.Fatalf("winners = %d, want exactly 1", winners)
		}
		got, err := s.FindTicketByID(ctx, tk.ID)
		must(t, err)
		if got.AgentID != winner {
			t.Errorf("agent = %s, want winner %s", got.AgentID, winner)
		}
	})
	t.Run("UpdateTicket/OK", func(t *testing.T) {
		t.Parallel()
		conv := setup(t, "+15550406")
		tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}
		must(t, s.CreateTicket(ctx, tk))
		got, err := s.UpdateTicket(ctx, tk.ID, storage.TicketUpdate{Queue: ptr("vip"), Priority: ptr(9), AgentID: ptr("agent-3"), Status: ptr(tandem.TicketClosed), ClosedAt: ptr(when)})
		must(t, err)
		if got.Queue != "vip" || got.Priority != 9 || got.AgentID != "agent-3" || got.Status != tandem.TicketClosed || got.ClosedAt == nil {
			t.Fatalf("got %+v", got)
		}
		wantTime(t, "ClosedAt", *got.ClosedAt, when)
	})
	t.Run("UpdateTicket/DeskRef", func(t *testing.T) {
		t.Parallel()
		conv := setup(t, "+15550409")
		tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "q"}
		must(t, s.CreateTicket(ctx, tk))
		if tk.DeskRef != "" {
			t.Fatalf("new ticket has desk ref %q", tk.DeskRef)
		}
		got, err := s.UpdateTicket(ctx, tk.ID, storage.TicketUpdate{DeskRef: ptr("slack:C1:1700000000.000100")})
		must(t, err)
		if got.DeskRef != "slack:C1:1700000000.000100" || got.Queue != "q" {
			t.Fatalf("got %+v", got)
		}
		found, err := s.ListTickets(ctx, storage.TicketFilter{DeskRef: "slack:C1:1700000000.000100"})
		must(t, err)
		if len(found) != 1 || found[0].ID != tk.ID || found[0].DeskRef != got.DeskRef {
			t.Errorf("by desk ref = %+v, want the ticket", found)
		}
		none, err := s.ListTickets(ctx, storage.TicketFilter{DeskRef: "slack:C1:other"})
		must(t, err)
		if len(none) != 0 {
			t.Errorf("an unknown desk ref found %d tickets", len(none))
		}
	})
	t.Run("UpdateTicket/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.UpdateTicket(ctx, "missing", storage.TicketUpdate{Queue: ptr("x")})
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("ListTickets/OK", func(t *testing.T) {
		t.Parallel()
		var ids []string
		for i := range 3 {
			conv := setup(t, fmt.Sprintf("+1555041%d", i))
			tk := &tandem.Ticket{ConversationID: conv.ID, BotID: "bot", Queue: "list-q", CreatedAt: when.Add(time.Duration(i) * time.Minute)}
			must(t, s.CreateTicket(ctx, tk))
			ids = append(ids, tk.ID)
		}
		_, err := s.ClaimTicket(ctx, ids[1], "list-agent", when)
		must(t, err)
		tests := []struct {
			name string
			f    storage.TicketFilter
			want []string
		}{
			{"Queue", storage.TicketFilter{Queue: "list-q"}, ids},
			{"Status", storage.TicketFilter{Queue: "list-q", Status: tandem.TicketQueued}, []string{ids[0], ids[2]}},
			{"Agent", storage.TicketFilter{AgentID: "list-agent"}, []string{ids[1]}},
			{"Limit", storage.TicketFilter{Queue: "list-q", Limit: 2}, ids[:2]},
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
}

func testAgents(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	t.Run("CreateAgent/OK", func(t *testing.T) {
		t.Parallel()
		a := &tandem.Agent{Name: "Ada", Email: "ada@example.com", Role: tandem.AgentRoleSupervisor, Skills: []string{"billing", "vip"}, Languages: []string{"en", "fr"}, Capacity: 3, CreatedAt: when}
		must(t, s.CreateAgent(ctx, a))
		if a.ID == "" {
			t.Fatal("no ID")
		}
		for _, find := range []func() (*tandem.Agent, error){
			func() (*tandem.Agent, error) { return s.FindAgentByID(ctx, a.ID) },
			func() (*tandem.Agent, error) { return s.FindAgentByEmail(ctx, "ADA@example.com") },
		} {
			got, err := find()
			must(t, err)
			if got.ID != a.ID || got.Name != "Ada" || got.Role != tandem.AgentRoleSupervisor || !slices.Equal(got.Skills, a.Skills) || !slices.Equal(got.Languages, a.Languages) || got.Capacity != 3 {
				t.Errorf("got %+v, want %+v", got, a)
			}
			wantTime(t, "CreatedAt", got.CreatedAt, when)
		}
	})
	t.Run("CreateAgent/ErrDuplicate", func(t *testing.T) {
		t.Parallel()
		must(t, s.CreateAgent(ctx, &tandem.Agent{Name: "Bob", Email: "bob@example.com", Role: tandem.AgentRoleAgent}))
		wantCode(t, s.CreateAgent(ctx, &tandem.Agent{Name: "Bob 2", Email: "Bob@Example.com", Role: tandem.AgentRoleAgent}), tandem.EDUPLICATE)
	})
	t.Run("FindAgent/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.FindAgentByID(ctx, "missing")
		wantCode(t, err, tandem.ENOTFOUND)
		_, err = s.FindAgentByEmail(ctx, "missing@example.com")
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("ListAgents/OK", func(t *testing.T) {
		t.Parallel()
		must(t, s.CreateAgent(ctx, &tandem.Agent{Name: "Zed", Email: "zed@example.com", Role: tandem.AgentRoleAdmin}))
		got, err := s.ListAgents(ctx)
		must(t, err)
		found := false
		for _, a := range got {
			if a.Email == "zed@example.com" {
				found = true
				if a.Skills == nil || a.Languages == nil {
					t.Errorf("nil lists for %+v", a)
				}
			}
		}
		if !found {
			t.Errorf("zed not listed in %+v", got)
		}
	})
	t.Run("UpdateAgent/OK", func(t *testing.T) {
		t.Parallel()
		a := &tandem.Agent{Name: "Uma", Email: "uma@example.com", Role: tandem.AgentRoleAgent, Skills: []string{"vip"}}
		must(t, s.CreateAgent(ctx, a))
		got, err := s.UpdateAgent(ctx, a.ID, storage.AgentUpdate{Role: ptr(tandem.AgentRoleSupervisor)})
		must(t, err)
		if got.Role != tandem.AgentRoleSupervisor || got.Email != a.Email || !slices.Equal(got.Skills, a.Skills) {
			t.Errorf("updated = %+v", got)
		}
		if got, err = s.UpdateAgent(ctx, a.ID, storage.AgentUpdate{}); err != nil || got.Role != tandem.AgentRoleSupervisor {
			t.Errorf("no-op update = %+v, %v", got, err)
		}
		found, err := s.FindAgentByID(ctx, a.ID)
		must(t, err)
		if found.Role != tandem.AgentRoleSupervisor {
			t.Errorf("stored role = %s", found.Role)
		}
	})
	t.Run("UpdateAgent/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.UpdateAgent(ctx, "missing", storage.AgentUpdate{Role: ptr(tandem.AgentRoleAdmin)})
		wantCode(t, err, tandem.ENOTFOUND)
	})
}
