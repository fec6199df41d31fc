package retrieval

import (
	"maps"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval/embed"
)

func TestTermCache(t *testing.T) {
	t.Parallel()
	h, err := embed.New(embed.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var tc termCache
	chunk := func(text string) tandem.ScoredChunk {
		return tandem.ScoredChunk{Chunk: tandem.Chunk{ID: "c1", Heading: "Returns", Text: text}, DocumentTitle: "Refunds"}
	}
	want := func(c tandem.ScoredChunk) map[uint64]float64 {
		terms := h.Terms(c.Heading + "\n" + c.Text)
		for f, n := range h.Terms(c.DocumentTitle) {
			terms[f] += bm25TitleWeight * n
		}
		return terms
	}
	for _, tt := range []struct {
		name string
		c    tandem.ScoredChunk
	}{
		{"OKFirst", chunk("refund within thirty days")},
		{"OKCached", chunk("refund within thirty days")},
		{"OKEditedText", chunk("parcels ship from Berlin")},
	} {
		got, n := tc.get(h, tt.c)
		if w := want(tt.c); !maps.Equal(got, w) {
			t.Errorf("%s: terms %v, want %v", tt.name, got, w)
		}
		var sum float64
		for _, v := range got {
			sum += v
		}
		if n != sum {
			t.Errorf("%s: total %v, want %v", tt.name, n, sum)
		}
	}
}
