package retrieval

import (
	"context"
	"fmt"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// ListDocuments returns every content document of a collection (bookkeeping documents
// hidden), paging through the store.
func (kb *KnowledgeBase) ListDocuments(ctx context.Context, f storage.DocumentFilter) ([]tandem.Document, error) {
	const page = 500
	want := f.Limit
	var out []tandem.Document
	for offset := f.Offset; ; offset += page {
		pf := f
		pf.Limit, pf.Offset = page, offset
		docs, err := kb.store.ListDocuments(ctx, pf)
		if err != nil {
			return nil, fmt.Errorf("list documents: %w", err)
		}
		for _, d := range docs {
			if !IsInternalDocument(d) {
				out = append(out, d)
			}
		}
		if len(docs) < page || (want > 0 && len(out) >= want) {
			break
		}
	}
	if want > 0 && len(out) > want {
		out = out[:want]
	}
	return out, nil
}

// Reembed recomputes every chunk vector of collection with the configured embedder
// (refitting the offline embedder's statistics on the whole collection) and records the
// embedder and dimension on the collection. Run it after changing the embedder or its
// configuration, or after many incremental ingests. It returns the number of chunks.
func (kb *KnowledgeBase) Reembed(ctx context.Context, collection string, progress ProgressFunc) (int, error) {
	kb.ingMu.Lock()
	defer kb.ingMu.Unlock()
	defer kb.answers.purge()
	c, err := kb.store.FindCollection(ctx, collection)
	if err != nil {
		return 0, fmt.Errorf("reembed: %w", err)
	}
	docs, err := kb.ListDocuments(ctx, storage.DocumentFilter{Collection: collection})
	if err != nil {
		return 0, err
	}
	var chunks []tandem.Chunk
	var texts []string
	for _, d := range docs {
		cs, err := kb.store.ListChunks(ctx, d.ID)
		if err != nil {
			return 0, fmt.Errorf("reembed %s: %w", d.ID, err)
		}
		for _, ch := range cs {
			chunks = append(chunks, ch)
			texts = append(texts, embedText(d.Title, ch.Heading, ch.Text))
		}
	}
	emb, err := kb.learn(ctx, collection, texts, true)
	if err != nil {
		return 0, err
	}
	err = kb.loadVectors(ctx, collection, len(chunks), func() (bool, error) {
		for i := 0; i < len(texts); i += embedBatch {
			end := min(i+embedBatch, len(texts))
			vs, err := emb.EmbedDocuments(ctx, texts[i:end])
			if err != nil {
				return false, err
			}
			batch := chunks[i:end]
			for j := range batch {
				batch[j].Embedding = vs[j]
			}
			if len(vs) > 0 && c.Dimension != len(vs[0]) || c.Embedder != kb.embName {
				c.Embedder, c.Dimension = kb.embName, len(vs[0])
				if err := kb.store.UpdateCollection(ctx, *c); err != nil {
					return false, err
				}
			}
			if err := kb.store.ReplaceEmbeddings(ctx, batch); err != nil {
				return false, err
			}
			if progress != nil {
				progress(end, len(texts))
			}
		}
		return len(chunks) > 0, nil
	})
	if err != nil {
		return 0, fmt.Errorf("reembed: %w", err)
	}
	if c.Embedder != kb.embName {
		c.Embedder = kb.embName
		if err := kb.store.UpdateCollection(ctx, *c); err != nil {
			return 0, fmt.Errorf("reembed: %w", err)
		}
	}
	return len(chunks), nil
}
