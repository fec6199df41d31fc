package embed

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type corpusDoc struct{ ID, Title, Text string }
type question struct {
	Question string
	DocIDs   []string `json:"doc_ids"`
}

func readJSONL[T any](t testing.TB, path string) []T {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// TestStackFAQVectorOnly ranks the StackFAQ corpus by the embedder alone, in process, to tune
// the embedder (set TANDEM_STACKFAQ to the dataset folder; it logs recall@5 and MRR@10 and
// fails only if quality collapses).
func TestStackFAQVectorOnly(t *testing.T) {
	dir := os.Getenv("TANDEM_STACKFAQ")
	if dir == "" {
		t.Skip("TANDEM_STACKFAQ not set")
	}
	docs := readJSONL[corpusDoc](t, filepath.Join(dir, "corpus.jsonl"))
	qs := readJSONL[question](t, filepath.Join(dir, "dev_questions.jsonl"))
	cfg := Config{}
	if v := os.Getenv("TUNE_DIM"); v != "" {
		cfg.Dimension, _ = strconv.Atoi(v)
	}
	if v := os.Getenv("TUNE_CW"); v != "" {
		cfg.CharWeight, _ = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("TUNE_BW"); v != "" {
		cfg.BigramWeight, _ = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("TUNE_TW"); v != "" {
		cfg.TitleWeight, _ = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("TUNE_CMAX"); v != "" {
		cfg.CharMax, _ = strconv.Atoi(v)
	}
	h, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]string, len(docs))
	for i, d := range docs {
		rep, _ := strconv.Atoi(os.Getenv("TUNE_TREP"))
		texts[i] = strings.Repeat(d.Title+"\n", rep+1) + d.Text
	}
	st := NewStats()
	st.Add(h, texts...)
	h = h.WithStats(st)
	vecs, _ := h.EmbedDocuments(context.Background(), texts)
	var r1, r5, mrr float64
	for _, q := range qs {
		qv, _ := h.EmbedQuery(context.Background(), q.Question)
		type hit struct {
			i int
			s float32
		}
		hits := make([]hit, len(vecs))
		for i, v := range vecs {
			var s float32
			for j := range v {
				s += v[j] * qv[j]
			}
			hits[i] = hit{i, s}
		}
		slices.SortFunc(hits, func(a, b hit) int {
			if a.s > b.s {
				return -1
			}
			if a.s < b.s {
				return 1
			}
			return 0
		})
		for rank, hh := range hits[:10] {
			if slices.Contains(q.DocIDs, docs[hh.i].ID) {
				if rank < 1 {
					r1++
				}
				if rank < 5 {
					r5++
				}
				mrr += 1 / float64(rank+1)
				break
			}
		}
	}
	n := float64(len(qs))
	t.Logf("%s: recall@1 %.3f recall@5 %.3f mrr@10 %.3f", strings.TrimSpace(h.Name()), r1/n, r5/n, mrr/n)
	if r5/n < 0.5 {
		t.Errorf("recall@5 = %.3f, want >= 0.5", r5/n)
	}
}
