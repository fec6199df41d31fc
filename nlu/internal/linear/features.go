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

const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

// FeatureOptions select which n-grams are extracted.
type FeatureOptions struct {
	WordNgrams int // 1 = unigrams, 2 = uni+bigrams (default 2)
	CharMin    int // smallest character n-gram (default 2)
	CharMax    int // largest character n-gram (default 5)
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
	for i, r := range text {
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
	prev := uint32(0)
	var runes []rune
	for i, t := range toks {
		wh := mix(hashString(fnvOffset, t))
		dst = append(dst, wh&^charBit)
		if o.WordNgrams >= 2 && i > 0 {
			dst = append(dst, mix(prev*31+wh+0x9e3779b9)&^charBit)
		}
		prev = wh
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

// Vec is a sparse vector over a Vocab's feature indexes, sorted by index.
type Vec struct {
	Idx []int32
	Val []float32
}

// Vocab maps feature hashes to dense indexes and holds their inverse document frequencies.
type Vocab struct {
	Opts   FeatureOptions
	Hashes []uint32 // sorted; Hashes[i] is feature i
	IDF    []float32
	index  map[uint32]int32
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
		if int(n) >= minDF {
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
	v.index = make(map[uint32]int32, len(v.Hashes))
	for i, h := range v.Hashes {
		v.index[h] = int32(i)
	}
}

// Len is the number of features.
func (v *Vocab) Len() int { return len(v.Hashes) }

// Scratch is reusable memory for Vectorize.
type Scratch struct {
	hashes []uint32
	vec    Vec
	block  []bool
}

// Vectorize turns text into an L2-normalised TF-IDF vector with sublinear term frequency. The
// returned Vec aliases sc when sc is not nil.
func (v *Vocab) Vectorize(text string, sc *Scratch) Vec {
	if sc == nil {
		sc = &Scratch{}
	}
	sc.hashes = Hashes(Normalize(text), v.Opts, sc.hashes[:0])
	slices.Sort(sc.hashes)
	idx, val, blk := sc.vec.Idx[:0], sc.vec.Val[:0], sc.block[:0]
	var norm2 [2]float64
	hs := sc.hashes
	for i := 0; i < len(hs); {
		j := i + 1
		for j < len(hs) && hs[j] == hs[i] {
			j++
		}
		if k, ok := v.index[hs[i]]; ok {
			w := float32(1+math.Log(float64(j-i))) * v.IDF[k]
			b := hs[i]&charBit != 0
			idx, val, blk = append(idx, k), append(val, w), append(blk, b)
			if b {
				norm2[1] += float64(w) * float64(w)
			} else {
				norm2[0] += float64(w) * float64(w)
			}
		}
		i = j
	}
	// Each block gets unit norm, then the whole vector is scaled back to unit norm.
	var scale [2]float32
	blocks := 0
	for b := range 2 {
		if norm2[b] > 0 {
			blocks++
		}
	}
	for b := range 2 {
		if norm2[b] > 0 {
			scale[b] = float32(1 / math.Sqrt(norm2[b]) / math.Sqrt(float64(blocks)))
		}
	}
	for i := range val {
		if blk[i] {
			val[i] *= scale[1]
		} else {
			val[i] *= scale[0]
		}
	}
	// Sorted hashes give sorted indexes because indexes follow hash order.
	sc.vec.Idx, sc.vec.Val, sc.block = idx, val, blk
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
