// Package webchat is the web chat's connector (channel tandem.ChannelWebChat): a WebSocket
// endpoint (github.com/coder/websocket) the chat page opens, by default at
// /chat/ws?bot=<bot>.
//
// Protocol (JSON text frames; see frame.go for every field):
//   - The browser is identified by a visitor id kept in a signed, HttpOnly cookie
//     (internal/signed, the server's session secret); a browser without a valid one gets a
//     new id with the handshake's response.
//   - The embeddable widget's iframe (web /embed) runs on the customer's site, where the
//     browser sends no SameSite=Lax cookie to a cross-site frame (or no third-party cookie
//     at all). It offers the subprotocol EmbedProtocol; the server then puts the same signed
//     value in the transcript frame ("visitor_token"), the page keeps it in its (partitioned)
//     localStorage and offers it back as a second subprotocol VisitorProtocolPrefix+token,
//     never in the URL, which proxies log. A valid token wins over the cookie; a forged,
//     expired or malformed one is ignored like a bad cookie: the socket gets a new visitor.
//   - On connect the server sends one "transcript" frame: the visitor's conversation with
//     the bot (the one named by ?conversation= when it is the visitor's, else their open
//     one) and its messages after ?after=<message id>, or all of the newest ones with
//     "reset": true when the client has none or its cursor is unknown.
//   - The browser sends {"type":"message","text":...,"id":<client message id>}. The text
//     goes to the engine (connectors.Receiver) with the client id as provider id, so a
//     message resent after a reconnect is dropped; the server answers with a "turn" frame
//     holding the bot's replies (citations, quick replies).
//   - While connected, the server pushes "message" frames (an agent's reply, a message
//     from another tab or channel) and "status" frames (a human joined, the bot is back,
//     the conversation closed), driven by the events bus: every event for the
//     conversation makes the session reread the store, so lost events only delay what a
//     later event, turn or reconnect shows.
//   - Typing: while a human has the conversation, the browser's {"type":"typing"} (sent at
//     most every few seconds as the visitor types) is published as an events.KindTyping
//     event for the agent's inbox, and an agent's typing reaches the browser as
//     {"type":"typing","role":"agent"}. Typing events change nothing stored.
//   - A refused frame gets {"type":"error","code","message"} and the socket stays open;
//     only a frame over the size limit (unusable) closes it (status 1009). The server pings
//     every Config.PingInterval and closes a connection that does not answer.
//
// Replies are not pushed through the outbox (tandem.ChannelWebChat.Pushed() is false): the
// socket is the delivery, and a visitor who is away finds agent replies in the transcript
// when they come back. That is also why this package is an http.Handler and not a
// connectors.Connector, whose Send it would have nothing to do in.
package webchat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/events"
	"github.com/tandemhq/tandem/internal/ratelimit"
	"github.com/tandemhq/tandem/internal/signed"
	"github.com/tandemhq/tandem/storage"
)

// Path is where the app mounts the endpoint and the chat page connects.
const Path = "/chat/ws"

// CookieName is the visitor cookie.
const CookieName = "tandem_visitor"

// Subprotocols of the embedded chat (see the package documentation).
const (
	// EmbedProtocol asks for the visitor token in the transcript frame; the server selects it.
	EmbedProtocol = "tandem.embed"
	// VisitorProtocolPrefix prefixes the visitor token the embed offers back. Sealed values
	// are base64url, digits and dots: valid subprotocol characters.
	VisitorProtocolPrefix = "tandem.visitor."
)

// Defaults of Config.
const (
	DefaultMaxMessageBytes = 4096
	DefaultBot             = "demo"
	DefaultPingInterval    = 30 * time.Second
	DefaultWriteTimeout    = 10 * time.Second
	DefaultTranscriptLimit = 200
	DefaultVisitorTTL      = 365 * 24 * time.Hour
	// A visitor types; ten quick messages and then one every two seconds is generous.
	DefaultMessagesPerMinute = 30
	DefaultMessageBurst      = 10
	// A page load or reconnect opens one socket; 30 a minute from one address allows a
	// household or office behind one address, not a script opening visitors in a loop.
	DefaultConnectionsPerMinute = 30
)

// Config configures the endpoint. The zero value is usable (see WithDefaults).
type Config struct {
	// Secret signs the visitor cookie (HMAC-SHA256), the server's TANDEM_SESSION_SECRET.
	// Empty means a random key per process: visitors become new customers after a restart
	// and on other replicas.
	Secret []byte
	// MaxMessageBytes bounds a message's text; a frame is refused above it and the socket
	// closed above eight times it plus 1 KiB (room for JSON escapes). Default 4096.
	MaxMessageBytes int
	// DefaultBot is the bot of a connection without ?bot=. Default "demo".
	DefaultBot string
	// PingInterval is how often the server pings; a ping not answered within the next
	// interval closes the connection. Default 30s.
	PingInterval time.Duration
	// WriteTimeout bounds every write and ping. Default 10s.
	WriteTimeout time.Duration
	// TranscriptLimit is how many of the newest messages a reset transcript holds. Default 200.
	TranscriptLimit int
	// VisitorTTL is how long the visitor cookie lives. Default one year.
	VisitorTTL time.Duration
	// MessagesPerMinute and MessageBurst bound the messages one visitor (in this process)
	// hands to the engine; a message over the limit gets a CodeRateLimited error frame and
	// is not handled. Defaults 30 and 10; negative MessagesPerMinute disables the limit.
	MessagesPerMinute int
	MessageBurst      int
	// ConnectionsPerMinute bounds the sockets one client address opens (in this process),
	// in bursts of as many; a handshake over it gets 429 with Retry-After. Default 30;
	// negative disables the limit.
	ConnectionsPerMinute int
	// ClientIP returns a request's client address. Default: the host of RemoteAddr. Behind
	// a proxy, set it to read the header the proxy sets (see web.ClientIPFunc).
	ClientIP func(*http.Request) string
	// Now stamps inbound messages and cookies. Default time.Now.
	Now func() time.Time
	// Logger receives failed turns and connections. Default slog.Default().
	Logger *slog.Logger
	// ObserveFeedback, when set, is told of every vote stored (metrics).
	ObserveFeedback func(tandem.AnswerFeedback)
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if len(c.Secret) == 0 {
		c.Secret = make([]byte, 32)
		_, _ = rand.Read(c.Secret) // never fails (crypto/rand)
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.DefaultBot == "" {
		c.DefaultBot = DefaultBot
	}
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.TranscriptLimit <= 0 {
		c.TranscriptLimit = DefaultTranscriptLimit
	}
	if c.VisitorTTL <= 0 {
		c.VisitorTTL = DefaultVisitorTTL
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MessagesPerMinute == 0 {
		c.MessagesPerMinute = DefaultMessagesPerMinute
	}
	if c.MessageBurst <= 0 {
		c.MessageBurst = DefaultMessageBurst
	}
	if c.ConnectionsPerMinute == 0 {
		c.ConnectionsPerMinute = DefaultConnectionsPerMinute
	}
	if c.ClientIP == nil {
		c.ClientIP = remoteHost
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Store reads the visitor's conversation; storage.Store satisfies it. Missing rows are
// *tandem.Error with code ENOTFOUND. It must be safe for concurrent use.
type Store interface {
	FindIdentity(ctx context.Context, channel tandem.Channel, externalID string) (*tandem.Identity, error)
	FindOpenConversation(ctx context.Context, botID, customerID string) (*tandem.Conversation, error)
	FindConversationByID(ctx context.Context, id string) (*tandem.Conversation, error)
	ListMessages(ctx context.Context, conversationID string, f storage.MessageFilter) ([]tandem.Message, error)
	// PutAnswerFeedback and ListAnswerFeedback keep the visitor's votes on the bot's
	// knowledge answers (see storage.FeedbackStore).
	PutAnswerFeedback(ctx context.Context, f *tandem.AnswerFeedback) error
	ListAnswerFeedback(ctx context.Context, f storage.AnswerFeedbackFilter) ([]storage.RatedAnswer, error)
}

var _ Store = storage.Store(nil)

// Deps are the endpoint's collaborators; all are required.
type Deps struct {
	// Receiver runs the turn of each message (bots.Engine).
	Receiver connectors.Receiver
	// Store reads the transcript.
	Store Store
	// Events tells sessions that their conversation changed (on any replica).
	Events events.Bus
}

// Handler serves the WebSocket endpoint. It is safe for concurrent use.
type Handler struct {
	cfg    Config
	deps   Deps
	signer *signed.Signer
	// visitors bounds messages per visitor, addrs handshakes per client address.
	visitors, addrs *ratelimit.Limiter
	// base ends every session on Close: http.Server.Shutdown does not wait for, or end,
	// hijacked connections.
	base context.Context
	stop context.CancelFunc
}

// botRE is what a bot id may look like (as in the REST channel's URLs).
var botRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// New returns the endpoint, to be mounted at Path. It panics when a dependency is missing
// (a wiring mistake).
func New(cfg Config, deps Deps) *Handler {
	if deps.Receiver == nil || deps.Store == nil || deps.Events == nil {
		panic("webchat.New: Receiver, Store and Events are required")
	}
	cfg = cfg.WithDefaults()
	base, stop := context.WithCancel(context.Background())
	return &Handler{cfg: cfg, deps: deps, signer: signed.New(cfg.Secret), base: base, stop: stop,
		visitors: ratelimit.New(cfg.MessagesPerMinute, time.Minute, cfg.MessageBurst, cfg.Now),
		addrs:    ratelimit.New(cfg.ConnectionsPerMinute, time.Minute, cfg.ConnectionsPerMinute, cfg.Now)}
}

// Close ends every open session (the browsers reconnect, to another replica or after the
// restart) and refuses new ones. It is idempotent.
func (h *Handler) Close() { h.stop() }

// ServeHTTP upgrades a same-origin request to a WebSocket and serves the visitor until the
// socket closes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	bot := q.Get("bot")
	if bot == "" {
		bot = h.cfg.DefaultBot
	}
	if !botRE.MatchString(bot) {
		http.Error(w, "invalid bot id", http.StatusBadRequest)
		return
	}
	after, conv := q.Get("after"), q.Get("conversation")
	if len(after) > 256 || len(conv) > 256 {
		http.Error(w, "cursor too long", http.StatusBadRequest)
		return
	}
	if h.base.Err() != nil {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if ok, wait := h.addrs.Allow(h.cfg.ClientIP(r)); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		http.Error(w, "too many chat connections from your address; try again shortly", http.StatusTooManyRequests)
		return
	}
	visitor, token := h.visitor(w, r)
	// Accept refuses a browser Origin other than the request's host (cross-site WebSocket
	// hijacking would otherwise chat as the visitor, whose cookie the browser sends). The
	// embed's iframe is a document of this server, so its sockets pass the same check.
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{EmbedProtocol}})
	if err != nil {
		h.cfg.Logger.DebugContext(r.Context(), "webchat: refused handshake", "error", err)
		return
	}
	if c.Subprotocol() != EmbedProtocol {
		token = "" // the chat page keeps its visitor in the HttpOnly cookie, out of its script's reach
	}
	c.SetReadLimit(int64(8*h.cfg.MaxMessageBytes + 1024))
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(h.base, cancel)()
	s := &session{h: h, c: c, bot: bot, visitor: visitor, token: token, delivered: map[string]time.Time{}}
	err = s.run(ctx, conv, after)
	switch {
	case h.base.Err() != nil:
		_ = c.Close(websocket.StatusGoingAway, "server shutting down")
	case websocket.CloseStatus(err) != -1: // the browser closed, or sent an unusable frame
		_ = c.CloseNow()
	case errors.Is(err, errWrite) || errors.Is(err, context.Canceled):
		_ = c.CloseNow() // the browser went away
	default:
		h.cfg.Logger.ErrorContext(r.Context(), "webchat: session failed", "bot", bot, "conversation_id", s.conv, "error", err)
		_ = c.Close(websocket.StatusInternalError, "")
	}
}

// visitor returns the visitor id of r and its signed token: the id of a valid token offered
// as a subprotocol, else of a valid cookie, else a new id, whose cookie is set on the
// handshake's response.
func (h *Handler) visitor(w http.ResponseWriter, r *http.Request) (id, token string) {
	now := h.cfg.Now()
	if t := offeredToken(r); t != "" {
		if id, ok := h.signer.Open("visitor", t, now); ok {
			return id, t
		}
	}
	if c, err := r.Cookie(CookieName); err == nil {
		if id, ok := h.signer.Open("visitor", c.Value, now); ok {
			return id, c.Value
		}
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id = "web-" + hex.EncodeToString(b)
	exp := now.Add(h.cfg.VisitorTTL)
	token = h.signer.Seal("visitor", id, exp)
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/",
		Expires: exp, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	return id, token
}

// offeredToken returns the visitor token the client offered as a subprotocol, or "".
func offeredToken(r *http.Request) string {
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if t, ok := strings.CutPrefix(strings.TrimSpace(p), VisitorProtocolPrefix); ok {
				return t
			}
		}
	}
	return ""
}

// remoteHost is the host of r.RemoteAddr: the client, or the proxy in front of the server.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
