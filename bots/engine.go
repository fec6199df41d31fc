package bots

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/tmc/langchaingo/llms"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/flows"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
)

// Store is what the engine persists through: customers and identities, conversations and
// messages, tickets, the audit log and the outbox (replies held for a closed channel
// window). storage.Store satisfies it.
type Store interface {
	storage.CustomerStore
	storage.ConversationStore
	storage.TicketStore
	storage.AuditStore
	storage.OutboxStore
}

// Answerer answers a question from the knowledge base. Implementations are safe for
// concurrent use; "nothing relevant" is an Answer with Found false, not an error.
type Answerer interface {
	Answer(ctx context.Context, q Question) (*KnowledgeAnswer, error)
}

// Question is what the engine asks the knowledge base.
type Question struct {
	Text        string
	Collections []string
	Language    string
	// LLM is the bot's language model (nil: answer extractively, or with the knowledge
	// base's own model if it has one).
	LLM llms.Model
	// Persona is the bot's voice for generated answers; it never loosens their grounding.
	Persona string
}

// KnowledgeAnswer is the knowledge base's reply.
type KnowledgeAnswer struct {
	Text       string
	Citations  []tandem.Citation
	Confidence float64
	Found      bool
	Reason     string
}

// Desk is where human agents work handed-off conversations (a Slack channel, ...). The
// engine tells it, after the turn is stored, that the turn opened a ticket, and hands it
// each customer message while a human has the conversation. Both are called in the turn's
// request, so an implementation does its network calls in the background. Errors are
// logged and never fail the turn: tickets and messages are in the store for every desk.
type Desk interface {
	TicketOpened(ctx context.Context, conv *tandem.Conversation, ticketID string) error
	Relay(ctx context.Context, conv *tandem.Conversation, msg *tandem.Message) error
}

// Engine answers customer messages for the bots of a Registry. It keeps no per-conversation
// memory: every turn reads and writes the store, so any number of engines (replicas) can
// share one store and bots can be reloaded at any time. Safe for concurrent use.
type Engine struct {
	store    Store
	bots     *Registry
	kb       Answerer
	desk     Desk
	escalate Escalator
	notifier Notifier
	secret   []byte
	now      func() time.Time
	logger   *slog.Logger
	baseURL  string
	client   *http.Client
	// delivered wakes the delivery worker after a turn put replies in the outbox.
	delivered func()
	// locks serialise turns of the same customer within this process, so two messages
	// sent at once do not both start a conversation or overwrite each other's state.
	// Customers share a lock when their ids hash alike, and then wait for each other's
	// whole turn: with 64 locks, most of 64 concurrent customers shared one.
	locks [4096]sync.Mutex
	// customerOf remembers identities' customers so a turn can take the customer's lock
	// before its one read (see resolveTurn); direct-mapped, so memory stays fixed.
	customerOf [4096]atomic.Pointer[identityCustomer]
}

// Option configures an Engine.
type Option func(*Engine)

// WithKnowledge answers questions from a knowledge base (without it the engine only uses
// intents, flows and fallbacks).
func WithKnowledge(a Answerer) Option { return func(e *Engine) { e.kb = a } }

// WithDesk tells an agents' desk about new tickets and relays customer messages to it.
func WithDesk(d Desk) Option { return func(e *Engine) { e.desk = d } }

// WithNotifier sends one-time identity codes (required for link_identity steps).
func WithNotifier(n Notifier) Option { return func(e *Engine) { e.notifier = n } }

// WithLinkSecret keys one-time codes and signed identity links (default: random per
// process, so codes do not survive restarts or cross replicas).
func WithLinkSecret(secret []byte) Option { return func(e *Engine) { e.secret = secret } }

// WithNow sets the clock.
func WithNow(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.logger = l } }

// WithBaseURL sets the server's own base URL, {{.BaseURL}} in flow actions.
func WithBaseURL(u string) Option { return func(e *Engine) { e.baseURL = strings.TrimRight(u, "/") } }

// WithHTTPClient sets the client flow actions use.
func WithHTTPClient(c *http.Client) Option { return func(e *Engine) { e.client = c } }

// WithDeliveryNotify calls wake after every turn that put replies in the store's outbox
// (replies on channels whose messages are pushed, see tandem.Channel.Pushed), so the
// delivery worker sends them at once instead of at its next poll. wake must not block.
func WithDeliveryNotify(wake func()) Option { return func(e *Engine) { e.delivered = wake } }

// New returns an engine over store answering for the bots in reg.
func New(store Store, reg *Registry, opts ...Option) *Engine {
	e := &Engine{store: store, bots: reg, now: time.Now, logger: slog.Default(), client: &http.Client{}}
	for _, o := range opts {
		o(e)
	}
	if len(e.secret) == 0 {
		e.secret = randomSecret()
	}
	if e.escalate == nil {
		e.escalate = &handoff.Escalator{Store: store, Logger: e.logger}
	}
	return e
}

// Bots returns the engine's registry.
func (e *Engine) Bots() *Registry { return e.bots }

// convState is the engine's per-conversation state, serialised in Conversation.State.
type convState struct {
	Flow       flows.State       `json:"flow,omitzero"`
	Slots      map[string]string `json:"slots,omitempty"`
	Failed     int               `json:"failed,omitempty"` // consecutive fallbacks
	Sentiment  []float64         `json:"sentiment,omitempty"`
	Turns      int               `json:"turns,omitempty"`
	VIPHandled bool              `json:"vip_handled,omitempty"`
	// OfferedHuman is set when the last bot message offered a human; a yes hands off.
	OfferedHuman bool   `json:"offered_human,omitempty"`
	OutDay       string `json:"out_day,omitempty"`
	OutCount     int    `json:"out_count,omitempty"`
	// CSAT is the satisfaction survey awaiting the customer's answer, set by handoff.Close
	// (which writes this state with only this field) and cleared by the next message.
	CSAT *handoff.PendingSurvey `json:"csat,omitempty"`
}

const sentimentWindow = 6

// turn is one message being answered.
type turn struct {
	bot      *Bot
	def      *Definition
	conv     *tandem.Conversation
	cust     *tandem.Customer
	channel  tandem.Channel
	to       string // the customer's id on channel, where pushed replies go
	text     string
	inbound  *tandem.Message // stored with the turn's replies (see HandleMessage)
	ann      tandem.Annotations
	st       convState
	data     flows.Data
	runner   flows.Runner
	seed     uint32
	replies  []tandem.Reply
	decision tandem.Decision
	notes    []string
	handoff  *tandem.HandoffInfo
	escalate string // why the customer's ticket must be escalated after the turn, if it must
	status   *tandem.ConversationStatus
	profile  map[string]string
	audit    []*tandem.AuditEntry // stored with the turn
	csat     *tandem.CSATResponse // the customer's rating, stored with the turn
	released int                  // replies held for a closed channel window that this message released
}

// HandleMessage answers one inbound customer message: it resolves the customer from the
// channel identity, continues their open conversation with the bot on any channel (or the
// one named by in.ConversationID), runs NLU and the policy, and stores the message with its
// annotations, the replies, their deliveries and the conversation's new state in one
// transaction, before the turn is acknowledged. A message is never stored without its
// turn, so a process killed mid-turn leaves nothing and the provider's retry is answered.
// A retry of a message whose turn was stored (same channel and provider id) returns a Turn
// with Duplicate set and no replies, before the bot acts again. When the turn itself
// fails, the message is stored alone, so it is not lost.
//
// Errors: ENOTFOUND for an unknown bot or conversation, EINVALID for an empty message or a
// missing channel identity; store errors are returned wrapped.
func (e *Engine) HandleMessage(ctx context.Context, in tandem.Inbound) (*tandem.Turn, error) {
	bot, ok := e.bots.Get(in.BotID)
	if !ok {
		return nil, tandem.Errorf(tandem.ENOTFOUND, "no bot %q", in.BotID)
	}
	text := strings.TrimSpace(in.Text)
	if text == "" {
		return nil, tandem.Errorf(tandem.EINVALID, "empty message")
	}
	if in.Channel == "" || in.ExternalID == "" {
		return nil, tandem.Errorf(tandem.EINVALID, "channel and external id are required")
	}
	// NLU needs nothing from the store, so it runs first, outside the customer's lock, and
	// its annotations are stored with the message in the same insert.
	ann := bot.NLU.Analyze(ctx, text)
	// A turn records its conversation's new state only if no other turn replaced the state
	// it started from (storage.TurnRecord.CheckState). The customer's lock makes that
	// certain within this process; another replica answering the same customer at the same
	// moment makes the later turn start again from what the earlier one stored.
	// The message's id is chosen once, so every attempt stores it under the same id and
	// sends the same idempotency keys with its flow's HTTP actions.
	msgID := uuid.Must(uuid.NewV7()).String()
	for attempt := 1; ; attempt++ {
		turn, err := e.answer(ctx, bot, in, text, ann, msgID, attempt == maxTurnAttempts)
		if tandem.ErrorCode(err) != tandem.ECONFLICT || attempt == maxTurnAttempts {
			return turn, err
		}
		e.logger.Info("turn raced another for the same conversation; starting again", "bot", in.BotID, "attempt", attempt, "error", err)
	}
}

// maxTurnAttempts bounds how often a turn starts again after losing a race (see
// HandleMessage). A flow's HTTP action runs again when its turn does, with the same
// idempotency key (flows.IdempotencyKeyHeader), so the action server can drop the repeat.
const maxTurnAttempts = 3

// answer is one attempt at a turn; msgID is the inbound message's id, the same in every
// attempt. last says no attempt follows, so the message is stored alone when the turn
// cannot be.
func (e *Engine) answer(ctx context.Context, bot *Bot, in tandem.Inbound, text string, ann tandem.Annotations,
	msgID string, last bool) (*tandem.Turn, error) {
	start, mu, err := e.resolveTurn(ctx, bot.Def.ID, in)
	if err != nil {
		return nil, err
	}
	defer mu.Unlock()
	cust := start.Customer
	if in.ProviderID != "" {
		// Under the customer's lock, so a retry that arrives while the first delivery is
		// answered waits for it here and then finds it.
		m, err := e.store.FindMessageByProviderID(ctx, in.Channel, in.ProviderID)
		switch {
		case err == nil:
			return duplicateTurn(m.ConversationID, cust.ID, in), nil
		case tandem.ErrorCode(err) != tandem.ENOTFOUND:
			return nil, fmt.Errorf("handle message: %w", err)
		}
	}
	conv, err := e.conversation(ctx, bot, cust, in, start.Conversation)
	if err != nil {
		return nil, err
	}
	// The customer wrote, so a channel window that was closed is open again.
	released := e.releaseHeld(ctx, bot.Def.ID, in.Channel, in.ExternalID)
	msg := &tandem.Message{ID: msgID, ConversationID: conv.ID, Role: tandem.RoleCustomer, Channel: in.Channel,
		Text: text, ProviderID: in.ProviderID, CreatedAt: in.ReceivedAt}
	t := e.newTurn(bot, conv, cust, in.Channel, in.ExternalID)
	t.released = released
	t.runner.IdempotencyKey = msg.ID
	t.text = text
	// A rating answering a pending CSAT survey is stored without annotations: it is not a
	// question for the bot.
	if !e.survey(t, text) {
		t.ann = ann
		msg.Annotations = &t.ann
		if err := e.policy(ctx, t); err != nil {
			e.keepMessage(ctx, msg)
			return nil, fmt.Errorf("handle message: %w", err)
		}
	}
	t.inbound = msg
	if err := e.persist(ctx, t); err != nil {
		if in.ProviderID != "" && tandem.ErrorCode(err) == tandem.EDUPLICATE {
			// Another replica stored the same provider message first.
			return duplicateTurn(conv.ID, cust.ID, in), nil
		}
		if last || tandem.ErrorCode(err) != tandem.ECONFLICT {
			e.keepMessage(ctx, msg) // no attempt follows
		}
		return nil, err
	}
	if e.desk != nil {
		e.tellDesk(ctx, t, msg)
	}
	if t.escalate != "" {
		e.escalateTicket(ctx, t.conv.ID, t.escalate)
	}
	return &tandem.Turn{ConversationID: conv.ID, CustomerID: cust.ID, MessageID: msg.ID, Replies: t.replies,
		Annotations: t.ann, Decision: t.decision, Handoff: t.handoff, ActiveFlow: t.st.Flow.Flow, ActiveStep: t.st.Flow.Step,
		CSATScore: t.csatScore()}, nil
}

// tellDesk passes the stored turn's news to the agents' desk.
func (e *Engine) tellDesk(ctx context.Context, t *turn, msg *tandem.Message) {
	if t.decision.Kind == tandem.DecisionRelay {
		if err := e.desk.Relay(ctx, t.conv, msg); err != nil {
			e.logger.Warn("relay to agent", "conversation_id", t.conv.ID, "error", err)
		}
	}
	if t.handoff != nil {
		if err := e.desk.TicketOpened(ctx, t.conv, t.handoff.TicketID); err != nil {
			e.logger.Warn("tell the desk about a new ticket", "conversation_id", t.conv.ID, "ticket_id", t.handoff.TicketID, "error", err)
		}
	}
}

func duplicateTurn(convID, custID string, in tandem.Inbound) *tandem.Turn {
	return &tandem.Turn{ConversationID: convID, CustomerID: custID, Duplicate: true,
		Decision: tandem.Decision{Kind: tandem.DecisionDuplicate, Reason: "provider retry of message " + in.ProviderID}}
}

// keepMessage stores the customer's message of a turn that failed, which was to be stored
// with the turn's replies: it must not be lost with the turn.
func (e *Engine) keepMessage(ctx context.Context, msg *tandem.Message) {
	// EDUPLICATE: another replica stored the same provider message.
	if err := e.store.CreateMessage(context.WithoutCancel(ctx), msg); err != nil && tandem.ErrorCode(err) != tandem.EDUPLICATE {
		e.logger.Error("store message of a failed turn", "conversation_id", msg.ConversationID, "error", err)
	}
}

// conversation finds the conversation a message continues, or starts one. open is the
// customer's open conversation with the bot, nil when they have none.
func (e *Engine) conversation(ctx context.Context, bot *Bot, cust *tandem.Customer, in tandem.Inbound, open *tandem.Conversation) (*tandem.Conversation, error) {
	if in.ConversationID != "" && (open == nil || open.ID != in.ConversationID) {
		c, err := e.store.FindConversationByID(ctx, in.ConversationID)
		switch {
		case err != nil && tandem.ErrorCode(err) != tandem.ENOTFOUND:
			return nil, fmt.Errorf("find conversation: %w", err)
		case err == nil && (c.BotID != bot.Def.ID || c.CustomerID != cust.ID):
			return nil, tandem.Errorf(tandem.ENOTFOUND, "no conversation %q for this customer", in.ConversationID)
		case err == nil && c.Status != tandem.StatusClosed:
			return c, nil
		}
		// A closed or forgotten session falls back to the customer's open conversation.
	}
	if open != nil {
		return open, nil
	}
	c := &tandem.Conversation{BotID: bot.Def.ID, CustomerID: cust.ID, Channel: in.Channel, Status: tandem.StatusOpen}
	err := e.store.CreateConversation(ctx, c)
	if tandem.ErrorCode(err) != tandem.EDUPLICATE {
		if err != nil {
			return nil, fmt.Errorf("create conversation: %w", err)
		}
		return c, nil
	}
	// Another replica started the customer's conversation since the turn read there was
	// none (a customer has one open conversation per bot): the turn continues in it.
	open, err = e.store.FindOpenConversation(ctx, bot.Def.ID, cust.ID)
	switch {
	case tandem.ErrorCode(err) == tandem.ENOTFOUND:
		// ... and it was closed meanwhile: the turn starts again (see HandleMessage).
		return nil, tandem.Errorf(tandem.ECONFLICT, "the customer's conversation was opened and closed since the turn began")
	case err != nil:
		return nil, fmt.Errorf("find the conversation another turn opened: %w", err)
	}
	return open, nil
}

func (e *Engine) newTurn(bot *Bot, conv *tandem.Conversation, cust *tandem.Customer, ch tandem.Channel, to string) *turn {
	t := &turn{bot: bot, def: bot.Def, conv: conv, cust: cust, channel: ch, to: to}
	if len(conv.State) > 0 {
		if err := json.Unmarshal(conv.State, &t.st); err != nil {
			e.logger.Warn("bad conversation state; starting afresh", "conversation_id", conv.ID, "error", err)
			t.st = convState{}
		}
	}
	if t.st.Slots == nil {
		t.st.Slots = map[string]string{}
	}
	if cust.Profile == nil {
		cust.Profile = map[string]string{}
	}
	t.data = flows.Data{Slots: t.st.Slots, Profile: cust.Profile,
		Customer: flows.Customer{ID: cust.ID, Name: cust.DisplayName},
		Bot:      flows.Bot{ID: bot.Def.ID, Name: bot.Def.Name}, BaseURL: e.baseURL}
	t.runner = flows.Runner{Client: e.client, Secret: bot.secret, Vocab: bot.Def.Vocab, Now: e.now,
		Linker: identityLinker{e, bot.Def.ID}}
	t.seed = fnv32(conv.ID)
	return t
}

// persist records the turn's replies and new conversation state at once.
func (e *Engine) persist(ctx context.Context, t *turn) error {
	if len(t.profile) > 0 {
		if _, err := e.store.UpdateCustomer(ctx, t.cust.ID, storage.CustomerUpdate{Profile: t.profile}); err != nil {
			return fmt.Errorf("update profile: %w", err)
		}
	}
	state, err := json.Marshal(&t.st)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	rec := storage.TurnRecord{ConversationID: t.conv.ID, Inbound: t.inbound,
		Update:     storage.ConversationUpdate{State: state, Status: t.status},
		CheckState: true, PrevState: t.conv.State, Audit: t.audit, CSAT: t.csat}
	if t.conv.Channel != t.channel {
		ch := t.channel
		rec.Update.Channel = &ch
	}
	if len(t.replies) > 0 {
		d := t.decision
		msgs := make([]tandem.Message, len(t.replies))
		rec.Replies = make([]*tandem.Message, len(t.replies))
		for i, r := range t.replies {
			msgs[i] = tandem.Message{ConversationID: t.conv.ID, Role: tandem.RoleBot, Channel: t.channel,
				Text: r.Text, Decision: &d, Citations: r.Citations}
			rec.Replies[i] = &msgs[i]
		}
		if t.channel.Pushed() {
			rec.Deliveries = make([]*tandem.Delivery, len(t.replies))
			for i, r := range t.replies {
				msgs[i].ID = uuid.Must(uuid.NewV7()).String()
				rec.Deliveries[i] = &tandem.Delivery{MessageID: msgs[i].ID, BotID: t.def.ID, Channel: t.channel, To: t.to, Reply: r}
			}
		}
	}
	if err := e.store.RecordTurn(ctx, rec); err != nil {
		return fmt.Errorf("record turn: %w", err)
	}
	for i, m := range rec.Replies {
		t.replies[i].MessageID = m.ID
	}
	if len(rec.Deliveries) > 0 && e.delivered != nil {
		e.delivered()
	}
	t.conv.State = state
	t.conv.Channel = t.channel
	if t.status != nil {
		t.conv.Status = *t.status
	}
	return nil
}

// decide records why the turn did what it did.
func (t *turn) decide(kind tandem.DecisionKind, reason string) {
	t.decision.Kind = kind
	t.decision.Reason = reason
	if len(t.notes) > 0 {
		t.decision.Reason = strings.Join(t.notes, "; ") + "; " + reason
	}
	if kind != tandem.DecisionFallback {
		t.st.Failed = 0
	}
}

// say renders the named response (a variation picked per conversation and turn), or def
// when the bot does not define it.
func (t *turn) say(name, def string) {
	if r, ok := t.def.Responses[name]; ok && len(r.Variations) > 0 {
		v := r.Variations[int((t.seed+uint32(t.st.Turns))%uint32(len(r.Variations)))]
		text, err := v.Text.Render(&t.data)
		if err != nil {
			text = def
		}
		if text != "" {
			t.replies = append(t.replies, tandem.Reply{Text: text, QuickReplies: quickReplies(v.QuickReplies)})
		}
		return
	}
	if def != "" {
		t.replies = append(t.replies, tandem.Reply{Text: def})
	}
}

func quickReplies(titles []string) []tandem.QuickReply {
	if len(titles) == 0 {
		return nil
	}
	q := make([]tandem.QuickReply, len(titles))
	for i, s := range titles {
		q[i] = tandem.QuickReply{Title: s, Payload: s}
	}
	return q
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// trend is the recent-weighted mean of sentiment scores (each message weighs 1.5 times the
// one before), the same summary as nlu/sentiment.Trend.
func trend(scores []float64) float64 {
	var sum, wsum float64
	w := 1.0
	for _, s := range scores {
		sum += w * s
		wsum += w
		w *= 1.5
	}
	if wsum == 0 {
		return 0
	}
	return max(-1, min(1, sum/wsum))
}

// Reload re-reads every bot from where it was loaded (see Registry.Reload). Conversations
// continue: their state lives in the store.
func (e *Engine) Reload(ctx context.Context) error { return e.bots.Reload(ctx) }

// ReturnToBot gives a handed-off conversation back to the bot: the active ticket becomes
// returned, the conversation open, and the bot answers the customer's next message. actor
// is audited ("agent:<id>").
func (e *Engine) ReturnToBot(ctx context.Context, conversationID, actor string) error {
	return handoff.Return(ctx, e.store, conversationID, actor, e.now())
}
