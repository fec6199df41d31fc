package linear

import (
	"context"
	"slices"
	"testing"
)

func TestTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"i don't like it!!", []string{"i", "don't", "like", "it", "!", "!"}},
		{"card? 😡", []string{"card", "?", "😡"}},
		{"今日は雨", []string{"今日は雨"}},
		{"late again :( but ok :-D <3 http://x.co", []string{"late", "again", ":(", "but", "ok", ":-d", "<3", "http", "x", "co"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := Tokens(Normalize(tt.in)); !slices.Equal(got, tt.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Normalize("ＡＢＣ１２３"); got != "abc123" {
		t.Errorf("Normalize full-width = %q", got)
	}
}

func TestVectorizeJapanese(t *testing.T) {
	t.Parallel()
	v := BuildVocab([]string{"今日は雨が降りますか", "アラームを設定して"}, FeatureOptions{}, 1)
	// A message sharing characters but not whole words still gets character n-gram features.
	x := v.Vectorize("明日は雨ですか", nil)
	if len(x.Idx) == 0 {
		t.Fatal("no features for Japanese text without spaces")
	}
	var n2 float64
	for _, val := range x.Val {
		n2 += float64(val) * float64(val)
	}
	if n2 < 0.99 || n2 > 1.01 {
		t.Errorf("norm² = %v, want 1", n2)
	}
}

func TestTrainSeparable(t *testing.T) {
	t.Parallel()
	texts := []string{"red apple", "green apple", "apple pie", "blue car", "fast car", "car wheel"}
	ys := []int{0, 0, 0, 1, 1, 1}
	v := BuildVocab(texts, FeatureOptions{}, 1)
	xs := make([]Vec, len(texts))
	for i, s := range texts {
		xs[i] = v.Vectorize(s, nil).Clone()
	}
	for _, nb := range []bool{false, true} {
		m, err := Train(context.Background(), xs, ys, 2, v.Len(), TrainOptions{Seed: 1, NB: nb})
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range xs {
			s := m.Scores(x, make([]float32, 2))
			if (s[1] > s[0]) != (ys[i] == 1) {
				t.Errorf("nb=%v %q scores %v, want class %d", nb, texts[i], s, ys[i])
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Train(ctx, xs, ys, 2, v.Len(), TrainOptions{}); err == nil {
		t.Error("cancelled context: want error")
	}
}

func TestFitTemperature(t *testing.T) {
	t.Parallel()
	// Confident and always right: a sharper softmax fits better than a flat one.
	scores := [][]float32{{1, -1}, {-1, 1}, {1, -1}}
	ys := []int{0, 1, 0}
	if tt := FitTemperature(scores, ys); tt < 10 {
		t.Errorf("temperature %v, want large", tt)
	}
}

func TestWordPairs(t *testing.T) {
	t.Parallel()
	on := FeatureOptions{WordPairs: true}.WithDefaults()
	pairs := func(text string) []uint32 {
		var out []uint32
		for _, h := range Hashes(Normalize(text), on, nil) {
			if h&(charBit|pairBit) == pairBit {
				out = append(out, h)
			}
		}
		return out
	}
	tests := []struct {
		name string
		text string
		want int
	}{
		{"OK/skipOne", "card was declined", 1},
		{"OK/adjacentAreBigrams", "card declined", 0},
		{"OK/window", "a b c d e f g h i j k l", 54}, // distances 2 to 10 only
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := len(pairs(tt.text)); got != tt.want {
				t.Errorf("%q: %d pairs, want %d", tt.text, got, tt.want)
			}
		})
	}
	t.Run("OK/unordered", func(t *testing.T) {
		t.Parallel()
		if a, b := pairs("card was declined"), pairs("declined my card"); !slices.Equal(a, b) {
			t.Errorf("pairs %v and %v differ", a, b)
		}
	})
	t.Run("OK/offKeepsHashes", func(t *testing.T) {
		t.Parallel()
		// Models saved without pairs (the embedded sentiment model) must hash words as before.
		off := Hashes("card", FeatureOptions{}.WithDefaults(), nil)
		if want := mix(hashString(fnvOffset, "card")) &^ charBit; off[0] != want {
			t.Errorf("word hash %x, want %x", off[0], want)
		}
	})
}
