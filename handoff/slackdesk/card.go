package slackdesk

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
)

// Action ids of the card's buttons; each button's value is the ticket id.
const (
	ActionClaim    = "tandem_claim"
	ActionGiveBack = "tandem_give_back"
	ActionClose    = "tandem_close"
	// ActionTransfer opens the transfer form (a modal; see Desk.Handler).
	ActionTransfer = "tandem_transfer"
	// ActionOpen is the link to the ticket in the web inbox (Slack reports its clicks too;
	// they are ignored).
	ActionOpen = "tandem_open"
)

// Limits of what a card quotes, within Slack's block limits (3000 characters of section
// text, 2000 per field).
const (
	maxTextBytes  = 2900
	maxQuoteBytes = 300
	maxFieldBytes = 1900
)

// card is a ticket's message in the agents' channel.
type card struct {
	fallback string // the notification text
	blocks   []slack.Block
}

// card draws the ticket as it stands: who the customer is, why they want a human, their
// last messages, who holds the ticket, and the buttons that apply.
// summaryMessages bounds the messages a card's summary reads.
const summaryMessages = 200

func (d *Desk) card(ctx context.Context, t *tandem.Ticket) (*card, error) {
	conv, err := d.store.FindConversationByID(ctx, t.ConversationID)
	if err != nil {
		return nil, err
	}
	cust, err := d.store.FindCustomerByID(ctx, conv.CustomerID)
	if err != nil {
		return nil, err
	}
	ids, err := d.store.ListIdentities(ctx, conv.CustomerID)
	if err != nil {
		return nil, err
	}
	// The summary reads the conversation; the card quotes its last messages.
	all, err := d.store.ListMessages(ctx, conv.ID, storage.MessageFilter{Limit: summaryMessages})
	if err != nil {
		return nil, err
	}
	msgs := all[max(0, len(all)-d.cfg.LastMessages):]
	var holder *tandem.Agent
	if t.AgentID != "" {
		if holder, err = d.store.FindAgentByID(ctx, t.AgentID); err != nil {
			return nil, err
		}
	}

	name := customerName(cust)
	reason := t.Reason
	if reason == "" {
		reason = "handed off"
	}
	var idLines []string
	for _, id := range ids {
		idLines = append(idLines, fmt.Sprintf("%s %s", id.Channel, id.ExternalID))
	}
	field := func(label, value string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, "*"+label+"*\n"+escape(truncate(value, maxFieldBytes)), false, false)
	}
	fields := []*slack.TextBlockObject{
		field("Bot", t.BotID),
		field("Reason", reason),
		field("Customer", name),
		field("Writes from", string(conv.Channel)),
		field("Identities", strings.Join(idLines, "\n")),
	}
	if t.Queue != "" {
		fields = append(fields, field("Queue", fmt.Sprintf("%s (priority %d)", t.Queue, t.Priority)))
	}
	if moved, err := d.lastTransfer(ctx, t); err != nil {
		return nil, err
	} else if moved != "" {
		fields = append(fields, field("Transferred", moved))
	}
	header := "Customer waiting: " + name
	if t.Escalated() {
		// Escalated tickets stand out in the channel: supervisors scan for them.
		header = "Escalated: " + name
		fields = append(fields, field("Escalated", t.Escalation))
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(header, 140), false, false)),
		slack.NewSectionBlock(nil, fields, nil),
	}
	if lines := handoff.Summarize(conv.ID, all).Lines(); len(lines) > 0 {
		var b strings.Builder
		b.WriteString("*Summary*")
		for _, l := range lines {
			b.WriteString("\n• " + escape(oneLine(l)))
		}
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, truncate(b.String(), maxTextBytes), false, false), nil, nil))
	}
	if len(msgs) > 0 {
		var b strings.Builder
		b.WriteString("*Last messages*")
		for _, m := range msgs {
			fmt.Fprintf(&b, "\n>*%s*: %s", escape(string(m.Role)), escape(oneLine(truncate(m.Text, maxQuoteBytes))))
		}
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, truncate(b.String(), maxTextBytes), false, false), nil, nil))
	}
	blocks = append(blocks, slack.NewContextBlock("status",
		slack.NewTextBlockObject(slack.MarkdownType, status(t, holder), false, false)))

	var buttons []slack.BlockElement
	button := func(id, label string) *slack.ButtonBlockElement {
		return slack.NewButtonBlockElement(id, t.ID, slack.NewTextBlockObject(slack.PlainTextType, label, false, false))
	}
	switch t.Status {
	case tandem.TicketQueued:
		buttons = append(buttons, button(ActionClaim, "Claim").WithStyle(slack.StylePrimary),
			button(ActionGiveBack, "Give back to bot"), button(ActionTransfer, "Transfer"),
			button(ActionClose, "Close").WithStyle(slack.StyleDanger))
	case tandem.TicketClaimed:
		buttons = append(buttons, button(ActionGiveBack, "Give back to bot"), button(ActionTransfer, "Transfer"),
			button(ActionClose, "Close").WithStyle(slack.StyleDanger))
	}
	if d.cfg.InboxURL != "" {
		buttons = append(buttons, button(ActionOpen, "Open in inbox").WithURL(d.cfg.InboxURL+"/tickets/"+url.PathEscape(t.ID)))
	}
	if len(buttons) > 0 {
		blocks = append(blocks, slack.NewActionBlock("ticket", buttons...))
	}
	return &card{
		fallback: fmt.Sprintf("Customer waiting (%s): %s", t.BotID, escape(truncate(reason, maxQuoteBytes))),
		blocks:   blocks,
	}, nil
}

// status says where the ticket stands.
func status(t *tandem.Ticket, holder *tandem.Agent) string {
	who := "an agent"
	if holder != nil {
		who = fmt.Sprintf("*%s* (%s)", escape(holder.Name), escape(holder.Email))
	}
	switch t.Status {
	case tandem.TicketQueued:
		return "Waiting for an agent. Claim it, then reply in the thread: the customer gets your replies."
	case tandem.TicketClaimed:
		return "Claimed by " + who + ". Replies in the thread go to the customer."
	case tandem.TicketClosed:
		return "Closed by " + who + "."
	case tandem.TicketReturned:
		return "Given back to the bot."
	}
	return escape(string(t.Status))
}

// customerName is how the card names the customer.
func customerName(c *tandem.Customer) string {
	for _, n := range []string{c.DisplayName, c.Profile["name"]} {
		if n = strings.TrimSpace(n); n != "" {
			return n
		}
	}
	return "a customer"
}

// escape makes text safe to show in Slack mrkdwn: it cannot mention, link or format
// beyond what Slack does with plain characters.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// oneLine keeps a quoted message on its quote line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
