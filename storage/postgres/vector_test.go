package postgres

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

func TestBuildMemory(t *testing.T) {
	t.Parallel()
	const mb = 1 << 20
	tests := []struct {
		name           string
		n, dim, worker int
		want           int64
	}{
		{"Small", 2000, 1536, 2, 96 * mb},
		{"NoWorkers", 10, 8, 0, 64 * mb},
		{"ManyWorkers", 2000, 1536, 7, 256 * mb},
		{"Large", 100000, 1536, 2, 100000 * (2*1536 + 1024) * 5 / 4},
		{"Capped", 10000000, 1536, 2, maxBuildMemory},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := buildMemory(tt.n, tt.dim, tt.worker); got != tt.want {
				t.Errorf("buildMemory(%d, %d, %d) = %d, want %d", tt.n, tt.dim, tt.worker, got, tt.want)
			}
		})
	}
}

// TestBeginVectorLoad checks that announcing a load drops a collection's vector index only
// when the load is large relative to the collection, and that BuildVectorIndex restores it.
func TestBeginVectorLoad(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	const dim = 4
	if _, err := s.EnsureCollection(ctx, tandem.Collection{Name: "kb", Dimension: dim}); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		d := &tandem.Document{Collection: "kb", Title: fmt.Sprint("doc ", i), ContentHash: "h", Status: tandem.DocumentPublished}
		v := make([]float32, dim)
		v[i%dim] = 1
		if _, err := s.PutDocument(ctx, d, []tandem.Chunk{{Text: "text", Embedding: v}}); err != nil {
			t.Fatal(err)
		}
	}
	indexed := func() bool {
		t.Helper()
		var ok bool
		if err := s.pool.QueryRow(ctx, `SELECT to_regclass(format('%I.%I', current_schema(), $1::text)) IS NOT NULL`, vectorIndexPrefix("kb")+fmt.Sprint(dim)).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if dropped, err := s.BeginVectorLoad(ctx, "kb", 40); err != nil || dropped {
		t.Fatalf("BeginVectorLoad without an index = %v, %v", dropped, err)
	}
	if err := s.BuildVectorIndex(ctx, "kb"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		chunks int
		want   bool
	}{
		{"Small", 9, false},
		{"Large", 10, true},
	}
	for _, tt := range tests {
		dropped, err := s.BeginVectorLoad(ctx, "kb", tt.chunks)
		if err != nil {
			t.Fatal(err)
		}
		if dropped != tt.want || indexed() == tt.want {
			t.Errorf("%s: dropped %v, indexed %v; want dropped %v", tt.name, dropped, indexed(), tt.want)
		}
		if err := s.BuildVectorIndex(ctx, "kb"); err != nil {
			t.Fatal(err)
		}
		if !indexed() {
			t.Errorf("%s: no index after BuildVectorIndex", tt.name)
		}
	}
}

// TestScoreChunks checks that ScoreChunks gives the given chunks the similarity
// SearchVector gives them, and leaves out unknown chunks and chunks of another dimension.
func TestScoreChunks(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := context.Background()
	put := func(collection, id string, v []float32) {
		t.Helper()
		d := &tandem.Document{Collection: collection, Title: id, ContentHash: "h", Status: tandem.DocumentPublished}
		if _, err := s.PutDocument(ctx, d, []tandem.Chunk{{ID: id, Text: "text", Embedding: v}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []tandem.Collection{{Name: "kb", Dimension: 3}, {Name: "wide", Dimension: 4}} {
		if _, err := s.EnsureCollection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	put("kb", "x", []float32{1, 0, 0})
	put("kb", "xy", []float32{1, 1, 0})
	put("wide", "wide", []float32{1, 0, 0, 0})
	q := []float32{1, 0, 0}
	hits, err := s.SearchVector(ctx, q, storage.SearchFilter{Collections: []string{"kb"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{}
	for _, h := range hits {
		want[h.ID] = h.Score
	}
	tests := []struct {
		name string
		ids  []string
		want map[string]float64
	}{
		{"OK", []string{"x", "xy"}, want},
		{"OKUnknownAndOtherDimension", []string{"x", "missing", "wide"}, map[string]float64{"x": want["x"]}},
		{"OKNone", nil, map[string]float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ScoreChunks(ctx, q, tt.ids)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("ScoreChunks(%v) = %v, want %v", tt.ids, got, tt.want)
			}
		})
	}
}
