package postgres

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/pgtest"
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
	// Settle runs the scheduled upkeep at once; a second call has nothing to wait for.
	for range 2 {
		if err := s.Settle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s.maint.mu.Lock()
	armed = s.maint.timer != nil
	s.maint.mu.Unlock()
	if armed {
		t.Error("upkeep still scheduled after Settle")
	}
	if logs.Len() > 0 {
		t.Fatalf("upkeep logged: %s", logs.String())
	}
	// The upkeep analyzed the tables and built the collection's vector index. (Whether a
	// search of these 260 chunks uses it is the planner's call: an exact scan is cheaper.)
	var analyzed, indexed bool
	err = s.pool.QueryRow(ctx, `SELECT (SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relid = 'chunks'::regclass),
		to_regclass(format('%I.%I', current_schema(), $1::text)) IS NOT NULL`, vectorIndexPrefix("kb")+fmt.Sprint(dim)).Scan(&analyzed, &indexed)
	if err != nil {
		t.Fatal(err)
	}
	if !analyzed || !indexed {
		t.Errorf("after upkeep: analyzed %v, vector index %v", analyzed, indexed)
	}
}

// TestMaintainerAfterRefresh checks that the upkeep armed by a bulk load does not analyze
// the tables again when the load's index build already did.
func TestMaintainerAfterRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t)
	const dim = 4
	if _, err := s.EnsureCollection(ctx, tandem.Collection{Name: "kb", Dimension: dim}); err != nil {
		t.Fatal(err)
	}
	var docs []*tandem.Document
	var chunks [][]tandem.Chunk
	for i := range maintainAfter {
		docs = append(docs, &tandem.Document{Collection: "kb", Title: fmt.Sprint("doc ", i), ContentHash: "h", Status: tandem.DocumentPublished})
		chunks = append(chunks, []tandem.Chunk{{Text: "text", Embedding: []float32{1, float32(i), 0, 0}}})
	}
	if _, err := s.PutDocuments(ctx, docs, chunks); err != nil {
		t.Fatal(err)
	}
	if err := s.BuildVectorIndex(ctx, "kb"); err != nil {
		t.Fatal(err)
	}
	analyses := func() int64 {
		t.Helper()
		var n int64
		if err := s.pool.QueryRow(ctx, `SELECT analyze_count FROM pg_stat_user_tables WHERE relid = 'chunks'::regclass`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := analyses()
	if before == 0 {
		t.Fatal("BuildVectorIndex did not analyze the tables")
	}
	s.maint.run(s)
	if got := analyses(); got != before {
		t.Errorf("upkeep after the build analyzed again: %d analyses, want %d", got, before)
	}
}
