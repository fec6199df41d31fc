package evals

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"time"

	"github.com/tandemhq/tandem"
)

// CorpusDoc is one line of a retrieval corpus (JSONL {"id","title","text"}).
type CorpusDoc struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// RankingQuestion is one line of a retrieval question set (JSONL {"question","doc_ids"}):
// any of DocIDs is a correct hit.
type RankingQuestion struct {
	Question string   `json:"question"`
	DocIDs   []string `json:"doc_ids"`
}

// ReadJSONLFile reads a JSON Lines file into values of type T, skipping blank lines.
func ReadJSONLFile[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var out []T
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, tandem.Errorf(tandem.EINVALID, "%s line %d: %v", path, line, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// RankingReport holds retrieval quality and speed. Recall@k is the share of questions with a
// correct document in the first k (documents deduplicated); MRR@10 averages 1/rank of the
// first correct document within 10.
type RankingReport struct {
	N            int     `json:"n"`
	RecallAt1    float64 `json:"recall_at_1"`
	RecallAt5    float64 `json:"recall_at_5"`
	RecallAt10   float64 `json:"recall_at_10"`
	MRRAt10      float64 `json:"mrr_at_10"`
	P50QueryMS   float64 `json:"p50_query_ms"`
	P95QueryMS   float64 `json:"p95_query_ms"`
	IndexSeconds float64 `json:"index_seconds"`
	Chunks       int     `json:"chunks"`
}

// RankingScorer accumulates ranked answers to questions.
type RankingScorer struct {
	r1, r5, r10, mrr float64
	n                int
	times            []time.Duration
}

// Add scores one question: ranked are document IDs best first (duplicates are ignored, so
// several passages of one document count once), relevant the correct IDs.
func (s *RankingScorer) Add(ranked, relevant []string, took time.Duration) {
	s.n++
	s.times = append(s.times, took)
	seen := map[string]bool{}
	rank := 0
	for _, id := range ranked {
		if seen[id] {
			continue
		}
		seen[id] = true
		rank++
		if rank > 10 {
			break
		}
		if slices.Contains(relevant, id) {
			if rank <= 1 {
				s.r1++
			}
			if rank <= 5 {
				s.r5++
			}
			s.r10++
			s.mrr += 1 / float64(rank)
			return
		}
	}
}

// Report returns the scores so far (IndexSeconds and Chunks are the caller's to fill).
func (s *RankingScorer) Report() RankingReport {
	r := RankingReport{N: s.n}
	if s.n == 0 {
		return r
	}
	n := float64(s.n)
	r.RecallAt1, r.RecallAt5, r.RecallAt10, r.MRRAt10 = s.r1/n, s.r5/n, s.r10/n, s.mrr/n
	r.P50QueryMS = Percentile(s.times, 0.50)
	r.P95QueryMS = Percentile(s.times, 0.95)
	return r
}

// Percentile returns the q-quantile (nearest rank) of durations in milliseconds.
func Percentile(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	i = max(0, min(i, len(s)-1))
	return float64(s[i].Microseconds()) / 1000
}

// RankFunc returns the document IDs that answer question, best first (duplicates allowed).
type RankFunc func(ctx context.Context, question string) ([]string, error)

// RunRanking asks every question through rank, timing each call, and scores the answers.
func RunRanking(ctx context.Context, qs []RankingQuestion, rank RankFunc) (RankingReport, error) {
	var s RankingScorer
	for _, q := range qs {
		if err := ctx.Err(); err != nil {
			return RankingReport{}, err
		}
		start := time.Now()
		ids, err := rank(ctx, q.Question)
		took := time.Since(start)
		if err != nil {
			return RankingReport{}, fmt.Errorf("rank %q: %w", q.Question, err)
		}
		s.Add(ids, q.DocIDs, took)
	}
	return s.Report(), nil
}
