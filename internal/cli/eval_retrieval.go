package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/tmc/langchaingo/embeddings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/evals"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/embed"
	"github.com/tandemhq/tandem/retrieval/ingest"
	"github.com/tandemhq/tandem/storage"
)

// runEvalRetrieval ingests a JSONL corpus into a fresh collection and scores questions.
func runEvalRetrieval(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem eval retrieval")
	corpusPath := fs.String("corpus", "", "JSONL corpus {\"id\",\"title\",\"text\"} (required)")
	questionsPath := fs.String("questions", "", "JSONL questions {\"question\",\"doc_ids\"} (required)")
	storeKind := fs.String("store", "sqlite", "sqlite (a temporary file) or postgres (--database-url / TANDEM_DATABASE_URL)")
	dbURL := fs.String("database-url", envDefault(env, "TANDEM_DATABASE_URL", ""), "PostgreSQL URL for --store postgres")
	glossaryPath := fs.String("glossary", "", "glossary file applied to questions")
	format := fs.String("format", "text", "output format: text or json")
	dim := fs.Int("dimension", 0, "offline embedder dimension (default 1536, at most 2000)")
	textWeight := fs.Float64("text-weight", 0, "weight of full-text ranks in the fusion (default 0.7; negative: vector only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *corpusPath == "" || *questionsPath == "" {
		return fmt.Errorf("%w: tandem eval retrieval needs --corpus and --questions", errUsage)
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("%w: --format must be text or json", errUsage)
	}
	corpus, err := evals.ReadJSONLFile[evals.CorpusDoc](*corpusPath)
	if err != nil {
		return err
	}
	questions, err := evals.ReadJSONLFile[evals.RankingQuestion](*questionsPath)
	if err != nil {
		return err
	}
	if len(corpus) == 0 || len(questions) == 0 {
		return tandem.Errorf(tandem.EINVALID, "empty corpus or question set")
	}

	var store storage.Store
	switch *storeKind {
	case "sqlite":
		dir, err := os.MkdirTemp("", "tandem-eval-")
		if err != nil {
			return fmt.Errorf("temp folder: %w", err)
		}
		defer os.RemoveAll(dir)
		if store, err = openStore(ctx, storeFlags{dataDir: dir, migrate: true}); err != nil {
			return err
		}
	case "postgres":
		if *dbURL == "" {
			return fmt.Errorf("%w: --store postgres needs --database-url or TANDEM_DATABASE_URL", errUsage)
		}
		// A schema of its own, dropped afterwards, keeps the evaluation from touching
		// anything else in the database.
		dsn, drop, err := freshSchema(ctx, *dbURL)
		if err != nil {
			return err
		}
		defer drop()
		if store, err = openStore(ctx, storeFlags{databaseURL: dsn, migrate: true}); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: --store must be sqlite or postgres", errUsage)
	}
	defer store.Close()

	opts := []retrieval.Option{retrieval.WithFusion(retrieval.Fusion{TextWeight: *textWeight})}
	if *glossaryPath != "" {
		g, err := retrieval.LoadGlossary(*glossaryPath)
		if err != nil {
			return err
		}
		opts = append(opts, retrieval.WithGlossary(g))
	}
	emb, err := offlineEmbedder(*dim)
	if err != nil {
		return err
	}
	rep, err := evalRetrieval(ctx, store, emb, corpus, questions, opts...)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(env.Stdout, "questions     %d\nchunks        %d\nrecall@1      %.3f\nrecall@5      %.3f\nrecall@10     %.3f\nMRR@10        %.3f\np50 query     %.2f ms\np95 query     %.2f ms\nindex         %.2f s (%.0f chunks/s)\n",
		rep.N, rep.Chunks, rep.RecallAt1, rep.RecallAt5, rep.RecallAt10, rep.MRRAt10, rep.P50QueryMS, rep.P95QueryMS,
		rep.IndexSeconds, float64(rep.Chunks)/max(rep.IndexSeconds, 1e-9))
	return nil
}

// evalRetrieval ingests corpus into a fresh, uniquely named collection of store, scores the
// questions against it and deletes the collection's documents afterwards.
func evalRetrieval(ctx context.Context, store storage.KnowledgeStore, emb embeddings.Embedder, corpus []evals.CorpusDoc, questions []evals.RankingQuestion, opts ...retrieval.Option) (evals.RankingReport, error) {
	kb := retrieval.New(store, emb, opts...)
	collection := fmt.Sprintf("eval-%d", time.Now().UnixNano())
	srcs := make([]retrieval.Source, len(corpus))
	for i, d := range corpus {
		srcs[i] = retrieval.Source{ID: d.ID, Title: d.Title, Body: d.Text, Kind: ingest.KindFAQ, Origin: "corpus"}
	}
	start := time.Now()
	stats, err := kb.Ingest(ctx, collection, srcs, nil)
	if err != nil {
		return evals.RankingReport{}, err
	}
	indexed := time.Since(start)
	defer func() {
		// Best effort: the collection row stays (the store has no way to drop one).
		for _, s := range srcs {
			_ = store.DeleteDocument(context.WithoutCancel(ctx), retrieval.DocumentID(collection, s.ID))
		}
	}()
	rep, err := evals.RunRanking(ctx, questions, func(ctx context.Context, q string) ([]string, error) {
		ps, err := kb.Search(ctx, q, storage.SearchFilter{Collections: []string{collection}, Limit: 20})
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(ps))
		for i, p := range ps {
			ids[i] = retrieval.LocalID(collection, p.DocumentID)
		}
		return ids, nil
	})
	if err != nil {
		return rep, err
	}
	rep.IndexSeconds = indexed.Seconds()
	rep.Chunks = stats.Chunks
	return rep, nil
}

// offlineEmbedder returns the offline embedder with its tuned configuration and, when dim
// is not zero, that dimension.
func offlineEmbedder(dim int) (*embed.Hashing, error) {
	cfg := embed.DefaultConfig()
	if dim != 0 {
		cfg.Dimension = dim
	}
	h, err := embed.New(cfg, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", errUsage, err)
	}
	return h, nil
}
