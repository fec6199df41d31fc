package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/bots/demo"
	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/storage/sqlite"
)

// localEngine is a bot engine built in process the way the server builds one: language
// models from the environment (offline without them), the bots' knowledge, and the demo
// bot's fake-shop actions on a loopback port with a fresh signing secret, over a SQLite
// store of its own. `tandem chat` and `tandem eval run` talk to it.
type localEngine struct {
	*bots.Engine
	reg      *bots.Registry
	cleanups []func()
}

// newLocalEngine opens the SQLite store at storePath (":memory:" for none on disk) and lets
// load put bots in the registry. Close releases everything.
func newLocalEngine(ctx context.Context, env Env, storePath string, notifier bots.Notifier, logger *slog.Logger,
	load func(*bots.Registry) error) (le *localEngine, err error) {
	le = &localEngine{}
	defer func() {
		if err != nil {
			le.Close()
		}
	}()
	store, err := sqlite.Open(ctx, storePath, sqlite.Config{Migrate: true, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	le.cleanups = append(le.cleanups, func() { store.Close() })

	secret := randomHex()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for demo actions: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(demo.PathPrefix, demo.ActionsHandler(secret))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	le.cleanups = append(le.cleanups, func() { srv.Close() })

	cfg, err := config.Load("", env.Getenv)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	model, perBot, err := app.Models(cfg, env.Getenv)
	if err != nil {
		return nil, fmt.Errorf("language models: %w", err)
	}
	kbOpts := []retrieval.Option{retrieval.WithLogger(logger)}
	if model != nil {
		kbOpts = append(kbOpts, retrieval.WithLLM(model))
	}
	kb := bots.KnowledgeBase{KB: retrieval.New(store, nil, kbOpts...)}
	le.reg = bots.NewRegistry(bots.RegistryConfig{Knowledge: kb, Logger: logger,
		ActionSecrets: map[string]string{"demo": secret}, Getenv: env.Getenv, LLM: perBot})
	if err := load(le.reg); err != nil {
		return nil, err
	}
	le.Engine = bots.New(store, le.reg, bots.WithKnowledge(kb), bots.WithBaseURL("http://"+ln.Addr().String()),
		bots.WithNotifier(notifier), bots.WithLogger(logger))
	return le, nil
}

// Close stops the actions server and closes the store.
func (le *localEngine) Close() {
	for i := len(le.cleanups) - 1; i >= 0; i-- {
		le.cleanups[i]()
	}
	le.cleanups = nil
}
