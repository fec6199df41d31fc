package retrieval

import (
	"context"
	"fmt"

	"github.com/tmc/langchaingo/embeddings"

	"github.com/tandemhq/tandem"
)

// documentBatcher is a store that writes many documents in one transaction
// (storage/postgres), which ingestion uses when available: writing a document per
// transaction, ingestion was bound by round trips and commits.
type documentBatcher interface {
	PutDocuments(ctx context.Context, docs []*tandem.Document, chunks [][]tandem.Chunk) ([]bool, error)
}

// vectorIndexer is a store that builds a collection's vector index in one pass, far
// cheaper than indexing a bulk load row by row (storage/postgres): ingestion and
// re-embedding announce how many chunks they are about to write, which lets the store
// drop the index when rebuilding it is cheaper, and ask for the build once they are
// written.
type vectorIndexer interface {
	BeginVectorLoad(ctx context.Context, collection string, chunks int) (dropped bool, err error)
	BuildVectorIndex(ctx context.Context, collection string) error
}

// loadVectors runs load, a write of about chunks chunks of the collection, between the
// store's BeginVectorLoad and BuildVectorIndex when it has them. A failed load still
// rebuilds an index that was dropped for it.
func (kb *KnowledgeBase) loadVectors(ctx context.Context, collection string, chunks int, load func() (wrote bool, err error)) error {
	vi, ok := kb.store.(vectorIndexer)
	if !ok {
		_, err := load()
		return err
	}
	dropped, err := vi.BeginVectorLoad(ctx, collection, chunks)
	if err != nil {
		return err
	}
	wrote, err := load()
	if err != nil {
		if dropped {
			if err := vi.BuildVectorIndex(context.WithoutCancel(ctx), collection); err != nil {
				kb.logger.WarnContext(ctx, "rebuild vector index after a failed load", "collection", collection, "error", err)
			}
		}
		return err
	}
	if wrote || dropped {
		if err := vi.BuildVectorIndex(ctx, collection); err != nil {
			return fmt.Errorf("build vector index: %w", err)
		}
	}
	return nil
}

// Bounds of one write batch: large enough to amortise a commit, small enough that progress
// moves and a transaction stays short.
const (
	writeBatchDocs   = 64
	writeBatchChunks = 256
)

// write embeds the chunks of todo and stores the documents, batch by batch; embedding the
// next batch overlaps writing this one. done is called once per document, in order.
func (kb *KnowledgeBase) write(ctx context.Context, collection string, emb embeddings.Embedder, todo []pending, done func(p pending, changed bool)) error {
	var batches [][]pending
	for start := 0; start < len(todo); {
		end, n := start, 0
		for end < len(todo) && end-start < writeBatchDocs && (n == 0 || n+len(todo[end].chunks) <= writeBatchChunks) {
			n += len(todo[end].chunks)
			end++
		}
		batches = append(batches, todo[start:end])
		start = end
	}
	type embedded struct {
		vecs [][]float32
		err  error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan embedded, 1)
	go func() {
		defer close(ready)
		for _, b := range batches {
			var texts []string
			for _, p := range b {
				texts = append(texts, p.texts...)
			}
			var e embedded
			for i := 0; i < len(texts) && e.err == nil; i += embedBatch {
				var v [][]float32
				v, e.err = emb.EmbedDocuments(ctx, texts[i:min(i+embedBatch, len(texts))])
				e.vecs = append(e.vecs, v...)
			}
			if e.err == nil && len(e.vecs) != len(texts) {
				e.err = fmt.Errorf("got %d vectors for %d texts", len(e.vecs), len(texts))
			}
			select {
			case ready <- e:
			case <-ctx.Done():
				return
			}
			if e.err != nil {
				return
			}
		}
	}()
	ensured := false
	for _, b := range batches {
		e, ok := <-ready
		if !ok {
			return ctx.Err()
		}
		if e.err != nil {
			return fmt.Errorf("embed: %w", e.err)
		}
		if !ensured && len(e.vecs) > 0 {
			if err := kb.ensureCollection(ctx, collection, len(e.vecs[0])); err != nil {
				return err
			}
			ensured = true
		}
		k := 0
		for _, p := range b {
			for i := range p.chunks {
				p.chunks[i].Embedding = e.vecs[k]
				k++
			}
		}
		changed, err := kb.put(ctx, b)
		if err != nil {
			return err
		}
		for i, p := range b {
			done(p, changed[i])
		}
	}
	return nil
}

// put stores a batch of documents, in one transaction when the store can.
func (kb *KnowledgeBase) put(ctx context.Context, b []pending) ([]bool, error) {
	if bs, ok := kb.store.(documentBatcher); ok {
		docs := make([]*tandem.Document, len(b))
		chunks := make([][]tandem.Chunk, len(b))
		for i, p := range b {
			docs[i], chunks[i] = p.doc, p.chunks
		}
		changed, err := bs.PutDocuments(ctx, docs, chunks)
		if err != nil {
			return nil, fmt.Errorf("store %s..%s: %w", docs[0].ID, docs[len(docs)-1].ID, err)
		}
		return changed, nil
	}
	changed := make([]bool, len(b))
	for i, p := range b {
		var err error
		if changed[i], err = kb.store.PutDocument(ctx, p.doc, p.chunks); err != nil {
			return nil, fmt.Errorf("store %s: %w", p.doc.ID, err)
		}
	}
	return changed, nil
}
