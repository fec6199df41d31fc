package slackdesk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
)

// The transfer form: a modal opened by the card's Transfer button, submitted to the same
// webhook (view_submission). Its input blocks and their elements share ids, so a refusal
// can be shown on the block it is about.
const (
	transferCallback = "tandem_transfer"
	blockQueue       = "queue"
	blockAgent       = "agent"
	blockNote        = "note"
)

// Slack's limits on a static select: options, and characters of an option's text.
const (
	maxOptions     = 100
	maxOptionChars = 75
)

// transferMeta is the form's private metadata: the ticket, the card clicked (to redraw
// it) and the form's first choice block (where refusals that concern no block go).
type transferMeta struct {
	Ticket  string `json:"ticket"`
	Channel string `json:"channel"`
	TS      string `json:"ts"`
	First   string `json:"first"`
}

// openTransfer answers a click on Transfer: it opens the transfer form for the clicking
// agent when they may transfer the ticket (they hold it, or supervise), else tells them
// why not. views.open is called at once: the click's trigger expires in 3 s.
func (d *Desk) openTransfer(ctx context.Context, ticketID, user, triggerID, channel, cardTS string) int {
	agent, err := d.agent(ctx, user)
	if refused(err) {
		d.tell(user, "", tandem.ErrorMessage(err))
		return http.StatusOK
	}
	if err != nil {
		d.logger.ErrorContext(ctx, "slackdesk: find the agent of a transfer", "error", err)
		return http.StatusServiceUnavailable
	}
	t, err := d.store.FindTicketByID(ctx, ticketID)
	switch {
	case tandem.ErrorCode(err) == tandem.ENOTFOUND:
		d.tell(user, "", "This ticket no longer exists.")
		return http.StatusOK
	case err != nil:
		d.logger.ErrorContext(ctx, "slackdesk: find the ticket to transfer", "ticket_id", ticketID, "error", err)
		return http.StatusServiceUnavailable
	case t.Status != tandem.TicketQueued && t.Status != tandem.TicketClaimed:
		err = tandem.Errorf(tandem.ECONFLICT, "the ticket is %s: it cannot be transferred", t.Status)
	default:
		err = handoff.MayTransfer(t, agent)
	}
	if err != nil {
		d.tell(user, "", tandem.ErrorMessage(err))
		d.redraw(ctx, ticketID, channel, cardTS)
		return http.StatusOK
	}
	view, err := d.transferView(ctx, t, channel, cardTS)
	if err != nil {
		d.logger.ErrorContext(ctx, "slackdesk: draw the transfer form", "ticket_id", ticketID, "error", err)
		return http.StatusServiceUnavailable
	}
	if view == nil {
		d.tell(user, "", "There is no other queue or agent to transfer this ticket to.")
		return http.StatusOK
	}
	if _, err := d.api.OpenViewContext(ctx, triggerID, *view); err != nil {
		d.logger.ErrorContext(ctx, "slackdesk: views.open", "ticket_id", ticketID, "error", err)
		d.tell(user, "", "Tandem could not open the transfer form; click Transfer again.")
	}
	return http.StatusOK
}

// transferView is the transfer form of t, offering the known queues (the bots', the
// ticket's, the agents' skills) and the agents who work tickets with their load, as the
// web inbox does; nil when there is nothing to offer.
func (d *Desk) transferView(ctx context.Context, t *tandem.Ticket, channel, cardTS string) (*slack.ModalViewRequest, error) {
	agents, err := d.store.ListAgents(ctx)
	if err != nil {
		return nil, err
	}
	claimed, err := d.store.ListTickets(ctx, storage.TicketFilter{Status: tandem.TicketClaimed})
	if err != nil {
		return nil, err
	}
	load := map[string]int{}
	for _, c := range claimed {
		load[c.AgentID]++
	}
	var queues []string
	if d.queues != nil {
		queues = append(queues, d.queues()...)
	}
	queues = append(queues, t.Queue)
	var agentOpts []*slack.OptionBlockObject
	for _, a := range agents {
		queues = append(queues, a.Skills...)
		if a.ID == t.AgentID || !slices.Contains(handoff.InboxRoles, a.Role) {
			continue
		}
		label := fmt.Sprintf("%s (holds %d)", agentLabel(&a), load[a.ID])
		if a.Capacity > 0 {
			label = fmt.Sprintf("%s (holds %d of %d)", agentLabel(&a), load[a.ID], a.Capacity)
			if load[a.ID] >= a.Capacity {
				label += ", full"
			}
		}
		agentOpts = append(agentOpts, option(a.ID, label))
	}
	slices.Sort(queues)
	var queueOpts []*slack.OptionBlockObject
	for _, q := range slices.Compact(queues) {
		if q != "" {
			queueOpts = append(queueOpts, option(q, q))
		}
	}
	if len(queueOpts) == 0 && len(agentOpts) == 0 {
		return nil, nil
	}
	plain := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	where := "waiting"
	if t.Status == tandem.TicketClaimed {
		where = "claimed"
	}
	if t.Queue != "" {
		where += " in queue " + t.Queue
	}
	blocks := []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType,
		escape(truncate("The ticket is "+where+". Choose a queue (it waits there, unclaimed) or an agent (they hold it at once), not both.", maxTextBytes)),
		false, false), nil, nil)}
	meta := transferMeta{Ticket: t.ID, Channel: channel, TS: cardTS}
	for _, c := range []struct {
		id, label string
		opts      []*slack.OptionBlockObject
	}{{blockQueue, "Queue", queueOpts}, {blockAgent, "Agent", agentOpts}} {
		if len(c.opts) == 0 {
			continue
		}
		if meta.First == "" {
			meta.First = c.id
		}
		sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose"), c.id, c.opts[:min(len(c.opts), maxOptions)]...)
		blocks = append(blocks, slack.NewInputBlock(c.id, plain(c.label), nil, sel).WithOptional(true))
	}
	note := slack.NewPlainTextInputBlockElement(plain("For whoever takes it next"), blockNote).
		WithMultiline(true).WithMaxLength(handoff.MaxNoteBytes)
	blocks = append(blocks, slack.NewInputBlock(blockNote, plain("Note"), nil, note).WithOptional(true))
	md, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	return &slack.ModalViewRequest{Type: slack.VTModal, CallbackID: transferCallback, PrivateMetadata: string(md),
		Title: plain("Transfer ticket"), Submit: plain("Transfer"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: blocks}}, nil
}

// submitTransfer handles the transfer form's submission: handoff.Transfer as the
// submitting user's agent. Done, the form closes, the card is redrawn and the change
// announced; refused, the form stays open with the reason on the block it concerns.
func (d *Desk) submitTransfer(ctx context.Context, w http.ResponseWriter, ic *slack.InteractionCallback) int {
	var meta transferMeta
	if err := json.Unmarshal([]byte(ic.View.PrivateMetadata), &meta); err != nil || meta.Ticket == "" {
		return http.StatusBadRequest
	}
	if meta.First == "" {
		meta.First = blockQueue
	}
	var values map[string]map[string]slack.BlockAction
	if ic.View.State != nil {
		values = ic.View.State.Values
	}
	toQueue := values[blockQueue][blockQueue].SelectedOption.Value
	toAgent := values[blockAgent][blockAgent].SelectedOption.Value
	note := values[blockNote][blockNote].Value
	agent, err := d.agent(ctx, ic.User.ID)
	if refused(err) {
		return viewErrors(w, meta.First, tandem.ErrorMessage(err))
	}
	if err != nil {
		d.logger.ErrorContext(ctx, "slackdesk: find the agent of a transfer", "error", err)
		return http.StatusServiceUnavailable
	}
	moved, err := handoff.Transfer(ctx, d.store, handoff.TransferRequest{TicketID: meta.Ticket, By: agent,
		ToQueue: toQueue, ToAgent: toAgent, Note: note, At: d.now()})
	switch tandem.ErrorCode(err) {
	case "":
		d.publish(ctx, events.Event{Topic: moved.ConversationID, Kind: events.KindStatus})
		d.publish(ctx, events.Event{Topic: events.TopicTickets, Kind: events.KindStatus})
		d.redraw(ctx, meta.Ticket, meta.Channel, meta.TS)
		return http.StatusOK // an empty answer closes the form
	case tandem.ECONFLICT, tandem.EINVALID, tandem.ETOOLARGE, tandem.ENOTFOUND:
		block := meta.First
		switch {
		case tandem.ErrorCode(err) == tandem.ETOOLARGE:
			block = blockNote
		case toAgent != "" && toQueue == "":
			block = blockAgent
		}
		// The card may be out of date (the ticket moved meanwhile).
		d.redraw(ctx, meta.Ticket, meta.Channel, meta.TS)
		return viewErrors(w, block, tandem.ErrorMessage(err))
	}
	d.logger.ErrorContext(ctx, "slackdesk: transfer", "ticket_id", meta.Ticket, "error", err)
	return http.StatusServiceUnavailable
}

// viewErrors answers a view submission with msg on the form's block, keeping it open.
func viewErrors(w http.ResponseWriter, block, msg string) int {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(slack.NewErrorsViewSubmissionResponse(map[string]string{block: msg}))
	return 0
}

// redraw queues redrawing the ticket's card: the message ts in channel, or (when unset)
// the ticket's DeskRef.
func (d *Desk) redraw(ctx context.Context, ticketID, channel, ts string) {
	if err := d.enqueue(job{kind: jobRefresh, ticketID: ticketID, channel: channel, ts: ts}); err != nil {
		d.logger.WarnContext(ctx, "slackdesk: card not redrawn", "ticket_id", ticketID, "error", err)
	}
}

// lastTransfer says who last transferred t, where, and their note; "" when nobody has.
func (d *Desk) lastTransfer(ctx context.Context, t *tandem.Ticket) (string, error) {
	es, err := d.store.ListAudit(ctx, storage.AuditFilter{Subject: t.ID, Action: handoff.ActionTransfer, Limit: 1})
	if err != nil || len(es) == 0 {
		return "", err
	}
	e := es[0]
	name := func(id string) (string, error) {
		a, err := d.store.FindAgentByID(ctx, id)
		switch {
		case tandem.ErrorCode(err) == tandem.ENOTFOUND:
			return "an agent", nil
		case err != nil:
			return "", err
		}
		return agentLabel(a), nil
	}
	by, err := name(strings.TrimPrefix(e.Actor, handoff.Actor("")))
	if err != nil {
		return "", err
	}
	to := "queue " + e.Detail["to_queue"]
	if e.Detail["to_agent"] != "" {
		if to, err = name(e.Detail["to_agent"]); err != nil {
			return "", err
		}
	}
	out := fmt.Sprintf("by %s to %s", by, to)
	if n := e.Detail["note"]; n != "" {
		out += ": " + oneLine(truncate(n, maxQuoteBytes))
	}
	return out, nil
}

// option is a static select's option.
func option(value, label string) *slack.OptionBlockObject {
	if r := []rune(label); len(r) > maxOptionChars {
		label = string(r[:maxOptionChars-1]) + "…"
	}
	return slack.NewOptionBlockObject(value, slack.NewTextBlockObject(slack.PlainTextType, label, false, false), nil)
}

// agentLabel names an agent for other agents.
func agentLabel(a *tandem.Agent) string {
	if a.Name != "" && a.Name != a.Email {
		return a.Name + " (" + a.Email + ")"
	}
	return a.Email
}
