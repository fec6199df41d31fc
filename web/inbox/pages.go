package inbox

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web"
	"github.com/tandemhq/tandem/web/htmlpage"
)

// maxIDBytes bounds a ticket id in a URL; longer ones cannot exist.
const maxIDBytes = 256

// queueRow is one active ticket in the queue.
type queueRow struct {
	Ticket     tandem.Ticket
	Link       string
	Customer   string
	Identities []string
	Channel    tandem.Channel
	Wait       string
	Agent      string // who holds it, "" when queued
	Mine       bool
	Negative   bool // a recent customer message was negative
	Match      bool // the ticket suits the signed-in agent's skills and languages
}

// handleQueue lists the active tickets: escalated first, then by priority, then oldest
// (handoff.ListActive).
func (h *handler) handleQueue(w http.ResponseWriter, r *http.Request, agent *tandem.Agent) {
	ctx := r.Context()
	tickets, err := handoff.ListActive(ctx, h.store, h.cfg.QueueLimit)
	if err != nil {
		h.fail(w, r, agent, err)
		return
	}
	names, err := h.agentNames(ctx)
	if err != nil {
		h.fail(w, r, agent, err)
		return
	}
	now := h.cfg.Now()
	rows := make([]queueRow, 0, len(tickets))
	for _, t := range tickets {
		row := queueRow{Ticket: t, Link: ticketPath(t.ID), Wait: waitText(now.Sub(t.CreatedAt)),
			Agent: names[t.AgentID], Mine: t.AgentID == agent.ID, Match: handoff.Matches(&t, agent)}
		conv, err := h.store.FindConversationByID(ctx, t.ConversationID)
		if err != nil {
			h.fail(w, r, agent, fmt.Errorf("queue: %w", err))
			return
		}
		row.Channel = conv.Channel
		cust, ids, err := h.customer(ctx, conv.CustomerID)
		if err != nil {
			h.fail(w, r, agent, fmt.Errorf("queue: %w", err))
			return
		}
		row.Customer = customerName(cust)
		for _, id := range ids {
			row.Identities = append(row.Identities, string(id.Channel)+": "+id.ExternalID)
		}
		recent, err := h.store.ListMessages(ctx, conv.ID, storage.MessageFilter{Limit: 20})
		if err != nil {
			h.fail(w, r, agent, fmt.Errorf("queue: %w", err))
			return
		}
		row.Negative = negative(recent)
		rows = append(rows, row)
	}
	h.render(w, r, http.StatusOK, "queue", page{Title: "Queue", Agent: agent, CSRF: h.csrfToken(agent.ID),
		Notice: notice(r), Data: rows})
}

// ticketData is the data of the ticket page.
type ticketData struct {
	Ticket     *tandem.Ticket
	Link       string
	Conv       *tandem.Conversation
	Customer   string
	Profile    []profileField
	Identities []tandem.Identity
	Messages   []messageView
	Articles   []article
	Wait       string
	Holder     string
	Mine       bool
	Queued     bool
	MaxReply   int
	Draft      string // the reply text to show again after a refused reply
	// MaxNote and NoteDraft are the internal note form's limit and the note to show
	// again after a refused one.
	MaxNote   int
	NoteDraft string
	// Saved are the bot's saved replies, offered to the ticket's holder.
	Saved []savedReplyView
	// Summary is the conversation's case summary (handoff.Summarize), a line each.
	Summary []string
	// Suggestions are replies the bot proposes to the customer's last message.
	Suggestions []bots.Suggestion
	// Transfer is the transfer form, nil when the agent may not transfer the ticket.
	Transfer *transferForm
	// History is what happened to the ticket (claims, transfers with their notes,
	// escalations, closes), oldest first.
	History []historyEntry
	// Window is the channel's window for free-form replies; nil on channels without one.
	Window *replyWindow
}

type profileField struct{ Key, Value string }

// messageView is one message of the customer's timeline.
type messageView struct {
	tandem.Message
	Who   string
	Other bool // from another conversation of the customer
	// Delivery is how a reply on a pushed channel (SMS, Slack, ...) is getting to the
	// customer; nil for messages nobody delivers (the customer's, web chat replies).
	Delivery *tandem.Delivery
	// Note marks an agent's internal note (tandem.Note), not a message: Who wrote it.
	Note bool
}

// article is a suggested knowledge article.
type article struct {
	Title, Heading, Link, Snippet string
}

// handleTicket shows one ticket with its customer, timeline and suggestions.
func (h *handler) handleTicket(w http.ResponseWriter, r *http.Request, agent *tandem.Agent) {
	h.renderTicket(w, r, agent, http.StatusOK, notice(r), "", drafts{})
}

// drafts are the texts a refused form had, shown again in their boxes.
type drafts struct{ Reply, Note string }

// renderTicket renders the ticket page of r's {id} with status, a notice or an error
// message, and the drafts to show again.
func (h *handler) renderTicket(w http.ResponseWriter, r *http.Request, agent *tandem.Agent, status int, note, errMsg string, draft drafts) {
	ctx := r.Context()
	d, err := h.ticket(ctx, r.PathValue("id"), agent)
	if err != nil {
		h.fail(w, r, agent, err)
		return
	}
	d.Draft, d.NoteDraft = draft.Reply, draft.Note
	// ?use=N puts suggestion N in the reply box, to send or edit (no script needed), and
	// ?saved=ID the bot's saved reply ID, filled in; one that cannot be is said, not sent.
	if n, err := strconv.Atoi(r.URL.Query().Get("use")); err == nil && d.Draft == "" && d.Mine && n >= 0 && n < len(d.Suggestions) {
		d.Draft = d.Suggestions[n].Text
	}
	if id := r.URL.Query().Get("saved"); id != "" && d.Draft == "" && d.Mine {
		text, err := h.fillSavedReply(ctx, d, id, agent)
		switch code := tandem.ErrorCode(err); code {
		case "":
			d.Draft = text
		case tandem.ENOTFOUND, tandem.EINVALID, tandem.ETOOLARGE:
			errMsg = tandem.ErrorMessage(err)
		default:
			h.fail(w, r, agent, err)
			return
		}
	}
	h.render(w, r, status, "ticket", page{Title: d.Customer, Agent: agent, CSRF: h.csrfToken(agent.ID),
		Notice: note, Error: errMsg, Data: d})
}

func (h *handler) ticket(ctx context.Context, id string, agent *tandem.Agent) (*ticketData, error) {
	if len(id) > maxIDBytes {
		return nil, tandem.Errorf(tandem.ENOTFOUND, "no ticket %q", id)
	}
	t, err := h.store.FindTicketByID(ctx, id)
	if tandem.ErrorCode(err) == tandem.ENOTFOUND {
		return nil, tandem.Errorf(tandem.ENOTFOUND, "no ticket %q", id)
	}
	if err != nil {
		return nil, fmt.Errorf("ticket: %w", err)
	}
	conv, err := h.store.FindConversationByID(ctx, t.ConversationID)
	if err != nil {
		return nil, fmt.Errorf("ticket: %w", err)
	}
	cust, ids, err := h.customer(ctx, conv.CustomerID)
	if err != nil {
		return nil, fmt.Errorf("ticket: %w", err)
	}
	names, err := h.agentNames(ctx)
	if err != nil {
		return nil, err
	}
	msgs, err := h.store.ListCustomerMessages(ctx, cust.ID, storage.MessageFilter{Limit: h.cfg.TranscriptLimit})
	if err != nil {
		return nil, fmt.Errorf("ticket: %w", err)
	}
	d := &ticketData{Ticket: t, Link: ticketPath(t.ID), Conv: conv, Customer: customerName(cust), Identities: ids,
		Holder: names[t.AgentID], Mine: t.Status == tandem.TicketClaimed && t.AgentID == agent.ID,
		Queued: t.Status == tandem.TicketQueued, MaxReply: handoff.MaxReplyBytes, MaxNote: handoff.MaxInternalNoteBytes}
	if t.Status == tandem.TicketQueued || t.Status == tandem.TicketClaimed {
		d.Wait = waitText(h.cfg.Now().Sub(t.CreatedAt))
	}
	for _, k := range slices.Sorted(maps.Keys(cust.Profile)) {
		d.Profile = append(d.Profile, profileField{k, cust.Profile[k]})
	}
	deliveries, err := h.deliveries(ctx, msgs)
	if err != nil {
		return nil, fmt.Errorf("ticket: %w", err)
	}
	var last *tandem.Message
	for i, m := range msgs {
		v := messageView{Message: m, Other: m.ConversationID != conv.ID}
		switch m.Role {
		case tandem.RoleCustomer:
			v.Who = d.Customer
			if !v.Other {
				last = &msgs[i]
			}
		case tandem.RoleAgent:
			v.Who = orDefault(names[m.AuthorID], "Agent")
		case tandem.RoleBot:
			v.Who = "Bot"
		default:
			v.Who = "System"
		}
		v.Delivery = deliveries[m.ID]
		d.Messages = append(d.Messages, v)
	}
	d.Window = h.replyWindow(conv, msgs)
	// Notes join the timeline only: what follows reads the customer's messages alone.
	if d.Messages, err = h.withNotes(ctx, d.Messages, cust.ID, conv.ID, names); err != nil {
		return nil, fmt.Errorf("ticket: %w", err)
	}
	if d.Mine {
		d.Saved = h.savedReplies(conv.BotID)
	}
	d.Summary = handoff.Summarize(conv.ID, msgs).Lines()
	if last != nil {
		d.Articles = h.suggest(ctx, conv.BotID, last.Text)
		d.Suggestions = h.suggestReplies(ctx, conv.BotID, cust, last)
	}
	if d.Transfer, err = h.transferForm(ctx, t, agent, names); err != nil {
		return nil, fmt.Errorf("ticket: %w", err)
	}
	if d.History, err = h.history(ctx, t.ID, names); err != nil {
		return nil, fmt.Errorf("ticket: %w", err)
	}
	return d, nil
}

// suggestReplies asks the assistant for replies to the customer's last message. A failure
// is logged and suggests nothing: the agent can work without it.
func (h *handler) suggestReplies(ctx context.Context, botID string, cust *tandem.Customer, last *tandem.Message) []bots.Suggestion {
	if h.assistant == nil {
		return nil
	}
	out, err := h.assistant.SuggestReplies(ctx, botID, cust, last)
	if err != nil {
		h.cfg.Logger.WarnContext(ctx, "inbox: suggest replies", "bot", botID, "error", err)
		return nil
	}
	return out
}

// deliveries finds how the replies among msgs are getting to the customer, so an agent sees
// a reply that never arrived (and why) next to it.
func (h *handler) deliveries(ctx context.Context, msgs []tandem.Message) (map[string]*tandem.Delivery, error) {
	var ids []string
	for _, m := range msgs {
		if m.Role != tandem.RoleCustomer && m.Channel.Pushed() {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	ds, err := h.store.ListDeliveries(ctx, storage.DeliveryFilter{MessageIDs: ids, Limit: len(ids)})
	if err != nil {
		return nil, err
	}
	out := make(map[string]*tandem.Delivery, len(ds))
	for i := range ds {
		out[ds[i].MessageID] = &ds[i]
	}
	return out, nil
}

// suggest searches the knowledge base with the customer's last message. A failed search
// is logged and suggests nothing: the agent can work without it.
func (h *handler) suggest(ctx context.Context, botID, text string) []article {
	if h.kb == nil || strings.TrimSpace(text) == "" {
		return nil
	}
	f := storage.SearchFilter{Status: tandem.DocumentPublished, Limit: 4 * h.cfg.Suggestions}
	if h.colls != nil {
		f.Collections = h.colls(botID)
	}
	ps, err := h.kb.Search(ctx, text, f)
	if err != nil {
		h.cfg.Logger.WarnContext(ctx, "inbox: suggest articles", "bot", botID, "error", err)
		return nil
	}
	var out []article
	seen := map[string]bool{}
	for _, p := range ps {
		if seen[p.DocumentID] {
			continue
		}
		seen[p.DocumentID] = true
		out = append(out, article{Title: orDefault(p.Title, p.DocumentID), Heading: p.Heading, Link: articleLink(p.URL, p.DocumentID),
			Snippet: snippet(p.Text, 160)})
		if len(out) == h.cfg.Suggestions {
			break
		}
	}
	return out
}

// handleAction runs claim, reply, close, return, transfer or note on the ticket. A refusal
// (another agent was first, the conversation is not with a human, bad input) shows the
// ticket again with the reason and the status of its code, and the refused text in its box.
func (h *handler) handleAction(w http.ResponseWriter, r *http.Request, agent *tandem.Agent) {
	ctx := r.Context()
	id := r.PathValue("id")
	if len(id) > maxIDBytes {
		h.fail(w, r, agent, tandem.Errorf(tandem.ENOTFOUND, "no ticket %q", id))
		return
	}
	now := h.cfg.Now()
	var (
		err  error
		done string
	)
	var event events.Event // what live views of the conversation are told
	switch r.PathValue("action") {
	case "claim":
		var t *tandem.Ticket
		if t, err = handoff.Claim(ctx, h.store, id, agent.ID, now); err == nil {
			event = events.Event{Topic: t.ConversationID, Kind: events.KindStatus}
		}
		done = "claimed"
	case "reply":
		var m *tandem.Message
		if m, err = handoff.Reply(ctx, h.store, handoff.AgentReply{TicketID: id, AgentID: agent.ID, Text: r.PostFormValue("text"), At: now}); err == nil {
			event = events.Event{Topic: m.ConversationID, Kind: events.KindMessage, MessageID: m.ID}
		}
		done = "replied"
	case "close":
		err, done = handoff.Close(ctx, h.store, id, agent.ID, now, h.surveys), "closed"
		event.Kind = events.KindStatus
	case "return":
		err, done = handoff.GiveBack(ctx, h.store, id, agent.ID, now), "returned"
		event.Kind = events.KindStatus
	case "transfer":
		_, err = handoff.Transfer(ctx, h.store, handoff.TransferRequest{TicketID: id, By: agent, ToQueue: r.PostFormValue("queue"),
			ToAgent: r.PostFormValue("agent"), Note: r.PostFormValue("note"), At: now})
		done, event.Kind = "transferred", events.KindStatus
	case "note":
		var n *tandem.Note
		if n, err = handoff.AddNote(ctx, h.store, handoff.NoteRequest{TicketID: id, By: agent, Text: r.PostFormValue("text"), At: now}); err == nil {
			event = events.Event{Topic: n.ConversationID, Kind: events.KindNote} // agents' pages only
		}
		done = "noted"
	default:
		h.fail(w, r, agent, tandem.Errorf(tandem.ENOTFOUND, "no such action"))
		return
	}
	switch code := tandem.ErrorCode(err); code {
	case "":
		event.At = now
		h.publish(ctx, id, event)
		if event.Kind == events.KindStatus {
			// The queue pages show who holds which ticket.
			h.publish(ctx, id, events.Event{Topic: events.TopicTickets, Kind: events.KindStatus, TicketID: id, At: now})
			for _, d := range h.desks {
				if err := d.TicketChanged(ctx, id); err != nil {
					h.cfg.Logger.WarnContext(ctx, "inbox: tell another desk", "ticket_id", id, "error", err)
				}
			}
		}
		htmlpage.Redirect(w, r, ticketPath(id), done)
	case tandem.ECONFLICT, tandem.EINVALID, tandem.ETOOLARGE:
		var draft drafts
		if code != tandem.ETOOLARGE {
			if r.PathValue("action") == "note" {
				draft.Note = r.PostFormValue("text")
			} else {
				draft.Reply = r.PostFormValue("text")
			}
		}
		h.renderTicket(w, r, agent, web.ErrorStatus(code), "", tandem.ErrorMessage(err), draft)
	default:
		h.fail(w, r, agent, err)
	}
}

// publish tells live views (the customer's web chat, agents' inbox pages) that the ticket's
// conversation (or, with Topic set, e.Topic) changed. The change is stored already, so a
// failure is logged, not shown to the agent: the pages catch up when they next read it.
func (h *handler) publish(ctx context.Context, ticketID string, e events.Event) {
	if h.events == nil {
		return
	}
	if e.Topic == "" {
		t, err := h.store.FindTicketByID(ctx, ticketID)
		if err != nil {
			h.cfg.Logger.WarnContext(ctx, "inbox: publish event: find ticket", "ticket_id", ticketID, "error", err)
			return
		}
		e.Topic = t.ConversationID
	}
	if err := h.events.Publish(ctx, e); err != nil {
		h.cfg.Logger.WarnContext(ctx, "inbox: publish event", "conversation_id", e.Topic, "kind", string(e.Kind), "error", err)
	}
}

// customer returns a customer and their identities.
func (h *handler) customer(ctx context.Context, id string) (*tandem.Customer, []tandem.Identity, error) {
	c, err := h.store.FindCustomerByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	ids, err := h.store.ListIdentities(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return c, ids, nil
}

// agentNames maps agent ids to display names.
func (h *handler) agentNames(ctx context.Context) (map[string]string, error) {
	as, err := h.store.ListAgents(ctx)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	m := make(map[string]string, len(as))
	for _, a := range as {
		m[a.ID] = orDefault(a.Name, a.Email)
	}
	return m, nil
}

func customerName(c *tandem.Customer) string {
	if c.DisplayName != "" {
		return c.DisplayName
	}
	if n := c.Profile["name"]; n != "" {
		return n
	}
	id := c.ID
	if len(id) > 8 {
		id = id[len(id)-8:] // ids are time-ordered: their end tells customers apart
	}
	return "Visitor " + id
}

// negative reports whether any customer message among msgs felt negative.
func negative(msgs []tandem.Message) bool {
	for _, m := range msgs {
		if m.Role == tandem.RoleCustomer && m.Annotations != nil && m.Annotations.Sentiment.Label == tandem.SentimentNegative {
			return true
		}
	}
	return false
}

// waitText is a short human duration: "<1m", "12m", "3h 05m", "2d 4h".
func waitText(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "<1m"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		return fmt.Sprintf("%dd %dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	}
}

// articleLink is a document's own http(s) URL, or its page in the knowledge editor.
func articleLink(raw, docID string) string {
	if u, err := url.Parse(raw); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return u.String()
	}
	segs := strings.Split(docID, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/kb/docs/" + strings.Join(segs, "/")
}

func snippet(text string, n int) string {
	r := []rune(strings.Join(strings.Fields(text), " "))
	if len(r) <= n {
		return string(r)
	}
	return strings.TrimSpace(string(r[:n])) + "…"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func formatPct(f float64) string { return strconv.Itoa(int(f*100+0.5)) + "%" }

func formatSigned(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// historyEntry is one line of a ticket's history.
type historyEntry struct {
	At   time.Time
	Text string
	Note string // a transfer's note for the next agent
}

// historyLimit bounds the history a ticket page shows.
const historyLimit = 50

// history reads the ticket's audit entries as sentences; names maps agent ids to names.
func (h *handler) history(ctx context.Context, ticketID string, names map[string]string) ([]historyEntry, error) {
	es, err := h.store.ListAudit(ctx, storage.AuditFilter{Subject: ticketID, Limit: historyLimit})
	if err != nil {
		return nil, err
	}
	who := func(actor string) string {
		if id, ok := strings.CutPrefix(actor, "agent:"); ok {
			return orDefault(names[id], "an agent")
		}
		return orDefault(actor, "someone")
	}
	var out []historyEntry
	for _, e := range es {
		var text string
		switch e.Action {
		case handoff.ActionClaim:
			text = who(e.Actor) + " claimed it"
		case handoff.ActionTransfer:
			if to := e.Detail["to_agent"]; to != "" {
				text = who(e.Actor) + " gave it to " + orDefault(names[to], "another agent")
			} else {
				text = who(e.Actor) + " moved it to queue " + e.Detail["to_queue"]
			}
		case handoff.ActionEscalate:
			text = "Escalated: " + e.Detail["reason"]
		case handoff.ActionClose:
			text = who(e.Actor) + " closed it"
		default:
			continue
		}
		out = append(out, historyEntry{At: e.At, Text: text, Note: e.Detail["note"]})
	}
	slices.SortStableFunc(out, func(a, b historyEntry) int { return a.At.Compare(b.At) })
	return out, nil
}
