package postgres

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/pgtest"
	"github.com/tandemhq/tandem/storage"
)

func TestMaintainer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var logs bytes.Buffer
	s, err := Open(ctx, pgtest.NewSchema(t), Config{Migrate: true, MaxConns: 4, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const dim = 8
	if _, err := s.EnsureCollection(ctx, tandem.Collection{Name: "kb", Dimension: dim}); err != nil {
		t.Fatal(err)
	}
	for i := range maintainAfter + 4 {
		v := make([]float32, dim)
		v[i%dim], v[(i*3+1)%dim] = 1, float32(i%5)
		d := &tandem.Document{Collection: "kb", Title: fmt.Sprint("refund ", i), ContentHash: fmt.Sprint(i), Status: tandem.DocumentPublished}
		if _, err := s.PutDocument(ctx, d, []tandem.Chunk{{Text: "parcel courier", Embedding: v}}); err != nil {
			t.Fatal(err)
		}
	}
	s.maint.mu.Lock()
	armed := s.maint.timer != nil
	s.maint.mu.Unlock()
	if !armed {
		t.Fatalf("no upkeep scheduled after %d chunks", maintainAfter+4)
	}
	s.maint.run(s)
	if logs.Len() > 0 {
		t.Fatalf("upkeep logged: %s", logs.String())
	}
	// Analyzed, the vector search goes through the HNSW index.
	q, args := vectorQuery(make([]float32, dim), storage.SearchFilter{Collections: []string{"kb"}, Status: tandem.DocumentPublished, Limit: 10})
	var plan []string
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `EXPLAIN `+q, args...)
		if err != nil {
			return err
		}
		plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plan, "\n"); !strings.Contains(got, "hnsw") {
		t.Errorf("vector search plan does not use the HNSW index:\n%s", got)
	}
}
