// Package slackdesk is the agents' desk in Slack: each handoff ticket becomes a card in one
// channel of the company's workspace, with buttons to claim it, give it back to the bot or
// close it; the customer's messages appear in the card's thread, and what an agent writes
// in that thread is sent to the customer, except a message starting with "note:", kept as
// an internal note for agents (NotePrefix). The operations and their audit entries are
// package handoff's, shared with the web inbox.
//
// Slack reaches the desk through one signed webhook, Desk.Handler, that serves both the
// app's interactivity (button clicks) and its Events API subscription (thread replies).
// Everything the desk says to Slack on its own (cards, relayed messages, card updates,
// ephemeral answers to agents) goes through a bounded queue drained by Desk.Run, so that
// customers' turns and Slack's webhooks never wait for Slack's Web API; the transfer form
// alone is opened at once (views.open), since its trigger expires in 3 s.
//
// The Slack app needs the bot scopes chat:write, users:read and users:read.email, and
// channels:history (groups:history for a private channel) with the message.channels
// (message.groups) event; views.open needs no scope beyond interactivity. A click, thread
// reply or transfer is made by the agent with the Slack user's profile email address. With
// WithStaffAccounts (staff_auth: accounts) that agent must exist with a role that works
// tickets (handoff.FindStaffAgent), and anyone else is refused; without it (the demo) any
// member of the channel is an agent, created on first use (handoff.SignIn), so the
// channel's membership is the desk's access control.
package slackdesk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
)

// Defaults of Config.
const (
	DefaultQueueSize    = 256
	DefaultLastMessages = 5
	// DefaultReconcileEvery is how often Run looks for tickets without a card.
	DefaultReconcileEvery = time.Minute
	// DefaultReconcileAfter is how old a ticket without a card must be before Run posts
	// one: younger tickets are still on their way through the queue (of this replica or
	// another), and posting for them would give them a second card.
	DefaultReconcileAfter = 30 * time.Second
)

// Config configures the desk.
type Config struct {
	// Channel is the id of the agents' channel (C…, or G… for a private one). Required.
	Channel string
	// BotToken is the Slack app's bot token (xoxb-…). Secret. Required.
	BotToken string
	// SigningSecret is the Slack app's signing secret. Secret. Required.
	SigningSecret string
	// InboxURL is the web inbox's base URL (e.g. https://support.example.com/inbox); when
	// set, a card links to the ticket's page there. Optional.
	InboxURL string
	// QueueSize bounds the work waiting for Slack's Web API. Default 256.
	QueueSize int
	// LastMessages is how many of the conversation's newest messages a card shows. Default 5.
	LastMessages int
	// ReconcileEvery and ReconcileAfter: see DefaultReconcileEvery and DefaultReconcileAfter.
	ReconcileEvery time.Duration
	ReconcileAfter time.Duration
}

var channelID = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)

// WithDefaults returns c with white space trimmed from its strings (secrets pasted from
// Slack's pages often end in a newline) and zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	c.Channel = strings.TrimSpace(c.Channel)
	c.BotToken = strings.TrimSpace(c.BotToken)
	c.SigningSecret = strings.TrimSpace(c.SigningSecret)
	c.InboxURL = strings.TrimRight(strings.TrimSpace(c.InboxURL), "/")
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.LastMessages <= 0 {
		c.LastMessages = DefaultLastMessages
	}
	if c.ReconcileEvery <= 0 {
		c.ReconcileEvery = DefaultReconcileEvery
	}
	if c.ReconcileAfter <= 0 {
		c.ReconcileAfter = DefaultReconcileAfter
	}
	return c
}

// Validate reports the first missing or malformed field as an EINVALID error; the message
// never contains a secret.
func (c Config) Validate() error {
	switch {
	case c.Channel == "":
		return tandem.Errorf(tandem.EINVALID, "slackdesk: channel is required")
	case !channelID.MatchString(c.Channel):
		return tandem.Errorf(tandem.EINVALID, "slackdesk: channel %q is not a Slack channel id (C…, G…)", c.Channel)
	case c.BotToken == "":
		return tandem.Errorf(tandem.EINVALID, "slackdesk: bot_token is required")
	case !strings.HasPrefix(c.BotToken, "xoxb-"):
		return tandem.Errorf(tandem.EINVALID, "slackdesk: bot_token must be a bot token (xoxb-…)")
	case c.SigningSecret == "":
		return tandem.Errorf(tandem.EINVALID, "slackdesk: signing_secret is required")
	case c.InboxURL != "" && !strings.HasPrefix(c.InboxURL, "https://") && !strings.HasPrefix(c.InboxURL, "http://"):
		return tandem.Errorf(tandem.EINVALID, "slackdesk: inbox_url %q is not an http(s) URL", c.InboxURL)
	}
	return nil
}

// LogValue logs c with its secrets masked.
func (c Config) LogValue() slog.Value {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "***"
	}
	return slog.GroupValue(slog.String("channel", c.Channel), slog.String("inbox_url", c.InboxURL),
		slog.String("bot_token", mask(c.BotToken)), slog.String("signing_secret", mask(c.SigningSecret)))
}

// Store is what the desk reads and changes; storage.Store satisfies it. It must be safe
// for concurrent use; missing rows are *tandem.Error with code ENOTFOUND.
type Store interface {
	handoff.DeskStore
	FindCustomerByID(ctx context.Context, id string) (*tandem.Customer, error)
	FindAgentByID(ctx context.Context, id string) (*tandem.Agent, error)
	ListMessages(ctx context.Context, conversationID string, f storage.MessageFilter) ([]tandem.Message, error)
	ListAudit(ctx context.Context, f storage.AuditFilter) ([]tandem.AuditEntry, error)
	ListAgents(ctx context.Context) ([]tandem.Agent, error)
}

var (
	_ Store     = storage.Store(nil)
	_ bots.Desk = (*Desk)(nil)
)

// Option configures a Desk.
type Option func(*options)

type options struct {
	apiURL  string
	client  *http.Client
	logger  *slog.Logger
	now     func() time.Time
	surveys handoff.Surveys
	events  Publisher
	queues  func() []string
	staff   bool
}

// Publisher announces that a conversation changed; an events.Bus satisfies it. Publish
// must not wait for subscribers.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) error
}

// WithEvents announces what agents do in Slack (replies, claims, closes, give-backs) on p,
// so the customer's web chat and the web inbox's pages show it live (default: nothing).
func WithEvents(p Publisher) Option { return func(o *options) { o.events = p } }

// WithAPIURL points the Slack Web API client at url instead of https://slack.com/api/
// (tests use a local server). A missing trailing slash is added.
func WithAPIURL(url string) Option {
	return func(o *options) {
		if !strings.HasSuffix(url, "/") {
			url += "/"
		}
		o.apiURL = url
	}
}

// WithHTTPClient sets the HTTP client for Slack Web API calls (default: a client with a
// 30 s timeout).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithNow sets the clock of desk operations and reconciliation (default time.Now). Request
// signatures are checked against the wall clock, whatever now says.
func WithNow(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSurveys asks the customer the bot's CSAT question when an agent closes a ticket from
// the desk (see handoff.Close; default: no survey).
func WithSurveys(s handoff.Surveys) Option { return func(o *options) { o.surveys = s } }

// WithStaffAccounts makes only staff accounts agents (staff_auth: accounts): a Slack user
// may act only when their profile email is an existing agent's whose role works tickets
// (handoff.FindStaffAgent); others are told to ask an admin, and nothing changes. Without
// it any member of the channel acts, as an agent created on first use (handoff.SignIn).
func WithStaffAccounts() Option { return func(o *options) { o.staff = true } }

// WithQueues lists the handoff queues the transfer form offers (the bots'), besides the
// ticket's own and the agents' skills (default: none).
func WithQueues(f func() []string) Option { return func(o *options) { o.queues = f } }

// Desk is the Slack agents' desk. It is safe for concurrent use; Run must be running for
// cards, relayed messages and answers to agents to reach Slack.
type Desk struct {
	cfg     Config
	store   Store
	api     *slack.Client
	logger  *slog.Logger
	now     func() time.Time
	surveys handoff.Surveys
	events  Publisher
	queues  func() []string
	staff   bool // agents are existing staff accounts (WithStaffAccounts)
	queue   chan job
	// replies de-duplicates thread replies that Slack delivers more than once.
	replies *recent
	// emails caches Slack users' email addresses (users.info) for a few minutes.
	emails emailCache
}

// New returns a desk for cfg (after WithDefaults) over store, or an EINVALID error when
// cfg is not valid.
func New(cfg Config, store Store, opts ...Option) (*Desk, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, tandem.Errorf(tandem.EINVALID, "slackdesk: no store")
	}
	o := options{apiURL: slack.APIURL}
	for _, opt := range opts {
		opt(&o)
	}
	if o.client == nil {
		o.client = &http.Client{Timeout: 30 * time.Second}
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	if o.now == nil {
		o.now = time.Now
	}
	return &Desk{
		cfg:     cfg,
		store:   store,
		api:     slack.New(cfg.BotToken, slack.OptionAPIURL(o.apiURL), slack.OptionHTTPClient(o.client)),
		logger:  o.logger.With("desk", "slack"),
		now:     o.now,
		surveys: o.surveys,
		events:  o.events,
		queues:  o.queues,
		staff:   o.staff,
		queue:   make(chan job, cfg.QueueSize),
		replies: newRecent(4096),
		emails:  emailCache{m: map[string]cachedEmail{}},
	}, nil
}

// jobKind is what a queued job asks of Slack.
type jobKind int

const (
	jobCard      jobKind = iota // post the ticket's card unless it has one
	jobRelay                    // post a customer message in the card's thread
	jobRefresh                  // redraw the ticket's card (chat.update)
	jobEphemeral                // tell one agent something only they see
)

// job is one piece of work for Run.
type job struct {
	kind     jobKind
	ticketID string
	convID   string
	msg      tandem.Message
	user     string // jobEphemeral: the Slack user
	threadTS string // jobEphemeral: the thread it belongs to, if any
	text     string // jobEphemeral
	channel  string // jobRefresh: the card clicked (default: the ticket's DeskRef)
	ts       string
}

// ErrQueueFull is returned when the desk's queue has no room: Slack is slow or down, or
// Run is not running. A card is still posted later by reconciliation; a relayed message
// is not (it is in the conversation's transcript, shown in the web inbox).
var ErrQueueFull = errors.New("slackdesk: queue full")

func (d *Desk) enqueue(j job) error {
	select {
	case d.queue <- j:
		return nil
	default:
		return ErrQueueFull
	}
}

// TicketOpened queues posting the ticket's card; it returns at once (ErrQueueFull when
// there is no room).
func (d *Desk) TicketOpened(ctx context.Context, conv *tandem.Conversation, ticketID string) error {
	return d.enqueue(job{kind: jobCard, ticketID: ticketID, convID: conv.ID})
}

// Relay queues posting the customer's message in the thread of the conversation's card; it
// returns at once (ErrQueueFull when there is no room). A conversation whose active ticket
// has no card yet gets one instead, which shows the message.
func (d *Desk) Relay(ctx context.Context, conv *tandem.Conversation, msg *tandem.Message) error {
	return d.enqueue(job{kind: jobRelay, convID: conv.ID, msg: *msg})
}

// TicketChanged queues redrawing the ticket's card after another desk (the web inbox)
// claimed, closed or gave it back; it returns at once (ErrQueueFull when there is no room).
func (d *Desk) TicketChanged(ctx context.Context, ticketID string) error {
	return d.enqueue(job{kind: jobRefresh, ticketID: ticketID})
}

// Run posts cards for queued tickets that have none (left by a crash between a turn and
// its card, or a full queue), then drains the queue until ctx ends, reconciling again every
// ReconcileEvery. It returns nil when ctx ends. Run one per process.
func (d *Desk) Run(ctx context.Context) error {
	d.reconcile(ctx)
	tick := time.NewTicker(d.cfg.ReconcileEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			d.reconcile(ctx)
		case j := <-d.queue:
			d.do(ctx, j)
		}
	}
}

// reconcile posts cards for queued tickets older than ReconcileAfter that have none.
func (d *Desk) reconcile(ctx context.Context) {
	ts, err := d.store.ListTickets(ctx, storage.TicketFilter{Status: tandem.TicketQueued})
	if err != nil {
		if ctx.Err() == nil {
			d.logger.Error("slackdesk: list tickets to reconcile", "error", err)
		}
		return
	}
	before := d.now().Add(-d.cfg.ReconcileAfter)
	for _, t := range ts {
		if t.DeskRef != "" || t.CreatedAt.After(before) {
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if err := d.postCard(ctx, t.ID); err != nil {
			d.logger.Error("slackdesk: post card", "ticket_id", t.ID, "error", err)
		}
	}
}

// do runs one job; failures are logged (Slack's own rate limit is waited out first).
func (d *Desk) do(ctx context.Context, j job) {
	var err error
	switch j.kind {
	case jobCard:
		err = d.postCard(ctx, j.ticketID)
	case jobRelay:
		err = d.relay(ctx, j.convID, &j.msg)
	case jobRefresh:
		err = d.refresh(ctx, j.ticketID, j.channel, j.ts)
	case jobEphemeral:
		err = d.call(ctx, func() error {
			opts := []slack.MsgOption{slack.MsgOptionText(j.text, false)}
			if j.threadTS != "" {
				opts = append(opts, slack.MsgOptionTS(j.threadTS))
			}
			_, err := d.api.PostEphemeralContext(ctx, d.cfg.Channel, j.user, opts...)
			return err
		})
	}
	if err != nil && ctx.Err() == nil {
		d.logger.Error("slackdesk: slack call failed", "job", j.kind, "ticket_id", j.ticketID,
			"conversation_id", j.convID, "error", err)
	}
}

// maxRateLimitWaits bounds how often one job waits out Slack's rate limit.
const maxRateLimitWaits = 3

// call runs a Web API call, waiting and trying again when Slack rate-limits it.
func (d *Desk) call(ctx context.Context, f func() error) error {
	for i := 0; ; i++ {
		err := f()
		var limited *slack.RateLimitedError
		if !errors.As(err, &limited) || i == maxRateLimitWaits {
			return err
		}
		after := max(limited.RetryAfter, time.Second)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(after):
		}
	}
}

// deskRef is the DeskRef of the card posted as ts in channel.
func deskRef(channel, ts string) string { return "slack:" + channel + ":" + ts }

// parseDeskRef returns the channel and ts of a DeskRef written by deskRef.
func parseDeskRef(ref string) (channel, ts string, ok bool) {
	rest, ok := strings.CutPrefix(ref, "slack:")
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, ":")
}

// postCard posts the ticket's card and records it as the ticket's DeskRef, unless the
// ticket already has a card or is no longer active.
func (d *Desk) postCard(ctx context.Context, ticketID string) error {
	t, err := d.store.FindTicketByID(ctx, ticketID)
	if err != nil {
		return fmt.Errorf("post card: %w", err)
	}
	if t.DeskRef != "" || (t.Status != tandem.TicketQueued && t.Status != tandem.TicketClaimed) {
		return nil
	}
	c, err := d.card(ctx, t)
	if err != nil {
		return fmt.Errorf("post card: %w", err)
	}
	var channel, ts string
	err = d.call(ctx, func() (err error) {
		channel, ts, err = d.api.PostMessageContext(ctx, d.cfg.Channel,
			slack.MsgOptionText(c.fallback, false), slack.MsgOptionBlocks(c.blocks...))
		return err
	})
	if err != nil {
		return fmt.Errorf("post card: chat.postMessage: %w", err)
	}
	if channel == "" {
		channel = d.cfg.Channel
	}
	ref := deskRef(channel, ts)
	// A failure here leaves a card the desk cannot find again: its buttons still work (they
	// carry the ticket id), and reconciliation posts a second card that threads work on.
	if _, err := d.store.UpdateTicket(context.WithoutCancel(ctx), t.ID, storage.TicketUpdate{DeskRef: &ref}); err != nil {
		return fmt.Errorf("post card: record desk ref: %w", err)
	}
	return nil
}

// relay posts a customer's message in the thread of the card of the conversation's active
// ticket (posting the card first when there is none, which shows the message).
func (d *Desk) relay(ctx context.Context, convID string, msg *tandem.Message) error {
	t, err := d.store.FindActiveTicket(ctx, convID)
	if tandem.ErrorCode(err) == tandem.ENOTFOUND {
		return nil // given back or closed meanwhile
	}
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	channel, ts, ok := parseDeskRef(t.DeskRef)
	if !ok {
		return d.postCard(ctx, t.ID)
	}
	text := fmt.Sprintf("*Customer* (%s): %s", escape(string(msg.Channel)), escape(truncate(msg.Text, maxTextBytes)))
	return d.call(ctx, func() error {
		_, _, err := d.api.PostMessageContext(ctx, channel, slack.MsgOptionText(text, false), slack.MsgOptionTS(ts))
		return err
	})
}

// refresh redraws a ticket's card, the message ts in channel (default: the ticket's
// DeskRef), to show where the ticket stands.
func (d *Desk) refresh(ctx context.Context, ticketID, channel, ts string) error {
	t, err := d.store.FindTicketByID(ctx, ticketID)
	if err != nil {
		return fmt.Errorf("refresh card: %w", err)
	}
	if channel == "" || ts == "" {
		var ok bool
		if channel, ts, ok = parseDeskRef(t.DeskRef); !ok {
			return nil
		}
	}
	c, err := d.card(ctx, t)
	if err != nil {
		return fmt.Errorf("refresh card: %w", err)
	}
	return d.call(ctx, func() error {
		_, _, _, err := d.api.UpdateMessageContext(ctx, channel, ts,
			slack.MsgOptionText(c.fallback, false), slack.MsgOptionBlocks(c.blocks...))
		return err
	})
}

// emailCacheTTL is how long a Slack user's email address is reused without users.info.
const emailCacheTTL = 10 * time.Minute

type cachedEmail struct {
	email string
	at    time.Time
}

// emailCache remembers Slack users' email addresses, so that an agent's clicks and
// replies do not each wait for users.info.
type emailCache struct {
	mu sync.Mutex
	m  map[string]cachedEmail
}

// agent returns the agent the Slack user is: the one with their profile's email address,
// created on first use unless the desk takes staff accounts only. Errors, with a message
// for the user (see refused): EINVALID when Slack shows no email address, EFORBIDDEN when
// staff accounts have no agent with that address.
func (d *Desk) agent(ctx context.Context, user string) (*tandem.Agent, error) {
	now := time.Now()
	d.emails.mu.Lock()
	c, ok := d.emails.m[user]
	d.emails.mu.Unlock()
	if !ok || now.Sub(c.at) > emailCacheTTL {
		var u *slack.User
		err := d.call(ctx, func() (err error) {
			u, err = d.api.GetUserInfoContext(ctx, user)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("slackdesk: users.info: %w", err)
		}
		if u.IsBot || u.Deleted || u.Profile.Email == "" {
			return nil, tandem.Errorf(tandem.EINVALID, "Tandem cannot see an email address on your Slack profile, so it cannot tell which agent you are")
		}
		c = cachedEmail{email: u.Profile.Email, at: now}
		d.emails.mu.Lock()
		if len(d.emails.m) >= 1024 {
			clear(d.emails.m)
		}
		d.emails.m[user] = c
		d.emails.mu.Unlock()
	}
	if d.staff {
		return handoff.FindStaffAgent(ctx, d.store, c.email)
	}
	return handoff.SignIn(ctx, d.store, c.email)
}

// refused reports whether err (from agent) refuses the user, with a message for them,
// rather than failing.
func refused(err error) bool {
	code := tandem.ErrorCode(err)
	return code == tandem.EINVALID || code == tandem.EFORBIDDEN
}

// publish announces e (a hint: subscribers reread the store). A failure is logged: the
// change is stored, and pages catch up on their next event or reload.
func (d *Desk) publish(ctx context.Context, e events.Event) {
	if d.events == nil {
		return
	}
	e.At = d.now()
	if err := d.events.Publish(ctx, e); err != nil {
		d.logger.WarnContext(ctx, "slackdesk: publish event", "topic", e.Topic, "kind", string(e.Kind), "error", err)
	}
}
