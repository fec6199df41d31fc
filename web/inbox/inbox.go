// Package inbox is the agents' web inbox of Tandem's web app, mounted at /inbox/: the queue
// of conversations waiting for or held by a human (active handoff tickets: escalated first,
// with a badge and the reason, then by priority, then oldest; those that suit the agent's
// skills and languages marked), and one page per ticket with the customer (profile, linked
// identities), their whole timeline across channels with what the bot understood and why
// it answered as it did, the handoff reason and knowledge articles suggested for the
// customer's last message. An agent claims a
// ticket, replies (typing it, using a suggested reply or one of the bot's saved replies),
// closes it, gives the conversation back to the bot or transfers it to another queue or
// agent (supervisors may transfer any active ticket). Any agent may add an internal note to
// a ticket: shown in the timeline to agents only, never to the customer.
//
// The package is HTTP and templates only: the operations and their audit entries are
// handoff's (handoff.Claim, Reply, Close, GiveBack, Transfer, AddNote), so other desks share them. A reply is
// stored in the conversation on the customer's current channel; every action is published on
// Deps.Events so the customer's web chat socket shows it live, and other channels (SMS, Slack,
// Discord) receive it through their connector's delivery, which this package does not do.
//
// Pages are live: with JavaScript, a page follows GET /inbox/events (server-sent events; the
// queue follows events.TopicTickets, a ticket page its conversation) and, on each event,
// refetches itself and swaps the parts that changed, leaving the agent's reply draft alone.
// While a human has a web chat conversation, each side sees when the other is typing.
// The engine's side is Desk, which announces new tickets and the customer's messages to a
// human. Without JavaScript a page shows what was stored when it loaded; when its stream
// keeps failing, it reloads on a timer instead.
//
// With staff accounts (Deps.Agent), the signed-in agent comes from the staff session
// (web/staff) and the inbox has no sign-in of its own. Without them, the first visit asks
// for an email address, finds or creates that agent and keeps its id in an HMAC-SHA256
// signed cookie; the address is not proven, so the inbox must then be mounted behind access
// control for staff (the app mounts it behind the same guard as the knowledge editor). State-changing requests are POST forms
// behind http.CrossOriginProtection, and agent actions also carry a token derived from the
// agent's session. Pages use no inline script or style, so the server's Content-Security-
// Policy holds.
package inbox

import (
	"context"
	"crypto/rand"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/internal/signed"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web/htmlpage"
)

// Store is what the inbox reads and changes; storage.Store satisfies it. Missing rows are
// *tandem.Error with code ENOTFOUND.
type Store interface {
	handoff.DeskStore
	storage.ReportStore
	FindAgentByID(ctx context.Context, id string) (*tandem.Agent, error)
	ListAgents(ctx context.Context) ([]tandem.Agent, error)
	FindCustomerByID(ctx context.Context, id string) (*tandem.Customer, error)
	ListIdentities(ctx context.Context, customerID string) ([]tandem.Identity, error)
	ListMessages(ctx context.Context, conversationID string, f storage.MessageFilter) ([]tandem.Message, error)
	ListCustomerMessages(ctx context.Context, customerID string, f storage.MessageFilter) ([]tandem.Message, error)
	ListCustomerNotes(ctx context.Context, customerID string, f storage.MessageFilter) ([]tandem.Note, error)
	ListDeliveries(ctx context.Context, f storage.DeliveryFilter) ([]tandem.Delivery, error)
	ListAudit(ctx context.Context, f storage.AuditFilter) ([]tandem.AuditEntry, error)
}

// Searcher finds knowledge passages; *retrieval.KnowledgeBase satisfies it. It must be safe
// for concurrent use.
type Searcher interface {
	Search(ctx context.Context, query string, f storage.SearchFilter) ([]retrieval.Passage, error)
}

var (
	_ Store     = storage.Store(nil)
	_ Searcher  = (*retrieval.KnowledgeBase)(nil)
	_ Assistant = (*bots.Engine)(nil)
)

// Defaults of Config.
const (
	DefaultMaxFormBytes    = 64 << 10
	DefaultQueueLimit      = 200
	DefaultTranscriptLimit = 200
	DefaultSuggestions     = 3
	DefaultSessionTTL      = 12 * time.Hour
	DefaultMaxStreams      = 500
	DefaultHeartbeat       = 25 * time.Second
)

// Config configures the inbox. The zero value is usable (see WithDefaults).
type Config struct {
	// Secret signs the agent cookie (HMAC-SHA256). Empty means a random key per process:
	// agents sign in again after a restart, and replicas do not share sessions.
	Secret []byte
	// MaxFormBytes bounds a posted form; larger requests get 413. Default 64 KiB. A reply's
	// text is bounded by handoff.MaxReplyBytes.
	MaxFormBytes int64
	// QueueLimit is how many active tickets the queue shows. Default 200.
	QueueLimit int
	// TranscriptLimit is how many of the customer's newest messages a ticket page shows.
	// Default 200.
	TranscriptLimit int
	// Suggestions is how many knowledge articles a ticket page suggests. Default 3.
	Suggestions int
	// SessionTTL is how long the agent cookie is valid. Default 12 hours.
	SessionTTL time.Duration
	// MaxStreams bounds the live event streams (one per open inbox page) this process
	// serves at once; beyond, pages get 503 and fall back to reloading. Default 500.
	MaxStreams int
	// Heartbeat is how often an idle event stream sends a comment, so proxies keep it
	// open. Default 25 seconds.
	Heartbeat time.Duration
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Logger receives internal errors. Default slog.Default().
	Logger *slog.Logger
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if len(c.Secret) == 0 {
		c.Secret = make([]byte, 32)
		_, _ = rand.Read(c.Secret) // never fails (crypto/rand)
	}
	if c.MaxFormBytes <= 0 {
		c.MaxFormBytes = DefaultMaxFormBytes
	}
	if c.QueueLimit <= 0 {
		c.QueueLimit = DefaultQueueLimit
	}
	if c.TranscriptLimit <= 0 {
		c.TranscriptLimit = DefaultTranscriptLimit
	}
	if c.Suggestions <= 0 {
		c.Suggestions = DefaultSuggestions
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.MaxStreams <= 0 {
		c.MaxStreams = DefaultMaxStreams
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports a configuration New would not accept, as a *tandem.Error with code
// EINVALID (New applies WithDefaults, so zero values are fine).
func (c Config) Validate() error {
	switch {
	case c.MaxFormBytes < 0 || c.QueueLimit < 0 || c.TranscriptLimit < 0 || c.Suggestions < 0 || c.SessionTTL < 0 ||
		c.MaxStreams < 0 || c.Heartbeat < 0:
		return tandem.Errorf(tandem.EINVALID, "inbox: limits must not be negative")
	case c.QueueLimit > 1000 || c.TranscriptLimit > 1000 || c.Suggestions > 20:
		return tandem.Errorf(tandem.EINVALID, "inbox: queue and transcript limits are at most 1000, suggestions at most 20")
	}
	return nil
}

// Deps are the inbox's collaborators; Store is required.
type Deps struct {
	Store Store
	// KB suggests articles for the customer's last message; nil shows none.
	KB Searcher
	// Collections names the knowledge collections of a bot, searched for its conversations;
	// nil (or no collections) searches all of them.
	Collections func(botID string) []string
	// Events is told about every claim, reply, close and give-back, so the customer's web
	// chat and other agents' pages show them live, and feeds the inbox pages' own event
	// streams (see Desk for the engine's side); nil publishes nothing and pages reload on a
	// timer instead.
	Events events.Bus
	// Surveys gives the CSAT question a bot asks when an agent closes one of its tickets
	// (see handoff.Close); nil asks none.
	Surveys handoff.Surveys
	// Desks are the other desks showing tickets (the Slack desk's cards), told after every
	// claim, close, give-back and transfer here so they redraw.
	Desks []TicketWatcher
	// Queues lists the handoff queues a ticket can be transferred to (the bots'), besides
	// the agents' skills and the ticket's own queue; nil adds none.
	Queues func() []string
	// Assistant proposes replies to the customer's last message; nil proposes none.
	Assistant Assistant
	// SavedReplies are the bots' canned replies agents pick on the ticket page; nil offers
	// none.
	SavedReplies SavedReplies
	// Agent returns the signed-in agent when staff sign in with accounts (web/staff, whose
	// middleware guards the inbox); the inbox's own email sign-in is then off, and its
	// sign-out form calls SignOut. Nil keeps the email sign-in.
	Agent   func(*http.Request) (*tandem.Agent, error)
	SignOut http.HandlerFunc
	// ReopenTemplate names the template a bot sends when a reply is held for a closed
	// channel window ("" for none; see bots.Registry.ReopenTemplate), for the ticket
	// page's window notice; nil means none.
	ReopenTemplate func(botID string, ch tandem.Channel) string
}

// Assistant proposes replies an agent may send or edit; *bots.Engine satisfies it. It must
// be safe for concurrent use and store nothing.
type Assistant interface {
	SuggestReplies(ctx context.Context, botID string, cust *tandem.Customer, msg *tandem.Message) ([]bots.Suggestion, error)
}

// TicketWatcher is another agents' desk that shows tickets; *slackdesk.Desk satisfies it.
// TicketChanged must not wait for the desk's own network calls.
type TicketWatcher = handoff.TicketWatcher

// Publisher announces that a conversation changed; an events.Bus satisfies it. Publish must
// not wait for subscribers.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) error
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

type handler struct {
	cfg     Config
	signer  *signed.Signer
	store   Store
	kb      Searcher
	colls   func(string) []string
	events  events.Bus
	desks   []TicketWatcher
	surveys handoff.Surveys
	queues  func() []string
	// assistant proposes replies (Deps.Assistant).
	assistant Assistant
	reopen    func(botID string, ch tandem.Channel) string
	saved     SavedReplies
	// accountAgent and signOut are Deps.Agent and Deps.SignOut.
	accountAgent func(*http.Request) (*tandem.Agent, error)
	signOut      http.HandlerFunc
	pages        *htmlpage.Pages
	// streams holds a token per open event stream (Config.MaxStreams).
	streams chan struct{}
	// base ends every event stream on Handler.Close.
	base context.Context
	stop context.CancelFunc
}

// New returns the inbox's handler, to be mounted at "/inbox/". It panics when Deps.Store is
// missing or cfg is invalid (wiring errors; call Config.Validate first to report them).
// Close it before shutting the server down.
func New(cfg Config, deps Deps) *Handler {
	if deps.Store == nil {
		panic("inbox.New: Deps.Store is required")
	}
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	h := &handler{cfg: cfg.WithDefaults(), store: deps.Store, kb: deps.KB, colls: deps.Collections, events: deps.Events, desks: deps.Desks,
		surveys: deps.Surveys, assistant: deps.Assistant, saved: deps.SavedReplies, queues: deps.Queues, accountAgent: deps.Agent, signOut: deps.SignOut,
		reopen: deps.ReopenTemplate}
	h.signer = signed.New(h.cfg.Secret)
	h.pages = parsePages(h.cfg.Logger)
	h.streams = make(chan struct{}, h.cfg.MaxStreams)
	h.base, h.stop = context.WithCancel(context.Background())
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /inbox/static/", http.StripPrefix("/inbox/static/", cacheStatic(http.FileServerFS(static))))
	mux.HandleFunc("GET /inbox/{$}", h.agentOnly(h.handleQueue))
	mux.HandleFunc("POST /inbox/signin", h.handleSignIn)
	mux.HandleFunc("POST /inbox/signout", h.handleSignOut)
	mux.HandleFunc("GET /inbox/events", h.handleEvents)
	mux.HandleFunc("GET /inbox/tickets/{id}", h.agentOnly(h.handleTicket))
	mux.HandleFunc("GET /inbox/dashboard", h.agentOnly(h.handleDashboard))
	mux.HandleFunc("POST /inbox/tickets/{id}/{action}", h.agentOnly(h.handleAction))
	mux.HandleFunc("POST /inbox/tickets/{id}/typing", h.agentOnly(h.handleTyping))
	mux.HandleFunc("/inbox/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, nil, tandem.Errorf(tandem.ENOTFOUND, "no such page"))
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, nil, tandem.Errorf(tandem.EFORBIDDEN, "cross-origin request refused; submit the form from the inbox itself"))
	}))
	return &Handler{h: h, next: cop.Handler(h.limitBody(mux))}
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		next.ServeHTTP(w, r)
	})
}

func (h *handler) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxFormBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// page is the data every page template gets.
type page struct {
	Title string
	Agent *tandem.Agent
	// Supervisor links the dashboard (set by render for supervisors and admins).
	Supervisor bool
	CSRF       string
	Notice     string
	Error      string
	Data       any
}

func parsePages(logger *slog.Logger) *htmlpage.Pages {
	funcs := template.FuncMap{
		"date": formatDate,
		"pct":  func(f float64) string { return formatPct(f) },
		"sign": func(f float64) string { return formatSigned(f) },
	}
	return htmlpage.Parse("inbox", templateFS, funcs, logger)
}

// render writes a page with status.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Supervisor = canSupervise(p.Agent)
	h.pages.Render(w, r, status, name, p)
}

// fail renders err as the error page (htmlpage.Pages.Failure).
func (h *handler) fail(w http.ResponseWriter, r *http.Request, agent *tandem.Agent, err error) {
	d := h.pages.Failure(r, err)
	h.render(w, r, d.Status, "error", page{Title: http.StatusText(d.Status), Agent: agent, Data: d})
}

// notices are the messages shown after a redirect (htmlpage.Redirect).
var notices = map[string]string{
	"claimed":     "You have the conversation: the customer's messages now come to you.",
	"replied":     "Reply sent.",
	"closed":      "Ticket closed. The bot has the conversation again; when it surveys, it has asked the customer to rate the help.",
	"returned":    "Given back to the bot: it answers the customer's next message.",
	"transferred": "Transferred.",
	"noted":       "Note added. Only agents see it.",
	"signedin":    "Signed in.",
}

func notice(r *http.Request) string { return htmlpage.Notice(r, notices) }

// formatDate shows a time.Time or *time.Time (empty for nil) in UTC.
func formatDate(v any) string {
	var t time.Time
	switch v := v.(type) {
	case time.Time:
		t = v
	case *time.Time:
		if v == nil {
			return ""
		}
		t = *v
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func ticketPath(id string) string { return "/inbox/tickets/" + url.PathEscape(id) }
