// Package sentiment scores how a customer message feels: a label (negative, neutral, positive)
// and a score in [-1, 1], from a linear model over word and character n-grams blended with a
// lexicon that handles negation, intensifiers and emoji; Trend summarises a conversation.
package sentiment

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/nlu/internal/linear"
	"github.com/tandemhq/tandem/nlu/lang"
)

// Labels in class order.
var labels = []string{tandem.SentimentNegative, tandem.SentimentNeutral, tandem.SentimentPositive}

// Example is one labelled message.
type Example struct {
	Text  string
	Label string // negative, neutral or positive
}

// Options tune training.
type Options struct {
	Seed int64
	C    float64 // SVM regularisation (default 0.3)
}

// Model scores messages. The zero Model is not usable; use Train, Load or Default. A Model is safe
// for concurrent use.
type Model struct {
	vocab *linear.Vocab
	lin   *linear.Linear
	pool  sync.Pool
}

// ErrBadLabel is returned for training labels other than negative, neutral and positive.
var ErrBadLabel = errors.New("sentiment: label must be negative, neutral or positive")

// lexWeight scales the lexicon features appended to every vector, from which the model learns
// how much to trust the lexicon.
const lexWeight = 0.5

// Train fits a model; deterministic for a fixed seed. Classes are weighted inversely to their
// frequency (most complaints are negative), which serves macro-F1 better than per-class score
// offsets tuned on a held-out part of the examples: those overfit the small held-out part and
// cost about a point of macro-F1 on airline sentiment.
func Train(ctx context.Context, examples []Example, opts Options) (*Model, error) {
	if opts.C <= 0 {
		opts.C = 0.3
	}
	if len(examples) == 0 {
		return nil, errors.New("sentiment: no training examples")
	}
	for i, e := range examples {
		if !slices.Contains(labels, e.Label) {
			return nil, fmt.Errorf("example %d %q: %w", i, e.Label, ErrBadLabel)
		}
	}
	return fit(ctx, examples, opts)
}

func fit(ctx context.Context, examples []Example, opts Options) (*Model, error) {
	texts := make([]string, len(examples))
	ys := make([]int, len(examples))
	for i, e := range examples {
		texts[i], ys[i] = e.Text, slices.Index(labels, e.Label)
	}
	vocab := linear.BuildVocab(texts, linear.FeatureOptions{WordNgrams: 3}, 2)
	m := &Model{vocab: vocab}
	xs := make([]linear.Vec, len(texts))
	var sc linear.Scratch
	for i, t := range texts {
		xs[i] = m.vectorize(t, &sc).Clone()
	}
	lin, err := linear.Train(ctx, xs, ys, len(labels), vocab.Len()+lexiconFeatures, linear.TrainOptions{C: opts.C, Seed: opts.Seed, Balanced: true, NB: true})
	if err != nil {
		return nil, fmt.Errorf("train sentiment: %w", err)
	}
	lin.T = 2
	m.lin = lin
	return m, nil
}

// lexiconFeatures is how many lexicon features follow the n-grams in a vector.
const lexiconFeatures = 4

// vectorize appends the lexicon features after the n-grams: the positive and negative strength
// by Tandem's lexicon, then by VADER's.
func (m *Model) vectorize(text string, sc *linear.Scratch) linear.Vec {
	x := m.vocab.Vectorize(text, sc)
	toks := linear.Tokens(linear.Normalize(text))
	n := int32(m.vocab.Len())
	add := func(i int32, v float32) {
		if v > 0 {
			x.Idx, x.Val = append(x.Idx, n+i), append(x.Val, v)
		}
	}
	ls := float32(lexiconScore(text, toks))
	add(0, ls*lexWeight)
	add(1, -ls*lexWeight)
	pos, neg := vaderStrength(toks)
	add(2, pos*vaderWeight)
	add(3, neg*vaderWeight)
	return x
}

// Score rates one message. The learned model reads English; messages detected in another
// language are scored by the multilingual lexicon.
func (m *Model) Score(text string) tandem.Sentiment {
	if l := lang.Detect(text); l != "" && l != "en" {
		return LexiconSentiment(text)
	}
	sc, _ := m.pool.Get().(*linear.Scratch)
	if sc == nil {
		sc = &linear.Scratch{}
	}
	defer m.pool.Put(sc)
	x := m.vectorize(text, sc)
	var buf [3]float32
	s := m.lin.Scores(x, buf[:])
	best := 0
	for i := range s {
		if s[i] > s[best] {
			best = i
		}
	}
	p := linear.Softmax(s, m.lin.T)
	score := float64(p[2] - p[0])
	return tandem.Sentiment{Label: labels[best], Score: math.Round(score*1000) / 1000}
}

// Trend summarises a conversation's scores, oldest first, as a recent-weighted mean in [-1, 1]:
// each message weighs 1.5 times the one before it, so a turn for the worse shows quickly.
func Trend(scores []float64) float64 {
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

// snapshotVersion 2 added the VADER features.
const snapshotVersion = 2

type snapshot struct {
	Version int
	Opts    linear.FeatureOptions
	Hashes  []uint32
	IDF     []float32
	Lin     *linear.Linear
}

// Save writes the model in the format Load reads.
func (m *Model) Save(w io.Writer) error {
	s := snapshot{Version: snapshotVersion, Opts: m.vocab.Opts, Hashes: m.vocab.Hashes, IDF: m.vocab.IDF, Lin: m.lin}
	if err := gob.NewEncoder(w).Encode(&s); err != nil {
		return fmt.Errorf("save sentiment model: %w", err)
	}
	return nil
}

// Load reads a model written by Save.
func Load(r io.Reader) (*Model, error) {
	var s snapshot
	if err := gob.NewDecoder(r).Decode(&s); err != nil {
		return nil, fmt.Errorf("load sentiment model: %w", err)
	}
	if s.Version != snapshotVersion || s.Lin == nil || len(s.Lin.Q) != (len(s.Hashes)+lexiconFeatures)*len(labels) {
		return nil, errors.New("load sentiment model: unsupported or inconsistent model")
	}
	return &Model{vocab: linear.NewVocab(s.Opts, s.Hashes, s.IDF), lin: s.Lin}, nil
}

//go:embed model/airline.gob
var embedded []byte

var defaultModel = sync.OnceValues(func() (*Model, error) { return Load(bytes.NewReader(embedded)) })

// Default returns the embedded model trained on the Twitter US Airline Sentiment data
// (CC BY-NC-SA 4.0, non-commercial; see model/NOTICE). Train your own for commercial use.
func Default() (*Model, error) { return defaultModel() }

// Score rates one message with the embedded model, or with the lexicon alone if the embedded
// model cannot be loaded.
func Score(text string) tandem.Sentiment {
	if m, err := Default(); err == nil {
		return m.Score(text)
	}
	return LexiconSentiment(text)
}
