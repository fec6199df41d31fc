package inbox

import (
	"context"
	"fmt"
	"slices"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
)

// transferForm is what the ticket page offers to move a ticket to: the known queues and
// the other agents with their load.
type transferForm struct {
	Queues []string
	Agents []agentChoice
	Max    int // note bytes
}

// agentChoice is an agent a ticket can be given to.
type agentChoice struct {
	ID, Label string
	Full      bool // at capacity: Transfer would refuse
}

// transferForm returns the transfer form of t for agent, nil when agent may not transfer
// it (only its holder, or a supervisor or admin, may).
func (h *handler) transferForm(ctx context.Context, t *tandem.Ticket, agent *tandem.Agent, names map[string]string) (*transferForm, error) {
	active := t.Status == tandem.TicketQueued || t.Status == tandem.TicketClaimed
	holds := t.Status == tandem.TicketClaimed && t.AgentID == agent.ID
	if !active || (!holds && !handoff.Supervises(agent)) {
		return nil, nil
	}
	agents, err := h.store.ListAgents(ctx)
	if err != nil {
		return nil, err
	}
	claimed, err := h.store.ListTickets(ctx, storage.TicketFilter{Status: tandem.TicketClaimed})
	if err != nil {
		return nil, err
	}
	load := map[string]int{}
	for _, c := range claimed {
		load[c.AgentID]++
	}
	f := &transferForm{Max: handoff.MaxNoteBytes}
	if h.queues != nil {
		f.Queues = append(f.Queues, h.queues()...)
	}
	f.Queues = append(f.Queues, t.Queue)
	for _, a := range agents {
		f.Queues = append(f.Queues, a.Skills...)
		if a.ID == t.AgentID || !slices.Contains(handoff.InboxRoles, a.Role) {
			continue // the holder, or an editor (editors do not work tickets)
		}
		c := agentChoice{ID: a.ID, Label: fmt.Sprintf("%s (holds %d)", names[a.ID], load[a.ID])}
		if a.Capacity > 0 {
			c.Label = fmt.Sprintf("%s (holds %d of %d)", names[a.ID], load[a.ID], a.Capacity)
			c.Full = load[a.ID] >= a.Capacity
		}
		f.Agents = append(f.Agents, c)
	}
	slices.Sort(f.Queues)
	f.Queues = slices.Compact(f.Queues)
	return f, nil
}
