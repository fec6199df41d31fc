package bots

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/tmc/langchaingo/llms"

	"github.com/tandemhq/tandem"
)

// Analyzer annotates customer messages. Implementations are safe for concurrent use and
// never fail: a message they cannot place gets the out-of-scope intent.
type Analyzer interface {
	Analyze(ctx context.Context, text string) tandem.Annotations
}

// NLUBuilder trains a bot's analyzer from its definition; it runs once per (re)load. model is
// the bot's language model (nil when offline), which may decide intents the offline
// classifier is unsure of.
type NLUBuilder func(ctx context.Context, def *Definition, model llms.Model) (Analyzer, error)

// LLMFunc returns the language model for a bot's llm: settings; nil cfg asks for the server's
// default. A nil model means the bot works offline.
type LLMFunc func(cfg *LLMConfig) (llms.Model, error)

// Ingester loads a bot's knowledge folder into a collection; re-ingesting unchanged
// documents is cheap (the store skips equal content hashes).
type Ingester interface {
	// glossary holds groups of equivalent terms applied to the collection's queries.
	IngestKnowledge(ctx context.Context, collection string, fsys fs.FS, glossary [][]string) error
}

// Bot is a loaded bot ready to answer: its definition, trained NLU and language model. A Bot
// is immutable; reloading replaces it in the Registry while turns in progress finish with the
// old one.
type Bot struct {
	Def *Definition
	NLU Analyzer
	// LLM writes the bot's knowledge answers in its persona's voice (nil: extractive answers).
	LLM    llms.Model
	secret string
}

// Registry holds the bots a server hosts, by id. It is safe for concurrent use; Get is a
// read-locked map lookup.
type Registry struct {
	cfg RegistryConfig

	mu      sync.RWMutex
	bots    map[string]*Bot
	sources map[string]source // bot id -> where it was loaded from, for Reload
}

type source struct {
	fsys fs.FS
	dir  string
}

// RegistryConfig wires what loading a bot needs.
type RegistryConfig struct {
	// NLU trains each bot's analyzer (nil uses OfflineNLU).
	NLU NLUBuilder
	// LLM builds each bot's language model from its llm: settings, once per (re)load (nil
	// leaves every bot offline).
	LLM LLMFunc
	// Knowledge ingests each bot's knowledge/ folder into its first collection (nil skips).
	Knowledge Ingester
	// ActionSecrets sets a bot's action signing secret by bot id, taking precedence over
	// the environment.
	ActionSecrets map[string]string
	// Getenv reads action secrets: TANDEM_ACTION_SECRET_<ID> (or the bot's
	// actions.secret_env), else the server-wide TANDEM_ACTION_SECRET (nil uses os.Getenv).
	Getenv func(string) string
	Logger *slog.Logger
}

// NewRegistry returns an empty registry.
func NewRegistry(cfg RegistryConfig) *Registry {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.NLU == nil {
		cfg.NLU = OfflineNLU
	}
	return &Registry{cfg: cfg, bots: map[string]*Bot{}, sources: map[string]source{}}
}

// Get returns the bot with id.
func (r *Registry) Get(id string) (*Bot, bool) {
	r.mu.RLock()
	b, ok := r.bots[id]
	r.mu.RUnlock()
	return b, ok
}

// List returns the bots sorted by id.
func (r *Registry) List() []*Bot {
	r.mu.RLock()
	out := make([]*Bot, 0, len(r.bots))
	for _, b := range r.bots {
		out = append(out, b)
	}
	r.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Bot) int { return strings.Compare(a.Def.ID, b.Def.ID) })
	return out
}

// Compile trains a definition's NLU and ingests its knowledge without registering it.
func (r *Registry) Compile(ctx context.Context, def *Definition) (*Bot, error) {
	var model llms.Model
	if r.cfg.LLM != nil {
		m, err := r.cfg.LLM(def.LLM)
		if err != nil {
			return nil, fmt.Errorf("bot %s: llm: %w", def.ID, err)
		}
		model = m
	}
	an, err := r.cfg.NLU(ctx, def, model)
	if err != nil {
		return nil, fmt.Errorf("bot %s: train nlu: %w", def.ID, err)
	}
	if r.cfg.Knowledge != nil && def.KnowledgeFS != nil && len(def.Knowledge.Collections) > 0 {
		if err := r.cfg.Knowledge.IngestKnowledge(ctx, def.Knowledge.Collections[0], def.KnowledgeFS, def.Glossary); err != nil {
			return nil, fmt.Errorf("bot %s: ingest knowledge: %w", def.ID, err)
		}
	}
	env := def.Actions.SecretEnv
	if env == "" {
		env = "TANDEM_ACTION_SECRET_" + strings.ToUpper(strings.ReplaceAll(def.ID, "-", "_"))
	}
	secret, ok := r.cfg.ActionSecrets[def.ID]
	if !ok {
		secret = r.cfg.Getenv(env)
	}
	if !ok && secret == "" {
		secret = r.cfg.Getenv("TANDEM_ACTION_SECRET") // the server-wide secret
	}
	return &Bot{Def: def, NLU: an, LLM: model, secret: secret}, nil
}

// Add compiles def and registers it, replacing a bot with the same id. Conversations are
// unaffected: their state lives in the store.
func (r *Registry) Add(ctx context.Context, def *Definition) (*Bot, error) {
	b, err := r.Compile(ctx, def)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.bots[def.ID] = b
	r.mu.Unlock()
	return b, nil
}

// LoadFS loads, compiles and registers the bot folder dir of fsys.
func (r *Registry) LoadFS(ctx context.Context, fsys fs.FS, dir string) (*Bot, error) {
	def, err := Load(fsys, dir)
	if err != nil {
		return nil, err
	}
	b, err := r.Add(ctx, def)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.sources[def.ID] = source{fsys: fsys, dir: dir}
	r.mu.Unlock()
	r.cfg.Logger.Info("bot loaded", "bot_id", def.ID, "intents", len(def.Intents), "flows", len(def.Flows), "llm", b.LLM != nil)
	return b, nil
}

// LoadDir loads every sub-folder of root that holds a bot.yaml. Folders that fail are
// reported together; the others are loaded.
func (r *Registry) LoadDir(ctx context.Context, root string) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("load bots: %w", err)
	}
	fsys := os.DirFS(root)
	var errs []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := fs.Stat(fsys, path.Join(e.Name(), "bot.yaml")); err != nil {
			continue
		}
		if _, err := r.LoadFS(ctx, fsys, e.Name()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Reload re-reads every bot from where it was loaded. A bot whose folder no longer
// validates keeps running its previous definition; the errors are returned together.
func (r *Registry) Reload(ctx context.Context) error {
	r.mu.RLock()
	srcs := make([]source, 0, len(r.sources))
	for _, s := range r.sources {
		srcs = append(srcs, s)
	}
	r.mu.RUnlock()
	var errs []error
	for _, s := range srcs {
		if _, err := r.LoadFS(ctx, s.fsys, s.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Watch reloads bots under root whenever a file changes (debounced), until ctx is done.
// A bot folder that fails validation is logged and keeps its previous definition.
func (r *Registry) Watch(ctx context.Context, root string) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch bots: %w", err)
	}
	defer w.Close()
	add := func() {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = w.Add(p)
			}
			return nil
		})
	}
	add()
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Create) {
				add()
			}
			timer = time.After(250 * time.Millisecond)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			r.cfg.Logger.Warn("watch bots", "error", err)
		case <-timer:
			timer = nil
			if err := r.LoadDir(ctx, root); err != nil {
				r.cfg.Logger.Error("reload bots", "error", err)
			}
		}
	}
}
