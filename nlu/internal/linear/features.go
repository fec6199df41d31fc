// Package linear holds the text features and the linear classifier shared by the intent and
// sentiment models: hashed word n-grams and character n-grams weighted TF-IDF style, and
// one-vs-rest linear SVMs trained by dual coordinate descent with a softmax calibration.
package linear

import (
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// charBit marks a character n-gram hash; word n-grams have it clear. The two blocks are
// normalised separately so that long texts do not drown words in character n-grams.
const charBit = 1 << 31

// pairBit marks word-pair hashes (part of the word block) when FeatureOptions.WordPairs is set;
// only then is it cleared from word n-grams, so models saved without pairs keep their hashes.
const pairBit = 1 << 30

// pairWindow is how many words back WordPairs looks; pairMinDF is the fewest training examples
// a pair must occur in to be kept (Banking77 held-out accuracy: 1 → 0.912, 2 → 0.912 with a
// 9.0 MB model, 3 → 0.913 with 7.7 MB, 5 → 0.913; a window of 6 → 0.912).
const (
	pairWindow = 10
	pairMinDF  = 3
)

const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

// FeatureOptions select which n-grams are extracted.
type FeatureOptions struct {
	WordNgrams int // 1 = unigrams, 2 = uni+bigrams (default 2)
	CharMin    int // smallest character n-gram (default 2)
	CharMax    int // largest character n-gram (default 5)
	// WordPairs adds every unordered pair of words in the message (skip-bigrams), which lets a
	// linear model see two keywords together however far apart they are ("card" … "declined").
	WordPairs bool
}

// WithDefaults fills unset fields.
func (o FeatureOptions) WithDefaults() FeatureOptions {
	if o.WordNgrams <= 0 {
		o.WordNgrams = 2
	}
	if o.CharMin <= 0 {
		o.CharMin = 2
	}
	if o.CharMax < o.CharMin {
		o.CharMax = 5
	}
	return o
}

// Normalize lower-cases text and folds compatibility forms (full-width digits, half-width kana).
func Normalize(text string) string {
	ascii := true
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		text = norm.NFKC.String(text)
	}
	return strings.ToLower(text)
}

// isCJK reports runes written without spaces between words.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Thai)
}

// isWordRune reports runes that belong to word tokens.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// isSymbolToken reports runes that stand alone as tokens: emoji and the punctuation that carries
// tone.
func isSymbolToken(r rune) bool {
	return r == '!' || r == '?' || unicode.Is(unicode.So, r)
}

// Tokens splits normalised text into word tokens; emoji, '!' and '?' are tokens of their own.
func Tokens(text string) []string {
	var toks []string
	start := -1
	skipTo := 0
	for i, r := range text {
		if i < skipTo {
			continue
		}
		switch {
		case isWordRune(r) || (r == '\'' && start >= 0):
			if start < 0 {
				start = i
			}
		default:
			if start >= 0 {
				toks = append(toks, strings.TrimRight(text[start:i], "'"))
				start = -1
			}
			if n := emoticon(text[i:]); n > 0 {
				toks = append(toks, text[i:i+n])
				skipTo = i + n
				continue
			}
			if isSymbolToken(r) {
				toks = append(toks, string(r))
			}
		}
	}
	if start >= 0 {
		toks = append(toks, strings.TrimRight(text[start:], "'"))
	}
	return toks
}

// emoticon returns the length of an ASCII emoticon (":)", ":-(", ";d", "<3") at the start of s
// (lower-cased), or 0.
func emoticon(s string) int {
	if strings.HasPrefix(s, "<3") {
		return 2
	}
	if len(s) < 2 || (s[0] != ':' && s[0] != ';' && s[0] != '=') {
		return 0
	}
	j := 1
	if s[j] == '-' || s[j] == '\'' {
		j++
	}
	if j < len(s) && strings.IndexByte(")(dp/|][o*", s[j]) >= 0 {
		// ":/" inside a URL ("http://") is not a face.
		if s[j] == '/' && j+1 < len(s) && s[j+1] == '/' {
			return 0
		}
		return j + 1
	}
	return 0
}

func hashString(h uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= fnvPrime
	}
	return h
}

func mix(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x7feb352d
	h ^= h >> 15
	h *= 0x846ca68b
	h ^= h >> 16
	return h
}

// Hashes appends the feature hashes of text (already normalised) to dst, one per occurrence.
func Hashes(text string, o FeatureOptions, dst []uint32) []uint32 {
	toks := Tokens(text)
	prev, prev2 := uint32(0), uint32(0)
	var runes []rune
	var seen []uint32 // word hashes so far, for WordPairs
	wordMask := ^uint32(charBit)
	if o.WordPairs {
		wordMask = ^uint32(charBit | pairBit)
	}
	for i, t := range toks {
		wh := mix(hashString(fnvOffset, t))
		dst = append(dst, wh&wordMask)
		if o.WordPairs {
			dst = appendPairs(dst, seen, wh)
			seen = append(seen, wh)
		}
		if o.WordNgrams >= 2 && i > 0 {
			dst = append(dst, mix(prev*31+wh+0x9e3779b9)&wordMask)
		}
		if o.WordNgrams >= 3 && i > 1 {
			dst = append(dst, mix((prev2*31+prev)*37+wh+0x7f4a7c15)&wordMask)
		}
		prev2, prev = prev, wh
		// Character n-grams inside word boundaries (char_wb): the token padded with spaces.
		runes = append(runes[:0], ' ')
		cjk := false
		for _, r := range t {
			runes = append(runes, r)
			if isCJK(r) {
				cjk = true
			}
		}
		runes = append(runes, ' ')
		lo := o.CharMin
		if cjk {
			lo = 1
		}
		for n := lo; n <= o.CharMax; n++ {
			for s := 0; s+n <= len(runes); s++ {
				if n == 1 && runes[s] == ' ' {
					continue
				}
				h := uint32(fnvOffset) ^ uint32(n)
				for _, r := range runes[s : s+n] {
					h ^= uint32(r)
					h *= fnvPrime
				}
				dst = append(dst, mix(h)|charBit)
			}
		}
	}
	return dst
}

// appendPairs appends the word-pair hashes of word hash wh with the words before it (seen).
// Adjacent pairs are already bigrams; pairs are unordered so that "card declined" and "declined
// my card" share a feature, and within pairWindow words so that long messages stay linear in cost.
func appendPairs(dst, seen []uint32, wh uint32) []uint32 {
	for _, ph := range seen[max(len(seen)-pairWindow, 0):max(len(seen)-1, 0)] {
		a, b := min(ph, wh), max(ph, wh)
		dst = append(dst, mix(a*0x2545f491+b+0x3c6ef372)&^charBit|pairBit)
	}
	return dst
}

// Vec is a sparse vector over a Vocab's feature indexes (in no particular order).
type Vec struct {
	Idx []int32
	Val []float32
}

// Vocab maps feature hashes to dense indexes and holds their inverse document frequencies.
type Vocab struct {
	Opts   FeatureOptions
	Hashes []uint32 // sorted; Hashes[i] is feature i
	IDF    []float32
	table  []uint32 // open addressing: slot -> feature index + 1 (0 = empty)
	mask   uint32
}

// BuildVocab counts document frequencies over texts and keeps features seen in at least minDF
// documents.
func BuildVocab(texts []string, o FeatureOptions, minDF int) *Vocab {
	o = o.WithDefaults()
	df := make(map[uint32]int32)
	var buf []uint32
	for _, t := range texts {
		buf = Hashes(Normalize(t), o, buf[:0])
		slices.Sort(buf)
		buf = slices.Compact(buf)
		for _, h := range buf {
			df[h]++
		}
	}
	hs := make([]uint32, 0, len(df))
	for h, n := range df {
		// A pair seen in fewer than pairMinDF examples is evidence the word n-grams already
		// carry, at a cost per message and in model size.
		if int(n) >= minDF && (n >= pairMinDF || !o.WordPairs || h&(charBit|pairBit) != pairBit) {
			hs = append(hs, h)
		}
	}
	slices.Sort(hs)
	v := &Vocab{Opts: o, Hashes: hs, IDF: make([]float32, len(hs))}
	n := float64(len(texts))
	for i, h := range hs {
		v.IDF[i] = float32(math.Log((1+n)/(1+float64(df[h]))) + 1)
	}
	v.buildIndex()
	return v
}

func (v *Vocab) buildIndex() {
	size := uint32(16)
	for size < uint32(len(v.Hashes))*2 {
		size <<= 1
	}
	v.table = make([]uint32, size)
	v.mask = size - 1
	for i, h := range v.Hashes {
		s := (h * 0x9e3779b1) & v.mask
		for v.table[s] != 0 {
			s = (s + 1) & v.mask
		}
		v.table[s] = uint32(i) + 1
	}
}

// lookup returns the feature index of hash h, or -1.
func (v *Vocab) lookup(h uint32) int32 {
	s := (h * 0x9e3779b1) & v.mask
	for {
		k := v.table[s]
		if k == 0 {
			return -1
		}
		if v.Hashes[k-1] == h {
			return int32(k - 1)
		}
		s = (s + 1) & v.mask
	}
}

// IsWord reports whether feature f is a word n-gram (not a character n-gram or a word pair).
func (v *Vocab) IsWord(f int32) bool {
	h := v.Hashes[f]
	if v.Opts.WordPairs {
		return h&(charBit|pairBit) == 0
	}
	return h&charBit == 0
}

// Len is the number of features.
func (v *Vocab) Len() int { return len(v.Hashes) }

// Scratch is reusable memory for Vectorize.
type Scratch struct {
	hashes []uint32
	vec    Vec
	count  []uint16 // per feature, zero between calls
}

// Vectorize turns text into an L2-normalised TF-IDF vector with sublinear term frequency. The
// returned Vec aliases sc when sc is not nil.
func (v *Vocab) Vectorize(text string, sc *Scratch) Vec {
	if sc == nil {
		sc = &Scratch{}
	}
	if len(sc.count) < len(v.Hashes) {
		sc.count = make([]uint16, len(v.Hashes))
	}
	sc.hashes = Hashes(Normalize(text), v.Opts, sc.hashes[:0])
	idx := sc.vec.Idx[:0]
	for _, h := range sc.hashes {
		k := v.lookup(h)
		if k < 0 {
			continue
		}
		if sc.count[k] == 0 {
			idx = append(idx, k)
		}
		if sc.count[k] < math.MaxUint16 {
			sc.count[k]++
		}
	}
	val := slices.Grow(sc.vec.Val[:0], len(idx))[:len(idx)]
	var norm2 [2]float64
	for i, k := range idx {
		w := v.IDF[k]
		if c := sc.count[k]; c > 1 {
			w *= float32(1 + math.Log(float64(c)))
		}
		sc.count[k] = 0
		val[i] = w
		norm2[v.Hashes[k]>>31] += float64(w) * float64(w)
	}
	// Each block gets unit norm, then the whole vector is scaled back to unit norm.
	blocks := 0
	for b := range 2 {
		if norm2[b] > 0 {
			blocks++
		}
	}
	var scale [2]float32
	for b := range 2 {
		if norm2[b] > 0 {
			scale[b] = float32(1 / math.Sqrt(norm2[b]) / math.Sqrt(float64(blocks)))
		}
	}
	for i, k := range idx {
		val[i] *= scale[v.Hashes[k]>>31]
	}
	sc.vec.Idx, sc.vec.Val = idx, val
	return sc.vec
}

// Clone copies a Vec out of scratch memory.
func (x Vec) Clone() Vec {
	return Vec{Idx: slices.Clone(x.Idx), Val: slices.Clone(x.Val)}
}

// NewVocab rebuilds a vocabulary from saved hashes and IDF weights.
func NewVocab(o FeatureOptions, hashes []uint32, idf []float32) *Vocab {
	v := &Vocab{Opts: o, Hashes: hashes, IDF: idf}
	v.buildIndex()
	return v
}
