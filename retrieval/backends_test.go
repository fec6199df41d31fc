package retrieval_test

import (
	"context"
	"fmt"
	"io/fs"
	"math"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots/demo"
	"github.com/tandemhq/tandem/internal/loadgen"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/storage"
)

// TestBackends runs the knowledge base's main behaviours on every store: answers with
// citations, no answer below the threshold, idempotent and versioned ingestion, drafts,
// re-embedding, and the same ranking scores on both (the vector side is identical by
// construction).
func TestBackends(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := b.open(t)
			kb := retrieval.New(store, nil)
			if _, err := kb.IngestFS(ctx, "demo", demoFS(), ".", nil); err != nil {
				t.Fatal(err)
			}
			a, err := kb.Answer(ctx, "How long does shipping take?", retrieval.AnswerOptions{Collections: []string{"demo"}})
			if err != nil {
				t.Fatal(err)
			}
			if !a.Found || a.Citations[0].DocID != "demo/shipping" || !strings.Contains(a.Text, "3 to 5") {
				t.Errorf("shipping answer = %+v", a)
			}
			a, err = kb.Answer(ctx, "What is the airspeed velocity of an unladen swallow?", retrieval.AnswerOptions{Collections: []string{"demo"}})
			if err != nil {
				t.Fatal(err)
			}
			if a.Found {
				t.Errorf("off-topic answer = %+v", a)
			}
			st, err := kb.IngestFS(ctx, "demo", demoFS(), ".", nil)
			if err != nil || st.Unchanged != st.Documents {
				t.Errorf("re-ingest = %+v, %v", st, err)
			}
			fsys := demoFS()
			fsys["articles/returns.md"].Data = []byte(strings.Replace(string(fsys["articles/returns.md"].Data), "30 days", "60 days", 1))
			if st, err := kb.IngestFS(ctx, "demo", fsys, ".", nil); err != nil || st.Updated != 1 {
				t.Errorf("update = %+v, %v", st, err)
			}
			if d, err := store.FindDocumentByID(ctx, "demo/returns"); err != nil || d.Version != 2 {
				t.Errorf("returns = %+v, %v", d, err)
			}
			if err := store.SetDocumentStatus(ctx, "demo/shipping", tandem.DocumentDraft); err != nil {
				t.Fatal(err)
			}
			ps, err := kb.Search(ctx, "shipping time", storage.SearchFilter{Collections: []string{"demo"}, Status: tandem.DocumentPublished})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				if p.DocumentID == "demo/shipping" {
					t.Errorf("draft found with status filter: %+v", p)
				}
			}
			ps, err = kb.Search(ctx, "refund after return", storage.SearchFilter{Collections: []string{"demo"}, Limit: 3})
			if err != nil || len(ps) == 0 || ps[0].DocumentID != "demo/returns" {
				t.Fatalf("refund search = %+v, %v", ps, err)
			}
			// The similarity is computed the same way on both stores.
			if ps[0].Similarity < 0.2 || ps[0].Similarity > 1 {
				t.Errorf("similarity = %v", ps[0].Similarity)
			}
			// Re-embedding rewrites every vector (on PostgreSQL around a rebuilt index) and
			// keeps the ranking.
			if _, err := kb.Reembed(ctx, "demo", nil); err != nil {
				t.Fatal(err)
			}
			ps, err = kb.Search(ctx, "refund after return", storage.SearchFilter{Collections: []string{"demo"}, Limit: 3})
			if err != nil || len(ps) == 0 || ps[0].DocumentID != "demo/returns" {
				t.Fatalf("refund search after reembed = %+v, %v", ps, err)
			}
		})
	}
}

// TestBackendsDemoAmongSynthetic asks the questions of `tandem bench turns` of the demo
// bot's knowledge grown with 10,000 synthetic FAQs, as the bench serves it, and wants the
// same answers on every store. PostgreSQL's HNSW index leaves the demo's articles, unlike
// the synthetic bulk, out of its searches; without the full-text candidates rescored
// exactly, its answers came from synthetic chunks of low similarity ("low_confidence").
func TestBackendsDemoAmongSynthetic(t *testing.T) {
	t.Parallel()
	knowledge, err := fs.Sub(demo.FS, demo.Root+"/knowledge")
	if err != nil {
		t.Fatal(err)
	}
	synthetic := retrieval.SyntheticSources(10000)
	tests := []struct {
		question  string
		wantFound bool
		wantDoc   string
	}{
		{"what payment methods do you accept", true, "demo/payment-methods"},
		{"do you ship to Canada?", true, "demo/international-shipping"},
		{"what is the meaning of life", false, ""},
	}
	// One store after the other: ingesting on both at once on two cores took longer.
	answers := make([]map[string]*retrieval.Answer, len(backends))
	for i, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			store := b.open(t)
			kb := retrieval.New(store, nil, retrieval.WithLogger(quiet))
			if _, err := kb.IngestFS(ctx, "demo", knowledge, ".", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := kb.Ingest(ctx, "demo", synthetic, nil); err != nil {
				t.Fatal(err)
			}
			answers[i] = map[string]*retrieval.Answer{}
			for _, q := range loadgen.DefaultScript {
				a, err := kb.Answer(ctx, q, retrieval.AnswerOptions{Collections: []string{"demo"}})
				if err != nil {
					t.Fatal(err)
				}
				answers[i][q] = a
			}
			for _, tt := range tests {
				a := answers[i][tt.question]
				if a.Found != tt.wantFound || tt.wantFound && a.Citations[0].DocID != tt.wantDoc {
					t.Errorf("%q: found %v (%s, confidence %.3f), passages %s; want found %v citing %s",
						tt.question, a.Found, a.Reason, a.Confidence, topPassages(a.Passages), tt.wantFound, tt.wantDoc)
				}
			}
		})
	}
	// The same answer from the same chunk; greetings and thanks, which have no full-text
	// match, may be declined with different confidences (the engine answers them from
	// intents anyway).
	for i := 1; i < len(backends); i++ {
		if answers[0] == nil || answers[i] == nil {
			continue // a store was skipped or failed
		}
		for _, q := range loadgen.DefaultScript {
			got, want := answers[i][q], answers[0][q]
			if got.Found != want.Found || got.Reason != want.Reason ||
				got.Found && (got.Citations[0].ChunkID != want.Citations[0].ChunkID || math.Abs(got.Confidence-want.Confidence) > 1e-6) {
				t.Errorf("%q: %s answers found %v (%s, %.3f) from %s, %s found %v (%s, %.3f) from %s", q,
					backends[i].name, got.Found, got.Reason, got.Confidence, topPassages(got.Passages),
					backends[0].name, want.Found, want.Reason, want.Confidence, topPassages(want.Passages))
			}
		}
	}
}

// topPassages describes the first passages with their ranks, for failure messages.
func topPassages(ps []retrieval.Passage) string {
	var b strings.Builder
	for _, p := range ps[:min(3, len(ps))] {
		fmt.Fprintf(&b, "[%s similarity %.3f vector #%d text #%d] ", p.ChunkID, p.Similarity, p.VectorRank, p.TextRank)
	}
	return b.String()
}
