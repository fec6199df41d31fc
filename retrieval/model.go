package retrieval

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"strings"

	"github.com/tmc/langchaingo/embeddings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval/embed"
)

// statsDocName is the local ID of the hidden document that holds a collection's offline
// embedder statistics. It has no chunks, so it never appears in searches, and it is a draft.
const statsDocName = ".tandem/embedder-stats"

// DocumentID returns the stored ID of a source: document IDs are global in the store, so
// they are namespaced by collection ("faq/shipping").
func DocumentID(collection, localID string) string { return collection + "/" + localID }

// LocalID strips the collection prefix from a stored document ID.
func LocalID(collection, docID string) string { return strings.TrimPrefix(docID, collection+"/") }

// IsInternalDocument reports whether a stored document is bookkeeping of the knowledge base
// rather than content (listings should hide it).
func IsInternalDocument(d tandem.Document) bool {
	return d.ID == DocumentID(d.Collection, statsDocName)
}

// hashing returns the offline embedder, or nil when another embedder is configured.
func (kb *KnowledgeBase) hashing() *embed.Hashing {
	h, _ := kb.emb.(*embed.Hashing)
	return h
}

// embedderFor returns the embedder of a collection: the offline embedder with the
// collection's statistics, or the configured embedder.
func (kb *KnowledgeBase) embedderFor(ctx context.Context, collection string) (embeddings.Embedder, error) {
	h := kb.hashing()
	if h == nil {
		return kb.emb, nil
	}
	kb.mu.Lock()
	m, ok := kb.models[collection]
	kb.mu.Unlock()
	if ok {
		return m, nil
	}
	stats, err := kb.loadStats(ctx, collection)
	if err != nil {
		return nil, err
	}
	m = h.WithStats(stats)
	kb.mu.Lock()
	kb.models[collection] = m
	kb.mu.Unlock()
	return m, nil
}

func (kb *KnowledgeBase) loadStats(ctx context.Context, collection string) (*embed.Stats, error) {
	d, err := kb.store.FindDocumentByID(ctx, DocumentID(collection, statsDocName))
	if tandem.ErrorCode(err) == tandem.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load embedder statistics: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(d.Body)
	if err != nil {
		return nil, fmt.Errorf("load embedder statistics: %w", err)
	}
	st := embed.NewStats()
	if err := st.UnmarshalBinary(raw); err != nil {
		return nil, fmt.Errorf("load embedder statistics: %w", err)
	}
	return st, nil
}

// learn adds texts to the collection's statistics, stores them and returns the updated
// embedder. Vectors stored before keep their old weights until `kb reembed`; the drift is
// small once a collection has a few dozen documents.
func (kb *KnowledgeBase) learn(ctx context.Context, collection string, texts []string, refit bool) (embeddings.Embedder, error) {
	h := kb.hashing()
	if h == nil {
		return kb.emb, nil
	}
	st := embed.NewStats()
	if !refit {
		old, err := kb.loadStats(ctx, collection)
		if err != nil {
			return nil, err
		}
		if old != nil {
			st.Docs = old.Docs
			st.DF = maps.Clone(old.DF)
		}
	}
	st.Add(h, texts...)
	raw, err := st.MarshalBinary()
	if err != nil {
		return nil, err
	}
	body := base64.StdEncoding.EncodeToString(raw)
	doc := &tandem.Document{
		ID: DocumentID(collection, statsDocName), Collection: collection, Title: "embedder statistics",
		Source: h.Name(), Status: tandem.DocumentDraft, Body: body, ContentHash: hashString(body),
	}
	if _, err := kb.store.PutDocument(ctx, doc, nil); err != nil {
		return nil, fmt.Errorf("store embedder statistics: %w", err)
	}
	m := h.WithStats(st)
	kb.mu.Lock()
	kb.models[collection] = m
	kb.mu.Unlock()
	return m, nil
}

// embedText is what a chunk's vector is computed from: its title line (document title and
// section heading) then its text, which the offline embedder weighs apart.
func embedText(title, heading, text string) string {
	line := title
	if heading != "" && heading != title {
		line = strings.TrimSpace(title + " — " + heading)
	}
	line = strings.ReplaceAll(line, "\n", " ")
	if line == "" {
		return text
	}
	return line + "\n" + text
}
