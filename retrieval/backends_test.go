package retrieval_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
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
