package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

const collectionCols = `name, bot_id, embedder, dimension, created_at`

func scanCollection(row interface{ Scan(...any) error }) (*tandem.Collection, error) {
	var c tandem.Collection
	var created int64
	if err := row.Scan(&c.Name, &c.BotID, &c.Embedder, &c.Dimension, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMicros(created)
	return &c, nil
}

// EnsureCollection creates the collection or returns the existing one unchanged.
func (s *Store) EnsureCollection(ctx context.Context, c tandem.Collection) (*tandem.Collection, error) {
	if c.Name == "" {
		return nil, tandem.Errorf(tandem.EINVALID, "collection name is required")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	c.CreatedAt = dbTime(c.CreatedAt)
	var out *tandem.Collection
	var created bool
	s.kmu.Lock()
	defer s.kmu.Unlock()
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO collections (`+collectionCols+`) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
			c.Name, c.BotID, c.Embedder, c.Dimension, c.CreatedAt.UnixMicro())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		created = n == 1
		out, err = scanCollection(tx.QueryRowContext(ctx, `SELECT `+collectionCols+` FROM collections WHERE name = ?`, c.Name))
		return err
	})
	if err != nil {
		return nil, translate("ensure collection", err)
	}
	if created {
		// Indexed from its first document on, so no search ever waits for it to load.
		s.idx.created(c.Name)
	}
	return out, nil
}

// FindCollection returns the named collection or ENOTFOUND.
func (s *Store) FindCollection(ctx context.Context, name string) (*tandem.Collection, error) {
	c, err := s.findCollection(ctx, s.r, name)
	if err != nil {
		return nil, translate("find collection", err)
	}
	return c, nil
}

func (s *Store) findCollection(ctx context.Context, q querier, name string) (*tandem.Collection, error) {
	c, err := scanCollection(q.QueryRowContext(ctx, `SELECT `+collectionCols+` FROM collections WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("collection", name)
	}
	return c, err
}

// UpdateCollection records a new bot, embedder and dimension.
func (s *Store) UpdateCollection(ctx context.Context, c tandem.Collection) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE collections SET bot_id = ?, embedder = ?, dimension = ? WHERE name = ?`, c.BotID, c.Embedder, c.Dimension, c.Name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("collection", c.Name)
		}
		return nil
	})
	return translate("update collection", err)
}

// ListCollections returns all collections by name.
func (s *Store) ListCollections(ctx context.Context) ([]tandem.Collection, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+collectionCols+` FROM collections ORDER BY name`)
	if err != nil {
		return nil, translate("list collections", err)
	}
	defer rows.Close()
	out := []tandem.Collection{}
	for rows.Next() {
		c, err := scanCollection(rows)
		if err != nil {
			return nil, translate("list collections", err)
		}
		out = append(out, *c)
	}
	return out, translate("list collections", rows.Err())
}

const documentCols = `id, collection, title, source, url, tags, language, version, content_hash, status, body, created_at, updated_at`

func scanDocument(row interface{ Scan(...any) error }) (*tandem.Document, error) {
	var d tandem.Document
	var tags string
	var created, updated int64
	if err := row.Scan(&d.ID, &d.Collection, &d.Title, &d.Source, &d.URL, &tags, &d.Language, &d.Version, &d.ContentHash, &d.Status, &d.Body, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(tags), &d.Tags); err != nil {
		return nil, fmt.Errorf("decode tags: %w", err)
	}
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &d, nil
}

// PutDocument stores d with its chunks. For an existing ID an equal ContentHash is a no-op
// (d is filled from the stored row); otherwise Version is incremented and the chunks are
// replaced in one transaction. IDs of d and of chunks are assigned when empty (the chunks
// slice is updated in place). Every non-nil embedding must have the collection's dimension.
func (s *Store) PutDocument(ctx context.Context, d *tandem.Document, chunks []tandem.Chunk) (changed bool, err error) {
	if d.Collection == "" || d.Title == "" {
		return false, tandem.Errorf(tandem.EINVALID, "document needs a collection and a title")
	}
	if d.ID == "" {
		d.ID = newID()
	}
	if d.Status == "" {
		d.Status = tandem.DocumentDraft
	}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	s.kmu.Lock()
	defer s.kmu.Unlock()
	var seqs []int64
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		coll, err := s.findCollection(ctx, tx, d.Collection)
		if err != nil {
			return err
		}
		for i := range chunks {
			if e := chunks[i].Embedding; e != nil && len(e) != coll.Dimension {
				return tandem.Errorf(tandem.EINVALID, "chunk %d has dimension %d, collection %q has %d", i, len(e), coll.Name, coll.Dimension)
			}
		}
		old, err := scanDocument(tx.QueryRowContext(ctx, `SELECT `+documentCols+` FROM documents WHERE id = ?`, d.ID))
		now := s.now()
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if d.Version <= 0 {
				d.Version = 1
			}
			if d.CreatedAt.IsZero() {
				d.CreatedAt = now
			}
			d.CreatedAt = dbTime(d.CreatedAt)
		case err != nil:
			return err
		case old.ContentHash == d.ContentHash:
			*d = *old
			return nil
		default:
			d.Version = old.Version + 1
			d.CreatedAt = old.CreatedAt
			if err := s.deleteChunks(ctx, tx, d.ID); err != nil {
				return err
			}
		}
		d.UpdatedAt = now
		changed = true
		tags, _ := json.Marshal(d.Tags)
		if _, err := tx.ExecContext(ctx, `INSERT INTO documents (`+documentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET collection = excluded.collection, title = excluded.title, source = excluded.source,
			url = excluded.url, tags = excluded.tags, language = excluded.language, version = excluded.version,
			content_hash = excluded.content_hash, status = excluded.status, body = excluded.body, updated_at = excluded.updated_at`,
			d.ID, d.Collection, d.Title, d.Source, d.URL, string(tags), d.Language, d.Version, d.ContentHash, d.Status, d.Body,
			d.CreatedAt.UnixMicro(), d.UpdatedAt.UnixMicro()); err != nil {
			return err
		}
		seqs = make([]int64, len(chunks))
		for i := range chunks {
			c := &chunks[i]
			if c.ID == "" {
				c.ID = newID()
			}
			c.DocumentID, c.Collection = d.ID, d.Collection
			res, err := tx.ExecContext(ctx, `INSERT INTO chunks (id, document_id, collection, ordinal, heading, text, embedding, dimension) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				c.ID, c.DocumentID, c.Collection, c.Ordinal, c.Heading, c.Text, encodeVector(c.Embedding), len(c.Embedding))
			if err != nil {
				return err
			}
			if seqs[i], err = res.LastInsertId(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, translate("put document", err)
	}
	if changed {
		s.idx.putDoc(d, chunks, seqs)
	}
	return changed, nil
}

func (s *Store) deleteChunks(ctx context.Context, tx *sql.Tx, docID string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE document_id = ?`, docID)
	return err
}

// FindDocumentByID returns the document or ENOTFOUND.
func (s *Store) FindDocumentByID(ctx context.Context, id string) (*tandem.Document, error) {
	d, err := scanDocument(s.r.QueryRowContext(ctx, `SELECT `+documentCols+` FROM documents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, translate("find document", notFound("document", id))
	}
	if err != nil {
		return nil, translate("find document", err)
	}
	return d, nil
}

// ListDocuments returns matching documents ordered by collection and title.
func (s *Store) ListDocuments(ctx context.Context, f storage.DocumentFilter) ([]tandem.Document, error) {
	var where []string
	var args []any
	if f.Collection != "" {
		where, args = append(where, "collection = ?"), append(args, f.Collection)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Tag != "" {
		where, args = append(where, "EXISTS (SELECT 1 FROM json_each(documents.tags) WHERE value = ?)"), append(args, f.Tag)
	}
	if f.Query != "" {
		where, args = append(where, `lower(title) LIKE '%' || ? || '%' ESCAPE '\'`), append(args, likeEscape(strings.ToLower(f.Query)))
	}
	q := `SELECT ` + documentCols + ` FROM documents`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY collection, title, id`
	if f.Limit > 0 || f.Offset > 0 {
		limit := f.Limit
		if limit <= 0 {
			limit = -1
		}
		q += ` LIMIT ? OFFSET ?`
		args = append(args, limit, max(f.Offset, 0))
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate("list documents", err)
	}
	defer rows.Close()
	out := []tandem.Document{}
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, translate("list documents", err)
		}
		out = append(out, *d)
	}
	return out, translate("list documents", rows.Err())
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// SetDocumentStatus changes a document's review state (draft or published).
func (s *Store) SetDocumentStatus(ctx context.Context, id string, status tandem.DocumentStatus) error {
	if status != tandem.DocumentDraft && status != tandem.DocumentPublished {
		return tandem.Errorf(tandem.EINVALID, "unknown document status %q", status)
	}
	s.kmu.Lock()
	defer s.kmu.Unlock()
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE documents SET status = ?, updated_at = ? WHERE id = ?`, status, s.now().UnixMicro(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("document", id)
		}
		return nil
	})
	if err != nil {
		return translate("set document status", err)
	}
	s.idx.setStatus(id, status)
	return nil
}

// DeleteDocument removes a document and its chunks.
func (s *Store) DeleteDocument(ctx context.Context, id string) error {
	s.kmu.Lock()
	defer s.kmu.Unlock()
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := s.deleteChunks(ctx, tx, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM documents WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("document", id)
		}
		return nil
	})
	if err != nil {
		return translate("delete document", err)
	}
	s.idx.deleteDoc(id)
	return nil
}

// ListChunks returns a document's chunks in order, with embeddings.
func (s *Store) ListChunks(ctx context.Context, documentID string) ([]tandem.Chunk, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, document_id, collection, ordinal, heading, text, embedding FROM chunks WHERE document_id = ? ORDER BY ordinal, seq`, documentID)
	if err != nil {
		return nil, translate("list chunks", err)
	}
	defer rows.Close()
	out := []tandem.Chunk{}
	for rows.Next() {
		var c tandem.Chunk
		var blob []byte
		if err := rows.Scan(&c.ID, &c.DocumentID, &c.Collection, &c.Ordinal, &c.Heading, &c.Text, &blob); err != nil {
			return nil, translate("list chunks", err)
		}
		c.Embedding = decodeVector(blob)
		out = append(out, c)
	}
	return out, translate("list chunks", rows.Err())
}

// ReplaceEmbeddings overwrites the embeddings of the given chunks (by ID) in one
// transaction; an unknown chunk returns ENOTFOUND and changes nothing.
func (s *Store) ReplaceEmbeddings(ctx context.Context, chunks []tandem.Chunk) error {
	type applied struct {
		collection string
		e          entry
		vec        []float32
	}
	var done []applied
	s.kmu.Lock()
	defer s.kmu.Unlock()
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		done = done[:0]
		for _, c := range chunks {
			var a applied
			if err := tx.QueryRowContext(ctx, `UPDATE chunks SET embedding = ?, dimension = ? WHERE id = ? RETURNING collection, document_id, id, seq, ordinal, heading, text`,
				encodeVector(c.Embedding), len(c.Embedding), c.ID).Scan(&a.collection, &a.e.docID, &a.e.id, &a.e.seq, &a.e.ordinal, &a.e.heading, &a.e.text); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return notFound("chunk", c.ID)
				}
				return err
			}
			a.vec = c.Embedding
			done = append(done, a)
		}
		return nil
	})
	if err != nil {
		return translate("replace embeddings", err)
	}
	for _, a := range done {
		s.idx.setEmbedding(a.collection, a.e, a.vec)
	}
	return nil
}

func searchLimit(f storage.SearchFilter) int {
	if f.Limit <= 0 {
		return 10
	}
	return f.Limit
}

// searchCollections returns the collections f searches (all when it names none), loaded
// into the in-memory index.
func (s *Store) searchCollections(ctx context.Context, f storage.SearchFilter) ([]string, error) {
	collections := f.Collections
	if len(collections) == 0 {
		all, err := s.ListCollections(ctx)
		if err != nil {
			return nil, err
		}
		for _, c := range all {
			collections = append(collections, c.Name)
		}
	}
	for _, c := range collections {
		if err := s.idx.load(ctx, c); err != nil {
			return nil, err
		}
	}
	return collections, nil
}

// SearchText ranks chunks by BM25 (title weighted above heading above text, as FTS5's
// bm25(3, 2, 1) did) for any of the query's words, using the in-memory full-text index;
// Score is larger for better hits. Query syntax is never interpreted.
func (s *Store) SearchText(ctx context.Context, query string, f storage.SearchFilter) ([]tandem.ScoredChunk, error) {
	var terms []string
	for _, t := range storage.QueryTerms(query) {
		if tok := normalizeTerm(t); tok != "" {
			terms = append(terms, tok)
		}
	}
	if len(terms) == 0 {
		return []tandem.ScoredChunk{}, nil
	}
	collections, err := s.searchCollections(ctx, f)
	if err != nil {
		return nil, translate("search text", err)
	}
	return scored(s.idx.searchText(terms, collections, func(m *docMeta) bool { return matchDoc(m, f) }, searchLimit(f))), nil
}

// SearchVector ranks chunks by cosine similarity to vec using the in-memory index; chunks
// whose dimension differs from len(vec) are ignored. Score is the cosine similarity.
func (s *Store) SearchVector(ctx context.Context, vec []float32, f storage.SearchFilter) ([]tandem.ScoredChunk, error) {
	collections, err := s.searchCollections(ctx, f)
	if err != nil {
		return nil, translate("search vector", err)
	}
	return scored(s.idx.searchVector(vec, collections, func(m *docMeta) bool { return matchDoc(m, f) }, searchLimit(f))), nil
}

func scored(hits []hit) []tandem.ScoredChunk {
	out := make([]tandem.ScoredChunk, len(hits))
	for i, h := range hits {
		out[i] = tandem.ScoredChunk{Chunk: tandem.Chunk{ID: h.id, DocumentID: h.docID, Collection: h.collection, Ordinal: h.ordinal,
			Heading: h.heading, Text: h.text}, DocumentTitle: h.title, DocumentURL: h.url, Score: h.score}
	}
	return out
}
