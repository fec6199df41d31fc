// Package embed holds Tandem's offline embedder: feature hashing over word and character
// n-grams with sublinear term frequency and an inverse document frequency learned from the
// collection. It needs no model download, works for any script (character n-grams make it
// sound for Japanese without a tokenizer) and implements langchaingo's embeddings.Embedder.
package embed

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"unicode"

	"github.com/tmc/langchaingo/embeddings"
	"golang.org/x/text/unicode/norm"
)

// MaxDimension is the largest dimension pgvector's HNSW index accepts.
const MaxDimension = 2000

// Config configures the hashing embedder. The zero value of each field means its default.
type Config struct {
	// Dimension of the vectors. Default 1024; at most MaxDimension.
	Dimension int
	// CharMin and CharMax bound the character n-grams taken inside each word (padded with
	// spaces). Defaults 3 and 5.
	CharMin, CharMax int
	// WordWeight and CharWeight weight the word (unigram+bigram) and character n-gram
	// parts of the vector, each normalised first. Defaults 1 and 1.
	WordWeight, CharWeight float64
	// BigramWeight scales word bigrams against unigrams. Default 0.5.
	BigramWeight float64
	// TitleWeight, when positive, treats a text's first line as its title: the title and the
	// rest are embedded apart, normalised, and added with the title weighing TitleWeight
	// against 1. Passages are embedded as "title\nbody", so a question that rephrases an
	// article's title finds it even when the body is long. Default 0 (off).
	TitleWeight float64
	// MinIDF drops features whose inverse document frequency is below it (features present
	// in most documents). Default 0 (keep all).
	MinIDF float64
	// IDFPower sharpens (>1) or flattens (<1) inverse document frequencies. Default 1.
	IDFPower float64
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Dimension == 0 {
		c.Dimension = 1024
	}
	if c.CharMin == 0 {
		c.CharMin = 3
	}
	if c.CharMax == 0 {
		c.CharMax = 5
	}
	if c.WordWeight == 0 {
		c.WordWeight = 1
	}
	if c.CharWeight == 0 {
		c.CharWeight = 1
	}
	if c.BigramWeight == 0 {
		c.BigramWeight = 0.5
	}
	return c
}

// Validate reports a configuration the embedder cannot use.
func (c Config) Validate() error {
	switch {
	case c.Dimension < 16 || c.Dimension > MaxDimension:
		return fmt.Errorf("embed: dimension %d outside 16..%d", c.Dimension, MaxDimension)
	case c.CharMin < 1 || c.CharMax < c.CharMin || c.CharMax > 8:
		return fmt.Errorf("embed: character n-grams %d..%d invalid", c.CharMin, c.CharMax)
	case c.WordWeight < 0 || c.CharWeight < 0 || c.BigramWeight < 0:
		return fmt.Errorf("embed: weights must not be negative")
	}
	return nil
}

// Name identifies the embedder and its parameters; it is recorded on the collection so a
// change of embedder is detected.
func (c Config) Name() string {
	return fmt.Sprintf("hashing-v1:d=%d,c=%d-%d,w=%g/%g,b=%g,t=%g", c.Dimension, c.CharMin, c.CharMax,
		c.WordWeight, c.CharWeight, c.BigramWeight, c.TitleWeight)
}

// Hashing is the offline embedder. It is safe for concurrent use; its statistics are
// read-only once built (Fit returns a new embedder).
type Hashing struct {
	cfg   Config
	stats *Stats
	// idfs[df] is the weight of a feature with document frequency df, precomputed for the
	// common frequencies (a logarithm and a power per feature were a third of embedding).
	// It is valid while stats.Docs == idfDocs.
	idfs    []float64
	idfDocs int
}

// maxIDFTable bounds the precomputed weights (512 KiB); rarer frequencies are computed.
const maxIDFTable = 1 << 16

func newHashing(cfg Config, stats *Stats) *Hashing {
	h := &Hashing{cfg: cfg, stats: stats}
	if stats != nil && stats.Docs > 0 {
		h.idfDocs = stats.Docs
		h.idfs = make([]float64, min(stats.Docs, maxIDFTable)+1)
		for df := range h.idfs {
			h.idfs[df] = h.idfOf(uint32(df))
		}
	}
	return h
}

var _ embeddings.Embedder = (*Hashing)(nil)

// New returns a hashing embedder with the given configuration and statistics (nil
// statistics means plain sublinear term frequency, every feature weighing the same).
func New(cfg Config, stats *Stats) (*Hashing, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newHashing(cfg, stats), nil
}

// Config returns the embedder's configuration.
func (h *Hashing) Config() Config { return h.cfg }

// Name returns the configuration's name.
func (h *Hashing) Name() string { return h.cfg.Name() }

// Stats returns the document-frequency statistics the embedder weighs features with.
func (h *Hashing) Stats() *Stats { return h.stats }

// WithStats returns a copy of h that weighs features with stats.
func (h *Hashing) WithStats(stats *Stats) *Hashing { return newHashing(h.cfg, stats) }

// EmbedDocuments returns one vector per text.
func (h *Hashing) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out[i] = h.Embed(t)
	}
	return out, nil
}

// EmbedQuery returns the vector of one text.
func (h *Hashing) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return h.Embed(text), nil
}

// featureSet is a reusable bag of hashed features with counts.
type featureSet struct {
	wordsOnly bool // skip character n-grams (lexical scoring)
	words     map[uint64]float64
	chars     map[uint64]float64
	buf       []rune
	weighted  []weightedFeature // scratch of accumulate
}

type weightedFeature struct {
	f uint64
	w float64
}

var featurePool = sync.Pool{New: func() any {
	return &featureSet{words: make(map[uint64]float64, 256), chars: make(map[uint64]float64, 1024)}
}}

// Embed returns the L2-normalised vector of text (all zeros for text without features).
func (h *Hashing) Embed(text string) []float32 {
	vec := make([]float64, h.cfg.Dimension)
	title, body, ok := strings.Cut(text, "\n")
	if h.cfg.TitleWeight > 0 && ok && strings.TrimSpace(body) != "" {
		h.embedPart(vec, title, h.cfg.TitleWeight)
		h.embedPart(vec, body, 1)
	} else {
		h.embedPart(vec, text, 1)
	}
	var n float64
	for _, v := range vec {
		n += v * v
	}
	out := make([]float32, len(vec))
	if n == 0 {
		return out
	}
	n = 1 / math.Sqrt(n)
	for i, v := range vec {
		out[i] = float32(v * n)
	}
	return out
}

// embedPart adds the normalised vector of text, times weight, into vec.
func (h *Hashing) embedPart(vec []float64, text string, weight float64) {
	fs := featurePool.Get().(*featureSet)
	defer featurePool.Put(fs)
	clear(fs.words)
	clear(fs.chars)
	h.features(text, fs)
	part := make([]float64, len(vec))
	h.accumulate(part, fs.words, h.cfg.WordWeight, &fs.weighted)
	h.accumulate(part, fs.chars, h.cfg.CharWeight, &fs.weighted)
	var n float64
	for _, v := range part {
		n += v * v
	}
	if n == 0 {
		return
	}
	n = weight / math.Sqrt(n)
	for i, v := range part {
		vec[i] += v * n
	}
}

// accumulate adds one normalised group of features, weighted, into vec. scratch is reused
// between calls.
func (h *Hashing) accumulate(vec []float64, feats map[uint64]float64, weight float64, scratch *[]weightedFeature) {
	if len(feats) == 0 || weight == 0 {
		return
	}
	ws := (*scratch)[:0]
	var norm2 float64
	for f, tf := range feats {
		if tf > 1 {
			tf = 1 + math.Log(tf)
		}
		idf := h.idf(f)
		if idf < h.cfg.MinIDF {
			// Features in most documents only add collision noise.
			continue
		}
		w := tf * idf
		ws = append(ws, weightedFeature{f, w})
		norm2 += w * w
	}
	*scratch = ws
	if norm2 == 0 {
		return
	}
	scale := weight / math.Sqrt(norm2)
	d := uint64(len(vec))
	for _, fw := range ws {
		// The low bits pick the bucket, the top bit the sign, so collisions cancel out
		// on average instead of piling up.
		i := (fw.f >> 1) % d
		if fw.f&1 == 1 {
			vec[i] -= fw.w * scale
		} else {
			vec[i] += fw.w * scale
		}
	}
}

func (h *Hashing) idf(f uint64) float64 {
	if h.stats == nil || h.stats.Docs == 0 {
		return 1
	}
	df := h.stats.DF[statsKey(f)]
	if int(df) < len(h.idfs) && h.stats.Docs == h.idfDocs {
		return h.idfs[df]
	}
	return h.idfOf(df)
}

// idfOf is the weight of a feature with document frequency df.
func (h *Hashing) idfOf(df uint32) float64 {
	w := h.stats.idfOf(df)
	if p := h.cfg.IDFPower; p != 0 && p != 1 {
		w = math.Pow(w, p)
	}
	return w
}

// Features calls fn with every distinct feature hash of text (for document frequencies).
func (h *Hashing) Features(text string, fn func(f uint64)) {
	fs := featurePool.Get().(*featureSet)
	defer featurePool.Put(fs)
	clear(fs.words)
	clear(fs.chars)
	h.features(text, fs)
	for f := range fs.words {
		fn(f)
	}
	for f := range fs.chars {
		fn(f)
	}
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func hashRunes(h uint64, rs []rune) uint64 {
	for _, r := range rs {
		for r != 0 {
			h ^= uint64(r & 0xff)
			h *= fnvPrime
			r >>= 8
		}
		h ^= 0xff
		h *= fnvPrime
	}
	return h
}

// mix finalises an FNV hash so low and high bits are both well distributed.
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// features extracts word unigrams and bigrams and character n-grams of text.
func (h *Hashing) features(text string, fs *featureSet) {
	text = norm.NFKC.String(text)
	var prev uint64
	havePrev := false
	emitWord := func(word []rune) {
		if len(word) == 0 {
			return
		}
		if isCJK(word[0]) {
			h.cjkGrams(word, fs)
			havePrev = false
			return
		}
		wh := mix(hashRunes(hashString(fnvOffset, "w:"), stemRunes(word)))
		fs.words[wh]++
		if havePrev {
			fs.words[mix(prev*31+wh)] += h.cfg.BigramWeight
		}
		prev, havePrev = wh, true
		if !fs.wordsOnly {
			h.charGrams(word, fs)
		}
	}
	fs.buf = fs.buf[:0]
	for _, r := range text {
		r = unicode.ToLower(r)
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			// A change between CJK and other scripts ends a word: Japanese text mixes
			// scripts without spaces.
			if len(fs.buf) > 0 && isCJK(fs.buf[len(fs.buf)-1]) != isCJK(r) {
				emitWord(fs.buf)
				fs.buf = fs.buf[:0]
			}
			fs.buf = append(fs.buf, r)
		case r == '\'' || r == '’':
			// "don't" stays one word.
			if len(fs.buf) > 0 && !isCJK(fs.buf[len(fs.buf)-1]) {
				continue
			}
			fallthrough
		default:
			emitWord(fs.buf)
			fs.buf = fs.buf[:0]
			if strings.ContainsRune(".?!。？！\n", r) {
				havePrev = false
			}
		}
	}
	emitWord(fs.buf)
	fs.buf = fs.buf[:0]
}

// charGrams adds the character n-grams of " word " to fs.
func (h *Hashing) charGrams(word []rune, fs *featureSet) {
	padded := make([]rune, 0, len(word)+2)
	padded = append(padded, ' ')
	padded = append(padded, word...)
	padded = append(padded, ' ')
	for n := h.cfg.CharMin; n <= h.cfg.CharMax; n++ {
		if n > len(padded) {
			break
		}
		for i := 0; i+n <= len(padded); i++ {
			fs.chars[mix(hashRunes(fnvOffset, padded[i:i+n]))]++
		}
	}
}

// cjkGrams adds character unigrams, bigrams and trigrams of a run of Chinese or Japanese
// characters: words there are mostly one to three characters long and unspaced.
func (h *Hashing) cjkGrams(run []rune, fs *featureSet) {
	for n := 1; n <= 3; n++ {
		for i := 0; i+n <= len(run); i++ {
			g := mix(hashRunes(hashString(fnvOffset, "j:"), run[i:i+n]))
			if n == 1 {
				// Single kana carry little meaning; single kanji do.
				if !unicode.Is(unicode.Han, run[i]) {
					continue
				}
				fs.chars[g] += 0.5
				continue
			}
			fs.chars[g]++
			if n == 2 {
				fs.words[g]++
			}
		}
	}
}

func isCJK(r rune) bool {
	return r >= 0x2E80 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r) || r == 'ー')
}

// DefaultConfig is the tuned configuration of the offline embedder (measured with
// `tandem eval retrieval` on StackFAQ).
func DefaultConfig() Config {
	return Config{Dimension: 1536, CharWeight: 1.5, TitleWeight: 0.5}.WithDefaults()
}

// stemRunes strips the commonest English inflections so "deleting" and "deleted" share
// their word feature (character n-grams already catch most of the rest).
func stemRunes(w []rune) []rune {
	n := len(w)
	if n < 5 || w[n-1] > 0x7f {
		return w
	}
	switch {
	case n > 5 && string(w[n-3:]) == "ing":
		return w[:n-3]
	case n > 5 && string(w[n-3:]) == "ies":
		return append(w[:n-3:n-3], 'y')
	case string(w[n-2:]) == "ed":
		return w[:n-2]
	case string(w[n-2:]) == "es" && (w[n-3] == 's' || w[n-3] == 'x' || w[n-3] == 'h'):
		return w[:n-2]
	case w[n-1] == 's' && w[n-2] != 's':
		return w[:n-1]
	}
	return w
}

// Terms returns the word features of text (word unigrams and bigrams, and for Chinese and
// Japanese character bigrams) with their counts, for lexical scoring against the same
// statistics as the vectors.
func (h *Hashing) Terms(text string) map[uint64]float64 {
	fs := &featureSet{wordsOnly: true, words: make(map[uint64]float64, 64), chars: map[uint64]float64{}} // chars: only Japanese and Chinese runs write here
	h.features(text, fs)
	return fs.words
}

// TermIDF returns the inverse document frequency the embedder gives feature f.
func (h *Hashing) TermIDF(f uint64) float64 { return h.stats.IDF(f) }
