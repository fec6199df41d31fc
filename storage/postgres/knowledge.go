package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

const collectionCols = `name, bot_id, embedder, dimension, created_at`

func scanCollection(row pgx.Row) (*tandem.Collection, error) {
	var c tandem.Collection
	if err := row.Scan(&c.Name, &c.BotID, &c.Embedder, &c.Dimension, &c.CreatedAt); err != nil {
		return nil, err
	}
	c.CreatedAt = utc(c.CreatedAt)
	return &c, nil
}

// EnsureCollection creates the collection or returns the existing one unchanged. Its
// vector index is built later (see BuildVectorIndex).
func (s *Store) EnsureCollection(ctx context.Context, c tandem.Collection) (*tandem.Collection, error) {
	if c.Name == "" {
		return nil, tandem.Errorf(tandem.EINVALID, "collection name is required")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	c.CreatedAt = dbTime(c.CreatedAt)
	if _, err := s.pool.Exec(ctx, `INSERT INTO collections (`+collectionCols+`) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING`,
		c.Name, c.BotID, c.Embedder, c.Dimension, c.CreatedAt); err != nil {
		return nil, translate("ensure collection", err)
	}
	return s.FindCollection(ctx, c.Name)
}

// FindCollection returns the named collection or ENOTFOUND.
func (s *Store) FindCollection(ctx context.Context, name string) (*tandem.Collection, error) {
	c, err := findCollection(ctx, s.pool, name, false)
	if err != nil {
		return nil, translate("find collection", err)
	}
	return c, nil
}

func findCollection(ctx context.Context, q db, name string, share bool) (*tandem.Collection, error) {
	sql := `SELECT ` + collectionCols + ` FROM collections WHERE name = $1`
	if share {
		sql += ` FOR SHARE`
	}
	c, err := scanCollection(q.QueryRow(ctx, sql, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("collection", name)
	}
	return c, err
}

// UpdateCollection records a new bot, embedder and dimension, dropping the vector index
// of another dimension. The new dimension's index is built by BuildVectorIndex once the
// chunks have their new vectors (or by the upkeep): built before, it would index them one
// by one.
func (s *Store) UpdateCollection(ctx context.Context, c tandem.Collection) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE collections SET bot_id = $1, embedder = $2, dimension = $3 WHERE name = $4`, c.BotID, c.Embedder, c.Dimension, c.Name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("collection", c.Name)
		}
		prefix := vectorIndexPrefix(c.Name)
		_, err = dropVectorIndexes(ctx, tx, prefix, fmt.Sprintf("%s%d", prefix, c.Dimension))
		return err
	})
	return translate("update collection", err)
}

// ListCollections returns all collections by name.
func (s *Store) ListCollections(ctx context.Context) ([]tandem.Collection, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+collectionCols+` FROM collections ORDER BY name`)
	if err != nil {
		return nil, translate("list collections", err)
	}
	out, err := collect(rows, scanCollection)
	return out, translate("list collections", err)
}

const documentCols = `id, collection, title, source, url, tags, language, version, content_hash, status, body, created_at, updated_at`

func scanDocument(row pgx.Row) (*tandem.Document, error) {
	var d tandem.Document
	if err := row.Scan(&d.ID, &d.Collection, &d.Title, &d.Source, &d.URL, &d.Tags, &d.Language, &d.Version, &d.ContentHash, &d.Status, &d.Body, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return nil, err
	}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	d.CreatedAt, d.UpdatedAt = utc(d.CreatedAt), utc(d.UpdatedAt)
	return &d, nil
}

// vectorArg returns an embedding as a `$n::vector` parameter, in pgvector's binary format
// once the connection knows it (see registerVector); a nil embedding gives noVector, to be
// turned into NULL by its dimension 0.
func vectorArg(v []float32) pgvector.Vector {
	if v == nil {
		return noVector
	}
	return pgvector.NewVector(v)
}

// PutDocument stores d with its chunks. For an existing ID an equal ContentHash is a no-op
// (d is filled from the stored row); otherwise Version is incremented and the chunks are
// replaced in one transaction. IDs of d and of chunks are assigned when empty (the chunks
// slice is updated in place). Every non-nil embedding must have the collection's dimension.
func (s *Store) PutDocument(ctx context.Context, d *tandem.Document, chunks []tandem.Chunk) (changed bool, err error) {
	ch, err := s.PutDocuments(ctx, []*tandem.Document{d}, [][]tandem.Chunk{chunks})
	if err != nil {
		return false, err
	}
	return ch[0], nil
}

// PutDocuments stores each docs[i] with chunks[i] as PutDocument does, all in one
// transaction (all or nothing) and one round trip for the writes: ingestion is bound by
// round trips and commits when it writes a document at a time. changed[i] is what
// PutDocument would return for docs[i]. Document IDs must be distinct.
func (s *Store) PutDocuments(ctx context.Context, docs []*tandem.Document, chunks [][]tandem.Chunk) (changed []bool, err error) {
	if len(docs) != len(chunks) {
		return nil, tandem.Errorf(tandem.EINVALID, "%d documents but %d chunk lists", len(docs), len(chunks))
	}
	ids := make([]string, len(docs))
	seen := make(map[string]bool, len(docs))
	for i, d := range docs {
		if d.Collection == "" || d.Title == "" {
			return nil, tandem.Errorf(tandem.EINVALID, "document needs a collection and a title")
		}
		if d.ID == "" {
			d.ID = newID()
		}
		if seen[d.ID] {
			return nil, tandem.Errorf(tandem.EINVALID, "document %q appears twice", d.ID)
		}
		seen[d.ID] = true
		if d.Status == "" {
			d.Status = tandem.DocumentDraft
		}
		if d.Tags == nil {
			d.Tags = []string{}
		}
		ids[i] = d.ID
	}
	changed = make([]bool, len(docs))
	written := 0
	err = s.tx(ctx, func(tx pgx.Tx) error {
		written = 0
		clear(changed)
		colls := map[string]*tandem.Collection{}
		for i, d := range docs {
			coll, ok := colls[d.Collection]
			if !ok {
				var err error
				if coll, err = findCollection(ctx, tx, d.Collection, true); err != nil {
					return err
				}
				colls[d.Collection] = coll
			}
			for j := range chunks[i] {
				if e := chunks[i][j].Embedding; e != nil && len(e) != coll.Dimension {
					return tandem.Errorf(tandem.EINVALID, "chunk %d has dimension %d, collection %q has %d", j, len(e), coll.Name, coll.Dimension)
				}
			}
		}
		rows, err := tx.Query(ctx, `SELECT `+documentCols+` FROM documents WHERE id = ANY ($1) ORDER BY id FOR UPDATE`, ids)
		if err != nil {
			return err
		}
		olds, err := collect(rows, scanDocument)
		if err != nil {
			return err
		}
		old := make(map[string]*tandem.Document, len(olds))
		for i := range olds {
			old[olds[i].ID] = &olds[i]
		}
		now := s.now()
		b := &pgx.Batch{}
		var docInserts documentRows
		var inserts chunkRows
		var replaced []string
		for i, d := range docs {
			switch o := old[d.ID]; {
			case o == nil:
				if d.Version <= 0 {
					d.Version = 1
				}
				if d.CreatedAt.IsZero() {
					d.CreatedAt = now
				}
				d.CreatedAt = dbTime(d.CreatedAt)
			case o.ContentHash == d.ContentHash:
				*d = *o
				continue
			default:
				d.Version = o.Version + 1
				d.CreatedAt = o.CreatedAt
				replaced = append(replaced, d.ID)
			}
			d.UpdatedAt = now
			changed[i] = true
			written += len(chunks[i])
			if err := docInserts.add(d); err != nil {
				return err
			}
			for j := range chunks[i] {
				c := &chunks[i][j]
				if c.ID == "" {
					c.ID = newID()
				}
				c.DocumentID, c.Collection = d.ID, d.Collection
				inserts.add(c, d.Title)
			}
		}
		if len(replaced) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM chunks WHERE document_id = ANY ($1)`, replaced); err != nil {
				return err
			}
		}
		if len(docInserts.id) > 0 {
			docInserts.queue(b)
		}
		if len(inserts.id) > 0 {
			if err := registerVector(ctx, tx.Conn()); err != nil {
				return err
			}
			inserts.queue(b)
		}
		if b.Len() == 0 {
			return nil
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, translate("put document", err)
	}
	if written > 0 || slices.Contains(changed, true) {
		s.text.changed()
		s.maint.wrote(s, written)
	}
	return changed, nil
}

// documentRows holds documents column by column, to be written by one INSERT over
// unnested arrays (see chunkRows). Tags go as JSON arrays, an array of arrays not being
// one in PostgreSQL.
type documentRows struct {
	id, collection, title, source, url, tags, language, contentHash, status, body []string
	version                                                                       []int32
	createdAt, updatedAt                                                          []time.Time
}

func (r *documentRows) add(d *tandem.Document) error {
	tags, err := json.Marshal(d.Tags)
	if err != nil {
		return err
	}
	r.id = append(r.id, d.ID)
	r.collection = append(r.collection, d.Collection)
	r.title = append(r.title, d.Title)
	r.source = append(r.source, d.Source)
	r.url = append(r.url, d.URL)
	r.tags = append(r.tags, string(tags))
	r.language = append(r.language, d.Language)
	r.version = append(r.version, int32(d.Version))
	r.contentHash = append(r.contentHash, d.ContentHash)
	r.status = append(r.status, string(d.Status))
	r.body = append(r.body, d.Body)
	r.createdAt = append(r.createdAt, d.CreatedAt)
	r.updatedAt = append(r.updatedAt, d.UpdatedAt)
	return nil
}

func (r *documentRows) queue(b *pgx.Batch) {
	b.Queue(`INSERT INTO documents (`+documentCols+`)
		SELECT u.id, u.collection, u.title, u.source, u.url, ARRAY(SELECT jsonb_array_elements_text(u.tags)), u.language,
			u.version, u.content_hash, u.status, u.body, u.created_at, u.updated_at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[], $8::int[], $9::text[],
			$10::text[], $11::text[], $12::timestamptz[], $13::timestamptz[])
			AS u(id, collection, title, source, url, tags, language, version, content_hash, status, body, created_at, updated_at)
		ON CONFLICT (id) DO UPDATE SET collection = excluded.collection, title = excluded.title, source = excluded.source,
			url = excluded.url, tags = excluded.tags, language = excluded.language, version = excluded.version,
			content_hash = excluded.content_hash, status = excluded.status, body = excluded.body, updated_at = excluded.updated_at`,
		r.id, r.collection, r.title, r.source, r.url, r.tags, r.language, r.version, r.contentHash, r.status, r.body, r.createdAt, r.updatedAt)
}

// chunkRows holds chunks column by column, to be written by one INSERT over unnested
// arrays: an INSERT per chunk cost more in round trips, parsing and planning than the row
// write itself. Embeddings go in pgvector's binary format (see registerVector), which both
// sides handle several times faster than a real[] of as many elements.
type chunkRows struct {
	id, documentID, collection, heading, text, title []string
	ordinal, dimension                               []int32
	embedding                                        []pgvector.Vector
}

// noVector stands for a missing embedding (see vectorArg): pgvector's codec encodes only
// values, and a nil pointer's type would fall back to text for every vector.
var noVector = pgvector.NewVector([]float32{0})

func (r *chunkRows) add(c *tandem.Chunk, title string) {
	r.id = append(r.id, c.ID)
	r.documentID = append(r.documentID, c.DocumentID)
	r.collection = append(r.collection, c.Collection)
	r.heading = append(r.heading, c.Heading)
	r.text = append(r.text, c.Text)
	r.title = append(r.title, title)
	r.ordinal = append(r.ordinal, int32(c.Ordinal))
	r.dimension = append(r.dimension, int32(len(c.Embedding)))
	r.embedding = append(r.embedding, vectorArg(c.Embedding))
}

// queue adds the INSERT of the rows to b, in the order they were added (seq follows it).
func (r *chunkRows) queue(b *pgx.Batch) {
	// Title A, heading B, text D: SearchText weighs them 3, 2 and 1.
	b.Queue(`INSERT INTO chunks (id, document_id, collection, ordinal, heading, text, embedding, dimension, tsv)
		SELECT u.id, u.document_id, u.collection, u.ordinal, u.heading, u.text,
			CASE WHEN u.dimension > 0 THEN u.embedding END, u.dimension,
			setweight(to_tsvector('english', u.title), 'A') || setweight(to_tsvector('english', u.heading), 'B') || to_tsvector('english', u.text)
		FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::vector[], $8::int[], $9::text[])
			WITH ORDINALITY AS u(id, document_id, collection, ordinal, heading, text, embedding, dimension, title, n)
		ORDER BY u.n`,
		r.id, r.documentID, r.collection, r.ordinal, r.heading, r.text, r.embedding, r.dimension, r.title)
}

// FindDocumentByID returns the document or ENOTFOUND.
func (s *Store) FindDocumentByID(ctx context.Context, id string) (*tandem.Document, error) {
	d, err := scanDocument(s.pool.QueryRow(ctx, `SELECT `+documentCols+` FROM documents WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
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
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Collection != "" {
		add("collection = $%d", f.Collection)
	}
	if f.Status != "" {
		add("status = $%d", f.Status)
	}
	if f.Tag != "" {
		add("$%d = ANY (tags)", f.Tag)
	}
	if f.Query != "" {
		add(`title ILIKE '%%' || $%d || '%%'`, likeEscape(f.Query))
	}
	q := `SELECT ` + documentCols + ` FROM documents`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY collection, title COLLATE "C", id`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	if f.Offset > 0 {
		args = append(args, f.Offset)
		q += fmt.Sprintf(` OFFSET $%d`, len(args))
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, translate("list documents", err)
	}
	out, err := collect(rows, scanDocument)
	return out, translate("list documents", err)
}

// SetDocumentStatus changes a document's review state (draft or published).
func (s *Store) SetDocumentStatus(ctx context.Context, id string, status tandem.DocumentStatus) error {
	if status != tandem.DocumentDraft && status != tandem.DocumentPublished {
		return tandem.Errorf(tandem.EINVALID, "unknown document status %q", status)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE documents SET status = $1, updated_at = $2 WHERE id = $3`, status, s.now(), id)
	if err != nil {
		return translate("set document status", err)
	}
	if tag.RowsAffected() == 0 {
		return translate("set document status", notFound("document", id))
	}
	return nil
}

// DeleteDocument removes a document and (by cascade) its chunks.
func (s *Store) DeleteDocument(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM documents WHERE id = $1`, id)
	if err != nil {
		return translate("delete document", err)
	}
	if tag.RowsAffected() == 0 {
		return translate("delete document", notFound("document", id))
	}
	s.text.changed()
	return nil
}

// ListChunks returns a document's chunks in order, with embeddings.
func (s *Store) ListChunks(ctx context.Context, documentID string) ([]tandem.Chunk, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, document_id, collection, ordinal, heading, text, embedding FROM chunks WHERE document_id = $1 ORDER BY ordinal, seq`, documentID)
	if err != nil {
		return nil, translate("list chunks", err)
	}
	out, err := collect(rows, func(row pgx.Row) (*tandem.Chunk, error) {
		var c tandem.Chunk
		var v *pgvector.Vector
		if err := row.Scan(&c.ID, &c.DocumentID, &c.Collection, &c.Ordinal, &c.Heading, &c.Text, &v); err != nil {
			return nil, err
		}
		if v != nil {
			c.Embedding = v.Slice()
		}
		return &c, nil
	})
	return out, translate("list chunks", err)
}

// ReplaceEmbeddings overwrites the embeddings of the given chunks (by ID) in one
// transaction; an unknown chunk returns ENOTFOUND and changes nothing.
func (s *Store) ReplaceEmbeddings(ctx context.Context, chunks []tandem.Chunk) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := registerVector(ctx, tx.Conn()); err != nil {
			return err
		}
		b := &pgx.Batch{}
		for _, c := range chunks {
			b.Queue(`UPDATE chunks SET embedding = CASE WHEN $2 > 0 THEN $1::vector END, dimension = $2 WHERE id = $3`, vectorArg(c.Embedding), len(c.Embedding), c.ID)
		}
		br := tx.SendBatch(ctx, b)
		defer br.Close()
		for _, c := range chunks {
			tag, err := br.Exec()
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return notFound("chunk", c.ID)
			}
		}
		return br.Close()
	})
	return translate("replace embeddings", err)
}

// searchWhere returns SQL conditions on documents d for f, numbering parameters after
// the n already in args.
func searchWhere(f storage.SearchFilter, args []any) (string, []any) {
	var where []string
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if len(f.Collections) > 0 {
		add("d.collection = ANY ($%d)", f.Collections)
	}
	if len(f.Tags) > 0 {
		add("d.tags && $%d::text[]", f.Tags)
	}
	if f.Language != "" {
		add("d.language = $%d", f.Language)
	}
	if f.Status != "" {
		add("d.status = $%d", f.Status)
	}
	if len(where) == 0 {
		return "", args
	}
	return " AND " + strings.Join(where, " AND "), args
}

func searchLimit(f storage.SearchFilter) int {
	if f.Limit <= 0 {
		return 10
	}
	return f.Limit
}

func scanHit(row pgx.Row) (*tandem.ScoredChunk, error) {
	var h tandem.ScoredChunk
	if err := row.Scan(&h.ID, &h.DocumentID, &h.Collection, &h.Ordinal, &h.Heading, &h.Text, &h.DocumentTitle, &h.DocumentURL, &h.Score); err != nil {
		return nil, err
	}
	return &h, nil
}
