package bots

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/flows"
)

// DecisionOutbound is the decision kind of proactive messages.
const DecisionOutbound tandem.DecisionKind = "outbound"

// OutboundRequest asks the bot to write first: a text, a named response, a flow, or a
// template of the channel (the only kind WhatsApp accepts outside its 24-hour window).
type OutboundRequest struct {
	BotID      string
	Channel    tandem.Channel
	ExternalID string // the customer's id on Channel (phone number, ...)
	// Exactly one of Text, Response, Flow, Template.
	Text     string
	Response string
	Flow     string
	// Template names one of the bot's templates on Channel (channels.<ch>.templates),
	// its variables rendered for the customer and Slots.
	Template string
	// Slots pre-fill the conversation's slots (e.g. an order number the reminder is about).
	Slots map[string]string
	// Reason is recorded in the decision ("shipping delay notice").
	Reason string
}

// SendOutbound starts (or continues) the customer's conversation with the bot on the chosen
// channel and returns the replies to deliver there; the customer's answer continues that
// conversation. It refuses, without storing anything, when the customer opted out
// (EFORBIDDEN), during the bot's quiet hours or over its daily limit (ECONFLICT), while a
// human has the conversation (ECONFLICT), or when a template's variable renders empty for
// the customer (EINVALID).
func (e *Engine) SendOutbound(ctx context.Context, req OutboundRequest) (*tandem.Turn, error) {
	bot, ok := e.bots.Get(req.BotID)
	if !ok {
		return nil, tandem.Errorf(tandem.ENOTFOUND, "no bot %q", req.BotID)
	}
	set := 0
	for _, s := range []string{req.Text, req.Response, req.Flow, req.Template} {
		if strings.TrimSpace(s) != "" {
			set++
		}
	}
	if set != 1 || req.Channel == "" || req.ExternalID == "" {
		return nil, tandem.Errorf(tandem.EINVALID, "outbound needs a channel, an external id and exactly one of text, response, flow, template")
	}
	def := bot.Def
	if req.Response != "" {
		if _, ok := def.Responses[req.Response]; !ok {
			return nil, tandem.Errorf(tandem.EINVALID, "bot %s has no response %q", def.ID, req.Response)
		}
	}
	if req.Flow != "" {
		if _, ok := def.Flows[req.Flow]; !ok {
			return nil, tandem.Errorf(tandem.EINVALID, "bot %s has no flow %q", def.ID, req.Flow)
		}
	}
	var tmpl *TemplateConfig
	if req.Template != "" {
		if tmpl, ok = def.Template(req.Channel, req.Template); !ok {
			return nil, tandem.Errorf(tandem.EINVALID, "bot %s has no template %q on %s", def.ID, req.Template, req.Channel)
		}
	}
	cust, _, err := e.store.ResolveIdentity(ctx, req.Channel, req.ExternalID)
	if err != nil {
		return nil, fmt.Errorf("outbound: %w", err)
	}
	if truthy(cust.Profile[def.Outbound.OptOutField]) {
		return nil, tandem.Errorf(tandem.EFORBIDDEN, "the customer opted out of proactive messages")
	}
	now := e.now()
	if def.Outbound.quiet(now) {
		return nil, tandem.Errorf(tandem.ECONFLICT, "quiet hours (%s); try later", def.Outbound.QuietHours)
	}
	mu := e.customerLock(cust.ID)
	mu.Lock()
	defer mu.Unlock()
	open, err := e.findOpenConversation(ctx, def.ID, cust.ID)
	if err != nil {
		return nil, err
	}
	conv, err := e.conversation(ctx, bot, cust, tandem.Inbound{Channel: req.Channel}, open)
	if err != nil {
		return nil, err
	}
	if conv.Status == tandem.StatusHandoff {
		return nil, tandem.Errorf(tandem.ECONFLICT, "a human agent has the conversation")
	}
	t := e.newTurn(bot, conv, cust, req.Channel, req.ExternalID)
	day := now.In(def.Outbound.locOrUTC()).Format("2006-01-02")
	if t.st.OutDay != day {
		t.st.OutDay, t.st.OutCount = day, 0
	}
	if m := def.Outbound.MaxPerDay; m >= 0 && t.st.OutCount >= m {
		return nil, tandem.Errorf(tandem.ECONFLICT, "daily limit of %d proactive messages reached", m)
	}
	t.st.OutCount++
	t.st.Turns++
	reason := "proactive message"
	if req.Reason != "" {
		reason += ": " + req.Reason
	}
	switch {
	case req.Flow != "":
		f := def.Flows[req.Flow]
		st, out := t.runner.Start(ctx, f, &t.data, flows.Trigger{Slots: req.Slots})
		if err := e.applyFlow(ctx, t, f, st, out, DecisionOutbound, reason+"; "); err != nil {
			return nil, err
		}
	case tmpl != nil:
		for k, v := range req.Slots {
			t.st.Slots[k] = v
		}
		reply, err := tmpl.Reply(&t.data)
		if err != nil {
			return nil, err
		}
		t.replies = append(t.replies, reply)
		t.decide(DecisionOutbound, reason+"; template "+req.Template)
	case req.Response != "":
		for k, v := range req.Slots {
			t.st.Slots[k] = v
		}
		t.say(req.Response, "")
		t.decide(DecisionOutbound, reason+"; response "+req.Response)
	default:
		t.replies = append(t.replies, tandem.Reply{Text: req.Text})
		t.decide(DecisionOutbound, reason)
	}
	if err := e.persist(ctx, t); err != nil {
		return nil, err
	}
	return &tandem.Turn{ConversationID: conv.ID, CustomerID: cust.ID, Replies: t.replies,
		Decision: t.decision, Handoff: t.handoff, ActiveFlow: t.st.Flow.Flow, ActiveStep: t.st.Flow.Step}, nil
}

func (o *OutboundConfig) locOrUTC() *time.Location {
	if o.loc == nil {
		return time.UTC
	}
	return o.loc
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "y", "on":
		return true
	}
	return false
}
