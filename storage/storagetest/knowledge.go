package storagetest

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

func testCollections(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	t.Run("EnsureCollection/OK", func(t *testing.T) {
		t.Parallel()
		c, err := s.EnsureCollection(ctx, tandem.Collection{Name: "faq", BotID: "bot", Embedder: "hash-v1", Dimension: 8, CreatedAt: when})
		must(t, err)
		if c.Name != "faq" || c.Embedder != "hash-v1" || c.Dimension != 8 {
			t.Fatalf("got %+v", c)
		}
		wantTime(t, "CreatedAt", c.CreatedAt, when)
		again, err := s.EnsureCollection(ctx, tandem.Collection{Name: "faq", Embedder: "other", Dimension: 16})
		must(t, err)
		if again.Embedder != "hash-v1" || again.Dimension != 8 {
			t.Errorf("existing collection changed: %+v", again)
		}
		must(t, s.UpdateCollection(ctx, tandem.Collection{Name: "faq", BotID: "bot", Embedder: "minilm", Dimension: 384}))
		got, err := s.FindCollection(ctx, "faq")
		must(t, err)
		if got.Embedder != "minilm" || got.Dimension != 384 {
			t.Errorf("after update: %+v", got)
		}
		list, err := s.ListCollections(ctx)
		must(t, err)
		if !slices.ContainsFunc(list, func(c tandem.Collection) bool { return c.Name == "faq" }) {
			t.Errorf("list = %+v", list)
		}
	})
	t.Run("EnsureCollection/ErrInvalid", func(t *testing.T) {
		t.Parallel()
		_, err := s.EnsureCollection(ctx, tandem.Collection{})
		wantCode(t, err, tandem.EINVALID)
	})
	t.Run("FindCollection/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.FindCollection(ctx, "missing")
		wantCode(t, err, tandem.ENOTFOUND)
		wantCode(t, s.UpdateCollection(ctx, tandem.Collection{Name: "missing"}), tandem.ENOTFOUND)
	})
}

func testDocuments(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	_, err := s.EnsureCollection(ctx, tandem.Collection{Name: "docs", Embedder: "test", Dimension: 3})
	must(t, err)
	_, err = s.EnsureCollection(ctx, tandem.Collection{Name: "other", Embedder: "test", Dimension: 3})
	must(t, err)
	t.Run("PutDocument/OK", func(t *testing.T) {
		t.Parallel()
		d := &tandem.Document{Collection: "docs", Title: "Refund policy", Source: "kb/refund.md", URL: "https://x/refund", Tags: []string{"billing"}, Language: "en", ContentHash: "h1", Status: tandem.DocumentPublished, Body: "body 1"}
		chunks := []tandem.Chunk{{Ordinal: 0, Heading: "Refunds", Text: "one", Embedding: []float32{1, 0, 0}}, {Ordinal: 1, Text: "two", Embedding: []float32{0, 1, 0.5}}}
		changed, err := s.PutDocument(ctx, d, chunks)
		must(t, err)
		if !changed || d.ID == "" || d.Version != 1 || chunks[0].ID == "" || chunks[1].DocumentID != d.ID {
			t.Fatalf("changed=%v doc=%+v chunks=%+v", changed, d, chunks)
		}
		got, err := s.FindDocumentByID(ctx, d.ID)
		must(t, err)
		if got.Title != d.Title || got.URL != d.URL || got.Source != d.Source || !slices.Equal(got.Tags, d.Tags) || got.Language != "en" || got.Version != 1 || got.ContentHash != "h1" || got.Status != tandem.DocumentPublished || got.Body != "body 1" {
			t.Errorf("got %+v", got)
		}
		wantTime(t, "UpdatedAt", got.UpdatedAt, d.UpdatedAt)
		stored, err := s.ListChunks(ctx, d.ID)
		must(t, err)
		if len(stored) != 2 || stored[0].Heading != "Refunds" || stored[1].Text != "two" || !slices.Equal(stored[1].Embedding, []float32{0, 1, 0.5}) || stored[0].Collection != "docs" {
			t.Fatalf("chunks = %+v", stored)
		}

		// Same hash: nothing changes.
		same := &tandem.Document{ID: d.ID, Collection: "docs", Title: "Other title", ContentHash: "h1", Status: tandem.DocumentDraft}
		changed, err = s.PutDocument(ctx, same, []tandem.Chunk{{Text: "ignored"}})
		must(t, err)
		if changed || same.Version != 1 || same.Title != "Refund policy" {
			t.Errorf("same hash: changed=%v doc=%+v", changed, same)
		}
		// New hash: version bump and chunk replacement.
		next := &tandem.Document{ID: d.ID, Collection: "docs", Title: "Refund policy v2", ContentHash: "h2", Status: tandem.DocumentPublished, Tags: []string{"billing"}}
		changed, err = s.PutDocument(ctx, next, []tandem.Chunk{{Ordinal: 0, Text: "replaced", Embedding: []float32{0, 0, 1}}})
		must(t, err)
		if !changed || next.Version != 2 {
			t.Errorf("new hash: changed=%v version=%d", changed, next.Version)
		}
		wantTime(t, "CreatedAt kept", next.CreatedAt, d.CreatedAt)
		stored, err = s.ListChunks(ctx, d.ID)
		must(t, err)
		if len(stored) != 1 || stored[0].Text != "replaced" {
			t.Errorf("chunks after change = %+v", stored)
		}
	})
	t.Run("PutDocument/ErrInvalid", func(t *testing.T) {
		t.Parallel()
		_, err := s.PutDocument(ctx, &tandem.Document{Collection: "docs", Title: "Bad", ContentHash: "x"}, []tandem.Chunk{{Text: "t", Embedding: []float32{1, 2}}})
		wantCode(t, err, tandem.EINVALID)
		_, err = s.PutDocument(ctx, &tandem.Document{Collection: "docs"}, nil)
		wantCode(t, err, tandem.EINVALID)
	})
	t.Run("PutDocument/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.PutDocument(ctx, &tandem.Document{Collection: "missing", Title: "T", ContentHash: "x"}, nil)
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("FindDocumentByID/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.FindDocumentByID(ctx, "missing")
		wantCode(t, err, tandem.ENOTFOUND)
	})
	t.Run("ListDocuments/OK", func(t *testing.T) {
		t.Parallel()
		put := func(coll, title string, tags []string, st tandem.DocumentStatus) string {
			d := &tandem.Document{Collection: coll, Title: title, Tags: tags, ContentHash: title, Status: st}
			_, err := s.PutDocument(ctx, d, nil)
			must(t, err)
			return d.ID
		}
		a := put("other", "Alpha 100% guide", []string{"x"}, tandem.DocumentPublished)
		b := put("other", "Beta_notes", []string{"y"}, tandem.DocumentDraft)
		c := put("other", "Gamma guide", []string{"x", "y"}, tandem.DocumentDraft)
		tests := []struct {
			name string
			f    storage.DocumentFilter
			want []string
		}{
			{"Collection", storage.DocumentFilter{Collection: "other"}, []string{a, b, c}},
			{"Status", storage.DocumentFilter{Collection: "other", Status: tandem.DocumentDraft}, []string{b, c}},
			{"Tag", storage.DocumentFilter{Collection: "other", Tag: "x"}, []string{a, c}},
			{"Query", storage.DocumentFilter{Collection: "other", Query: "GUIDE"}, []string{a, c}},
			{"QueryPercent", storage.DocumentFilter{Collection: "other", Query: "100%"}, []string{a}},
			{"QueryUnderscore", storage.DocumentFilter{Collection: "other", Query: "a_n"}, []string{b}},
			{"LimitOffset", storage.DocumentFilter{Collection: "other", Limit: 1, Offset: 1}, []string{b}},
		}
		for _, tt := range tests {
			got, err := s.ListDocuments(ctx, tt.f)
			must(t, err)
			var ids []string
			for _, d := range got {
				ids = append(ids, d.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, ids, tt.want)
			}
		}
	})
	t.Run("SetDocumentStatus/OK", func(t *testing.T) {
		t.Parallel()
		d := &tandem.Document{Collection: "docs", Title: "Draft doc", ContentHash: "d", Status: tandem.DocumentDraft}
		_, err := s.PutDocument(ctx, d, nil)
		must(t, err)
		must(t, s.SetDocumentStatus(ctx, d.ID, tandem.DocumentPublished))
		got, err := s.FindDocumentByID(ctx, d.ID)
		must(t, err)
		if got.Status != tandem.DocumentPublished {
			t.Errorf("status = %s", got.Status)
		}
	})
	t.Run("SetDocumentStatus/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		wantCode(t, s.SetDocumentStatus(ctx, "missing", tandem.DocumentPublished), tandem.ENOTFOUND)
	})
	t.Run("DeleteDocument/OK", func(t *testing.T) {
		t.Parallel()
		d := &tandem.Document{Collection: "docs", Title: "Doomed", ContentHash: "z"}
		_, err := s.PutDocument(ctx, d, []tandem.Chunk{{Text: "bye"}})
		must(t, err)
		must(t, s.DeleteDocument(ctx, d.ID))
		_, err = s.FindDocumentByID(ctx, d.ID)
		wantCode(t, err, tandem.ENOTFOUND)
		chunks, err := s.ListChunks(ctx, d.ID)
		must(t, err)
		if len(chunks) != 0 {
			t.Errorf("chunks left: %d", len(chunks))
		}
		wantCode(t, s.DeleteDocument(ctx, d.ID), tandem.ENOTFOUND)
	})
	t.Run("ReplaceEmbeddings/OK", func(t *testing.T) {
		t.Parallel()
		d := &tandem.Document{Collection: "docs", Title: "Re-embed", ContentHash: "r"}
		chunks := []tandem.Chunk{{Text: "a", Embedding: []float32{1, 0, 0}}, {Ordinal: 1, Text: "b"}}
		_, err := s.PutDocument(ctx, d, chunks)
		must(t, err)
		// A chunk may be stored without an embedding.
		got, err := s.ListChunks(ctx, d.ID)
		must(t, err)
		if len(got) != 2 || !slices.Equal(got[0].Embedding, []float32{1, 0, 0}) || got[1].Embedding != nil {
			t.Fatalf("stored chunks = %+v", got)
		}
		chunks[0].Embedding = []float32{0, 1, 0}
		chunks[1].Embedding = []float32{0, 0, 1}
		must(t, s.ReplaceEmbeddings(ctx, chunks))
		got, err = s.ListChunks(ctx, d.ID)
		must(t, err)
		if !slices.Equal(got[0].Embedding, []float32{0, 1, 0}) || !slices.Equal(got[1].Embedding, []float32{0, 0, 1}) {
			t.Errorf("embeddings = %v %v", got[0].Embedding, got[1].Embedding)
		}
		wantCode(t, s.ReplaceEmbeddings(ctx, []tandem.Chunk{{ID: "missing", Embedding: []float32{1, 1, 1}}}), tandem.ENOTFOUND)
	})
}

// kbFixture loads a small knowledge base for the search tests.
type kbFixture struct {
	refund, shipping, password, draft, french, other string // document ids
}

func loadKB(t *testing.T, s storage.Store) kbFixture {
	ctx := context.Background()
	for _, name := range []string{"kb", "kb2"} {
		_, err := s.EnsureCollection(ctx, tandem.Collection{Name: name, Embedder: "test", Dimension: 3})
		must(t, err)
	}
	put := func(coll, title string, tags []string, lang string, st tandem.DocumentStatus, text string, vec []float32) string {
		d := &tandem.Document{Collection: coll, Title: title, URL: "https://kb/" + title, Tags: tags, Language: lang, ContentHash: title, Status: st}
		_, err := s.PutDocument(ctx, d, []tandem.Chunk{{Heading: title, Text: text, Embedding: vec}})
		must(t, err)
		return d.ID
	}
	return kbFixture{
		refund:   put("kb", "Refund policy", []string{"billing"}, "en", tandem.DocumentPublished, "You can get a refund within 30 days of purchase. Refunds go back to the original card.", []float32{1, 0, 0}),
		shipping: put("kb", "Shipping times", []string{"orders"}, "en", tandem.DocumentPublished, "Orders ship within two business days; delivery takes three to five days.", []float32{0, 1, 0}),
		password: put("kb", "Reset your password", []string{"account"}, "en", tandem.DocumentPublished, "Click forgot password on the sign in page to reset it.", []float32{0, 0, 1}),
		draft:    put("kb", "Refund exceptions draft", []string{"billing"}, "en", tandem.DocumentDraft, "Refund exceptions for gift cards are not final.", []float32{0.9, 0.1, 0}),
		french:   put("kb", "Politique de remboursement", []string{"billing"}, "fr", tandem.DocumentPublished, "Remboursement sous 30 jours. refund", []float32{0.8, 0, 0.2}),
		other:    put("kb2", "Refund for partners", []string{"partners"}, "en", tandem.DocumentPublished, "Partners request a refund through their account manager.", []float32{0.95, 0, 0.05}),
	}
}

func docIDs(hits []tandem.ScoredChunk) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.DocumentID)
	}
	return out
}

func testSearchText(t *testing.T, s storage.Store, f Features) {
	ctx := context.Background()
	kb := loadKB(t, s)
	t.Run("AfterChange", func(t *testing.T) {
		// Not parallel: it runs before the others, which then see its final state.
		_, err := s.EnsureCollection(ctx, tandem.Collection{Name: "kb3", Embedder: "test", Dimension: 3})
		must(t, err)
		d := &tandem.Document{Collection: "kb3", Title: "Warranty", ContentHash: "1", Status: tandem.DocumentPublished}
		_, err = s.PutDocument(ctx, d, []tandem.Chunk{{Text: "warranty covers batteries"}})
		must(t, err)
		d2 := &tandem.Document{ID: d.ID, Collection: "kb3", Title: "Warranty", ContentHash: "2", Status: tandem.DocumentPublished}
		_, err = s.PutDocument(ctx, d2, []tandem.Chunk{{Text: "warranty covers screens"}})
		must(t, err)
		only := storage.SearchFilter{Collections: []string{"kb3"}}
		got, err := s.SearchText(ctx, "batteries", only)
		must(t, err)
		if len(got) != 0 {
			t.Errorf("old chunk still found: %v", got)
		}
		got, err = s.SearchText(ctx, "screens", only)
		must(t, err)
		if len(got) != 1 {
			t.Errorf("new chunk not found: %v", got)
		}
		must(t, s.SetDocumentStatus(ctx, d.ID, tandem.DocumentDraft))
		got, err = s.SearchText(ctx, "screens", storage.SearchFilter{Collections: []string{"kb3"}, Status: tandem.DocumentPublished})
		must(t, err)
		if len(got) != 0 {
			t.Errorf("draft found as published: %v", got)
		}
		must(t, s.DeleteDocument(ctx, d.ID))
		got, err = s.SearchText(ctx, "screens", only)
		must(t, err)
		if len(got) != 0 {
			t.Errorf("deleted chunk found: %v", got)
		}
	})
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		got, err := s.SearchText(ctx, "How do I get my money refunded?", storage.SearchFilter{Collections: []string{"kb"}, Status: tandem.DocumentPublished, Language: "en"})
		must(t, err)
		if len(got) == 0 || got[0].DocumentID != kb.refund {
			t.Fatalf("hits = %v, want refund first", docIDs(got))
		}
		h := got[0]
		if h.DocumentTitle != "Refund policy" || h.DocumentURL != "https://kb/Refund policy" || h.Text == "" || h.Collection != "kb" || h.ID == "" || h.Score <= 0 {
			t.Errorf("hit = %+v", h)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Score > got[i-1].Score {
				t.Errorf("not sorted by score: %v", got)
			}
		}
		got, err = s.SearchText(ctx, "delivery days", storage.SearchFilter{})
		must(t, err)
		if len(got) == 0 || got[0].DocumentID != kb.shipping {
			t.Errorf("delivery hits = %v, want shipping first", docIDs(got))
		}
	})
	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name string
			f    storage.SearchFilter
			want []string // as a set
		}{
			{"None", storage.SearchFilter{}, []string{kb.refund, kb.draft, kb.french, kb.other}},
			{"Collections", storage.SearchFilter{Collections: []string{"kb2"}}, []string{kb.other}},
			{"Tags", storage.SearchFilter{Tags: []string{"partners", "account"}}, []string{kb.other}},
			{"Language", storage.SearchFilter{Language: "fr"}, []string{kb.french}},
			{"Published", storage.SearchFilter{Collections: []string{"kb"}, Status: tandem.DocumentPublished}, []string{kb.refund, kb.french}},
			{"Draft", storage.SearchFilter{Status: tandem.DocumentDraft}, []string{kb.draft}},
			{"Limit", storage.SearchFilter{Collections: []string{"kb2"}, Limit: 1}, []string{kb.other}},
		}
		for _, tt := range tests {
			got, err := s.SearchText(ctx, "refund", tt.f)
			must(t, err)
			ids := docIDs(got)
			slices.Sort(ids)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(ids, want) {
				t.Errorf("%s: got %v, want %v", tt.name, ids, want)
			}
		}
		got, err := s.SearchText(ctx, "refund", storage.SearchFilter{Limit: 2})
		must(t, err)
		if len(got) != 2 {
			t.Errorf("limit 2 returned %d", len(got))
		}
	})
	t.Run("StopWords", func(t *testing.T) {
		t.Parallel()
		got, err := s.SearchText(ctx, "the and of", storage.SearchFilter{})
		must(t, err)
		if f.TextStopWords && len(got) != 0 {
			t.Errorf("stop-word query found %v", docIDs(got))
		}
		if !f.TextStopWords && len(got) == 0 {
			t.Errorf("stop-word query found nothing; set Features.TextStopWords if intended")
		}
	})
	t.Run("ErrNone", func(t *testing.T) {
		// Hostile or odd input must never become a query error.
		t.Parallel()
		for _, q := range []string{"", "   ", `"`, `refund"`, `refund" OR 1=1 --`, "AND OR NOT", "NEAR(refund password)", "refund*", "^refund", "title:refund",
			"(((", "a & b | !c <-> d", `'; DROP TABLE chunks; --`, "\x00\xff", "返金はできますか", "ré-fund", "-refund", "+refund", "{col}: x", "refund:*"} {
			if _, err := s.SearchText(ctx, q, storage.SearchFilter{}); err != nil {
				t.Errorf("SearchText(%q): %v", q, err)
			}
		}
		got, err := s.SearchText(ctx, `refund" OR "`, storage.SearchFilter{Collections: []string{"kb2"}})
		must(t, err)
		if len(got) != 1 {
			t.Errorf("quoted refund: %v", docIDs(got))
		}
	})
}

func testSearchVector(t *testing.T, s storage.Store, _ Features) {
	ctx := context.Background()
	kb := loadKB(t, s)
	t.Run("AfterChange", func(t *testing.T) {
		// Not parallel: it runs before the others, which then see its final state.
		_, err := s.EnsureCollection(ctx, tandem.Collection{Name: "vec", Embedder: "test", Dimension: 3})
		must(t, err)
		only := storage.SearchFilter{Collections: []string{"vec"}, Status: tandem.DocumentPublished}
		a := &tandem.Document{Collection: "vec", Title: "A", ContentHash: "1", Status: tandem.DocumentPublished}
		_, err = s.PutDocument(ctx, a, []tandem.Chunk{{Text: "a", Embedding: []float32{1, 0, 0}}})
		must(t, err)
		b := &tandem.Document{Collection: "vec", Title: "B", ContentHash: "1", Status: tandem.DocumentPublished}
		bChunks := []tandem.Chunk{{Text: "b", Embedding: []float32{0, 1, 0}}}
		_, err = s.PutDocument(ctx, b, bChunks)
		must(t, err)
		top := func() string {
			t.Helper()
			got, err := s.SearchVector(ctx, []float32{0, 0.2, 1}, only)
			must(t, err)
			if len(got) == 0 {
				return ""
			}
			return got[0].DocumentID
		}
		if got := top(); got != b.ID {
			t.Fatalf("top = %s, want B %s", got, b.ID)
		}
		// New version of A points at the query.
		a2 := &tandem.Document{ID: a.ID, Collection: "vec", Title: "A", ContentHash: "2", Status: tandem.DocumentPublished}
		_, err = s.PutDocument(ctx, a2, []tandem.Chunk{{Text: "a2", Embedding: []float32{0, 0, 1}}})
		must(t, err)
		if got := top(); got != a.ID {
			t.Fatalf("after update top = %s, want A %s", got, a.ID)
		}
		// Unpublish A: B again.
		must(t, s.SetDocumentStatus(ctx, a.ID, tandem.DocumentDraft))
		if got := top(); got != b.ID {
			t.Fatalf("after unpublish top = %s, want B", got)
		}
		must(t, s.SetDocumentStatus(ctx, a.ID, tandem.DocumentPublished))
		if got := top(); got != a.ID {
			t.Fatalf("after republish top = %s, want A", got)
		}
		// Re-embed B onto the query.
		bChunks[0].Embedding = []float32{0, 0.2, 1}
		must(t, s.ReplaceEmbeddings(ctx, bChunks))
		got, err := s.SearchVector(ctx, []float32{0, 0.2, 1}, only)
		must(t, err)
		if len(got) != 2 || got[0].DocumentID != b.ID || math.Abs(got[0].Score-1) > 1e-5 {
			t.Fatalf("after re-embed = %v", got)
		}
		must(t, s.DeleteDocument(ctx, b.ID))
		if got := top(); got != a.ID {
			t.Fatalf("after delete top = %s, want A", got)
		}
	})
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		got, err := s.SearchVector(ctx, []float32{2, 0, 0}, storage.SearchFilter{Collections: []string{"kb"}})
		must(t, err)
		want := []string{kb.refund, kb.draft, kb.french, kb.password, kb.shipping}
		// password (0,0,1) scores 0 like shipping; compare only the clear part of the order.
		if ids := docIDs(got); len(ids) != 5 || !slices.Equal(ids[:3], want[:3]) {
			t.Fatalf("order = %v, want %v", ids, want)
		}
		if math.Abs(got[0].Score-1) > 1e-5 {
			t.Errorf("best score = %v, want 1", got[0].Score)
		}
		wantDraft := 0.9 / math.Sqrt(0.82)
		if math.Abs(got[1].Score-wantDraft) > 1e-4 {
			t.Errorf("second score = %v, want %v", got[1].Score, wantDraft)
		}
		h := got[0]
		if h.DocumentTitle != "Refund policy" || h.DocumentURL == "" || h.Text == "" || h.Heading != "Refund policy" || h.Collection != "kb" {
			t.Errorf("hit = %+v", h)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		q := []float32{1, 0, 0}
		tests := []struct {
			name string
			f    storage.SearchFilter
			want []string // in order
		}{
			{"All", storage.SearchFilter{Limit: 3}, []string{kb.refund, kb.other, kb.draft}},
			{"Collections", storage.SearchFilter{Collections: []string{"kb2"}}, []string{kb.other}},
			{"Tags", storage.SearchFilter{Tags: []string{"account", "partners"}}, []string{kb.other, kb.password}},
			{"Language", storage.SearchFilter{Language: "fr"}, []string{kb.french}},
			{"Published", storage.SearchFilter{Collections: []string{"kb"}, Status: tandem.DocumentPublished, Limit: 2}, []string{kb.refund, kb.french}},
			{"Draft", storage.SearchFilter{Status: tandem.DocumentDraft}, []string{kb.draft}},
		}
		for _, tt := range tests {
			got, err := s.SearchVector(ctx, q, tt.f)
			must(t, err)
			if ids := docIDs(got); !slices.Equal(ids, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, ids, tt.want)
			}
		}
	})
	t.Run("ErrNone", func(t *testing.T) {
		t.Parallel()
		// A query of another dimension matches nothing rather than failing.
		got, err := s.SearchVector(ctx, []float32{1, 0}, storage.SearchFilter{})
		must(t, err)
		if len(got) != 0 {
			t.Errorf("wrong dimension matched %v", docIDs(got))
		}
	})
}
