package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// Each collection has its own partial HNSW index over its chunks' embeddings cast to
// halfvec(D), D being the collection's dimension:
//
//   - per collection, because inserting into an HNSW index row by row cost ~10 ms of CPU
//     for each 1,536-dimension chunk (100 chunks/s at best), while building the index in
//     one pass after a bulk load costs a fraction of that; a collection's index can be
//     built when that collection is loaded, without touching the others. It also spares
//     searches from filtering other collections' neighbours out of the graph.
//   - over halfvec, because half-precision vectors halve the index and the memory
//     traffic of every distance; searches re-score their hits with the exact vectors.
//
// A collection without its index (new, or below maintainAfter chunks written) is searched
// by an exact scan, which is correct and fast while it is small.

// maxIndexedDimension is pgvector's limit for HNSW indexes on halfvec.
const maxIndexedDimension = 4000

// maxBuildMemory bounds the memory of one index build (enough for ~250,000 chunks of
// 1,536 dimensions).
const maxBuildMemory = 1 << 30

// The index is built with ef_construction 32 instead of pgvector's 64: on the 10,000-chunk
// synthetic collection the build takes 9.4 s instead of 16.6 s (under load) while the
// index's top 10 at ef_search 100 keeps 0.883 of the exact top 10 instead of 0.903, and
// StackFAQ dev recall is unchanged.

// buildMemory returns the maintenance_work_mem of an index build over n vectors of dim
// dimensions. pgvector builds the graph in memory and falls back to far slower page-by-page
// inserts when it does not fit (~2·dim + 800 bytes a vector with m 16; a quarter more is
// asked). More than needed costs too: a parallel build reserves all of it as shared
// memory up front (~0.2 s of system time for 256 MB). PostgreSQL grants a build one
// parallel worker per 32 MB beyond the leader's 32 MB, so it gets at least that much.
// Past maxBuildMemory the build spills rather than ask the server for more.
func buildMemory(n, dim, workers int) int64 {
	const mb = 1 << 20
	need := min(int64(n)*int64(2*dim+1024)*5/4, maxBuildMemory)
	return max(need, int64(workers+1)*32*mb, 64*mb)
}

// vectorIndexPrefix is the name prefix of a collection's vector indexes; the dimension
// follows. Collection names may be anything, so they are hashed.
func vectorIndexPrefix(collection string) string {
	h := sha256.Sum256([]byte(collection))
	return fmt.Sprintf("chunks_hnsw_%x_", h[:8])
}

// sqlLiteral quotes s as an escape string literal, which means the same whatever
// standard_conforming_strings says. Partial-index predicates only match literals.
func sqlLiteral(s string) string {
	return "E'" + strings.NewReplacer(`\`, `\\`, "'", `''`).Replace(s) + "'"
}

// BuildVectorIndex gives the collection's chunks of its current dimension their HNSW
// index, in one pass when it is missing, and drops the collection's indexes of other
// dimensions. After a build it also refreshes the planner's statistics (see maintainer),
// so searches that follow a bulk load use the new index at once. Safe to call
// concurrently, also from several replicas.
func (s *Store) BuildVectorIndex(ctx context.Context, collection string) error {
	c, err := s.FindCollection(ctx, collection)
	if err != nil {
		return translate("build vector index", err)
	}
	prefix := vectorIndexPrefix(collection)
	want := fmt.Sprintf("%s%d", prefix, c.Dimension)
	built := false
	pending := s.maint.snapshot()
	err = s.tx(ctx, func(tx pgx.Tx) error {
		exists, err := dropVectorIndexes(ctx, tx, prefix, want)
		if err != nil || exists || c.Dimension <= 0 || c.Dimension > maxIndexedDimension {
			return err
		}
		var n, workers int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM chunks WHERE collection = $1 AND dimension = $2),
			current_setting('max_parallel_maintenance_workers')::int`, collection, c.Dimension).Scan(&n, &workers); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(`SET LOCAL maintenance_work_mem = '%dkB'; SET LOCAL min_parallel_table_scan_size = 0`,
			buildMemory(n, c.Dimension, workers)/1024)); err != nil {
			return err
		}
		name := pgx.Identifier{want}.Sanitize()
		if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON chunks USING hnsw ((embedding::halfvec(%d)) halfvec_cosine_ops) WITH (ef_construction = 32)
			WHERE collection = %s AND dimension = %d`, name, c.Dimension, sqlLiteral(collection), c.Dimension)); err != nil {
			return err
		}
		// The planner has no use for statistics of the indexed expression, which ANALYZE
		// would otherwise compute by casting every sampled vector (most of its time).
		_, err = tx.Exec(ctx, `ALTER INDEX `+name+` ALTER COLUMN 1 SET STATISTICS 0`)
		built = true
		return err
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "42P07") {
		return nil // another replica built it at the same time
	}
	if err == nil && built {
		if err = s.refreshKnowledgeStats(ctx); err == nil {
			s.maint.refreshed(pending)
		}
	}
	return translate("build vector index", err)
}

// dropVectorIndexes drops the indexes whose names start with prefix except keep, and
// reports whether keep exists.
func dropVectorIndexes(ctx context.Context, tx pgx.Tx, prefix, keep string) (bool, error) {
	rows, err := tx.Query(ctx, `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'chunks' AND starts_with(indexname, $1)`, prefix)
	if err != nil {
		return false, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return false, err
	}
	exists := false
	for _, n := range names {
		if n == keep {
			exists = true
			continue
		}
		if _, err := tx.Exec(ctx, `DROP INDEX `+pgx.Identifier{n}.Sanitize()); err != nil {
			return false, err
		}
	}
	return exists, nil
}

// rebuildShare is the share of a collection's chunks from which BeginVectorLoad drops its
// vector index: inserting into an HNSW index costs ~10 times as much a chunk as building
// it in one pass, so from a quarter on a rebuild costs at most half as much as inserting,
// which is worth searches scanning the collection exactly meanwhile.
const rebuildShare = 4

// BeginVectorLoad tells the store that about chunks chunks of the collection are about to
// be written or re-embedded. When they are many relative to the collection, it drops the
// collection's vector index, which BuildVectorIndex rebuilds after the load: inserting
// into the index chunk by chunk ran at ~100 chunks/s. Until then searches of the
// collection are exact, so results stay right. It reports whether it dropped an index.
func (s *Store) BeginVectorLoad(ctx context.Context, collection string, chunks int) (dropped bool, err error) {
	if chunks <= 0 {
		return false, nil
	}
	var n int
	var indexed bool
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM chunks WHERE collection = $1),
		EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'chunks' AND starts_with(indexname, $2))`,
		collection, vectorIndexPrefix(collection)).Scan(&n, &indexed); err != nil {
		return false, translate("begin vector load", err)
	}
	if !indexed || chunks*rebuildShare < n {
		return false, nil
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		_, err := dropVectorIndexes(ctx, tx, vectorIndexPrefix(collection), "")
		return err
	})
	return err == nil, translate("begin vector load", err)
}

// buildMissingVectorIndexes indexes every collection that has chunks but no index, and
// drops the per-dimension indexes earlier versions shared between collections.
func (s *Store) buildMissingVectorIndexes(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT c.name FROM collections c
		WHERE c.dimension BETWEEN 1 AND $1 AND EXISTS (SELECT 1 FROM chunks WHERE collection = c.name)
		AND NOT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'chunks'
			AND indexname = format('chunks_hnsw_%s_%s', left(encode(sha256(convert_to(c.name, 'UTF8')), 'hex'), 16), c.dimension))`, maxIndexedDimension)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := s.BuildVectorIndex(ctx, n); err != nil {
			return err
		}
	}
	rows, err = s.pool.Query(ctx, `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'chunks' AND starts_with(indexname, 'chunks_embedding_hnsw_')`)
	if err != nil {
		return err
	}
	if names, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return err
	}
	for _, n := range names {
		if _, err := s.pool.Exec(ctx, `DROP INDEX IF EXISTS `+pgx.Identifier{n}.Sanitize()); err != nil {
			return err
		}
	}
	return nil
}

// scheduleIndexUpgrade arms the upkeep when the schema still has the per-dimension vector
// indexes of earlier versions, which it replaces with per-collection ones.
func (s *Store) scheduleIndexUpgrade(ctx context.Context) error {
	var legacy bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'chunks' AND starts_with(indexname, 'chunks_embedding_hnsw_'))`).Scan(&legacy); err != nil {
		return fmt.Errorf("check vector indexes: %w", err)
	}
	if legacy {
		s.maint.wrote(s, maintainAfter)
	}
	return nil
}

// vectorQuery returns the SQL and arguments of a vector search. Hits come from the
// collection's HNSW index (over halfvec) when the filter names one collection, and are
// re-scored with the exact vectors, so Score is the same cosine similarity on every path.
func vectorQuery(vec []float32, f storage.SearchFilter) (string, []any) {
	dim := len(vec)
	where, args := searchWhere(f, []any{vec})
	args = append(args, searchLimit(f))
	order := fmt.Sprintf(`c.embedding::vector(%[1]d) <=> $1::real[]::vector(%[1]d)`, dim)
	if len(f.Collections) == 1 {
		// The collection and dimension are literals so the planner matches the partial
		// index's predicate and expression.
		where += ` AND c.collection = ` + sqlLiteral(f.Collections[0])
		order = fmt.Sprintf(`c.embedding::halfvec(%[1]d) <=> $1::real[]::halfvec(%[1]d)`, dim)
	}
	// relaxed_order may return rows slightly out of order, and halfvec distances are
	// approximate: the outer query sorts by the exact distance.
	q := fmt.Sprintf(`WITH hits AS MATERIALIZED (
		SELECT c.id, c.document_id, c.collection, c.ordinal, c.heading, c.text, d.title, d.url, c.embedding
		FROM chunks c JOIN documents d ON d.id = c.document_id
		WHERE c.dimension = %[1]d`+where+`
		ORDER BY %[3]s LIMIT $%[2]d),
		scored AS (SELECT *, embedding::vector(%[1]d) <=> $1::real[]::vector(%[1]d) AS distance FROM hits)
		SELECT id, document_id, collection, ordinal, heading, text, title, url, 1 - distance FROM scored ORDER BY distance, id`, dim, len(args), order)
	return q, args
}

// SearchVector ranks chunks of dimension len(vec) by cosine similarity, through the
// collection's HNSW index with iterative scans (so filtered searches still fill the
// limit) when it searches one indexed collection, exactly otherwise. Score is the cosine
// similarity.
func (s *Store) SearchVector(ctx context.Context, vec []float32, f storage.SearchFilter) ([]tandem.ScoredChunk, error) {
	dim := len(vec)
	if dim == 0 {
		return []tandem.ScoredChunk{}, nil
	}
	limit := searchLimit(f)
	q, args := vectorQuery(vec, f)
	// One round trip: the transaction scopes the SET LOCALs to this query. On error the
	// connection is left in a failed transaction, which pgxpool discards on release.
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SET LOCAL hnsw.iterative_scan = relaxed_order`)
	// The planner prices a sequential scan of a few thousand chunks below the HNSW index,
	// not counting that every row's vector is a TOASTed 4-8 KB value to read and
	// decompress: at 10,000 chunks of 1,536 dimensions the scan takes ~100 ms, the index
	// ~5 ms.
	b.Queue(`SET LOCAL enable_seqscan = off`)
	b.Queue(fmt.Sprintf(`SET LOCAL hnsw.ef_search = %d`, min(1000, max(40, 2*limit))))
	b.Queue(q, args...)
	b.Queue(`COMMIT`)
	var out []tandem.ScoredChunk
	err := func() error {
		br := s.pool.SendBatch(ctx, b)
		defer br.Close()
		for range 4 {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		if out, err = collect(rows, scanHit); err != nil {
			return err
		}
		if _, err := br.Exec(); err != nil {
			return err
		}
		return br.Close()
	}()
	if err != nil {
		return nil, translate("search vector", err)
	}
	return out, nil
}

// ScoreChunks returns the cosine similarity of vec to each chunk of ids that has
// dimension len(vec) (others are left out), computed with the exact vectors as
// SearchVector's Score is. The HNSW index is approximate and can miss chunks altogether:
// a few articles unlike the bulk of a collection get no links from it and no beam reaches
// them. The knowledge base scores its full-text candidates with this so such chunks still
// take their place in the vector ranking. One round trip; it reads only the given chunks.
func (s *Store) ScoreChunks(ctx context.Context, vec []float32, ids []string) (map[string]float64, error) {
	out := make(map[string]float64, len(ids))
	if len(vec) == 0 || len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT id, 1 - (embedding::vector(%[1]d) <=> $1::real[]::vector(%[1]d))
		FROM chunks WHERE id = ANY ($2) AND dimension = %[1]d AND embedding IS NOT NULL`, len(vec)), vec, ids)
	if err != nil {
		return nil, translate("score chunks", err)
	}
	var id string
	var sim float64
	_, err = pgx.ForEachRow(rows, []any{&id, &sim}, func() error {
		out[id] = sim
		return nil
	})
	if err != nil {
		return nil, translate("score chunks", err)
	}
	return out, nil
}

// registerVector teaches the connection pgvector's binary format, once per connection.
// It is done lazily rather than on connect because the extension may not exist yet when
// the first connection opens (see ensureExtension).
func registerVector(ctx context.Context, conn *pgx.Conn) error {
	if _, ok := conn.TypeMap().TypeForName("vector"); ok {
		return nil
	}
	if err := pgxvec.RegisterTypes(ctx, conn); err != nil {
		return fmt.Errorf("register vector type: %w", err)
	}
	return nil
}
