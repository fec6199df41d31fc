package retrieval

import (
	"context"
	"fmt"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval/ingest"
	"github.com/tandemhq/tandem/storage"
)

// SetDocumentStatus publishes or unpublishes a document (see storage.KnowledgeStore). Going
// through the knowledge base rather than the store makes customers' next answers see the
// change at once (the answer cache is cleared).
func (kb *KnowledgeBase) SetDocumentStatus(ctx context.Context, id string, status tandem.DocumentStatus) error {
	defer kb.answers.purge()
	if err := kb.store.SetDocumentStatus(ctx, id, status); err != nil {
		return fmt.Errorf("set document status: %w", err)
	}
	return nil
}

// DeleteDocument deletes a document and its chunks; the answer cache is cleared.
func (kb *KnowledgeBase) DeleteDocument(ctx context.Context, id string) error {
	defer kb.answers.purge()
	if err := kb.store.DeleteDocument(ctx, id); err != nil {
		return fmt.Errorf("delete document: %w", err)
	}
	return nil
}

// ReviewDocument applies a review transition (storage.KnowledgeStore.ReviewDocument); the
// answer cache is cleared, as approving publishes.
func (kb *KnowledgeBase) ReviewDocument(ctx context.Context, c storage.ReviewChange) error {
	defer kb.answers.purge()
	if err := kb.store.ReviewDocument(ctx, c); err != nil {
		return fmt.Errorf("review document: %w", err)
	}
	return nil
}

// KindOf guesses how a stored document was chunked, to re-ingest an edit of it the same
// way: an FAQ pair is one chunk headed by its question and holding the whole answer.
func KindOf(d *tandem.Document, chunks []tandem.Chunk) ingest.Kind {
	if len(chunks) == 1 && chunks[0].Heading == d.Title && chunks[0].Text == strings.TrimSpace(d.Body) {
		return ingest.KindFAQ
	}
	return ingest.KindMarkdown
}
