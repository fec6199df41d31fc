// Package app wires a Tandem server together: configuration, the store, the knowledge base,
// the bots and their engine, and the HTTP server. cmd/tandem only parses flags and calls it;
// end-to-end tests start the real application on 127.0.0.1:0 with a temporary store.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/tmc/langchaingo/llms"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/bots/demo"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/connectors/webchat"
	"github.com/tandemhq/tandem/events"
	eventsmemory "github.com/tandemhq/tandem/events/memory"
	eventspostgres "github.com/tandemhq/tandem/events/postgres"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/jobs"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/embed"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/postgres"
	"github.com/tandemhq/tandem/storage/sqlite"
	"github.com/tandemhq/tandem/web"
	"github.com/tandemhq/tandem/web/inbox"
	"github.com/tandemhq/tandem/web/kb"
)

// SQLiteFile is the embedded store's file name inside the data folder.
const SQLiteFile = "tandem.db"

// App is a running Tandem server.
type App struct {
	cfg      config.Config
	logger   *slog.Logger
	store    storage.Store
	kb       *retrieval.KnowledgeBase
	registry *bots.Registry
	engine   *bots.Engine
	// channels are the configured connectors; deliverer sends their replies.
	channels  map[channelKey]connectors.Connector
	deliverer *jobs.Deliverer
	// escalations escalates tickets that waited too long (supervision.go).
	escalations *jobs.Escalations
	desks       desks // the agents' desks in chat tools (desks.go)
	web         *web.Server
	srv         *http.Server
	// bus carries live conversation events (agent replies, status) to web chat sockets, on
	// this replica or, with PostgreSQL, all of them; chat serves those sockets.
	bus  eventBus
	chat *webchat.Handler
	// inbox is the agents' web inbox; Run closes its live event streams on shutdown.
	inbox *inbox.Handler
	ln    net.Listener
	// certs is the TLS certificate when the server speaks HTTPS itself (tls.go).
	certs *certFiles
	// retention deletes and redacts old data (retention.go).
	retention *jobs.Retention
	// mailer sends one-time codes to email addresses and staff set-password links; nil
	// when email is not configured (email.go).
	mailer Mailer
}

// New opens the store, loads the bots and builds the HTTP server; it does not listen yet.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger) (*App, error) {
	if logger == nil {
		logger = slog.Default()
	}
	start := time.Now()
	a := &App{cfg: cfg, logger: logger}
	if cfg.SessionSecret == "" && cfg.DatabaseURL != "" {
		logger.Warn("TANDEM_SESSION_SECRET is unset: signed links and one-time codes only verify on the replica that issued them")
	}
	var err error
	if cfg.TLSCertFile != "" {
		if a.certs, err = loadCertFiles(cfg.TLSCertFile, cfg.TLSKeyFile, logger); err != nil {
			return nil, err
		}
	}
	if a.store, err = OpenStore(ctx, cfg, logger); err != nil {
		return nil, err
	}
	if a.bus, err = openBus(ctx, cfg, logger); err != nil {
		a.store.Close()
		return nil, err
	}
	if err := a.build(ctx); err != nil {
		_ = a.bus.Close()
		a.store.Close()
		return nil, err
	}
	logger.Info("tandem ready", "store", storeKind(cfg), "bots", len(a.registry.List()), "startup_ms", time.Since(start).Milliseconds())
	return a, nil
}

func (a *App) build(ctx context.Context) error {
	cfg := a.cfg
	emb, embName, err := embed.NewProvider(embed.ProviderConfig{
		Provider: cfg.Embedder.Provider, BaseURL: cfg.Embedder.BaseURL, Model: cfg.Embedder.Model,
		APIKey: cfg.LLMAPIKey, Dimension: cfg.Embedder.Dimension,
	})
	if err != nil {
		return fmt.Errorf("embedder: %w", err)
	}
	kbOpts := []retrieval.Option{retrieval.WithLogger(a.logger), retrieval.WithEmbedderName(embName)}
	if cfg.AnswerCache != nil && !*cfg.AnswerCache {
		kbOpts = append(kbOpts, retrieval.WithAnswerCache(0, 0))
	} else if cfg.AnswerCacheTTL > 0 {
		kbOpts = append(kbOpts, retrieval.WithAnswerCache(retrieval.DefaultAnswerCacheSize, cfg.AnswerCacheTTL))
	}
	llm, perBot, err := Models(cfg, os.Getenv)
	if err != nil {
		return err
	}
	if llm != nil {
		kbOpts = append(kbOpts, retrieval.WithLLM(llm))
	}
	a.kb = retrieval.New(a.store, emb, kbOpts...)
	knowledge := bots.KnowledgeBase{KB: a.kb}

	a.registry = bots.NewRegistry(bots.RegistryConfig{Knowledge: knowledge, Logger: a.logger,
		LLM: perBot})
	if cfg.Demo {
		if _, err := a.registry.LoadFS(ctx, demo.FS, "bot"); err != nil {
			return fmt.Errorf("load demo bot: %w", err)
		}
	}
	if cfg.BotsDir != "" {
		if err := a.registry.LoadDir(ctx, cfg.BotsDir); err != nil {
			return err
		}
	}
	if err := errors.Join(a.buildChannels(), a.buildDesks()); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	if a.deliverer, err = a.newDeliverer(reg); err != nil {
		return err
	}
	if a.mailer, err = NewMailer(cfg.Email, a.logger); err != nil {
		return fmt.Errorf("email: %w", err)
	}
	codes := codeNotifier{connector: a.connector, email: a.mailer, botName: a.botName}
	if cfg.Demo {
		codes.fallback = devNotifier{a.logger}
	}
	var escalator *handoff.Escalator
	escalator, a.escalations = a.newEscalations(reg)
	a.retention = a.newRetention(reg)
	engineOpts := []bots.Option{bots.WithDeliveryNotify(a.deliverer.Wake), bots.WithNotifier(codes), bots.WithEscalator(escalator)}
	engineOpts = append(engineOpts, a.deskOptions()...)
	a.engine = bots.New(a.store, a.registry, append(engineOpts,
		bots.WithKnowledge(knowledge),
		bots.WithLogger(a.logger),
		bots.WithBaseURL(cfg.BaseURL),
		bots.WithLinkSecret([]byte(cfg.SessionSecret)),
	)...)

	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tandem_answer_cache_hits_total",
			Help: "Customer questions answered from the answer cache."},
			func() float64 { return float64(a.kb.AnswerCacheStats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tandem_answer_cache_misses_total",
			Help: "Customer questions that searched the knowledge base."},
			func() float64 { return float64(a.kb.AnswerCacheStats().Misses) }))
	a.web = web.NewServer(web.Config{
		MaxMessageBytes: cfg.MaxMessageBytes,
		Logger:          a.logger,
		Registerer:      reg,
		Gatherer:        reg,
		APIKeys:         cfg.APIKeys,
		EmbedOrigins:    cfg.WebChat.EmbedOrigins,
	}, web.Deps{
		Engine: a.engine, Conversations: a.store, Pinger: a.store, Feedback: a.store,
		Outbound: func(ctx context.Context, r web.OutboundRequest) (*tandem.Turn, error) {
			return a.engine.SendOutbound(ctx, bots.OutboundRequest(r))
		},
	})
	if cfg.Demo {
		a.web.Mount("/demo/api/", demo.ActionsHandler(cfg.ActionSecret))
		a.web.Mount("GET /demo/shop", web.DemoShopHandler(cfg.BaseURL, "demo"))
	}
	a.mountWebhooks()
	a.mountDesks()
	guard, err := a.newStaffGuard(ctx)
	if err != nil {
		return err
	}
	a.web.Mount("/kb/", guard.editor(kb.New(kb.Config{Logger: a.logger, DefaultCollection: defaultCollection(a.registry), RequireReview: a.registry.ReviewRule(cfg.Knowledge.RequireReview)},
		kb.Deps{KB: a.kb, Store: a.store, Voice: a.voice, Actor: staffActor, Admin: staffAdmin})))
	a.inbox = inbox.New(inbox.Config{Logger: a.logger, Secret: []byte(cfg.SessionSecret)},
		inbox.Deps{Store: a.store, KB: a.kb, Collections: a.collections, Events: a.bus, Desks: a.ticketWatchers(), Assistant: a.engine, SavedReplies: a.engine,
			Surveys: a.registry.Survey, ReopenTemplate: a.registry.ReopenTemplate, Queues: a.queues, Agent: guard.agent, SignOut: guard.signOut})
	a.web.Mount("/inbox/", guard.inbox(a.inbox))

	// The chat page (/) talks to the web chat socket.
	a.chat = webchat.New(webchat.Config{Secret: []byte(cfg.SessionSecret), MaxMessageBytes: cfg.MaxMessageBytes, Logger: a.logger,
		MessagesPerMinute: cfg.WebChat.MessagesPerMinute, MessageBurst: cfg.WebChat.MessageBurst,
		ConnectionsPerMinute: cfg.WebChat.ConnectionsPerMinute, ClientIP: web.ClientIPFunc(cfg.ClientIPHeader),
		ObserveFeedback: a.web.ObserveFeedback},
		webchat.Deps{Receiver: a.observed(), Store: a.store, Events: a.bus})
	a.web.Mount("GET "+webchat.Path, a.chat)
	return nil
}

// eventBus is an events.Bus the app closes.
type eventBus interface {
	events.Bus
	Close() error
}

// openBus returns the live events bus: LISTEN/NOTIFY on the store's database with
// PostgreSQL (replicas see each other's events), an in-process bus with SQLite.
func openBus(ctx context.Context, cfg config.Config, logger *slog.Logger) (eventBus, error) {
	if cfg.DatabaseURL == "" {
		return eventsmemory.New(eventsmemory.Config{}), nil
	}
	b, err := eventspostgres.New(ctx, eventspostgres.Config{URL: cfg.DatabaseURL, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("open events bus: %w", err)
	}
	return b, nil
}

// Handler is the HTTP handler of the app (for tests that use httptest).
func (a *App) Handler() http.Handler { return a.web }

// Engine is the app's dialogue engine.
func (a *App) Engine() *bots.Engine { return a.engine }

// Store is the app's store.
func (a *App) Store() storage.Store { return a.store }

// KnowledgeBase is the app's knowledge base.
func (a *App) KnowledgeBase() *retrieval.KnowledgeBase { return a.kb }

// Listen binds the configured address; Addr then reports it (useful with port 0).
func (a *App) Listen() error {
	if a.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	a.ln = ln
	return nil
}

// Addr is the bound listen address, or "" before Listen.
func (a *App) Addr() string {
	if a.ln == nil {
		return ""
	}
	return a.ln.Addr().String()
}

// Run serves HTTP until ctx is done, then shuts down gracefully.
func (a *App) Run(ctx context.Context) error {
	if err := a.Listen(); err != nil {
		return err
	}
	if a.cfg.BotsDir != "" {
		// Bot folders are watched: edits take effect without a restart or dropped conversations.
		go func() {
			if err := a.registry.Watch(ctx, a.cfg.BotsDir); err != nil && ctx.Err() == nil {
				a.logger.Error("watch bots folder", "err", err)
			}
		}()
	}
	bgCtx, stopBackground := context.WithCancel(ctx)
	waitBackground := a.runBackground(bgCtx)
	// Sends in progress finish (or time out) before Run returns and the store closes.
	defer func() { stopBackground(); waitBackground() }()
	a.srv = a.web.HTTPServer(a.cfg.Addr)
	scheme := "http://"
	serve := func() error { return a.srv.Serve(a.ln) }
	if a.certs != nil {
		a.srv.TLSConfig = a.certs.tlsConfig()
		scheme = "https://"
		serve = func() error { return a.srv.ServeTLS(a.ln, "", "") }
	}
	a.logger.Info("listening", "addr", a.Addr(), "url", scheme+a.Addr())
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Shutdown neither ends WebSocket connections nor event streams, and waits for the
	// streams; browsers reconnect.
	a.chat.Close()
	a.inbox.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := a.srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Close releases the events bus and the store. Call it after Run returns.
func (a *App) Close() error {
	a.chat.Close()
	a.inbox.Close()
	return errors.Join(a.bus.Close(), a.store.Close())
}

// OpenStore opens the configured store: PostgreSQL when DatabaseURL is set, otherwise the
// embedded SQLite file in DataDir (created when missing).
func OpenStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (storage.Store, error) {
	migrate := cfg.Migrate == nil || *cfg.Migrate
	if cfg.DatabaseURL != "" {
		return openPostgres(ctx, cfg.DatabaseURL, migrate, logger)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	s, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, SQLiteFile), sqlite.Config{Migrate: migrate, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	return s, nil
}

// Migrate applies pending migrations to the configured store.
func Migrate(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	t := true
	cfg.Migrate = &t
	s, err := OpenStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	return s.Close()
}

func storeKind(cfg config.Config) string {
	if cfg.DatabaseURL != "" {
		return "postgres"
	}
	return "sqlite"
}

func openPostgres(ctx context.Context, dsn string, migrate bool, logger *slog.Logger) (storage.Store, error) {
	s, err := postgres.Open(ctx, dsn, postgres.Config{Migrate: migrate, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return s, nil
}

// The engine is what channel connectors hand inbound messages to.
var _ connectors.Receiver = (*bots.Engine)(nil)

// defaultCollection is the knowledge collection the editor opens on: the first bot's.
// voice is the model and persona of the bot that answers from collection (the first one
// that lists it), for the knowledge editor's "try a question".
func (a *App) voice(collection string) (llms.Model, string) {
	for _, b := range a.registry.List() {
		if slices.Contains(b.Def.Knowledge.Collections, collection) {
			return b.LLM, b.Def.Persona
		}
	}
	return nil, ""
}

// collections are the knowledge collections of a bot, searched for the inbox's suggested
// articles.
func (a *App) collections(botID string) []string {
	if b, ok := a.registry.Get(botID); ok {
		return b.Def.Knowledge.Collections
	}
	return nil
}

// botName is the display name of a bot, or "" for none.
func (a *App) botName(id string) string {
	if b, ok := a.registry.Get(id); ok {
		return b.Def.Name
	}
	return ""
}

func defaultCollection(reg *bots.Registry) string {
	for _, b := range reg.List() {
		if len(b.Def.Knowledge.Collections) > 0 {
			return b.Def.Knowledge.Collections[0]
		}
	}
	return ""
}
