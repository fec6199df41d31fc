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
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO collections (`+collectionCols+`) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
			c.Name, c.BotID, c.Embedder, c.Dimension, c.CreatedAt.UnixMicro()); err != nil {
			return err
		}
		var err error
		out, err = scanCollection(tx.QueryRowContext(ctx, `SELECT `+collectionCols+` FROM collections WHERE name = ?`, c.Name))
		return err
	})
	if err != nil {
		return nil, translate("ensure collection", err)
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
			if _, err := tx.ExecContext(ctx, `INSERT INTO chunks_fts (rowid, title, heading, text) VALUES (?, ?, ?, ?)`, seqs[i], d.Title, c.Heading, c.Text); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, translate("put document", err)
	}
	if changed {
		s.vec.putDoc(d, chunks, seqs)
		s.knowledgeChanged()
		s.fts.wrote(s, len(chunks))
	}
	return changed, nil
}

func (s *Store) deleteChunks(ctx context.Context, tx *sql.Tx, docID string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM chunks_fts WHERE rowid IN (SELECT seq FROM chunks WHERE document_id = ?)`, docID); err != nil {
		return err
	}
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
	s.vec.setStatus(id, status)
	s.knowledgeChanged()
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
	s.vec.deleteDoc(id)
	s.knowledgeChanged()
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
		s.vec.setEmbedding(a.collection, a.e, a.vec)
	}
	s.knowledgeChanged()
	return nil
}

// searchWhere returns the SQL conditions on documents d for f.
func searchWhere(f storage.SearchFilter) (string, []any) {
	var where []string
	var args []any
	if len(f.Collections) > 0 {
		where = append(where, "d.collection IN ("+placeholders(len(f.Collections))+")")
		for _, c := range f.Collections {
			args = append(args, c)
		}
	}
	if len(f.Tags) > 0 {
		where = append(where, "EXISTS (SELECT 1 FROM json_each(d.tags) WHERE value IN ("+placeholders(len(f.Tags))+"))")
		for _, t := range f.Tags {
			args = append(args, t)
		}
	}
	if f.Language != "" {
		where, args = append(where, "d.language = ?"), append(args, f.Language)
	}
	if f.Status != "" {
		where, args = append(where, "d.status = ?"), append(args, f.Status)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " AND " + strings.Join(where, " AND "), args
}

func searchLimit(f storage.SearchFilter) int {
	if f.Limit <= 0 {
		return 10
	}
	return f.Limit
}

// SearchText ranks chunks by FTS5 bm25 (title weighted above heading above text) for any of
// the query's words; Score is -bm25, larger is better. Query syntax is never interpreted.
//
// The best matches are ranked inside the FTS index first and only those are joined with
// chunks and documents; when the filter leaves fewer than the limit of them and there were
// more matches than were joined, the search is repeated over every match, so the result is
// always exact.
func (s *Store) SearchText(ctx context.Context, query string, f storage.SearchFilter) ([]tandem.ScoredChunk, error) {
	match := ftsQuery(query)
	if match == "" {
		return []tandem.ScoredChunk{}, nil
	}
	where, wargs := searchWhere(f)
	limit := searchLimit(f)
	const cols = `c.id, c.document_id, c.collection, c.ordinal, c.heading, c.text, d.title, d.url`
	// Each row also carries how many matches were joined: fewer than the prefetch means
	// they were all the matches, and no fallback is needed.
	topQ := `WITH top AS MATERIALIZED (SELECT rowid AS seq, -bm25(chunks_fts, 3.0, 2.0, 1.0) AS score
		FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY score DESC, rowid LIMIT ?)
		SELECT ` + cols + `, top.score, (SELECT count(*) FROM top) FROM top
		JOIN chunks c ON c.seq = top.seq JOIN documents d ON d.id = c.document_id
		WHERE 1` + where + ` ORDER BY top.score DESC, top.seq LIMIT ?`
	args := append([]any{match, textPrefetch(limit)}, wargs...)
	var sn *snapshot
	if s.snap != nil {
		var err error
		if sn, err = s.snap.get(ctx); err != nil {
			return nil, translate("search text", err)
		}
	}
	out, joined, err := s.searchText(ctx, sn, topQ, true, append(args, limit))
	if err == nil && len(out) < limit && (len(out) == 0 || joined >= textPrefetch(limit)) {
		allQ := `SELECT ` + cols + `, -bm25(chunks_fts, 3.0, 2.0, 1.0) AS score
			FROM chunks_fts JOIN chunks c ON c.seq = chunks_fts.rowid JOIN documents d ON d.id = c.document_id
			WHERE chunks_fts MATCH ?` + where + ` ORDER BY score DESC, c.seq LIMIT ?`
		args = append([]any{match}, wargs...)
		out, _, err = s.searchText(ctx, sn, allQ, false, append(args, limit))
	}
	if sn != nil {
		s.snap.put(sn, err)
	}
	return out, err
}

// knowledgeChanged ends the full-text snapshots after a committed knowledge write.
func (s *Store) knowledgeChanged() {
	if s.snap != nil {
		s.snap.changed()
	}
}

// textPrefetch is how many of the best FTS matches SearchText joins before filtering.
func textPrefetch(limit int) int { return 2*limit + 20 }

// searchText runs a full-text query; with counted, each row ends with a count that is
// returned too.
func (s *Store) searchText(ctx context.Context, sn *snapshot, q string, counted bool, args []any) (out []tandem.ScoredChunk, count int, err error) {
	var st *sql.Stmt
	if sn != nil {
		st, err = sn.stmt(ctx, q)
	} else {
		st, err = s.rstmt(ctx, q)
	}
	if err != nil {
		return nil, 0, translate("search text", err)
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, 0, translate("search text", err)
	}
	defer rows.Close()
	out = []tandem.ScoredChunk{}
	for rows.Next() {
		var h tandem.ScoredChunk
		dest := []any{&h.ID, &h.DocumentID, &h.Collection, &h.Ordinal, &h.Heading, &h.Text, &h.DocumentTitle, &h.DocumentURL, &h.Score}
		if counted {
			dest = append(dest, &count)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, 0, translate("search text", err)
		}
		out = append(out, h)
	}
	return out, count, translate("search text", rows.Err())
}

// SearchVector ranks chunks by cosine similarity to vec using the in-memory index; chunks
// whose dimension differs from len(vec) are ignored. Score is the cosine similarity.
func (s *Store) SearchVector(ctx context.Context, vec []float32, f storage.SearchFilter) ([]tandem.ScoredChunk, error) {
	collections := f.Collections
	if len(collections) == 0 {
		all, err := s.ListCollections(ctx)
		if err != nil {
			return nil, translate("search vector", err)
		}
		for _, c := range all {
			collections = append(collections, c.Name)
		}
	}
	for _, c := range collections {
		if err := s.vec.load(ctx, c); err != nil {
			return nil, translate("search vector", err)
		}
	}
	hits := s.vec.search(vec, collections, f, searchLimit(f))
	out := make([]tandem.ScoredChunk, len(hits))
	for i, h := range hits {
		out[i] = tandem.ScoredChunk{Chunk: tandem.Chunk{ID: h.id, DocumentID: h.docID, Collection: h.collection, Ordinal: h.ordinal,
			Heading: h.heading, Text: h.text}, DocumentTitle: h.title, DocumentURL: h.url, Score: float64(h.score)}
	}
	return out, nil
}
