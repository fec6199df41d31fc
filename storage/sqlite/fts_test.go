package sqlite

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

func TestFTSMerge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"), Config{Migrate: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.EnsureCollection(ctx, tandem.Collection{Name: "kb", Dimension: 2}); err != nil {
		t.Fatal(err)
	}
	words := []string{"parcel", "refund", "invoice", "password", "courier", "voucher"}
	for i := range ftsMergeAfter + 10 {
		d := &tandem.Document{Collection: "kb", Title: fmt.Sprint("doc ", i), ContentHash: fmt.Sprint(i), Status: tandem.DocumentPublished}
		c := []tandem.Chunk{{Text: words[i%len(words)] + " " + words[(i*7)%len(words)] + fmt.Sprint(" n", i%13)}}
		if _, err := s.PutDocument(ctx, d, c); err != nil {
			t.Fatal(err)
		}
	}
	s.fts.mu.Lock()
	armed := s.fts.timer != nil
	s.fts.mu.Unlock()
	if !armed {
		t.Fatalf("no merge scheduled after %d chunks", ftsMergeAfter+10)
	}
	search := func() []string {
		hits, err := s.SearchText(ctx, "refund courier n3", storage.SearchFilter{Limit: 40})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range hits {
			out = append(out, fmt.Sprintf("%s %.6f", h.ID, h.Score))
		}
		return out
	}
	before := search()
	s.fts.merge(s)
	if got := search(); !slices.Equal(got, before) || len(got) != 40 {
		t.Errorf("after merge got %d hits %v, want %v", len(got), got, before)
	}
}

// TestSearchTextFilterBeyondPrefetch: most filtered hits rank below the matches SearchText
// joins first, so only the exact fallback finds them.
func TestSearchTextFilterBeyondPrefetch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, ":memory:", Config{Migrate: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.EnsureCollection(ctx, tandem.Collection{Name: "kb", Dimension: 2}); err != nil {
		t.Fatal(err)
	}
	const limit = 5
	n := textPrefetch(limit) + 20
	var want []string
	for i := range n {
		// Early documents say "refund" more often, so they rank first; the last few are tagged.
		text := "refund " + fmt.Sprint(slices.Repeat([]string{"refund"}, (n-i)/4)) + " filler words here"
		d := &tandem.Document{Collection: "kb", Title: fmt.Sprint("doc ", i), ContentHash: fmt.Sprint(i), Status: tandem.DocumentPublished, Tags: []string{}}
		// The best match is tagged too, so the first query finds some but not all.
		tagged := i == 0 || i >= n-limit-2
		if tagged {
			d.Tags = []string{"late"}
		}
		c := []tandem.Chunk{{Text: text}}
		if _, err := s.PutDocument(ctx, d, c); err != nil {
			t.Fatal(err)
		}
		if tagged && len(want) < limit {
			want = append(want, c[0].ID)
		}
	}
	hits, err := s.SearchText(ctx, "refund", storage.SearchFilter{Tags: []string{"late"}, Limit: limit})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hits {
		got = append(got, h.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestSearchTextSeesKnowledgeWrites: full-text searches run in long-lived snapshots, which
// every knowledge write must replace before the writer's next search.
func TestSearchTextSeesKnowledgeWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"), Config{Migrate: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.EnsureCollection(ctx, tandem.Collection{Name: "kb", Dimension: 2}); err != nil {
		t.Fatal(err)
	}
	put := func(title string) *tandem.Document {
		d := &tandem.Document{Collection: "kb", Title: title, ContentHash: title, Status: tandem.DocumentPublished}
		if _, err := s.PutDocument(ctx, d, []tandem.Chunk{{Text: "refund policy"}}); err != nil {
			t.Fatal(err)
		}
		return d
	}
	search := func() []string {
		hits, err := s.SearchText(ctx, "refund", storage.SearchFilter{Status: tandem.DocumentPublished})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range hits {
			out = append(out, h.DocumentTitle)
		}
		slices.Sort(out)
		return out
	}
	a := put("a")
	for _, tt := range []struct {
		name  string
		write func()
		want  []string
	}{
		{"OKFirst", func() {}, []string{"a"}},
		{"OKPut", func() { put("b") }, []string{"a", "b"}},
		{"OKStatus", func() {
			if err := s.SetDocumentStatus(ctx, a.ID, tandem.DocumentDraft); err != nil {
				t.Fatal(err)
			}
		}, []string{"b"}},
		{"OKDelete", func() {
			if err := s.DeleteDocument(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			put("c")
		}, []string{"b", "c"}},
	} {
		tt.write()
		if got := search(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
