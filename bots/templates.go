package bots

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/flows"
	"github.com/tandemhq/tandem/storage"
)

// ChannelConfig tunes one channel, in bot.yaml under channels.<channel>.
type ChannelConfig struct {
	// MaxSegments bounds an SMS reply (see connectors/twilio).
	MaxSegments int `yaml:"max_segments"`
	// Templates are the channel's pre-approved message templates by name (WhatsApp only):
	// what may be sent outside its 24-hour window, by the outbound API or as ReopenTemplate.
	Templates map[string]*TemplateConfig `yaml:"templates"`
	// ReopenTemplate names the template sent when a free-form reply is refused because the
	// window is closed: the reply is held and delivered once the customer answers it.
	// Empty: such replies fail.
	ReopenTemplate string `yaml:"reopen_template"`
}

// TemplateConfig is one pre-approved template (Twilio Content API).
type TemplateConfig struct {
	// ContentSID is the template's Content SID, "HX" and 32 hex digits.
	ContentSID string `yaml:"content_sid"`
	// Variables fill the template's placeholders {{1}}, {{2}}, ... in order; each is a Go
	// template over the customer ({{.Customer.Name}}, {{.Profile.x}}, {{.Slots.x}}), and
	// must not render empty (give a default: {{or .Customer.Name "there"}}).
	Variables []string `yaml:"variables"`
	// Text is what the template says, with the same placeholders as Variables' data, for
	// the transcript; default "(template <name>)".
	Text string `yaml:"text"`

	name string
	vars []*flows.Template
	text *flows.Template
}

var templateNameRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

// contentSIDRE is a Twilio Content API template's id.
var contentSIDRE = regexp.MustCompile(`^HX[0-9a-f]{32}$`)

// checkChannels reports bad channel settings and parses the templates.
func (l *loader) checkChannels(file string, line func(keys ...string) int, channels map[string]ChannelConfig) {
	for _, name := range sortedKeys(channels) {
		c := channels[name]
		field := "channels." + name
		if c.MaxSegments < 0 {
			l.errorf(file, line("channels", name, "max_segments"), field+".max_segments", "must not be negative")
		}
		if len(c.Templates) > 0 && name != string(tandem.ChannelWhatsApp) {
			l.errorf(file, line("channels", name, "templates"), field+".templates", "templates are sent on whatsapp only")
		}
		if c.ReopenTemplate != "" {
			if _, ok := c.Templates[c.ReopenTemplate]; !ok {
				l.errorf(file, line("channels", name, "reopen_template"), field+".reopen_template",
					"no template %q in channels.%s.templates (have %s)", c.ReopenTemplate, name, strings.Join(sortedKeys(c.Templates), ", "))
			}
		}
		for _, tn := range sortedKeys(c.Templates) {
			t := c.Templates[tn]
			tf := field + ".templates." + tn
			ln := line("channels", name, "templates", tn)
			if t == nil {
				l.errorf(file, ln, tf, "content_sid is required")
				continue
			}
			t.name = tn
			if !templateNameRE.MatchString(tn) {
				l.errorf(file, ln, tf, "name must match [a-z0-9_-]+")
			}
			if !contentSIDRE.MatchString(t.ContentSID) {
				l.errorf(file, line("channels", name, "templates", tn, "content_sid"), tf+".content_sid",
					"must be HX followed by 32 lower-case hex digits (the template's Content SID), got %q", t.ContentSID)
			}
			t.vars = make([]*flows.Template, len(t.Variables))
			for i, src := range t.Variables {
				v, err := flows.ParseTemplate(fmt.Sprintf("%s.variables[%d]", tn, i), src)
				if err != nil {
					l.errorf(file, line("channels", name, "templates", tn, "variables"), fmt.Sprintf("%s.variables[%d]", tf, i), "%v", err)
					continue
				}
				t.vars[i] = v
			}
			text := t.Text
			if strings.TrimSpace(text) == "" {
				text = "(template " + tn + ")"
			}
			var err error
			if t.text, err = flows.ParseTemplate(tn+".text", text); err != nil {
				l.errorf(file, line("channels", name, "templates", tn, "text"), tf+".text", "%v", err)
			}
		}
	}
}

// Template returns the bot's template name on channel ch.
func (d *Definition) Template(ch tandem.Channel, name string) (*TemplateConfig, bool) {
	t, ok := d.Channels[string(ch)].Templates[name]
	return t, ok && t != nil
}

// Reply renders the template for the customer data sees as a reply that carries it. A
// variable that renders empty is EINVALID: the provider refuses empty values.
func (t *TemplateConfig) Reply(data *flows.Data) (tandem.Reply, error) {
	vars := make(map[string]string, len(t.vars))
	for i, v := range t.vars {
		s, err := v.Render(data)
		if err != nil {
			return tandem.Reply{}, tandem.Errorf(tandem.EINVALID, "template %s: variable %d: %v", t.name, i+1, err)
		}
		if s = strings.TrimSpace(s); s == "" {
			return tandem.Reply{}, tandem.Errorf(tandem.EINVALID, "template %s: variable %d (%s) is empty for this customer", t.name, i+1, t.Variables[i])
		}
		vars[strconv.Itoa(i+1)] = s
	}
	text, err := t.text.Render(data)
	if err != nil {
		return tandem.Reply{}, tandem.Errorf(tandem.EINVALID, "template %s: text: %v", t.name, err)
	}
	return tandem.Reply{Text: strings.TrimSpace(text), Template: &tandem.Template{Name: t.name, ContentSID: t.ContentSID, Variables: vars}}, nil
}

// ReopenTemplate names the template the bot botID sends on channel ch when a reply is held
// for a closed window, "" when it has none (the reply then fails) or is unknown.
func (r *Registry) ReopenTemplate(botID string, ch tandem.Channel) string {
	b, ok := r.Get(botID)
	if !ok {
		return ""
	}
	return b.Def.Channels[string(ch)].ReopenTemplate
}

// DecisionReopen is the decision kind of a reopen template sent for held replies.
const DecisionReopen tandem.DecisionKind = "reopen"

// HoldOutsideWindow decides about a free-form delivery the channel refused because its
// window is closed (a jobs.DeliveryConfig.HoldFunc). When the bot has a reopen template on
// the channel, it holds the delivery (true) and sends the template: it is stored in the
// delivery's conversation and put in the outbox, unless a reply to the customer was held in
// the last window's length (ReplyWindow), so a customer gets at most one reopen template a
// day however many replies wait. The customer's next message releases the held
// deliveries, in order (see HandleMessage). It returns false (the delivery fails) for a
// template delivery, without a reopen template, or when the template cannot be rendered
// for the customer; an error when the store fails or the customer wrote within the window
// after all (a refusal that crossed their message), so the worker tries the reply again.
func (e *Engine) HoldOutsideWindow(ctx context.Context, dl tandem.Delivery) (bool, error) {
	if dl.Reply.Template != nil || dl.Channel.ReplyWindow() == 0 {
		return false, nil
	}
	bot, ok := e.bots.Get(dl.BotID)
	if !ok {
		return false, nil
	}
	tmpl, ok := bot.Def.Template(dl.Channel, bot.Def.Channels[string(dl.Channel)].ReopenTemplate)
	if !ok {
		return false, nil
	}
	ident, err := e.store.FindIdentity(ctx, dl.Channel, dl.To)
	if err != nil {
		return false, fmt.Errorf("hold delivery: %w", err)
	}
	cust, err := e.store.FindCustomerByID(ctx, ident.CustomerID)
	if err != nil {
		return false, fmt.Errorf("hold delivery: %w", err)
	}
	msgs, err := e.store.ListCustomerMessages(ctx, cust.ID, storage.MessageFilter{Limit: 100})
	if err != nil {
		return false, fmt.Errorf("hold delivery: %w", err)
	}
	now := e.now()
	if last, ok := LastInbound(msgs, dl.Channel); ok && now.Sub(last) < dl.Channel.ReplyWindow() {
		return false, fmt.Errorf("hold delivery: the customer wrote at %s, within the %s window", last.Format(time.RFC3339), dl.Channel)
	}
	// The template goes in the held reply's conversation, which may be closed by now.
	i := slices.IndexFunc(msgs, func(m tandem.Message) bool { return m.ID == dl.MessageID })
	if i < 0 {
		e.logger.Warn("reply outside the window not held: its message is not among the customer's recent ones", "message_id", dl.MessageID)
		return false, nil
	}
	held, err := e.store.ListDeliveries(ctx, storage.DeliveryFilter{Status: tandem.DeliveryHeld, BotID: dl.BotID,
		Channel: dl.Channel, To: dl.To})
	if err != nil {
		return false, fmt.Errorf("hold delivery: %w", err)
	}
	if slices.ContainsFunc(held, func(h tandem.Delivery) bool { return now.Sub(h.UpdatedAt) < dl.Channel.ReplyWindow() }) {
		return true, nil // the customer was sent the template; this reply waits with the others
	}
	data := flows.Data{Slots: map[string]string{}, Profile: cust.Profile,
		Customer: flows.Customer{ID: cust.ID, Name: cust.DisplayName}, Bot: flows.Bot{ID: bot.Def.ID, Name: bot.Def.Name}, BaseURL: e.baseURL}
	reply, err := tmpl.Reply(&data)
	if err != nil {
		e.logger.Error("reply outside the window not held: the reopen template cannot be rendered", "message_id", dl.MessageID, "error", err)
		return false, nil
	}
	m := &tandem.Message{ID: uuid.Must(uuid.NewV7()).String(), ConversationID: msgs[i].ConversationID, Role: tandem.RoleBot,
		Channel: dl.Channel, Text: reply.Text, CreatedAt: now,
		Decision: &tandem.Decision{Kind: DecisionReopen, Reason: fmt.Sprintf("the %s window is closed: sent template %s so that the customer's answer reopens it; replies are held until then", dl.Channel, tmpl.name)}}
	rec := storage.TurnRecord{ConversationID: m.ConversationID, Replies: []*tandem.Message{m},
		Deliveries: []*tandem.Delivery{{MessageID: m.ID, BotID: dl.BotID, Channel: dl.Channel, To: dl.To, Reply: reply}}}
	if err := e.store.RecordTurn(ctx, rec); err != nil {
		return false, fmt.Errorf("hold delivery: send the reopen template: %w", err)
	}
	if e.delivered != nil {
		e.delivered()
	}
	return true, nil
}

// LastInbound returns when the customer last wrote on ch among msgs (oldest first).
func LastInbound(msgs []tandem.Message, ch tandem.Channel) (time.Time, bool) {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == tandem.RoleCustomer && msgs[i].Channel == ch {
			return msgs[i].CreatedAt, true
		}
	}
	return time.Time{}, false
}

// releaseHeld makes the replies held for a closed window to the customer who just wrote on
// ch due again, before the turn's own replies, so they arrive first and in order, and
// returns how many it released. A failure is logged: they stay held until the next message.
func (e *Engine) releaseHeld(ctx context.Context, botID string, ch tandem.Channel, to string) int {
	if ch.ReplyWindow() == 0 {
		return 0
	}
	n, err := e.store.ReleaseHeldDeliveries(ctx, botID, ch, to, e.now())
	if err != nil {
		e.logger.Error("release held replies", "bot", botID, "channel", ch, "error", err)
		return 0
	}
	if n > 0 {
		e.logger.Info("released replies held for a closed window", "bot", botID, "channel", ch, "count", n)
		if e.delivered != nil {
			e.delivered()
		}
	}
	return n
}
