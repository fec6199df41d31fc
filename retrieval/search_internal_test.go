package retrieval

import (
	"slices"
	"testing"

	"github.com/tandemhq/tandem"
)

func TestAdmitMissed(t *testing.T) {
	t.Parallel()
	hit := func(id string, score float64) tandem.ScoredChunk {
		return tandem.ScoredChunk{Chunk: tandem.Chunk{ID: id}, Score: score}
	}
	vector := []tandem.ScoredChunk{hit("v1", 0.5), hit("v2", 0.3), hit("v3", 0.1)}
	text := []tandem.ScoredChunk{hit("t1", 9), hit("v2", 8), hit("t2", 7), hit("t3", 6)}
	tests := []struct {
		name   string
		sims   map[string]float64
		cand   int
		vector []tandem.ScoredChunk
		want   []string
	}{
		// t1 beats the last vector hit, t2 does not, t3 was not scored.
		{"OKMissedTakesItsPlace", map[string]float64{"t1": 0.4, "v2": 0.3, "t2": 0.05}, 3, vector, []string{"v1", "t1", "v2"}},
		{"OKBelowLastHit", map[string]float64{"t1": 0.1, "t2": 0.05}, 3, vector, []string{"v1", "v2", "v3"}},
		{"OKRoomLeft", map[string]float64{"t2": 0.05}, 5, vector, []string{"v1", "v2", "v3", "t2"}},
		{"OKTieByID", map[string]float64{"t1": 0.3}, 4, vector, []string{"v1", "t1", "v2", "v3"}},
		{"OKNoSims", nil, 3, vector, []string{"v1", "v2", "v3"}},
		{"OKNoVectorHits", map[string]float64{"t2": 0.2, "t1": 0.1}, 3, nil, []string{"t2", "t1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := admitMissed(slices.Clone(tt.vector), text, tt.sims, tt.cand)
			var ids []string
			for _, c := range got {
				ids = append(ids, c.ID)
				if s, ok := tt.sims[c.ID]; ok && c.Score != s && !slices.ContainsFunc(tt.vector, func(v tandem.ScoredChunk) bool { return v.ID == c.ID }) {
					t.Errorf("%s score = %v, want its similarity %v", c.ID, c.Score, s)
				}
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("admitMissed = %v, want %v", ids, tt.want)
			}
		})
	}
}
