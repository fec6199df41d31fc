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

func sqrtf(x float64) float64 { return math.Sqrt(x) }

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

// lexiconFeature is the hash slot used for the lexicon score feature; it is appended to every
// vector so the model learns how much to trust the lexicon.
const lexWeight = 0.5

// Train fits a model; deterministic for a fixed seed. A stratified fifth of the examples is
// first held out to tune per-class score offsets for macro-F1 (labels are usually imbalanced:
// most complaints are negative), then the model is refitted on everything.
func Train(ctx context.Context, examples []Example, opts Options) (*Model, error) {
	if opts.C <= 0 {
		opts.C = 0.3
	}
	if len(examples) == 0 {
		return nil, errors.New("sentiment: no training examples")
	}
	ys := make([]int, len(examples))
	for i, e := range examples {
		y := slices.Index(labels, e.Label)
		if y < 0 {
			return nil, fmt.Errorf("example %d %q: %w", i, e.Label, ErrBadLabel)
		}
		ys[i] = y
	}
	var offsets [3]float32
	if len(examples) >= 100 {
		var tr, ho []Example
		var hoY []int
		for i, e := range examples {
			// Every fifth example of each label, deterministic.
			if heldOut(i, opts.Seed) {
				ho, hoY = append(ho, e), append(hoY, ys[i])
			} else {
				tr = append(tr, e)
			}
		}
		m, err := fit(ctx, tr, opts)
		if err != nil {
			return nil, err
		}
		offsets = m.tuneOffsets(ho, hoY)
	}
	m, err := fit(ctx, examples, opts)
	if err != nil {
		return nil, err
	}
	for c := range offsets {
		m.lin.B[c] += offsets[c]
	}
	return m, nil
}

func heldOut(i int, seed int64) bool {
	h := uint64(i)*0x9e3779b97f4a7c15 + uint64(seed)*0xbf58476d1ce4e5b9
	h ^= h >> 31
	h *= 0x94d049bb133111eb
	h ^= h >> 29
	return h%5 == 0
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
	lin, err := linear.Train(ctx, xs, ys, len(labels), vocab.Len()+2, linear.TrainOptions{C: opts.C, Seed: opts.Seed, Balanced: true, NB: true})
	if err != nil {
		return nil, fmt.Errorf("train sentiment: %w", err)
	}
	lin.T = 2
	m.lin = lin
	return m, nil
}

// tuneOffsets searches score offsets for neutral and positive (negative stays 0) that maximise
// macro-F1 on held-out examples.
func (m *Model) tuneOffsets(ho []Example, ys []int) [3]float32 {
	scores := make([][3]float32, len(ho))
	var sc linear.Scratch
	for i, e := range ho {
		m.lin.Scores(m.vectorize(e.Text, &sc), scores[i][:])
	}
	best, bestF1 := [3]float32{}, -1.0
	for a := float32(-0.5); a <= 0.5001; a += 0.05 {
		for b := float32(-0.5); b <= 0.5001; b += 0.05 {
			off := [3]float32{0, a, b}
			var tp, fp, fn [3]int
			for i, s := range scores {
				p := 0
				for c := 1; c < 3; c++ {
					if s[c]+off[c] > s[p]+off[p] {
						p = c
					}
				}
				if p == ys[i] {
					tp[p]++
				} else {
					fp[p]++
					fn[ys[i]]++
				}
			}
			var f1 float64
			for c := range 3 {
				if d := 2*tp[c] + fp[c] + fn[c]; d > 0 {
					f1 += float64(2*tp[c]) / float64(d)
				}
			}
			// Prefer small offsets on ties so the tuning does not chase noise.
			f1 -= 1e-4 * float64(abs32(a)+abs32(b))
			if f1 > bestF1 {
				best, bestF1 = off, f1
			}
		}
	}
	return best
}

func abs32(x float32) float32 { return max(x, -x) }

// vectorize appends the two lexicon features (positive and negative strength) after the n-grams.
func (m *Model) vectorize(text string, sc *linear.Scratch) linear.Vec {
	x := m.vocab.Vectorize(text, sc)
	ls := LexiconScore(text)
	n := int32(m.vocab.Len())
	if ls > 0 {
		x.Idx, x.Val = append(x.Idx, n), append(x.Val, float32(ls*lexWeight))
	} else if ls < 0 {
		x.Idx, x.Val = append(x.Idx, n+1), append(x.Val, float32(-ls*lexWeight))
	}
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

type snapshot struct {
	Version int
	Opts    linear.FeatureOptions
	Hashes  []uint32
	IDF     []float32
	Lin     *linear.Linear
}

// Save writes the model in the format Load reads.
func (m *Model) Save(w io.Writer) error {
	s := snapshot{Version: 1, Opts: m.vocab.Opts, Hashes: m.vocab.Hashes, IDF: m.vocab.IDF, Lin: m.lin}
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
	if s.Version != 1 || s.Lin == nil || len(s.Lin.Q) != (len(s.Hashes)+2)*len(labels) {
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
