package retrieval

import (
	"context"
	"fmt"

	"github.com/tmc/langchaingo/schema"
	"github.com/tmc/langchaingo/vectorstores"

	"github.com/tandemhq/tandem/retrieval/ingest"
	"github.com/tandemhq/tandem/storage"
)

// VectorStore adapts a KnowledgeBase collection to langchaingo's vectorstores.VectorStore,
// so it plugs into langchaingo chains and retrievers (vectorstores.ToRetriever). Searches
// are the knowledge base's hybrid searches.
type VectorStore struct {
	KB         *KnowledgeBase
	Collection string // default collection; vectorstores.WithNameSpace overrides it
}

var _ vectorstores.VectorStore = VectorStore{}

// AddDocuments ingests docs (idempotently) and returns their IDs. Metadata keys "id",
// "title", "url", "language" (strings) and "tags" ([]string) are used when present; a
// document without an id gets one derived from its content.
func (v VectorStore) AddDocuments(ctx context.Context, docs []schema.Document, options ...vectorstores.Option) ([]string, error) {
	opts := v.options(options)
	srcs := make([]Source, len(docs))
	ids := make([]string, len(docs))
	for i, d := range docs {
		s := Source{Body: d.PageContent, Kind: ingest.KindText, Origin: "langchaingo"}
		s.ID, _ = d.Metadata["id"].(string)
		s.Title, _ = d.Metadata["title"].(string)
		s.URL, _ = d.Metadata["url"].(string)
		s.Language, _ = d.Metadata["language"].(string)
		switch t := d.Metadata["tags"].(type) {
		case []string:
			s.Tags = t
		case string:
			s.Tags = []string{t}
		}
		if s.ID == "" {
			s.ID = "doc-" + hashString(d.PageContent)[:16]
		}
		srcs[i] = s
		ids[i] = DocumentID(opts.NameSpace, s.ID)
	}
	if _, err := v.KB.Ingest(ctx, opts.NameSpace, srcs, nil); err != nil {
		return nil, fmt.Errorf("add documents: %w", err)
	}
	return ids, nil
}

// SimilaritySearch returns the numDocuments best passages for query as documents whose
// Score is the fused score and whose metadata holds id, chunk_id, title, url, heading and
// similarity. vectorstores.WithScoreThreshold filters on similarity; WithFilters accepts a
// storage.SearchFilter.
func (v VectorStore) SimilaritySearch(ctx context.Context, query string, numDocuments int, options ...vectorstores.Option) ([]schema.Document, error) {
	opts := v.options(options)
	f, _ := opts.Filters.(storage.SearchFilter)
	if opts.NameSpace != "" {
		f.Collections = []string{opts.NameSpace}
	}
	f.Limit = numDocuments
	ps, err := v.KB.Search(ctx, query, f)
	if err != nil {
		return nil, fmt.Errorf("similarity search: %w", err)
	}
	out := make([]schema.Document, 0, len(ps))
	for _, p := range ps {
		if opts.ScoreThreshold > 0 && p.Similarity < float64(opts.ScoreThreshold) {
			continue
		}
		out = append(out, schema.Document{
			PageContent: p.Text,
			Score:       float32(p.Score),
			Metadata: map[string]any{
				"id": p.DocumentID, "chunk_id": p.ChunkID, "title": p.Title, "url": p.URL,
				"heading": p.Heading, "collection": p.Collection, "similarity": p.Similarity,
			},
		})
	}
	return out, nil
}

func (v VectorStore) options(options []vectorstores.Option) vectorstores.Options {
	opts := vectorstores.Options{NameSpace: v.Collection}
	for _, o := range options {
		o(&opts)
	}
	return opts
}
