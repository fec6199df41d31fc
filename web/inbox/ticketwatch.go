package inbox

import (
	"context"
	"fmt"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/events"
)

// ticketWatch keeps a ticket page's stream told of changes to its ticket made outside the
// conversation's topic: an escalation by the worker or by a turn (after its message event),
// a claim or transfer from another desk (Slack). Those are announced on
// events.TopicTickets only, for the whole queue, so the stream also follows that topic
// and passes on an event only when the ticket's header changed (status, holder, queue,
// priority, escalation): news naming another ticket is dropped at once, news naming none
// costs one lookup here, never a page refetch.
type ticketWatch struct {
	h   *handler
	id  string
	key string // headKey of the ticket as last seen
}

func newTicketWatch(h *handler, t *tandem.Ticket) *ticketWatch {
	return &ticketWatch{h: h, id: t.ID, key: headKey(t)}
}

// headKey is what the ticket page's header shows of t.
func headKey(t *tandem.Ticket) string {
	esc := ""
	if t.EscalatedAt != nil {
		esc = t.EscalatedAt.UTC().String() + " " + t.Escalation
	}
	return fmt.Sprintf("%s|%s|%s|%d|%s", t.Status, t.AgentID, t.Queue, t.Priority, esc)
}

// changed reports whether the page should refetch after event e of TopicTickets: the
// ticket's header changed since last seen, the bus missed events, or the ticket cannot be
// read (the refetch shows why).
func (w *ticketWatch) changed(ctx context.Context, e events.Event) bool {
	if e.TicketID != "" && e.TicketID != w.id {
		return false
	}
	t, err := w.h.store.FindTicketByID(ctx, w.id)
	if err != nil {
		if tandem.ErrorCode(err) != tandem.ENOTFOUND {
			w.h.cfg.Logger.WarnContext(ctx, "inbox: events: find ticket", "ticket_id", w.id, "error", err)
		}
		return true
	}
	key := headKey(t)
	if key == w.key && e.Kind != events.KindMissed {
		return false
	}
	w.key = key
	return true
}

// seen records the ticket's header as the page is about to show it (after an event of the
// conversation's own topic), so the queue's announcement of the same change is dropped.
func (w *ticketWatch) seen(ctx context.Context) {
	if t, err := w.h.store.FindTicketByID(ctx, w.id); err == nil {
		w.key = headKey(t)
	}
}
