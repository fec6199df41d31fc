package retrieval_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tandemhq/tandem/evals"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/ingest"
	"github.com/tandemhq/tandem/storage"
)

// TestStackFAQ scores hybrid retrieval on the StackFAQ dev questions through each store
// (set TANDEM_STACKFAQ to the dataset folder; `make test` does when the shared data is
// present). It is a quality gate at the targets: ranking is deterministic, so a
// change that loses quality fails here. `tandem eval retrieval` is the measuring tool.
func TestStackFAQ(t *testing.T) {
	dir := os.Getenv("TANDEM_STACKFAQ")
	if dir == "" {
		t.Skip("TANDEM_STACKFAQ not set")
	}
	corpus, err := evals.ReadJSONLFile[evals.CorpusDoc](filepath.Join(dir, "corpus.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	qs, err := evals.ReadJSONLFile[evals.RankingQuestion](filepath.Join(dir, "dev_questions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			store := b.open(t)
			kb := retrieval.New(store, nil)
			srcs := make([]retrieval.Source, len(corpus))
			for i, d := range corpus {
				srcs[i] = retrieval.Source{ID: d.ID, Title: d.Title, Body: d.Text, Kind: ingest.KindFAQ}
			}
			if _, err := kb.Ingest(ctx, "stackfaq", srcs, nil); err != nil {
				t.Fatal(err)
			}
			rep, err := evals.RunRanking(ctx, qs, func(ctx context.Context, q string) ([]string, error) {
				ps, err := kb.Search(ctx, q, storage.SearchFilter{Collections: []string{"stackfaq"}, Limit: 20})
				ids := make([]string, len(ps))
				for i, p := range ps {
					ids[i] = retrieval.LocalID("stackfaq", p.DocumentID)
				}
				return ids, err
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("recall@1 %.3f recall@5 %.3f mrr@10 %.3f", rep.RecallAt1, rep.RecallAt5, rep.MRRAt10)
			if rep.RecallAt5 < 0.93 || rep.MRRAt10 < 0.83 {
				t.Errorf("recall@5 = %.3f, MRR@10 = %.3f, want >= 0.93 and >= 0.83", rep.RecallAt5, rep.MRRAt10)
			}
		})
	}
}
