package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/events"
)

// Desk is the web inbox as the engine's agents' desk (bots.Desk): it announces each new
// ticket on events.TopicTickets and each customer message relayed to a human on its
// conversation's topic, so open inbox pages redraw at once. The engine calls it after the
// turn is stored. Only handed-off conversations publish, so ordinary bot turns cost the
// bus nothing.
type Desk struct {
	events Publisher
	now    func() time.Time
}

// NewDesk returns the desk publishing on p, stamping events with now (time.Now if nil).
func NewDesk(p Publisher, now func() time.Time) *Desk {
	if now == nil {
		now = time.Now
	}
	return &Desk{events: p, now: now}
}

// TicketOpened announces a new ticket to the queue pages.
func (d *Desk) TicketOpened(ctx context.Context, _ *tandem.Conversation, ticketID string) error {
	return d.events.Publish(ctx, events.Event{Topic: events.TopicTickets, Kind: events.KindStatus, TicketID: ticketID, At: d.now()})
}

// TicketChanged announces a ticket changed elsewhere (escalated by the worker or a turn,
// claimed or transferred in Slack) to the queue pages and to the ticket's own pages (see
// ticketWatch): it makes the Desk a TicketWatcher.
func (d *Desk) TicketChanged(ctx context.Context, ticketID string) error {
	return d.events.Publish(ctx, events.Event{Topic: events.TopicTickets, Kind: events.KindStatus, TicketID: ticketID, At: d.now()})
}

// Relay announces the customer's message to the pages showing their ticket.
func (d *Desk) Relay(ctx context.Context, conv *tandem.Conversation, msg *tandem.Message) error {
	return d.events.Publish(ctx, events.Event{Topic: conv.ID, Kind: events.KindMessage, MessageID: msg.ID, At: d.now()})
}

// Handler is the inbox's HTTP handler, to be mounted at "/inbox/".
type Handler struct {
	h    *handler
	next http.Handler
}

// ServeHTTP serves the inbox's pages, forms and event streams.
func (x *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { x.next.ServeHTTP(w, r) }

// Close ends every open event stream and refuses new ones: http.Server.Shutdown waits for
// handlers to return, and a stream only returns when its client goes. Browsers reconnect,
// to another replica or after the restart. It is idempotent.
func (x *Handler) Close() { x.h.stop() }

// sseRetry is how long a browser waits before reconnecting a stream that ended.
const sseRetry = 3 * time.Second

// sseWriteTimeout bounds one write to a stream, so a client that stopped reading does not
// hold its slot until TCP gives up.
const sseWriteTimeout = 10 * time.Second

// handleEvents streams server-sent events telling an agent's page to refetch what it shows:
// the queue page follows events.TopicTickets, a ticket page (?ticket=ID) its conversation
// and, through a ticketWatch, the changes of its ticket announced to the queue.
// Every event, KindMissed included, is sent as a "refetch" event whose data is the event's
// JSON, except KindTyping, sent as a "typing" event (nothing to refetch); a comment every Config.Heartbeat keeps proxies from closing an idle stream. A
// process serves at most Config.MaxStreams streams; beyond, and when the inbox has no
// events bus or is closed, the answer is 503, and the page falls back to reloading.
func (h *handler) handleEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	agent, err := h.agent(r)
	switch {
	case err != nil:
		h.cfg.Logger.ErrorContext(ctx, "inbox: events: find agent", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	case agent == nil:
		http.Error(w, "sign in to the inbox", http.StatusForbidden)
		return
	case h.events == nil || h.base.Err() != nil:
		http.Error(w, "live updates are off: reload the page", http.StatusServiceUnavailable)
		return
	}
	topic := events.TopicTickets
	var watch *ticketWatch
	if id := r.URL.Query().Get("ticket"); id != "" {
		t, ok := h.plainTicket(w, r, id, "events")
		if !ok {
			return
		}
		topic, watch = t.ConversationID, newTicketWatch(h, t)
	}
	select {
	case h.streams <- struct{}{}:
		defer func() { <-h.streams }()
	default:
		w.Header().Set("Retry-After", "30")
		http.Error(w, fmt.Sprintf("too many live pages open (%d): reload the page for news", h.cfg.MaxStreams), http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(h.base, cancel)() // Close ends the stream
	ch, err := h.events.Subscribe(ctx, topic)
	var queue <-chan events.Event // a ticket page's view of the queue's events; nil otherwise
	if err == nil && watch != nil {
		queue, err = h.events.Subscribe(ctx, events.TopicTickets)
	}
	if err != nil {
		// ECONFLICT: the bus is closed, the server is shutting down.
		http.Error(w, "live updates are unavailable: reload the page", http.StatusServiceUnavailable)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }() // the connection may serve other requests
	heartbeat := time.NewTicker(h.cfg.Heartbeat)
	defer heartbeat.Stop()
	// The page read the store before this subscription, so it refetches on open.
	chunk := fmt.Sprintf("retry: %d\n\n", sseRetry.Milliseconds())
	for {
		if chunk != "" {
			_ = rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout)) // unsupported by some writers; best effort
			if _, err := fmt.Fprint(w, chunk); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
		chunk = ""
		select {
		case <-ctx.Done():
			return
		case e, ok := <-ch:
			if !ok {
				return // the bus closed
			}
			if watch != nil && e.Kind == events.KindStatus {
				// The page refetches its header now: the same change announced to the
				// queue as well is not passed on twice.
				watch.seen(ctx)
			}
			data, _ := json.Marshal(e) // plain strings and a time: never fails
			name := "refetch"
			if e.Kind == events.KindTyping {
				name = "typing" // nothing stored changed
			}
			chunk = "event: " + name + "\ndata: " + string(data) + "\n\n"
		case e, ok := <-queue:
			if !ok {
				return // the bus closed
			}
			if watch.changed(ctx, e) {
				kind := events.KindStatus
				if e.Kind == events.KindMissed {
					kind = e.Kind
				}
				data, _ := json.Marshal(events.Event{Topic: topic, Kind: kind, At: e.At})
				chunk = "event: refetch\ndata: " + string(data) + "\n\n"
			}
		case <-heartbeat.C:
			chunk = ": heartbeat\n\n"
		}
	}
}

// handleTyping tells the customer's web chat that the agent is typing a reply; the ticket
// page posts it at most every few seconds while the agent types. Only the ticket's holder
// is announced (409 for others). It answers 204: there is nothing to show.
func (h *handler) handleTyping(w http.ResponseWriter, r *http.Request, agent *tandem.Agent) {
	ctx := r.Context()
	id := r.PathValue("id")
	t, ok := h.plainTicket(w, r, id, "typing")
	if !ok {
		return
	}
	if t.Status != tandem.TicketClaimed || t.AgentID != agent.ID {
		http.Error(w, "claim the ticket to reply", http.StatusConflict)
		return
	}
	h.publish(ctx, id, events.Event{Topic: t.ConversationID, Kind: events.KindTyping, Role: tandem.RoleAgent, At: h.cfg.Now()})
	w.WriteHeader(http.StatusNoContent)
}

// plainTicket finds ticket id for the inbox's plain-text endpoints (event streams, typing),
// answering 404 or 500 itself when it cannot; op names the endpoint in logs.
func (h *handler) plainTicket(w http.ResponseWriter, r *http.Request, id, op string) (*tandem.Ticket, bool) {
	if len(id) > maxIDBytes {
		http.Error(w, "no such ticket", http.StatusNotFound)
		return nil, false
	}
	t, err := h.store.FindTicketByID(r.Context(), id)
	switch {
	case tandem.ErrorCode(err) == tandem.ENOTFOUND:
		http.Error(w, "no such ticket", http.StatusNotFound)
		return nil, false
	case err != nil:
		h.cfg.Logger.ErrorContext(r.Context(), "inbox: "+op+": find ticket", "ticket_id", id, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return nil, false
	}
	return t, true
}
