// Package web is Tandem's HTTP server: the REST channel for integrators (/api/v1/...), the
// minimal chat page at /, health (/healthz, /readyz) and Prometheus metrics (/metrics), behind
// one middleware chain (request id, access log, panic recovery, security headers, metrics).
//
// Each surface lives in its own file: api.go (REST channel), chat.go (chat page and its
// embedded static files), embed.go (the chat widget for other sites: /widget.js, /embed and
// their framing policy), health.go, metrics.go, middleware.go, error.go. Other surfaces (the
// web chat socket, the agent inbox, the knowledge editor) are built in other packages and
// attached with Server.Mount so they share the middleware and metrics.
//
// The server depends only on the small interfaces below, declared here at the consumer:
// the dialogue engine (bots.Engine) satisfies Engine, and storage.Store satisfies
// Conversations and Pinger.
package web

import (
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// Engine processes one inbound customer message and returns the bot's turn.
// Implementations must be safe for concurrent use. An unknown bot returns a *tandem.Error
// with code ENOTFOUND; bad input EINVALID; a provider retry either sets Turn.Duplicate or
// returns EDUPLICATE.
type Engine interface {
	HandleMessage(ctx context.Context, in tandem.Inbound) (*tandem.Turn, error)
}

// Conversations reads conversations and their transcripts. Implementations must be safe for
// concurrent use; a missing conversation returns a *tandem.Error with code ENOTFOUND.
type Conversations interface {
	FindConversationByID(ctx context.Context, id string) (*tandem.Conversation, error)
	ListMessages(ctx context.Context, conversationID string, f storage.MessageFilter) ([]tandem.Message, error)
}

// Pinger reports whether a dependency (the store) can serve requests; used by /readyz.
type Pinger interface {
	Ping(ctx context.Context) error
}

// The store satisfies the read side the server needs.
var (
	_ Conversations = storage.Store(nil)
	_ Pinger        = storage.Store(nil)
)

// Defaults of Config.
const (
	DefaultMaxMessageBytes = 4096
	DefaultBot             = "demo"
	DefaultReadyTimeout    = 2 * time.Second
)

// Config configures the server. The zero value plus WithDefaults is usable.
type Config struct {
	// MaxMessageBytes bounds the text of an inbound message, in bytes; longer text gets 413.
	// Default 4096.
	MaxMessageBytes int
	// MaxBodyBytes bounds a JSON request body (http.MaxBytesReader); larger bodies get 413.
	// Default 8*MaxMessageBytes+4096, room for the text fully JSON-escaped plus the other fields.
	MaxBodyBytes int64
	// DefaultBot is the bot the chat page talks to when the URL has no ?bot=. Default "demo".
	DefaultBot string
	// ReadyTimeout bounds the store ping of /readyz. Default 2s.
	ReadyTimeout time.Duration
	// Logger receives the access log and internal errors. Default slog.Default().
	Logger *slog.Logger
	// Registerer is where the server registers its tandem_* metrics and Gatherer what /metrics
	// serves. When both are nil, a new registry with the Go and process collectors is used for
	// both; when only Registerer is set and it is also a Gatherer (a *prometheus.Registry), it
	// serves as both.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// APIKeys are the keys that authorize the integrator-only routes (proactive messages), sent
	// as "Authorization: Bearer <key>"; several allow rotation. Each must be at least 16 bytes.
	// With none, those routes answer 403. Secrets: never log or print them.
	APIKeys []string
	// Now returns the current time (the received time of inbound messages). Default time.Now.
	Now func() time.Time
	// EmbedOrigins are the sites whose pages may show the chat widget, i.e. frame /embed
	// (scheme://host[:port] each, no path, no wildcard). The server's own origin always may;
	// no other page of the server may be framed.
	EmbedOrigins []string
}

// WithDefaults returns c with unset fields set to their documented defaults.
func (c Config) WithDefaults() Config {
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 8*int64(c.MaxMessageBytes) + 4096
	}
	if c.DefaultBot == "" {
		c.DefaultBot = DefaultBot
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = DefaultReadyTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Registerer == nil && c.Gatherer == nil {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		c.Registerer, c.Gatherer = reg, reg
	}
	if g, ok := c.Registerer.(prometheus.Gatherer); ok && c.Gatherer == nil {
		c.Gatherer = g
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// botNameRE is what a bot id in a URL may look like.
var botNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Validate reports the first invalid field as a *tandem.Error with code EINVALID.
// Call it on the result of WithDefaults.
func (c Config) Validate() error {
	switch {
	case c.MaxMessageBytes <= 0:
		return tandem.Errorf(tandem.EINVALID, "max message bytes must be positive, got %d", c.MaxMessageBytes)
	case c.MaxBodyBytes < int64(c.MaxMessageBytes):
		return tandem.Errorf(tandem.EINVALID, "max body bytes (%d) must be at least max message bytes (%d)", c.MaxBodyBytes, c.MaxMessageBytes)
	case !botNameRE.MatchString(c.DefaultBot):
		return tandem.Errorf(tandem.EINVALID, "default bot %q is not a valid bot id", c.DefaultBot)
	case c.ReadyTimeout <= 0:
		return tandem.Errorf(tandem.EINVALID, "ready timeout must be positive, got %s", c.ReadyTimeout)
	case c.Logger == nil:
		return tandem.Errorf(tandem.EINVALID, "logger is required")
	case c.Registerer == nil || c.Gatherer == nil:
		return tandem.Errorf(tandem.EINVALID, "a Prometheus registerer and gatherer are both required")
	case c.Now == nil:
		return tandem.Errorf(tandem.EINVALID, "now function is required")
	}
	for _, o := range c.EmbedOrigins {
		if err := CheckEmbedOrigin(o); err != nil {
			return err
		}
	}
	for i, k := range c.APIKeys {
		if len(k) < minAPIKeyBytes {
			return tandem.Errorf(tandem.EINVALID, "API key %d is shorter than %d bytes", i+1, minAPIKeyBytes)
		}
	}
	return nil
}

// Deps are the components the server calls.
type Deps struct {
	// Engine answers inbound messages (required).
	Engine Engine
	// Conversations serves transcripts (required).
	Conversations Conversations
	// Pinger is checked by /readyz; nil means always ready.
	Pinger Pinger
	// Outbound sends proactive messages (POST /api/v1/bots/{bot}/outbound, API key
	// required); nil leaves the route out.
	Outbound OutboundFunc
	// Feedback stores votes on the bot's answers (POST /api/v1/messages/{id}/feedback);
	// nil leaves the route out.
	Feedback Feedback
}

// Validate reports a missing required dependency as a *tandem.Error with code EINVALID.
func (d Deps) Validate() error {
	switch {
	case d.Engine == nil:
		return tandem.Errorf(tandem.EINVALID, "web: an engine is required")
	case d.Conversations == nil:
		return tandem.Errorf(tandem.EINVALID, "web: a conversation store is required")
	}
	return nil
}

// Server is Tandem's HTTP handler. It is safe for concurrent use; Mount may be called while
// it serves.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	mux     *http.ServeMux
	handler http.Handler
	metrics *metrics
	chat    *template.Template
	// embedCSP is the Content-Security-Policy of /embed (Config.EmbedOrigins).
	embedCSP string
}

// NewServer returns a server with all routes registered. cfg gets WithDefaults applied.
// It panics when cfg or deps are invalid (a wiring mistake); callers that take configuration
// from users call cfg.WithDefaults().Validate() and deps.Validate() first.
func NewServer(cfg Config, deps Deps) *Server {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("web.NewServer: %v", err))
	}
	if err := deps.Validate(); err != nil {
		panic(fmt.Sprintf("web.NewServer: %v", err))
	}
	s := &Server{
		cfg:      cfg,
		deps:     deps,
		log:      cfg.Logger,
		mux:      http.NewServeMux(),
		metrics:  newMetrics(cfg.Registerer),
		chat:     chatTemplate,
		embedCSP: embedPolicy(cfg.EmbedOrigins),
	}
	s.routes()
	// Outermost first: the request id is in the context of everything below; the access log
	// and metrics see the status of recovered panics; the mux sets r.Pattern on the very
	// request the metrics middleware holds, so requests are labelled by route pattern.
	s.handler = s.requestID(s.observe(s.recoverPanic(securityHeaders(s.mux))))
	return s
}

// routes registers every route of the server.
func (s *Server) routes() {
	s.mux.HandleFunc("POST /api/v1/bots/{bot}/messages", s.integratorsOnly(s.handlePostMessage))
	s.mux.HandleFunc("GET /api/v1/conversations/{id}", s.integratorsOnly(s.handleGetConversation))
	if s.deps.Outbound != nil {
		s.mux.HandleFunc("POST /api/v1/bots/{bot}/outbound", s.handleOutbound)
		s.mux.Handle("/api/v1/bots/{bot}/outbound", methodNotAllowed(http.MethodPost))
	}
	if s.deps.Feedback != nil {
		s.mux.HandleFunc("POST /api/v1/messages/{id}/feedback", s.integratorsOnly(s.handleFeedback))
		s.mux.Handle("/api/v1/messages/{id}/feedback", methodNotAllowed(http.MethodPost))
	}
	// API clients get JSON errors for wrong methods and unknown paths too. A method-less
	// pattern is less specific than the same path with a method, so it only sees the rest.
	s.mux.Handle("/api/v1/bots/{bot}/messages", methodNotAllowed(http.MethodPost))
	s.mux.Handle("/api/v1/conversations/{id}", methodNotAllowed(http.MethodGet, http.MethodHead))
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeErrorJSON(w, http.StatusNotFound, tandem.ENOTFOUND, "no API endpoint "+r.URL.Path)
	})

	s.mux.HandleFunc("GET /{$}", s.handleChatPage)
	s.mux.HandleFunc("GET /embed", s.handleEmbed)
	s.mux.HandleFunc("GET /widget.js", s.handleWidget)
	s.mux.Handle("GET /static/", staticHandler())

	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)
	s.mux.Handle("GET /metrics", s.metricsHandler())
}

// Mount routes pattern (Go 1.22 ServeMux syntax, e.g. "/demo/api/" or "GET /inbox/{id}") to h
// behind the server's middleware. It panics, like http.ServeMux.Handle, when pattern is
// invalid or conflicts with a registered one.
func (s *Server) Mount(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// HTTPServer returns an *http.Server that serves s on addr, with limits against slow or
// abusive clients: headers must arrive within 10s, idle keep-alive connections close after
// 2 minutes, headers are at most 64 KiB. There is deliberately no read or write timeout for
// whole requests, so long-lived responses (server-sent events, WebSocket upgrades) work;
// request bodies are bounded by MaxBodyBytes and handlers bound their work with the request
// context. The server's own errors go to Config.Logger at warn level.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}
