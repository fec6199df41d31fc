package retrieval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval/ingest"
	"github.com/tandemhq/tandem/storage"
)

// ProgressFunc is told how many of total documents an ingest has processed; it is called
// from the ingesting goroutine after each document.
type ProgressFunc func(done, total int)

func hashString(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

const embedBatch = 256

// pending is a document to write with its chunks and the texts their vectors come from.
type pending struct {
	doc    *tandem.Document
	chunks []tandem.Chunk
	texts  []string
	isNew  bool
}

// Ingest stores sources in collection, creating it when needed. It is idempotent: a source
// whose content is unchanged is skipped; a changed one becomes a new version of its
// document whose chunks replace the old ones atomically. progress may be nil.
func (kb *KnowledgeBase) Ingest(ctx context.Context, collection string, srcs []Source, progress ProgressFunc) (IngestStats, error) {
	var st IngestStats
	if collection == "" {
		return st, tandem.Errorf(tandem.EINVALID, "collection name is required")
	}
	seen := make(map[string]bool, len(srcs))
	for _, s := range srcs {
		if err := s.Validate(); err != nil {
			return st, err
		}
		if s.ID == statsDocName {
			return st, tandem.Errorf(tandem.EINVALID, "document id %q is reserved", s.ID)
		}
		if seen[s.ID] {
			return st, tandem.Errorf(tandem.EINVALID, "document id %q appears twice", s.ID)
		}
		seen[s.ID] = true
	}
	kb.ingMu.Lock()
	defer kb.ingMu.Unlock()
	defer kb.answers.purge()
	if err := kb.checkCollection(ctx, collection); err != nil {
		return st, err
	}

	var todo []pending
	var texts []string
	st.Documents = len(srcs)
	// One listing instead of a lookup per source: ingestion is bound by store round trips.
	existing, err := kb.ListDocuments(ctx, storage.DocumentFilter{Collection: collection})
	if err != nil {
		return st, fmt.Errorf("ingest: %w", err)
	}
	byID := make(map[string]*tandem.Document, len(existing))
	for i := range existing {
		byID[existing[i].ID] = &existing[i]
	}
	for _, s := range srcs {
		id := DocumentID(collection, s.ID)
		hash := s.Hash()
		old := byID[id]
		if old != nil && old.ContentHash == hash {
			st.Unchanged++
			continue
		}
		status := s.Status
		if status == "" {
			status = tandem.DocumentPublished
			if old != nil {
				status = old.Status
			}
			if status == tandem.DocumentInReview {
				status = tandem.DocumentDraft // a change ends the review round
			}
		}
		pieces, err := kb.splitter.Split(s)
		if err != nil {
			return st, fmt.Errorf("split %s: %w", s.ID, err)
		}
		doc := &tandem.Document{
			ID: id, Collection: collection, Title: s.Title, Source: s.Origin, URL: s.URL, Tags: s.Tags,
			Language: s.Language, ContentHash: hash, Status: status, Body: s.Body,
		}
		chunks := make([]tandem.Chunk, len(pieces))
		first := len(texts)
		for i, p := range pieces {
			if clean, ok := stripInjection(p.Text); ok {
				// Keep planted instructions out of the index, where they would match
				// questions carrying the same instructions.
				kb.logger.WarnContext(ctx, "instructions to an assistant removed from a knowledge chunk", "document_id", id)
				p.Text = clean
				if strings.TrimSpace(p.Text) == "" {
					p.Text = s.Title
				}
			}
			chunks[i] = tandem.Chunk{
				ID: fmt.Sprintf("%s#%s-%d", id, hash[:8], i), DocumentID: id, Collection: collection,
				Ordinal: i, Heading: p.Heading, Text: p.Text,
			}
			texts = append(texts, embedText(s.Title, p.Heading, p.Text))
		}
		todo = append(todo, pending{doc: doc, chunks: chunks, texts: texts[first:len(texts):len(texts)], isNew: old == nil})
	}
	if len(todo) == 0 {
		if progress != nil {
			progress(len(srcs), len(srcs))
		}
		return st, nil
	}

	if h := kb.hashing(); h != nil {
		// The statistics document belongs to the collection, so it must exist first.
		if err := kb.ensureCollection(ctx, collection, h.Config().Dimension); err != nil {
			return st, err
		}
	}
	emb, err := kb.learn(ctx, collection, texts, false)
	if err != nil {
		return st, err
	}
	n := 0
	for _, p := range todo {
		n += len(p.chunks)
	}
	err = kb.loadVectors(ctx, collection, n, func() (bool, error) {
		err := kb.write(ctx, collection, emb, todo, func(p pending, changed bool) {
			switch {
			case !changed:
				st.Unchanged++
			case p.isNew:
				st.Added++
				st.Chunks += len(p.chunks)
			default:
				st.Updated++
				st.Chunks += len(p.chunks)
			}
			if progress != nil {
				progress(st.Unchanged+st.Added+st.Updated, len(srcs))
			}
		})
		return st.Chunks > 0, err
	})
	if err != nil {
		return st, fmt.Errorf("ingest: %w", err)
	}
	kb.logger.InfoContext(ctx, "knowledge ingested", "collection", collection, "added", st.Added,
		"updated", st.Updated, "unchanged", st.Unchanged, "chunks", st.Chunks)
	return st, nil
}

func (kb *KnowledgeBase) ensureCollection(ctx context.Context, collection string, dim int) error {
	_, err := kb.store.EnsureCollection(ctx, tandem.Collection{Name: collection, Embedder: kb.embName, Dimension: dim, CreatedAt: kb.now()})
	if err != nil {
		return fmt.Errorf("ensure collection: %w", err)
	}
	return nil
}

// checkCollection refuses to mix embedders in one collection.
func (kb *KnowledgeBase) checkCollection(ctx context.Context, collection string) error {
	c, err := kb.store.FindCollection(ctx, collection)
	if tandem.ErrorCode(err) == tandem.ENOTFOUND {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find collection: %w", err)
	}
	if c.Embedder != "" && c.Embedder != kb.embName {
		return tandem.Errorf(tandem.ECONFLICT, "collection %q was embedded with %s but %s is configured; run `tandem kb reembed`",
			collection, c.Embedder, kb.embName)
	}
	return nil
}

// IngestFS loads every supported file under root in fsys (or root itself when it is a
// file) and ingests it (see Ingest and ingest.LoadFS).
func (kb *KnowledgeBase) IngestFS(ctx context.Context, collection string, fsys fs.FS, root string, progress ProgressFunc) (IngestStats, error) {
	srcs, err := ingest.LoadFS(ctx, fsys, root)
	if err != nil {
		return IngestStats{}, err
	}
	return kb.Ingest(ctx, collection, srcs, progress)
}

// IngestPath ingests a file or folder of the local file system.
func (kb *KnowledgeBase) IngestPath(ctx context.Context, collection, path string, progress ProgressFunc) (IngestStats, error) {
	srcs, err := LoadPath(ctx, path)
	if err != nil {
		return IngestStats{}, err
	}
	return kb.Ingest(ctx, collection, srcs, progress)
}

// LoadPath reads the sources of a local file or folder without ingesting them (to adjust
// them first, e.g. ingest as drafts).
func LoadPath(ctx context.Context, path string) ([]Source, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return nil, tandem.Errorf(tandem.ENOTFOUND, "%s: no such file or folder", path)
	}
	dir, root := abs, "."
	if !info.IsDir() {
		dir, root = filepath.Dir(abs), filepath.Base(abs)
	}
	return ingest.LoadFS(ctx, os.DirFS(dir), root)
}
