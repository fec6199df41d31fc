// Package nlu understands customer messages offline: language, intent (with out-of-scope
// detection), entities, sentiment and personal data, gathered into tandem.Annotations.
//
// The pieces live in subpackages usable on their own: intent (the classifier), entity, sentiment,
// lang and pii. A Model ties them together for one bot.
package nlu

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/nlu/entity"
	"github.com/tandemhq/tandem/nlu/intent"
	"github.com/tandemhq/tandem/nlu/lang"
	"github.com/tandemhq/tandem/nlu/pii"
	"github.com/tandemhq/tandem/nlu/sentiment"
)

// Example is one training utterance of a bot's intent. Examples labelled "oos"
// (tandem.IntentOutOfScope) teach what the bot cannot help with.
type Example struct{ Text, Intent string }

// EntityList is a bot-defined entity: canonical value -> synonyms.
type EntityList struct {
	Name   string
	Values map[string][]string
}

// Config configures a Model. Seed makes training deterministic.
type Config struct {
	Seed     int64
	Patterns map[string]string // bot-defined entity name -> regexp (e.g. order_number: `\bA\d{6}\b`)
	Lists    []EntityList
	Region   string           // default phone region, e.g. "US" (default "US")
	Now      func() time.Time // for relative dates; nil = time.Now

	// Fallback, when set, decides between the top intents when the offline classifier is unsure
	// (confidence margin between the two best below FallbackMargin), e.g. an llm.Classifier.
	// Its errors are ignored: the offline answer stands.
	Fallback IntentChooser
	// FallbackMargin is the margin under which Fallback is asked (default 0.15).
	FallbackMargin float64
}

// IntentChooser picks one of candidates for text, or tandem.IntentOutOfScope.
type IntentChooser interface {
	Choose(ctx context.Context, text string, candidates []string) (string, error)
}

// TopIntents is how many candidates Analyze returns in Annotations.Intents.
const TopIntents = 3

// Model is a bot's trained NLU. It is safe for concurrent use.
type Model struct {
	clf       *intent.Classifier // nil when the bot has no intents
	extractor *entity.Extractor
	sent      *sentiment.Model // nil: lexicon only
	region    string
	fallback  IntentChooser
	margin    float64
}

// Train fits the intent classifier on examples (none is fine: every message is then out of
// scope) and prepares entity extraction and sentiment.
func Train(ctx context.Context, examples []Example, cfg Config) (*Model, error) {
	m, err := newModel(cfg)
	if err != nil {
		return nil, err
	}
	if len(examples) > 0 {
		ex := make([]intent.Example, len(examples))
		for i, e := range examples {
			ex[i] = intent.Example{Text: e.Text, Intent: e.Intent}
		}
		if m.clf, err = intent.Train(ctx, ex, intent.Options{Seed: cfg.Seed}); err != nil {
			return nil, fmt.Errorf("train nlu: %w", err)
		}
	}
	return m, nil
}

func newModel(cfg Config) (*Model, error) {
	lists := make([]entity.List, len(cfg.Lists))
	for i, l := range cfg.Lists {
		lists[i] = entity.List{Name: l.Name, Values: l.Values}
	}
	if cfg.Region == "" {
		cfg.Region = "US"
	}
	ex, err := entity.New(entity.Config{Patterns: cfg.Patterns, Lists: lists, Region: cfg.Region, Now: cfg.Now})
	if err != nil {
		return nil, fmt.Errorf("nlu entities: %w", err)
	}
	if cfg.FallbackMargin <= 0 {
		cfg.FallbackMargin = 0.15
	}
	m := &Model{extractor: ex, region: cfg.Region, fallback: cfg.Fallback, margin: cfg.FallbackMargin}
	// The embedded sentiment model is optional: without it the lexicon scores messages.
	if s, err := sentiment.Default(); err == nil {
		m.sent = s
	}
	return m, nil
}

// Analyze annotates one customer message. It never fails: a message the bot cannot place gets
// the out-of-scope intent.
func (m *Model) Analyze(ctx context.Context, text string) tandem.Annotations {
	a := tandem.Annotations{Language: lang.Detect(text)}
	a.Intent = tandem.IntentScore{Name: tandem.IntentOutOfScope, Confidence: 1}
	if m.clf != nil {
		p := m.clf.Predict(text, TopIntents)
		a.Intent = tandem.IntentScore{Name: p.Intent, Confidence: round3(p.Confidence)}
		for _, s := range p.Top {
			a.Intents = append(a.Intents, tandem.IntentScore{Name: s.Name, Confidence: round3(s.Confidence)})
		}
		m.askFallback(ctx, text, &a)
	}
	a.Entities = m.extractor.Extract(text)
	if m.sent != nil {
		a.Sentiment = m.sent.Score(text)
	} else {
		a.Sentiment = sentiment.LexiconSentiment(text)
	}
	for _, f := range pii.Find(text, m.region) {
		if !contains(a.PII, f.Kind) {
			a.PII = append(a.PII, f.Kind)
		}
	}
	return a
}

// askFallback lets the fallback chooser decide low-margin cases among the top candidates.
func (m *Model) askFallback(ctx context.Context, text string, a *tandem.Annotations) {
	if m.fallback == nil || len(a.Intents) == 0 {
		return
	}
	margin := a.Intents[0].Confidence
	if len(a.Intents) > 1 {
		margin -= a.Intents[1].Confidence
	}
	if margin >= m.margin {
		return
	}
	names := make([]string, len(a.Intents))
	for i, s := range a.Intents {
		names[i] = s.Name
	}
	choice, err := m.fallback.Choose(ctx, text, names)
	if err != nil {
		return
	}
	if choice == tandem.IntentOutOfScope {
		a.Intent = tandem.IntentScore{Name: tandem.IntentOutOfScope, Confidence: round3(1 - a.Intents[0].Confidence)}
		return
	}
	for _, s := range a.Intents {
		if s.Name == choice {
			// The chooser's pick keeps the classifier's confidence in it.
			a.Intent = s
			return
		}
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// Intents lists the bot's in-scope intents.
func (m *Model) Intents() []string {
	if m.clf == nil {
		return nil
	}
	return m.clf.Intents()
}

// magic starts a saved model so Load can reject other files early.
const magic = "tandem-nlu/1\n"

// Save writes the trained intent classifier; entity and sentiment settings come from the Config
// given to Load.
func (m *Model) Save(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if _, err := io.WriteString(bw, magic); err != nil {
		return fmt.Errorf("save nlu model: %w", err)
	}
	has := byte(0)
	if m.clf != nil {
		has = 1
	}
	if err := bw.WriteByte(has); err != nil {
		return fmt.Errorf("save nlu model: %w", err)
	}
	if m.clf != nil {
		if err := m.clf.Save(bw); err != nil {
			return fmt.Errorf("save nlu model: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("save nlu model: %w", err)
	}
	return nil
}

// ErrBadModel is returned by Load for data that is not a saved model.
var ErrBadModel = errors.New("nlu: not a saved model")

// Load reads a model written by Save, with entity settings from cfg.
func Load(r io.Reader, cfg Config) (*Model, error) {
	br := bufio.NewReader(r)
	head := make([]byte, len(magic)+1)
	if _, err := io.ReadFull(br, head); err != nil || string(head[:len(magic)]) != magic {
		return nil, ErrBadModel
	}
	m, err := newModel(cfg)
	if err != nil {
		return nil, err
	}
	if head[len(magic)] == 1 {
		if m.clf, err = intent.Load(br); err != nil {
			return nil, fmt.Errorf("load nlu model: %w", err)
		}
	}
	return m, nil
}
